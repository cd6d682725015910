import assert from "node:assert/strict";
import {
  HEALTH_PATH,
  LEADER_PATH,
  startSimulator,
} from "./support/simulator.ts";
import {
  hasStackTrace,
  jsonLine,
  run,
  type RunResult,
  stderrLines,
} from "./support/run.ts";
import { parseOptions } from "../lib/options.ts";
import { PROGRAM, VERSION } from "../lib/version.ts";

const EXAMPLE = "e.g. 'https://127.0.0.1:8200'";
const ACTIVE_REASON =
  "This node is the active node (ha_enabled and is_self are true)";

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Asserts a run that stopped before asking Vault: one stderr line only. */
function assertOneLine(result: RunResult, code: number, line: string): void {
  assert.deepEqual(
    { code: result.code, stdout: result.stdout, stderr: result.stderr },
    { code, stdout: "", stderr: `${PROGRAM}: ${line}\n` },
  );
}

Deno.test("--url and its forms choose the target over VAULT_ADDR", async (t) => {
  await using chosen = await startSimulator({ state: "active" });
  await using other = await startSimulator({ state: "standby" });
  const env = { VAULT_ADDR: other.url };

  for (
    const args of [
      ["--url", chosen.url],
      ["-u", chosen.url],
      [`--url=${chosen.url}`],
      [`--url=${chosen.url}/`],
    ]
  ) {
    await t.step(args.join(" "), async () => {
      chosen.clearRequests();
      const result = await run([...args, "--json"], { env });
      assert.equal(result.code, 0);
      const report = jsonLine(result);
      assert.equal(report.target, chosen.url);
      assert.equal(report.target_source, "--url");
      assert.deepEqual(
        chosen.requests.map((request) => request.path),
        [LEADER_PATH],
      );
      assert.equal(other.requests.length, 0);
    });
  }

  await t.step("VAULT_ADDR alone is used", async () => {
    const result = await run(["--json"], { env });
    assert.equal(result.code, 1);
    const report = jsonLine(result);
    assert.equal(report.state, "standby");
    assert.equal(report.target, other.url);
    assert.equal(report.target_source, "VAULT_ADDR");
    assert.equal(other.requests.length, 1);
  });
});

Deno.test("target forms: path prefix, trailing slash, IPv6", async (t) => {
  await using vault = await startSimulator();

  await t.step("a path prefix is kept in front of the endpoint", async () => {
    vault.clearRequests();
    const result = await run(["--url", `${vault.url}/prefix/`, "--json"]);
    assert.equal(result.code, 1);
    const report = jsonLine(result);
    assert.equal(report.target, `${vault.url}/prefix`);
    assert.equal(report.state, "unexpected_status");
    assert.equal(
      report.reason,
      `'${vault.url}/prefix/v1/sys/leader' answered HTTP 404, which Vault does not send here: check what listens at the target`,
    );
    assert.deepEqual(
      vault.requests.map((request) => request.path),
      ["/prefix/v1/sys/leader"],
    );
  });

  await t.step("IPv6 loopback in brackets", async () => {
    await using six = await startSimulator({ hostname: "::1" });
    assert.match(six.url, /^http:\/\/\[::1\]:\d+$/);
    const result = await run(["--url", six.url, "--json"]);
    assert.equal(result.code, 0);
    assert.equal(jsonLine(result).target, six.url);
    assert.equal(six.requests[0]?.headers.host, six.url.slice(7));
  });
});

