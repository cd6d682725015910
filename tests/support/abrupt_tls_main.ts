/**
 * A TLS server that sends the start of an answer and then dies, so the
 * connection ends without TLS close_notify, as when Vault's process is
 * killed mid-answer. A closed `Deno.listenTls` connection always sends
 * close_notify, hence a process of its own.
 *
 * ```sh
 * deno run --allow-net --allow-read tests/support/abrupt_tls_main.ts CERT KEY
 * ```
 *
 * Prints `ready <port>`, answers one request with a head promising 100
 * bytes and 14 of them, then exits.
 */

const [cert, key] = Deno.args;
if (cert === undefined || key === undefined) {
  throw new TypeError("Usage: abrupt_tls_main.ts CERT KEY");
}
const listener = Deno.listenTls({
  hostname: "127.0.0.1",
  port: 0,
  cert: Deno.readTextFileSync(cert),
  key: Deno.readTextFileSync(key),
});
// deno-lint-ignore no-console
console.log(`ready ${listener.addr.port}`);

const connection = await listener.accept();
await connection.read(new Uint8Array(16 * 1024));
await connection.write(
  new TextEncoder().encode(
    'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ha_enabled":',
  ),
);
// Exiting closes the socket without close_notify.
Deno.exit(0);
