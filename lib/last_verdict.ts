/**
 * The last verdict logged, kept in a small file so that `--log` writes a
 * line when the verdict changes rather than on every run.
 *
 * The file is overwritten in place rather than through a temporary file and
 * a rename: that needs write access to one path only, and the worst a torn
 * or empty file can do is read as "unknown", which logs one line more,
 * never one less.
 */

import { describe } from "./probe.ts";

/** What reading the file found. */
export interface LastVerdict {
  /** The state last logged, or undefined when unknown. */
  state: string | undefined;
  /** Why the file could not be used, when it could not. */
  problem?: string;
}

/**
 * Why the run may not keep the last verdict in `path`, naming the flags that
 * would allow it, or undefined when it may.
 */
export function stateFilePermissionProblem(path: string): string | undefined {
  const missing = (["read", "write"] as const)
    .filter((name) =>
      Deno.permissions.querySync({ name, path }).state !== "granted"
    )
    .map((name) => `--allow-${name}=${path}`);
  if (missing.length === 0) return undefined;
  return `the last verdict cannot be kept in '${path}': run with ${
    missing.join(" ")
  }`;
}

/** Reads the state last logged; a missing file is a first run, not a fault. */
export function readLastVerdict(path: string): LastVerdict {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error: unknown) {
    if (error instanceof Deno.errors.NotFound) return { state: undefined };
    const why = error instanceof Deno.errors.PermissionDenied
      ? `the script user may not read it: ${ownFix(path)}`
      : describe(error);
    return {
      state: undefined,
      problem: `cannot read the last verdict from '${path}': ${why}`,
    };
  }
  const state = text.trim();
  return { state: /^[a-z_]{1,40}$/.test(state) ? state : undefined };
}

/** Records `state` as the last verdict logged; returns why not on failure. */
export function writeLastVerdict(
  path: string,
  state: string,
): string | undefined {
  try {
    Deno.writeTextFileSync(path, state + "\n");
    return undefined;
  } catch (error: unknown) {
    const why = error instanceof Deno.errors.NotFound
      ? `its directory does not exist: create it, writable by the script user, ${
        tmpfilesLine(path)
      }`
      : error instanceof Deno.errors.PermissionDenied
      ? `the script user may not write it: ${ownFix(path)}`
      : describe(error);
    return `cannot keep the last verdict in '${path}': ${why}`;
  }
}

/** How to give the file to the script user. */
function ownFix(path: string): string {
  return `give it to the script user or remove it (the next run creates it), in a directory writable by the script user, ${
    tmpfilesLine(path)
  }`;
}

/** The boot-time line that creates the state file's directory. */
function tmpfilesLine(path: string): string {
  const directory = path.slice(0, path.lastIndexOf("/")) || "/";
  return `e.g. 'd ${directory} 0700 keepalived_script keepalived_script -' in /etc/tmpfiles.d/vault-ha-active-node.conf`;
}
