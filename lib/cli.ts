/**
 * The command line program: parse, resolve the target, check, report, and
 * turn the verdict into an exit status.
 */

import { type Outcome, runCheck } from "./check.ts";
import { describe, millisecondsSince } from "./probe.ts";
import { SetupError, UsageError } from "./errors.ts";
import { helpText } from "./help.ts";
import {
  DEFAULT_JOURNAL_SOCKET,
  DEFAULT_STATE_FILE,
  type Options,
  parseOptions,
} from "./options.ts";
import { debugReport, jsonReport, print, type Run, say } from "./report.ts";
import {
  accessDenied,
  accessFlags,
  resolveTarget,
  type Target,
} from "./target.ts";
import type { TlsSettings } from "./tls_settings.ts";
import { deniedVariables } from "./env.ts";
import { VERSION } from "./version.ts";
import type { State } from "./verdict.ts";

// Exit statuses: keepalived reads only zero and non-zero.
const EXIT_ACTIVE = 0;
const EXIT_NOT_ACTIVE = 1;
const EXIT_USAGE = 2;

/** Runs the program with `args` and returns its exit status. */
export async function main(args: readonly string[]): Promise<number> {
  if (args[0] === "doctor") {
    say(doctorMoved(args.slice(1)));
    return EXIT_USAGE;
  }

  let options: Options;
  try {
    options = parseOptions(args);
  } catch (error: unknown) {
    if (!(error instanceof UsageError)) throw error;
    say(error.message);
    const json = args.includes("--json");
    if (json) {
      jsonReport(
        ...setupReport(error.message, "usage_error", EXIT_USAGE),
      );
    }
    return EXIT_USAGE;
  }
  if (options.help) {
    print(helpText());
    return EXIT_ACTIVE;
  }
  if (options.version) {
    print(VERSION);
    return EXIT_ACTIVE;
  }

  let target: Target;
  try {
    target = resolveTarget(options.url);
  } catch (error: unknown) {
    if (error instanceof UsageError) {
      return await endBeforeAsking(options, error.message, "usage_error", {
        exit: EXIT_USAGE,
      });
    }
    if (!(error instanceof SetupError)) throw error;
    return await endBeforeAsking(options, error.message, "setup_error");
  }

  const permission = netPermissionProblem(target);
  if (permission) {
    return await endBeforeAsking(options, permission, "not_permitted", {
      target,
    });
  }

  const notes: string[] = [];
  let tls: TlsSettings | undefined;
  if (target.scheme === "https") {
    try {
      const { resolveTls } = await import("./tls_settings.ts");
      tls = resolveTls(options);
    } catch (error: unknown) {
      if (!(error instanceof SetupError)) throw error;
      return await endBeforeAsking(options, error.message, "setup_error", {
        target,
      });
    }
    notes.push(...tls.notes);
  } else if (TLS_FLAGS.some((field) => options[field] !== undefined)) {
    notes.push(
      `TLS options ignored: the target '${target.address}' does not use TLS`,
    );
  }

  // --timeout bounds the whole run: what start-up (loading modules, reading
  // certificates) already spent is taken off the requests' deadline.
  const leftMs = Math.floor(options.timeoutMs - sinceStart());

  // The deadline aborts the request itself; this guard only makes sure the
  // process can never outlive it by much, whatever the runtime is doing.
  // A timeout signal rather than setTimeout: in Deno 2.9 the global
  // setTimeout returns Node's Timeout object and starts Node compatibility,
  // which costs every run about 5 ms and 4 MB. Like an unref'd timer, the
  // signal does not keep the process alive on its own.
  // Once the verdict is known, the guard exits with it: --log is bounded on
  // its own, and the exit status must never depend on it.
  const decided: { exit?: number } = {};
  const guard = AbortSignal.timeout(Math.max(leftMs, 0) + GUARD_SLACK_MS);
  guard.addEventListener("abort", () => {
    if (decided.exit !== undefined) Deno.exit(decided.exit);
    say(`gave up after ${options.timeoutMs / 1000} s: exiting not active`);
    Deno.exit(EXIT_NOT_ACTIVE);
  });

  const outcome = await runCheck(
    target,
    options.check,
    options.timeoutMs,
    tls,
    leftMs,
  );
  const exit = outcome.verdict.active ? EXIT_ACTIVE : EXIT_NOT_ACTIVE;
  decided.exit = exit;
  const run: Run = {
    target,
    check: options.check,
    timeoutMs: options.timeoutMs,
    leftMs: Math.max(leftMs, 0),
    elapsedMs: sinceStart(),
    exit,
    warnings: tls?.warnings ?? [],
  };
  if (options.debug) {
    const denied = deniedVariables();
    if (denied.length > 0) {
      notes.push(
        `not allowed to read ${
          denied.join(", ")
        }: each counts as unset (if one is set, add it to --allow-env)`,
      );
    }
    for (const note of notes) say(`note: ${note}`);
    debugReport(run, outcome);
  }
  if (options.json) jsonReport(run, outcome);
  if (options.log) await logOutcome(options, run, outcome);
  return exit;
}