Deno.test("a target that is unset, empty or malformed gets one line: exit 1 from the environment, 2 from --url", async (t) => {
  const give = `give this node's Vault address, ${EXAMPLE}`;
  const cases: [string, string[], Record<string, string>, string][] = [
    [
      "VAULT_ADDR unset",
      [],
      {},
      `VAULT_ADDR is not set: set it to this node's Vault address (${EXAMPLE}) or pass --url`,
    ],
    [
      "VAULT_ADDR empty",
      [],
      { VAULT_ADDR: "" },
      `VAULT_ADDR is empty: set it to this node's Vault address (${EXAMPLE}) or pass --url`,
    ],
    [
      "VAULT_ADDR malformed",
      [],
      { VAULT_ADDR: "127.0.0.1:8200" },
      `VAULT_ADDR '127.0.0.1:8200' is not a URL: ${give}`,
    ],
    [
      "--url with an unsupported scheme",
      ["--url", "ftp://127.0.0.1:8200"],
      {},
      `--url 'ftp://127.0.0.1:8200' must start with http://, https:// or unix://: ${give}`,
    ],
    [
      "--url empty",
      ["--url="],
      { VAULT_ADDR: "http://127.0.0.1:8200" },
      `--url '' is not a URL: ${give}`,
    ],
    [
      "--url a unix socket address with a host",
      ["--url", "unix://run/vault.sock"],
      {},
      `--url 'unix://run/vault.sock' is not a unix socket address: write it as 'unix:///absolute/path/to/vault.sock'`,
    ],
  ];
  for (const [name, args, env, line] of cases) {
    const exit = args.length > 0 ? 2 : 1;
    await t.step(`${name}: exit ${exit}`, async () => {
      assertOneLine(await run(args, { env }), exit, line);
      const json = await run([...args, "--json"], { env });
      assert.equal(json.code, exit);
      assert.equal(json.stderr, `${PROGRAM}: ${line}\n`);
      assert.deepEqual(jsonLine(json), {
        program: PROGRAM,
        version: VERSION,
        active: false,
        state: exit === 2 ? "usage_error" : "setup_error",
        reason: line,
        exit,
        target: null,
        target_source: null,
        check: "leader",
        timeout_ms: 800,
        elapsed_ms: jsonLine(json).elapsed_ms,
        answers: [],
        warnings: [],
      });
    });
  }
});

Deno.test("command-line mistakes exit 2 with one line", async (t) => {
  const cases: [string[], string][] = [
    [["--bogus"], "Unknown option '--bogus': see --help for the options"],
    [["-x"], "Unknown option '-x': see --help for the options"],
    [["--url"], "Option '--url' needs a value"],
    [["-t"], "Option '-t' needs a value"],
    [["--url", "--debug"], "Option '--url' needs a value"],
    [["--debug=1"], "Option '--debug' takes no value"],
    [
      ["http://127.0.0.1:8200"],
      "Unexpected argument 'http://127.0.0.1:8200': the target is given with --url",
    ],
    [
      ["--timeout", "0"],
      "Option '--timeout' needs a number of seconds from 0.01 to 3600 (fractions allowed), got '0'",
    ],
    [
      ["-t", "fast"],
      "Option '-t' needs a number of seconds from 0.01 to 3600 (fractions allowed), got 'fast'",
    ],
    [
      ["--timeout=-1"],
      "Option '--timeout' needs a number of seconds from 0.01 to 3600 (fractions allowed), got '-1'",
    ],
    [
      ["-t", "0.0001"],
      "Option '-t' needs a number of seconds from 0.01 to 3600 (fractions allowed), got '0.0001'",
    ],
    [
      ["--check", "status"],
      "Option '--check' takes 'leader', 'health' or 'both', got 'status'",
    ],
    [
      ["--url", "http://127.0.0.1:8200", "--url", "http://127.0.0.1:8300"],
      "Option '--url' is given twice ('http://127.0.0.1:8200' from '--url', then 'http://127.0.0.1:8300'): give it once",
    ],
  ];
  for (const [args, line] of cases) {
    await t.step(args.join(" "), async () => {
      const env = { VAULT_ADDR: `http://127.0.0.1:${closedPort()}` };
      assertOneLine(await run(args, { env }), 2, line);
    });
  }

  await t.step("--json still gets its one line", async () => {
    const result = await run(["--json", "--check", "status"]);
    const line =
      "Option '--check' takes 'leader', 'health' or 'both', got 'status'";
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `${PROGRAM}: ${line}\n`);
    const report = jsonLine(result);
    assert.equal(report.state, "usage_error");
    assert.equal(report.reason, line);
    assert.equal(report.exit, 2);
    assert.equal(report.active, false);
  });
});

