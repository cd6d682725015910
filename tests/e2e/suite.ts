/**
 * The whole end-to-end run: checks what it needs, installs the check as the
 * README says, runs every scenario on a two-host and a three-host cluster
 * and the slow-check variant, proves the harness catches a fail-open setup,
 * and sums up the failover windows in one line.
 */

import { available } from "./command.ts";
import { Cluster, stopAll } from "./cluster.ts";
import { installCheck, type Installed, unsafePathProblems } from "./install.ts";
import {
  ROTATION,
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

/** The user keepalived runs the check as, which the README has created. */
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
  const tearDown = async (): Promise<string[]> => {
    await stopAll();
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
    outcome = await runAll(root, installed, say);
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

async function runAll(
  root: string,
  installed: Installed,
  say: Say,
): Promise<Omit<SuiteOutcome, "scriptUser">> {
  const outcomes: ScenarioOutcome[] = [];
  const violations: Violation[] = [];
  const failOpenLines: string[] = [];
  const leftovers: string[] = [];

  const plans = [
    { name: "two", states: ["active", "standby"], list: scenarios() },
    {
      name: "three",
      states: ["active", "standby", "standby"],
      list: [ROTATION, ...scenarios()],
    },
    {
      name: "slow",
      states: ["active", "standby"],
      list: [SLOW_CHECK],
      scriptArguments: "--timeout 5",
    },
  ];
  for (const plan of plans) {
    const directory = `${root}/${plan.name}`;
    await Deno.mkdir(directory, { mode: 0o755 });
    const cluster = await Cluster.start({
      ...plan,
      launcher: installed.launcher,
      cache: installed.cache,
      directory,
    });
    const label = `${plan.states.length} hosts${
      plan.scriptArguments ? `, script "... ${plan.scriptArguments}"` : ""
    }`;
    try {
      const startup = new Stage(cluster);
      await startup.cluster.sampler.until(
        (sample) => sample.holders.length === 1 && sample.holders[0] === "a",
        cluster.detectionMs + 5_000,
        () => "The VIP did not reach host a at start-up",
      ).then((sample) => {
        const seconds = (sample.at - cluster.keepalivedStartedAt) / 1000;
        outcomes.push({
          cluster: label,
          scenario: "start-up placement",
          windows: [{ label: "start-up", kind: "startup", seconds }],
        });
        say(`  ${label}: start-up placement on a: ${seconds.toFixed(2)} s`);
      });
      for (const scenario of plan.list) {
        const stage = new Stage(cluster);
        let error: string | undefined;
        try {
          await scenario.run(stage);
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
