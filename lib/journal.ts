/**
 * The systemd journal's stream protocol: connect to journald's stream
 * socket, send a seven-line header, then one line per entry. journald never
 * answers on this socket, so a sent line is all there is to it.
 */

import { describe } from "./probe.ts";
import { socketFlags } from "./target.ts";

/** Syslog priorities the verdict is logged at. */
export const PRIORITY = { warning: 4, notice: 5, info: 6 } as const;

/** One journal entry: its priority and its one-line message. */
export interface JournalEntry {
  priority: number;
  message: string;
}

/**
 * Builds the stream header: identifier, unit id (empty: journald fills it
 * in from the peer), default priority, level prefix off (a message that
 * starts with `<N>` stays as it is) and no forwarding beyond what journald
 * is configured to do.
 */
function streamHeader(identifier: string, priority: number): string {
  return `${identifier}\n\n${priority}\n0\n0\n0\n0\n`;
}

/**
 * Why the run may not use the journal socket at `path`, naming the flags
 * that would allow it, or undefined when it may.
 */
export function journalPermissionProblem(path: string): string | undefined {
  const missing = socketFlags(path, true);
  if (missing.length === 0) return undefined;
  return `the journal socket '${path}' may not be used: run with ${
    missing.join(" ")
  }`;
}

/**
 * Sends `entry` to the journal stream socket at `path` within `budgetMs`;
 * returns undefined when sent, else one line saying why not. Never throws
 * and never waits past the budget, even for a socket that accepts and
 * then stalls.
 */
export async function sendToJournal(
  path: string,
  identifier: string,
  entry: JournalEntry,
  budgetMs: number,
): Promise<string | undefined> {
  const bytes = new TextEncoder().encode(
    streamHeader(identifier, entry.priority) + entry.message + "\n",
  );
  // A timeout signal rather than setTimeout, which would start Node
  // compatibility in Deno 2.9.
  const budget = AbortSignal.timeout(budgetMs);
  const expired = new Promise<string>((resolve) => {
    budget.addEventListener(
      "abort",
      () => resolve(`the journal socket '${path}' took over ${budgetMs} ms`),
    );
  });
  return await Promise.race([write(path, bytes), expired]);
}

async function write(
  path: string,
  bytes: Uint8Array,
): Promise<string | undefined> {
  let connection: Deno.UnixConn;
  try {
    connection = await Deno.connect({ transport: "unix", path });
  } catch (error: unknown) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such socket: is systemd-journald running?"
      : describe(error);
    return `cannot connect to the journal socket '${path}': ${why}`;
  }
  try {
    for (let sent = 0; sent < bytes.length;) {
      sent += await connection.write(bytes.subarray(sent));
    }
    return undefined;
  } catch (error: unknown) {
    return `cannot write to the journal socket '${path}': ${describe(error)}`;
  } finally {
    try {
      connection.close();
    } catch {
      // Already closed by the peer: nothing left to release.
    }
  }
}
