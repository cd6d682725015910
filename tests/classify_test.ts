import assert from "node:assert/strict";
import { classify } from "../lib/probe.ts";
import type { Target } from "../lib/target.ts";

function target(base: string): Target {
  return {
    address: base,
    source: "--url",
    scheme: "http",
    hostname: "127.0.0.1",
    port: 8200,
    base,
  };
}

Deno.test("classify goes by the runtime's words, not by words in the URL", () => {
  const live = new AbortController().signal;
  for (
    const base of [
      "http://127.0.0.1:8200/tls",
      "http://127.0.0.1:8200/certificate",
      "http://127.0.0.1:8200/handshake",
    ]
  ) {
    const url = `${base}/v1/sys/leader`;
    const error = new TypeError(
      `error sending request for url (${url}): client error (SendRequest): invalid HTTP version parsed`,
    );
    assert.equal(
      classify(error, url, target(base), live, 800).kind,
      "malformed",
      base,
    );
  }

  const base = "http://127.0.0.1:8200/tls";
  const url = `${base}/v1/sys/leader`;
  const tls = new TypeError(
    `error sending request for url (${url}): invalid peer certificate: UnknownIssuer`,
  );
  assert.equal(classify(tls, url, target(base), live, 800).kind, "tls_error");
});

Deno.test("classify names an answer fetch cannot parse as HTTP malformed", () => {
  const live = new AbortController().signal;
  const base = "http://127.0.0.1:8200";
  const url = `${base}/v1/sys/leader`;
  for (
    const words of [
      "invalid HTTP version parsed",
      "invalid HTTP status-code parsed",
      "invalid HTTP header parsed",
      "received unexpected message from connection",
    ]
  ) {
    const error = new TypeError("fetch failed", {
      cause: new Error(
        `error sending request for url (${url}): client error (SendRequest): ${words}`,
      ),
    });
    assert.deepEqual(classify(error, url, target(base), live, 800), {
      kind: "malformed",
      message:
        `'${url}' answered something that is not HTTP/1.1 as Vault speaks it (${words}): check what listens at the target`,
    });
  }
});

Deno.test("classify names Deno's own CA variables when they fail", () => {
  const live = new AbortController().signal;
  const base = "http://127.0.0.1:8200";
  const url = `${base}/v1/sys/leader`;
  const cases: [string, string | undefined, string][] = [
    [
      "Failed opening CA file: No such file or directory (os error 2)",
      undefined,
      "Deno cannot open the CA file that DENO_CERT names (Failed opening CA file: No such file or directory (os error 2)): remove DENO_CERT from keepalived's environment and give the CA with --cacert",
    ],
    [
      "Unable to add pem file to certificate store: Is a directory (os error 21)",
      undefined,
      "Deno cannot load the CA file that DENO_CERT names (Unable to add pem file to certificate store: Is a directory (os error 21)): remove DENO_CERT from keepalived's environment and give the CA with --cacert",
    ],
    [
      "Unable to add pem file to certificate store: InvalidByte(9, 33)",
      "--cacert '/etc/vault/ca.pem'",
      "Deno cannot load the CA file that DENO_CERT names (Unable to add pem file to certificate store: InvalidByte(9, 33)): remove DENO_CERT from keepalived's environment; if it is not set, check the CA given (--cacert '/etc/vault/ca.pem')",
    ],
    [
      'Unknown certificate store "foo" specified (allowed: "system,mozilla")',
      undefined,
      `DENO_TLS_CA_STORE names a store Deno does not know (Unknown certificate store "foo" specified (allowed: "system,mozilla")): remove DENO_TLS_CA_STORE from keepalived's environment and give the CA with --cacert`,
    ],
    [
      "Failed to load platform certificates: No such file or directory (os error 2)",
      undefined,
      "Deno cannot load the system's CAs that DENO_TLS_CA_STORE=system asks for (Failed to load platform certificates: No such file or directory (os error 2)): remove DENO_TLS_CA_STORE (and SSL_CERT_FILE, SSL_CERT_DIR) from keepalived's environment and give the CA with --cacert",
    ],
  ];
  for (const [words, caSource, reason] of cases) {
    const failure = classify(
      new Error(words),
      url,
      target(base),
      live,
      800,
      caSource,
    );
    assert.deepEqual(failure, {
      kind: "tls_error",
      message: `Request to '${url}' not sent: ${reason}`,
    });
  }
});
