import assert from "node:assert/strict";
import {
  MalformedAnswer,
  MAX_HEAD_BYTES,
  readAnswer,
} from "../lib/http1_reader.ts";

const encoder = new TextEncoder();

/**
 * A connection that answers every read at once, as a TLS stream with
 * buffered plaintext does: `head` first, then `repeat` over and over until
 * `stopAfter` bytes were served, then end of stream. It counts what it
 * served.
 */
function endlessConnection(head: string, repeat: string, stopAfter: number) {
  const first = encoder.encode(head);
  const again = encoder.encode(repeat.repeat(512));
  const state = { served: 0 };
  const connection = {
    read(buffer: Uint8Array): Promise<number | null> {
      if (state.served >= stopAfter) return Promise.resolve(null);
      const source = state.served < first.length
        ? first.subarray(state.served)
        : again;
      const count = Math.min(buffer.length, source.length);
      buffer.set(source.subarray(0, count));
      state.served += count;
      return Promise.resolve(count);
    },
  } as unknown as Deno.Conn;
  return { connection, state };
}

// Reads that always succeed at once never let a timer run, so neither the
// deadline nor the guard can stop a reader that keeps going: it must stop
// on its own, after reading little more than a Vault answer can be.
const FAR_MORE_THAN_AN_ANSWER = 8 * 1024 * 1024;
const MAX_BODY = 64 * 1024;
const READ_AT_MOST = 2 * (MAX_HEAD_BYTES + MAX_BODY);

for (
  const [name, head, repeat] of [
    ["endless interim 1xx answers", "", "HTTP/1.1 100 Continue\r\n\r\n"],
    [
      "endless trailer lines",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
      "X-Trailer: y\r\n",
    ],
    [
      "endless chunks with long extensions",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
      `1;${"e".repeat(1000)}\r\nx\r\n`,
    ],
  ]
) {
  Deno.test(`readAnswer stops reading ${name}`, async () => {
    const { connection, state } = endlessConnection(
      head as string,
      repeat as string,
      FAR_MORE_THAN_AN_ANSWER,
    );
    await assert.rejects(
      readAnswer(connection, MAX_BODY),
      (error: unknown) =>
        error instanceof MalformedAnswer &&
        error.message ===
          `the answer is longer than ${READ_AT_MOST} bytes, far more than Vault sends`,
    );
    assert.ok(
      state.served <= READ_AT_MOST + 16 * 1024,
      `read ${state.served} bytes`,
    );
  });
}

Deno.test("readAnswer still reads a body of the largest size allowed", async () => {
  const body = `{"ha_enabled":true,"is_self":true}`.padEnd(MAX_BODY, " ");
  const { connection } = endlessConnection(
    `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    "",
    Infinity,
  );
  const answer = await readAnswer(connection, MAX_BODY);
  assert.equal(answer.status, 200);
  assert.equal(answer.body?.length, MAX_BODY);
});

for (
  const [name, head] of [
    [
      "a newline inside a header value",
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\nSecond: line\r\nContent-Length: 2\r\n\r\n{}",
    ],
    [
      "a colour code inside a header value",
      "HTTP/1.1 200 OK\r\nContent-Type: \x1b[31mred\r\nContent-Length: 2\r\n\r\n{}",
    ],
    [
      "a colour code in the reason phrase",
      "HTTP/1.1 200 \x1b[2JOK\r\nContent-Length: 2\r\n\r\n{}",
    ],
  ]
) {
  Deno.test(`readAnswer refuses ${name}`, async () => {
    const { connection } = endlessConnection(head as string, "", Infinity);
    await assert.rejects(
      readAnswer(connection, MAX_BODY),
      (error: unknown) =>
        error instanceof MalformedAnswer &&
        /control characters|does not start with an HTTP\/1\.1 status line/
          .test(error.message),
    );
  });
}

for (
  const [name, head, message] of [
    [
      "a length list whose lengths differ",
      'HTTP/1.1 200 OK\r\nContent-Length: 2, 40\r\n\r\n{}{"ha_enabled":true,"is_self":true}',
      "the answer carries two different lengths",
    ],
    [
      "a length together with a chunked coding",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
      "the answer carries both a length and a transfer coding",
    ],
  ]
) {
  Deno.test(`readAnswer refuses ${name}`, async () => {
    const { connection } = endlessConnection(head as string, "", Infinity);
    await assert.rejects(
      readAnswer(connection, MAX_BODY),
      (error: unknown) =>
        error instanceof MalformedAnswer && error.message === message,
    );
  });
}

Deno.test("readAnswer accepts a length list whose lengths agree", async () => {
  const { connection } = endlessConnection(
    "HTTP/1.1 200 OK\r\nContent-Length: 2,2\r\n\r\n{}",
    "",
    Infinity,
  );
  const answer = await readAnswer(connection, MAX_BODY);
  assert.equal(new TextDecoder().decode(answer.body), "{}");
});
