/**
 * The reference answers of Vault and OpenBao, read from
 * `tests/fixtures/vault_states.json`, and the probes the verdict sees when
 * one of them arrives.
 */

import type { Probe } from "../../lib/probe.ts";

/** One reference answer: what a node in `state` sends for one request. */
export interface FixtureEntry {
  state: string;
  product: "vault" | "openbao";
  endpoint: "/v1/sys/leader" | "/v1/sys/health";
  method: string;
  query: string;
  status: number;
  body: unknown;
  content_type: string | null;
}

const FIXTURE = new URL("../fixtures/vault_states.json", import.meta.url);

/** Every reference answer, in the fixture's order. */
export function fixtureEntries(): FixtureEntry[] {
  return JSON.parse(Deno.readTextFileSync(FIXTURE)) as FixtureEntry[];
}

/** The key an expectation table uses for `entry`: product, endpoint, state. */
export function entryKey(entry: FixtureEntry): string {
  return `${entry.product} ${entry.endpoint} ${entry.state}`;
}

/** The probe the check would build had `entry` come back from `base`. */
export function probeOf(
  entry: FixtureEntry,
  base = "http://127.0.0.1:8200",
): Probe {
  return {
    endpoint: entry.endpoint,
    url: base + entry.endpoint,
    elapsedMs: 1,
    answer: {
      status: entry.status,
      contentType: entry.content_type,
      location: null,
      body: entry.body === null ? "" : JSON.stringify(entry.body),
    },
  };
}
