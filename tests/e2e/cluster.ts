/**
 * A test cluster: hosts in their own namespaces, each with a simulated
 * Vault and keepalived tracking the installed check, a sampler watching
 * the VIP, and a teardown that leaves nothing behind.
 */

import {
  type CheckTiming,
  checkTiming,
  hostValues,
  type Keepalived,
  readExample,
  renderConfig,
  startKeepalived,
} from "./keepalived.ts";
import {
  createNetwork,
  deleteNetwork,
  listNamespaces,
  type Network,
  setIsolated,
} from "./network.ts";
import { Sampler } from "./sampler.ts";
import {
  startVault,
  VAULT_ADDRESS,
  type VaultChange,
  type VaultNode,
  type VaultTls,
} from "./vault_node.ts";

/**
 * Slack on top of the configured worst case (`fall` runs `interval` apart,
 * the last one cut off at `timeout`) before a VIP on a host whose Vault is
 * not active counts as misplaced: room for a loaded machine, not for a
 * wrong configuration.
 */
export const DETECTION_SLACK_MS = 1_000;

/** How a cluster is built. */
export interface ClusterPlan {
  /** Unique within the run: part of the namespace names. */
  readonly name: string;
  /** The initial Vault state of each host, first host first. */
  readonly states: readonly string[];
  /** The launcher keepalived runs. */
  readonly launcher: string;
  /** The Deno cache filled at install time, given as `DENO_DIR`. */
  readonly cache: string;
  /** A private directory for configurations, pid files and sockets. */
  readonly directory: string;
  /** Arguments added to the `script` line (the slow-check variant). */
  readonly scriptArguments?: string;
  /**
   * keepalived's environment besides `PATH` and `DENO_DIR`, as its
   * environment file gives it; by default `VAULT_ADDR` of a plain-http
   * Vault on 127.0.0.1:8200.
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** Every Vault serves TLS with these files (the TLS variant). */
  readonly vaultTls?: VaultTls;
}

/** A running cluster. */
export class Cluster {
  readonly plan: ClusterPlan;
  readonly network: Network;
  readonly timing: CheckTiming;
  readonly detectionMs: number;
  readonly sampler: Sampler;
  readonly #vaults = new Map<string, VaultNode>();
  readonly #keepaliveds = new Map<string, Keepalived>();
  readonly #retiredLogs: string[] = [];
  readonly #notActiveSince = new Map<string, number | undefined>();
  readonly #activeSince = new Map<string, number>();
  readonly #started = performance.now();
  #keepalivedStartedAt = NaN;

  private constructor(plan: ClusterPlan, network: Network, example: string) {
    this.plan = plan;
    this.network = network;
    this.timing = checkTiming(this.#config(example, 0));
    this.detectionMs = Math.round(
      1000 * (this.timing.fall * this.timing.interval + this.timing.timeout) +
        DETECTION_SLACK_MS,
    );
    this.sampler = new Sampler(network.hosts, {
      notActiveSince: (host) => this.#notActiveSince.get(host),
      soleActive: () => this.#soleActive(),
    }, this.detectionMs);
  }

  /**
   * Creates the network, starts every Vault, then every keepalived at
   * once, and starts the sampler; tears down what it made if a step fails.
   */
  static async start(plan: ClusterPlan): Promise<Cluster> {
    const network = await createNetwork(plan.name, plan.states.length);
    const example = await readExample();
    const cluster = new Cluster(plan, network, example);
    LIVE.add(cluster);
    try {
      await Promise.all(network.hosts.map(async (host, index) => {
        const state = plan.states[index] ?? "standby";
        cluster.#notActiveSince.set(host.name, cluster.#started);
        cluster.#markActive(host.name, state === "active");
        cluster.#vaults.set(
          host.name,
          await startVault(
            host,
            cluster.#control(host.name),
            state,
            plan.vaultTls,
          ),
        );
      }));
      cluster.sampler.start();
      await cluster.startKeepalived(example);
    } catch (error: unknown) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The host names, first host first. */
  get names(): string[] {
    return this.network.hosts.map((host) => host.name);
  }

  /** When keepalived was last started on every host. */
  get keepalivedStartedAt(): number {
    return this.#keepalivedStartedAt;
  }

  /** Starts keepalived on every host with the rendered example. */
  async startKeepalived(example?: string): Promise<void> {
    const text = example ?? await readExample();
    this.#keepalivedStartedAt = performance.now();
    await Promise.all(this.network.hosts.map(async (host, index) => {
      const files = {
        config: `${this.plan.directory}/${host.name}.conf`,
        pidPrefix: `${this.plan.directory}/${host.name}`,
      };
      const config = this.#config(text, index);
      this.#keepaliveds.set(
        host.name,
        await startKeepalived(host, files, config, {
          ...(this.plan.environment ?? { VAULT_ADDR: VAULT_ADDRESS }),
          DENO_DIR: this.plan.cache,
        }),
      );
    }));
  }

