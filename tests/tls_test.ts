import assert from "node:assert/strict";
import { SERVER_NAME } from "./support/certificates.ts";
import {
  BEHAVIOURS,
  LEADER_PATH,
  type Simulator,
  startSimulator,
} from "./support/simulator.ts";
import { jsonLine, run } from "./support/run.ts";
import {
  assertOneLine,
  checkJson,
  tlsPermissions,
  tlsTest,
  tlsVault,
} from "./support/tls.ts";
import { PROGRAM, VERSION } from "../lib/version.ts";

tlsTest(
  "https targets: CA, client certificate, server name, OpenBao variables",
  async (t, certs) => {
    await using loopback = await tlsVault(certs.loopback);
    await using named = await tlsVault(certs.named);
    await using mutual = await tlsVault(certs.named, certs.ca);
    const permissions = tlsPermissions(certs);
    const withEnv = (names: string) =>
      tlsPermissions(certs, `VAULT_ADDR,${names}`);

    const active: [string, string[], string[], Record<string, string>][] = [
      [
        "--cacert",
        ["--url", loopback.url, "--cacert", certs.ca],
        permissions,
        {},
      ],
      ["VAULT_CACERT", ["--url", loopback.url], withEnv("VAULT_CACERT"), {
        VAULT_CACERT: certs.ca,
      }],
      [
        "BAO_CACERT wins over VAULT_CACERT",
        ["--url", loopback.url],
        withEnv("BAO_CACERT,VAULT_CACERT"),
        { BAO_CACERT: certs.ca, VAULT_CACERT: `${certs.dir}/missing.pem` },
      ],
      [
        "--capath",
        ["--url", loopback.url, "--capath", certs.caDir],
        permissions,
        {},
      ],
      [
        "--cacert wins over --capath",
        [
          "--url",
          loopback.url,
          "--cacert",
          certs.ca,
          "--capath",
          `${certs.dir}/none`,
        ],
        permissions,
        {},
      ],
      [
        "--tls-server-name dials the URL's address and verifies the name",
        [
          "--url",
          named.url,
          "--cacert",
          certs.ca,
          "--tls-server-name",
          SERVER_NAME,
        ],
        permissions,
        {},
      ],
      [
        "VAULT_TLS_SERVER_NAME",
        ["--url", named.url, "--cacert", certs.ca],
        withEnv("VAULT_TLS_SERVER_NAME"),
        { VAULT_TLS_SERVER_NAME: SERVER_NAME },
      ],
      [
        "--cert and --key for a server that requires a client certificate",
        [
          "--url",
          mutual.url,
          "--cacert",
          certs.ca,
          "--tls-server-name",
          SERVER_NAME,
          "--cert",
          certs.client.cert,
          "--key",
          certs.client.key,
        ], // deno-fmt-ignore
        permissions,
        {},
      ],
      [
        "every setting from BAO_* variables",
        [],
        withEnv(
          "BAO_ADDR,BAO_CACERT,BAO_CLIENT_CERT,BAO_CLIENT_KEY,BAO_TLS_SERVER_NAME",
        ),
        {
          BAO_ADDR: mutual.url,
          VAULT_ADDR: "https://127.0.0.1:9",
          BAO_CACERT: certs.ca,
          BAO_CLIENT_CERT: certs.client.cert,
          BAO_CLIENT_KEY: certs.client.key,
          BAO_TLS_SERVER_NAME: SERVER_NAME,
        },
      ],
    ];
    for (const [name, args, grants, env] of active) {
      await t.step(`active: ${name}`, async () => {
        const result = await run(args, { permissions: grants, env });
        assert.deepEqual([result.code, result.stderr], [0, ""]);
      });
    }

    await t.step(
      "the request is the plain GET, with the URL's host",
      async () => {
        named.clearRequests();
        const result = await run(
          [
            "--url",
            named.url,
            "--cacert",
            certs.ca,
            "--tls-server-name",
            SERVER_NAME,
          ],
          { permissions },
        );
        assert.equal(result.code, 0);
        assert.equal(named.requests.length, 1);
        const request = named.requests[0]!;
        assert.equal(request.method, "GET");
        assert.equal(request.path, LEADER_PATH);
        assert.equal(request.headers.host, new URL(named.url).host);
        assert.equal(request.headers["x-vault-token"], undefined);
      },
    );

    const url = (vault: Simulator) => `${vault.url}${LEADER_PATH}`;
    const refusals: [string, string[], string][] = [
      [
        "a certificate from an unknown CA",
        ["--url", loopback.url],
        `TLS with '${
          url(loopback)
        }' failed: invalid peer certificate: UnknownIssuer: Vault's certificate is not signed by a CA this check trusts (Deno trusts the Mozilla store, not the system's): pass --cacert with the CA that signed it`,
      ],
      [
        "a name the certificate does not carry",
        ["--url", named.url, "--cacert", certs.ca],
        `TLS with '${
          url(named)
        }' failed: invalid peer certificate: certificate not valid for name "127.0.0.1"; certificate is only valid for DnsName("${SERVER_NAME}"): the certificate does not name '127.0.0.1'; pass --tls-server-name with a name it carries`,
      ],
      [
        "a wrong --tls-server-name",
        [
          "--url",
          named.url,
          "--cacert",
          certs.ca,
          "--tls-server-name",
          "other.test",
        ],
        `TLS with '${
          url(named)
        }' failed: invalid peer certificate: certificate not valid for name "other.test"; certificate is only valid for DnsName("${SERVER_NAME}"): the certificate does not name 'other.test'; pass --tls-server-name with a name it carries`,
      ],
      [
        "no client certificate for a server that requires one",
        [
          "--url",
          mutual.url,
          "--cacert",
          certs.ca,
          "--tls-server-name",
          SERVER_NAME,
        ],
        `TLS with '${
          url(mutual)
        }' failed: received fatal alert: CertificateRequired: Vault requires a client certificate: pass --cert and --key`,
      ],
    ];
    for (const [name, args, reason] of refusals) {
      await t.step(`not active: ${name}`, async () => {
        const result = await run([...args, "--json"], { permissions });
        assert.equal(result.code, 1, result.stderr);
        assert.equal(result.stderr, "");
        const report = jsonLine(result);
        assert.equal(report.state, "tls_error");
        assert.equal(report.reason, reason);
      });
    }

    await t.step("not active: a certificate from an unrelated CA", async () => {
      await using stranger = await tlsVault(certs.stranger);
      const result = await checkJson(certs, stranger.url, [
        "--cacert",
        certs.ca,
      ]);
      assert.equal(result.code, 1);
      assert.equal(
        jsonLine(result).reason,
        `TLS with '${
          url(stranger)
        }' failed: invalid peer certificate: UnknownIssuer: Vault's certificate is not signed by the CA given (--cacert '${certs.ca}'): give the CA that signed Vault's certificate`,
      );
      const fromDirectory = await run(
        ["--url", stranger.url, "--json"],
        {
          permissions: tlsPermissions(certs, "VAULT_ADDR,VAULT_CAPATH"),
          env: { VAULT_CAPATH: certs.caDir },
        },
      );
      assert.equal(
        jsonLine(fromDirectory).reason,
        `TLS with '${
          url(stranger)
        }' failed: invalid peer certificate: UnknownIssuer: Vault's certificate is not signed by the CA given (VAULT_CAPATH '${certs.caDir}'): give the CA that signed Vault's certificate`,
      );
      assert.equal(stranger.requests.length, 0);
    });

    await t.step("not active: an expired certificate", async () => {
      await using expired = await tlsVault(certs.expired);
      const result = await checkJson(certs, expired.url, [
        "--cacert",
        certs.ca,
      ]);
      assert.equal(result.code, 1);
      const report = jsonLine(result);
      assert.equal(report.state, "tls_error");
      const reason = String(report.reason);
      assert.ok(
        reason.startsWith(
          `TLS with '${
            url(expired)
          }' failed: invalid peer certificate: certificate expired: `,
        ),
        reason,
      );
      assert.ok(
        reason.endsWith(
          ": Vault's certificate is outside its validity period: renew it (or check this host's clock)",
        ),
        reason,
      );
      assert.equal(expired.requests.length, 0);
    });
  },
);

