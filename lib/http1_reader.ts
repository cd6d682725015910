/**
 * Reading one HTTP/1.1 answer from a connection the check dialled itself:
 * the status line, the headers and a body sent with `Content-Length`,
 * chunked, or until the server closes. Strict on purpose: anything Vault
 * would not send is an error, and nothing larger than the caps is kept.
 */

/** The parts of an answer the check looks at. */
export interface RawAnswer {
  status: number;
  contentType: string | null;
  location: string | null;
  /** The body, or undefined when it exceeded the cap. */
  body: Uint8Array | undefined;
}

/** An answer that does not follow HTTP/1.1 as Vault speaks it. */
export class MalformedAnswer extends Error {
  override name = "MalformedAnswer";
}

/** The largest status line plus headers accepted. */
export const MAX_HEAD_BYTES = 16 * 1024;

const CRLF = [13, 10] as const;

const STATUS_PREFIX = new TextEncoder().encode("HTTP/");

const READ_SIZE = 16 * 1024;

/** Characters HTTP forbids in a head line (a tab is allowed). */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Reads one answer to a GET from `connection`, keeping at most `maxBody`
 * bytes of body. Interim 1xx heads are skipped. Throws
 * {@linkcode MalformedAnswer} for a broken answer and whatever the
 * connection throws (closing it from outside ends a pending read).
 */
export async function readAnswer(
  connection: Pick<Deno.Conn, "read">,
  maxBody: number,
): Promise<RawAnswer> {
  const input = new Input(connection, 2 * (MAX_HEAD_BYTES + maxBody));
  for (;;) {
    // Something that is not HTTP (HTTP/0.9, another protocol) is named at
    // its first bytes, not after waiting for a line end it may never send.
    if (!await input.startsWith(STATUS_PREFIX)) {
      throw new MalformedAnswer(
        `the answer does not start with an HTTP/1.1 status line ('${
          input.peek(40)
        }')`,
      );
    }
    const headers = await parseHead(await input.line(MAX_HEAD_BYTES), input);
    if (headers.status >= 100 && headers.status < 200) {
      if (headers.status === 101) {
        throw new MalformedAnswer("the server switched protocols unasked");
      }
      continue;
    }
    const body = headers.status === 204 || headers.status === 304
      ? new Uint8Array(0)
      : await readBody(input, headers.fields, maxBody);
    return {
      status: headers.status,
      contentType: headers.fields.get("content-type") ?? null,
      location: headers.fields.get("location") ?? null,
      body,
    };
  }
}

async function parseHead(
  statusLine: string,
  input: Input,
): Promise<{ status: number; fields: Map<string, string> }> {
  const match = /^HTTP\/1\.[01] ([1-9]\d\d)(?: [^\r\n]*)?$/.exec(statusLine);
  if (!match || CONTROL.test(statusLine)) {
    throw new MalformedAnswer(
      `the answer does not start with an HTTP/1.1 status line ('${
        statusLine.slice(0, 40)
      }')`,
    );
  }

  const fields = new Map<string, string>();
  let headBytes = statusLine.length;
  for (;;) {
    const line = await input.line(MAX_HEAD_BYTES - headBytes);
    headBytes += line.length + 2;
    if (line === "") break;
    if (CONTROL.test(line)) {
      throw new MalformedAnswer("a header line carries control characters");
    }
    const colon = line.indexOf(":");
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) {
      throw new MalformedAnswer(
        `a header line is malformed ('${line.slice(0, 40)}')`,
      );
    }
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const earlier = fields.get(name);
    if (
      earlier !== undefined && name === "content-length" && earlier !== value
    ) {
      throw new MalformedAnswer("the answer carries two different lengths");
    }
    fields.set(name, earlier === undefined ? value : `${earlier}, ${value}`);
  }
  return { status: Number(match[1]), fields };
}

async function readBody(
  input: Input,
  fields: Map<string, string>,
  maxBody: number,
): Promise<Uint8Array | undefined> {
  const coding = fields.get("transfer-encoding");
  const length = fields.get("content-length");
  if (coding !== undefined) {
    // Vault never sends both; a message that does may be split differently
    // by whatever sits between Vault and the check.
    if (length !== undefined) {
      throw new MalformedAnswer(
        "the answer carries both a length and a transfer coding",
      );
    }
    if (coding.toLowerCase() !== "chunked") {
      throw new MalformedAnswer(
        `the answer's transfer coding '${coding}' is not chunked`,
      );
    }
    return await readChunked(input, maxBody);
  }

  if (length === undefined) return await input.rest(maxBody);
  const sizes = /^\d{1,15}(, *\d{1,15})*$/.test(length)
    ? length.split(",").map(Number)
    : [NaN];
  const size = sizes[0] as number;
  if (!Number.isSafeInteger(size)) {
    throw new MalformedAnswer(
      `the answer's length '${length}' is not a number`,
    );
  }
  // A list of lengths is allowed only when all of them agree.
  if (sizes.some((other) => other !== size)) {
    throw new MalformedAnswer("the answer carries two different lengths");
  }
  if (size > maxBody) return undefined;
  return await input.exactly(size);
}

