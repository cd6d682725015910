/**
 * Keeps the closing line of a passing run in `.tmp/failover.txt`, where
 * `deno task bench` reads it to put the failover window in its report.
 */

/** The file `tools/bench.ts` reads by default. */
export const SUMMARY_FILE = new URL("../../.tmp/failover.txt", import.meta.url);

/**
 * Writes `summary` as the only line of `file`, creating its directory;
 * an earlier run's line is replaced.
 */
export async function recordSummary(
  summary: string,
  file: URL = SUMMARY_FILE,
): Promise<void> {
  await Deno.mkdir(new URL(".", file), { recursive: true });
  await Deno.writeTextFile(file, `${summary}\n`);
}