tlsTest(
  "TLS settings that cannot be used end in one line",
  async (t, certs) => {
    await using vault = await tlsVault(certs.loopback);
    const permissions = tlsPermissions(certs);
    const missing = `${certs.dir}/missing.pem`;
    const empty = `${certs.dir}/empty.d`;
    await Deno.mkdir(empty);
    await Deno.writeTextFile(`${empty}/README`, "no certificate here\n");
    const cases: [
      string,
      string[],
      string[],
      Record<string, string>,
      number,
      string,
    ][] = [
      [
        "--key without --cert",
        ["--url", vault.url, "--key", certs.client.key],
        permissions,
        {},
        2,
        "Option '--key' needs '--cert' with the client certificate it belongs to",
      ],
      [
        "--cert without --key",
        ["--url", vault.url, "--cert", certs.client.cert],
        permissions,
        {},
        2,
        "Option '--cert' needs '--key' with the client certificate's private key",
      ],
      [
        "VAULT_CLIENT_KEY without VAULT_CLIENT_CERT",
        ["--url", vault.url],
        tlsPermissions(certs, "VAULT_CLIENT_CERT,VAULT_CLIENT_KEY"),
        { VAULT_CLIENT_KEY: certs.client.key },
        1,
        "A client key was given (VAULT_CLIENT_KEY) without a client certificate: set both (--cert and --key, or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY) or neither",
      ],
      [
        "a CA file that does not exist",
        ["--url", vault.url, "--cacert", missing],
        permissions,
        {},
        1,
        `Cannot read the CA certificate '${missing}' (from --cacert): it does not exist: check the path and the file's owner and mode`,
      ],
      [
        "a CA file the run may not read",
        ["--url", vault.url, "--cacert", certs.ca],
        ["--no-prompt", "--allow-net"],
        {},
        1,
        `Reading the CA certificate '${certs.ca}' (from --cacert) is not allowed: run with --allow-read=${certs.ca}`,
      ],
      [
        "a client key the run may not read",
        [
          "--url",
          vault.url,
          "--cert",
          certs.client.cert,
          "--key",
          certs.client.key,
        ], // deno-fmt-ignore
        ["--no-prompt", "--allow-net", `--allow-read=${certs.client.cert}`],
        {},
        1,
        `Reading the client key '${certs.client.key}' (from --key) is not allowed: run with --allow-read=${certs.client.key}`,
      ],
      [
        "a CA file that is a key",
        ["--url", vault.url, "--cacert", certs.client.key],
        permissions,
        {},
        1,
        `The CA certificate '${certs.client.key}' (from --cacert) holds no PEM certificate: give the CA certificate in PEM form (a '-----BEGIN CERTIFICATE-----' block)`,
      ],
      [
        "a CA directory without certificates",
        ["--url", vault.url, "--capath", empty],
        permissions,
        {},
        1,
        `The CA directory '${empty}' (from --capath) holds no PEM certificate: put Vault's CA certificate there, or pass --cacert`,
      ],
    ];
    for (const [name, args, grants, env, code, line] of cases) {
      await t.step(name, async () => {
        assertOneLine(
          await run(args, { permissions: grants, env }),
          code,
          line,
        );
      });
    }

    // A pipe or device never ends: reading one would block the run past
    // any deadline. The kill signal only stops a run that hangs.
    const pipe = `${certs.dir}/pipe.pem`;
    const piped = `${certs.dir}/piped.d`;
    await new Deno.Command("mkfifo", { args: [pipe] }).output();
    await Deno.mkdir(piped);
    await Deno.symlink(pipe, `${piped}/ca.pem`);
    for (
      const [name, args, line] of [
        [
          "a CA file that is a pipe",
          ["--url", vault.url, "--cacert", pipe],
          `The CA certificate '${pipe}' (from --cacert) is not a regular file: give the path of the PEM file itself`,
        ],
        [
          "a CA directory whose only entry links to a pipe",
          ["--url", vault.url, "--capath", piped],
          `The CA directory '${piped}' (from --capath) holds no PEM certificate: put Vault's CA certificate there, or pass --cacert`,
        ],
        [
          "a CA file that is a directory",
          ["--url", vault.url, "--cacert", piped],
          `The CA certificate '${piped}' (from --cacert) is not a regular file: give the path of the PEM file itself`,
        ],
      ] as const
    ) {
      await t.step(name, async () => {
        const result = await run(args, {
          permissions,
          signal: AbortSignal.timeout(10_000),
        });
        assertOneLine(result, 1, line);
      });
    }

    await t.step(
      "--json names the target and check of a setup error",
      async () => {
        const result = await checkJson(certs, vault.url, [
          "--cacert",
          missing,
          "--check",
          "both",
        ]);
        assert.equal(result.code, 1);
        const report = jsonLine(result);
        assert.deepEqual(report, {
          program: PROGRAM,
          version: VERSION,
          active: false,
          state: "setup_error",
          reason:
            `Cannot read the CA certificate '${missing}' (from --cacert): it does not exist: check the path and the file's owner and mode`,
          exit: 1,
          target: vault.url,
          target_source: "--url",
          check: "both",
          timeout_ms: 800,
          elapsed_ms: report.elapsed_ms,
          answers: [],
          warnings: [],
        });
      },
    );

    for (const value of ["yes", "on", "TRUE ", "2", "tRUE"]) {
      await t.step(`VAULT_SKIP_VERIFY='${value}' is refused`, async () => {
        const result = await run(["--url", vault.url], {
          permissions: tlsPermissions(certs, "VAULT_SKIP_VERIFY"),
          env: { VAULT_SKIP_VERIFY: value },
        });
        assertOneLine(
          result,
          1,
          `VAULT_SKIP_VERIFY is '${value}', which is neither true nor false: use 1, t, T, TRUE, true or True to skip verification, 0, f, F, FALSE, false or False not to`,
        );
      });
    }
  },
);

