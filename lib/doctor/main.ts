/**
 * `vault-ha-active-node doctor`: reads the keepalived setup of this host the
 * way keepalived will run the check, runs the check once, and says what would
 * stop the VIP from following the active Vault node. Read-only. Loaded only
 * for `doctor`, so the check itself never pays for it.
 */

import { runCheck } from "../check.ts";
import { SetupError, UsageError } from "../errors.ts";
import { parseOptions, valueOptionField } from "../options.ts";
import { describe } from "../probe.ts";
import { debugReport, print, say } from "../report.ts";
import { hostPort, resolveTarget, type Target } from "../target.ts";
import { toldByVault } from "../verdict.ts";
import {
  checkConfig,
  comparePriorities,
  type ConfigReport,
  DEFAULT_PATH,
} from "./config_checks.ts";
import { DEFAULT_ENV_FILES, readEnvironment } from "./environment.ts";
import { type Finding, formatFinding } from "./finding.ts";
import { HostFiles } from "./host_files.ts";
import { readKeepalivedConf } from "./keepalived_conf.ts";
import { parseDoctorOptions } from "./options.ts";
import { readUsers } from "./passwd.ts";
import { checkTargetHost } from "./target_host.ts";

/** Check flags the doctor drops from the script line: it only reads. */
const DROPPED = new Set(["--log", "--journal-socket", "--state-file"]);
const DROPPED_SWITCHES = new Set(["--json", "--debug", "-d"]);

/** Runs the doctor with its arguments; returns the exit status. */
export async function runDoctor(args: readonly string[]): Promise<number> {
  let doctor;
  try {
    doctor = parseDoctorOptions(args);
    parseOptions(doctor.checkArgs);
  } catch (error: unknown) {
    if (!(error instanceof UsageError)) throw error;
    say(error.message);
    return 2;
  }
  if (doctor.help) {
    print(DOCTOR_HELP);
    return 0;
  }

  const host = new HostFiles(doctor.root);
  const findings: Finding[] = [];
  const facts: string[] = [];
  let report: ConfigReport;
  let environment;
  let reading = "--config";
  try {
    const conf = readKeepalivedConf(host, doctor.config);
    reading = "--env-file";
    environment = readEnvironment(
      host,
      doctor.envFiles ?? DEFAULT_ENV_FILES,
      doctor.envFiles !== undefined,
    );
    const path = environment.variables.get("PATH")?.value ?? DEFAULT_PATH;
    reading = "";
    report = checkConfig(conf, host, readUsers(host), path);
    reading = "--peer-config";
    const peers = doctor.peerConfigs.map((file) => ({
      file,
      instances:
        checkConfig(readKeepalivedConf(host, file), host, new Map(), path)
          .instances,
    }));
    findings.push(
      ...report.findings,
      ...comparePriorities(report.instances, peers),
    );
    facts.push(`configuration: ${conf.files.join(", ")}`);
    facts.push(
      `environment: ${environment.files.join(", ") || "no environment file"}`,
    );
  } catch (error: unknown) {
    print(formatFinding({
      severity: "error",
      code: "unreadable",
      what: `cannot read the setup: ${describe(error)}`,
      why: "the doctor cannot check what it cannot read",
      fix: unreadableFix(error, reading),
    }));
    return 1;
  }

  const script = report.scripts[0];
  if (script) {
    facts.push(
      `check: vrrp_script '${script.name}' (${script.where}) runs '${
        [...script.call.runner, script.call.program, ...script.call.args].join(
          " ",
        )
      }'`,
    );
  }
  const scriptArgs = overridden(
    dropLoggingFlags(script?.call.args ?? []),
    doctor.checkArgs,
  );
  let options;
  try {
    options = parseOptions(scriptArgs);
  } catch (error: unknown) {
    if (!(error instanceof UsageError)) throw error;
    options = parseOptions(doctor.checkArgs);
  }

  const variable = environment.variables.get("VAULT_ADDR");
  let target: Target | undefined;
  try {
    if (options.url !== undefined) {
      target = resolveTarget(options.url);
    } else if (variable && variable.value.trim() !== "") {
      target = {
        ...resolveTarget(variable.value.trim()),
        source: "VAULT_ADDR",
      };
    } else {
      findings.push({
        severity: "error",
        code: "no-target",
        what: `the script line has no --url and keepalived's environment (${
          environment.files.join(", ") || "no environment file"
        }) sets no VAULT_ADDR`,
        why:
          "keepalived does not pass a login shell's variables: the check fails on every run and this node never takes the VIP",
        fix:
          "add --url https://127.0.0.1:8200 to the script line, or VAULT_ADDR to keepalived's environment file",
      });
    }
  } catch (error: unknown) {
    if (!(error instanceof SetupError || error instanceof UsageError)) {
      throw error;
    }
    findings.push({
      severity: "error",
      code: "bad-target",
      what: error.message,
      why: "the check fails on every run and this node never takes the VIP",
      fix: "correct the address",
    });
  }

  if (target) {
    const origin = target.source === "VAULT_ADDR"
      ? `VAULT_ADDR in ${variable?.file}`
      : "--url";
    facts.push(`target: ${target.address} (from ${origin})`);
    findings.push(...proxyFindings(target, environment.variables));
    const vips = report.instances.flatMap((instance) => instance.addresses);
    const place = await checkTargetHost(target, vips, host);
    findings.push(...place.findings);
    const listener = hostPort(target);
    const permitted = Deno.permissions.querySync({
      name: "net",
      host: listener,
    }).state === "granted";
    if (place.local && !permitted) {
      facts.push(`verdict now: not asked, run with --allow-net=${listener}`);
    } else if (place.local) {
      const started = performance.now();
      const outcome = await runCheck(target, options.check, options.timeoutMs);
      debugReport({
        target,
        check: options.check,
        timeoutMs: options.timeoutMs,
        elapsedMs: Math.round((performance.now() - started) * 10) / 10,
        exit: outcome.verdict.active ? 0 : 1,
        warnings: [],
      }, outcome);
      const { verdict } = outcome;
      facts.push(
        `verdict now: ${
          verdict.active ? "active" : "not active"
        } (${verdict.state}): ${verdict.reason}`,
      );
      if (!toldByVault(verdict.state)) {
        findings.push({
          severity: "error",
          code: "check-cannot-tell",
          what:
            `the check cannot tell whether this node is active: ${verdict.reason}`,
          why:
            "it fails on every run, so this node never takes the VIP, even when its Vault is active",
          fix: "fix what the reason names, then run the doctor again",
        });
      }
    } else {
      facts.push("verdict now: not asked, the target is not this host");
    }
  }

  print(["vault-ha-active-node doctor", ...facts].join("\n"));
  for (const finding of findings) print("\n" + formatFinding(finding));
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.length - errors;
  print(
    "\n" +
      (errors > 0
        ? `${count(errors, "error")}, ${
          count(warnings, "warning")
        }: the VIP would not follow the active Vault node`
        : warnings > 0
        ? `${
          count(warnings, "warning")
        }, no errors: the VIP follows the active Vault node`
        : "No problems found: the VIP follows the active Vault node"),
  );
  return errors > 0 ? 1 : 0;
}

