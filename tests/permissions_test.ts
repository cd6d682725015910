import assert from "node:assert/strict";
import {
  HEALTH_PATH,
  LEADER_PATH,
  startSimulator,
} from "./support/simulator.ts";
import {
  DEFAULT_PERMISSIONS,
  hasStackTrace,
  jsonLine,
  run,
  type RunResult,
} from "./support/run.ts";
import { PROGRAM, VERSION } from "../lib/version.ts";

/**
 * True when Deno complained about, or asked for, a permission. The
 * `--debug` note naming optional variables the run may not read (such as
 * BAO_ADDR) is information, not trouble.
 */
function permissionTrouble(result: RunResult): boolean {
  return /NotCapable|PermissionDenied|Requires .* access|Deno requests|--allow-/
    .test(
      result.stderr
        .replace(/run with --allow-[^\s,]+/g, "")
        .replace(/^.*: note: not allowed to read .*$/gm, ""),
    );
}

Deno.test("the documented permissions are exactly enough", async (t) => {
  await using vault = await startSimulator();
  assert.deepEqual(DEFAULT_PERMISSIONS, [
    "--no-prompt",
    "--allow-env=VAULT_ADDR",
    "--allow-net",
  ]);
  const withoutNoPrompt = ["--allow-env=VAULT_ADDR", "--allow-net"];

  for (const permissions of [DEFAULT_PERMISSIONS, withoutNoPrompt]) {
    for (const check of ["leader", "health", "both"]) {
      for (const state of ["active", "sealed"] as const) {
        const name = `${permissions.join(" ")}: ${state}, --check ${check}`;
        await t.step(name, async () => {
          vault.set({ state });
          const result = await run(
            ["--check", check, "--debug", "--json"],
            { permissions, env: { VAULT_ADDR: vault.url } },
          );
          assert.equal(result.code, state === "active" ? 0 : 1);
          assert.equal(jsonLine(result).state, state);
          assert.ok(!permissionTrouble(result), result.stderr);
          assert.ok(!hasStackTrace(result), result.stderr);
        });
      }
    }
  }

  await t.step("net narrowed to the target is enough", async () => {
    vault.set({ state: "active" });
    const hostPort = vault.url.slice("http://".length);
    const result = await run(["--check", "both"], {
      permissions: [
        "--no-prompt",
        "--allow-env=VAULT_ADDR",
        `--allow-net=${hostPort}`,
      ],
      env: { VAULT_ADDR: vault.url },
    });
    assert.deepEqual([result.code, result.stderr], [0, ""]);
  });

  await t.step("with --url no env permission is needed", async () => {
    const result = await run(["--url", vault.url], {
      permissions: ["--no-prompt", "--allow-net"],
    });
    assert.deepEqual([result.code, result.stderr], [0, ""]);
  });
});

