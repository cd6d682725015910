import assert from "node:assert/strict";
import { startSimulator } from "./support/simulator.ts";
import { DEFAULT_PERMISSIONS, jsonLine, run } from "./support/run.ts";
import { VERSION } from "../lib/version.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const BINARY = `${ROOT}dist/vault-ha-active-node`;

interface Task {
  command: string;
}

function task(name: string): string {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)) as {
    tasks: Record<string, Task>;
  };
  const found = config.tasks[name];
  assert.ok(found, `deno.json has a '${name}' task`);
  return found.command;
}

/** The permission flags of a deno command line, in order. */
function permissionFlags(command: string): string[] {
  return command.split(/\s+/).filter((word) =>
    /^--(allow|deny)-|^--no-prompt$|^-A$/.test(word)
  );
}

Deno.test("the check and compile tasks carry exactly the default permissions", () => {
  for (const name of ["check", "compile"]) {
    assert.deepEqual(permissionFlags(task(name)), DEFAULT_PERMISSIONS, name);
  }
  assert.match(
    task("compile"),
    /--output dist\/vault-ha-active-node main\.ts$/,
  );
});

/**
 * Why `deno compile` cannot run here, or undefined when it can. Deno 2.9
 * embeds the program in `denort`: it reads the file `DENORT_BIN` names
 * (without checking it), else uses a `denort` beside the `deno` executable,
 * else downloads it into DENO_DIR, which this network cannot reach.
 */
function compileUnavailable(): string | undefined {
  const denortBin = Deno.env.get("DENORT_BIN");
  if (denortBin === undefined || denortBin === "") {
    const sibling = Deno.execPath().replace(/[^/]+$/, "denort");
    if (isFile(sibling)) return undefined;
    const cache = Deno.env.get("DENO_DIR") ??
      `${Deno.env.get("HOME") ?? ""}/.cache/deno`;
    const zip = `${cache}/dl/release/v${Deno.version.deno}/` +
      `denort-${Deno.build.target}.zip`;
    if (isFile(zip)) return undefined;
    return "DENORT_BIN is not set, no denort is next to deno or in " +
      "DENO_DIR; deno compile would download it, which cannot be reached here";
  }
  if (!isFile(denortBin)) {
    return `DENORT_BIN '${denortBin}' is not a file`;
  }
  // The full deno binary is accepted by deno compile but yields a program
  // that runs its arguments as modules: refuse to call that a pass.
  const probe = new Deno.Command(denortBin, {
    args: ["--version"],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const said = new TextDecoder().decode(probe.stdout);
  if (/typescript/i.test(said)) {
    return `DENORT_BIN '${denortBin}' is the full deno CLI, not denort`;
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const unavailable = compileUnavailable();
if (unavailable !== undefined) {
  // deno-lint-ignore no-console
  console.log(`skipped: deno task compile: ${unavailable}`);
}

Deno.test({
  name:
    "deno task compile builds a binary that checks with baked-in permissions",
  ignore: unavailable !== undefined,
  async fn(t) {
    const build = await new Deno.Command(Deno.execPath(), {
      args: ["task", "compile"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(
      build.code,
      0,
      new TextDecoder().decode(build.stderr),
    );
    assert.ok(isFile(BINARY));

    await using vault = await startSimulator();
    const runBinary = (args: string[], env: Record<string, string> = {}) =>
      run(args, { executable: BINARY, env });

    await t.step("--version", async () => {
      const result = await runBinary(["--version"]);
      assert.deepEqual([result.code, result.stdout], [0, `${VERSION}\n`]);
    });

    for (const [state, code] of [["active", 0], ["sealed", 1]] as const) {
      await t.step(`${state} through VAULT_ADDR exits ${code}`, async () => {
        vault.set({ state });
        vault.clearRequests();
        const result = await runBinary(["--json", "--check", "both"], {
          VAULT_ADDR: vault.url,
        });
        assert.equal(result.code, code, result.stderr);
        assert.equal(jsonLine(result).state, state);
        assert.equal(vault.requests.length, 2);
      });
    }

    await t.step("VAULT_ADDR is readable, and unset says so", async () => {
      const result = await runBinary([]);
      assert.equal(result.code, 1);
      assert.equal(
        result.stderr,
        "vault-ha-active-node: VAULT_ADDR is not set: set it to this node's Vault address (e.g. 'https://127.0.0.1:8200') or pass --url\n",
      );
    });
  },
});
