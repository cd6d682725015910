/**
 * Installs the check the way the README's "Installing for keepalived",
 * option B, tells operators to: the sources in a root-owned directory, a
 * `deno install` wrapper with the permission flags baked in, and a Deno
 * cache filled at install time (`deno cache`, then two runs of the check)
 * and readable by the script user, which keepalived's environment names in
 * `DENO_DIR`.
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
  // 1. The sources: the program and everything it may load.
  const source = `${root}/src`;
  await Deno.mkdir(source, { recursive: true, mode: 0o755 });
  for (const file of ["main.ts", "deno.json"]) {
    await copy(file, `${source}/${file}`);
  }
  await copyModules("lib", `${source}/lib`);

  // 2. A wrapper with the permission flags baked in.
  await run(Deno.execPath(), [
    ...["install", "--quiet", "--global", "--force", "--root", root],
    ...["--name", PROGRAM],
    ...permissions,
    `${source}/main.ts`,
  ]);
  const launcher = `${root}/bin/${PROGRAM}`;

  // 3. A cache filled now, readable by the script user: every module the
  // check can load, then two runs of the check (whatever they answer),
  // after which Deno opens its cache databases read-only.
  const cache = `${root}/cache`;
  const environment = { DENO_DIR: cache, PATH: searchPath() };
  await fill(Deno.execPath(), ["cache", `${source}/main.ts`], environment, {
    verdict: false,
  });
  // The README's runs ask an https:// address on this host; here it is one
  // nobody listens on, so they load the https modules, are refused and
  // send nothing anywhere.
  const address = `https://127.0.0.1:${closedPort()}`;
  for (const _ of [1, 2]) {
    await fill(launcher, [], { ...environment, VAULT_ADDR: address }, {
      verdict: true,
    });
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

/**
 * Runs one step of filling the cache. A run of the check may end with any
 * verdict (the README's `|| true`) but not with a mistake or a crash; any
 * other step must succeed.
 */
async function fill(
  program: string,
  args: string[],
  env: Record<string, string>,
  { verdict }: { verdict: boolean },
): Promise<void> {
  const filled = await new Deno.Command(program, {
    args,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const said = new TextDecoder().decode(filled.stderr).trim();
  const ended = verdict
    ? filled.code <= 1 && !said.includes("internal error")
    : filled.success;
  if (!ended) {
    throw new Error(
      `Filling the Deno cache '${env.DENO_DIR}' with '${
        [program, ...args].join(" ")
      }' failed with exit ${filled.code}: '${said}'`,
    );
  }
}

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Copies the TypeScript modules under `from` (relative to the repository). */
async function copyModules(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { mode: 0o755 });
  for await (const entry of Deno.readDir(new URL(`${from}/`, REPOSITORY))) {
    if (entry.isDirectory) {
      await copyModules(`${from}/${entry.name}`, `${to}/${entry.name}`);
    } else if (entry.isFile && entry.name.endsWith(".ts")) {
      await copy(`${from}/${entry.name}`, `${to}/${entry.name}`);
    }
  }
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
