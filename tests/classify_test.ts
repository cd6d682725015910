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
      "unreachable",
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
