import assert from "node:assert/strict";
import {
  combine,
  decideHealth,
  decideLeader,
  type State,
  toldByVault,
  type Verdict,
} from "../lib/verdict.ts";
import type { FailureKind, Probe } from "../lib/probe.ts";
import { entryKey, FIXTURE, fixtureEntry, probeOf } from "./support/fixture.ts";

const URL_LEADER = "http://127.0.0.1:8200/v1/sys/leader";
const URL_HEALTH = "http://127.0.0.1:8200/v1/sys/health";

const ACTIVE_LEADER =
  "This node is the active node (ha_enabled and is_self are true)";
const ACTIVE_HEALTH = "This node is the active node (health 200)";
const STANDBY_OF_11 =
  "This node is a standby; the active node is 'https://10.0.0.11:8200'";
const ELECTION =
  "This node is a standby and no active node is known: an election is in progress";
const SEALED_LEADER = "Vault is sealed or not initialised";
const HA_DISABLED =
  "HA is not enabled on this Vault (ha_enabled is false): there is no active node to follow";
const STANDBY_HEALTH = "This node is a standby (health 429)";
const PERF_HEALTH = "This node is a performance standby (health 473)";
const UNHEALTHY_HEALTH =
  "This node is a standby that lost its heartbeat to the active node (health 474)";
const DR_HEALTH = "This node belongs to a DR secondary cluster (health 472)";
const SEALED_HEALTH = "Vault is sealed (health 503)";
const UNINIT_HEALTH = "Vault is not initialised (health 501)";
const REMOVED_HEALTH =
  "This node was removed from the raft cluster (health 530)";
const BAD_REQUEST_BLANK =
  "Vault rejected the health request (400): no error text";
const NOT_JSON_EMPTY =
  "The answer is not JSON (application/json, 0 bytes): check what listens at the target";
const untrusted = (key: string) =>
  `Health answered 200 but its '${key}' is boolean true, not false: refusing to call this node active`;
const unexpected = (url: string, status: number) =>
  `'${url}' answered HTTP ${status}, which Vault does not send here: check what listens at the target`;

/**
 * What the verdict must say for every reference answer, written from Vault's
 * and OpenBao's documented behaviour, not from the code: [state, active,
 * reason]. Only an unparameterised GET that says "active" may be active; the
 * answers to query parameters the check never sends must still not be.
 */
