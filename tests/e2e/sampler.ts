/**
 * Watches where the VIP is: every 100 ms it asks `ip -n NS addr` on every
 * host, and it fails the run when the VIP is on two hosts at once or stays
 * on a host whose Vault is not active for longer than the detection time,
 * or is on no host that long while exactly one Vault is active.
 */

import { holdsVip, type Host } from "./network.ts";

/** How often the hosts are asked. */
export const SAMPLE_INTERVAL_MS = 100;

/** One look at every host. */
export interface Sample {
  /** When the look ended, `performance.now()` milliseconds. */
  readonly at: number;
  /** The names of the hosts that held the VIP. */
  readonly holders: readonly string[];
}

/** A broken rule, as one line. */
export interface Violation {
  readonly kind: "double" | "misplaced" | "missing";
  readonly message: string;
}

/** Whether each host's Vault is active, and since when it is not. */
export interface VaultStates {
  /** `undefined` when active, else when it stopped being active. */
  notActiveSince(host: string): number | undefined;
  /**
   * The host whose Vault has been the only active one, and since when
   * (counted from keepalived's start at the earliest), or `undefined`.
   */
  soleActive(): { host: string; since: number } | undefined;
}

/** The sampler of one cluster. */
export class Sampler {
  readonly #hosts: readonly Host[];
  readonly #states: VaultStates;
  readonly #detectionMs: number;
  readonly #violations: Violation[] = [];
  readonly #reported = new Set<string>();
  #waiters: Array<(sample: Sample) => void> = [];
  #running = false;
  #doubled = false;
  #loop: Promise<void> | undefined;
  #last: Sample | undefined;
  #error: unknown;

  /**
   * @param detectionMs how long the VIP may stay on a host after its Vault
   * stopped being active
   */
  constructor(
    hosts: readonly Host[],
    states: VaultStates,
    detectionMs: number,
  ) {
    this.#hosts = hosts;
    this.#states = states;
    this.#detectionMs = detectionMs;
  }

  /** Every broken rule seen so far. */
  get violations(): readonly Violation[] {
    return this.#violations;
  }

  /** Starts sampling. */
  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops sampling and waits for the last look to end. */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /**
   * Resolves with the first sample from now on that satisfies `wanted`;
   * rejects with `failure` once `deadlineMs` has passed without one.
   */
  until(
    wanted: (sample: Sample) => boolean,
    deadlineMs: number,
    failure: () => string,
  ): Promise<Sample> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== check);
        reject(new Error(`${failure()} (last seen: ${this.describeLast()})`));
      }, deadlineMs);
      const check = (sample: Sample) => {
        if (!wanted(sample)) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((waiter) => waiter !== check);
        resolve(sample);
      };
      this.#waiters.push(check);
    });
  }

  /**
   * Watches for `durationMs` and rejects at the first sample that does not
   * satisfy `wanted`.
   */
  async throughout(
    wanted: (sample: Sample) => boolean,
    durationMs: number,
    failure: (sample: Sample) => string,
  ): Promise<void> {
    let broken: Sample | undefined;
    await this.until(
      (sample) => {
        if (!wanted(sample)) broken = sample;
        return broken !== undefined;
      },
      durationMs,
      () => "",
    ).catch(() => {});
    if (broken) throw new Error(failure(broken));
  }

  /** Where the VIP was at the last look, for messages. */
  describeLast(): string {
    if (!this.#last) return "no sample yet";
    const holders = this.#last.holders;
    return holders.length === 0 ? "no host" : `host ${holders.join(", ")}`;
  }

  async #run(): Promise<void> {
    let next = performance.now();
    while (this.#running) {
      try {
        await this.#look();
      } catch (error: unknown) {
        this.#error ??= error;
      }
      next += SAMPLE_INTERVAL_MS;
      const wait = Math.max(0, next - performance.now());
      if (wait === 0) next = performance.now();
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    if (this.#error) throw this.#error;
  }

  async #look(): Promise<void> {
    let holders = await this.#holders(this.#hosts);
    if (holders.length > 1) {
      // Two hosts seen holding it might be one handing over between the
      // two reads: it is a double only if both still hold it when asked again.
      const again = await this.#holders(
        this.#hosts.filter((host) => holders.includes(host.name)),
      );
      if (again.length > 1 && !this.#doubled) {
        this.#report("double", `VIP on hosts ${again.join(" and ")} at once`);
      }
      holders = again;
    }
    this.#doubled = holders.length > 1;
    const sample = { at: performance.now(), holders };
    for (const holder of holders) this.#checkPlacement(holder, sample.at);
    if (holders.length === 0) this.#checkPresence(sample.at);
    this.#last = sample;
    for (const waiter of [...this.#waiters]) waiter(sample);
  }

  #checkPlacement(holder: string, at: number): void {
    const since = this.#states.notActiveSince(holder);
    if (since === undefined) return;
    const late = at - since;
    if (late <= this.#detectionMs) return;
    this.#report(
      "misplaced",
      `VIP still on host ${holder} ${(late / 1000).toFixed(2)} s after its ` +
        `Vault stopped being active (limit ${this.#detectionMs / 1000} s)`,
      `misplaced:${holder}@${since}`,
    );
  }

  /** A VIP missing while one Vault has long been active is a flap. */
  #checkPresence(at: number): void {
    const active = this.#states.soleActive();
    if (!active || at - active.since <= this.#detectionMs) return;
    this.#report(
      "missing",
      `VIP on no host ${((at - active.since) / 1000).toFixed(2)} s after ` +
        `host ${active.host}'s Vault became the only active one`,
      `missing:${active.host}@${active.since}`,
    );
  }

  #report(kind: Violation["kind"], message: string, key?: string): void {
    if (key !== undefined) {
      if (this.#reported.has(key)) return;
      this.#reported.add(key);
    }
    this.#violations.push({ kind, message });
  }

  async #holders(hosts: readonly Host[]): Promise<string[]> {
    const held = await Promise.all(hosts.map((host) => holdsVip(host)));
    return hosts.filter((_, index) => held[index]).map((host) => host.name);
  }
}
