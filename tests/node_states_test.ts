import assert from "node:assert/strict";
import {
  HEALTH_PATH,
  LEADER_PATH,
  NODE_STATES,
  type NodeStateName,
  type Product,
  startSimulator,
} from "./support/simulator.ts";
import { fixtureEntry, probeOf } from "./support/fixture.ts";
import { hasStackTrace, jsonLine, run } from "./support/run.ts";
import { decideHealth, decideLeader, type State } from "../lib/verdict.ts";

/** Deadline (800 ms default) plus what starting and ending Deno may take. */
const WALL_BOUND_MS = 800 + 2000;

/**
 * What each simulated node state must yield: [leader, health, both]. Only
 * "active" exits 0. A node without HA answers health 200 (it serves alone),
 * so `both` calls that a disagreement; a DR secondary's active node holds
 * its own cluster's lock, so only health can tell it apart.
 */
const EXPECTED: Record<Product, Record<string, [State, State, State]>> = {
  vault: {
    active: ["active", "active", "active"],
    standby: ["standby", "standby", "standby"],
    election: ["election", "standby", "election"],
    performance_standby: [
      "performance_standby",
      "performance_standby",
      "performance_standby",
    ],
    sealed: ["sealed", "sealed", "sealed"],
    uninitialized: ["sealed", "uninitialized", "sealed"],
    ha_disabled: ["ha_disabled", "active", "disagree"],
    ha_disabled_sealed: ["ha_disabled", "sealed", "ha_disabled"],
    server_error: ["server_error", "standby", "server_error"],
    dr_secondary: ["active", "dr_secondary", "disagree"],
    standby_ha_unhealthy: ["standby", "ha_unhealthy", "standby"],
    removed: ["election", "removed", "election"],
    active_redacted: ["active", "active", "active"],
    standby_pre_1_19: ["standby", "standby", "standby"],
    active_1_16: ["active", "active", "active"],
  },
  openbao: {
    active: ["active", "active", "active"],
    standby: ["standby", "standby", "standby"],
    election: ["election", "standby", "election"],
    ha_disabled: ["ha_disabled", "active", "disagree"],
    ha_disabled_sealed: ["ha_disabled", "sealed", "ha_disabled"],
    sealed: ["sealed", "sealed", "sealed"],
    uninitialized: ["sealed", "uninitialized", "sealed"],
    standby_v2_0_to_2_5: ["standby", "standby", "standby"],
    active_v2_5: ["active", "active", "active"],
    active_v2_0_to_2_4: ["active", "active", "active"],
    ha_disabled_v2_0_to_2_5: ["ha_disabled", "active", "disagree"],
  },
};

const MODES = ["leader", "health", "both"] as const;

Deno.test("the expectation table names every simulated node state", () => {
  for (const product of ["vault", "openbao"] as const) {
    assert.deepEqual(
      Object.keys(EXPECTED[product]).sort(),
      Object.keys(NODE_STATES[product]).sort(),
    );
  }
});

for (const product of ["vault", "openbao"] as const) {
  Deno.test(`main.ts decides every ${product} node state in every mode`, async (t) => {
    await using vault = await startSimulator({ product });
    const states = NODE_STATES[product] as Record<
      string,
      { leader: string; health: string }
    >;

    for (const [name, expected] of Object.entries(EXPECTED[product])) {
      const node = states[name];
      if (node === undefined) continue; // reported by the table test
      vault.set({ product, state: name as NodeStateName });
      const leaderProbe = probeOf(
        fixtureEntry(product, LEADER_PATH, "GET", node.leader),
        vault.url,
      );
      const healthProbe = probeOf(
        fixtureEntry(product, HEALTH_PATH, "GET", node.health),
        vault.url,
      );
      const reasons = {
        leader: decideLeader(leaderProbe).reason,
        health: decideHealth(healthProbe).reason,
      };

      for (const [index, mode] of MODES.entries()) {
        const state = expected[index] as State;
        await t.step(`${name} --check ${mode} says ${state}`, async () => {
          vault.clearRequests();
          const result = await run([
            "--url",
            vault.url,
            "--check",
            mode,
            "--json",
          ]);

          const active = state === "active";
          assert.equal(result.code, active ? 0 : 1);
          assert.equal(result.stderr, "");
          assert.ok(!hasStackTrace(result));
          assert.ok(result.elapsedMs < WALL_BOUND_MS, `${result.elapsedMs}`);

          const report = jsonLine(result);
          assert.equal(report.active, active);
          assert.equal(report.state, state);
          assert.equal(report.exit, result.code);
          assert.equal(report.check, mode);
          assert.equal(report.target, vault.url);
          assert.equal(report.target_source, "--url");
          assert.equal(report.timeout_ms, 800);
          assert.ok((report.elapsed_ms as number) < 800);

          const [leaderState, healthState] = expected;
          if (mode !== "both") {
            assert.equal(report.reason, reasons[mode]);
          } else if (state === "active") {
            assert.equal(
              report.reason,
              "This node is the active node (leader and health agree)",
            );
          } else if (state === "disagree") {
            assert.equal(
              report.reason,
              `The endpoints disagree: leader says ${leaderState}, health says ${healthState}`,
            );
          } else if (leaderState === healthState) {
            assert.equal(report.reason, reasons.leader);
          } else {
            assert.equal(
              report.reason,
              `${reasons.leader}; health: ${reasons.health}`,
            );
          }

          const paths = mode === "leader"
            ? [LEADER_PATH]
            : mode === "health"
            ? [HEALTH_PATH]
            : [HEALTH_PATH, LEADER_PATH];
          const asked = vault.requests
            .map((request) =>
              `${request.method} ${request.path}?${request.query}`
            )
            .sort();
          assert.deepEqual(asked, paths.map((path) => `GET ${path}?`));

          const answers = report.answers as Record<string, unknown>[];
          assert.deepEqual(
            answers.map((answer) => [answer.url, answer.status, answer.error]),
            paths.toSorted().reverse().map((path) => [
              vault.url + path,
              fixtureEntry(
                product,
                path,
                "GET",
                path === LEADER_PATH ? node.leader : node.health,
              ).status,
              null,
            ]),
          );
        });
      }
    }
  });
}

Deno.test("main.ts is silent without --debug or --json", async (t) => {
  await using vault = await startSimulator();
  for (const [state, code] of [["active", 0], ["sealed", 1]] as const) {
    await t.step(`${state} exits ${code} and prints nothing`, async () => {
      vault.set({ state });
      const result = await run(["--url", vault.url]);
      assert.deepEqual(
        { code: result.code, stdout: result.stdout, stderr: result.stderr },
        { code, stdout: "", stderr: "" },
      );
    });
  }
});
