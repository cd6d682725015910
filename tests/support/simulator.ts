/**
 * A simulated Vault or OpenBao node for tests: it answers `/v1/sys/leader`
 * and `/v1/sys/health` exactly as the reference answers in the fixture say,
 * can misbehave on purpose, and records every request it receives.
 *
 * @example
 * ```ts
 * const vault = await startSimulator({ state: "standby" });
 * const answer = await fetch(`${vault.url}/v1/sys/leader`);
 * await answer.body?.cancel();
 * vault.set({ behaviour: "hang" });
 * await vault.close();
 * ```
 */

import { fixtureEntry, type Product } from "./fixture.ts";
import {
  answer,
  LEADER_PATH,
  nodeState,
  type NodeStateName,
} from "./simulator_states.ts";
import {
  chunk,
  closeQuietly,
  removeSocket,
  RequestReader,
  responseHead,
  type Wire,
  type WireRequest,
  type WireResponse,
  writeAll,
  writeResponse,
} from "./simulator_wire.ts";
import { type Acceptor, listenMutualTls } from "./simulator_mutual_tls.ts";

export { FIXTURE, type FixtureEntry, type Product } from "./fixture.ts";
export {
  HEALTH_PATH,
  LEADER_PATH,
  NODE_STATES,
  type NodeState,
  type NodeStateName,
} from "./simulator_states.ts";

/**
 * Every way the simulator can answer. `normal` answers the node state;
 * `slow` does too, after `delayMs`. The others misbehave on every path:
 *
 * - `hang`: accepts the connection and reads the request, never answers
 * - `stall_body`: sends the head and half the body of a 200 JSON answer
 * - `close_mid_headers`: sends part of the head, then closes
 * - `close_mid_body`: promises more body than it sends, then closes
 * - `endless_body`: a chunked 200 body that never ends (stops after
 *   {@linkcode ENDLESS_BODY_MS})
 * - `huge_body`: a valid 200 JSON body of {@linkcode HUGE_BODY_BYTES}
 * - `not_json`: a 200 HTML page
 * - `wrong_types`: a 200 active answer with `"true"` strings for booleans
 * - `array_body`: 200 `[true]`
 * - `redirect`: 307 to `location`
 * - `empty_body`: 200 JSON with no body
 */
export const BEHAVIOURS = [
  "normal",
  "slow",
  "hang",
  "stall_body",
  "close_mid_headers",
  "close_mid_body",
  "endless_body",
  "huge_body",
  "not_json",
  "wrong_types",
  "array_body",
  "redirect",
  "empty_body",
] as const;

/** One of {@linkcode BEHAVIOURS}. */
export type Behaviour = typeof BEHAVIOURS[number];

/** How long `endless_body` keeps writing before it closes by itself. */
export const ENDLESS_BODY_MS = 30_000;

/** The size of the `huge_body` answer, at least. */
export const HUGE_BODY_BYTES = 8 * 1024 * 1024;

/** The delay of `slow` when none is given. */
export const DEFAULT_DELAY_MS = 2_000;

/** What the simulator currently answers. */
export interface SimulatorSettings {
  readonly product: Product;
  readonly state: NodeStateName;
  readonly behaviour: Behaviour;
  /** The delay of `slow`, in milliseconds. */
  readonly delayMs: number;
  /** Where `redirect` points; by default back at this simulator's leader. */
  readonly location: string;
}

/**
 * A change of settings. Product, state, delay and location persist until
 * changed; the behaviour does not: a change without one returns to
 * `normal`, so `set({ state: "sealed" })` always answers as a sealed node.
 */
export type SimulatorChange = Partial<SimulatorSettings>;

/** A request as the simulator received it. */
export interface RecordedRequest {
  readonly method: string;
  /** The path as sent, without the query. */
  readonly path: string;
  /** The query as sent, without `?`; empty when there is none. */
  readonly query: string;
  /** Every header, names lower-cased; repeated ones joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** When the request head was complete, in milliseconds since the epoch. */
  readonly receivedAt: number;
}

/**
 * Where to listen: TCP on `hostname` (default `127.0.0.1`) and `port`
 * (default 0, any free port), or a unix socket at `path`. With `cert` and
 * `key` (PEM) it speaks TLS over TCP; with `requireClientCert` it also
 * refuses clients without a certificate signed by `caCert`.
 */
export interface ListenOptions {
  readonly hostname?: string;
  readonly port?: number;
  readonly path?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly requireClientCert?: boolean;
  readonly caCert?: string;
}

/** A running simulated node. */
export interface Simulator extends AsyncDisposable {
  /** `http://` or `https://` host and port, or `unix://` and the path. */
  readonly url: string;
  /** Every request received so far, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** The current settings. */
  readonly settings: SimulatorSettings;
  /**
   * Changes what the simulator answers from the next request on.
   *
   * @throws {RangeError} for an unknown state, behaviour or a bad delay
   */
  set(change: SimulatorChange): SimulatorSettings;
  /** Forgets the recorded requests. */
  clearRequests(): void;
  /**
   * Resolves with the next request once its head has arrived, before it
   * is answered; rejects if the simulator closes first.
   */
  nextRequest(): Promise<RecordedRequest>;
  /** Stops listening and closes every connection, hanging ones included. */
  close(): Promise<void>;
}

