/**
 * keepalived on one test host: the configuration rendered from
 * `examples/keepalived.conf`, the daemon run in the foreground inside the
 * host's namespace, and its console log, read for signs that it dropped the
 * check and now fails open.
 */

import { searchPath } from "./install.ts";
import { type Host, HOST_INTERFACE, PREFIX, VIP } from "./network.ts";

const EXAMPLE = new URL("../../examples/keepalived.conf", import.meta.url);

/** The `script` path in the example, which the test replaces by its own. */
export const EXAMPLE_SCRIPT = "/usr/local/bin/vault-ha-active-node";

/** What differs between hosts, and where the check is installed. */
export interface HostValues {
  readonly interface: string;
  readonly priority: number;
  readonly routerId: string;
  readonly virtualAddress: string;
  /** The installed launcher, in place of {@linkcode EXAMPLE_SCRIPT}. */
  readonly script: string;
  /** Arguments appended to the quoted `script` line, if any. */
  readonly scriptArguments?: string;
}

/** The values for `host`, the first host having the highest priority. */
export function hostValues(
  host: Host,
  index: number,
  script: string,
): HostValues {
  return {
    interface: HOST_INTERFACE,
    priority: 150 - 50 * index,
    routerId: `vault-${host.name}`,
    virtualAddress: `${VIP}/${PREFIX}`,
    script,
  };
}

/** Reads the example configuration. */
export function readExample(): Promise<string> {
  return Deno.readTextFile(EXAMPLE);
}

/**
 * Fills in the example's per-host definitions (`$NAME=value` lines, which
 * keepalived expands itself) and the installed script path. Throws if the
 * example no longer has a line the test expects to replace.
 */
export function renderConfig(example: string, values: HostValues): string {
  const definitions: Record<string, string> = {
    INTERFACE: values.interface,
    PRIORITY: String(values.priority),
    ROUTER_ID: values.routerId,
    VIRTUAL_ADDRESS: values.virtualAddress,
  };
  let config = example;
  for (const [name, value] of Object.entries(definitions)) {
    const line = new RegExp(`^\\$${name}=.*$`, "m");
    if (!line.test(config)) {
      throw new Error(`The example configuration has no '$${name}=' line`);
    }
    config = config.replace(line, `$${name}=${value}`);
  }
  const script = `script "${EXAMPLE_SCRIPT}"`;
  if (!config.includes(script)) {
    throw new Error(`The example configuration has no line '${script}'`);
  }
  const extra = values.scriptArguments ? ` ${values.scriptArguments}` : "";
  return config.replace(script, `script "${values.script}${extra}"`);
}

/** The check timing keepalived was configured with, in seconds. */
export interface CheckTiming {
  readonly interval: number;
  readonly timeout: number;
  readonly fall: number;
  readonly rise: number;
  readonly advertInterval: number;
}

/** Reads the `vrrp_script` and `advert_int` timing from a configuration. */
export function checkTiming(config: string): CheckTiming {
  const read = (keyword: string): number => {
    const found = config.match(new RegExp(`^\\s*${keyword}\\s+([\\d.]+)`, "m"));
    if (!found?.[1]) {
      throw new Error(`The configuration has no '${keyword}' setting`);
    }
    return Number(found[1]);
  };
  return {
    interval: read("interval"),
    timeout: read("timeout"),
    fall: read("fall"),
    rise: read("rise"),
    advertInterval: read("advert_int"),
  };
}

/**
 * Log lines that mean keepalived disabled, removed or ignored the check, so
 * the instance runs untracked and takes the address whatever Vault says.
 */
export const FAIL_OPEN_SIGNS: readonly RegExp[] = [
  /Disabling track script/i,
  /Unsafe permissions/i,
  /SECURITY VIOLATION/i,
  /is not executable/i,
  /could not find script/i,
  /Unable to set default user/i,
  /Error setting global script/i,
  /track script \S+ not found, ignoring/i,
  /script user '\S+' does not exist/i,
];

/** keepalived running on one host. */
export interface Keepalived {
  readonly host: Host;
  readonly pid: number;
  /** Every console line so far. */
  readonly log: readonly string[];
  /** The log lines matching {@linkcode FAIL_OPEN_SIGNS}. */
  failOpenLines(): string[];
  /** Stops it with SIGTERM (SIGKILL after 5 s) and waits for its exit. */
  stop(): Promise<void>;
}

/** Where one keepalived keeps its configuration and pid files. */
export interface KeepalivedFiles {
  readonly config: string;
  readonly pidPrefix: string;
}

/**
 * Starts keepalived in the foreground in `host`'s namespace with `config`,
 * only VRRP and its own pid files. Its environment is `PATH` and nothing
 * but `environment` (`VAULT_ADDR`, `DENO_DIR`), as systemd would give it
 * from an `EnvironmentFile` such as `/etc/default/keepalived`.
 */
export async function startKeepalived(
  host: Host,
  files: KeepalivedFiles,
  config: string,
  environment: Readonly<Record<string, string>>,
): Promise<Keepalived> {
  await Deno.writeTextFile(files.config, config, { mode: 0o644 });
  const child = new Deno.Command("ip", {
    args: [
      ...["netns", "exec", host.namespace, "keepalived", "--dont-fork"],
      ...["--log-console", "--log-detail", "--no-syslog", "--vrrp"],
      ...["-f", files.config, "-p", `${files.pidPrefix}.pid`],
      ...["-r", `${files.pidPrefix}.vrrp.pid`],
      ...["-c", `${files.pidPrefix}.checkers.pid`],
    ],
    clearEnv: true,
    env: { PATH: searchPath(), ...environment },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const reading = Promise.all([
    collect(child.stdout, log),
    collect(child.stderr, log),
  ]);
  let stopped: Promise<void> | undefined;
  return {
    host,
    pid: child.pid,
    log,
    failOpenLines: () =>
      log.filter((line) => FAIL_OPEN_SIGNS.some((sign) => sign.test(line))),
    stop: () => {
      stopped ??= stop(child, reading);
      return stopped;
    },
  };
}

async function stop(
  child: Deno.ChildProcess,
  reading: Promise<unknown>,
): Promise<void> {
  const killer = setTimeout(() => signal(child, "SIGKILL"), 5_000);
  signal(child, "SIGTERM");
  await child.status;
  clearTimeout(killer);
  await reading;
}

function signal(child: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    child.kill(name);
  } catch {
    // Already gone.
  }
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  log: string[],
): Promise<void> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (pending + text).split("\n");
    pending = lines.pop() ?? "";
    log.push(...lines);
  }
  if (pending !== "") log.push(pending);
}
