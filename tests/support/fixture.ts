/**
 * The reference answers of Vault and OpenBao, verbatim from
 * `tests/fixtures/vault_states.json`, and the probes the verdict sees when
 * one of them arrives.
 */

import reference from "../fixtures/vault_states.json" with { type: "json" };
import type { Probe } from "../../lib/probe.ts";

/** The servers the fixture has answers of. */
export type Product = "vault" | "openbao";

/** One reference answer of Vault or OpenBao, as stored in the fixture. */
export interface FixtureEntry {
  readonly product: string;
  readonly state: string;
  readonly endpoint: string;
  readonly method: string;
  readonly query: string;
  readonly status: number;
  readonly body: unknown;
  readonly content_type: string | null;
}

/** Every reference answer, in fixture order. */
export const FIXTURE: readonly FixtureEntry[] = reference;

/**
 * Finds the fixture entry of one state of one endpoint.
 *
 * @throws {RangeError} when the fixture has no such entry
 */
export function fixtureEntry(
  product: Product,
  endpoint: string,
  method: string,
  state: string,
): FixtureEntry {
  const found = FIXTURE.find((entry) =>
    entry.product === product && entry.endpoint === endpoint &&
    entry.method === method && entry.state === state
  );
  if (found === undefined) {
    throw new RangeError(
      `Fixture has no ${product} answer "${state}" to ${method} ${endpoint}`,
    );
  }
  return found;
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
