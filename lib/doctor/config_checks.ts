/**
 * The fail-open traps of a keepalived configuration: every way the check
 * can end up not running, not counting, or counting wrongly, while
 * keepalived keeps moving the VIP as if all were well.
 */

import { UsageError } from "../errors.ts";
import { DEFAULT_TIMEOUT_MS, type Options, parseOptions } from "../options.ts";
import type { Finding } from "./finding.ts";
import type { HostFiles } from "./host_files.ts";
import {
  childrenNamed,
  type KeepalivedConf,
  keyword,
  type Statement,
  whereOf,
} from "./keepalived_conf.ts";
import type { User } from "./passwd.ts";
import { pathProblem, unsafeComponent } from "./script_path.ts";
import { findProgram, type ProgramCall, splitCommand } from "./script_line.ts";

/** A `vrrp_script` that runs this check. */
export interface CheckScript {
  name: string;
  where: string;
  call: ProgramCall;
  /** The check's options from the script line, when they parse. */
  options?: Options;
  /** keepalived's `timeout` for the script, in seconds. */
  timeoutS: number;
  /**
   * Who keepalived runs it as and the file it executes, when keepalived
   * would run it at all (the user exists, the file exists and is executable).
   */
  runAs?: { user: string; executable: string };
}

/** One `vrrp_instance`, as far as failover depends on it. */
export interface Instance {
  name: string;
  where: string;
  routerId: string | undefined;
  priority: number;
  /** The VIPs, without prefix lengths. */
  addresses: string[];
}

/** What the configuration says and what is wrong with it. */
export interface ConfigReport {
  findings: Finding[];
  scripts: CheckScript[];
  instances: Instance[];
}

