import assert from "node:assert/strict";
import {
  DEFAULT_TIMEOUT_MS,
  type Options,
  parseOptions,
} from "../lib/options.ts";
import { UsageError } from "../lib/errors.ts";

const DEFAULTS: Options = {
  timeoutMs: 800,
  check: "leader",
  debug: false,
  json: false,
  help: false,
  version: false,
};

function rejects(args: string[], message: string): void {
  assert.throws(
    () => parseOptions(args),
    (error: unknown) => {
      assert.ok(error instanceof UsageError, `UsageError for ${args}`);
      assert.equal(error.message, message);
      return true;
    },
  );
}

Deno.test("parseOptions with no arguments gives the defaults", () => {
  assert.equal(DEFAULT_TIMEOUT_MS, 800);
  assert.deepEqual(parseOptions([]), DEFAULTS);
});

Deno.test("parseOptions reads the URL in every form", () => {
  const url = "http://127.0.0.1:8200";
  for (
    const args of [["--url", url], ["-u", url], [`--url=${url}`]]
  ) {
    assert.deepEqual(parseOptions(args), { ...DEFAULTS, url }, `${args}`);
  }
  assert.deepEqual(parseOptions(["--url=http://h/a=b"]), {
    ...DEFAULTS,
    url: "http://h/a=b",
  });
});

Deno.test("parseOptions refuses a value option given twice, in any spelling", () => {
  rejects(
    ["-u", "http://a", "--url", "http://b"],
    "Option '--url' is given twice ('http://a' from '-u', then 'http://b'): give it once",
  );
  rejects(
    ["--url=http://a", "--url=http://a"],
    "Option '--url' is given twice ('http://a' from '--url', then 'http://a'): give it once",
  );
  rejects(
    ["--timeout", "1", "--debug", "-t", "2"],
    "Option '-t' is given twice ('1' from '--timeout', then '2'): give it once",
  );
  const values: Record<string, string> = {
    "--check": "health",
    "--cacert": "/a",
    "--capath": "/a",
    "--tls-server-name": "vault",
    "--log": "journal",
    "--journal-socket": "/a",
    "--state-file": "/a",
  };
  for (const [flag, value] of Object.entries(values)) {
    rejects(
      [flag, value, flag, value],
      `Option '${flag}' is given twice ('${value}' from '${flag}', then '${value}'): give it once`,
    );
  }
  rejects(
    ["--cert", "/c", "--key", "/k", "--cert", "/d"],
    "Option '--cert' is given twice ('/c' from '--cert', then '/d'): give it once",
  );
  rejects(
    ["--cert", "/c", "--key", "/k", "--key", "/d"],
    "Option '--key' is given twice ('/k' from '--key', then '/d'): give it once",
  );
  assert.deepEqual(parseOptions(["--debug", "-d", "--json", "--json"]), {
    ...DEFAULTS,
    debug: true,
    json: true,
  });
});

Deno.test("parseOptions reads the timeout in seconds, fractions allowed", () => {
  const cases: [string[], number][] = [
    [["--timeout", "2"], 2000],
    [["-t", "0.5"], 500],
    [["--timeout=.25"], 250],
    [["-t", "1.0005"], 1001],
    [["-t", "3600"], 3_600_000],
    [["-t", "007"], 7000],
    [["-t", "0.01"], 10],
    [["-t", "0.0105"], 11],
  ];
  for (const [args, timeoutMs] of cases) {
    assert.deepEqual(parseOptions(args), { ...DEFAULTS, timeoutMs }, `${args}`);
  }
});

