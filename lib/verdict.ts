/**
 * The verdict: from Vault's own answer, is this node the active one? Only a
 * positive, well-formed "this node is active" counts; everything else,
 * including every doubt, is "not active".
 */

import { type Answer, type FailureKind, oneLine, type Probe } from "./probe.ts";

/** The states the check can name, in the operator's words. */
export type State =
  | "active"
  | "standby"
  | "performance_standby"
  | "election"
  | "sealed"
  | "uninitialized"
  | "ha_disabled"
  | "dr_secondary"
  | "ha_unhealthy"
  | "removed"
  | "server_error"
  | "bad_request"
  | "unexpected_status"
  | "redirect"
  | "malformed"
  | "disagree"
  | FailureKind
  | "usage_error"
  | "setup_error";

/**
 * The states in which Vault itself said what this node is. Every other state
 * means the check could not tell: no answer, an answer Vault does not give,
 * an error Vault reported instead of a state, endpoints that disagree, or a
 * setup problem.
 */
const TOLD_BY_VAULT: ReadonlySet<State> = new Set<State>([
  "active",
  "standby",
  "performance_standby",
  "election",
  "sealed",
  "uninitialized",
  "ha_disabled",
  "dr_secondary",
  "ha_unhealthy",
  "removed",
]);

/** True when `state` is Vault's own word on this node, not a failure to tell. */
export function toldByVault(state: State): boolean {
  return TOLD_BY_VAULT.has(state);
}

/** What the check concluded and why, in one line. */
export interface Verdict {
  active: boolean;
  state: State;
  reason: string;
}

type Json = Record<string, unknown>;

/** Decides from an answer of `GET /v1/sys/leader`. */
export function decideLeader(probe: Probe): Verdict {
  const read = answerToRead(probe);
  if ("verdict" in read) return read.verdict;
  const { answer } = read;

  if (answer.status === 503) {
    const errors = errorList(answer);
    // Vault's own words (consts.ErrSealed), exactly: "unsealed" or any
    // other text that merely mentions sealing is an error, not a state.
    return errors.includes(SEALED_ERROR)
      ? notActive("sealed", "Vault is sealed or not initialised")
      : notActive(
        "server_error",
        `Vault is unavailable (503): ${errors.join("; ") || "no error text"}`,
      );
  }
  if (answer.status !== 200) {
    return serverError(answer) ?? unexpected(answer, probe.url);
  }

  const body = parseObject(answer);
  if (typeof body === "string") return notActive("malformed", body);

  const ha = body.ha_enabled;
  // OpenBao leaves out false keys; a key that is present must be a boolean.
  const self = body.is_self === undefined ? false : body.is_self;
  const perf = body.performance_standby === undefined
    ? false
    : body.performance_standby;
  for (
    const [key, value] of [["ha_enabled", ha], ["is_self", self], [
      "performance_standby",
      perf,
    ]] as const
  ) {
    if (typeof value !== "boolean") {
      return notActive(
        "malformed",
        `The leader answer's '${key}' is ${
          describeValue(value)
        }, not a boolean: this is not an answer Vault gives`,
      );
    }
  }

  if (!ha) {
    return notActive(
      "ha_disabled",
      "HA is not enabled on this Vault (ha_enabled is false): there is no active node to follow",
    );
  }
  if (self && perf) {
    return notActive(
      "malformed",
      "The leader answer says both is_self and performance_standby: refusing to guess",
    );
  }
  if (self) {
    return {
      active: true,
      state: "active",
      reason: "This node is the active node (ha_enabled and is_self are true)",
    };
  }

  const leader = typeof body.leader_address === "string"
    ? oneLine(body.leader_address, 200)
    : "";
  if (perf) {
    return notActive(
      "performance_standby",
      `This node is a performance standby; the active node is '${leader}'`,
    );
  }
  if (leader === "") {
    return notActive(
      "election",
      "This node is a standby and no active node is known: an election is in progress",
    );
  }
  return notActive(
    "standby",
    `This node is a standby; the active node is '${leader}'`,
  );
}

/** The error a sealed or uninitialised HA node answers the leader with. */
const SEALED_ERROR = "Vault is sealed";

const HEALTH_STATES: Record<number, [State, string]> = {
  429: ["standby", "This node is a standby (health 429)"],
  472: [
    "dr_secondary",
    "This node belongs to a DR secondary cluster (health 472)",
  ],
  473: [
    "performance_standby",
    "This node is a performance standby (health 473)",
  ],
  474: [
    "ha_unhealthy",
    "This node is a standby that lost its heartbeat to the active node (health 474)",
  ],
  501: ["uninitialized", "Vault is not initialised (health 501)"],
  503: ["sealed", "Vault is sealed (health 503)"],
  530: ["removed", "This node was removed from the raft cluster (health 530)"],
};

/**
 * Decides from an answer of `GET /v1/sys/health`, asked without parameters so
 * that only the active node answers 200. A 200 whose body contradicts it
 * (standby, sealed, uninitialised) is not trusted. A Vault without HA also
 * answers 200, and nothing in the answer tells it from an active node: only
 * the leader endpoint can (`ha_enabled`).
 */
