/**
 * The unprivileged user keepalived runs the check as: created for the run
 * when the machine has none, and removed again at teardown only then, so
 * that the test leaves the machine's users as it found them.
 */

import { attempt, run } from "./command.ts";

/** Whether the user `name` was there before the run and is there after. */
export interface ScriptUserRecord {
  readonly name: string;
  readonly existedBefore: boolean;
  readonly existsAfter: boolean;
}

/** Whether a user called `name` exists. */
export async function userExists(name: string): Promise<boolean> {
  return (await attempt("getent", ["passwd", name])).code === 0;
}

/** Whether a group called `name` exists. */
export async function groupExists(name: string): Promise<boolean> {
  return (await attempt("getent", ["group", name])).code === 0;
}

/**
 * Creates `name` as a system user without a home directory or login shell
 * (and, through useradd's user groups, a group of the same name) unless it
 * exists. Returns whether it created it.
 */
export async function ensureUser(name: string): Promise<boolean> {
  if (await userExists(name)) return false;
  await run("useradd", [
    ...["--system", "--no-create-home", "--home-dir", "/nonexistent"],
    ...["--shell", "/usr/sbin/nologin", name],
  ]);
  return true;
}

/**
 * Removes the user `name` and its group, which {@linkcode ensureUser}
 * created. Returns one line per thing left behind.
 */
export async function removeUser(name: string): Promise<string[]> {
  const removed = await attempt("userdel", [name]);
  const problems: string[] = [];
  if (removed.code !== 0) {
    problems.push(
      `Removing the user '${name}' failed with exit ${removed.code}: '${removed.stderr.trim()}'`,
    );
  }
  if (await userExists(name)) {
    problems.push(`The user '${name}' created for the run is still there`);
  }
  if (await groupExists(name)) {
    problems.push(`The group '${name}' created for the run is still there`);
  }
  return problems;
}