Deno.test("--version and --help print and exit 0 without any permission", async (t) => {
  await t.step("--version", async () => {
    const result = await run(["--version"], { permissions: ["--no-prompt"] });
    assert.deepEqual(
      { code: result.code, stdout: result.stdout, stderr: result.stderr },
      { code: 0, stdout: `${VERSION}\n`, stderr: "" },
    );
    assert.match(VERSION, /^\d+\.\d+\.\d+$/);
  });

  for (const flag of ["--help", "-h"]) {
    await t.step(flag, async () => {
      const result = await run([flag], { permissions: ["--no-prompt"] });
      assert.equal(result.code, 0);
      assert.equal(result.stderr, "");
      const help = result.stdout;
      for (
        const flag of [
          "-u, --url URL",
          "-t, --timeout SECONDS",
          "--check MODE",
          "-d, --debug",
          "--json",
          "--cacert FILE",
          "--cert FILE",
          "--key FILE",
          "-h, --help",
          "--version",
          "VAULT_ADDR",
          "0  this node is the active node",
          "1  not active, or unable to tell",
          "2  command-line mistake",
          "--allow-env=VAULT_ADDR",
          "--allow-net",
          "(default 0.8)",
        ]
      ) {
        assert.ok(help.includes(flag), `help mentions '${flag}'`);
      }
    });
  }

  await t.step(
    "every option the help lists is one the parser knows",
    async () => {
      const result = await run(["--help"], { permissions: ["--no-prompt"] });
      const section = result.stdout.split("\nOptions:\n")[1]?.split("\n\n")[0];
      assert.ok(section, "help has an Options section");
      const entries = [
        ...section.matchAll(
          /^ {2}(?:(-[a-z]), )?\s*(--[a-z-]+)(?: ([A-Z]+))?/gm,
        ),
      ];
      assert.ok(entries.length >= 12, `found ${entries.length} options`);
      for (const [, short, long, value] of entries) {
        for (const flag of [short, long]) {
          if (flag === undefined) continue;
          // A bad value is fine here; an unknown option is not.
          const args = value === undefined ? [flag] : [flag, "1"];
          let message = "";
          try {
            parseOptions(args);
          } catch (error: unknown) {
            message = error instanceof Error ? error.message : String(error);
          }
          assert.ok(!message.startsWith("Unknown option"), message);
        }
      }
    },
  );
});

Deno.test("--debug explains the run on stderr, one fact a line", async () => {
  await using vault = await startSimulator();
  const result = await run(["--url", vault.url, "-d"]);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "");
  const lines = stderrLines(result);
  assert.equal(lines.length, 4);
  assert.match(
    lines[0] as string,
    new RegExp(
      `^${PROGRAM}: target ${vault.url} \\(from --url\\), check leader, deadline 0\\.8 s for the whole run, \\d+ ms left after start-up$`,
    ),
  );
  assert.equal(lines[1], `${PROGRAM}: asked GET ${vault.url}${LEADER_PATH}`);
  const body = JSON.stringify(
    JSON.parse(
      await (await fetch(vault.url + LEADER_PATH)).text(),
    ),
  );
  assert.match(
    lines[2] as string,
    new RegExp(
      `^${PROGRAM}: answer 200 \\(application/json\\) in \\d+(\\.\\d)? ms: `,
    ),
  );
  assert.ok(lines[2]?.endsWith(`ms: ${body}`), lines[2]);
  const verdict = lines[3] as string;
  assert.match(
    verdict,
    /; exit 0 after \d+(\.\d)? ms$/,
  );
  assert.ok(
    verdict.startsWith(
      `${PROGRAM}: verdict: active (active): ${ACTIVE_REASON}; exit 0 after `,
    ),
    verdict,
  );
});

