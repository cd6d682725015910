import assert from "node:assert/strict";
import { jsonLine, run } from "./support/run.ts";

const TOO_LARGE = (url: string) =>
  `The answer from '${url}' is larger than 65536 bytes: this is not Vault's answer; check what listens at the target`;

const ACTIVE = JSON.stringify({
  ha_enabled: true,
  is_self: true,
  leader_address: "https://127.0.0.1:8200",
});

/**
 * A listener on loopback that answers every request with exactly the bytes
 * given (head and body), then closes the connection.
 */
function serveRaw(head: string, body: Uint8Array) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const answer = new Uint8Array([...new TextEncoder().encode(head), ...body]);
  const serving = (async () => {
    for await (const connection of listener) {
      const buffer = new Uint8Array(4096);
      let request = "";
      while (!request.includes("\r\n\r\n")) {
        const read = await connection.read(buffer);
        if (read === null) break;
        request += new TextDecoder().decode(buffer.subarray(0, read));
      }
      let written = 0;
      while (written < answer.length) {
        written += await connection.write(answer.subarray(written));
      }
      connection.close();
    }
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    async [Symbol.asyncDispose]() {
      listener.close();
      await serving.catch(() => {});
    },
  };
}

/** A 200 head with the given length, content type and extra headers. */
function head(length: number, extra = ""): string {
  return "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" +
    `content-length: ${length}\r\n${extra}connection: close\r\n\r\n`;
}

/** The active answer padded with spaces to exactly `size` bytes. */
function paddedActive(size: number): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(ACTIVE.padEnd(size, " "));
}

Deno.test("a body of exactly the cap is read and believed", async () => {
  const body = paddedActive(65536);
  await using server = serveRaw(head(body.length), body);
  const result = await run(["--url", server.url, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(jsonLine(result).state, "active");
});

Deno.test("a body declared one byte over the cap is too large", async () => {
  const body = paddedActive(65537);
  await using server = serveRaw(head(body.length), body);
  const result = await run(["--url", server.url, "--json"]);
  const report = jsonLine(result);
  assert.equal(result.code, 1);
  assert.equal(report.state, "too_large");
  assert.equal(report.reason, TOO_LARGE(`${server.url}/v1/sys/leader`));
});

Deno.test("a compressed body that inflates past the cap is too large, whatever its declared length", async () => {
  // fetch decompresses gzip by itself, so the declared length is that of
  // the compressed bytes: about 1 KB here for 1 MB of answer.
  const inflated = paddedActive(1024 * 1024);
  const compressed = new Uint8Array(
    await new Response(
      new Blob([inflated]).stream().pipeThrough(
        new CompressionStream("gzip"),
      ),
    ).arrayBuffer(),
  );
  assert.ok(compressed.length < 65536);
  await using server = serveRaw(
    head(compressed.length, "content-encoding: gzip\r\n"),
    compressed,
  );
  const result = await run(["--url", server.url, "--json"]);
  const report = jsonLine(result);
  assert.equal(result.code, 1);
  assert.equal(report.state, "too_large");
  assert.equal(report.reason, TOO_LARGE(`${server.url}/v1/sys/leader`));
});
