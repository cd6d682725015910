/**
 * A Vault stand-in on loopback that answers `GET /v1/sys/leader` with the
 * reference answer of one state, which the test can change between runs.
 */

interface Reference {
  state: string;
  product: string;
  endpoint: string;
  method: string;
  status: number;
  body: unknown;
  content_type: string;
}

const references: Reference[] = JSON.parse(
  await Deno.readTextFile(
    new URL("../fixtures/vault_states.json", import.meta.url),
  ),
);

/** A running stand-in. */
export interface LeaderAnswers {
  url: string;
  /** Switches to the reference answer of Vault's leader endpoint `state`. */
  answer(state: string): void;
  close(): Promise<void>;
}

/** Serves on 127.0.0.1, on a port the system picks. */
export function startLeaderAnswers(state: string): LeaderAnswers {
  let current = pick(state);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response(JSON.stringify(current.body), {
        status: current.status,
        headers: { "content-type": current.content_type },
      }),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    answer(next) {
      current = pick(next);
    },
    close: () => server.shutdown(),
  };
}

function pick(state: string): Reference {
  const found = references.find((reference) =>
    reference.product === "vault" && reference.endpoint === "/v1/sys/leader" &&
    reference.method === "GET" && reference.state === state
  );
  if (!found) throw new Error(`No reference leader answer for '${state}'`);
  return found;
}
