import assert from "node:assert/strict";
import { startFakeJournal } from "./support/fake_journal.ts";
import { run as runProgram, type RunResult } from "./support/run.ts";
import { startSimulator } from "./support/simulator.ts";

const HEADER = (priority: number) =>
  `vault-ha-active-node\n\n${priority}\n0\n0\n0\n0\n`;
const ACTIVE_REASON =
  "This node is the active node (ha_enabled and is_self are true)";

/** Runs the real program with exactly the permissions `--log` documents. */
function run(args: string[], permissions: string[]): Promise<RunResult> {
  return runProgram(args, { permissions: ["--no-prompt", ...permissions] });
}

/**
 * A simulated active Vault, a fake journal and a state file in a temporary
 * directory, with the check's arguments and permissions for them; disposing
 * of it stops both servers and removes the directory.
 */
async function setUp() {
  const dir = await Deno.makeTempDir({ prefix: "logging_test_" });
  const socket = `${dir}/journal.sock`;
  const stateFile = `${dir}/last-verdict`;
  const vault = await startSimulator({ state: "active" });
  const journal = startFakeJournal(socket);
  const host = vault.url.slice("http://".length);
  const permissions = [
    `--allow-net=${host},unix:${socket}`,
    `--allow-read=${socket},${stateFile}`,
    `--allow-write=${socket},${stateFile}`,
  ];
  const args = [
    "--url",
    vault.url,
    "--log",
    "journal",
    "--journal-socket",
    socket,
    "--state-file",
    stateFile,
    "--debug",
  ];
  return {
    dir,
    socket,
    stateFile,
    vault,
    journal,
    host,
    permissions,
    args,
    async [Symbol.asyncDispose]() {
      await journal.close();
      await vault.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Splits what one connection sent into its header and its message. */
function entry(text: string): { header: string; message: string } {
  const lines = text.split("\n");
  return {
    header: lines.slice(0, 7).join("\n") + "\n",
    message: lines.slice(7).join("\n"),
  };
}

/** Replaces the one field that varies from run to run. */
function steady(message: string): string {
  return message.replace(/ elapsed_ms=[\d.]+ /, " elapsed_ms=N ");
}

Deno.test("--log journal sends the stream header and one line with the verdict's fields", async () => {
  await using setup = await setUp();
  const ran = await run(setup.args, setup.permissions);
  assert.equal(ran.code, 0);
  const { header, message } = entry(await setup.journal.next());
  assert.equal(header, HEADER(6));
  assert.equal(
    steady(message),
    `verdict=active state=active target=${setup.vault.url} check=leader status=200 elapsed_ms=N exit=0 reason="${ACTIVE_REASON}"\n`,
  );
  assert.match(
    ran.stderr,
    /vault-ha-active-node: log: logged to the journal: verdict=active state=active /,
  );
  assert.equal(await Deno.readTextFile(setup.stateFile), "active\n");
});

Deno.test("--log journal logs changes and every failure to tell, not repeats", async () => {
  await using setup = await setUp();
  const once = async (expectedCode: number) => {
    const ran = await run(setup.args, setup.permissions);
    assert.equal(ran.code, expectedCode, ran.stderr);
    return (await setup.journal.drain()).map((text) => {
      const { header, message } = entry(text);
      return `${header.split("\n")[2]} ${steady(message).trimEnd()}`;
    });
  };
  const target = setup.vault.url;
  assert.deepEqual(await once(0), [
    `6 verdict=active state=active target=${target} check=leader status=200 elapsed_ms=N exit=0 reason="${ACTIVE_REASON}"`,
  ]);
  assert.deepEqual(await once(0), []);

  setup.vault.set({ state: "standby" });
  assert.deepEqual(await once(1), [
    `5 verdict=not_active state=standby previous=active target=${target} check=leader status=200 elapsed_ms=N exit=1 reason="This node is a standby; the active node is 'https://10.0.0.11:8200'"`,
  ]);
  assert.deepEqual(await once(1), []);

  await setup.vault.close();
  const refused =
    `verdict=not_active state=refused target=${target} check=leader status=none elapsed_ms=N exit=1 reason="Connection to '${setup.host}' refused: Vault is not running or not listening there"`;
  assert.deepEqual(await once(1), [
    `4 ${refused.replace(" target=", " previous=standby target=")}`,
  ]);
  assert.deepEqual(await once(1), [`4 ${refused}`]);
  assert.equal(await Deno.readTextFile(setup.stateFile), "refused\n");
});

Deno.test("--log journal with no journal socket keeps the exit status and says why under --debug", async () => {
  await using setup = await setUp();
  await setup.journal.close();
  const ran = await run(setup.args, setup.permissions);
  assert.equal(ran.code, 0);
  assert.match(
    ran.stderr,
    new RegExp(
      `\nvault-ha-active-node: log: not logged: cannot connect to the journal socket '${setup.socket}': no such socket: is systemd-journald running\\?\n$`,
    ),
  );
  // The change was not logged, so it is not remembered as logged either.
  assert.equal(await Deno.readTextFile(setup.stateFile), "\n");
});

Deno.test("--log journal without its permissions logs nothing and names the flags", async () => {
  await using setup = await setUp();
  const ran = await run(setup.args, [`--allow-net=${setup.host}`]);
  assert.equal(ran.code, 0);
  const lines = ran.stderr.trimEnd().split("\n").slice(-2);
  assert.deepEqual(lines, [
    `vault-ha-active-node: log: the last verdict cannot be kept in '${setup.stateFile}': run with --allow-read=${setup.stateFile} --allow-write=${setup.stateFile}; logging every run`,
    `vault-ha-active-node: log: not logged: the journal socket '${setup.socket}' may not be used: run with --allow-read=${setup.socket} --allow-write=${setup.socket} --allow-net=unix:${setup.socket}`,
  ]);
  assert.deepEqual(await setup.journal.drain(), []);
});

Deno.test("--log journal without the state file's permissions logs every run", async () => {
  await using setup = await setUp();
  const permissions = [
    `--allow-net=${setup.host},unix:${setup.socket}`,
    `--allow-read=${setup.socket}`,
    `--allow-write=${setup.socket}`,
  ];
  for (let i = 0; i < 2; i++) {
    assert.equal((await run(setup.args, permissions)).code, 0);
  }
  const messages = (await setup.journal.drain()).map((text) =>
    steady(entry(text).message)
  );
  const note =
    `note="the last verdict cannot be kept in '${setup.stateFile}': run with --allow-read=${setup.stateFile} --allow-write=${setup.stateFile}"`;
  const line =
    `verdict=active state=active target=${setup.vault.url} check=leader status=200 elapsed_ms=N exit=0 reason="${ACTIVE_REASON}" ${note}\n`;
  assert.deepEqual(messages, [line, line]);
});

Deno.test("--log journal with a missing state directory logs anyway and says so", async () => {
  await using setup = await setUp();
  const stateFile = `${setup.dir}/missing/last-verdict`;
  const args = setup.args.map((arg) =>
    arg === setup.stateFile ? stateFile : arg
  );
  const permissions = [
    `--allow-net=${setup.host},unix:${setup.socket}`,
    `--allow-read=${setup.socket},${stateFile}`,
    `--allow-write=${setup.socket},${stateFile}`,
  ];
  const ran = await run(args, permissions);
  assert.equal(ran.code, 0);
  const problem =
    `cannot keep the last verdict in '${stateFile}': its directory does not exist: create it, writable by the script user, e.g. 'd ${setup.dir}/missing 0700 keepalived_script keepalived_script -' in /etc/tmpfiles.d/vault-ha-active-node.conf`;
  assert.match(
    ran.stderr,
    new RegExp(`log: ${problem}; logging every run\n`),
  );
  assert.match(
    entry(await setup.journal.next()).message,
    new RegExp(` note="${problem}"\n$`),
  );
});

Deno.test({
  name:
    "--log journal with a state file the script user may not write names the fix",
  // Root writes any file: only another user meets the permission error.
  ignore: Deno.uid() !== 0,
  async fn() {
    await using setup = await setUp();
    await Deno.chmod(setup.dir, 0o755);
    await Deno.chmod(setup.socket, 0o666);
    await Deno.writeTextFile(setup.stateFile, "standby\n", { mode: 0o644 });
    const ran = await runProgram([
      ...["-u", "nobody", "--", Deno.execPath(), "run", "--no-prompt"],
      ...setup.permissions,
      new URL("../main.ts", import.meta.url).pathname,
      ...setup.args,
    ], { executable: "runuser" });
    assert.equal(ran.code, 0, ran.stderr);
    const problem =
      `cannot keep the last verdict in '${setup.stateFile}': the script user may not write it: give it to the script user or remove it (the next run creates it), in a directory writable by the script user, e.g. 'd ${setup.dir} 0700 keepalived_script keepalived_script -' in /etc/tmpfiles.d/vault-ha-active-node.conf`;
    assert.match(
      ran.stderr,
      new RegExp(`log: ${escape(problem)}; logging every run\n`),
    );
    assert.equal(await Deno.readTextFile(setup.stateFile), "standby\n");
  },
});
if (Deno.uid() !== 0) {
  // deno-lint-ignore no-console
  console.log(
    "skipped: the unwritable state file test needs root to run the check as another user",
  );
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("--log journal reports a setup error as a warning", async () => {
  await using setup = await setUp();
  const args = setup.args.filter((arg, i) =>
    arg !== "--url" && setup.args[i - 1] !== "--url"
  );
  const ran = await run(args, [
    ...setup.permissions,
    "--allow-env=VAULT_ADDR",
  ]);
  assert.equal(ran.code, 1);
  const { header, message } = entry(await setup.journal.next());
  assert.equal(header, HEADER(4));
  assert.equal(
    steady(message),
    `verdict=not_active state=setup_error target=none check=leader status=none elapsed_ms=N exit=1 reason="VAULT_ADDR is not set: set it to this node's Vault address (e.g. 'https://127.0.0.1:8200') or pass --url"\n`,
  );
});

Deno.test("--log syslog is refused as a command-line mistake", async () => {
  const ran = await run(["--log", "syslog"], []);
  assert.equal(ran.code, 2);
  assert.equal(
    ran.stderr,
    "vault-ha-active-node: Option '--log' cannot send to syslog ('/dev/log' needs an unstable Deno API): use '--log journal', which journald forwards to syslog when configured to\n",
  );
});

Deno.test("without --log nothing reaches the journal", async () => {
  await using setup = await setUp();
  const args = ["--url", setup.vault.url, "--journal-socket", setup.socket];
  assert.equal((await run(args, setup.permissions)).code, 0);
  assert.deepEqual(await setup.journal.drain(), []);
  await assert.rejects(Deno.stat(setup.stateFile), Deno.errors.NotFound);
});

Deno.test("--log journal does not wait on a journal that accepts and never reads", async () => {
  await using setup = await setUp();
  await setup.journal.close();
  const stalling = Deno.listen({ transport: "unix", path: setup.socket });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const connection of stalling) held.push(connection);
  })();
  try {
    const started = performance.now();
    const ran = await run(setup.args, setup.permissions);
    assert.equal(ran.code, 0);
    // Start-up plus the 0.8 s deadline plus slack, far from a hang.
    assert.ok(performance.now() - started < 3000);
  } finally {
    stalling.close();
    await accepting.catch(() => {});
    for (const connection of held) connection.close();
  }
});