/**
 * Starts a simulated node, by default an active Vault on a free loopback
 * port answering normally.
 *
 * @throws {RangeError} for an unknown state, behaviour or a bad delay
 * @throws {TypeError} for `requireClientCert` without `cert`, `key` and
 * `caCert`
 */
export async function startSimulator(
  options: ListenOptions & SimulatorChange = {},
): Promise<Simulator> {
  const listening = await listen(options);
  const node = new SimulatedNode(listening.acceptor, listening.url);
  try {
    node.set({
      location: `${listening.redirectBase}${LEADER_PATH}`,
      ...options,
    });
  } catch (error) {
    await listening.acceptor.close();
    throw error;
  }
  node.start();
  return node;
}

async function listen(
  options: ListenOptions,
): Promise<{ acceptor: Acceptor; url: string; redirectBase: string }> {
  if (options.path !== undefined) {
    const listener = Deno.listen({ transport: "unix", path: options.path });
    const path = options.path;
    const acceptor = denoAcceptor(listener, 0, () => removeSocket(path));
    return { acceptor, url: `unix://${path}`, redirectBase: "" };
  }

  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const acceptor = await tcpAcceptor(hostname, port, options);
  const scheme = options.cert === undefined ? "http" : "https";
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `${scheme}://${host}:${acceptor.port}`;
  return { acceptor, url, redirectBase: url };
}

async function tcpAcceptor(
  hostname: string,
  port: number,
  options: ListenOptions,
): Promise<Acceptor> {
  const { cert, key, caCert } = options;
  if (options.requireClientCert === true) {
    if (cert === undefined || key === undefined || caCert === undefined) {
      throw new TypeError(
        "Cannot require a client certificate without cert, key and caCert",
      );
    }
    return await listenMutualTls({ hostname, port, cert, key, caCert });
  }

  const listener = cert !== undefined && key !== undefined
    ? Deno.listenTls({ hostname, port, cert, key })
    : Deno.listen({ hostname, port });
  return denoAcceptor(listener, listener.addr.port, () => {});
}

function denoAcceptor(
  listener: Deno.Listener,
  port: number,
  afterClose: () => void,
): Acceptor {
  return {
    port,
    accept: async () => {
      const conn = await listener.accept();
      // Vault's Go server disables Nagle's algorithm on every connection.
      if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
      return conn;
    },
    close: () => {
      closeQuietly(listener);
      afterClose();
      return Promise.resolve();
    },
  };
}

class SimulatedNode implements Simulator {
  readonly url: string;
  readonly requests: RecordedRequest[] = [];
  #acceptor: Acceptor;
  #settings: SimulatorSettings = {
    product: "vault",
    state: "active",
    behaviour: "normal",
    delayMs: DEFAULT_DELAY_MS,
    location: LEADER_PATH,
  };
  #lifetime = new AbortController();
  #wires = new Set<Wire>();
  #tasks = new Set<Promise<void>>();
  #closing: Promise<void> | null = null;
  #awaitingRequest: PromiseWithResolvers<RecordedRequest>[] = [];

  constructor(acceptor: Acceptor, url: string) {
    this.#acceptor = acceptor;
    this.url = url;
  }

  get settings(): SimulatorSettings {
    return this.#settings;
  }

  set(change: SimulatorChange): SimulatorSettings {
    const next: SimulatorSettings = {
      product: change.product ?? this.#settings.product,
      state: change.state ?? this.#settings.state,
      behaviour: change.behaviour ?? "normal",
      delayMs: change.delayMs ?? this.#settings.delayMs,
      location: change.location ?? this.#settings.location,
    };
    validate(next);
    this.#settings = next;
    return next;
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  nextRequest(): Promise<RecordedRequest> {
    const awaiting = Promise.withResolvers<RecordedRequest>();
    if (this.#lifetime.signal.aborted) {
      awaiting.reject(this.#lifetime.signal.reason);
    } else {
      this.#awaitingRequest.push(awaiting);
    }
    return awaiting.promise;
  }

  start(): void {
    this.#track(this.#acceptLoop());
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutDown(): Promise<void> {
    this.#lifetime.abort(new Deno.errors.Interrupted("Simulator closed"));
    for (const awaiting of this.#awaitingRequest.splice(0)) {
      awaiting.reject(this.#lifetime.signal.reason);
    }
    const stopped = this.#acceptor.close();
    for (const wire of this.#wires) closeQuietly(wire);
    await stopped;
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#lifetime.signal.aborted) {
      let wire: Wire;
      try {
        wire = await this.#acceptor.accept();
      } catch {
        return;
      }
      this.#wires.add(wire);
      this.#track(this.#converse(wire));
    }
  }

  async #converse(wire: Wire): Promise<void> {
    const reader = new RequestReader(wire);
    try {
      for (;;) {
        const request = await reader.next();
        if (request === null) return;

        this.#record(request);
        const keepOpen = await this.#reply(wire, reader, request);
        if (!keepOpen) return;
      }
    } catch {
      // The client left or the simulator closed: the conversation is over.
    } finally {
      closeQuietly(wire);
      this.#wires.delete(wire);
    }
  }

  #record(request: WireRequest): void {
    const { method, path, query, headers } = request;
    const recorded = { method, path, query, headers, receivedAt: Date.now() };
    this.requests.push(recorded);
    for (const awaiting of this.#awaitingRequest.splice(0)) {
      awaiting.resolve(recorded);
    }
  }

  /** Answers one request; false when the connection must end. */
  async #reply(
    wire: Wire,
    reader: RequestReader,
    request: WireRequest,
  ): Promise<boolean> {
    const settings = this.#settings;
    const signal = this.#lifetime.signal;
    if (settings.behaviour === "slow") await delay(settings.delayMs, signal);
    if (settings.behaviour === "normal" || settings.behaviour === "slow") {
      const keepOpen = !request.closeAfter;
      await writeResponse(wire, answerOf(settings, request), keepOpen);
      return keepOpen;
    }
    await misbehave(wire, reader, settings, signal);
    return false;
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }
}