function dropLoggingFlags(args: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const flag = arg.split("=")[0] as string;
    if (DROPPED_SWITCHES.has(arg)) continue;
    if (DROPPED.has(flag)) {
      if (!arg.includes("=")) i++;
      continue;
    }
    kept.push(arg);
  }
  return kept;
}

/** What to do about a file the doctor could not read through `option`. */
function unreadableFix(error: unknown, option: string): string {
  if (error instanceof Deno.errors.NotFound && option !== "") {
    return `the file does not exist: give the path keepalived uses with ${option}${
      option === "--env-file"
        ? " (without it, the doctor reads those of /etc/default/keepalived and /etc/sysconfig/keepalived that exist)"
        : ""
    }`;
  }
  if (error instanceof Deno.errors.NotCapable) {
    return "run the doctor with --allow-read: it reads the configuration, its includes, the environment files, /etc/passwd and every part of the script's path";
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return "run the doctor as root, which can read what keepalived reads";
  }
  return "check the file named above";
}

/**
 * The script line's check arguments with each value option the doctor was
 * given replaced by the doctor's value (giving one twice is a mistake).
 */
function overridden(scriptArgs: string[], doctorArgs: string[]): string[] {
  const replaced = new Set(doctorArgs.map(valueOptionField));
  const kept: string[] = [];
  for (let i = 0; i < scriptArgs.length; i++) {
    const arg = scriptArgs[i] as string;
    const field = valueOptionField(arg);
    if (field !== undefined && replaced.has(field)) {
      if (!arg.includes("=")) i++;
      continue;
    }
    kept.push(arg);
  }
  return [...kept, ...doctorArgs];
}

function proxyFindings(
  target: Target,
  variables: Map<string, { value: string; file: string }>,
): Finding[] {
  if (target.scheme !== "https") return [];
  const set = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    .filter((name) => variables.get(name)?.value);
  if (set.length === 0) return [];
  return [{
    severity: "warning",
    code: "proxy-in-environment",
    what: `keepalived's environment sets ${set.join(", ")}`,
    why:
      "an https check obeys it and may ask a proxy instead of this node's Vault",
    fix: `remove ${
      set.join(", ")
    } from keepalived's environment, or set NO_PROXY=${target.hostname}`,
  }];
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

const DOCTOR_HELP =
  `Usage: vault-ha-active-node doctor [options] [check options]
Reads this host's keepalived setup as keepalived will run the check, runs the
check once (--debug lines on stderr) and lists what would stop the VIP from
following the active Vault node: what, why, and the fix. Read-only.
Exits 1 when something would, 0 otherwise, 2 on a command-line mistake.

Options:
  --config FILE       keepalived configuration (default
                      /etc/keepalived/keepalived.conf); includes are followed
  --peer-config FILE  another node's configuration, to compare priorities
                      (repeatable)
  --env-file FILE     keepalived's environment file (repeatable; default
                      /etc/default/keepalived and /etc/sysconfig/keepalived)
  --root DIR          read the host's files under DIR instead of /
  Check options (--url, --timeout, --check, TLS flags) override the script
  line's.

Permissions (Deno): --allow-read --allow-net --allow-sys=networkInterfaces
`;
