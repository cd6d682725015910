/**
 * Runs the check's script line the way keepalived does: as the script user,
 * with nothing but keepalived's environment, stopped at keepalived's
 * `timeout`. `runuser` switches the user; `env -i` drops the doctor's own
 * variables (runuser would set HOME, which keepalived does not).
 */

import { describe } from "../probe.ts";

/** The variables keepalived removes before it runs a script. */
const REMOVED = new Set(["IFS", "LD_PRELOAD", "LD_LIBRARY_PATH"]);

/** What one run of the script line showed. */
export interface ScriptRun {
  /** The command run, for the report. */
  command: string[];
  /** The check's own verdict, from its `--json` line. */
  verdict?: { active: boolean; state: string; reason: string };
  /** True when keepalived's timeout stopped it. */
  killed: boolean;
  /** The check's `--debug` lines and anything else it wrote to stderr. */
  stderr: string;
  /** Why no verdict came, when none did. */
  problem?: string;
}

/** How to run the script line. */
export interface ScriptLine {
  /** The file keepalived executes: the first word of the line. */
  executable: string;
  /** The arguments after it; `--debug --json` are added. */
  args: string[];
  /** The user keepalived runs it as. */
  user: string;
  /** keepalived's environment. */
  environment: Record<string, string>;
  /** keepalived's `timeout` for the script, in seconds. */
  timeoutS: number;
}

/** Runs `line` once; never throws. */
export async function runScriptLine(line: ScriptLine): Promise<ScriptRun> {
  const variables = Object.entries(line.environment)
    .filter(([name]) => !REMOVED.has(name))
    .map(([name, value]) => `${name}=${value}`);
  const check = [line.executable, ...line.args, "--debug", "--json"];
  const command = ["runuser", "-u", line.user, "--", "env", "-i"];
  const shown = [...command, ...variables, ...check];

  let output: Deno.CommandOutput;
  const stop = AbortSignal.timeout(line.timeoutS * 1000);
  try {
    output = await new Deno.Command(command[0] as string, {
      args: [...command.slice(1), ...variables, ...check],
      clearEnv: true,
      cwd: "/",
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: stop,
    }).output();
  } catch (error: unknown) {
    const why = error instanceof Deno.errors.NotCapable
      ? "run the doctor with --allow-run=runuser"
      : describe(error);
    return { command: shown, killed: false, stderr: "", problem: why };
  }

  const stderr = new TextDecoder().decode(output.stderr);
  if (stop.aborted) {
    return { command: shown, killed: true, stderr };
  }
  const verdict = parseVerdict(new TextDecoder().decode(output.stdout));
  if (verdict) return { command: shown, verdict, killed: false, stderr };
  const said = stderr.trim().split("\n").at(-1) ?? "";
  return {
    command: shown,
    killed: false,
    stderr,
    problem: `it exited ${output.code} without a verdict${
      said ? `: '${said}'` : ""
    }`,
  };
}

/** The verdict in the check's `--json` line, if it printed one. */
function parseVerdict(stdout: string): ScriptRun["verdict"] {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  try {
    const report = JSON.parse(line) as Record<string, unknown>;
    if (
      typeof report.active === "boolean" &&
      typeof report.state === "string" &&
      typeof report.reason === "string"
    ) {
      return {
        active: report.active,
        state: report.state,
        reason: report.reason,
      };
    }
  } catch {
    // Not the check's JSON line: no verdict.
  }
  return undefined;
}
