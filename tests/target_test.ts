import assert from "node:assert/strict";
import { resolveTarget, type Target } from "../lib/target.ts";
import { SetupError, UsageError } from "../lib/errors.ts";

const EXAMPLE = "e.g. 'https://127.0.0.1:8200'";

/** Runs `body` with VAULT_ADDR set to `value` (or unset), then restores it. */
function withAddress<T>(value: string | undefined, body: () => T): T {
  const saved = Deno.env.get("VAULT_ADDR");
  if (value === undefined) Deno.env.delete("VAULT_ADDR");
  else Deno.env.set("VAULT_ADDR", value);
  try {
    return body();
  } finally {
    if (saved === undefined) Deno.env.delete("VAULT_ADDR");
    else Deno.env.set("VAULT_ADDR", saved);
  }
}

/** A bad `--url` is a command-line mistake; a bad variable is setup. */
function fails(url: string | undefined, message: string): void {
  const expected = url === undefined ? SetupError : UsageError;
  assert.throws(
    () => resolveTarget(url),
    (error: unknown) => {
      assert.ok(
        error instanceof expected,
        `${expected.name} for '${url}', got ${error}`,
      );
      assert.equal(error.message, message);
      return true;
    },
  );
}

Deno.test("resolveTarget understands every address form Vault accepts", () => {
  const cases: [string, Omit<Target, "source">][] = [
    ["http://127.0.0.1:8200", {
      address: "http://127.0.0.1:8200",
      scheme: "http",
      hostname: "127.0.0.1",
      port: 8200,
      base: "http://127.0.0.1:8200",
    }],
    ["https://vault.example:8200/", {
      address: "https://vault.example:8200",
      scheme: "https",
      hostname: "vault.example",
      port: 8200,
      base: "https://vault.example:8200",
    }],
    ["http://localhost", {
      address: "http://localhost",
      scheme: "http",
      hostname: "localhost",
      port: 80,
      base: "http://localhost",
    }],
    ["https://127.0.0.1", {
      address: "https://127.0.0.1",
      scheme: "https",
      hostname: "127.0.0.1",
      port: 443,
      base: "https://127.0.0.1",
    }],
    ["HTTP://LocalHost:8200", {
      address: "HTTP://LocalHost:8200",
      scheme: "http",
      hostname: "localhost",
      port: 8200,
      base: "http://localhost:8200",
    }],
    ["http://127.0.0.1:8200/vault/", {
      address: "http://127.0.0.1:8200/vault",
      scheme: "http",
      hostname: "127.0.0.1",
      port: 8200,
      base: "http://127.0.0.1:8200/vault",
    }],
    ["http://127.0.0.1:8200/a/b//", {
      address: "http://127.0.0.1:8200/a/b",
      scheme: "http",
      hostname: "127.0.0.1",
      port: 8200,
      base: "http://127.0.0.1:8200/a/b",
    }],
    ["http://[::1]:8200", {
      address: "http://[::1]:8200",
      scheme: "http",
      hostname: "::1",
      port: 8200,
      base: "http://[::1]:8200",
    }],
    ["https://[::1]/", {
      address: "https://[::1]",
      scheme: "https",
      hostname: "::1",
      port: 443,
      base: "https://[::1]",
    }],
  ];
  for (const [url, expected] of cases) {
    assert.deepEqual(resolveTarget(url), { ...expected, source: "--url" });
    const fromEnv = withAddress(url, () => resolveTarget(undefined));
    assert.deepEqual(fromEnv, { ...expected, source: "VAULT_ADDR" });
  }
});

Deno.test("resolveTarget prefers --url over VAULT_ADDR", () => {
  const target = withAddress(
    "http://127.0.0.2:8200",
    () => resolveTarget("http://127.0.0.3:8300"),
  );
  assert.equal(target.source, "--url");
  assert.equal(target.base, "http://127.0.0.3:8300");
});

Deno.test("resolveTarget trims blanks around VAULT_ADDR", () => {
  const target = withAddress(
    "  http://127.0.0.1:8200/ \n",
    () => resolveTarget(undefined),
  );
  assert.equal(target.address, "http://127.0.0.1:8200");
  assert.equal(target.port, 8200);
});

Deno.test("resolveTarget names what to set when VAULT_ADDR is unset or empty", () => {
  withAddress(undefined, () =>
    fails(
      undefined,
      `VAULT_ADDR is not set: set it to this node's Vault address (${EXAMPLE}) or pass --url`,
    ));
  for (const blank of ["", "   "]) {
    withAddress(blank, () =>
      fails(
        undefined,
        `VAULT_ADDR is empty: set it to this node's Vault address (${EXAMPLE}) or pass --url`,
      ));
  }
});

Deno.test({
  name: "resolveTarget says which permission reads VAULT_ADDR",
  permissions: { env: false },
  fn() {
    fails(
      undefined,
      "VAULT_ADDR may not be read: run with --allow-env=VAULT_ADDR, or pass --url",
    );
  },
});

Deno.test("resolveTarget refuses malformed and unsupported addresses", () => {
  const give = `give this node's Vault address, ${EXAMPLE}`;
  const cases: [string, string][] = [
    ["", `--url '' is not a URL: ${give}`],
    ["127.0.0.1:8200", `--url '127.0.0.1:8200' is not a URL: ${give}`],
    ["http://", `--url 'http://' is not a URL: ${give}`],
    ["http://:8200", `--url 'http://:8200' is not a URL: ${give}`],
    [
      "http://127.0.0.1:99999",
      `--url 'http://127.0.0.1:99999' is not a URL: ${give}`,
    ],
    ["http://[::1", `--url 'http://[::1' is not a URL: ${give}`],
    [
      "localhost:8200",
      `--url 'localhost:8200' must start with http://, https:// or unix://: ${give}`,
    ],
    [
      "ftp://127.0.0.1",
      `--url 'ftp://127.0.0.1' must start with http://, https:// or unix://: ${give}`,
    ],
    [
      "tcp://127.0.0.1:8200",
      `--url 'tcp://127.0.0.1:8200' must start with http://, https:// or unix://: ${give}`,
    ],
    [
      "http://user:pw@127.0.0.1:8200",
      `--url 'http://user:pw@127.0.0.1:8200' must not carry a user name or password: ${give}`,
    ],
    [
      "http://127.0.0.1:8200/?standbyok=true",
      `--url 'http://127.0.0.1:8200/?standbyok=true' must not carry a query or fragment: ${give}`,
    ],
    [
      "http://127.0.0.1:8200/#x",
      `--url 'http://127.0.0.1:8200/#x' must not carry a query or fragment: ${give}`,
    ],
    [
      "unix://run/vault.sock",
      `--url 'unix://run/vault.sock' is not a unix socket address: write it as 'unix:///absolute/path/to/vault.sock'`,
    ],
    [
      "unix:///run/%ZZ.sock",
      `--url 'unix:///run/%ZZ.sock' is not a unix socket address: write it as 'unix:///absolute/path/to/vault.sock'`,
    ],
    [
      "unix:///run/a%00b.sock",
      `--url 'unix:///run/a%00b.sock' is not a unix socket address: write it as 'unix:///absolute/path/to/vault.sock'`,
    ],
  ];
  for (const [url, message] of cases) fails(url, message);
  withAddress("ftp://127.0.0.1", () =>
    fails(
      undefined,
      `VAULT_ADDR 'ftp://127.0.0.1' must start with http://, https:// or unix://: ${give}`,
    ));
});
