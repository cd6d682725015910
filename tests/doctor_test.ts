import assert from "node:assert/strict";
import { run } from "./support/run.ts";
import { type NodeStateName, startSimulator } from "./support/simulator.ts";
import {
  type Certificates,
  haveOpenssl,
  makeCertificates,
} from "./support/certificates.ts";

/** The permissions of `deno task doctor`, the network narrowed to loopback. */
const DOCTOR_PERMISSIONS = [
  "--no-prompt",
  "--allow-read",
  "--allow-net=127.0.0.1",
  "--allow-sys=networkInterfaces",
];
const DOCTOR = new URL("../lib/doctor/main.ts", import.meta.url).pathname;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const FIXTURES = new URL("./fixtures/keepalived/", import.meta.url).pathname;
const EXAMPLE = new URL("../examples/keepalived.conf", import.meta.url)
  .pathname;
const PASSWD = "root:x:0:0:root:/root:/bin/bash\n" +
  "keepalived_script:x:998:998::/nonexistent:/usr/sbin/nologin\n";
const CONF = "/etc/keepalived/keepalived.conf";

// The path tests depend on files owned by root, as on a real host.
const asRoot = Deno.uid() === 0;
if (!asRoot) {
  // deno-lint-ignore no-console
  console.log(
    "doctor tests skipped: they need root to create root-owned files",
  );
}

interface HostSetup {
  conf?: string;
  confText?: string;
  passwd?: string;
  env?: string;
  scriptMode?: number;
  noScript?: boolean;
  files?: Record<string, string>;
  modes?: Record<string, number>;
  args?: string[];
}

interface Doctored {
  code: number;
  stdout: string;
  stderr: string;
  /** `severity code` of each finding, in order. */
  findings: string[];
}

const vault = await startSimulator({ state: "active" });

