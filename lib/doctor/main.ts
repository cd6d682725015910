/**
 * The doctor, a program of its own (`deno task doctor`): reads the keepalived
 * setup of this host the way keepalived will run the check, runs the check
 * once, and says what would stop the VIP from following the active Vault
 * node. Read-only. No module of the check imports it, so the check never
 * reads, let alone loads, the doctor's modules.
 */

import { runCheck } from "../check.ts";
import { SetupError, UsageError } from "../errors.ts";
import { type Options, parseOptions, valueOptionField } from "../options.ts";
import { describe, millisecondsSince } from "../probe.ts";
import { debugReport, print, relay, say } from "../report.ts";
import { accessFlags, parseAddress, type Target } from "../target.ts";
import { resolveTls, type TlsSettings } from "../tls_settings.ts";
import { toldByVault, type Verdict } from "../verdict.ts";
import {
  checkConfig,
  type CheckScript,
  comparePriorities,
  type ConfigReport,
  DEFAULT_PATH,
} from "./config_checks.ts";
import {
  DEFAULT_ENV_FILES,
  readEnvironment,
  type ScriptEnvironment,
} from "./environment.ts";
import { runtimeVariableFindings } from "./runtime_variables.ts";
import { type Finding, formatFinding } from "./finding.ts";
import { HostFiles } from "./host_files.ts";
import { readKeepalivedConf } from "./keepalived_conf.ts";
import { type DoctorOptions, parseDoctorOptions } from "./options.ts";
import { readUsers } from "./passwd.ts";
import { runScriptLine } from "./run_script.ts";
import { checkTargetHost } from "./target_host.ts";

/** Check flags the doctor drops, its own or the script line's: it only reads. */
const DROPPED = new Set(["--log", "--journal-socket", "--state-file"]);
const DROPPED_SWITCHES = new Set(["--json", "--debug", "-d"]);

/** Runs the doctor with its arguments; returns the exit status. */
export async function runDoctor(args: readonly string[]): Promise<number> {
  let doctor: DoctorOptions;
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
  const setup = readSetup(host, doctor);
  if (setup === undefined) return 1;
  const { report, environment, facts, findings } = setup;

  const script = report.scripts[0];
  if (script) facts.push(scriptFact(script));
  const scriptArgs = dropLoggingFlags(
    overridden(script?.call.args ?? [], doctor.checkArgs),
  );
  const options = checkOptions(scriptArgs, doctor.checkArgs);

  const resolved = resolveDoctorTarget(options, environment, findings);
  if (resolved) {
    const { target, origin } = resolved;
    facts.push(`target: ${target.address} (from ${origin})`);
    const vips = report.instances.flatMap((instance) => instance.addresses);
    const place = await checkTargetHost(target, vips, host);
    findings.push(...place.findings);
    if (place.local) {
      const how = howToRun(doctor.root, script);
      const verdict = await runCheckOnce(how, {
        target,
        scriptArgs,
        options: underRoot(options, host),
        environment,
        facts,
      });
      collectVerdict(verdict, target, facts, findings);
    } else {
      facts.push("verdict now: not asked, the target is not this host");
    }
  }

  printReport(facts, findings);
  return findings.some((finding) => finding.severity === "error") ? 1 : 0;
}

/** The host's setup as keepalived reads it, and the first facts and findings. */
interface Setup {
  report: ConfigReport;
  environment: ScriptEnvironment;
  facts: string[];
  findings: Finding[];
}

/**
 * Reads keepalived's configuration, its environment and the peers'
 * configurations; prints the one finding and returns undefined when a file
 * cannot be read.
 */
function readSetup(host: HostFiles, doctor: DoctorOptions): Setup | undefined {
  let reading = "--config";
  try {
    const conf = readKeepalivedConf(host, doctor.config);
    reading = "--env-file";
    const environment = readEnvironment(
      host,
      doctor.envFiles ?? DEFAULT_ENV_FILES,
      doctor.envFiles !== undefined,
    );
    const path = environment.variables.get("PATH")?.value ?? DEFAULT_PATH;
    reading = "";
    const report = checkConfig(conf, host, readUsers(host), path);
    reading = "--peer-config";
    const peers = doctor.peerConfigs.map((file) => ({
      file,
      instances:
        checkConfig(readKeepalivedConf(host, file), host, new Map(), path)
          .instances,
    }));
    return {
      report,
      environment,
      findings: [
        ...report.findings,
        ...comparePriorities(report.instances, peers),
        ...runtimeVariableFindings(environment.variables),
      ],
      facts: [
        `configuration: ${conf.files.join(", ")}`,
        `environment: ${environment.files.join(", ") || "no environment file"}`,
      ],
    };
  } catch (error: unknown) {
    print(formatFinding({
      severity: "error",
      code: "unreadable",
      what: `cannot read the setup: ${describe(error)}`,
      why: "the doctor cannot check what it cannot read",
      fix: unreadableFix(error, reading),
    }));
    return undefined;
  }
}