Deno.test("a missing permission exits 1 naming the exact flag", async (t) => {
  await using vault = await startSimulator();
  const hostPort = vault.url.slice("http://".length);

  await t.step("without --allow-env=VAULT_ADDR", async () => {
    for (
      const permissions of [["--no-prompt", "--allow-net"], ["--allow-net"]]
    ) {
      const result = await run([], {
        permissions,
        env: { VAULT_ADDR: vault.url },
      });
      assert.deepEqual(
        { code: result.code, stdout: result.stdout, stderr: result.stderr },
        {
          code: 1,
          stdout: "",
          stderr:
            `${PROGRAM}: VAULT_ADDR may not be read: run with --allow-env=VAULT_ADDR, or pass --url\n`,
        },
      );
    }
  });

  await t.step("with env granted for other variables only", async () => {
    const result = await run([], {
      permissions: ["--no-prompt", "--allow-env=HOME", "--allow-net"],
      env: { VAULT_ADDR: vault.url },
    });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `${PROGRAM}: VAULT_ADDR may not be read: run with --allow-env=VAULT_ADDR, or pass --url\n`,
    );
  });

  const netLine =
    `${PROGRAM}: Network access to '${hostPort}' is not allowed: run with --allow-net=${hostPort}\n`;
  for (
    const permissions of [
      ["--no-prompt", "--allow-env=VAULT_ADDR"],
      ["--allow-env=VAULT_ADDR"],
      ["--no-prompt", "--allow-env=VAULT_ADDR", "--allow-net=127.0.0.1:1"],
      ["--no-prompt", "--allow-env=VAULT_ADDR", "--allow-net=localhost"],
    ]
  ) {
    await t.step(
      `without net to the target: ${permissions.join(" ")}`,
      async () => {
        vault.clearRequests();
        const result = await run([], {
          permissions,
          env: { VAULT_ADDR: vault.url },
        });
        assert.deepEqual(
          { code: result.code, stdout: result.stdout, stderr: result.stderr },
          { code: 1, stdout: "", stderr: netLine },
        );
        assert.equal(vault.requests.length, 0);
      },
    );
  }

  await t.step("--json reports not_permitted", async () => {
    const result = await run(["--json"], {
      permissions: ["--no-prompt", "--allow-env=VAULT_ADDR"],
      env: { VAULT_ADDR: vault.url },
    });
    assert.equal(result.code, 1);
    const report = jsonLine(result);
    assert.deepEqual(report, {
      program: PROGRAM,
      version: VERSION,
      active: false,
      state: "not_permitted",
      reason:
        `Network access to '${hostPort}' is not allowed: run with --allow-net=${hostPort}`,
      exit: 1,
      target: vault.url,
      target_source: "VAULT_ADDR",
      check: "leader",
      timeout_ms: 800,
      elapsed_ms: report.elapsed_ms,
      answers: [],
      warnings: [],
    });
  });
});

interface AuditEntry {
  permission: string;
  value: string | null;
}

/** What Deno's permission audit log recorded for one run. */
async function audited(
  args: string[],
  env: Record<string, string>,
): Promise<{ result: RunResult; entries: AuditEntry[] }> {
  const log = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    const result = await run(args, {
      env: { ...env, DENO_AUDIT_PERMISSIONS: log },
    });
    const entries = (await Deno.readTextFile(log))
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as AuditEntry);
    return { result, entries };
  } finally {
    await Deno.remove(log);
  }
}

Deno.test("the audit log shows only VAULT_ADDR read and the target reached", async (t) => {
  await using vault = await startSimulator();
  const hostPort = vault.url.slice("http://".length);
  const secrets = {
    VAULT_TOKEN: "s.secret",
    VAULT_NAMESPACE: "team",
    HTTP_PROXY: "http://127.0.0.1:9",
  };

  for (
    const [check, paths] of [
      ["leader", [LEADER_PATH]],
      ["health", [HEALTH_PATH]],
      ["both", [LEADER_PATH, HEALTH_PATH]],
    ] as const
  ) {
    await t.step(`VAULT_ADDR, --check ${check}`, async () => {
      const { result, entries } = await audited(
        ["--check", check, "--json", "--debug"],
        { VAULT_ADDR: vault.url, ...secrets },
      );
      assert.equal(result.code, 0, result.stderr);
      const accesses = entries.map((entry) =>
        `${entry.permission} ${entry.value}`
      );
      const allowed = new Set([
        "env VAULT_ADDR",
        `net ${hostPort}`,
        ...paths.map((path) => `net ${vault.url}${path}`),
      ]);
      for (const access of accesses) {
        assert.ok(allowed.has(access), `unexpected access: ${access}`);
      }
      assert.ok(accesses.includes("env VAULT_ADDR"), `${accesses}`);
      for (const path of paths) {
        assert.ok(accesses.includes(`net ${vault.url}${path}`), `${accesses}`);
      }
    });
  }

  await t.step("--url reads no variable at all", async () => {
    const { result, entries } = await audited(
      ["--url", vault.url],
      { VAULT_ADDR: "http://127.0.0.1:9", ...secrets },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      entries.filter((entry) => entry.permission !== "net"),
      [],
    );
    assert.ok(entries.length > 0, "the audit log recorded the connection");
    for (const entry of entries) {
      assert.ok(
        entry.value === hostPort ||
          entry.value === `${vault.url}${LEADER_PATH}`,
        `unexpected access: ${entry.permission} ${entry.value}`,
      );
    }
  });
});