function answerOf(
  settings: SimulatorSettings,
  request: WireRequest,
): WireResponse {
  return answer(settings.product, settings.state, request);
}

function validate(settings: SimulatorSettings): void {
  nodeState(settings.product, settings.state);
  if (!(BEHAVIOURS as readonly string[]).includes(settings.behaviour)) {
    throw new RangeError(
      `Unknown behaviour "${settings.behaviour}"; known behaviours: ${
        BEHAVIOURS.join(", ")
      }`,
    );
  }
  if (!Number.isFinite(settings.delayMs) || settings.delayMs < 0) {
    throw new RangeError(
      `Delay must be a number of milliseconds, not "${settings.delayMs}"`,
    );
  }
}

/** Carries out every behaviour except `normal` and `slow`. */
async function misbehave(
  wire: Wire,
  reader: RequestReader,
  settings: SimulatorSettings,
  signal: AbortSignal,
): Promise<void> {
  const active = activeBody(settings.product);
  switch (settings.behaviour) {
    case "hang":
      return await reader.drain();
    case "stall_body":
      await writeTruncated(wire, active);
      return await reader.drain();
    case "close_mid_headers":
      return await writeAll(wire, partialHead());
    case "close_mid_body":
      return await writeTruncated(wire, active);
    case "endless_body":
      return await writeEndless(wire, signal);
    default:
      return await writeResponse(wire, cannedAnswer(settings), false);
  }
}

function cannedAnswer(settings: SimulatorSettings): WireResponse {
  const json = "application/json";
  const active = activeBody(settings.product);
  switch (settings.behaviour) {
    case "huge_body":
      return { status: 200, contentType: json, body: hugeBody(active) };
    case "not_json":
      return { status: 200, contentType: "text/html", body: HTML_PAGE };
    case "wrong_types": {
      const body = { ...active, ha_enabled: "true", is_self: "true" };
      return { status: 200, contentType: json, body: JSON.stringify(body) };
    }
    case "array_body":
      return { status: 200, contentType: json, body: "[true]" };
    case "redirect":
      return {
        status: 307,
        contentType: null,
        body: "",
        location: settings.location,
      };
    default:
      return { status: 200, contentType: json, body: "" };
  }
}

const HTML_PAGE = "<!DOCTYPE html>\n<html><head><title>Sign in</title>" +
  "</head><body><p>Please sign in to continue.</p></body></html>\n";

function activeBody(product: Product): Record<string, unknown> {
  const entry = fixtureEntry(product, LEADER_PATH, "GET", "active");
  return { ...entry.body as Record<string, unknown> };
}

function hugeBody(active: Record<string, unknown>): string {
  return JSON.stringify({ ...active, padding: "x".repeat(HUGE_BODY_BYTES) });
}

function partialHead(): Uint8Array {
  const head = responseHead(200, [["Content-Type", "application/json"]]);
  return head.subarray(0, 30);
}

/** Sends a 200 head for the whole body, then only its first half. */
async function writeTruncated(
  wire: Wire,
  body: Record<string, unknown>,
): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  await writeAll(
    wire,
    responseHead(200, [
      ["Content-Type", "application/json"],
      ["Content-Length", String(bytes.length)],
    ]),
  );
  await writeAll(wire, bytes.subarray(0, bytes.length >> 1));
}

async function writeEndless(wire: Wire, signal: AbortSignal): Promise<void> {
  const stopAt = Date.now() + ENDLESS_BODY_MS;
  const padding = chunk("x".repeat(16 * 1024));
  await writeAll(
    wire,
    responseHead(200, [
      ["Content-Type", "application/json"],
      ["Transfer-Encoding", "chunked"],
    ]),
  );
  await writeAll(wire, chunk('{"ha_enabled":true,"is_self":true,"padding":"'));
  while (Date.now() < stopAt) {
    await writeAll(wire, padding);
    await delay(10, signal);
  }
}

/** Waits `ms` milliseconds; rejects at once when `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);

    const abort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", abort);
      resolve();
    }, ms);
    signal.addEventListener("abort", abort, { once: true });
  });
}