/** The `check:` fact: which script runs the check, and its line. */
function scriptFact(script: CheckScript): string {
  const line = [...script.call.runner, script.call.program, ...script.call.args]
    .join(" ");
  return `check: vrrp_script '${script.name}' (${script.where}) runs '${line}'`;
}

/** The check's options: the script line's, else the doctor's own alone. */
function checkOptions(scriptArgs: string[], doctorArgs: string[]): Options {
  try {
    return parseOptions(scriptArgs);
  } catch (error: unknown) {
    if (!(error instanceof UsageError)) throw error;
    return parseOptions(doctorArgs);
  }
}

/** The target and where it came from, e.g. `VAULT_ADDR in /etc/default/x`. */
interface DoctorTarget {
  target: Target;
  origin: string;
}

/**
 * The target as the check resolves it (`--url`, else BAO_ADDR, else
 * VAULT_ADDR); adds a finding and returns undefined when there is none.
 */
function resolveDoctorTarget(
  options: Options,
  environment: ScriptEnvironment,
  findings: Finding[],
): DoctorTarget | undefined {
  const address = (["BAO_ADDR", "VAULT_ADDR"] as const)
    .map((name) => ({ name, ...environment.variables.get(name) }))
    .find((variable) => variable.value?.trim());
  try {
    if (options.url !== undefined) {
      return { target: parseAddress(options.url, "--url"), origin: "--url" };
    }
    if (address?.value !== undefined) {
      return {
        target: parseAddress(address.value.trim(), address.name),
        origin: `${address.name} in ${address.file}`,
      };
    }
    findings.push({
      severity: "error",
      code: "no-target",
      what: `the script line has no --url and keepalived's environment (${
        environment.files.join(", ") || "no environment file"
      }) sets neither BAO_ADDR nor VAULT_ADDR`,
      why:
        "keepalived does not pass a login shell's variables: the check fails on every run and this node never takes the VIP",
      fix:
        "add --url https://127.0.0.1:8200 to the script line, or VAULT_ADDR to keepalived's environment file (or BAO_ADDR, with --allow-env=BAO_ADDR for the check)",
    });
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
  return undefined;
}

/** How the doctor runs the check: the script line as keepalived would, or in its own process, and why. */
type HowToRun =
  | { script: CheckScript; runAs: NonNullable<CheckScript["runAs"]> }
  | { inProcessWhy: string };

/** Runs the script line when keepalived would and the doctor can. */
function howToRun(root: string, script: CheckScript | undefined): HowToRun {
  if (root !== "/") {
    return {
      inProcessWhy: `--root ${root}: the host's script cannot be run from here`,
    };
  }
  if (!script?.runAs) {
    return {
      inProcessWhy:
        "keepalived would not run the script line (see the findings)",
    };
  }
  if (script.call.runner.length > 0) {
    return {
      inProcessWhy: `the script line starts with '${
        script.call.runner[0]
      }', not the check: the doctor runs only the check itself`,
    };
  }
  return { script, runAs: script.runAs };
}

/** What running the check needs besides how. */
interface CheckRun {
  target: Target;
  /** The script line's arguments, for running it as keepalived would. */
  scriptArgs: string[];
  /** Its options, with TLS files under --root, for the in-process check. */
  options: Options;
  environment: ScriptEnvironment;
  /** Where the `ran:` fact goes. */
  facts: string[];
}

/**
 * Runs the check once as `how` says, falling back to the doctor's own
 * process when the script line cannot be run; undefined when the doctor may
 * not reach the target.
 */
async function runCheckOnce(
  how: HowToRun,
  run: CheckRun,
): Promise<Verdict | undefined> {
  let inProcessWhy: string;
  if ("inProcessWhy" in how) {
    inProcessWhy = how.inProcessWhy;
  } else {
    const { script, runAs } = how;
    const ran = await runScriptLine({
      executable: runAs.executable,
      args: run.scriptArgs,
      user: runAs.user,
      environment: keepalivedEnvironment(run.environment.variables),
      timeoutS: script.timeoutS,
    });
    relay(ran.stderr);
    run.facts.push(
      `ran: ${
        ran.command.join(" ")
      } (as keepalived runs it: user ${runAs.user}, keepalived's environment only)`,
    );
    if (ran.killed) {
      return {
        active: false,
        state: "timeout",
        reason:
          `the script line did not end within keepalived's timeout (${script.timeoutS} s), so keepalived would kill it`,
      };
    }
    if (ran.verdict) return ran.verdict as Verdict;
    inProcessWhy = `the script line could not be run: ${ran.problem}`;
  }

  // TODO: the in-process check is not the script user's and reads
  // none of keepalived's TLS variables; it stays for --root and for
  // script lines such as 'deno run ... main.ts' that the doctor will
  // not run as they stand.
  // The target is all it takes from keepalived's environment.
  const but = run.target.source === "--url" ? "" : ` but ${run.target.source}`;
  run.facts.push(
    `ran: the check in the doctor's own process, not as the script user and with none of keepalived's environment${but} (${inProcessWhy})`,
  );
  return await checkInProcess(run.target, run.options);
}

/** The `verdict now:` fact, and a finding when the check cannot tell. */
function collectVerdict(
  verdict: Verdict | undefined,
  target: Target,
  facts: string[],
  findings: Finding[],
): void {
  if (verdict === undefined) {
    facts.push(
      `verdict now: not asked, run with ${accessFlags(target, true).join(" ")}`,
    );
    return;
  }
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
}

/** Prints the facts, each finding, and the summary line. */
function printReport(facts: string[], findings: Finding[]): void {
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
}

/**
 * Runs the check inside the doctor with the script line's options, TLS
 * files included; undefined when the doctor may not reach the target.
 */
async function checkInProcess(
  target: Target,
  options: Options,
): Promise<Verdict | undefined> {
  if (accessFlags(target, true).length > 0) return undefined;

  const started = performance.now();
  let tls: TlsSettings | undefined;
  if (target.scheme === "https") {
    try {
      tls = resolveTls(options);
    } catch (error: unknown) {
      if (!(error instanceof SetupError)) throw error;
      return { active: false, state: "setup_error", reason: error.message };
    }
  }
  const outcome = await runCheck(target, options.check, options.timeoutMs, tls);
  debugReport({
    target,
    check: options.check,
    timeoutMs: options.timeoutMs,
    elapsedMs: millisecondsSince(started),
    exit: outcome.verdict.active ? 0 : 1,
    warnings: tls?.warnings ?? [],
  }, outcome);
  return outcome.verdict;
}

/** The options with their TLS files read from the host's files. */
function underRoot(options: Options, host: HostFiles): Options {
  const moved = { ...options };
  for (const field of ["cacert", "capath", "cert", "key"] as const) {
    const path = options[field];
    if (path !== undefined && path.startsWith("/")) {
      moved[field] = host.real(path);
    }
  }
  return moved;
}

/** keepalived's environment for the script: its files, else systemd's PATH. */
function keepalivedEnvironment(
  variables: Map<string, { value: string; file: string }>,
): Record<string, string> {
  const environment: Record<string, string> = { PATH: DEFAULT_PATH };
  for (const [name, { value }] of variables) environment[name] = value;
  return environment;
}

/**
 * The check's arguments without logging, which would write, and without
 * `--debug --json`, which the doctor adds itself (one given twice is a
 * mistake).
 */
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

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

const DOCTOR_HELP = `Usage: deno task doctor [options] [check options]
       deno run PERMISSIONS lib/doctor/main.ts [options] [check options]
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

The check runs as keepalived runs it: the script line, as the script user
(runuser, so the doctor must run as root), with only keepalived's
environment, stopped at keepalived's timeout. With --root, or a script line
that does not start with the check, it runs in the doctor's own process
instead (the "ran:" line says so).

PERMISSIONS (those of deno task doctor): --no-prompt --allow-read
  --allow-net --allow-sys=networkInterfaces --allow-run=runuser
`;

if (import.meta.main) {
  let status = 1;
  try {
    status = await runDoctor(Deno.args);
  } catch (error: unknown) {
    // A bug must still end in one line, never a stack trace.
    say(`doctor: internal error: ${describe(error)}`);
  }
  Deno.exit(status);
}
