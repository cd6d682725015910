/**
 * A TLS listener that demands a client certificate signed by a given CA.
 * `Deno.listenTls` cannot ask for client certificates, so this one uses
 * `node:tls` and hands each connection over as a {@linkcode Wire}.
 */

import tls from "node:tls";
import type { Wire } from "./simulator_wire.ts";

/** Accepts connections until closed. */
export interface Acceptor {
  /** The TCP port listened on. */
  readonly port: number;
  /** The next connection; rejects once the acceptor is closed. */
  accept(): Promise<Wire>;
  /** Stops listening; resolves once every connection has ended too. */
  close(): Promise<void>;
}

/** Where and with which keys to listen for mutual TLS. */
export interface MutualTlsOptions {
  readonly hostname: string;
  readonly port: number;
  readonly cert: string;
  readonly key: string;
  readonly caCert: string;
}

/** Listens for TLS connections whose client presents a certificate of `caCert`. */
export async function listenMutualTls(
  options: MutualTlsOptions,
): Promise<Acceptor> {
  const server = tls.createServer({
    cert: options.cert,
    key: options.key,
    ca: options.caCert,
    requestCert: true,
    rejectUnauthorized: true,
  });
  const queue = new ConnectionQueue();
  server.on("secureConnection", (socket) => queue.push(new SocketWire(socket)));
  // A client without a valid certificate fails its handshake: nothing to do.
  server.on("tlsClientError", () => {});

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null
    ? address.port
    : options.port;

  return {
    port,
    accept: () => queue.shift(),
    close: () => {
      const closed = new Promise<void>((resolve) =>
        server.close(() => resolve())
      );
      queue.close();
      return closed;
    },
  };
}

class ConnectionQueue {
  #waiting: Wire[] = [];
  #takers: { resolve(wire: Wire): void; reject(reason: Error): void }[] = [];
  #closed = false;

  push(wire: Wire): void {
    const taker = this.#takers.shift();
    if (this.#closed) wire.close();
    else if (taker === undefined) this.#waiting.push(wire);
    else taker.resolve(wire);
  }

  shift(): Promise<Wire> {
    const wire = this.#waiting.shift();
    if (wire !== undefined) return Promise.resolve(wire);
    if (this.#closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.#takers.push({ resolve, reject });
    });
  }

  close(): void {
    this.#closed = true;
    for (const wire of this.#waiting.splice(0)) wire.close();
    for (const taker of this.#takers.splice(0)) taker.reject(closedError());
  }
}

class SocketWire implements Wire {
  #socket: tls.TLSSocket;
  #received: Uint8Array[] = [];
  #ended = false;
  #wake: () => void = () => {};
  #failWrites = new Set<(reason: Error) => void>();

  constructor(socket: tls.TLSSocket) {
    this.#socket = socket;
    socket.on("data", (bytes: Uint8Array) => {
      this.#received.push(bytes);
      this.#wake();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.#ended = true;
      this.#wake();
      for (const fail of this.#failWrites) fail(closedError());
    });
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#received.length === 0 && !this.#ended) {
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const first = this.#received.shift();
    if (first === undefined) return null;

    const count = Math.min(first.length, buffer.length);
    buffer.set(first.subarray(0, count));
    if (count < first.length) this.#received.unshift(first.subarray(count));
    return count;
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#ended) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.#failWrites.add(reject);
      this.#socket.write(bytes, (error) => {
        this.#failWrites.delete(reject);
        if (error) reject(error);
        else resolve(bytes.length);
      });
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

function closedError(): Error {
  return new Deno.errors.BadResource("Connection closed");
}
