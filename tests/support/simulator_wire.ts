/**
 * Just enough HTTP/1.1 over a raw byte stream for the simulated Vault:
 * reading request heads and writing responses byte by byte, so that the
 * simulator can also break the protocol on purpose.
 */

/** A connection the simulator reads requests from and writes answers to. */
export interface Wire {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

/** A request as it arrived, before it is recorded. */
export interface WireRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Whether the client asked to close the connection after the answer. */
  readonly closeAfter: boolean;
}

/** A response head and body; a null body sends neither body nor length. */
export interface WireResponse {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string | Uint8Array | null;
  readonly location?: string;
}

/** Request heads larger than this end the connection. */
const MAX_HEAD_BYTES = 64 * 1024;
const READ_SIZE = 16 * 1024;
const HEAD_END = new TextEncoder().encode("\r\n\r\n");

/** Go's reason phrases for the statuses Vault sends; others get Go's form. */
const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  307: "Temporary Redirect",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

/** Reads successive requests from one connection, skipping their bodies. */
export class RequestReader {
  #wire: Wire;
  #buffered = new Uint8Array(0);

  /** Wraps a connection. */
  constructor(wire: Wire) {
    this.#wire = wire;
  }

  /** The next request, or null once the client closes or sends garbage. */
  async next(): Promise<WireRequest | null> {
    const head = await this.#readHead();
    if (head === null) return null;

    const parsed = parseHead(head);
    if (parsed === null) return null;

    await this.#skip(parsed.bodyLength);
    return parsed.request;
  }

  /** Discards whatever the client sends until it closes the connection. */
  async drain(): Promise<void> {
    while (await this.#fill()) this.#buffered = new Uint8Array(0);
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(READ_SIZE);
    const count = await this.#wire.read(chunk);
    if (count === null) return false;

    const joined = new Uint8Array(this.#buffered.length + count);
    joined.set(this.#buffered);
    joined.set(chunk.subarray(0, count), this.#buffered.length);
    this.#buffered = joined;
    return true;
  }

  async #readHead(): Promise<string | null> {
    for (;;) {
      const end = indexOf(this.#buffered, HEAD_END);
      if (end >= 0) {
        const head = new TextDecoder().decode(this.#buffered.subarray(0, end));
        this.#buffered = this.#buffered.subarray(end + HEAD_END.length);
        return head;
      }
      if (this.#buffered.length > MAX_HEAD_BYTES) return null;
      if (!await this.#fill()) return null;
    }
  }

  async #skip(length: number): Promise<void> {
    while (this.#buffered.length < length) {
      if (!await this.#fill()) return;
    }
    this.#buffered = this.#buffered.subarray(length);
  }
}

/** Writes every byte, however many calls the connection needs. */
export async function writeAll(wire: Wire, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await wire.write(bytes.subarray(written));
  }
}

/** Writes a whole response: head, then body if there is one. */
export async function writeResponse(
  wire: Wire,
  response: WireResponse,
  keepOpen: boolean,
): Promise<void> {
  const body = typeof response.body === "string"
    ? new TextEncoder().encode(response.body)
    : response.body;
  const fields: [string, string][] = [];
  if (response.contentType !== null) {
    fields.push(["Content-Type", response.contentType]);
  }
  if (response.location !== undefined) {
    fields.push(["Location", response.location]);
  }
  if (body !== null) fields.push(["Content-Length", String(body.length)]);
  if (!keepOpen) fields.push(["Connection", "close"]);

  // One write, as Vault's server does, so Nagle's algorithm cannot hold the
  // body back behind the client's delayed acknowledgement of the head.
  const head = responseHead(response.status, fields);
  const whole = new Uint8Array(head.length + (body?.length ?? 0));
  whole.set(head);
  if (body !== null) whole.set(body, head.length);
  await writeAll(wire, whole);
}

/** The status line and header fields of a response, ending in a blank line. */
export function responseHead(
  status: number,
  fields: readonly (readonly [string, string])[],
): Uint8Array {
  const reason = REASONS[status] ?? `status code ${status}`;
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    ...fields.map(([name, value]) => `${name}: ${value}`),
    "",
    "",
  ];
  return new TextEncoder().encode(lines.join("\r\n"));
}

/** One chunk of a chunked body. */
export function chunk(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const size = new TextEncoder().encode(`${bytes.length.toString(16)}\r\n`);
  const joined = new Uint8Array(size.length + bytes.length + 2);
  joined.set(size);
  joined.set(bytes, size.length);
  joined.set([13, 10], size.length + bytes.length);
  return joined;
}

/** Closes a connection that may already be closed. */
export function closeQuietly(closable: { close(): void }): void {
  try {
    closable.close();
  } catch {
    // Already closed by the other side or by the simulator: nothing to do.
  }
}

/** Removes a unix socket file; one already gone is fine. */
export function removeSocket(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function parseHead(
  head: string,
): { request: WireRequest; bodyLength: number } | null {
  const [requestLine = "", ...fieldLines] = head.split("\r\n");
  const [method, target, version, ...extra] = requestLine.split(" ");
  if (method === undefined || target === undefined || extra.length > 0) {
    return null;
  }
  if (version === undefined || !version.startsWith("HTTP/1.")) return null;

  const headers = parseFields(fieldLines);
  if (headers === null) return null;

  const connection = (headers["connection"] ?? "").toLowerCase();
  const chunked = headers["transfer-encoding"] !== undefined;
  const closeAfter = chunked || connection.includes("close") ||
    (version === "HTTP/1.0" && !connection.includes("keep-alive"));
  const bodyLength = chunked ? 0 : Number(headers["content-length"] ?? "0");
  if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) return null;

  const { path, query } = splitTarget(target);
  return {
    request: { method, path, query, headers, closeAfter },
    bodyLength,
  };
}

function parseFields(lines: string[]): Record<string, string> | null {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) return null;

    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const earlier = headers[name];
    headers[name] = earlier === undefined ? value : `${earlier}, ${value}`;
  }
  return headers;
}

function splitTarget(target: string): { path: string; query: string } {
  // A request through a proxy names the whole URL: keep only path and query.
  const relative = target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, "");
  const mark = relative.indexOf("?");
  if (mark < 0) return { path: relative, query: "" };
  return { path: relative.slice(0, mark), query: relative.slice(mark + 1) };
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const last = haystack.length - needle.length;
  for (let start = 0; start <= last; start++) {
    if (needle.every((byte, offset) => haystack[start + offset] === byte)) {
      return start;
    }
  }
  return -1;
}
