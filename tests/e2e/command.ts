/**
 * Runs the system tools the end-to-end test drives (`ip`, `keepalived`,
 * `useradd`) and turns a failure into one line that names the command.
 */

/** What a finished command printed and how it ended. */
export interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `program` with `args` and returns what it printed, whatever the exit. */
export async function attempt(
  program: string,
  args: readonly string[],
): Promise<Finished> {
  const output = await new Deno.Command(program, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * Runs `program` with `args` and returns its stdout.
 *
 * @throws {Error} naming the command and its stderr when it exits non-zero
 */
export async function run(
  program: string,
  args: readonly string[],
): Promise<string> {
  const finished = await attempt(program, args);
  if (finished.code !== 0) {
    const said = finished.stderr.trim().split("\n")[0] ?? "";
    throw new Error(
      `Running '${
        [program, ...args].join(" ")
      }' failed with exit ${finished.code}: '${said}'`,
    );
  }
  return finished.stdout;
}

/** Whether `program` runs at all (found on the PATH and executable). */
export async function available(
  program: string,
  args: readonly string[],
): Promise<boolean> {
  try {
    await attempt(program, args);
    return true;
  } catch {
    return false;
  }
}