const EXPECTED: Record<string, [State, boolean, string]> = {
  "vault /v1/sys/health active": ["active", true, ACTIVE_HEALTH],
  "vault /v1/sys/health active_head": ["malformed", false, NOT_JSON_EMPTY],
  "vault /v1/sys/health standby": ["standby", false, STANDBY_HEALTH],
  "vault /v1/sys/health standby_standbyok_true": [
    "malformed",
    false,
    untrusted("standby"),
  ],
  "vault /v1/sys/health standby_standbyok_false": [
    "standby",
    false,
    STANDBY_HEALTH,
  ],
  "vault /v1/sys/health standby_standbyok_empty": [
    "standby",
    false,
    STANDBY_HEALTH,
  ],
  "vault /v1/sys/health standby_custom_standbycode": [
    "unexpected_status",
    false,
    unexpected(URL_HEALTH, 299),
  ],
  "vault /v1/sys/health standby_ha_unhealthy": [
    "ha_unhealthy",
    false,
    UNHEALTHY_HEALTH,
  ],
  "vault /v1/sys/health standby_ha_unhealthy_with_standbyok": [
    "ha_unhealthy",
    false,
    UNHEALTHY_HEALTH,
  ],
  "vault /v1/sys/health standby_ha_unhealthy_custom": [
    "unexpected_status",
    false,
    unexpected(URL_HEALTH, 299),
  ],
  "vault /v1/sys/health standby_pre_1_19": ["standby", false, STANDBY_HEALTH],
  "vault /v1/sys/health performance_standby": [
    "performance_standby",
    false,
    PERF_HEALTH,
  ],
  "vault /v1/sys/health performance_standby_standbyok_only": [
    "performance_standby",
    false,
    PERF_HEALTH,
  ],
  "vault /v1/sys/health performance_standby_perfstandbyok": [
    "malformed",
    false,
    untrusted("standby"),
  ],
  "vault /v1/sys/health dr_secondary_active": [
    "dr_secondary",
    false,
    DR_HEALTH,
  ],
  "vault /v1/sys/health dr_secondary_active_standbyok": [
    "dr_secondary",
    false,
    DR_HEALTH,
  ],
  "vault /v1/sys/health sealed": ["sealed", false, SEALED_HEALTH],
  "vault /v1/sys/health sealed_custom_sealedcode": [
    "malformed",
    false,
    untrusted("sealed"),
  ],
  "vault /v1/sys/health uninitialized": [
    "uninitialized",
    false,
    UNINIT_HEALTH,
  ],
  "vault /v1/sys/health removed_from_raft_cluster": [
    "removed",
    false,
    REMOVED_HEALTH,
  ],
  "vault /v1/sys/health removed_with_standbyok": [
    "removed",
    false,
    REMOVED_HEALTH,
  ],
  // Without HA every unsealed node serves alone: health calls it active.
  "vault /v1/sys/health non_ha_active_file_storage": [
    "active",
    true,
    ACTIVE_HEALTH,
  ],
  "vault /v1/sys/health active_redacted_no_token": [
    "active",
    true,
    ACTIVE_HEALTH,
  ],
  "vault /v1/sys/health go_api_client_style_on_sealed": [
    "unexpected_status",
    false,
    unexpected(URL_HEALTH, 299),
  ],
  "vault /v1/sys/health bad_activecode": [
    "bad_request",
    false,
    BAD_REQUEST_BLANK,
  ],
  "vault /v1/sys/health bad_standbyok": [
    "bad_request",
    false,
    BAD_REQUEST_BLANK,
  ],
  "vault /v1/sys/health bad_haunhealthycode": [
    "bad_request",
    false,
    BAD_REQUEST_BLANK,
  ],
  "vault /v1/sys/health bad_code_head": [
    "bad_request",
    false,
    BAD_REQUEST_BLANK,
  ],
  "vault /v1/sys/health method_not_allowed": [
    "unexpected_status",
    false,
    unexpected(URL_HEALTH, 405),
  ],
  "vault /v1/sys/health namespace_header_enterprise": [
    "unexpected_status",
    false,
    unexpected(URL_HEALTH, 404),
  ],
  "vault /v1/sys/health active_1_16_sample": ["active", true, ACTIVE_HEALTH],
  "vault /v1/sys/leader active": ["active", true, ACTIVE_LEADER],
  "vault /v1/sys/leader standby": ["standby", false, STANDBY_OF_11],
  "vault /v1/sys/leader standby_no_leader_known": [
    "election",
    false,
    ELECTION,
  ],
  "vault /v1/sys/leader sealed_ha": ["sealed", false, SEALED_LEADER],
  "vault /v1/sys/leader uninitialized_ha": ["sealed", false, SEALED_LEADER],
  "vault /v1/sys/leader ha_disabled_unsealed": [
    "ha_disabled",
    false,
    HA_DISABLED,
  ],
  "vault /v1/sys/leader ha_disabled_sealed": [
    "ha_disabled",
    false,
    HA_DISABLED,
  ],
  "vault /v1/sys/leader performance_standby": [
    "performance_standby",
    false,
    "This node is a performance standby; the active node is 'https://10.0.0.11:8200'",
  ],
  "vault /v1/sys/leader ha_backend_error_on_standby": [
    "server_error",
    false,
    "Vault answered 500: failed to read lock: Unexpected response code: 500",
  ],
  "vault /v1/sys/leader active_redact_addresses": [
    "active",
    true,
    ACTIVE_LEADER,
  ],
  "vault /v1/sys/leader head_not_allowed": [
    "unexpected_status",
    false,
    unexpected(URL_LEADER, 405),
  ],
  "openbao /v1/sys/health active_ha": ["active", true, ACTIVE_HEALTH],
  "openbao /v1/sys/health active_non_ha": ["active", true, ACTIVE_HEALTH],
  "openbao /v1/sys/health standby": ["standby", false, STANDBY_HEALTH],
  "openbao /v1/sys/health standby_standbyok": [
    "malformed",
    false,
    untrusted("standby"),
  ],
  "openbao /v1/sys/health standby_perfstandbyok_ignored": [
    "standby",
    false,
    STANDBY_HEALTH,
  ],
  "openbao /v1/sys/health standby_bad_haunhealthycode_ignored": [
    "standby",
    false,
    STANDBY_HEALTH,
  ],
  "openbao /v1/sys/health sealed": ["sealed", false, SEALED_HEALTH],
  "openbao /v1/sys/health uninitialized": [
    "uninitialized",
    false,
    UNINIT_HEALTH,
  ],
  "openbao /v1/sys/health bad_standbyok": [
    "bad_request",
    false,
    BAD_REQUEST_BLANK,
  ],
  "openbao /v1/sys/health active_head": ["malformed", false, NOT_JSON_EMPTY],
  "openbao /v1/sys/health namespace_header": [
    "bad_request",
    false,
    "Vault rejected the health request (400): operation unavailable in namespaces",
  ],
  "openbao /v1/sys/health active_ha_v2_5": ["active", true, ACTIVE_HEALTH],
  "openbao /v1/sys/health active_ha_v2_0_to_2_4": [
    "active",
    true,
    ACTIVE_HEALTH,
  ],
  "openbao /v1/sys/leader active": ["active", true, ACTIVE_LEADER],
  "openbao /v1/sys/leader standby": ["standby", false, STANDBY_OF_11],
  "openbao /v1/sys/leader standby_no_leader_known": [
    "election",
    false,
    ELECTION,
  ],
  "openbao /v1/sys/leader ha_disabled": ["ha_disabled", false, HA_DISABLED],
  "openbao /v1/sys/leader sealed_ha": ["sealed", false, SEALED_LEADER],
  "openbao /v1/sys/leader uninitialized_ha": ["sealed", false, SEALED_LEADER],
  "openbao /v1/sys/leader standby_v2_0_to_2_5": [
    "standby",
    false,
    STANDBY_OF_11,
  ],
  "openbao /v1/sys/leader ha_disabled_v2_0_to_2_5": [
    "ha_disabled",
    false,
    HA_DISABLED,
  ],
};

