/**
 * The named node states of the simulated Vault and how a request is answered
 * in each, using only the reference answers in `tests/fixtures`.
 */

import {
  FIXTURE,
  type FixtureEntry,
  fixtureEntry,
  type Product,
} from "./fixture.ts";

export { FIXTURE, type FixtureEntry, fixtureEntry, type Product };

/** The path a keepalived check asks for the HA leader. */
export const LEADER_PATH = "/v1/sys/leader";

/** The path of the health endpoint. */
export const HEALTH_PATH = "/v1/sys/health";

/**
 * A node state: the fixture states of its `GET /v1/sys/leader` and
 * `GET /v1/sys/health` answers, and why they were paired when the fixture
 * has no obvious pair.
 */
export interface NodeState {
  readonly leader: string;
  readonly health: string;
  readonly reason?: string;
}

/**
 * Every node state of both products. Each `GET` entry of both endpoints
 * with an empty query is the answer of at least one node state, except the
 * namespace-header answers, which any health request carrying
 * `X-Vault-Namespace` gets.
 */
export const NODE_STATES = {
  vault: {
    active: { leader: "active", health: "active" },
    standby: { leader: "standby", health: "standby" },
    election: {
      leader: "standby_no_leader_known",
      health: "standby",
      reason: "a standby while no node holds the HA lock",
    },
    performance_standby: {
      leader: "performance_standby",
      health: "performance_standby",
    },
    sealed: { leader: "sealed_ha", health: "sealed" },
    uninitialized: { leader: "uninitialized_ha", health: "uninitialized" },
    ha_disabled: {
      leader: "ha_disabled_unsealed",
      health: "non_ha_active_file_storage",
    },
    ha_disabled_sealed: {
      leader: "ha_disabled_sealed",
      health: "sealed",
      reason: "HA is checked before the seal, so the leader answer is 200",
    },
    server_error: {
      leader: "ha_backend_error_on_standby",
      health: "standby",
      reason: "a standby that cannot read the lock of its HA backend",
    },
    dr_secondary: {
      leader: "active",
      health: "dr_secondary_active",
      reason: "the fixture has no leader answer of a DR secondary; its " +
        "active node holds its own cluster's HA lock, so it says is_self " +
        "true like any active node while health says 472",
    },
    standby_ha_unhealthy: {
      leader: "standby",
      health: "standby_ha_unhealthy",
    },
    removed: {
      leader: "standby_no_leader_known",
      health: "removed_from_raft_cluster",
      reason: "the fixture has no leader answer of a removed node; it is " +
        "an unsealed standby that lost its cluster, so it knows no leader",
    },
    active_redacted: {
      leader: "active_redact_addresses",
      health: "active_redacted_no_token",
    },
    standby_pre_1_19: { leader: "standby", health: "standby_pre_1_19" },
    active_1_16: { leader: "active", health: "active_1_16_sample" },
  },
  openbao: {
    active: { leader: "active", health: "active_ha" },
    standby: { leader: "standby", health: "standby" },
    election: { leader: "standby_no_leader_known", health: "standby" },
    ha_disabled: { leader: "ha_disabled", health: "active_non_ha" },
    ha_disabled_sealed: {
      leader: "ha_disabled",
      health: "sealed",
      reason: "HA is checked before the seal, so the leader answer is 200",
    },
    sealed: { leader: "sealed_ha", health: "sealed" },
    uninitialized: { leader: "uninitialized_ha", health: "uninitialized" },
    standby_v2_0_to_2_5: {
      leader: "standby_v2_0_to_2_5",
      health: "standby",
      reason: "the fixture's only OpenBao standby health answer is 2.6's",
    },
    active_v2_5: { leader: "active", health: "active_ha_v2_5" },
    active_v2_0_to_2_4: { leader: "active", health: "active_ha_v2_0_to_2_4" },
    ha_disabled_v2_0_to_2_5: {
      leader: "ha_disabled_v2_0_to_2_5",
      health: "active_non_ha",
    },
  },
} as const satisfies Record<Product, Record<string, NodeState>>;

/** The name of a node state of either product. */
export type NodeStateName =
  | keyof typeof NODE_STATES.vault
  | keyof typeof NODE_STATES.openbao;

/**
 * Health answers to a query, by the health state they vary: the fixture
 * states whose query a node in that health state answers.
 */
const HEALTH_QUERY_ANSWERS: Record<Product, Record<string, string[]>> = {
  vault: {
    standby: [
      "standby_standbyok_true",
      "standby_standbyok_false",
      "standby_standbyok_empty",
      "standby_custom_standbycode",
    ],
    standby_ha_unhealthy: [
      "standby_ha_unhealthy_with_standbyok",
      "standby_ha_unhealthy_custom",
    ],
    performance_standby: [
      "performance_standby_standbyok_only",
      "performance_standby_perfstandbyok",
    ],
    dr_secondary_active: ["dr_secondary_active_standbyok"],
    sealed: ["sealed_custom_sealedcode", "go_api_client_style_on_sealed"],
    removed_from_raft_cluster: ["removed_with_standbyok"],
  },
  openbao: {
    standby: [
      "standby_standbyok",
      "standby_perfstandbyok_ignored",
      "standby_bad_haunhealthycode_ignored",
    ],
  },
};