/**
 * The line for `doctor` given to the check: the doctor is a program of its
 * own, so that the check never loads (or even reads) its modules.
 */
function doctorMoved(args: readonly string[]): string {
  // Not imported, not even dynamically: Deno reads every module an import
  // names at start-up, which cost every run of the check about 4 ms.
  const here = new URL("./doctor/main.ts", import.meta.url);
  const fromSources = import.meta.url.startsWith("file:") &&
    import.meta.url.endsWith("/lib/cli.ts") &&
    !here.pathname.includes("/deno-compile-");
  const program = fromSources
    ? decodeURIComponent(here.pathname)
    : "SOURCES/lib/doctor/main.ts";
  const command = [
    "deno run",
    DOCTOR_PERMISSIONS,
    shellWord(program),
    ...args.map(shellWord),
  ].join(" ");
  return `The doctor is a program of its own (in the sources: 'deno task doctor'); run it as root with: ${command}`;
}

/** The doctor's permissions, as in its `deno task doctor`. */
const DOCTOR_PERMISSIONS =
  "--no-prompt --allow-read --allow-net --allow-sys=networkInterfaces --allow-run=runuser";

/** `word` as one shell word, quoted only when it needs to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The longest `--log` may take, well inside the guard's slack. */
const LOG_BUDGET_MS = 100;

/** Logs through a module loaded only when `--log` is given. */
async function logOutcome(
  options: Options,
  run: Run,
  outcome: Outcome,
): Promise<void> {
  let notes: string[];
  try {
    const { logVerdict } = await import("./verdict_log.ts");
    notes = await logVerdict(run, outcome, {
      journalSocket: options.journalSocket ?? DEFAULT_JOURNAL_SOCKET,
      stateFile: options.stateFile ?? DEFAULT_STATE_FILE,
      budgetMs: LOG_BUDGET_MS,
    });
  } catch (error: unknown) {
    // The exit status never depends on logging, not even on a bug in it.
    notes = [`not logged: internal error: ${describe(error)}`];
  }
  for (const note of options.debug ? notes : []) say(`log: ${note}`);
}

/** How long past the deadline the process may live before it is cut off. */
const GUARD_SLACK_MS = 250;

/** The options that only mean something for an `https://` target. */
const TLS_FLAGS = [
  "cacert",
  "capath",
  "cert",
  "key",
  "tlsServerName",
  "tlsSkipVerify",
] as const;

/** The line naming the permissions this run lacks to reach the target. */
function netPermissionProblem(target: Target): string | undefined {
  const missing = accessFlags(target, true);
  return missing.length > 0 ? accessDenied(target, missing) : undefined;
}

/**
 * Ends a run before asking Vault: says `message`, reports it with what the
 * run knew, and returns the exit status.
 */
async function endBeforeAsking(
  options: Options,
  message: string,
  state: State,
  { target, exit = EXIT_NOT_ACTIVE }: { target?: Target; exit?: number } = {},
): Promise<number> {
  say(message);
  const [run, outcome] = setupReport(message, state, exit, {
    check: options.check,
    timeoutMs: options.timeoutMs,
    ...(target ? { target } : {}),
  });
  if (options.json) jsonReport(run, outcome);
  if (options.log) await logOutcome(options, run, outcome);
  return exit;
}

/** What a run knew before it ended: nothing before the options parsed. */
type Known = Pick<Run, "target" | "check" | "timeoutMs">;

function setupReport(
  message: string,
  state: State,
  exit: number,
  known: Known = { check: "none", timeoutMs: 0 },
): [Run, Outcome] {
  return [
    {
      ...known,
      elapsedMs: sinceStart(),
      exit,
      warnings: [],
    },
    {
      verdict: { active: false, state, reason: message },
      probes: [],
    },
  ];
}

/**
 * Milliseconds since the process started, to a tenth. Deno's clock starts
 * before the modules are loaded and compiled, so it counts a start-up slowed
 * by a cache the script user cannot write; only the exec itself (a few tens
 * of milliseconds on a loaded host) comes before it.
 */
function sinceStart(): number {
  return millisecondsSince(0);
}
