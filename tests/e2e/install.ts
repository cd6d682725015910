/**
 * Installs the check the way the README tells operators to: the program in
 * a root-owned directory with a filled Deno cache, and the launcher from
 * `examples/vault-ha-active-node.sh` as a root-owned 0755 file that
 * keepalived runs.
 */

import { run } from "./command.ts";

const REPOSITORY = new URL("../../", import.meta.url);

/** Where the README installs the program and its cache. */
export const README_LIBRARY = "/usr/local/lib/vault-ha-active-node";

/** Where the README's launcher finds Deno. */
export const README_DENO = "/usr/bin/deno";

/** An installed check. */
export interface Installed {
  /** The launcher keepalived runs: the first word of the `script` line. */
  readonly launcher: string;
  /** The directory holding the program and its cache. */
  readonly library: string;
}

/**
 * Installs into `root` (which must exist): `root/lib/vault-ha-active-node`
 * for the program and `root/bin/vault-ha-active-node` for the launcher.
 */
export async function installCheck(root: string): Promise<Installed> {
  const library = `${root}/lib/vault-ha-active-node`;
  const bin = `${root}/bin`;
  await Deno.mkdir(`${library}/lib`, { recursive: true, mode: 0o755 });
  await Deno.mkdir(bin, { recursive: true, mode: 0o755 });

  await copy("main.ts", `${library}/main.ts`);
  for await (const entry of Deno.readDir(new URL("lib/", REPOSITORY))) {
    if (entry.isFile && entry.name.endsWith(".ts")) {
      await copy(`lib/${entry.name}`, `${library}/lib/${entry.name}`);
    }
  }
  await fillCache(library);

  const template = await Deno.readTextFile(
    new URL("examples/vault-ha-active-node.sh", REPOSITORY),
  );
  const launcher = `${bin}/vault-ha-active-node`;
  await Deno.writeTextFile(
    launcher,
    template
      .replaceAll(README_LIBRARY, library)
      .replaceAll(`DENO=${README_DENO}`, `DENO=${Deno.execPath()}`),
  );
  await Deno.chmod(launcher, 0o755);
  for (const directory of [root, `${root}/lib`, library, bin]) {
    await Deno.chmod(directory, 0o755);
  }
  return { launcher, library };
}

async function copy(from: string, to: string): Promise<void> {
  await Deno.copyFile(new URL(from, REPOSITORY), to);
  await Deno.chmod(to, 0o644);
}

/**
 * Fills the cache the launcher points at, so that each run as the
 * unprivileged script user neither compiles nor retries writing a cache.
 */
async function fillCache(library: string): Promise<void> {
  const cached = await new Deno.Command(Deno.execPath(), {
    args: ["cache", "--quiet", "--no-config", `${library}/main.ts`],
    env: { DENO_DIR: `${library}/cache` },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!cached.success) {
    const said = new TextDecoder().decode(cached.stderr).trim();
    throw new Error(`Filling the Deno cache of '${library}' failed: '${said}'`);
  }
  await run("chmod", ["-R", "go-w,a+rX", `${library}/cache`]);
}

/**
 * What keepalived 2.2.7 does not check when the script runs as a non-root
 * user: that every part of `path` is owned by root and writable by nobody
 * else (a sticky directory such as /tmp excepted), and that the file is
 * executable. Returns one line per problem.
 */
export async function unsafePathProblems(path: string): Promise<string[]> {
  const problems: string[] = [];
  const parts = path.split("/").filter((part) => part !== "");
  for (let depth = 0; depth <= parts.length; depth++) {
    const prefix = `/${parts.slice(0, depth).join("/")}`;
    const info = await Deno.stat(prefix);
    const mode = info.mode ?? 0;
    const sticky = info.isDirectory && (mode & 0o1000) !== 0;
    if (info.uid !== 0) {
      problems.push(`'${prefix}' is owned by uid ${info.uid}, not root`);
    }
    if (!sticky && (mode & 0o022) !== 0) {
      const octal = (mode & 0o7777).toString(8);
      problems.push(`'${prefix}' is writable by non-root (mode ${octal})`);
    }
  }
  const mode = (await Deno.stat(path)).mode ?? 0;
  if ((mode & 0o001) === 0) {
    problems.push(`'${path}' is not executable by others`);
  }
  return problems;
}
