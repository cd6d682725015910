/**
 * Installs the check the way the README's "Installing for keepalived",
 * option B, tells operators to: the sources in a root-owned directory, a
 * `deno install` wrapper with the permission flags baked in, and a Deno
 * cache filled at install time and readable by the script user, which
 * keepalived's environment names in `DENO_DIR`.
 */

import { run } from "./command.ts";

const REPOSITORY = new URL("../../", import.meta.url);

/** The program's name: the wrapper's file name. */
export const PROGRAM = "vault-ha-active-node";

/** The permission flags option B bakes into the wrapper. */
export const DEFAULT_PERMISSIONS: readonly string[] = [
  "--no-prompt",
  "--allow-env=VAULT_ADDR",
  "--allow-net",
];

/** The task whose flags the README gives for a check over TLS. */
export const TLS_TASK = "compile-tls";

/** An installed check. */
export interface Installed {
  /** The wrapper keepalived runs: the first word of the `script` line. */
  readonly launcher: string;
  /** The cache to give keepalived as `DENO_DIR`. */
  readonly cache: string;
}

/**
 * Installs into `root` (which must exist): `root/src` for the sources,
 * `root/bin/vault-ha-active-node` for the wrapper, `root/cache` for the
 * cache; everything owned by root and writable by nobody else. The
 * wrapper carries `permissions`.
 */
export async function installCheck(
  root: string,
  permissions: readonly string[] = DEFAULT_PERMISSIONS,
): Promise<Installed> {
  const source = `${root}/src`;
  await Deno.mkdir(`${source}/lib`, { recursive: true, mode: 0o755 });
  for (const file of ["main.ts", "deno.json"]) {
    await copy(file, `${source}/${file}`);
  }
  for await (const entry of Deno.readDir(new URL("lib/", REPOSITORY))) {
    if (entry.isFile && entry.name.endsWith(".ts")) {
      await copy(`lib/${entry.name}`, `${source}/lib/${entry.name}`);
    }
  }

  // 2. A wrapper with the permission flags baked in.
  await run(Deno.execPath(), [
    ...["install", "--quiet", "--global", "--root", root, "--name", PROGRAM],
    ...permissions,
    `${source}/main.ts`,
  ]);
  const launcher = `${root}/bin/${PROGRAM}`;

  // 3. A cache filled now, readable by the script user.
  const cache = `${root}/cache`;
  const filled = await new Deno.Command(launcher, {
    args: ["--version"],
    env: { DENO_DIR: cache, PATH: searchPath() },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!filled.success) {
    const said = new TextDecoder().decode(filled.stderr).trim();
    throw new Error(`Filling the Deno cache '${cache}' failed: '${said}'`);
  }
  await run("chmod", ["-R", "go-w,a+rX", root]);
  return { launcher, cache };
}

/**
 * The permission flags of deno.json's {@linkcode TLS_TASK} task (the TLS
 * variables and the network), with its example `--allow-read` directory
 * replaced by exactly `files`: what the README tells operators to bake in.
 */
export async function tlsPermissions(
  files: readonly string[],
): Promise<string[]> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", REPOSITORY)),
  );
  const command: unknown = config?.tasks?.[TLS_TASK]?.command;
  if (typeof command !== "string") {
    throw new Error(`deno.json has no task '${TLS_TASK}' with a command`);
  }
  const flags = command.split(/\s+/).filter((word) =>
    word === "--no-prompt" || word.startsWith("--allow-")
  );
  if (!flags.some((flag) => flag.startsWith("--allow-read="))) {
    throw new Error(`The task '${TLS_TASK}' gives no '--allow-read=' flag`);
  }
  return flags.map((flag) =>
    flag.startsWith("--allow-read=") ? `--allow-read=${files.join(",")}` : flag
  );
}

/**
 * The `PATH` keepalived gets from systemd, with the directory of the Deno
 * running this test last, so that the wrapper finds a `deno` here too.
 */
export function searchPath(): string {
  const deno = Deno.execPath();
  const directory = deno.slice(0, deno.lastIndexOf("/"));
  return `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${directory}`;
}

async function copy(from: string, to: string): Promise<void> {
  await Deno.copyFile(new URL(from, REPOSITORY), to);
  await Deno.chmod(to, 0o644);
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
