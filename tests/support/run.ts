/**
 * Runs the real program, `main.ts` (or the doctor), as keepalived would: a fresh process
 * with exactly the permission flags given and only the environment given.
 */

/** The permissions the product is documented to need, and nothing else. */
export const DEFAULT_PERMISSIONS: readonly string[] = [
  "--no-prompt",
  "--allow-env=VAULT_ADDR",
  "--allow-net",
];

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/** How to run the program. */
export interface RunOptions {
  /** Deno's permission flags; {@linkcode DEFAULT_PERMISSIONS} if not given. */
  permissions?: readonly string[];
  /** The whole environment besides what Deno itself needs to start. */
  env?: Record<string, string>;
  /** Runs this executable instead of `deno run ... main.ts`. */
  executable?: string;
  /** Runs `deno run ... module` instead of `main.ts` (e.g. the doctor). */
  module?: string;
  /** Kills the program when aborted, for a run that might never end. */
  signal?: AbortSignal;
}

/** What one run did. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawning to exit, in milliseconds. */
  elapsedMs: number;
}

/**
 * The variables Deno needs to find its cache (without it every run pays
 * for retries); nothing else from the test's environment is passed on.
 */
function baseEnvironment(): Record<string, string> {
  const base: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  return base;
}

/** Runs the program with `args` and collects its exit status and output. */
export async function run(
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const permissions = options.permissions ?? DEFAULT_PERMISSIONS;
  const [command, commandArgs] = options.executable === undefined
    ? [
      Deno.execPath(),
      ["run", ...permissions, options.module ?? MAIN, ...args],
    ]
    : [options.executable, [...args]];

  const started = performance.now();
  const output = await new Deno.Command(command, {
    args: commandArgs,
    cwd: ROOT,
    clearEnv: true,
    env: { ...baseEnvironment(), ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.signal ? { signal: options.signal } : {}),
  }).output();
  const elapsedMs = performance.now() - started;

  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    elapsedMs,
  };
}

/** The one `--json` line of a run, parsed; throws unless there is exactly one. */
export function jsonLine(result: RunResult): Record<string, unknown> {
  const lines = result.stdout.split("\n").filter((line) => line !== "");
  if (lines.length !== 1) {
    throw new Error(
      `Expected one JSON line on stdout, got ${lines.length}: ${result.stdout}`,
    );
  }
  return JSON.parse(lines[0] as string) as Record<string, unknown>;
}

/** The lines a run wrote to stderr, without the empty last one. */
export function stderrLines(result: RunResult): string[] {
  return result.stderr.split("\n").filter((line) => line !== "");
}

/** True when stderr shows a stack trace or an uncaught error. */
export function hasStackTrace(result: RunResult): boolean {
  return /^\s+at /m.test(result.stderr) || /Uncaught/.test(result.stderr);
}
