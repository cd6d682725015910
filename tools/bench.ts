/**
 * `deno task bench`: what one check costs as a whole process, side by side
 * with a bare Deno `fetch`, `curl` and python3 + requests, all asking the
 * same simulated active Vault on loopback.
 *
 * Variants run round-robin (the starting variant rotates every round) so
 * that machine noise hits all of them alike. Each round runs every variant
 * twice: once directly, for wall and CPU time from `wait4`, and once under
 * GNU time, for peak memory (a child started from this process would
 * otherwise inherit its peak). Every run must exit 0, or the benchmark
 * stops: a failing run would not be measuring a check.
 *
 * Options: `--runs N` (rounds, default 30), `--json FILE` (default
 * `.tmp/bench.json`), `--failover FILE` (a file holding the `failover:`
 * line of the keepalived end-to-end test, default `.tmp/failover.txt`).
 * The whole run is bounded by a time budget and removes everything it made.
 */

import { spawnAndMeasure } from "./bench_spawn.ts";
import {
  buildRecord,
  renderMarkdown,
  type Samples,
  type Skipped,
} from "./bench_report.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const NAME = "vault-ha-active-node";
const PERMISSIONS = ["--no-prompt", "--allow-env=VAULT_ADDR", "--allow-net"];
const WARMUP_ROUNDS = 3;
/** Rounds stop when this budget is spent, whatever `--runs` says. */
const BUDGET_MS = 150_000;
const GNU_TIME = "/usr/bin/time";
const NOBODY = "65534";

interface Variant {
  name: string;
  ours: boolean;
  argv: string[];
  env: Record<string, string>;
}

const options = readOptions(Deno.args);
const deno = Deno.execPath();
const path = Deno.env.get("PATH") ?? "/usr/bin:/bin";
const home = Deno.env.get("HOME") ?? "/root";
const work = await Deno.makeTempDir({ prefix: "bench-" });
const simulator = await startSimulator();

try {
  const url = simulator.url;
  const skipped: Skipped[] = [];
  const variants = await prepare(url, skipped);
  const samples = measure(variants);
  const record = buildRecord(samples, skipped, {
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    target: `${url}/v1/sys/leader (simulated active Vault)`,
    rounds: samples[0]?.wallMs.length ?? 0,
    failover: await readFailover(options.failover),
  });
  await Deno.mkdir(options.json.replace(/\/[^/]*$/, "") || "/", {
    recursive: true,
  });
  await Deno.writeTextFile(
    options.json,
    JSON.stringify(record, null, 2) + "\n",
  );
  // deno-lint-ignore no-console
  console.log(renderMarkdown(record));
  const failover = record.failover as string | null;
  // deno-lint-ignore no-console
  console.log(
    failover === null
      ? `- keepalived failover: not available (no '${options.failover}'; run the end-to-end test first)`
      : `- keepalived ${failover}`,
  );
  // deno-lint-ignore no-console
  console.log(`\nJSON written to ${options.json}`);
} finally {
  simulator.process.kill("SIGTERM");
  await simulator.process.status;
  await Deno.remove(work, { recursive: true });
}

function readOptions(args: string[]) {
  const result = {
    runs: 30,
    json: `${ROOT}/.tmp/bench.json`,
    failover: `${ROOT}/.tmp/failover.txt`,
  };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === "--runs" && value !== undefined && /^[1-9]\d*$/.test(value)) {
      result.runs = Math.min(Number(value), 200);
    } else if (flag === "--json" && value !== undefined) {
      result.json = value;
    } else if (flag === "--failover" && value !== undefined) {
      result.failover = value;
    } else {
      throw new Error(
        `Unknown bench argument '${flag}': use --runs N, --json FILE, --failover FILE`,
      );
    }
  }
  return result;
}