/** The search path keepalived uses for a bare script name under systemd. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin";

/** Checks `conf` against the host's files and users. */
export function checkConfig(
  conf: KeepalivedConf,
  host: HostFiles,
  users: Map<string, User>,
  searchPath: string,
): ConfigReport {
  const findings: Finding[] = [];
  const scripts: CheckScript[] = [];
  const defs = conf.statements.filter((s) => keyword(s) === "global_defs");
  const security = defs.some((d) =>
    childrenNamed(d, "enable_script_security").length > 0
  );
  const globalUser = defs.flatMap((d) => childrenNamed(d, "script_user")).at(
    -1,
  );

  for (const { pattern, where } of conf.unmatched) {
    findings.push({
      severity: "warning",
      code: "include-unmatched",
      where,
      what: `include '${pattern}' matches no file`,
      why:
        "whatever it was meant to bring in (a vrrp_script, an instance) is not in effect",
      fix: "correct the path or remove the include",
    });
  }

  const definitions = new Map<string, Statement>();
  const weights = new Map<string, number>();
  for (const statement of conf.statements) {
    if (keyword(statement) !== "vrrp_script") continue;
    const name = statement.words[1]?.text ?? "";
    definitions.set(name, statement);
    weights.set(name, numberOf(statement, "weight") ?? 0);
    const script = checkScript(statement, name);
    if (script) scripts.push(script);
  }

  if (scripts.length === 0) {
    findings.push({
      severity: "error",
      code: "no-check-script",
      what: "no vrrp_script runs vault-ha-active-node",
      why: "nothing ties the VIP to the active Vault node",
      fix:
        'add a vrrp_script whose script line runs it, e.g. script "/usr/local/bin/vault-ha-active-node --url https://127.0.0.1:8200", and track it in every vrrp_instance',
    });
  }

  const instances: Instance[] = [];
  const ours = new Set(scripts.map((script) => script.name));
  for (const statement of conf.statements) {
    if (keyword(statement) !== "vrrp_instance") continue;
    instances.push(checkInstance(statement, definitions, weights, ours));
  }
  if (instances.length === 0) {
    findings.push({
      severity: "warning",
      code: "no-instance",
      what: "no vrrp_instance is configured",
      why: "keepalived holds no VIP, so there is nothing to move",
      fix: "configure the vrrp_instance that carries Vault's VIP",
    });
  }
  return { findings, scripts, instances };

  function checkScript(
    statement: Statement,
    name: string,
  ): CheckScript | undefined {
    const line = childrenNamed(statement, "script")[0];
    if (!line) return undefined;
    const written = line.words.slice(1);
    const command = written.length === 1 && written[0]?.quoted
      ? splitCommand(written[0].text)
      : written.map((word) => word.text);
    const call = findProgram(command);
    if (!call) return undefined;
    const where = whereOf(line);
    const interval = numberOf(statement, "interval") ?? 1;
    const timeout = numberOf(statement, "timeout") ?? interval;
    const script: CheckScript = { name, where, call, timeoutS: timeout };

    if (written.length > 1 && !written[0]?.quoted) {
      findings.push({
        severity: "error",
        code: "unquoted-script",
        where,
        what: `the script line of '${name}' is not quoted`,
        why: `keepalived runs only '${
          command[0]
        }' and silently drops every argument (${command.slice(1).join(" ")})`,
        fix: `quote the whole command: script "${command.join(" ")}"`,
      });
    }

    try {
      script.options = parseOptions(call.args);
    } catch (error: unknown) {
      if (!(error instanceof UsageError)) throw error;
      findings.push({
        severity: "error",
        code: "script-arguments",
        where,
        what: `the check's arguments in '${name}' are wrong: ${error.message}`,
        why: "the check exits 2 on every run, so this node never takes the VIP",
        fix: "correct the arguments on the script line",
      });
    }

    findings.push(...optionFindings(script, name));

    const deadlineMs = script.options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (timeout * 1000 <= deadlineMs) {
      findings.push({
        severity: "error",
        code: "timeout-too-short",
        where: whereOf(statement),
        what:
          `keepalived's timeout for '${name}' (${timeout} s) is not longer than the check's deadline (${
            deadlineMs / 1000
          } s)`,
        why:
          "a slow but successful check on the active node is killed and counted as failed, so the VIP leaves the active node",
        fix: `set timeout (and interval) above the deadline, e.g. timeout ${
          Math.floor(deadlineMs / 1000) + 1
        }, or lower --timeout`,
      });
    }

    const runAs = checkUserAndPath(statement, name, where, command, call);
    if (runAs) script.runAs = runAs;
    return script;
  }

  /** Flags the user and the path; returns how keepalived would run it. */
  function checkUserAndPath(
    statement: Statement,
    name: string,
    where: string,
    command: string[],
    call: ProgramCall,
  ): CheckScript["runAs"] {
    const own = childrenNamed(statement, "user")[0];
    const named = own ?? globalUser;
    const userName = named?.words[1]?.text;
    let user: User | undefined;
    if (userName !== undefined) {
      user = users.get(userName);
      if (!user) {
        findings.push({
          severity: "error",
          code: "script-user-unknown",
          where: named ? whereOf(named) : where,
          what: `the script user '${userName}' does not exist`,
          why:
            "keepalived cannot run the script as that user and drops it: the instance runs untracked and takes the VIP whatever Vault says",
          fix:
            `create the user (useradd --system --no-create-home ${userName}) or name an existing one`,
        });
        return undefined;
      }
    } else {
      user = users.get("keepalived_script");
      if (!user && security) {
        findings.push({
          severity: "error",
          code: "no-script-user",
          where,
          what:
            "enable_script_security is set but there is no script_user and no 'keepalived_script' user",
          why:
            "keepalived refuses to run the script as root and drops it: the instance runs untracked and takes the VIP whatever Vault says",
          fix:
            "create the user (useradd --system --no-create-home keepalived_script) or set script_user in global_defs",
        });
        return undefined;
      }
    }
    const uid = user?.uid ?? 0;
    const gid = user?.gid ?? 0;

    if (!security) {
      findings.push({
        severity: "warning",
        code: "no-script-security",
        what: "enable_script_security is not set in global_defs",
        why:
          "keepalived does not refuse a script whose path others can write; whoever can write it decides the verdict",
        fix: "add enable_script_security to global_defs",
      });
    }

    let first = command[0] ?? "";
    if (!first.includes("/")) {
      const found = searchPath.split(":").map((dir) => `${dir}/${first}`)
        .find((candidate) => host.stat(candidate)?.isFile);
      findings.push({
        severity: "warning",
        code: "relative-script-path",
        where,
        what:
          `the script line of '${name}' starts with '${first}', not a full path`,
        why:
          "keepalived looks it up in its own PATH, which may not be the shell's",
        fix: `write the full path${found ? `, '${found}'` : ""}`,
      });
      if (found) first = found;
    }

    const problem = pathProblem(host, first, uid, gid);
    if (problem?.kind === "missing") {
      findings.push({
        severity: "error",
        code: "script-missing",
        where,
        what: `'${first}' does not exist`,
        why:
          "keepalived drops a missing script: the instance runs untracked and takes the VIP whatever Vault says",
        fix: "install the check at that path or correct the script line",
      });
    } else if (problem?.kind === "not_executable") {
      findings.push({
        severity: "error",
        code: "script-not-executable",
        where,
        what: `'${first}' is not executable by the script user (uid ${uid})`,
        why:
          "keepalived drops it (and keepalived -t does not say so): the instance runs untracked and takes the VIP whatever Vault says",
        fix: `chmod 755 '${first}'`,
      });
    } else if (problem?.kind === "unsafe") {
      const disabled = security && (uid === 0 || gid === 0);
      findings.push({
        severity: disabled ? "error" : "warning",
        code: "unsafe-script-path",
        where,
        what:
          `'${problem.component}' on the path of '${first}' is ${problem.why}`,
        why: disabled
          ? "with enable_script_security keepalived drops a root-run script on an unsafe path: the instance runs untracked and takes the VIP whatever Vault says"
          : "whoever can write there can replace the check and decide the verdict",
        fix:
          `make every component root-owned and writable only by root: chown root:root '${problem.component}' && chmod go-w '${problem.component}'`,
      });
    }

    if (call.runner.length > 0) {
      const unsafe = unsafeComponent(host, call.program);
      findings.push({
        severity: "warning",
        code: "program-file-unchecked",
        where,
        what: `keepalived checks only '${first}', not '${call.program}'${
          unsafe?.kind === "unsafe"
            ? `, and '${unsafe.component}' is ${unsafe.why}`
            : unsafe?.kind === "missing"
            ? ", which does not exist"
            : ""
        }`,
        why:
          "whoever can write the program file or what it imports decides the verdict, unchecked by enable_script_security",
        fix:
          "install a single binary (deno task compile) or a deno install wrapper, and keep its sources root-owned and not writable by others",
      });
    }
    if (problem?.kind === "missing" || problem?.kind === "not_executable") {
      return undefined;
    }
    return { user: user?.name ?? "root", executable: first };
  }

  function checkInstance(
    statement: Statement,
    definitions: Map<string, Statement>,
    weights: Map<string, number>,
    ours: Set<string>,
  ): Instance {
    const name = statement.words[1]?.text ?? "";
    const where = whereOf(statement);
    // TODO: read track_script of a vrrp_sync_group too; an instance tracked
    // only through its group is reported untracked.
    const tracked = childrenNamed(statement, "track_script").flatMap((block) =>
      block.children ?? []
    );
    for (const entry of tracked) {
      const script = keyword(entry);
      if (!definitions.has(script)) {
        findings.push({
          severity: "error",
          code: "unknown-track-script",
          where: whereOf(entry),
          what:
            `vrrp_instance '${name}' tracks '${script}', which no vrrp_script defines`,
          why:
            "keepalived ignores the entry, so the instance may run untracked",
          fix: "name the vrrp_script that runs vault-ha-active-node",
        });
      }
    }
    const ourEntries = tracked.filter((entry) => ours.has(keyword(entry)));
    if (ours.size > 0 && ourEntries.length === 0) {
      findings.push({
        severity: "error",
        code: "untracked-instance",
        where,
        what: `vrrp_instance '${name}' does not track the check`,
        why:
          "its VIP stays where keepalived's priorities put it, whatever Vault says",
        fix: `add track_script { ${[...ours][0]} } to the instance`,
      });
    }

    const nopreempt = childrenNamed(statement, "nopreempt").length > 0;
    const weighted = ourEntries.some((entry) => {
      const index = entry.words.findIndex((word) => word.text === "weight");
      const own = index > 0 ? Number(entry.words[index + 1]?.text) : undefined;
      return (own ?? weights.get(keyword(entry)) ?? 0) !== 0;
    });
    if (nopreempt && weighted) {
      findings.push({
        severity: "error",
        code: "weight-with-nopreempt",
        where,
        what:
          `vrrp_instance '${name}' combines nopreempt with a weighted check`,
        why:
          "a weight only shifts priority, and nopreempt stops a higher priority from taking over: the VIP may stay on a node whose Vault is not active",
        fix:
          "remove the weight (weight 0: a failed check puts the node in FAULT) or remove nopreempt",
      });
    }

    const addresses = childrenNamed(statement, "virtual_ipaddress")
      .flatMap((block) => block.children ?? [])
      .map((entry) => keyword(entry).replace(/\/\d+$/, ""));
    return {
      name,
      where,
      routerId: childrenNamed(statement, "virtual_router_id")[0]?.words[1]
        ?.text,
      priority: numberOf(statement, "priority") ?? 100,
      addresses,
    };
  }
}

