/**
 * A stand-in for journald's stream socket: listens on a unix socket the test
 * creates and hands over what each connection sent, in order of arrival.
 */

/** A listening fake journal. */
export interface FakeJournal {
  path: string;
  /** Resolves with everything the next connection sent, once it closed. */
  next(): Promise<string>;
  /**
   * Resolves once every connection that arrived before this call has been
   * read, by sending a marker of its own; returns what those sent.
   */
  drain(): Promise<string[]>;
  /** Stops listening and removes the socket file. */
  close(): Promise<void>;
}

/** Listens at `path` (which must not exist yet). */
export function startFakeJournal(path: string): FakeJournal {
  const listener = Deno.listen({ transport: "unix", path });
  const received: string[] = [];
  const waiting: ((text: string) => void)[] = [];

  const deliver = (text: string) => {
    const waiter = waiting.shift();
    if (waiter) waiter(text);
    else received.push(text);
  };

  // One connection at a time, read to its end: arrival order is kept, so
  // that a marker sent last is read last.
  const serving = (async () => {
    for await (const connection of listener) {
      deliver(await new Response(connection.readable).text());
    }
  })().catch(() => {});

  const next = () =>
    new Promise<string>((resolve) => {
      const text = received.shift();
      if (text !== undefined) resolve(text);
      else waiting.push(resolve);
    });

  return {
    path,
    next,
    async drain() {
      const marker = `marker ${crypto.randomUUID()}`;
      const connection = await Deno.connect({ transport: "unix", path });
      await connection.write(new TextEncoder().encode(marker));
      connection.close();
      const texts: string[] = [];
      for (let text = await next(); text !== marker; text = await next()) {
        texts.push(text);
      }
      return texts;
    },
    async close() {
      try {
        listener.close();
      } catch {
        // Already closed by the test.
      }
      await serving;
      await Deno.remove(path).catch((error: unknown) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    },
  };
}