Deno.test("parseOptions refuses a timeout that is not seconds from 0.01 to 3600", () => {
  for (
    const [flag, value] of [
      ["--timeout", "0"],
      ["--timeout", "0.0"],
      ["-t", "-1"],
      ["-t", "abc"],
      ["-t", "1e3"],
      ["-t", "1."],
      ["-t", " 1"],
      ["-t", "1s"],
      ["-t", "0x10"],
      ["-t", "Infinity"],
      ["-t", "3600.5"],
      ["-t", "0.0001"],
      ["-t", "0.009"],
      ["--timeout", ""],
    ]
  ) {
    rejects(
      [flag as string, value as string],
      `Option '${flag}' needs a number of seconds from 0.01 to 3600 (fractions allowed), got '${value}'`,
    );
  }
  rejects(
    ["--timeout="],
    "Option '--timeout' needs a number of seconds from 0.01 to 3600 (fractions allowed), got ''",
  );
});

Deno.test("parseOptions reads the check mode and refuses others", () => {
  for (const check of ["leader", "health", "both"] as const) {
    assert.deepEqual(parseOptions(["--check", check]), { ...DEFAULTS, check });
    assert.deepEqual(parseOptions([`--check=${check}`]), {
      ...DEFAULTS,
      check,
    });
  }
  for (const value of ["Leader", "all", "", "status"]) {
    rejects(
      ["--check", value],
      `Option '--check' takes 'leader', 'health' or 'both', got '${value}'`,
    );
  }
});

Deno.test("parseOptions reads the switches in long and short form", () => {
  const cases: [string[], Partial<Options>][] = [
    [["--debug"], { debug: true }],
    [["-d"], { debug: true }],
    [["--json"], { json: true }],
    [["--help"], { help: true }],
    [["-h"], { help: true }],
    [["--version"], { version: true }],
    [["-d", "--json", "-t", "1", "--check", "both"], {
      debug: true,
      json: true,
      timeoutMs: 1000,
      check: "both",
    }],
  ];
  for (const [args, set] of cases) {
    assert.deepEqual(parseOptions(args), { ...DEFAULTS, ...set }, `${args}`);
  }
});

Deno.test("parseOptions keeps the original script's TLS flags", () => {
  assert.deepEqual(
    parseOptions([
      "--cacert",
      "/etc/vault/ca.pem",
      "--cert=/etc/vault/client.pem",
      "--key",
      "/etc/vault/client-key.pem",
    ]),
    {
      ...DEFAULTS,
      cacert: "/etc/vault/ca.pem",
      cert: "/etc/vault/client.pem",
      key: "/etc/vault/client-key.pem",
    },
  );
});

Deno.test("parseOptions names every command-line mistake in one line", () => {
  rejects(["--debug=yes"], "Option '--debug' takes no value");
  rejects(["--json=1"], "Option '--json' takes no value");
  rejects(["--nope"], "Unknown option '--nope': see --help for the options");
  rejects(
    ["--nope=1"],
    "Unknown option '--nope=1': see --help for the options",
  );
  rejects(["-x"], "Unknown option '-x': see --help for the options");
  rejects(["-t=1"], "Unknown option '-t=1': see --help for the options");
  rejects(["-"], "Unknown option '-': see --help for the options");
  rejects(["--"], "Unknown option '--': see --help for the options");
  rejects(
    ["http://127.0.0.1:8200"],
    "Unexpected argument 'http://127.0.0.1:8200': the target is given with --url",
  );
  rejects(
    ["--debug", "leader"],
    "Unexpected argument 'leader': the target is given with --url",
  );
  for (const flag of ["--url", "-u", "--timeout", "-t", "--check"]) {
    rejects([flag], `Option '${flag}' needs a value`);
  }
  rejects(["--url", "--debug"], "Option '--url' needs a value");
  rejects(["-u", "-d"], "Option '-u' needs a value");
  rejects(["--timeout", "--json"], "Option '--timeout' needs a value");
  rejects(["--check", "--anything"], "Option '--check' needs a value");
});

Deno.test("parseOptions refuses words an object inherits, such as 'toString'", () => {
  for (const word of ["toString", "constructor", "__proto__", "valueOf"]) {
    rejects(
      [word],
      `Unexpected argument '${word}': the target is given with --url`,
    );
  }
  assert.deepEqual(parseOptions(["--url", "constructor"]), {
    ...DEFAULTS,
    url: "constructor",
  });
});