/**
 * Warns about instances with the same router id and the same priority on
 * this node and a peer: only configurations given together can be compared.
 */
export function comparePriorities(
  local: Instance[],
  peers: { file: string; instances: Instance[] }[],
): Finding[] {
  const findings: Finding[] = [];
  for (const instance of local) {
    for (const peer of peers) {
      const twin = peer.instances.find((other) =>
        other.routerId === instance.routerId &&
        other.priority === instance.priority
      );
      if (!twin) continue;
      findings.push({
        severity: "warning",
        code: "equal-priority",
        where: instance.where,
        what:
          `vrrp_instance '${instance.name}' has priority ${instance.priority}, the same as '${twin.name}' at ${twin.where}`,
        why:
          "with equal priorities the higher IP address wins ties, so which node holds the VIP when both checks pass is left to chance",
        fix: "give each node its own priority",
      });
    }
  }
  return findings;
}

function numberOf(statement: Statement, name: string): number | undefined {
  const text = childrenNamed(statement, name)[0]?.words[1]?.text;
  const value = text === undefined ? NaN : Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** The flags that make the check print and exit 0 without asking Vault. */
const NEVER_CHECKS = ["--help", "-h", "--version"];

/**
 * Flags the script line's options that parse but defeat the check: help or
 * version (exit 0 forever) and `--check health` (active on a Vault without
 * HA).
 */
function optionFindings(script: CheckScript, name: string): Finding[] {
  const findings: Finding[] = [];
  const options = script.options;
  if (options?.help || options?.version) {
    const flags = script.call.args.filter((arg) => NEVER_CHECKS.includes(arg))
      .map((flag) => `'${flag}'`).join(" and ");
    findings.push({
      severity: "error",
      code: "script-never-checks",
      where: script.where,
      what: `the script line of '${name}' passes ${flags}`,
      why: `the check then prints its ${
        options.help ? "help" : "version"
      } and exits 0 on every run without asking Vault, so this node looks active forever`,
      fix: `remove ${flags} from the script line`,
    });
  }
  if (options?.check === "health") {
    findings.push({
      severity: "warning",
      code: "check-health-only",
      where: script.where,
      what: `the script line of '${name}' uses --check health`,
      why:
        "/v1/sys/health answers a Vault without HA (ha_enabled false) exactly as an active node, so every such node would claim the VIP",
      fix: "use --check leader (the default) or --check both",
    });
  }
  return findings;
}
