/**
 * keepalived's safety test of a script's path: the file must exist and be
 * executable by the script user, and, when it runs as root, no component
 * of the path may be writable by anyone but root.
 */

import type { HostFiles } from "./host_files.ts";

/** What the path test found. */
export type PathProblem =
  | { kind: "missing" }
  | { kind: "not_executable" }
  | { kind: "unsafe"; component: string; why: string };

/**
 * Tests `path` (absolute) as keepalived does for a script run as `uid:gid`;
 * returns the first problem or undefined.
 */
export function pathProblem(
  host: HostFiles,
  path: string,
  uid: number,
  gid: number,
): PathProblem | undefined {
  const file = host.stat(path);
  if (!file || !file.isFile) return { kind: "missing" };
  if (!executable(file, uid, gid)) return { kind: "not_executable" };
  return unsafeComponent(host, path);
}

/**
 * The first component of `path`, from `/` down, that someone other than
 * root could replace: not owned by root, or writable by others (or by a
 * group other than root's), a sticky directory excepted.
 */
export function unsafeComponent(
  host: HostFiles,
  path: string,
): PathProblem | undefined {
  const parts = path.split("/").filter((part) => part !== "");
  const components = [
    "/",
    ...parts.map((_, i) => "/" + parts.slice(0, i + 1).join("/")),
  ];
  for (const component of components) {
    // Under --root, the root's own parents are not the host's.
    if (host.root !== "/" && component === "/") continue;
    const info = host.stat(component);
    if (!info) return { kind: "missing" };
    const mode = info.mode ?? 0;
    const sticky = (mode & 0o1000) !== 0 && info.isDirectory;
    if (info.uid !== 0) {
      return { kind: "unsafe", component, why: `owned by uid ${info.uid}` };
    }
    if (sticky) continue;
    if (mode & 0o002) {
      return { kind: "unsafe", component, why: "writable by everyone" };
    }
    if ((mode & 0o020) && info.gid !== 0) {
      return {
        kind: "unsafe",
        component,
        why: `writable by group ${info.gid}`,
      };
    }
  }
  return undefined;
}

function executable(info: Deno.FileInfo, uid: number, gid: number): boolean {
  const mode = info.mode ?? 0;
  if (uid === 0) return (mode & 0o111) !== 0;
  if (info.uid === uid) return (mode & 0o100) !== 0;
  if (info.gid === gid) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}
