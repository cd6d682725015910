/**
 * The failover scenarios: each arranges the Vault states it starts from,
 * changes them the way a real cluster would, and asserts where the VIP
 * goes and how long it took, while the sampler watches throughout.
 */

import type { Cluster } from "./cluster.ts";
import type { Sample } from "./sampler.ts";
import type { VaultChange } from "./vault_node.ts";

/** What a measured change is counted as in the summary. */
export type WindowKind =
  | "startup"
  | "leadership"
  | "gone"
  | "slow_check"
  | "other";

/** One measured failover window. */
export interface Window {
  readonly label: string;
  readonly kind: WindowKind;
  readonly seconds: number;
}

/** How long the VIP must stay put after it arrived, to show it settled. */
export const SETTLE_MS = 1_000;

/** What a scenario can do with its cluster. */
export class Stage {
  readonly cluster: Cluster;
  readonly windows: Window[] = [];

  constructor(cluster: Cluster) {
    this.cluster = cluster;
  }

  /**
   * Brings the Vaults to `states` (host name to state; a missing Vault is
   * started) and waits, unmeasured, until the VIP is on `holder` or, for
   * `null`, nowhere.
   */
  async arrange(
    states: Readonly<Record<string, string>>,
    holder: string | null,
  ): Promise<void> {
    for (const [name, state] of Object.entries(states)) {
      try {
        await this.cluster.setVault(name, { state });
      } catch {
        await this.cluster.restartVault(name, state);
      }
    }
    await this.#reach(holder, "arranging");
  }

  /**
   * Runs `change`, then measures the time from just before it to the first
   * sample with the VIP on `holder` only (or nowhere, for `null`), and
   * checks that it stays there for {@linkcode SETTLE_MS}.
   */
  async measure(
    label: string,
    kind: WindowKind,
    holder: string | null,
    change: () => Promise<void>,
  ): Promise<Window> {
    const from = performance.now();
    await change();
    const arrived = await this.#reach(holder, label);
    const window = { label, kind, seconds: (arrived.at - from) / 1000 };
    this.windows.push(window);
    await this.hold(holder, SETTLE_MS, `after ${label}`);
    return window;
  }

  /** Asserts the VIP stays on `holder` only (or nowhere) for `ms`. */
  hold(holder: string | null, ms: number, when: string): Promise<void> {
    return this.cluster.sampler.throughout(
      (sample) => placedOn(sample, holder),
      ms,
      (sample) =>
        `The VIP left ${where(holder)} ${when}: seen on ${describe(sample)}`,
    );
  }

  /** Asserts exactly one host holds the VIP for `ms`; returns which. */
  async holdOne(ms: number, when: string): Promise<string> {
    const first = await this.cluster.sampler.until(
      (sample) => sample.holders.length === 1,
      this.cluster.detectionMs + 3_000,
      () => `No single VIP holder ${when}`,
    );
    const holder = first.holders[0] as string;
    await this.hold(holder, ms, when);
    return holder;
  }

  #reach(holder: string | null, label: string): Promise<Sample> {
    return this.cluster.sampler.until(
      (sample) => placedOn(sample, holder),
      this.cluster.detectionMs + 3_000,
      () => `The VIP did not reach ${where(holder)} (${label})`,
    );
  }
}

function placedOn(sample: Sample, holder: string | null): boolean {
  return holder === null
    ? sample.holders.length === 0
    : sample.holders.length === 1 && sample.holders[0] === holder;
}

function where(holder: string | null): string {
  return holder === null ? "no host" : `host ${holder}`;
}

function describe(sample: Sample): string {
  return sample.holders.length === 0
    ? "no host"
    : `host ${sample.holders.join(", ")}`;
}

/** A named scenario. */
export interface Scenario {
  readonly name: string;
  run(stage: Stage): Promise<void>;
}

const ACTIVE: VaultChange = { state: "active" };

/** Still claims to be active, but never answers. */
const HANGING: VaultChange = { state: "active", behaviour: "hang" };

/** A change that sets host Vaults one after another, in the order given. */
function setVaults(
  stage: Stage,
  ...changes: readonly (readonly [string, VaultChange])[]
): () => Promise<void> {
  return async () => {
    for (const [name, change] of changes) {
      await stage.cluster.setVault(name, change);
    }
  };
}

/** Leadership passes from `from` to `to`, as in a Vault step-down. */
function handOver(stage: Stage, from: string, to: string) {
  return setVaults(stage, [from, { state: "standby" }], [to, ACTIVE]);
}

