/**
 * A loopback TCP listener that records the first line of whatever each
 * connection sends and then hangs up: a stand-in for a proxy or any other
 * place the check must never reach.
 */

/** A running recorder. */
export interface Recorder extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`, usable as a proxy address. */
  readonly url: string;
  /** The first line of each connection, in arrival order. */
  readonly lines: readonly string[];
  /** Stops listening and waits for every connection to end. */
  close(): Promise<void>;
}

/** Starts a recorder on a free loopback port. */
export function startRecorder(): Recorder {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const lines: string[] = [];
  const conversations = new Set<Promise<void>>();

  const record = async (connection: Deno.Conn) => {
    try {
      const buffer = new Uint8Array(4096);
      const count = await connection.read(buffer);
      const text = new TextDecoder().decode(buffer.subarray(0, count ?? 0));
      lines.push(text.split("\r\n")[0] ?? "");
    } catch {
      lines.push("");
    } finally {
      connection.close();
    }
  };
  const accepting = (async () => {
    try {
      for await (const connection of listener) {
        const conversation = record(connection);
        conversations.add(conversation);
        conversation.finally(() => conversations.delete(conversation));
      }
    } catch {
      // Closed while accepting.
    }
  })();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      listener.close();
      await accepting;
      await Promise.allSettled([...conversations]);
    })();
    return closing;
  };
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    lines,
    close,
    [Symbol.asyncDispose]: close,
  };
}