Deno.test("the expectation table covers every reference answer exactly once", () => {
  const keys = FIXTURE.map(entryKey);
  assert.equal(new Set(keys).size, keys.length, "fixture keys are unique");
  assert.deepEqual([...keys].sort(), Object.keys(EXPECTED).sort());
});

Deno.test("decides every reference answer as Vault and OpenBao mean it", async (t) => {
  for (const entry of FIXTURE) {
    const expected = EXPECTED[entryKey(entry)];
    if (expected === undefined) continue; // reported by the coverage test
    await t.step(entryKey(entry), () => {
      const decide = entry.endpoint === "/v1/sys/leader"
        ? decideLeader
        : decideHealth;
      const [state, active, reason] = expected;
      assert.deepEqual(decide(probeOf(entry)), { active, state, reason });
    });
  }
});

Deno.test("no leader answer passes as active health, nor the reverse", () => {
  for (const entry of FIXTURE) {
    const other = entry.endpoint === "/v1/sys/leader"
      ? decideHealth
      : decideLeader;
    const verdict = other(probeOf(entry));
    assert.equal(verdict.active, false, entryKey(entry));
  }
});

function answer(
  status: number,
  body: string,
  endpoint = "/v1/sys/leader",
  location: string | null = null,
): Probe {
  return {
    endpoint,
    url: "http://127.0.0.1:8200" + endpoint,
    elapsedMs: 1,
    answer: { status, contentType: "application/json", location, body },
  };
}

Deno.test("decideLeader refuses anything but booleans", async (t) => {
  const cases: [string, string][] = [
    [
      '{"ha_enabled":"true","is_self":true}',
      "The leader answer's 'ha_enabled' is the string 'true', not a boolean: this is not an answer Vault gives",
    ],
    [
      '{"ha_enabled":true,"is_self":"true"}',
      "The leader answer's 'is_self' is the string 'true', not a boolean: this is not an answer Vault gives",
    ],
    [
      '{"ha_enabled":true,"is_self":1}',
      "The leader answer's 'is_self' is number 1, not a boolean: this is not an answer Vault gives",
    ],
    [
      '{"ha_enabled":true,"is_self":null}',
      "The leader answer's 'is_self' is null, not a boolean: this is not an answer Vault gives",
    ],
    [
      '{"is_self":true}',
      "The leader answer's 'ha_enabled' is missing, not a boolean: this is not an answer Vault gives",
    ],
    [
      '{"ha_enabled":true,"is_self":true,"performance_standby":"no"}',
      "The leader answer's 'performance_standby' is the string 'no', not a boolean: this is not an answer Vault gives",
    ],
    [
      '{"ha_enabled":true,"is_self":true,"performance_standby":true}',
      "The leader answer says both is_self and performance_standby: refusing to guess",
    ],
    [
      "[true]",
      "The answer is JSON but not an object (an array): this is not an answer Vault gives",
    ],
    [
      "true",
      "The answer is JSON but not an object (boolean true): this is not an answer Vault gives",
    ],
    [
      "null",
      "The answer is JSON but not an object (null): this is not an answer Vault gives",
    ],
    [
      "<html>ok</html>",
      "The answer is not JSON (application/json, 15 bytes): check what listens at the target",
    ],
  ];
  for (const [body, reason] of cases) {
    await t.step(body, () => {
      assert.deepEqual(decideLeader(answer(200, body)), {
        active: false,
        state: "malformed",
        reason,
      });
    });
  }
});

