import assert from "node:assert/strict";
import { startSimulator } from "./support/simulator.ts";
import { DEFAULT_PERMISSIONS } from "./support/run.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Runs main.ts with `stream` ("1" stdout, "2" stderr) sent to /dev/full. */
async function runIntoFullDevice(
  stream: "1" | "2",
  args: string[],
): Promise<number> {
  const output = await new Deno.Command("/bin/sh", {
    args: [
      "-c",
      `exec "$0" "$@" ${stream}>/dev/full`,
      Deno.execPath(),
      "run",
      ...DEFAULT_PERMISSIONS,
      MAIN,
      ...args,
    ],
    clearEnv: true,
    env: {
      NO_COLOR: "1",
      ...Object.fromEntries(
        ["HOME", "PATH", "DENO_DIR", "XDG_CACHE_HOME"].flatMap((name) => {
          const value = Deno.env.get(name);
          return value === undefined ? [] : [[name, value]];
        }),
      ),
    },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return output.code;
}

Deno.test("the exit status does not depend on whether --json and --debug can be written", async (t) => {
  await using active = await startSimulator({ state: "active" });
  await using standby = await startSimulator({ state: "standby" });

  for (const stream of ["1", "2"] as const) {
    const flag = stream === "1" ? "--json" : "--debug";
    await t.step(`${flag} into a full device, active node`, async () => {
      assert.equal(
        await runIntoFullDevice(stream, ["--url", active.url, flag]),
        0,
      );
    });
    await t.step(`${flag} into a full device, standby node`, async () => {
      assert.equal(
        await runIntoFullDevice(stream, ["--url", standby.url, flag]),
        1,
      );
    });
  }
});