tlsTest(
  "skipping verification is warned about and skips only what Deno allows",
  async (t, certs) => {
    await using named = await tlsVault(certs.named);
    const warning =
      "TLS verification is weakened (VAULT_SKIP_VERIFY): the certificate's name is not checked, and its chain is not checked either when Deno runs with --unsafely-ignore-certificate-errors; another service on the target's address could pass for Vault";
    const grants = tlsPermissions(certs, "VAULT_SKIP_VERIFY");

    for (const value of ["1", "t", "T", "TRUE", "true", "True"]) {
      await t.step(
        `VAULT_SKIP_VERIFY=${value} skips the name check`,
        async () => {
          const result = await run(
            ["--url", named.url, "--cacert", certs.ca, "--json"],
            { permissions: grants, env: { VAULT_SKIP_VERIFY: value } },
          );
          assert.equal(result.code, 0, result.stderr);
          assert.deepEqual(jsonLine(result).warnings, [warning]);
        },
      );
    }
    for (const value of ["0", "f", "F", "FALSE", "false", "False"]) {
      await t.step(`VAULT_SKIP_VERIFY=${value} verifies`, async () => {
        const result = await run(
          ["--url", named.url, "--cacert", certs.ca, "--json"],
          { permissions: grants, env: { VAULT_SKIP_VERIFY: value } },
        );
        assert.equal(result.code, 1);
        assert.equal(jsonLine(result).state, "tls_error");
        assert.deepEqual(jsonLine(result).warnings, []);
      });
    }

    await t.step(
      "--tls-skip-verify is warned about under --debug",
      async () => {
        const result = await run(
          [
            "--url",
            named.url,
            "--cacert",
            certs.ca,
            "--tls-skip-verify",
            "--debug",
          ],
          { permissions: tlsPermissions(certs) },
        );
        assert.equal(result.code, 0);
        assert.ok(
          result.stderr.includes(
            `${PROGRAM}: warning: ${
              warning.replace("VAULT_SKIP_VERIFY", "--tls-skip-verify")
            }\n`,
          ),
          result.stderr,
        );
      },
    );

    await t.step(
      "an unknown CA needs Deno's own flag, and the message names it",
      async () => {
        const result = await checkJson(certs, named.url, [
          "--tls-skip-verify",
        ]);
        assert.equal(result.code, 1);
        assert.equal(
          jsonLine(result).reason,
          `TLS with '${named.url}${LEADER_PATH}' failed: invalid peer certificate: UnknownIssuer: --tls-skip-verify skips only the name check; to accept any certificate, run Deno with --unsafely-ignore-certificate-errors=127.0.0.1 (unsafe)`,
        );
        const variable = await run(["--url", named.url, "--json"], {
          permissions: grants,
          env: { VAULT_SKIP_VERIFY: "true" },
        });
        assert.equal(
          jsonLine(variable).reason,
          `TLS with '${named.url}${LEADER_PATH}' failed: invalid peer certificate: UnknownIssuer: VAULT_SKIP_VERIFY=true skips only the name check; to accept any certificate, run Deno with --unsafely-ignore-certificate-errors=127.0.0.1 (unsafe)`,
        );
        const unsafe = await run(["--url", named.url, "--tls-skip-verify"], {
          permissions: [
            ...tlsPermissions(certs),
            "--unsafely-ignore-certificate-errors=127.0.0.1",
          ],
        });
        assert.equal(unsafe.code, 0, unsafe.stderr);
      },
    );
  },
);

tlsTest(
  "over TLS every hostile answer gets the same verdict as over plain HTTP",
  async (t, certs) => {
    await using secure = await tlsVault(certs.loopback);
    await using plain = await startSimulator();
    for (const behaviour of BEHAVIOURS) {
      await t.step(behaviour, async () => {
        const verdicts = [];
        for (const vault of [plain, secure]) {
          vault.set({ behaviour, delayMs: 100 });
          const result = await checkJson(certs, vault.url, [
            "--cacert",
            certs.ca,
            "-t",
            "0.5",
          ]);
          assert.ok(result.elapsedMs < 500 + 1500, `${result.elapsedMs} ms`);
          verdicts.push([result.code, jsonLine(result).state]);
        }
        assert.deepEqual(verdicts[1], verdicts[0]);
      });
    }
  },
);