Deno.test("--json prints one line with every fact", async () => {
  await using vault = await startSimulator({ state: "sealed" });
  const result = await run([
    "--url",
    vault.url,
    "--json",
    "--check=both",
    "--timeout=1.5",
  ]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, "");
  const report = jsonLine(result);
  const answers = report.answers as Record<string, unknown>[];
  assert.deepEqual(Object.keys(report), [
    "program",
    "version",
    "active",
    "state",
    "reason",
    "exit",
    "target",
    "target_source",
    "check",
    "timeout_ms",
    "elapsed_ms",
    "answers",
    "warnings",
  ]);
  assert.equal(report.program, PROGRAM);
  assert.equal(report.version, VERSION);
  assert.equal(report.active, false);
  assert.equal(report.state, "sealed");
  assert.equal(
    report.reason,
    "Vault is sealed or not initialised",
  );
  assert.equal(report.exit, 1);
  assert.equal(report.check, "both");
  assert.equal(report.timeout_ms, 1500);
  assert.equal(typeof report.elapsed_ms, "number");
  assert.ok((report.elapsed_ms as number) < 1500);
  assert.deepEqual(report.warnings, []);
  assert.equal(answers.length, 2);
  assert.deepEqual(answers[0], {
    endpoint: LEADER_PATH,
    url: vault.url + LEADER_PATH,
    elapsed_ms: answers[0]?.elapsed_ms,
    status: 503,
    content_type: "application/json",
    body: '{"errors":["Vault is sealed"]}',
    error: null,
  });
  assert.equal(answers[1]?.endpoint, HEALTH_PATH);
  assert.equal(answers[1]?.status, 503);
  assert.ok(
    (answers[1]?.elapsed_ms as number) <= (report.elapsed_ms as number),
  );
});

Deno.test("--timeout bounds the run; fractions work", async (t) => {
  await using vault = await startSimulator();
  vault.set({ behaviour: "slow", delayMs: 700 });

  for (
    const [args, timeoutMs] of [[["-t", "0.3"], 300], [
      ["--timeout=.5"],
      500,
    ]] as const
  ) {
    await t.step(
      `${args.join(" ")} gives up after ${timeoutMs} ms`,
      async () => {
        const result = await run(["--url", vault.url, "--json", ...args]);
        assert.equal(result.code, 1);
        const report = jsonLine(result);
        assert.equal(report.state, "timeout");
        assert.equal(report.timeout_ms, timeoutMs);
        assert.equal(
          report.reason,
          `No complete answer from '${vault.url}${LEADER_PATH}' within ${
            timeoutMs / 1000
          } s: Vault is hung, overloaded or stepping down; raise --timeout only if keepalived's timeout allows`,
        );
        assert.ok((report.elapsed_ms as number) >= timeoutMs);
        assert.ok((report.elapsed_ms as number) < timeoutMs + 250);
        assert.ok(result.elapsedMs < timeoutMs + 1500, `${result.elapsedMs}`);
      },
    );
  }

  await t.step("a longer deadline waits for the slow answer", async () => {
    const result = await run(["--url", vault.url, "--json", "-t", "1.5"]);
    assert.equal(result.code, 0);
    const report = jsonLine(result);
    assert.equal(report.state, "active");
    assert.ok((report.elapsed_ms as number) >= 700);
  });
});

Deno.test("nobody listening is refused, exit 1", async () => {
  const port = closedPort();
  const result = await run(["--url", `http://127.0.0.1:${port}`, "--json"]);
  assert.equal(result.code, 1);
  assert.ok(!hasStackTrace(result));
  const report = jsonLine(result);
  assert.equal(report.state, "refused");
  assert.equal(
    report.reason,
    `Connection to '127.0.0.1:${port}' refused: Vault is not running or not listening there`,
  );
});