Deno.test("decideHealth trusts a 200 only when its body agrees", async (t) => {
  const good = {
    initialized: true,
    sealed: false,
    standby: false,
    performance_standby: false,
  };
  await t.step("OpenBao leaves out performance_standby", () => {
    const { performance_standby: _, ...bao } = good;
    const verdict = decideHealth(
      answer(200, JSON.stringify(bao), "/v1/sys/health"),
    );
    assert.deepEqual(verdict, {
      active: true,
      state: "active",
      reason: ACTIVE_HEALTH,
    });
  });
  const cases: [Record<string, unknown>, string][] = [
    [
      { ...good, initialized: false },
      "Health answered 200 but its 'initialized' is boolean false, not true: refusing to call this node active",
    ],
    [
      { ...good, initialized: undefined },
      "Health answered 200 but its 'initialized' is missing, not true: refusing to call this node active",
    ],
    [
      { ...good, sealed: "false" },
      "Health answered 200 but its 'sealed' is the string 'false', not false: refusing to call this node active",
    ],
    [
      { ...good, standby: 0 },
      "Health answered 200 but its 'standby' is number 0, not false: refusing to call this node active",
    ],
    [
      { ...good, performance_standby: null },
      "Health answered 200 but its 'performance_standby' is null, not false: refusing to call this node active",
    ],
  ];
  for (const [body, reason] of cases) {
    await t.step(JSON.stringify(body), () => {
      const verdict = decideHealth(
        answer(200, JSON.stringify(body), "/v1/sys/health"),
      );
      assert.deepEqual(verdict, { active: false, state: "malformed", reason });
    });
  }
});

Deno.test("a redirect is named and never active", () => {
  for (const endpoint of ["/v1/sys/leader", "/v1/sys/health"]) {
    for (const status of [301, 302, 307, 308]) {
      const probe = answer(
        status,
        "",
        endpoint,
        "http://10.0.0.11:8200" + endpoint,
      );
      const decide = endpoint === "/v1/sys/leader"
        ? decideLeader
        : decideHealth;
      assert.deepEqual(decide(probe), {
        active: false,
        state: "redirect",
        reason: `'http://127.0.0.1:8200${endpoint}' answered ${status} ` +
          `redirecting to 'http://10.0.0.11:8200${endpoint}', which is never ` +
          "followed: point the target at this node's own listener",
      });
    }
  }
});

Deno.test("a 3xx without a Location is named without a location", () => {
  for (const endpoint of ["/v1/sys/leader", "/v1/sys/health"]) {
    const url = "http://127.0.0.1:8200" + endpoint;
    const decide = endpoint === "/v1/sys/leader" ? decideLeader : decideHealth;
    assert.deepEqual(decide(answer(304, "", endpoint)), {
      active: false,
      state: "unexpected_status",
      reason: unexpected(url, 304),
    });
    assert.deepEqual(decide(answer(304, "", endpoint, "http://x/")), {
      active: false,
      state: "unexpected_status",
      reason: unexpected(url, 304),
    });
    for (const status of [300, 302, 307]) {
      assert.deepEqual(decide(answer(status, "", endpoint)), {
        active: false,
        state: "redirect",
        reason: `'${url}' answered ${status}, a redirect without a Location ` +
          "header: this is not an answer Vault gives; check what listens at " +
          "the target",
      });
    }
  }
});

Deno.test("a 503 is sealed only with Vault's own 'Vault is sealed'", () => {
  const sealed = fixtureEntry("vault", "/v1/sys/leader", "GET", "sealed_ha");
  assert.deepEqual(decideLeader(answer(503, JSON.stringify(sealed.body))), {
    active: false,
    state: "sealed",
    reason: "Vault is sealed or not initialised",
  });
  for (const text of ["unsealed", "Vault is sealed?", "vault is sealed"]) {
    const body = JSON.stringify({ errors: [text] });
    assert.deepEqual(decideLeader(answer(503, body)), {
      active: false,
      state: "server_error",
      reason: `Vault is unavailable (503): ${text}`,
    });
  }
});

