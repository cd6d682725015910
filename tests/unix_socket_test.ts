import assert from "node:assert/strict";
import { LEADER_PATH, startSimulator } from "./support/simulator.ts";
import { jsonLine, run } from "./support/run.ts";
import { PROGRAM } from "../lib/version.ts";

/** Exactly what dialling the socket at `path` needs. */
function socketPermissions(path: string): string[] {
  return [
    "--no-prompt",
    `--allow-read=${path}`,
    `--allow-write=${path}`,
    `--allow-net=unix:${path}`,
  ];
}

Deno.test("unix:// targets speak plain HTTP over Vault's unix listener", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "vault-ha-unix-" });
  const socket = `${dir}/vault.sock`;
  await using vault = await startSimulator({ path: socket });

  await t.step("active and standby, from --url and VAULT_ADDR", async () => {
    for (const state of ["active", "standby"] as const) {
      vault.set({ state });
      const byFlag = await run(["--url", `unix://${socket}`, "--json"], {
        permissions: socketPermissions(socket),
      });
      assert.equal(byFlag.code, state === "active" ? 0 : 1, byFlag.stderr);
      assert.equal(jsonLine(byFlag).state, state);
      const byVariable = await run([], {
        permissions: [...socketPermissions(socket), "--allow-env=VAULT_ADDR"],
        env: { VAULT_ADDR: `unix://${socket}` },
      });
      assert.equal(byVariable.code, state === "active" ? 0 : 1);
    }
    vault.set({ state: "active" });
  });

  await t.step("the request is the plain GET with Host localhost", async () => {
    vault.clearRequests();
    await run(["--url", `unix://${socket}`], {
      permissions: socketPermissions(socket),
    });
    assert.equal(vault.requests.length, 1);
    assert.equal(vault.requests[0]?.path, LEADER_PATH);
    assert.equal(vault.requests[0]?.headers.host, "localhost");
  });

  const missing: [string, string[], string][] = [
    [
      "default permissions",
      ["--no-prompt", "--allow-net"],
      `--allow-read=${socket} --allow-write=${socket}`,
    ],
    [
      "net narrowed to a TCP address",
      [
        "--no-prompt",
        `--allow-read=${socket}`,
        `--allow-write=${socket}`,
        "--allow-net=127.0.0.1:8200",
      ],
      `--allow-net=unix:${socket}`,
    ],
    [
      "read only",
      ["--no-prompt", `--allow-read=${socket}`],
      `--allow-write=${socket} --allow-net=unix:${socket}`,
    ],
  ];
  for (const [name, permissions, flags] of missing) {
    await t.step(`a missing permission is named exactly: ${name}`, async () => {
      const result = await run(["--url", `unix://${socket}`], { permissions });
      assert.deepEqual([result.code, result.stdout, result.stderr], [
        1,
        "",
        `${PROGRAM}: Access to the socket '${socket}' is not allowed: run with ${flags}\n`,
      ]);
    });
  }

  await t.step("a socket that does not exist", async () => {
    const absent = `${dir}/absent.sock`;
    const result = await run(["--url", `unix://${absent}`, "--json"], {
      permissions: socketPermissions(absent),
    });
    assert.equal(result.code, 1);
    assert.deepEqual(
      [jsonLine(result).state, jsonLine(result).reason],
      [
        "unreachable",
        `Request to 'unix://${absent}${LEADER_PATH}' failed: No such file or directory (os error 2): the socket '${absent}' does not exist; check Vault's listener "unix" address`,
      ],
    );
  });

  await vault.close();
  await Deno.remove(dir, { recursive: true });
});
