/** The doctor's command line: its own flags, and check flags passed on. */

import { UsageError } from "../errors.ts";

/** What the doctor was asked to read. */
export interface DoctorOptions {
  config: string;
  peerConfigs: string[];
  /** Undefined: the packaged defaults, skipped when missing. */
  envFiles?: string[];
  root: string;
  help: boolean;
  /** Check flags (e.g. `--url`), which win over the script line's. */
  checkArgs: string[];
}

/** Where keepalived reads its configuration by default. */
const DEFAULT_CONFIG = "/etc/keepalived/keepalived.conf";

/** Parses the doctor's arguments; throws {@linkcode UsageError}. */
export function parseDoctorOptions(args: readonly string[]): DoctorOptions {
  const options: DoctorOptions = {
    config: DEFAULT_CONFIG,
    peerConfigs: [],
    root: "/",
    help: false,
    checkArgs: [],
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = equals > 0 ? arg.slice(0, equals) : arg;
    if (flag === "--help" || flag === "-h") {
      options.help = true;
      continue;
    }
    if (!["--config", "--peer-config", "--env-file", "--root"].includes(flag)) {
      options.checkArgs.push(arg);
      continue;
    }
    const value = equals > 0 ? arg.slice(equals + 1) : args[++i];
    if (value === undefined || value === "") {
      throw new UsageError(`Option '${flag}' needs a value`);
    }
    if (flag === "--config") options.config = value;
    else if (flag === "--peer-config") options.peerConfigs.push(value);
    else if (flag === "--env-file") {
      (options.envFiles ??= []).push(value);
    } else options.root = value;
  }
  return options;
}