/** Health queries refused whatever the node state, parsed before it. */
const QUERY_ERRORS: Record<Product, string[]> = {
  vault: ["bad_activecode", "bad_standbyok", "bad_haunhealthycode"],
  openbao: ["bad_standbyok"],
};

/** The health answer to a request carrying `X-Vault-Namespace`. */
const NAMESPACE_ANSWERS: Record<Product, string> = {
  vault: "namespace_header_enterprise",
  openbao: "namespace_header",
};

/** What the simulator sends back: `body` null means no body at all. */
export interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string | null;
}

/** The parts of a request that decide its answer. */
export interface Question {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The answer to any path other than the two endpoints. */
export const NOT_FOUND: Answer = {
  status: 404,
  contentType: "application/json",
  body: JSON.stringify({ errors: [] }),
};

/**
 * Looks up a node state of a product.
 *
 * @throws {RangeError} for an unknown product or a state it does not have
 */
export function nodeState(product: Product, name: string): NodeState {
  if (!Object.hasOwn(NODE_STATES, product)) {
    throw new RangeError(
      `Unknown product "${product}"; known products: vault, openbao`,
    );
  }
  const states: Record<string, NodeState> = NODE_STATES[product];
  const found = Object.hasOwn(states, name) ? states[name] : undefined;
  if (found === undefined) {
    const known = Object.keys(states).join(", ");
    throw new RangeError(
      `Unknown ${product} node state "${name}"; known states: ${known}`,
    );
  }
  return found;
}

/**
 * Answers a request as a node of `product` in node state `name` would.
 *
 * A query the fixture does not list for this state (any query on the leader
 * endpoint) gets the fixture's 400 `{"errors":[]}`: real servers ignore
 * parameters they do not know, but a check sending one should be noticed.
 * OpenBao has no 405 or HEAD entries; it shares Vault's handlers for them.
 */
export function answer(
  product: Product,
  name: string,
  question: Question,
): Answer {
  const node = nodeState(product, name);
  if (question.path === LEADER_PATH) {
    return answerLeader(product, node, question);
  }
  if (question.path === HEALTH_PATH) {
    return answerHealth(product, node, question);
  }
  return NOT_FOUND;
}

function answerLeader(
  product: Product,
  node: NodeState,
  question: Question,
): Answer {
  if (question.method === "HEAD") {
    return withoutBody(
      fixtureEntry("vault", LEADER_PATH, "HEAD", "head_not_allowed"),
    );
  }
  if (question.method !== "GET") return methodNotAllowed();
  if (question.query !== "") return fromEntry(queryError(product, ""));
  return fromEntry(fixtureEntry(product, LEADER_PATH, "GET", node.leader));
}

function answerHealth(
  product: Product,
  node: NodeState,
  question: Question,
): Answer {
  if (question.method !== "GET" && question.method !== "HEAD") {
    return methodNotAllowed();
  }

  const entry = healthEntry(product, node, question);
  if (question.method === "GET") return fromEntry(entry);
  if (entry.status === 400 && entry.state.startsWith("bad_")) {
    return withoutBody(
      fixtureEntry("vault", HEALTH_PATH, "HEAD", "bad_code_head"),
    );
  }
  return withoutBody(entry);
}

function healthEntry(
  product: Product,
  node: NodeState,
  question: Question,
): FixtureEntry {
  if (question.headers["x-vault-namespace"] !== undefined) {
    return fixtureEntry(
      product,
      HEALTH_PATH,
      "GET",
      NAMESPACE_ANSWERS[product],
    );
  }
  if (question.query === "") {
    return fixtureEntry(product, HEALTH_PATH, "GET", node.health);
  }

  const variants = HEALTH_QUERY_ANSWERS[product][node.health] ?? [];
  const variant = variants
    .map((state) => fixtureEntry(product, HEALTH_PATH, "GET", state))
    .find((entry) => entry.query === question.query);
  return variant ?? queryError(product, question.query);
}

function queryError(product: Product, query: string): FixtureEntry {
  const errors = QUERY_ERRORS[product].map((state) =>
    fixtureEntry(product, HEALTH_PATH, "GET", state)
  );
  const exact = errors.find((entry) => entry.query === query);
  const first = errors[0];
  if (first === undefined) {
    throw new RangeError(`Fixture has no ${product} query error`);
  }
  return exact ?? first;
}

function methodNotAllowed(): Answer {
  return fromEntry(
    fixtureEntry("vault", HEALTH_PATH, "POST", "method_not_allowed"),
  );
}

function fromEntry(entry: FixtureEntry): Answer {
  return {
    status: entry.status,
    contentType: entry.content_type,
    body: JSON.stringify(entry.body),
  };
}

function withoutBody(entry: FixtureEntry): Answer {
  return { status: entry.status, contentType: entry.content_type, body: null };
}
