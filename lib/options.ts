/**
 * The command line: what the operator asked for, parsed without `node:util`
 * because starting Node compatibility would cost every run several
 * milliseconds and megabytes.
 */

import { UsageError } from "./errors.ts";

/** Which of Vault's endpoints decide whether this node is active. */
export type CheckMode = "leader" | "health" | "both";

/** Where `--log` sends the verdict; syslog needs an unstable Deno API. */
export type LogSink = "journal";

/** Everything the command line can set. */
export interface Options {
  url?: string;
  timeoutMs: number;
  check: CheckMode;
  debug: boolean;
  json: boolean;
  help: boolean;
  version: boolean;
  cacert?: string;
  capath?: string;
  cert?: string;
  key?: string;
  tlsServerName?: string;
  tlsSkipVerify?: boolean;
  log?: LogSink;
  journalSocket?: string;
  stateFile?: string;
}

/**
 * The deadline when `--timeout` is not given: short enough that start-up,
 * the request and the exit all fit inside keepalived's one-second `timeout`.
 */
export const DEFAULT_TIMEOUT_MS = 800;

/** The systemd journal's stream socket, which `--log journal` writes to. */
export const DEFAULT_JOURNAL_SOCKET = "/run/systemd/journal/stdout";

/** Where `--log` keeps the last verdict, so that it logs only changes. */
export const DEFAULT_STATE_FILE = "/run/vault-ha-active-node/last-verdict";

// Maps, not object literals: a word such as 'toString' is no option.
const VALUE_FLAGS = new Map<string, keyof Options>([
  ["--url", "url"],
  ["-u", "url"],
  ["--timeout", "timeoutMs"],
  ["-t", "timeoutMs"],
  ["--check", "check"],
  ["--cacert", "cacert"],
  ["--capath", "capath"],
  ["--cert", "cert"],
  ["--key", "key"],
  ["--tls-server-name", "tlsServerName"],
  ["--log", "log"],
  ["--journal-socket", "journalSocket"],
  ["--state-file", "stateFile"],
]);

/**
 * The field a value option such as `-u` or `--url=...` sets, or undefined
 * for a switch or an unknown word; lets the doctor put its own values in
 * place of a script line's.
 */
export function valueOptionField(arg: string): keyof Options | undefined {
  const flag = arg.startsWith("--") ? arg.split("=")[0] as string : arg;
  return VALUE_FLAGS.get(flag);
}

const SWITCHES = new Map<string, keyof Options>([
  ["--debug", "debug"],
  ["-d", "debug"],
  ["--json", "json"],
  ["--help", "help"],
  ["-h", "help"],
  ["--version", "version"],
  ["--tls-skip-verify", "tlsSkipVerify"],
]);

/**
 * Parses the arguments the way the Vault CLI's users expect: `--flag value`,
 * `--flag=value` and the short forms; throws {@linkcode UsageError} with one
 * line naming what was wrong.
 */
export function parseOptions(args: readonly string[]): Options {
  const options: Options = {
    timeoutMs: DEFAULT_TIMEOUT_MS,
    check: "leader",
    debug: false,
    json: false,
    help: false,
    version: false,
  };

  // A value given twice is a mistake whichever way it is read: the
  // original script took the last one, which hides the first.
  const given = new Map<keyof Options, { flag: string; value: string }>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = equals > 0 ? arg.slice(0, equals) : arg;

    const toggle = SWITCHES.get(flag);
    if (toggle !== undefined) {
      if (equals > 0) {
        throw new UsageError(`Option '${flag}' takes no value`);
      }
      (options as unknown as Record<string, boolean>)[toggle] = true;
      continue;
    }

    const field = VALUE_FLAGS.get(flag);
    if (field === undefined) {
      throw new UsageError(
        arg.startsWith("-")
          ? `Unknown option '${arg}': see --help for the options`
          : `Unexpected argument '${arg}': the target is given with --url`,
      );
    }
    let value: string | undefined;
    if (equals > 0) {
      value = arg.slice(equals + 1);
    } else {
      value = args[++i];
      // `--url --debug` forgot the URL; taking "--debug" as one would hide it.
      if (value === undefined || isOption(value)) {
        throw new UsageError(`Option '${flag}' needs a value`);
      }
    }
    const earlier = given.get(field);
    if (earlier !== undefined) {
      throw new UsageError(
        `Option '${flag}' is given twice ('${earlier.value}' from '${earlier.flag}', then '${value}'): give it once`,
      );
    }
    given.set(field, { flag, value });
    assign(options, field, flag, value);
  }
  // TODO: accept --cert with VAULT_CLIENT_KEY (or --key with
  // VAULT_CLIENT_CERT); today a client certificate and key must both come
  // from flags or both from variables.
  if (options.cert !== undefined && options.key === undefined) {
    throw new UsageError(
      "Option '--cert' needs '--key' with the client certificate's private key",
    );
  }
  if (options.key !== undefined && options.cert === undefined) {
    throw new UsageError(
      "Option '--key' needs '--cert' with the client certificate it belongs to",
    );
  }
  return options;
}

function isOption(arg: string): boolean {
  return arg.startsWith("--") || SWITCHES.has(arg) || VALUE_FLAGS.has(arg);
}

function assign(
  options: Options,
  field: keyof Options,
  flag: string,
  value: string,
): void {
  switch (field) {
    case "timeoutMs":
      options.timeoutMs = parseTimeout(flag, value);
      return;
    case "check":
      options.check = parseCheckMode(value);
      return;
    case "log":
      options.log = parseLogSink(value);
      return;
    default:
      (options as unknown as Record<string, string>)[field] = value;
  }
}

/**
 * The shortest deadline: 10 ms, the resolution `--debug` shows it in, is
 * already less than a loopback answer takes on a loaded host.
 */
const MIN_TIMEOUT_MS = 10;

/** The longest deadline: an hour is far past any keepalived `timeout`. */
const MAX_TIMEOUT_MS = 3_600_000;

function parseTimeout(flag: string, value: string): number {
  const seconds = /^\d+(\.\d+)?$|^\.\d+$/.test(value) ? Number(value) : NaN;
  const ms = Math.round(seconds * 1000);
  if (!(ms >= MIN_TIMEOUT_MS && ms <= MAX_TIMEOUT_MS)) {
    throw new UsageError(
      `Option '${flag}' needs a number of seconds from ${
        MIN_TIMEOUT_MS / 1000
      } to ${MAX_TIMEOUT_MS / 1000} (fractions allowed), got '${value}'`,
    );
  }
  return ms;
}

function parseCheckMode(value: string): CheckMode {
  if (value === "leader" || value === "health" || value === "both") {
    return value;
  }
  throw new UsageError(
    `Option '--check' takes 'leader', 'health' or 'both', got '${value}'`,
  );
}

function parseLogSink(value: string): LogSink {
  if (value === "journal") return value;
  // TODO: send to syslog's /dev/log once Deno's datagram sockets are
  // stable; today that needs --unstable-net and a socket path to bind.
  if (value === "syslog") {
    throw new UsageError(
      "Option '--log' cannot send to syslog ('/dev/log' needs an unstable Deno API): use '--log journal', which journald forwards to syslog when configured to",
    );
  }
  throw new UsageError(`Option '--log' takes 'journal', got '${value}'`);
}