async function startSimulator() {
  const process = new Deno.Command(deno, {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      `${ROOT}/tests/support/simulator_main.ts`,
      "--hostname",
      "127.0.0.1",
      "--port",
      "0",
      "--product",
      "vault",
      "--state",
      "active",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = process.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("The simulated Vault ended before it was ready");
    text += value;
  }
  reader.releaseLock();
  const match = /^ready (\S+)/.exec(text);
  if (!match) throw new Error(`The simulated Vault said '${text.trim()}'`);
  return { process, url: match[1] as string };
}

async function run(
  args: string[],
  env: Record<string, string> = {},
  command = deno,
) {
  const output = await new Deno.Command(command, {
    args,
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `'${command} ${args.join(" ")}' failed: ${
        new TextDecoder().decode(output.stderr).trim()
      }`,
    );
  }
}

/** Builds the installs under test and lists every variant to run. */
async function prepare(url: string, skipped: Skipped[]): Promise<Variant[]> {
  await Deno.chmod(work, 0o755);
  const main = `${ROOT}/main.ts`;
  const variants: Variant[] = [{
    name: "deno run main.ts",
    ours: true,
    argv: [deno, "run", ...PERMISSIONS, main],
    env: { PATH: path, HOME: home, VAULT_ADDR: url },
  }];

  // The installs: a wrapper written by `deno install`, run by a user without
  // a home directory, as keepalived's script user is, with DENO_DIR set.
  const asNobody = Deno.uid() === 0;
  const user = asNobody
    ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"]
    : [];
  if (!asNobody) {
    skipped.push({
      name: "user switch",
      reason: "not root: the wrappers run as the current user",
    });
  }
  const install = async (name: string, entry: string) => {
    await run(["install", "--global", "--root", work, "--name", name]
      .concat(PERMISSIONS, entry));
    return `${work}/bin/${name}`;
  };
  const wrapper = await install(NAME, main);
  // The README's recommended launcher: `deno install` always points its
  // wrapper at a configuration file, and reading even that one-line file
  // costs every run about 1 MB; a wrapper written by hand can say
  // --no-config.
  const writeWrapper = async (name: string, entry: string) => {
    const file = `${work}/bin/${name}`;
    await Deno.writeTextFile(
      file,
      `#!/bin/sh\nexec deno run --no-config ${
        PERMISSIONS.join(" ")
      } '${entry}' "$@"\n`,
    );
    await Deno.chmod(file, 0o755);
    return file;
  };

  // A cache filled by root and only readable by the script user. Deno's
  // cache databases open read-only only once a second run has used them:
  // after a single run Deno falls back to empty in-memory ones and then
  // parses and compiles everything on every run. The fill runs the check
  // itself, so that the code for fetch is cached too (`--version` is not).
  const fill = async (cache: string, launcher: string, runs: number) => {
    for (let i = 0; i < runs; i++) {
      await run([], { DENO_DIR: cache, VAULT_ADDR: url }, launcher);
    }
    return cache;
  };
  variants.push({
    name: "wrapper, cache read-only, filled once",
    ours: true,
    argv: [...user, wrapper],
    env: {
      PATH: path,
      DENO_DIR: await fill(`${work}/cache-read-only-once`, wrapper, 1),
      VAULT_ADDR: url,
    },
  });
  variants.push({
    name: "wrapper, cache read-only",
    ours: true,
    argv: [...user, wrapper],
    env: {
      PATH: path,
      DENO_DIR: await fill(`${work}/cache-read-only`, wrapper, 2),
      VAULT_ADDR: url,
    },
  });

  // A cache directory owned by the script user, filled by its first run.
  const owned = await ownedCache("cache-owned");
  variants.push({
    name: "wrapper, cache owned",
    ours: true,
    argv: [...user, wrapper],
    env: { PATH: path, DENO_DIR: owned, VAULT_ADDR: url },
  });

  // The same over one bundled JavaScript file (`deno task bundle`).
  const bundle = `${work}/${NAME}.js`;
  try {
    await run(["bundle", "--quiet", "--platform", "deno", "-o", bundle, main]);
    await Deno.chmod(bundle, 0o644);
    const bundled = await install(`${NAME}-bundled`, bundle);
    variants.push({
      name: "bundled wrapper, cache owned",
      ours: true,
      argv: [...user, bundled],
      env: {
        PATH: path,
        DENO_DIR: await ownedCache("cache-bundled"),
        VAULT_ADDR: url,
      },
    });

    // The bundle behind the hand-written --no-config wrapper, with a cache
    // filled by root and only readable by the script user, and with one the
    // script user owns.
    const plain = await writeWrapper(`${NAME}-no-config`, bundle);
    variants.push({
      name: "bundle, --no-config, cache read-only",
      ours: true,
      argv: [...user, plain],
      env: {
        PATH: path,
        DENO_DIR: await fill(`${work}/cache-no-config-read-only`, plain, 2),
        VAULT_ADDR: url,
      },
    });
    variants.push({
      name: "bundle, --no-config, cache owned",
      ours: true,
      argv: [...user, plain],
      env: {
        PATH: path,
        DENO_DIR: await ownedCache("cache-no-config"),
        VAULT_ADDR: url,
      },
    });
  } catch (error: unknown) {
    skipped.push({
      name: "bundled wrapper",
      reason: `deno bundle failed: ${(error as Error).message}`,
    });
  }

  const compiled = Deno.env.get("DENORT_BIN");
  if (compiled) {
    await run([
      "compile",
      ...PERMISSIONS,
      "--output",
      `${work}/${NAME}`,
      main,
    ]);
    variants.push({
      name: "deno compile binary",
      ours: true,
      argv: [...user, `${work}/${NAME}`],
      env: { PATH: path, VAULT_ADDR: url },
    });
  } else {
    skipped.push({
      name: "deno compile binary",
      reason:
        "DENORT_BIN is not set and Deno's runtime cannot be downloaded here",
    });
  }

  variants.push({
    name: "fetch floor",
    ours: false,
    argv: [
      deno,
      "run",
      "--no-config",
      "--allow-net",
      `${ROOT}/tools/bench_floor.ts`,
      url,
    ],
    env: { PATH: path, HOME: home },
  });
  variants.push({
    name: "curl",
    ours: false,
    argv: [
      "curl",
      "-sf",
      "-o",
      "/dev/null",
      "--max-time",
      "1",
      `${url}/v1/sys/leader`,
    ],
    env: { PATH: path },
  });

  const python = await findPythonWithRequests();
  if (python) {
    variants.push({
      name: "python3 + requests",
      ours: false,
      argv: [python, `${ROOT}/tools/bench_requests.py`, url],
      env: { PATH: path },
    });
  } else {
    skipped.push({
      name: "python3 + requests",
      reason: "no python3 on PATH can import requests",
    });
  }
  return variants;
}

/** An empty cache directory the script user owns. */
async function ownedCache(name: string): Promise<string> {
  const directory = `${work}/${name}`;
  await Deno.mkdir(directory, { mode: 0o700 });
  if (Deno.uid() === 0) {
    await Deno.chown(directory, Number(NOBODY), Number(NOBODY));
  }
  return directory;
}

async function findPythonWithRequests(): Promise<string | null> {
  try {
    // The real interpreter, not a version manager's shim script.
    const output = await new Deno.Command("python3", {
      args: ["-c", "import sys, requests; print(sys.executable)"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const executable = new TextDecoder().decode(output.stdout).trim();
    return output.success && executable !== "" ? executable : null;
  } catch {
    return null;
  }
}

function measure(variants: Variant[]): Samples[] {
  const rssFile = `${work}/rss`;
  const haveTime = (() => {
    try {
      return Deno.statSync(GNU_TIME).isFile;
    } catch {
      return false;
    }
  })();
  const samples: Samples[] = variants.map((variant) => ({
    name: variant.name,
    command: variant.argv.map((arg) => arg.replace(work, "$TMP")).join(" "),
    ours: variant.ours,
    wallMs: [],
    cpuMs: [],
    maxRssKiB: [],
  }));

  const once = (variant: Variant, index: number, record: boolean) => {
    const cost = spawnAndMeasure(variant.argv, variant.env);
    if (cost.status !== 0) {
      throw new Error(
        `'${variant.name}' exited ${cost.status} instead of 0: run '${
          variant.argv.join(" ")
        }' by hand to see why`,
      );
    }
    let rss: number | undefined;
    if (haveTime) {
      const timed = spawnAndMeasure(
        [GNU_TIME, "-f", "%M", "-o", rssFile, ...variant.argv],
        variant.env,
      );
      if (timed.status !== 0) {
        throw new Error(`'${variant.name}' failed under GNU time`);
      }
      rss = Number(Deno.readTextFileSync(rssFile).trim().split("\n").at(-1));
    }
    if (!record) return;
    const sample = samples[index] as Samples;
    sample.wallMs.push(cost.wallMs);
    sample.cpuMs.push(cost.cpuMs);
    if (rss !== undefined) sample.maxRssKiB.push(rss);
  };

  const started = performance.now();
  for (let round = 0; round < WARMUP_ROUNDS + options.runs; round++) {
    if (performance.now() - started > BUDGET_MS) break;
    for (let step = 0; step < variants.length; step++) {
      const index = (round + step) % variants.length;
      once(variants[index] as Variant, index, round >= WARMUP_ROUNDS);
    }
  }
  return samples;
}

async function readFailover(file: string): Promise<string | null> {
  try {
    const text = await Deno.readTextFile(file);
    return /^failover: .*$/m.exec(text)?.[0] ?? null;
  } catch {
    return null;
  }
}