/** The active Vault on `from` hangs, then `to` becomes active. */
function hangOver(stage: Stage, from: string, to: string) {
  return setVaults(stage, [from, HANGING], [to, ACTIVE]);
}

/**
 * Every host standby except `active`, and the VIP on `active` before
 * anything is measured.
 */
function startOn(stage: Stage, active: string): Promise<void> {
  const states = Object.fromEntries(
    stage.cluster.names.map((name) => [
      name,
      name === active ? "active" : "standby",
    ]),
  );
  return stage.arrange(states, active);
}

/** Leadership moves from host a to host b and back, as in two step-downs. */
export const MOVE_AND_BACK: Scenario = {
  name: "leadership moves from a to b and back",
  run: async (stage) => {
    await startOn(stage, "a");
    await stage.measure("a to b", "leadership", "b", handOver(stage, "a", "b"));
    await stage.measure("b to a", "leadership", "a", handOver(stage, "b", "a"));
  },
};

/** The scenarios every cluster size runs, in order. */
export function scenarios(): Scenario[] {
  return [
    MOVE_AND_BACK,
    {
      name: "the active node is sealed",
      run: async (stage) => {
        await startOn(stage, "a");
        await stage.measure(
          "a sealed, b active",
          "leadership",
          "b",
          setVaults(stage, ["a", { state: "sealed" }], ["b", ACTIVE]),
        );
      },
    },
    {
      name: "the active node's Vault is killed",
      run: async (stage) => {
        await startOn(stage, "b");
        await stage.measure(
          "b killed, a active",
          "leadership",
          "a",
          async () => {
            await stage.cluster.killVault("b");
            await stage.cluster.setVault("a", ACTIVE);
          },
        );
        await stage.cluster.restartVault("b", "standby");
        await stage.hold("a", SETTLE_MS, "after b's Vault came back");
      },
    },
    {
      name: "the active node's Vault hangs",
      run: async (stage) => {
        await startOn(stage, "a");
        await stage.measure(
          "a hangs, b active",
          "leadership",
          "b",
          hangOver(stage, "a", "b"),
        );
      },
    },
    {
      name: "every node is standby during an election",
      run: async (stage) => {
        await startOn(stage, "a");
        await stage.measure("all in election", "gone", null, async () => {
          for (const name of stage.cluster.names) {
            await stage.cluster.setVault(name, { state: "election" });
          }
        });
        await stage.hold(null, 2_000, "while no node is active");
        await stage.measure(
          "b wins the election",
          "leadership",
          "b",
          setVaults(stage, ["b", ACTIVE]),
        );
      },
    },
    {
      name: "two nodes claim to be active",
      run: async (stage) => {
        await startOn(stage, "a");
        await stage.cluster.setVault("b", ACTIVE);
        await stage.holdOne(3_000, "while a and b both claim active");
        await stage.measure(
          "b back to standby",
          "other",
          "a",
          setVaults(stage, ["b", { state: "standby" }]),
        );
      },
    },
    {
      name: "VRRP adverts are blocked between hosts",
      run: async (stage) => {
        await startOn(stage, "a");
        await stage.cluster.isolateAll(true);
        try {
          await stage.hold("a", 2_000, "while adverts are blocked");
          await stage.measure(
            "a to b while adverts are blocked",
            "leadership",
            "b",
            handOver(stage, "a", "b"),
          );
        } finally {
          await stage.cluster.isolateAll(false);
        }
        await stage.hold("b", SETTLE_MS, "after adverts flow again");
      },
    },
  ];
}

/** Leadership passes around every host of a cluster of three or more. */
export const ROTATION: Scenario = {
  name: "leadership rotates through every host",
  run: async (stage) => {
    const names = stage.cluster.names;
    await startOn(stage, names[0] as string);
    for (let index = 0; index < names.length; index++) {
      const from = names[index] as string;
      const to = names[(index + 1) % names.length] as string;
      await stage.measure(
        `${from} to ${to}`,
        "leadership",
        to,
        handOver(stage, from, to),
      );
    }
  },
};

/**
 * Runs on a cluster whose `script` line makes the check wait longer than
 * keepalived's `timeout`: keepalived must kill the run and count it failed.
 */
export const SLOW_CHECK: Scenario = {
  name: "a check slower than keepalived's timeout",
  run: async (stage) => {
    await startOn(stage, "a");
    await stage.measure(
      "a hangs past the timeout, b active",
      "slow_check",
      "b",
      hangOver(stage, "a", "b"),
    );
  },
};