export function decideHealth(probe: Probe): Verdict {
  const read = answerToRead(probe);
  if ("verdict" in read) return read.verdict;
  const { answer } = read;

  const known = HEALTH_STATES[answer.status];
  if (known) return notActive(known[0], known[1]);
  if (answer.status === 400) {
    return notActive(
      "bad_request",
      `Vault rejected the health request (400): ${
        errorList(answer).join("; ") || "no error text"
      }`,
    );
  }
  if (answer.status !== 200) {
    return serverError(answer) ?? unexpected(answer, probe.url);
  }

  const body = parseObject(answer);
  if (typeof body === "string") return notActive("malformed", body);
  const expected = {
    initialized: true,
    sealed: false,
    standby: false,
    performance_standby: false,
  };
  for (const [key, wanted] of Object.entries(expected)) {
    // OpenBao leaves out performance_standby; anything present must match.
    const missing = body[key] === undefined;
    const value = missing && key === "performance_standby" ? false : body[key];
    if (value !== wanted) {
      return notActive(
        "malformed",
        `Health answered 200 but its '${key}' is ${
          describeValue(body[key])
        }, not ${wanted}: refusing to call this node active`,
      );
    }
  }
  return {
    active: true,
    state: "active",
    reason: "This node is the active node (health 200)",
  };
}

/**
 * The states of a request that brought no usable answer back. An answer
 * that is not HTTP is still an answer, as one that is not JSON is: against
 * an active other endpoint it disagrees.
 */
const NO_ANSWER: ReadonlySet<State> = new Set(
  Object.keys(
    {
      timeout: true,
      refused: true,
      tls_error: true,
      unreachable: true,
      too_large: true,
      incomplete: true,
      not_permitted: true,
    } satisfies Record<Exclude<FailureKind, "malformed">, true>,
  ) as FailureKind[],
);

/**
 * Active only when both endpoints say so. When one says active and the
 * other gave no answer, the verdict is that failure; `disagree` is kept for
 * two answers that differ.
 */
export function combine(leader: Verdict, health: Verdict): Verdict {
  if (leader.active && health.active) {
    return {
      active: true,
      state: "active",
      reason: "This node is the active node (leader and health agree)",
    };
  }
  // An endpoint that gave no answer is a failure to tell, not a second
  // opinion: its state and reason stand, naming which endpoint it was.
  const sides = [
    ["leader", leader, "health", health],
    ["health", health, "leader", leader],
  ] as const;
  for (const [name, failed, otherName, other] of sides) {
    if (other.active && NO_ANSWER.has(failed.state)) {
      return notActive(
        failed.state,
        `The ${name} endpoint gave no answer (${otherName} says active): ${failed.reason}`,
      );
    }
  }
  if (leader.active || health.active) {
    return notActive(
      "disagree",
      `The endpoints disagree: leader says ${leader.state}, health says ${health.state}`,
    );
  }
  return notActive(
    leader.state,
    leader.state === health.state
      ? leader.reason
      : `${leader.reason}; health: ${health.reason}`,
  );
}

/**
 * The verdict of a run whose start-up used all of its `timeoutMs` (`leftMs`
 * is what remained, zero or less) before Vault could be asked.
 */
export function noTimeLeft(timeoutMs: number, leftMs: number): Verdict {
  return notActive(
    "timeout",
    `Start-up took ${Math.round(timeoutMs - leftMs)} ms, all of the ${
      timeoutMs / 1000
    } s --timeout: Vault was not asked; fill Deno's cache for the script user (see the README's install) or raise --timeout if keepalived's timeout allows`,
  );
}

/**
 * The answer to read, or the verdict reached without reading it: the request
 * failed, or the status alone decides.
 */
function answerToRead(
  probe: Probe,
): { answer: Answer } | { verdict: Verdict } {
  if (probe.failure) {
    return { verdict: notActive(probe.failure.kind, probe.failure.message) };
  }
  const early = decideStatus(probe.answer, probe.url);
  return early ? { verdict: early } : { answer: probe.answer };
}

function decideStatus(answer: Answer, url: string): Verdict | undefined {
  // 304 answers a conditional request the check never makes: not a redirect.
  if (answer.status === 304) return unexpected(answer, url);
  if (answer.status >= 300 && answer.status < 400 && !answer.location?.trim()) {
    return notActive(
      "redirect",
      `'${url}' answered ${answer.status}, a redirect without a Location header: this is not an answer Vault gives; check what listens at the target`,
    );
  }
  if (answer.status >= 300 && answer.status < 400) {
    return notActive(
      "redirect",
      `'${url}' answered ${answer.status} redirecting to '${
        oneLine(answer.location ?? "", 200)
      }', which is never followed: point the target at this node's own listener`,
    );
  }
  return undefined;
}

function serverError(answer: Answer): Verdict | undefined {
  if (answer.status < 500 || answer.status > 599) return undefined;
  return notActive(
    "server_error",
    `Vault answered ${answer.status}: ${
      errorList(answer).join("; ") || "no error text"
    }`,
  );
}

function unexpected(answer: Answer, url: string): Verdict {
  return notActive(
    "unexpected_status",
    `'${url}' answered HTTP ${answer.status}, which Vault does not send here: check what listens at the target`,
  );
}

function parseObject(answer: Answer): Json | string {
  let value: unknown;
  try {
    value = JSON.parse(answer.body);
  } catch {
    return `The answer is not JSON (${
      answer.contentType ?? "no content type"
    }, ${answer.body.length} bytes): check what listens at the target`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `The answer is JSON but not an object (${
      describeValue(value)
    }): this is not an answer Vault gives`;
  }
  return value as Json;
}

function errorList(answer: Answer): string[] {
  try {
    const body = JSON.parse(answer.body) as Json;
    if (Array.isArray(body.errors)) {
      return body.errors.map((text) => oneLine(String(text), 200));
    }
  } catch {
    // Not JSON: the status alone speaks.
  }
  return [];
}

function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string '${oneLine(value, 40)}'`;
  return `${typeof value} ${oneLine(String(value), 40)}`;
}

function notActive(state: State, reason: string): Verdict {
  return { active: false, state, reason };
}