Deno.test("server errors carry Vault's own error text on one line", () => {
  assert.deepEqual(
    decideLeader(answer(503, '{"errors":["standby\\nstep-down","lock"]}')),
    {
      active: false,
      state: "server_error",
      reason: "Vault is unavailable (503): standby step-down; lock",
    },
  );
  assert.deepEqual(decideLeader(answer(500, '{"errors":[]}')), {
    active: false,
    state: "server_error",
    reason: "Vault answered 500: no error text",
  });
  assert.deepEqual(decideHealth(answer(502, "bad gateway", "/v1/sys/health")), {
    active: false,
    state: "server_error",
    reason: "Vault answered 502: no error text",
  });
  assert.deepEqual(decideLeader(answer(204, "")), {
    active: false,
    state: "unexpected_status",
    reason: unexpected(URL_LEADER, 204),
  });
});

Deno.test("a failed probe keeps its kind and message", () => {
  const probe: Probe = {
    endpoint: "/v1/sys/leader",
    url: URL_LEADER,
    elapsedMs: 800,
    failure: { kind: "timeout", message: "No complete answer" },
  };
  const expected = {
    active: false,
    state: "timeout",
    reason: "No complete answer",
  };
  assert.deepEqual(decideLeader(probe), expected);
  assert.deepEqual(decideHealth({ ...probe, endpoint: "/v1/sys/health" }), {
    ...expected,
  });
});

Deno.test("combine is active only when both endpoints say active", () => {
  const active = (reason: string): Verdict => ({
    active: true,
    state: "active",
    reason,
  });
  const not = (state: State, reason: string): Verdict => ({
    active: false,
    state,
    reason,
  });

  assert.deepEqual(combine(active("l"), active("h")), {
    active: true,
    state: "active",
    reason: "This node is the active node (leader and health agree)",
  });
  assert.deepEqual(combine(active("l"), not("standby", "h")), {
    active: false,
    state: "disagree",
    reason: "The endpoints disagree: leader says active, health says standby",
  });
  assert.deepEqual(combine(not("sealed", "l"), active("h")), {
    active: false,
    state: "disagree",
    reason: "The endpoints disagree: leader says sealed, health says active",
  });
  assert.deepEqual(combine(not("sealed", "same"), not("sealed", "same")), {
    active: false,
    state: "sealed",
    reason: "same",
  });
  assert.deepEqual(combine(not("standby", "l"), not("ha_unhealthy", "h")), {
    active: false,
    state: "standby",
    reason: "l; health: h",
  });
});

Deno.test("combine names the endpoint that gave no answer, not a disagreement", () => {
  const active: Verdict = { active: true, state: "active", reason: "yes" };
  // A malformed answer is an answer: against an active one it disagrees.
  const failures: Record<Exclude<FailureKind, "malformed">, true> = {
    timeout: true,
    refused: true,
    tls_error: true,
    unreachable: true,
    incomplete: true,
    too_large: true,
    not_permitted: true,
  };
  for (const kind of Object.keys(failures) as FailureKind[]) {
    const failed: Verdict = { active: false, state: kind, reason: "why" };
    assert.deepEqual(combine(active, failed), {
      active: false,
      state: kind,
      reason: "The health endpoint gave no answer (leader says active): why",
    });
    assert.deepEqual(combine(failed, active), {
      active: false,
      state: kind,
      reason: "The leader endpoint gave no answer (health says active): why",
    });
  }
  const garbled: Verdict = { active: false, state: "malformed", reason: "?" };
  assert.deepEqual(combine(active, garbled), {
    active: false,
    state: "disagree",
    reason: "The endpoints disagree: leader says active, health says malformed",
  });
});

Deno.test("toldByVault is true only for the states Vault itself names", () => {
  // A Record over State: the type check fails when a state is added here
  // without a decision.
  const told: Record<State, boolean> = {
    active: true,
    standby: true,
    performance_standby: true,
    election: true,
    sealed: true,
    uninitialized: true,
    ha_disabled: true,
    dr_secondary: true,
    ha_unhealthy: true,
    removed: true,
    server_error: false,
    bad_request: false,
    unexpected_status: false,
    redirect: false,
    malformed: false,
    disagree: false,
    timeout: false,
    refused: false,
    tls_error: false,
    unreachable: false,
    too_large: false,
    incomplete: false,
    not_permitted: false,
    usage_error: false,
    setup_error: false,
  };
  for (const [state, expected] of Object.entries(told)) {
    assert.equal(toldByVault(state as State), expected, state);
  }
});