/** Builds a host's files under a temporary root and runs the doctor on it. */
async function doctor(setup: HostSetup): Promise<Doctored> {
  const root = await Deno.makeTempDir({ prefix: "doctor_test_" });
  try {
    const confText = setup.confText ??
      await Deno.readTextFile(FIXTURES + (setup.conf ?? "good.conf"));
    const files: Record<string, string> = {
      [CONF]: confText,
      "/etc/passwd": setup.passwd ?? PASSWD,
      "/etc/default/keepalived": setup.env ?? `VAULT_ADDR=${vault.url}\n`,
      ...(setup.noScript
        ? {}
        : { "/usr/local/bin/vault-ha-active-node": "#!/bin/sh\n" }),
      ...setup.files,
    };
    for (const [path, text] of Object.entries(files)) {
      await write(root, path, text);
    }
    if (!setup.noScript) {
      await Deno.chmod(
        `${root}/usr/local/bin/vault-ha-active-node`,
        setup.scriptMode ?? 0o755,
      );
    }
    for (const [path, mode] of Object.entries(setup.modes ?? {})) {
      await Deno.chmod(root + path, mode);
    }

    const { code, stdout, stderr } = await run(
      ["--root", root, ...(setup.args ?? [])],
      { permissions: DOCTOR_PERMISSIONS, module: DOCTOR },
    );
    return {
      code,
      stdout,
      stderr,
      findings: findingsOf(stdout),
    };
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** `severity code` of each finding in the doctor's report, in order. */
function findingsOf(stdout: string): string[] {
  return [...stdout.matchAll(/^(error|warning) \[([a-z-]+)\]/gm)]
    .map((match) => `${match[1]} ${match[2]}`);
}

/** The fixture `good.conf` with `search` replaced by `replacement`. */
async function goodConfWith(
  search: string,
  replacement: string,
): Promise<string> {
  const good = await Deno.readTextFile(FIXTURES + "good.conf");
  return good.replace(search, replacement);
}

/** Runs `body` while the shared simulated Vault answers as `state`. */
async function whileVaultIs(state: NodeStateName, body: () => Promise<void>) {
  vault.set({ state });
  try {
    await body();
  } finally {
    vault.set({ state: "active" });
  }
}

async function write(root: string, path: string, text: string) {
  const dir = path.slice(0, path.lastIndexOf("/"));
  let current = root;
  for (const part of dir.split("/").filter((part) => part !== "")) {
    current += "/" + part;
    await Deno.mkdir(current).catch((error: unknown) => {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    });
    await Deno.chmod(current, 0o755);
  }
  await Deno.writeTextFile(root + path, text);
  await Deno.chmod(root + path, 0o644);
}

function test(name: string, fn: (t: Deno.TestContext) => Promise<void>) {
  Deno.test({ name, ignore: !asRoot, fn, sanitizeResources: false });
}

test("doctor gives a good setup a clean bill and exits 0", async () => {
  const result = await doctor({});
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.equal(
    result.stdout.replace(/--root \/\S+:/, "--root ROOT:"),
    `vault-ha-active-node doctor
configuration: ${CONF}
environment: /etc/default/keepalived
check: vrrp_script 'vault_active' (${CONF}:9) runs '/usr/local/bin/vault-ha-active-node --timeout 0.8'
target: ${vault.url} (from VAULT_ADDR in /etc/default/keepalived)
ran: the check in the doctor's own process, not as the script user and with none of keepalived's environment but VAULT_ADDR (--root ROOT: the host's script cannot be run from here)
verdict now: active (active): This node is the active node (ha_enabled and is_self are true)

No problems found: the VIP follows the active Vault node
`,
  );
  assert.match(
    result.stderr,
    new RegExp(`asked GET ${vault.url}/v1/sys/leader\n`),
  );
});

test("doctor follows include globs", async () => {
  const result = await doctor({
    conf: "include_main.conf",
    files: {
      "/etc/keepalived/conf.d/vault.conf": await Deno.readTextFile(
        FIXTURES + "include_instance.conf",
      ),
      "/etc/keepalived/conf.d/.hidden.conf": "vrrp_instance BROKEN {\n}\n",
    },
  });
  assert.equal(result.code, 0, result.stdout);
  assert.deepEqual(result.findings, []);
  assert.match(
    result.stdout,
    new RegExp(
      `^configuration: ${CONF}, /etc/keepalived/conf.d/vault.conf$`,
      "m",
    ),
  );
});

test("doctor flags enable_script_security without a script user", async () => {
  const result = await doctor({
    conf: "no_script_user.conf",
    passwd: "root:x:0:0:root:/root:/bin/bash\n",
  });
  assert.equal(result.code, 1);
  assert.deepEqual(result.findings, ["error no-script-user"]);
  assert.match(
    result.stdout,
    new RegExp(
      `^error \\[no-script-user\\] ${CONF}:9: enable_script_security is set but there is no script_user and no 'keepalived_script' user
  why: keepalived refuses to run the script as root and drops it: the instance runs untracked and takes the VIP whatever Vault says
  fix: create the user \\(useradd --system --no-create-home keepalived_script\\) or set script_user in global_defs$`,
      "m",
    ),
  );
  assert.match(
    result.stdout,
    /\n1 error, 0 warnings: the VIP would not follow the active Vault node\n$/,
  );
});

test("doctor flags a script_user that does not exist", async () => {
  const result = await doctor({
    passwd: "root:x:0:0:root:/root:/bin/bash\n",
  });
  assert.equal(result.code, 1);
  assert.deepEqual(result.findings, ["error script-user-unknown"]);
});

test("doctor flags an unquoted script line", async () => {
  const result = await doctor({ conf: "unquoted_script.conf" });
  assert.equal(result.code, 1);
  assert.deepEqual(result.findings, ["error unquoted-script"]);
  const expected = `
error [unquoted-script] ${CONF}:9: the script line of 'vault_active' is not quoted
  why: keepalived runs only '/usr/local/bin/vault-ha-active-node' and silently drops every argument (--timeout 0.8)
  fix: quote the whole command: script "/usr/local/bin/vault-ha-active-node --timeout 0.8"
`;
  assert.ok(result.stdout.includes(expected), result.stdout);
});

test("doctor flags a keepalived timeout not longer than the deadline", async () => {
  const result = await doctor({ conf: "short_timeout.conf" });
  assert.equal(result.code, 1);
  assert.deepEqual(result.findings, ["error timeout-too-short"]);
  assert.match(
    result.stdout,
    /keepalived's timeout for 'vault_active' \(1 s\) is not longer than the check's deadline \(1 s\)/,
  );
});

test("doctor warns that --check health cannot tell a Vault without HA", async () => {
  const result = await doctor({
    confText: await goodConfWith(
      "--timeout 0.8",
      "--timeout 0.8 --check health",
    ),
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.deepEqual(result.findings, ["warning check-health-only"]);
  const expected = `
warning [check-health-only] ${CONF}:9: the script line of 'vault_active' uses --check health
  why: /v1/sys/health answers a Vault without HA (ha_enabled false) exactly as an active node, so every such node would claim the VIP
  fix: use --check leader (the default) or --check both
`;
  assert.ok(result.stdout.includes(expected), result.stdout);
});

test("doctor flags --help or --version on the script line as an error", async (t) => {
  for (const flag of ["--help", "-h", "--version"]) {
    await t.step(flag, async () => {
      const result = await doctor({
        confText: await goodConfWith("--timeout 0.8", `--timeout 0.8 ${flag}`),
      });
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.deepEqual(result.findings, ["error script-never-checks"]);
      const expected = `
error [script-never-checks] ${CONF}:9: the script line of 'vault_active' passes '${flag}'
  why: the check then prints its ${
        flag === "--version" ? "version" : "help"
      } and exits 0 on every run without asking Vault, so this node looks active forever
  fix: remove '${flag}' from the script line
`;
      assert.ok(result.stdout.includes(expected), result.stdout);
    });
  }
});

test("doctor flags weight together with nopreempt", async () => {
  const result = await doctor({ conf: "weight_nopreempt.conf" });
  assert.equal(result.code, 1);
  assert.deepEqual(result.findings, ["error weight-with-nopreempt"]);
});

test("doctor flags a vrrp_instance that does not track the check", async () => {
  const result = await doctor({ conf: "untracked_instance.conf" });
  assert.equal(result.code, 1);
  assert.deepEqual(result.findings, ["error untracked-instance"]);
  assert.match(result.stdout, /vrrp_instance 'OTHER' does not track the check/);
});

test("doctor flags a missing or non-executable script", async () => {
  const missing = await doctor({ noScript: true });
  assert.equal(missing.code, 1);
  assert.deepEqual(missing.findings, ["error script-missing"]);

  const plain = await doctor({ scriptMode: 0o644 });
  assert.equal(plain.code, 1);
  assert.deepEqual(plain.findings, ["error script-not-executable"]);
});

test("doctor flags a path others can write: an error when root runs it", async () => {
  const asUser = await doctor({ modes: { "/usr/local/bin": 0o777 } });
  assert.equal(asUser.code, 0);
  assert.deepEqual(asUser.findings, ["warning unsafe-script-path"]);
  assert.match(
    asUser.stdout,
    /'\/usr\/local\/bin' on the path of '\/usr\/local\/bin\/vault-ha-active-node' is writable by everyone/,
  );

  const asRootUser = await doctor({
    confText: await goodConfWith(
      "script_user keepalived_script",
      "script_user root",
    ),
    modes: { "/usr/local/bin": 0o777 },
  });
  assert.equal(asRootUser.code, 1);
  assert.deepEqual(asRootUser.findings, ["error unsafe-script-path"]);
});

test("doctor warns that keepalived does not check the file deno runs", async () => {
  const result = await doctor({
    conf: "deno_run.conf",
    files: {
      "/usr/bin/deno": "#!/bin/sh\n",
      "/opt/vault-ha-active-node/main.ts": "",
    },
    modes: { "/usr/bin/deno": 0o755, "/opt/vault-ha-active-node": 0o777 },
  });
  assert.equal(result.code, 0, result.stdout);
  assert.deepEqual(result.findings, ["warning program-file-unchecked"]);
  assert.match(
    result.stdout,
    /^warning \[program-file-unchecked\] \/etc\/keepalived\/keepalived.conf:9: keepalived checks only '\/usr\/bin\/deno', not '\/opt\/vault-ha-active-node\/main.ts', and '\/opt\/vault-ha-active-node' is writable by everyone$/m,
  );
});

test("doctor flags the VIP or another host as the target and does not ask it", async () => {
  const vip = await doctor({ env: "VAULT_ADDR=http://198.51.100.10:8200\n" });
  assert.equal(vip.code, 1);
  assert.deepEqual(vip.findings, ["error target-is-vip"]);
  assert.match(
    vip.stdout,
    /^verdict now: not asked, the target is not this host$/m,
  );
  assert.doesNotMatch(vip.stderr, /asked GET/);

  const remote = await doctor({
    env: "export VAULT_ADDR='http://198.51.100.20:8200'\n",
  });
  assert.equal(remote.code, 1);
  assert.deepEqual(remote.findings, ["error target-not-this-host"]);
});

test("doctor flags a target keepalived cannot see", async () => {
  const result = await doctor({ env: "# VAULT_ADDR is in root's .bashrc\n" });
  assert.equal(result.code, 1);
  assert.deepEqual(result.findings, ["error no-target"]);
  assert.ok(
    result.stdout.includes(
      `error [no-target] the script line has no --url and keepalived's environment (/etc/default/keepalived) sets neither BAO_ADDR nor VAULT_ADDR
  why: keepalived does not pass a login shell's variables: the check fails on every run and this node never takes the VIP
  fix: add --url https://127.0.0.1:8200 to the script line, or VAULT_ADDR to keepalived's environment file (or BAO_ADDR, with --allow-env=BAO_ADDR for the check)
`,
    ),
    result.stdout,
  );
});

test("doctor takes the target from BAO_ADDR, which wins over VAULT_ADDR, as the check does", async () => {
  const result = await doctor({
    env: `BAO_ADDR=${vault.url}\nVAULT_ADDR=http://198.51.100.20:8200\n`,
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.deepEqual(result.findings, []);
  assert.match(
    result.stdout,
    new RegExp(
      `^target: ${vault.url} \\(from BAO_ADDR in /etc/default/keepalived\\)$`,
      "m",
    ),
  );
  assert.match(
    result.stdout,
    /^ran: the check in the doctor's own process, not as the script user and with none of keepalived's environment but BAO_ADDR \(--root \/\S+: the host's script cannot be run from here\)$/m,
  );
});

test("doctor names the variable a malformed address came from", async () => {
  const result = await doctor({ env: "VAULT_ADDR=127.0.0.1:8200\n" });
  assert.equal(result.code, 1);
  assert.deepEqual(result.findings, ["error bad-target"]);
  assert.match(
    result.stdout,
    /^error \[bad-target\] VAULT_ADDR '127.0.0.1:8200' is not a URL: give this node's Vault address, e.g. 'https:\/\/127.0.0.1:8200'$/m,
  );
});

test("doctor names the flags its own check lacks for a unix socket target", async () => {
  const result = await doctor({
    env: "VAULT_ADDR=unix:///run/vault/vault.sock\n",
  });
  assert.deepEqual(result.findings, []);
  assert.match(
    result.stdout,
    /^verdict now: not asked, run with --allow-write=\/run\/vault\/vault.sock --allow-net=unix:\/run\/vault\/vault.sock$/m,
  );
});

test("doctor warns of variables Deno obeys in keepalived's environment", async () => {
  const env = "/etc/default/keepalived";
  const result = await doctor({
    env: [
      `VAULT_ADDR=${vault.url}`,
      "DENO_CERT=/etc/ssl/extra.pem",
      "DENO_TLS_CA_STORE=system",
      "SSL_CERT_FILE=/etc/ssl/other.pem",
      "SSLKEYLOGFILE=/tmp/keys.log",
      "",
    ].join("\n"),
  });
  assert.equal(result.code, 0, result.stdout);
  assert.deepEqual(result.findings, [
    "warning deno-trust-in-environment",
    "warning tls-key-log-in-environment",
  ]);
  const expected = `
warning [deno-trust-in-environment] ${env}: keepalived's environment sets DENO_CERT='/etc/ssl/extra.pem', DENO_TLS_CA_STORE='system', SSL_CERT_FILE='/etc/ssl/other.pem'
  why: Deno obeys these without any permission: the check then trusts CAs that --cacert and --capath do not name, and one that Deno cannot load fails every check, http targets included
  fix: remove DENO_CERT, DENO_TLS_CA_STORE, SSL_CERT_FILE from keepalived's environment; give Vault's CA with --cacert or VAULT_CACERT

warning [tls-key-log-in-environment] ${env}: keepalived's environment sets SSLKEYLOGFILE='/tmp/keys.log'
  why: Deno writes the secrets of every TLS session to that file, without any write permission: whoever can read it can decrypt the check's traffic with Vault
  fix: remove SSLKEYLOGFILE from keepalived's environment and delete '/tmp/keys.log'
`;
  assert.ok(result.stdout.includes(expected), result.stdout);

  // SSL_CERT_FILE means nothing to Deno without DENO_TLS_CA_STORE=system.
  const alone = await doctor({
    env: `VAULT_ADDR=${vault.url}\nSSL_CERT_FILE=/etc/ssl/other.pem\n`,
  });
  assert.deepEqual(alone.findings, []);
});

test("doctor flags a check that cannot tell", async () => {
  const down = await startSimulator();
  await down.close();
  const result = await doctor({ args: ["--url", down.url] });
  assert.equal(result.code, 1);
  assert.deepEqual(result.findings, ["error check-cannot-tell"]);
});

test("doctor's check flags replace the script line's and keep the others", async () => {
  const result = await doctor({
    confText: await goodConfWith(
      "--timeout 0.8",
      "--timeout 0.8 --check health",
    ),
    env: "VAULT_ADDR=http://127.0.0.1:9\n",
    args: ["--timeout", "0.5", "--url", vault.url],
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(
    result.stderr,
    new RegExp(
      `target ${vault.url} \\(from --url\\), check health, deadline 0.5 s\n`,
    ),
  );
  assert.match(
    result.stdout,
    /^ran: the check in the doctor's own process, not as the script user and with none of keepalived's environment \(--root \/\S+: the host's script cannot be run from here\)$/m,
  );
});

test("doctor flags a Vault that answers with an error instead of a state", async () => {
  await whileVaultIs("server_error", async () => {
    const result = await doctor({});
    assert.equal(result.code, 1);
    assert.deepEqual(result.findings, ["error check-cannot-tell"]);
    assert.match(result.stdout, /^verdict now: not active \(server_error\): /m);
  });
});

test("doctor reports Vault's answer without a finding when this node is a standby", async () => {
  await whileVaultIs("standby", async () => {
    const result = await doctor({});
    assert.equal(result.code, 0);
    assert.deepEqual(result.findings, []);
    assert.match(result.stdout, /^verdict now: not active \(standby\): /m);
  });
});

test("doctor compares priorities with a peer's configuration", async () => {
  const result = await doctor({
    files: {
      "/etc/keepalived/peer.conf": await Deno.readTextFile(
        FIXTURES + "peer.conf",
      ),
    },
    args: ["--peer-config", "/etc/keepalived/peer.conf"],
  });
  assert.equal(result.code, 0);
  assert.deepEqual(result.findings, ["warning equal-priority"]);
});

test("doctor says what it cannot read and exits 1", async () => {
  const result = await doctor({
    args: ["--config", "/etc/keepalived/none.conf"],
  });
  assert.equal(result.code, 1);
  assert.equal(
    result.stdout,
    `error [unreadable] cannot read the setup: No keepalived configuration at '/etc/keepalived/none.conf'
  why: the doctor cannot check what it cannot read
  fix: the file does not exist: give the path keepalived uses with --config
`,
  );

  const noEnv = await doctor({
    args: ["--env-file", "/etc/default/none"],
  });
  assert.equal(noEnv.code, 1);
  assert.equal(
    noEnv.stdout,
    `error [unreadable] cannot read the setup: No environment file at '/etc/default/none'
  why: the doctor cannot check what it cannot read
  fix: the file does not exist: give the path keepalived uses with --env-file (without it, the doctor reads those of /etc/default/keepalived and /etc/sysconfig/keepalived that exist)
`,
  );
});

const OPENSSL = haveOpenssl();
if (!OPENSSL) {
  // deno-lint-ignore no-console
  console.log(
    "skipped: doctor TLS tests: they need openssl to make certificates",
  );
}

/** An active simulated Vault serving HTTPS with the loopback certificate. */
async function startHttpsVault(certs: Certificates) {
  return await startSimulator({
    state: "active",
    cert: await Deno.readTextFile(certs.loopback.cert),
    key: await Deno.readTextFile(certs.loopback.key),
  });
}

Deno.test({
  name:
    "doctor checks an https target with the CA of the script line or its own --cacert",
  ignore: !asRoot || !OPENSSL,
  sanitizeResources: false,
  async fn() {
    const certs = await makeCertificates();
    await using https = await startHttpsVault(certs);
    try {
      const files = { "/etc/vault/ca.pem": await Deno.readTextFile(certs.ca) };
      const env = `VAULT_ADDR=${https.url}\n`;
      const fromLine = await doctor({
        confText: await goodConfWith(
          "--timeout 0.8",
          "--cacert /etc/vault/ca.pem",
        ),
        files,
        env,
      });
      assert.equal(fromLine.code, 0, fromLine.stdout + fromLine.stderr);
      assert.match(fromLine.stdout, /^verdict now: active \(active\): /m);

      const fromDoctor = await doctor({
        files,
        env,
        args: ["--cacert", "/etc/vault/ca.pem"],
      });
      assert.equal(fromDoctor.code, 0, fromDoctor.stdout + fromDoctor.stderr);
      assert.match(fromDoctor.stdout, /^verdict now: active \(active\): /m);

      const without = await doctor({ files, env });
      assert.deepEqual(without.findings, ["error check-cannot-tell"]);
      assert.match(without.stdout, /UnknownIssuer/);
    } finally {
      await certs.remove();
    }
  },
});

/** A host set up in a temporary directory, for the doctor to read at '/'. */
async function liveHost(wrapperPermissions: string, scriptArgs: string) {
  const dir = await Deno.makeTempDir({ prefix: "doctor_live_" });
  await Deno.chmod(dir, 0o755);
  const certs = await makeCertificates();
  await Deno.chmod(certs.dir, 0o755);
  for (const entry of Deno.readDirSync(certs.dir)) {
    if (entry.isFile) await Deno.chmod(`${certs.dir}/${entry.name}`, 0o644);
  }
  await Deno.mkdir(`${dir}/bin`, { mode: 0o755 });
  const wrapper = `${dir}/bin/vault-ha-active-node`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\nexec ${Deno.execPath()} run ${
      wrapperPermissions.replaceAll("CERTS", certs.dir)
    } ${MAIN} "$@"\n`,
  );
  await Deno.chmod(wrapper, 0o755);
  await Deno.mkdir(`${dir}/deno`);
  await Deno.chown(`${dir}/deno`, 65534, 65534);
  const good = await Deno.readTextFile(FIXTURES + "good.conf");
  await Deno.writeTextFile(
    `${dir}/keepalived.conf`,
    good
      .replace("script_user keepalived_script", "script_user nobody")
      .replace("timeout 1", "timeout 3")
      .replace(
        '"/usr/local/bin/vault-ha-active-node --timeout 0.8"',
        `"${wrapper} ${scriptArgs.replaceAll("CERTS", certs.dir)}"`,
      ),
  );
  return {
    dir,
    certs,
    wrapper,
    /**
     * Runs the doctor on this host, keepalived's environment naming `url`,
     * with `args` after its own.
     */
    async doctor(url: string, permissions: string[], args: string[] = []) {
      await Deno.writeTextFile(
        `${dir}/env`,
        `VAULT_ADDR=${url}\nDENO_DIR=${dir}/deno\n`,
      );
      return await run([
        "--config",
        `${dir}/keepalived.conf`,
        "--env-file",
        `${dir}/env`,
        ...args,
      ], { permissions, module: DOCTOR });
    },
    async remove() {
      await certs.remove();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test({
  name:
    "doctor runs the script line as the script user with keepalived's environment",
  ignore: !asRoot || !OPENSSL,
  sanitizeResources: false,
  async fn(t) {
    const permissions = [...DOCTOR_PERMISSIONS, "--allow-run=runuser"];
    await t.step("the wrapper may read the CA: active", async () => {
      const host = await liveHost(
        "--no-prompt --allow-env=VAULT_ADDR --allow-net --allow-read=CERTS",
        "--cacert CERTS/ca.pem",
      );
      await using https = await startHttpsVault(host.certs);
      try {
        const result = await host.doctor(https.url, permissions);
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.ok(
          result.stdout.includes(
            `\nran: runuser -u nobody -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin VAULT_ADDR=${https.url} DENO_DIR=${host.dir}/deno ${host.wrapper} --cacert ${host.certs.dir}/ca.pem --debug --json (as keepalived runs it: user nobody, keepalived's environment only)\n`,
          ),
          result.stdout,
        );
        assert.match(result.stdout, /^verdict now: active \(active\): /m);
        assert.match(
          result.stderr,
          new RegExp(`asked GET ${https.url}/v1/sys/leader\n`),
        );
      } finally {
        await host.remove();
      }
    });

    await t.step(
      "logging flags given to the doctor are not passed on: it writes nothing",
      async () => {
        const host = await liveHost(
          "--no-prompt --allow-env=VAULT_ADDR --allow-net --allow-read=CERTS",
          "--cacert CERTS/ca.pem",
        );
        await using https = await startHttpsVault(host.certs);
        try {
          const result = await host.doctor(https.url, permissions, [
            "--log",
            "journal",
            "--state-file=/nonexistent/last-verdict",
            "--debug",
          ]);
          assert.equal(result.code, 0, result.stdout + result.stderr);
          assert.ok(
            result.stdout.includes(
              `\nran: runuser -u nobody -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin VAULT_ADDR=${https.url} DENO_DIR=${host.dir}/deno ${host.wrapper} --cacert ${host.certs.dir}/ca.pem --debug --json (as keepalived runs it: user nobody, keepalived's environment only)\n`,
            ),
            result.stdout,
          );
          assert.doesNotMatch(result.stderr, /log: /);
        } finally {
          await host.remove();
        }
      },
    );

    await t.step(
      "the wrapper may not read the CA: the check cannot tell",
      async () => {
        const host = await liveHost(
          "--no-prompt --allow-env=VAULT_ADDR --allow-net",
          "--cacert CERTS/ca.pem",
        );
        try {
          const result = await host.doctor(
            "https://127.0.0.1:8200",
            permissions,
          );
          assert.equal(result.code, 1, result.stdout + result.stderr);
          assert.deepEqual(findingsOf(result.stdout), [
            "error check-cannot-tell",
          ]);
          assert.ok(
            result.stdout.includes(
              `error [check-cannot-tell] the check cannot tell whether this node is active: Reading the CA certificate '${host.certs.dir}/ca.pem' (from --cacert) is not allowed: run with --allow-read=${host.certs.dir}/ca.pem\n`,
            ),
            result.stdout,
          );
        } finally {
          await host.remove();
        }
      },
    );
  },
});

let example: string | undefined;
try {
  example = Deno.readTextFileSync(EXAMPLE);
} catch {
  // deno-lint-ignore no-console
  console.log(`doctor example test skipped: ${EXAMPLE} does not exist yet`);
}

Deno.test({
  name: "doctor gives examples/keepalived.conf a clean bill",
  ignore: !asRoot || example === undefined,
  sanitizeResources: false,
  async fn() {
    const result = await doctor({ confText: example as string });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.deepEqual(result.findings, []);

    // Its $VIRTUAL_ADDRESS definition is read: the VIP as target is caught.
    const vip = await doctor({
      confText: example as string,
      env: "VAULT_ADDR=http://198.51.100.100:8200\n",
    });
    assert.deepEqual(vip.findings, ["error target-is-vip"]);
  },
});

Deno.test({
  name: "doctor tests stop the simulated Vault",
  ignore: !asRoot,
  async fn() {
    await vault.close();
  },
});

Deno.test("doctor refuses an unknown option with exit 2 and one line", async () => {
  const result = await run(["--bogus"], {
    permissions: ["--no-prompt"],
    module: DOCTOR,
  });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "");
  assert.equal(
    result.stderr,
    "vault-ha-active-node: Unknown option '--bogus': see --help for the options\n",
  );
});

Deno.test("doctor without read permission says which flag to add", async () => {
  const result = await run([], {
    permissions: ["--no-prompt"],
    module: DOCTOR,
  });
  assert.equal(result.code, 1);
  assert.ok(
    result.stdout.endsWith(
      "\n  fix: run the doctor with --allow-read: it reads the configuration, its includes, the environment files, /etc/passwd and every part of the script's path\n",
    ),
    result.stdout,
  );
});

Deno.test("doctor --help names how to run it and exits 0", async () => {
  const result = await run(["--help"], {
    permissions: ["--no-prompt"],
    module: DOCTOR,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  assert.ok(
    result.stdout.startsWith(
      "Usage: deno task doctor [options] [check options]\n" +
        "       deno run PERMISSIONS lib/doctor/main.ts [options] [check options]\n",
    ),
    result.stdout,
  );
});

Deno.test("the check's 'doctor' names the command that runs the doctor and exits 2", async (t) => {
  const cases: [string, string[], string][] = [
    ["no options", [], ""],
    [
      "options passed on, quoted where a shell needs it",
      ["--config", "/etc/keepalived/my keepalived.conf", "--url=it's"],
      ` --config '/etc/keepalived/my keepalived.conf' '--url=it'\\''s'`,
    ],
  ];
  for (const [name, args, rest] of cases) {
    await t.step(name, async () => {
      const result = await run(["doctor", ...args]);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, "");
      assert.equal(
        result.stderr,
        `vault-ha-active-node: The doctor is a program of its own (in the sources: 'deno task doctor'); run it as root with: deno run --no-prompt --allow-read --allow-net --allow-sys=networkInterfaces --allow-run=runuser ${DOCTOR}${rest}\n`,
      );
    });
  }
});

Deno.test("the check's module graph does not reach the doctor", async () => {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", MAIN],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(info.code, 0, new TextDecoder().decode(info.stderr));
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: { specifier: string }[];
  };
  const doctorDir = new URL("../lib/doctor/", import.meta.url).href;
  const reached = graph.modules
    .map((module) => module.specifier)
    .filter((specifier) => specifier.startsWith(doctorDir));
  assert.deepEqual(reached, []);
  assert.ok(
    graph.modules.some((module) => module.specifier.endsWith("/lib/cli.ts")),
    "the graph holds the check's own modules",
  );
});
