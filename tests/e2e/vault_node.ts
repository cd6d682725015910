/**
 * A simulated Vault node on one test host: `tests/support/simulator_main.ts`
 * on the host's own 127.0.0.1:8200, switched from the root namespace over
 * its unix control socket, which reaches across network namespaces.
 */

import type { Host } from "./network.ts";

const SIMULATOR = new URL("../support/simulator_main.ts", import.meta.url);

/** The address the check asks on every host, as operators set it. */
export const VAULT_ADDRESS = "http://127.0.0.1:8200";

/** The same address when the node serves TLS. */
export const VAULT_TLS_ADDRESS = "https://127.0.0.1:8200";

/** The files a node serves TLS with (PEM paths). */
export interface VaultTls {
  readonly cert: string;
  readonly key: string;
  /** The CA a client certificate must come from, for mutual TLS. */
  readonly clientCa?: string;
}

/** What the test makes a node do; the simulator's change format. */
export interface VaultChange {
  readonly state?: string;
  readonly behaviour?: string;
  readonly delayMs?: number;
}

/** A simulated Vault process on one host. */
export interface VaultNode {
  readonly host: Host;
  readonly pid: number;
  /** Changes what the node answers from the next request on. */
  set(change: VaultChange): Promise<void>;
  /** Kills the process at once (SIGKILL), like a crash, and waits for it. */
  kill(): Promise<void>;
  /** Stops the process with SIGTERM and waits for it; never throws. */
  stop(): Promise<void>;
}

/**
 * Starts the node in `state`, over TLS when `tls` is given, and resolves
 * once it says `ready`.
 */
export async function startVault(
  host: Host,
  control: string,
  state: string,
  tls?: VaultTls,
): Promise<VaultNode> {
  await Deno.remove(control).catch(() => {});
  const child = new Deno.Command("ip", {
    args: [
      ...["netns", "exec", host.namespace, Deno.execPath(), "run"],
      ...["--quiet", "--allow-net", "--allow-read", "--allow-write"],
      SIMULATOR.pathname,
      ...["--hostname", "127.0.0.1", "--port", "8200"],
      ...["--state", state, "--control", control],
      ...(tls === undefined ? [] : ["--cert", tls.cert, "--key", tls.key]),
      ...(tls?.clientCa === undefined
        ? []
        : ["--ca-cert", tls.clientCa, "--require-client-cert"]),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = readLines(child);
  const first = await output.next();
  if (first.done || !first.value.startsWith("ready ")) {
    await end(child, "SIGKILL");
    throw new Error(
      `Starting the simulated Vault on host '${host.name}' failed: '${
        first.done ? "no output" : first.value
      }'`,
    );
  }
  const draining = drain(output);
  const client = Deno.createHttpClient({
    proxy: { transport: "unix", path: control },
  });
  let ended: Promise<void> | undefined;
  const finish = (signal: Deno.Signal) => {
    ended ??= (async () => {
      await end(child, signal);
      await draining;
      client.close();
    })();
    return ended;
  };
  return {
    host,
    pid: child.pid,
    set: async (change) => {
      const answer = await fetch("http://vault-control/state", {
        client,
        method: "POST",
        body: JSON.stringify(change),
      });
      const text = await answer.text();
      if (!answer.ok) {
        throw new Error(
          `Changing the simulated Vault on host '${host.name}' to ${
            JSON.stringify(change)
          } failed: '${text}'`,
        );
      }
    },
    kill: () => finish("SIGKILL"),
    stop: () => finish("SIGTERM"),
  };
}

async function end(child: Deno.ChildProcess, signal: Deno.Signal) {
  try {
    child.kill(signal);
  } catch {
    // Already gone.
  }
  await child.status;
}

async function* readLines(child: Deno.ChildProcess): AsyncGenerator<string> {
  // stderr is merged in only to be drained; a failing start shows it first.
  const errors = child.stderr.pipeThrough(new TextDecoderStream());
  const said: string[] = [];
  const draining = (async () => {
    for await (const text of errors) said.push(text);
  })();
  let pending = "";
  for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
    const lines = (pending + text).split("\n");
    pending = lines.pop() ?? "";
    yield* lines;
  }
  await draining;
  if (said.length > 0) yield said.join("").trim().split("\n")[0] ?? "";
}

async function drain(lines: AsyncGenerator<string>): Promise<void> {
  for await (const _ of lines) {
    // Nothing more is expected; reading keeps the pipe from filling.
  }
}
