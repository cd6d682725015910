import assert from "node:assert/strict";
import { LEADER_PATH, startSimulator } from "./support/simulator.ts";
import { jsonLine, run, type RunResult } from "./support/run.ts";
import {
  assertOneLine,
  checkJson,
  tlsPermissions,
  tlsTest,
  tlsVault,
} from "./support/tls.ts";

const ABRUPT = new URL("./support/abrupt_tls_main.ts", import.meta.url)
  .pathname;

/** The run's `--json` state and reason. */
function verdict(result: RunResult): [unknown, unknown] {
  const report = jsonLine(result);
  return [report.state, report.reason];
}

async function openssl(args: string[]): Promise<void> {
  const output = await new Deno.Command("openssl", {
    args,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
}

/**
 * Answers each connection with `answer` once the request came, or at once
 * when `first` (as a server of another protocol greets), then waits for the
 * client to hang up; disposing of it closes `listener` and waits for the
 * last connection.
 */
function rawServer(
  listener: Deno.Listener,
  answer: string,
  first = false,
): AsyncDisposable {
  const serving = (async () => {
    for await (const connection of listener) {
      const buffer = new Uint8Array(16 * 1024);
      try {
        if (!first) await connection.read(buffer);
        await connection.write(new TextEncoder().encode(answer));
        while (await connection.read(buffer) !== null);
      } catch {
        // The check hung up first.
      }
      connection.close();
    }
  })();
  return {
    async [Symbol.asyncDispose]() {
      listener.close();
      await serving.catch(() => {});
    },
  };
}

tlsTest(
  "a broken CA, client certificate or key is named with its source",
  async (t, certs) => {
    await using vault = await tlsVault(certs.loopback);
    const url = ["--url", vault.url];
    const ca = await Deno.readTextFile(certs.ca);
    const lines = ca.split("\n");

    // A character base64 does not have, where an editor or a paste went
    // wrong; a file cut short; a CA directory with one such file.
    const badByte = `${certs.dir}/bad-byte.pem`;
    await Deno.writeTextFile(
      badByte,
      [lines[0], "MIIB!" + lines[1]!.slice(5), ...lines.slice(2)].join("\n"),
    );
    const cut = `${certs.dir}/cut.pem`;
    await Deno.writeTextFile(cut, lines.slice(0, 4).join("\n") + "\n");
    const bundle = `${certs.dir}/bundle.pem`;
    await Deno.writeTextFile(bundle, ca + (await Deno.readTextFile(badByte)));
    const directory = `${certs.dir}/broken.d`;
    await Deno.mkdir(directory);
    await Deno.copyFile(certs.ca, `${directory}/a-good.pem`);
    await Deno.copyFile(badByte, `${directory}/b-bad.pem`);
    const lastLine = ca.trimEnd().split("\n").length;

    const cases: [string, string[], Record<string, string>, string][] = [
      [
        "--cacert with a byte that is not base64",
        ["--cacert", badByte],
        {},
        `The CA certificate '${badByte}' (from --cacert) is not valid PEM: the 'CERTIFICATE' block from line 1 is not valid base64: give a valid PEM CA certificate`,
      ],
      [
        "VAULT_CACERT cut short",
        [],
        { VAULT_CACERT: cut },
        `The CA certificate '${cut}' (from VAULT_CACERT) is not valid PEM: the 'CERTIFICATE' block from line 1 has no '-----END CERTIFICATE-----' line: give a valid PEM CA certificate`,
      ],
      [
        "BAO_CACERT, a bundle whose second certificate is broken",
        [],
        { BAO_CACERT: bundle },
        `The CA certificate '${bundle}' (from BAO_CACERT) is not valid PEM: the 'CERTIFICATE' block from line ${
          lastLine + 1
        } is not valid base64: give a valid PEM CA certificate`,
      ],
      [
        "one broken file in --capath fails the check",
        ["--capath", directory],
        {},
        `The CA file '${directory}/b-bad.pem' in the CA directory '${directory}' (from --capath) is not valid PEM: the 'CERTIFICATE' block from line 1 is not valid base64: replace it with a valid PEM CA certificate or remove it (one broken file fails the check, as it fails the Vault CLI)`,
      ],
      [
        "a client certificate with a byte that is not base64",
        ["--cacert", certs.ca, "--cert", badByte, "--key", certs.client.key],
        {},
        `The client certificate '${badByte}' (from --cert) is not valid PEM: the 'CERTIFICATE' block from line 1 is not valid base64: give a valid PEM client certificate`,
      ],
    ];
    for (const [name, args, env, line] of cases) {
      await t.step(name, async () => {
        const result = await run([...url, ...args], {
          permissions: tlsPermissions(
            certs,
            "VAULT_ADDR,VAULT_CACERT,BAO_CACERT",
          ),
          env,
        });
        assertOneLine(result, 1, line);
      });
    }

    for (
      const [kind, command] of [
        ["PKCS#8", ["pkey", "-aes256"]],
        ["traditional", ["ec", "-aes256"]],
      ] as const
    ) {
      await t.step(`an encrypted client key (${kind})`, async () => {
        const encrypted = `${certs.dir}/encrypted-${command[0]}.key`;
        await openssl([
          ...command,
          "-in",
          certs.client.key,
          "-passout",
          "pass:secret",
          "-out",
          encrypted,
        ]);
        const result = await run(
          [
            ...url,
            "--cacert",
            certs.ca,
            "--cert",
            certs.client.cert,
            "--key",
            encrypted,
          ],
          { permissions: tlsPermissions(certs) },
        );
        assertOneLine(
          result,
          1,
          `The client key '${encrypted}' (from --key) is encrypted, and the check cannot ask for its passphrase: give an unencrypted PEM private key matching the client certificate (--cert '${certs.client.cert}'), e.g. from 'openssl pkey -in ${encrypted} -out NEW.key'`,
        );
      });
    }

    await t.step("a client key of another certificate", async () => {
      const json = await run(["--json"], {
        permissions: tlsPermissions(
          certs,
          "VAULT_ADDR,VAULT_CACERT,VAULT_CLIENT_CERT,VAULT_CLIENT_KEY",
        ),
        env: {
          VAULT_ADDR: vault.url,
          VAULT_CACERT: certs.ca,
          VAULT_CLIENT_CERT: certs.client.cert,
          VAULT_CLIENT_KEY: certs.named.key,
        },
      });
      assert.equal(json.code, 1);
      assert.deepEqual(verdict(json), [
        "tls_error",
        `TLS with '${vault.url}${LEADER_PATH}' not attempted: the client key (VAULT_CLIENT_KEY '${certs.named.key}') does not belong to the client certificate (VAULT_CLIENT_CERT '${certs.client.cert}'): give the unencrypted PEM private key (PKCS#8, RSA or EC) of the client certificate`,
      ]);
      assert.equal(vault.requests.length, 0);
    });
  },
);

tlsTest(
  "TLS failures get the hint that fits: a chain too large, a CA that does not parse, a target without TLS",
  async (t, certs) => {
    const ca = await Deno.readTextFile(certs.ca);

    await t.step("a chain over 64 KiB", async () => {
      // About 150 KiB: the certificate and the CA many times over.
      const chain = (await Deno.readTextFile(certs.loopback.cert)) +
        ca.repeat(250);
      await using vault = await startSimulator({
        cert: chain,
        key: await Deno.readTextFile(certs.loopback.key),
      });
      const result = await checkJson(certs, vault.url, [
        "--cacert",
        certs.ca,
      ]);
      assert.equal(result.code, 1);
      assert.deepEqual(verdict(result), [
        "tls_error",
        `TLS with '${vault.url}${LEADER_PATH}' failed: received corrupt message of type HandshakePayloadTooLarge: Vault's certificate chain is larger than a TLS handshake message may be (64 KiB): serve only Vault's certificate and its intermediate CAs in the listener's tls_cert_file`,
      ]);
    });

    await t.step("a CA whose certificate does not parse", async () => {
      const der = Uint8Array.from(
        atob(ca.split("\n").slice(1, -2).join("")),
        (char) => char.charCodeAt(0),
      );
      // The version's tag and a byte of the serial number: the outer
      // lengths still add up, so only the handshake finds it.
      der[10] = (der[10] as number) ^ 0xff;
      der[30] = (der[30] as number) ^ 0xff;
      const damaged = `${certs.dir}/damaged.pem`;
      await Deno.writeTextFile(
        damaged,
        `-----BEGIN CERTIFICATE-----\n${
          btoa(String.fromCharCode(...der))
        }\n-----END CERTIFICATE-----\n`,
      );
      await using vault = await tlsVault(certs.loopback);
      const result = await checkJson(certs, vault.url, [
        "--cacert",
        damaged,
      ]);
      assert.equal(result.code, 1);
      assert.deepEqual(verdict(result), [
        "tls_error",
        `TLS with '${vault.url}${LEADER_PATH}' failed: invalid peer certificate: BadEncoding: a certificate cannot be parsed, Vault's or the CA given (--cacert '${damaged}'): check it with 'openssl x509 -noout -text -in FILE'`,
      ]);
    });

    await t.step("a target that answers in plain HTTP", async () => {
      using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      await using _server = rawServer(
        listener,
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n",
      );
      const url = `https://127.0.0.1:${listener.addr.port}`;
      const result = await checkJson(certs, url, ["--cacert", certs.ca]);
      assert.equal(result.code, 1);
      assert.deepEqual(verdict(result), [
        "tls_error",
        `TLS with '${url}${LEADER_PATH}' failed: received corrupt message of type InvalidContentType: the target does not speak TLS; use an http:// address if Vault's listener has tls_disable`,
      ]);
    });
  },
);

tlsTest(
  "an answer cut off without TLS close_notify is incomplete",
  async (_t, certs) => {
    const server = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--allow-net=127.0.0.1",
        `--allow-read=${certs.dir}`,
        ABRUPT,
        certs.loopback.cert,
        certs.loopback.key,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = server.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let ready = "";
    while (!ready.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) break;
      ready += value;
    }
    const port = /^ready (\d+)$/m.exec(ready)?.[1];
    assert.ok(port, ready);

    const url = `https://127.0.0.1:${port}`;
    const result = await checkJson(certs, url, ["--cacert", certs.ca]);
    await reader.cancel();
    const status = await server.status;
    assert.equal(status.code, 0);
    assert.equal(result.code, 1);
    assert.deepEqual(verdict(result), [
      "incomplete",
      `The connection to '${url}${LEADER_PATH}' closed before a complete answer (without TLS close_notify): Vault may be restarting, or something other than Vault listens at the target`,
    ]);
  },
);

tlsTest(
  "DENO_CERT and DENO_TLS_CA_STORE that Deno cannot use are named",
  async (t, certs) => {
    await using secure = await tlsVault(certs.loopback);
    await using plain = await startSimulator();
    const missing = `${certs.dir}/missing.pem`;

    const cases: [string, Record<string, string>, string[], string][] = [
      [
        "DENO_CERT naming no file",
        { DENO_CERT: missing },
        [],
        "Deno cannot open the CA file that DENO_CERT names (Failed opening CA file: No such file or directory (os error 2)): remove DENO_CERT from keepalived's environment and give the CA with --cacert",
      ],
      [
        "DENO_CERT naming a directory",
        { DENO_CERT: certs.caDir },
        [],
        "Deno cannot load the CA file that DENO_CERT names (Unable to add pem file to certificate store: Is a directory (os error 21)): remove DENO_CERT from keepalived's environment and give the CA with --cacert",
      ],
      [
        "DENO_CERT naming a directory, with a good --cacert",
        { DENO_CERT: certs.caDir },
        ["--cacert", certs.ca],
        `Deno cannot load the CA file that DENO_CERT names (Unable to add pem file to certificate store: Is a directory (os error 21)): remove DENO_CERT from keepalived's environment; if it is not set, check the CA given (--cacert '${certs.ca}')`,
      ],
      [
        "DENO_TLS_CA_STORE naming an unknown store",
        { DENO_TLS_CA_STORE: "company" },
        [],
        `DENO_TLS_CA_STORE names a store Deno does not know (Unknown certificate store "company" specified (allowed: "system,mozilla")): remove DENO_TLS_CA_STORE from keepalived's environment and give the CA with --cacert`,
      ],
    ];
    for (const [name, env, args, reason] of cases) {
      for (const vault of [secure, plain]) {
        const scheme = new URL(vault.url).protocol.slice(0, -1);
        if (scheme === "http" && args.length > 0) continue;
        await t.step(`${name}, ${scheme}`, async () => {
          const result = await checkJson(certs, vault.url, args, env);
          assert.equal(result.code, 1);
          assert.deepEqual(verdict(result), [
            "tls_error",
            `Request to '${vault.url}${LEADER_PATH}' not sent: ${reason}`,
          ]);
        });
      }
    }
  },
);

Deno.test("an answer that is not HTTP/1.1 is malformed, not unreachable", async (t) => {
  const zeroNine = '{"ha_enabled":true,"is_self":true}';
  const badHeader = "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n";

  const dir = await Deno.makeTempDir({ prefix: "vault-ha-garbage-" });
  const direct: [string, string, boolean, string][] = [
    [
      "HTTP/0.9 (a body without a head)",
      zeroNine,
      false,
      `the answer does not start with an HTTP/1.1 status line ('${zeroNine}')`,
    ],
    [
      "another protocol that speaks first",
      "SSH-2.0-OpenSSH_9.2\r\n",
      true,
      "the answer does not start with an HTTP/1.1 status line ('SSH-2.0-OpenSSH_9.2 ')",
    ],
    [
      "a header line without a colon",
      badHeader,
      false,
      "a header line is malformed ('no colon here')",
    ],
  ];
  for (const [index, [name, answer, first, detail]] of direct.entries()) {
    const socket = `${dir}/vault-${index}.sock`;
    await t.step(`over a unix socket: ${name}`, async () => {
      using listener = Deno.listen({ transport: "unix", path: socket });
      await using _server = rawServer(listener, answer, first);
      const result = await run(["--url", `unix://${socket}`, "--json"], {
        permissions: [
          "--no-prompt",
          `--allow-read=${socket}`,
          `--allow-write=${socket}`,
          `--allow-net=unix:${socket}`,
        ],
      });
      assert.equal(result.code, 1);
      assert.deepEqual(verdict(result), [
        "malformed",
        `'unix://${socket}${LEADER_PATH}' answered something that is not HTTP/1.1 as Vault speaks it (${detail}): check what listens at the target`,
      ]);
    });
  }
  await Deno.remove(dir, { recursive: true });

  const fetched: [string, string, string][] = [
    [
      "HTTP/0.9 (a body without a head)",
      zeroNine,
      "invalid HTTP version parsed",
    ],
    ["a header line without a colon", badHeader, "invalid HTTP header parsed"],
  ];
  for (const [name, answer, words] of fetched) {
    await t.step(`over plain HTTP: ${name}`, async () => {
      using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      await using _server = rawServer(listener, answer);
      const url = `http://127.0.0.1:${listener.addr.port}`;
      const result = await run(["--url", url, "--json"]);
      assert.equal(result.code, 1);
      assert.deepEqual(verdict(result), [
        "malformed",
        `'${url}${LEADER_PATH}' answered something that is not HTTP/1.1 as Vault speaks it (${words}): check what listens at the target`,
      ]);
    });
  }
});
