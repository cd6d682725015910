/**
 * The only module that prints. keepalived discards both streams, so by
 * default nothing is printed at all; `--debug` writes lines to stderr and
 * `--json` one line to stdout.
 */

import type { Outcome } from "./check.ts";
import type { Target } from "./target.ts";
import { oneLine } from "./probe.ts";
import { PROGRAM, VERSION } from "./version.ts";

const encoder = new TextEncoder();

// deno-lint-ignore no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/** Writes one line to stderr, prefixed with the program's name. */
export function say(line: string): void {
  write(Deno.stderr, `${PROGRAM}: ${visible(line)}\n`);
}

/**
 * Shows control characters (a newline in VAULT_ADDR, a colour code in a
 * server's header) as escapes, so that a message stays one plain line and
 * the operator sees what was really there.
 */
function visible(text: string): string {
  return text.replace(
    CONTROL_CHARACTERS,
    (character) =>
      character === "\n"
        ? "\\n"
        : character === "\t"
        ? "\\t"
        : `\\x${character.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** Writes lines another run of the check printed to stderr, as they are. */
export function relay(text: string): void {
  if (text === "") return;
  Deno.stderr.writeSync(
    encoder.encode(text.endsWith("\n") ? text : text + "\n"),
  );
}

/** Writes text to stdout as is (help, version). */
export function print(text: string): void {
  write(Deno.stdout, text.endsWith("\n") ? text : text + "\n");
}

/**
 * Writes all of `text`, or as much as the stream takes: a closed pipe or a
 * full disk behind --json or --debug must not change the exit status.
 */
function write(stream: typeof Deno.stdout, text: string): void {
  let bytes = encoder.encode(text);
  try {
    while (bytes.length > 0) {
      const written = stream.writeSync(bytes);
      if (written <= 0) return;
      bytes = bytes.subarray(written);
    }
  } catch {
    // Nobody is reading: the exit status still tells keepalived everything.
  }
}

/** What a report needs besides the outcome. */
export interface Run {
  target?: Target;
  check: string;
  timeoutMs: number;
  /** What start-up left of `timeoutMs` for the requests. */
  leftMs?: number;
  elapsedMs: number;
  exit: number;
  warnings: string[];
}

/** Prints the `--debug` lines: target, requests, answers, timing, verdict. */
export function debugReport(run: Run, outcome: Outcome): void {
  for (const warning of run.warnings) say(`warning: ${warning}`);
  if (run.target) {
    say(
      `target ${run.target.address} (from ${run.target.source}), check ${run.check}, deadline ${
        run.timeoutMs / 1000
      } s${
        run.leftMs === undefined
          ? ""
          : ` for the whole run, ${run.leftMs} ms left after start-up`
      }`,
    );
  }
  for (const probe of outcome.probes) {
    say(`asked GET ${probe.url}`);
    if (probe.answer) {
      say(
        `answer ${probe.answer.status} (${
          probe.answer.contentType ?? "no content type"
        }) in ${probe.elapsedMs} ms: ${shownBody(probe.answer.body)}`,
      );
    } else {
      say(`no answer after ${probe.elapsedMs} ms: ${probe.failure.kind}`);
    }
  }
  const { verdict } = outcome;
  say(
    `verdict: ${
      verdict.active ? "active" : "not active"
    } (${verdict.state}): ${verdict.reason}; exit ${run.exit} after ${run.elapsedMs} ms`,
  );
}

/** Prints the one `--json` line on stdout. */
export function jsonReport(run: Run, outcome: Outcome): void {
  const record = {
    program: PROGRAM,
    version: VERSION,
    active: outcome.verdict.active,
    state: outcome.verdict.state,
    reason: outcome.verdict.reason,
    exit: run.exit,
    target: run.target?.address ?? null,
    target_source: run.target?.source ?? null,
    check: run.check,
    timeout_ms: run.timeoutMs,
    elapsed_ms: run.elapsedMs,
    answers: outcome.probes.map((probe) => ({
      endpoint: probe.endpoint,
      url: probe.url,
      elapsed_ms: probe.elapsedMs,
      status: probe.answer?.status ?? null,
      content_type: probe.answer?.contentType ?? null,
      body: probe.answer ? preview(probe.answer.body) : null,
      error: probe.failure ?? null,
    })),
    warnings: run.warnings,
  };
  print(JSON.stringify(record));
}

function preview(body: string): string {
  return oneLine(body, 500);
}

/** The body for a `--debug` line, which must not end in nothing. */
function shownBody(body: string): string {
  if (body === "") return "(empty body)";
  return preview(body) || `(${body.length} characters of white space)`;
}
