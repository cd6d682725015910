/**
 * `--log journal`: sends the verdict to the systemd journal, because
 * keepalived discards the script's output. Only a change of verdict and
 * every failure to tell are logged, not the same line on every run. Loaded
 * only when `--log` is given, so the plain check never pays for it.
 */

import type { Outcome } from "./check.ts";
import { type JournalEntry, PRIORITY, sendToJournal } from "./journal.ts";
import { journalPermissionProblem } from "./journal.ts";
import {
  readLastVerdict,
  stateFilePermissionProblem,
  writeLastVerdict,
} from "./last_verdict.ts";
import { oneLine } from "./probe.ts";
import type { Run } from "./report.ts";
import { toldByVault } from "./verdict.ts";
import { PROGRAM } from "./version.ts";

/** Where and how long the verdict may be logged. */
export interface LogSettings {
  journalSocket: string;
  stateFile: string;
  budgetMs: number;
}

/**
 * Logs the run's verdict to the journal when it changed or when Vault could
 * not tell, and returns what happened as lines for `--debug`. Never throws;
 * the exit status never depends on it.
 */
export async function logVerdict(
  run: Run,
  outcome: Outcome,
  settings: LogSettings,
): Promise<string[]> {
  const notes: string[] = [];
  const { state } = outcome.verdict;
  const told = toldByVault(state);

  const statePermission = stateFilePermissionProblem(settings.stateFile);
  const last = statePermission
    ? { state: undefined, problem: statePermission }
    : readLastVerdict(settings.stateFile);
  if (told && last.state === state) {
    notes.push(`not logged: the verdict is unchanged (${state})`);
    return notes;
  }

  if (last.problem) notes.push(`${last.problem}; logging every run`);

  const journalPermission = journalPermissionProblem(settings.journalSocket);
  if (journalPermission) {
    notes.push(`not logged: ${journalPermission}`);
    return notes;
  }

  // Record the new state before sending, so that a file that cannot be
  // written shows up in the very line that is logged; put the old one back
  // if the line could not be sent, so that the change is logged next run.
  const changed = !last.problem && last.state !== state;
  const problem = last.problem ??
    (changed ? writeLastVerdict(settings.stateFile, state) : undefined);
  if (problem && !last.problem) notes.push(`${problem}; logging every run`);

  const entry = journalEntry(run, outcome, last.state, problem);
  const failure = await sendToJournal(
    settings.journalSocket,
    PROGRAM,
    entry,
    settings.budgetMs,
  );
  if (failure) {
    if (changed && !problem) {
      writeLastVerdict(settings.stateFile, last.state ?? "");
    }
    notes.push(`not logged: ${failure}`);
    return notes;
  }
  notes.push(`logged to the journal: ${entry.message}`);
  return notes;
}

/**
 * The journal line: `key=value` fields, a value quoted when it holds spaces,
 * so that `journalctl -t vault-ha-active-node` reads and greps well.
 */
function journalEntry(
  run: Run,
  outcome: Outcome,
  previous: string | undefined,
  problem: string | undefined,
): JournalEntry {
  const { verdict } = outcome;
  const statuses = outcome.probes.map((probe) =>
    probe.answer ? String(probe.answer.status) : "none"
  );
  const fields: [string, string | undefined][] = [
    ["verdict", verdict.active ? "active" : "not_active"],
    ["state", verdict.state],
    ["previous", previous !== verdict.state ? previous : undefined],
    ["target", run.target?.address ?? "none"],
    ["check", run.check],
    ["status", statuses.length ? statuses.join(",") : "none"],
    ["elapsed_ms", String(run.elapsedMs)],
    ["exit", String(run.exit)],
    ["reason", verdict.reason],
    ["note", problem],
  ];
  const message = fields
    .filter((field): field is [string, string] => field[1] !== undefined)
    .map(([key, value]) => `${key}=${quote(oneLine(value))}`)
    .join(" ");

  const priority = verdict.active
    ? PRIORITY.info
    : toldByVault(verdict.state)
    ? PRIORITY.notice
    : PRIORITY.warning;
  return { priority, message };
}

function quote(value: string): string {
  return value === "" || /[\s"=\\]/.test(value) ? JSON.stringify(value) : value;
}
