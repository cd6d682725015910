/**
 * The whole end-to-end run: checks what it needs, installs the check as the
 * README says, runs every scenario on a two-host and a three-host cluster,
 * the slow-check variant and the TLS variant (HTTPS with a server name and
 * a client certificate), proves the harness catches a fail-open setup, and
 * sums up the failover windows in one line.
 */

import { available } from "./command.ts";
import { Cluster, type ClusterPlan, stopAll } from "./cluster.ts";
import { installCheck, type Installed, unsafePathProblems } from "./install.ts";
import {
  MOVE_AND_BACK,
  ROTATION,
  type Scenario,
  scenarios,
  SLOW_CHECK,
  Stage,
  type Window,
} from "./scenarios.ts";
import type { Violation } from "./sampler.ts";
import {
  ensureUser,
  removeUser,
  type ScriptUserRecord,
  userExists,
} from "./script_user.ts";
import { prepareTls, SERVER_NAME_NEEDED, type TlsSetup } from "./tls.ts";

/**
 * The user keepalived runs the check as, which the README has operators
 * create; the run creates it when missing and then removes it again.
 */
export const SCRIPT_USER = "keepalived_script";

/** Why the run cannot happen here, or `undefined` when it can. */
export async function skipReason(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "network namespaces need Linux";
  if (Deno.uid() !== 0) return "creating network namespaces needs root";
  if (!await available("keepalived", ["--version"])) {
    return "keepalived is not installed (apt-get install keepalived)";
  }
  if (!await available("ip", ["-V"]) || !await available("bridge", ["-V"])) {
    return "iproute2 is not installed (apt-get install iproute2)";
  }
  return undefined;
}

/** One scenario's outcome. */
export interface ScenarioOutcome {
  readonly cluster: string;
  readonly scenario: string;
  readonly error?: string;
  readonly windows: readonly Window[];
}

/** What the negative run saw of a check keepalived could not run. */
export interface FailOpenProof {
  readonly failOpenLines: readonly string[];
  readonly pathProblems: readonly string[];
  readonly violations: readonly Violation[];
}

/** Everything the run found. */
export interface SuiteOutcome {
  readonly scenarios: readonly ScenarioOutcome[];
  readonly violations: readonly Violation[];
  readonly failOpenLines: readonly string[];
  readonly leftovers: readonly string[];
  readonly failOpenProof: FailOpenProof;
  /** The script user before and after the run: the same, or a leftover. */
  readonly scriptUser: ScriptUserRecord;
  readonly summary: string;
}

/** Where each line of progress goes. */
export type Say = (line: string) => void;

/**
 * Runs everything; tears down whatever happens, also on SIGINT/SIGTERM,
 * the script user included when the run created it.
 */
