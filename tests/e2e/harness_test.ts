/**
 * The parts of the failover harness that need no root: the example
 * configuration renders with the per-host values, its timing reads back,
 * fail-open log lines are recognised, the TLS wrapper gets the documented
 * permissions, windows are held to the detection time, and the closing
 * line is exact and kept for the bench.
 */

import assert from "node:assert/strict";
import {
  checkTiming,
  EXAMPLE_SCRIPT,
  FAIL_OPEN_SIGNS,
  readExample,
  renderConfig,
} from "./keepalived.ts";
import { overBound, summarise } from "./suite.ts";
import { tlsPermissions } from "./install.ts";
import { recordSummary } from "./summary_file.ts";
import { DEFAULT_TIMEOUT_MS } from "../../lib/options.ts";

const VALUES = {
  interface: "eth0",
  priority: 100,
  routerId: "vault-b",
  virtualAddress: "198.51.100.100/24",
  script: "/opt/check/bin/vault-ha-active-node",
};

Deno.test("the example renders with each host's values and the installed path", async () => {
  const example = await readExample();
  const config = renderConfig(example, VALUES);

  const definitions = config.split("\n").filter((line) => line.startsWith("$"));
  assert.deepEqual(definitions, [
    "$INTERFACE=eth0",
    "$PRIORITY=100",
    "$ROUTER_ID=vault-b",
    "$VIRTUAL_ADDRESS=198.51.100.100/24",
  ]);
  assert.ok(
    config.includes('script "/opt/check/bin/vault-ha-active-node"\n'),
  );
  assert.ok(!config.includes(EXAMPLE_SCRIPT));
});

Deno.test("the example's script line can carry extra arguments, still quoted", async () => {
  const config = renderConfig(await readExample(), {
    ...VALUES,
    scriptArguments: "--timeout 5",
  });
  assert.ok(
    config.includes(
      'script "/opt/check/bin/vault-ha-active-node --timeout 5"\n',
    ),
  );
});

Deno.test("the example gives keepalived a timeout longer than the check's deadline", async () => {
  const timing = checkTiming(await readExample());
  assert.deepEqual(timing, {
    interval: 1,
    timeout: 2,
    fall: 1,
    rise: 1,
    advertInterval: 0.1,
  });
  assert.ok(timing.timeout * 1000 > DEFAULT_TIMEOUT_MS);
});

Deno.test("rendering fails with one line when the example lost a per-host line", () => {
  assert.throws(
    () =>
      renderConfig('script "/usr/local/bin/vault-ha-active-node"\n', VALUES),
    { message: "The example configuration has no '$INTERFACE=' line" },
  );
});

Deno.test("keepalived's fail-open log lines are recognised, ordinary ones are not", () => {
  const failOpen = [
    "WARNING - script '/opt/check/bin/vault-ha-active-node' is not executable for uid:gid 999:995 - disabling.",
    "Unsafe permissions found for script '/tmp/x/check' - disabling.",
    "Disabling track script vault_active due to insecure",
    "(/etc/keepalived/keepalived.conf: Line 16) Unable to set default user for vrrp script vault_active - removing",
    "(/etc/keepalived/keepalived.conf: Line 27) (vault) track script vault_active not found, ignoring...",
    "SECURITY VIOLATION - check scripts are being executed but script_security not enabled.",
  ];
  const ordinary = [
    "Script `vault_active` now returning 1",
    "VRRP_Script(vault_active) failed (exited with status 1)",
    "(vault) Entering FAULT STATE",
    "(vault) Entering MASTER STATE",
  ];
  const matches = (line: string) =>
    FAIL_OPEN_SIGNS.some((sign) => sign.test(line));
  assert.deepEqual(failOpen.filter(matches), failOpen);
  assert.deepEqual(ordinary.filter(matches), []);
});

Deno.test("the closing line sums up leadership changes only", () => {
  const window = (kind: "leadership" | "startup", seconds: number) => ({
    label: "x",
    kind,
    seconds,
  });
  const line = summarise([
    {
      cluster: "2 hosts",
      scenario: "s",
      windows: [
        window("leadership", 1.2),
        window("leadership", 0.6),
        window("startup", 9),
        window("leadership", 2.01),
        window("leadership", 0.9),
      ],
    },
  ], [{ kind: "double", message: "VIP on hosts a and b at once" }]);
  assert.equal(
    line,
    "failover: median 1.05 s, worst 2.01 s, misplaced 0, double 1",
  );
});

Deno.test("the closing line is kept as the only line of its file, directory created", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const file = new URL(`file://${directory}/nested/failover.txt`);
    await recordSummary("failover: median 1.00 s, worst 1.40 s, x", file);
    await recordSummary(
      "failover: median 0.90 s, worst 1.30 s, misplaced 0, double 0",
      file,
    );
    assert.equal(
      await Deno.readTextFile(file),
      "failover: median 0.90 s, worst 1.30 s, misplaced 0, double 0\n",
    );
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("the TLS wrapper gets compile-tls's flags with read access to exactly the given files", async () => {
  const flags = await tlsPermissions([
    "/srv/tls/ca.pem",
    "/srv/tls/client.pem",
    "/srv/tls/client.key",
  ]);
  assert.deepEqual(flags, [
    "--no-prompt",
    "--allow-env=VAULT_ADDR,VAULT_CACERT,VAULT_CAPATH,VAULT_CLIENT_CERT,VAULT_CLIENT_KEY,VAULT_TLS_SERVER_NAME,VAULT_SKIP_VERIFY",
    "--allow-net",
    "--allow-read=/srv/tls/ca.pem,/srv/tls/client.pem,/srv/tls/client.key",
  ]);
});

Deno.test("windows longer than the detection time are named in one line", () => {
  const windows = [
    { label: "a to b", kind: "leadership" as const, seconds: 1.1 },
    { label: "b to a", kind: "leadership" as const, seconds: 4.01 },
    { label: "start-up", kind: "startup" as const, seconds: 4 },
  ];
  assert.equal(overBound(windows.slice(0, 1), 4_000), undefined);
  assert.equal(overBound(windows.slice(2), 4_000), undefined);
  assert.equal(
    overBound(windows, 4_000),
    "b to a took 4.01 s, longer than the detection time of 4.00 s",
  );
});
