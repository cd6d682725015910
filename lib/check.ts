/**
 * One check: ask the target's endpoints under one deadline and decide.
 */

import { ask, classify, type Probe, startProbe } from "./probe.ts";
import { type Target, urlHost } from "./target.ts";
import type { CheckMode } from "./options.ts";
import type { TlsSettings } from "./tls_settings.ts";
import {
  combine,
  decideHealth,
  decideLeader,
  noTimeLeft,
  type Verdict,
} from "./verdict.ts";

/** The endpoint paths the check may ask. */
export const LEADER_PATH = "/v1/sys/leader";
export const HEALTH_PATH = "/v1/sys/health";

/** What one check saw and concluded. */
export interface Outcome {
  verdict: Verdict;
  probes: Probe[];
}

/**
 * Asks the endpoints `mode` names, in parallel, all bounded by one deadline
 * that covers connecting, headers and body: the `leftMs` that start-up left
 * of the run's `timeoutMs` (all of it when not given). With nothing left,
 * the verdict is a timeout without asking. `https://` and `unix://` targets
 * are asked over a connection the check dials itself, with `tls` for the
 * former.
 */
export async function runCheck(
  target: Target,
  mode: CheckMode,
  timeoutMs: number,
  tls?: TlsSettings,
  leftMs: number = timeoutMs,
): Promise<Outcome> {
  if (leftMs < 1) {
    return { verdict: noTimeLeft(timeoutMs, leftMs), probes: [] };
  }
  const deadline = AbortSignal.timeout(leftMs);
  let probe: (path: string) => Promise<Probe>;
  if (target.scheme === "http") {
    try {
      const client = createClient(target);
      probe = (path) => ask(target, path, client, deadline, timeoutMs);
    } catch (error: unknown) {
      // Deno builds its CA store even for plain HTTP, from DENO_CERT and
      // DENO_TLS_CA_STORE: each request fails as that problem.
      probe = (path) => {
        const url = target.base + path;
        const failure = classify(error, url, target, deadline, timeoutMs);
        return Promise.resolve(startProbe(path, url)({ failure }));
      };
    }
  } else {
    const { askDirect } = await import("./direct_probe.ts");
    probe = (path) => askDirect(target, path, tls, deadline, timeoutMs);
  }

  if (mode === "leader") {
    const leader = await probe(LEADER_PATH);
    return { verdict: decideLeader(leader), probes: [leader] };
  }
  if (mode === "health") {
    const health = await probe(HEALTH_PATH);
    return { verdict: decideHealth(health), probes: [health] };
  }
  const [leader, health] = await Promise.all([
    probe(LEADER_PATH),
    probe(HEALTH_PATH),
  ]);
  return {
    verdict: combine(decideLeader(leader), decideHealth(health)),
    probes: [leader, health],
  };
}

/**
 * A client that dials the target itself: an explicit TCP transport, so that
 * proxy variables in keepalived's environment cannot reroute the check.
 */
function createClient(target: Target): Deno.HttpClient {
  return Deno.createHttpClient({
    proxy: {
      transport: "tcp",
      hostname: urlHost(target.hostname),
      port: target.port,
    },
  });
}
