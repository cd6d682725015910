/** The users of the host, from its `/etc/passwd`. */

import type { HostFiles } from "./host_files.ts";

/** A user: name, uid and primary gid. */
export interface User {
  name: string;
  uid: number;
  gid: number;
}

/** Reads the host's users; none when the file is missing. */
export function readUsers(host: HostFiles): Map<string, User> {
  const users = new Map<string, User>();
  for (const line of (host.read("/etc/passwd") ?? "").split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (!name || uid === undefined || gid === undefined) continue;
    users.set(name, { name, uid: Number(uid), gid: Number(gid) });
  }
  return users;
}