export async function runSuite(say: Say): Promise<SuiteOutcome> {
  const root = await Deno.makeTempDir({ prefix: "vha-e2e-" });
  await Deno.chmod(root, 0o755);
  let createdUser = false;
  let tls: TlsSetup | undefined;
  const tearDown = async (): Promise<string[]> => {
    await stopAll();
    await tls?.remove().catch(() => {});
    const problems = await Deno.remove(root, { recursive: true }).then(
      () => [],
      (error: unknown) => [`Removing '${root}' failed: ${String(error)}`],
    );
    return createdUser
      ? [...problems, ...await removeUser(SCRIPT_USER)]
      : problems;
  };
  const interrupted = async () => {
    await tearDown();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  const existedBefore = await userExists(SCRIPT_USER);
  let outcome: Omit<SuiteOutcome, "scriptUser">;
  let teardownProblems: string[];
  try {
    createdUser = await ensureUser(SCRIPT_USER);
    if (createdUser) {
      say(`  created the system user '${SCRIPT_USER}' for this run`);
    }
    const installed = await installCheck(`${root}/install`);
    const problems = await unsafePathProblems(installed.launcher);
    if (problems.length > 0) {
      throw new Error(`The installed check is unsafe: ${problems.join("; ")}`);
    }
    tls = await prepareTls(root, SCRIPT_USER);
    outcome = await runAll(root, installed, tls, say);
  } finally {
    Deno.removeSignalListener("SIGINT", interrupted);
    Deno.removeSignalListener("SIGTERM", interrupted);
    teardownProblems = await tearDown();
    if (createdUser && !await userExists(SCRIPT_USER)) {
      say(`  removed the system user '${SCRIPT_USER}' again`);
    }
  }
  return {
    ...outcome,
    leftovers: [...outcome.leftovers, ...teardownProblems],
    scriptUser: {
      name: SCRIPT_USER,
      existedBefore,
      existsAfter: await userExists(SCRIPT_USER),
    },
  };
}

/** One cluster of the run and what it goes through. */
interface Plan extends Omit<ClusterPlan, "directory" | "launcher" | "cache"> {
  readonly label: string;
  readonly list: readonly Scenario[];
  /** The installed check; the default one unless given. */
  readonly installed?: Installed;
  /** Fail any window longer than the detection time. */
  readonly bounded?: boolean;
}

async function runAll(
  root: string,
  installed: Installed,
  tls: TlsSetup,
  say: Say,
): Promise<Omit<SuiteOutcome, "scriptUser">> {
  const outcomes: ScenarioOutcome[] = [];
  const violations: Violation[] = [];
  const failOpenLines: string[] = [];
  const leftovers: string[] = [];

  const plans: Plan[] = [
    {
      name: "two",
      label: "2 hosts",
      states: ["active", "standby"],
      list: scenarios(),
    },
    {
      name: "three",
      label: "3 hosts",
      states: ["active", "standby", "standby"],
      list: [ROTATION, ...scenarios()],
    },
    {
      name: "slow",
      label: '2 hosts, script "... --timeout 5"',
      states: ["active", "standby"],
      list: [SLOW_CHECK],
      scriptArguments: "--timeout 5",
    },
    {
      name: "tls",
      label: "2 hosts, https and a client certificate",
      states: ["active", "standby"],
      list: [SERVER_NAME_NEEDED, MOVE_AND_BACK],
      installed: tls.installed,
      environment: tls.environment,
      vaultTls: tls.vault,
      bounded: true,
    },
  ];
  for (const { label, list, installed: own, bounded, ...plan } of plans) {
    const directory = `${root}/${plan.name}`;
    await Deno.mkdir(directory, { mode: 0o755 });
    const check = own ?? installed;
    const cluster = await Cluster.start({
      ...plan,
      launcher: check.launcher,
      cache: check.cache,
      directory,
    });
    const late = (windows: readonly Window[]) =>
      bounded ? overBound(windows, cluster.detectionMs) : undefined;
    try {
      const startup = new Stage(cluster);
      await startup.cluster.sampler.until(
        (sample) => sample.holders.length === 1 && sample.holders[0] === "a",
        cluster.detectionMs + 5_000,
        () => "The VIP did not reach host a at start-up",
      ).then((sample) => {
        const seconds = (sample.at - cluster.keepalivedStartedAt) / 1000;
        const windows: Window[] = [
          { label: "start-up", kind: "startup", seconds },
        ];
        const error = late(windows);
        outcomes.push({
          cluster: label,
          scenario: "start-up placement",
          windows,
          ...(error === undefined ? {} : { error }),
        });
        say(
          `  ${label}: start-up placement on a: ${
            describeOutcome(windows, error)
          }`,
        );
      });
      for (const scenario of list) {
        const stage = new Stage(cluster);
        let error: string | undefined;
        try {
          await scenario.run(stage);
          error = late(stage.windows);
        } catch (caught: unknown) {
          error = caught instanceof Error ? caught.message : String(caught);
        }
        outcomes.push({
          cluster: label,
          scenario: scenario.name,
          windows: stage.windows,
          ...(error === undefined ? {} : { error }),
        });
        say(
          `  ${label}: ${scenario.name}: ${
            describeOutcome(stage.windows, error)
          }`,
        );
      }
    } finally {
      violations.push(...cluster.sampler.violations);
      failOpenLines.push(...cluster.failOpenLines());
      leftovers.push(...await cluster.stop());
    }
  }

  const failOpenProof = await proveFailOpenCaught(
    root,
    installed,
    leftovers,
    say,
  );
  return {
    scenarios: outcomes,
    violations,
    failOpenLines,
    leftovers,
    failOpenProof,
    summary: summarise(outcomes, violations),
  };
}

/** One line naming the windows longer than `detectionMs`, if any. */
export function overBound(
  windows: readonly Window[],
  detectionMs: number,
): string | undefined {
  const over = windows.filter((window) => window.seconds * 1000 > detectionMs);
  return over.length === 0
    ? undefined
    : `${
      over.map((window) =>
        `${window.label} took ${window.seconds.toFixed(2)} s`
      )
        .join(", ")
    }, longer than the detection time of ${(detectionMs / 1000).toFixed(2)} s`;
}

function describeOutcome(windows: readonly Window[], error?: string): string {
  const measured = windows
    .map((window) => `${window.label} ${window.seconds.toFixed(2)} s`)
    .join(", ");
  return error === undefined ? measured || "ok" : `FAILED: ${error}`;
}

/**
 * The negative run: a launcher keepalived cannot execute (mode 0644) on
 * one host whose Vault is standby. keepalived drops the check and takes
 * the VIP; the harness must see it in the log, in the path and in the
 * sampler. A world-writable launcher must fail the path check too.
 */
async function proveFailOpenCaught(
  root: string,
  installed: Installed,
  leftovers: string[],
  say: Say,
): Promise<FailOpenProof> {
  const directory = `${root}/fail-open`;
  await Deno.mkdir(`${directory}/bin`, { recursive: true, mode: 0o755 });
  const broken = `${directory}/bin/vault-ha-active-node`;
  await Deno.copyFile(installed.launcher, broken);
  await Deno.chmod(broken, 0o644);
  // keepalived 2.2.7 runs this one as a non-root script user without a
  // word: only the harness's own path check can catch it.
  const writable = `${directory}/bin/writable`;
  await Deno.copyFile(installed.launcher, writable);
  await Deno.chmod(writable, 0o757);

  const cluster = await Cluster.start({
    name: "open",
    states: ["standby"],
    launcher: broken,
    cache: installed.cache,
    directory,
  });
  try {
    await cluster.sampler.until(
      () => cluster.sampler.violations.length > 0,
      cluster.detectionMs + 5_000,
      () => "The sampler never flagged the VIP on a standby host",
    ).catch(() => {});
    const proof = {
      failOpenLines: cluster.failOpenLines(),
      pathProblems: [
        ...await unsafePathProblems(broken),
        ...await unsafePathProblems(writable),
      ],
      violations: [...cluster.sampler.violations],
    };
    say(
      `  fail-open setup: ${proof.failOpenLines.length} log line(s), ` +
        `${proof.pathProblems.length} path problem(s), ` +
        `${proof.violations.length} violation(s) caught`,
    );
    return proof;
  } finally {
    leftovers.push(...await cluster.stop());
  }
}

/** The closing line: leadership-change windows and broken rules. */
export function summarise(
  outcomes: readonly ScenarioOutcome[],
  violations: readonly Violation[],
): string {
  const seconds = outcomes
    .flatMap((outcome) => outcome.windows)
    .filter((window) => window.kind === "leadership")
    .map((window) => window.seconds)
    .sort((left, right) => left - right);
  const count = (kind: Violation["kind"]) =>
    violations.filter((violation) => violation.kind === kind).length;
  const median = seconds.length === 0 ? NaN : middle(seconds);
  const worst = seconds.length === 0
    ? NaN
    : seconds[seconds.length - 1] as number;
  return `failover: median ${median.toFixed(2)} s, worst ${
    worst.toFixed(2)
  } s, misplaced ${count("misplaced")}, double ${count("double")}`;
}

function middle(sorted: readonly number[]): number {
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[half] as number
    : ((sorted[half - 1] as number) + (sorted[half] as number)) / 2;
}