  /** Stops keepalived on every host, keeping its log for the checks. */
  async stopKeepalived(): Promise<void> {
    const running = [...this.#keepaliveds.values()];
    this.#keepaliveds.clear();
    await Promise.all(running.map((keepalived) => keepalived.stop()));
    for (const keepalived of running) {
      this.#retiredLogs.push(
        ...keepalived.failOpenLines().map((line) =>
          `host ${keepalived.host.name}: ${line}`
        ),
      );
    }
  }

  /**
   * Changes what host `name`'s Vault answers; `active` tells the sampler
   * whether that answer means "this node is active".
   */
  async setVault(name: string, change: VaultChange): Promise<void> {
    const active = change.state === "active" &&
      (change.behaviour === undefined || change.behaviour === "normal");
    this.#markActive(name, active);
    await this.#vault(name).set(change);
  }

  /** Kills host `name`'s Vault process, like a crash. */
  async killVault(name: string): Promise<void> {
    this.#markActive(name, false);
    await this.#vault(name).kill();
    this.#vaults.delete(name);
  }

  /** Starts host `name`'s Vault again, in `state`. */
  async restartVault(name: string, state: string): Promise<void> {
    const host = this.network.hosts.find((each) => each.name === name);
    if (!host) throw new Error(`No host '${name}' in this cluster`);
    this.#markActive(name, state === "active");
    this.#vaults.set(
      name,
      await startVault(host, this.#control(name), state, this.plan.vaultTls),
    );
  }

  /** Blocks or restores every host's link to the bridge (VRRP included). */
  async isolateAll(blocked: boolean): Promise<void> {
    for (const host of this.network.hosts) {
      await setIsolated(this.network, host, blocked);
    }
  }

  /** keepalived log lines, all hosts, that show it dropped the check. */
  failOpenLines(): string[] {
    const running = [...this.#keepaliveds.values()].flatMap((keepalived) =>
      keepalived.failOpenLines().map((line) =>
        `host ${keepalived.host.name}: ${line}`
      )
    );
    return [...this.#retiredLogs, ...running];
  }

  /** The whole console log of host `name`'s running keepalived. */
  keepalivedLog(name: string): readonly string[] {
    return this.#keepaliveds.get(name)?.log ?? [];
  }

  /**
   * Stops the sampler, every keepalived and every Vault by PID, deletes the
   * namespaces, and returns one line for anything left behind.
   */
  async stop(): Promise<string[]> {
    LIVE.delete(this);
    const problems: string[] = [];
    await this.sampler.stop().catch((error: unknown) => {
      problems.push(`The sampler failed: ${String(error)}`);
    });
    const pids = [
      ...[...this.#keepaliveds.values()].map((keepalived) => keepalived.pid),
      ...[...this.#vaults.values()].map((vault) => vault.pid),
    ];
    await this.stopKeepalived();
    await Promise.all([...this.#vaults.values()].map((vault) => vault.stop()));
    this.#vaults.clear();
    problems.push(...await deleteNetwork(this.network));

    const left = (await listNamespaces()).filter((name) =>
      name === this.network.bridgeNamespace ||
      this.network.hosts.some((host) => host.namespace === name)
    );
    if (left.length > 0) {
      problems.push(`Namespaces left behind: '${left.join("', '")}'`);
    }
    for (const pid of pids) {
      if (await exists(`/proc/${pid}`)) {
        problems.push(`Process ${pid} still running after teardown`);
      }
    }
    return problems;
  }

  #markActive(name: string, active: boolean): void {
    const now = performance.now();
    if (active) {
      if (this.#notActiveSince.get(name) !== undefined) {
        this.#activeSince.set(name, now);
      }
      this.#notActiveSince.set(name, undefined);
    } else if (this.#notActiveSince.get(name) === undefined) {
      this.#notActiveSince.set(name, now);
      this.#activeSince.delete(name);
    }
  }

  #soleActive(): { host: string; since: number } | undefined {
    const active = [...this.#activeSince.entries()];
    if (active.length !== 1 || !(this.#keepalivedStartedAt >= 0)) {
      return undefined;
    }
    const [host, since] = active[0] as [string, number];
    return { host, since: Math.max(since, this.#keepalivedStartedAt) };
  }

  #vault(name: string): VaultNode {
    const vault = this.#vaults.get(name);
    if (!vault) throw new Error(`Host '${name}' has no running Vault`);
    return vault;
  }

  #control(name: string): string {
    return `${this.plan.directory}/${this.plan.name}-${name}.sock`;
  }

  #config(example: string, index: number): string {
    const host = this.network.hosts[index];
    if (!host) throw new Error(`No host number ${index} in this cluster`);
    return renderConfig(example, {
      ...hostValues(host, index, this.plan.launcher),
      ...(this.plan.scriptArguments === undefined
        ? {}
        : { scriptArguments: this.plan.scriptArguments }),
    });
  }
}

/** Clusters not yet stopped, for the signal handler. */
const LIVE = new Set<Cluster>();

/** Stops every cluster not yet stopped; for an interrupted run. */
export async function stopAll(): Promise<void> {
  await Promise.all([...LIVE].map((cluster) => cluster.stop()));
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