async function readChunked(
  input: Input,
  maxBody: number,
): Promise<Uint8Array | undefined> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const line = await input.line(1024);
    const match = /^([0-9a-fA-F]{1,8})(?:;.*)?$/.exec(line);
    if (!match) throw new MalformedAnswer("a chunk size is malformed");
    const size = parseInt(match[1] as string, 16);
    if (size === 0) break;
    total += size;
    if (total > maxBody) return undefined;
    parts.push(await input.exactly(size));
    if (await input.line(2) !== "") {
      throw new MalformedAnswer("a chunk does not end where its size says");
    }
  }
  // Trailers, if any, end with an empty line.
  while (await input.line(MAX_HEAD_BYTES) !== "");
  return join(parts, total);
}

/** Buffered reading from a connection. */
class Input {
  #connection: Pick<Deno.Conn, "read">;
  #buffer: Uint8Array = new Uint8Array(0);
  #ended = false;
  #received = 0;
  #limit: number;

  /**
   * Refuses to read more than `limit` bytes in all. Interim answers,
   * trailers and chunk framing could otherwise go on for ever, and reads
   * that succeed at once (a TLS stream with buffered data) never let the
   * deadline's timer run, so the reader must stop on its own.
   */
  constructor(connection: Pick<Deno.Conn, "read">, limit: number) {
    this.#connection = connection;
    this.#limit = limit;
  }

  /** The next line without its CRLF, at most `limit` bytes long. */
  async line(limit: number): Promise<string> {
    for (;;) {
      const end = findCrlf(this.#buffer);
      if (end >= 0) {
        const line = this.#take(end + 2).subarray(0, end);
        return new TextDecoder().decode(line);
      }
      if (this.#buffer.length > limit) {
        throw new MalformedAnswer("the answer's head is too long");
      }
      if (!await this.#fill()) throw this.#closed();
    }
  }

  /** Whether the next bytes are `prefix`, reading no further than a mismatch. */
  async startsWith(prefix: Uint8Array): Promise<boolean> {
    for (;;) {
      const shared = Math.min(prefix.length, this.#buffer.length);
      for (let i = 0; i < shared; i++) {
        if (this.#buffer[i] !== prefix[i]) return false;
      }
      if (shared === prefix.length) return true;
      if (!await this.#fill()) throw this.#closed();
    }
  }

  /** Up to `count` of the bytes read but not taken, as text. */
  peek(count: number): string {
    return new TextDecoder().decode(this.#buffer.subarray(0, count));
  }

  /** Exactly `size` bytes. */
  async exactly(size: number): Promise<Uint8Array> {
    while (this.#buffer.length < size) {
      if (!await this.#fill()) throw this.#closed();
    }
    return this.#take(size);
  }

  /** Everything until the server closes, or undefined past `limit`. */
  async rest(limit: number): Promise<Uint8Array | undefined> {
    while (await this.#fill()) {
      if (this.#buffer.length > limit) return undefined;
    }
    return this.#take(this.#buffer.length);
  }

  #take(count: number): Uint8Array {
    const taken = this.#buffer.slice(0, count);
    this.#buffer = this.#buffer.subarray(count);
    return taken;
  }

  async #fill(): Promise<boolean> {
    if (this.#ended) return false;
    const chunk = new Uint8Array(READ_SIZE);
    const count = await this.#connection.read(chunk);
    if (count === null) {
      this.#ended = true;
      return false;
    }
    this.#received += count;
    if (this.#received > this.#limit) {
      throw new MalformedAnswer(
        `the answer is longer than ${this.#limit} bytes, far more than Vault sends`,
      );
    }
    this.#buffer = join([this.#buffer, chunk.subarray(0, count)]);
    return true;
  }

  #closed(): Error {
    return new MalformedAnswer(
      "connection closed before message completed",
    );
  }
}

function findCrlf(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] === CRLF[0] && bytes[i + 1] === CRLF[1]) return i;
  }
  return -1;
}

function join(parts: Uint8Array[], size?: number): Uint8Array {
  const total = size ?? parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
