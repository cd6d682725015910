import assert from "node:assert/strict";
import {
  type Behaviour,
  HEALTH_PATH,
  LEADER_PATH,
  startSimulator,
} from "./support/simulator.ts";
import {
  hasStackTrace,
  jsonLine,
  run,
  type RunResult,
  stderrLines,
} from "./support/run.ts";
import { PROGRAM } from "../lib/version.ts";

/** A short deadline keeps the suite fast; the bound is deadline + slack. */
const DEADLINE_S = 0.4;
const DEADLINE_MS = DEADLINE_S * 1000;
/** What starting and stopping Deno may add on a busy two-core machine. */
const WALL_SLACK_MS = 1500;
/** How far past its deadline the program itself may report ending. */
const REPORTED_SLACK_MS = 250;

const TIMEOUT = (url: string) =>
  `No complete answer from '${url}' within ${DEADLINE_S} s: Vault is hung, overloaded or stepping down; raise --timeout only if keepalived's timeout allows`;
const TOO_LARGE = (url: string) =>
  `The answer from '${url}' is larger than 65536 bytes: this is not Vault's answer; check what listens at the target`;
const INCOMPLETE = (url: string) =>
  `The connection to '${url}' closed before a complete answer: Vault may be restarting, or something other than Vault listens at the target`;

/** [behaviour, state, reason for the leader URL] */
const CASES: [Behaviour, string, (url: string) => string][] = [
  ["hang", "timeout", TIMEOUT],
  ["stall_body", "timeout", TIMEOUT],
  ["close_mid_headers", "incomplete", INCOMPLETE],
  ["close_mid_body", "incomplete", INCOMPLETE],
  ["endless_body", "too_large", TOO_LARGE],
  ["huge_body", "too_large", TOO_LARGE],
  [
    "not_json",
    "malformed",
    () =>
      "The answer is not JSON (text/html, 112 bytes): check what listens at the target",
  ],
  [
    "wrong_types",
    "malformed",
    () =>
      "The leader answer's 'ha_enabled' is the string 'true', not a boolean: this is not an answer Vault gives",
  ],
  [
    "array_body",
    "malformed",
    () =>
      "The answer is JSON but not an object (an array): this is not an answer Vault gives",
  ],
  [
    "empty_body",
    "malformed",
    () =>
      "The answer is not JSON (application/json, 0 bytes): check what listens at the target",
  ],
  ["slow", "timeout", TIMEOUT],
];

/** Asserts what every hostile run must do, whatever the server did. */
function assertContained(result: RunResult, reportedMs: number): void {
  assert.equal(result.code, 1);
  assert.ok(!hasStackTrace(result), result.stderr);
  assert.ok(reportedMs <= DEADLINE_MS + REPORTED_SLACK_MS, `${reportedMs}`);
  assert.ok(
    result.elapsedMs < DEADLINE_MS + WALL_SLACK_MS,
    `ended after ${result.elapsedMs} ms`,
  );
}

Deno.test("a hostile server never makes the check active, hang or crash", async (t) => {
  await using vault = await startSimulator();
  const url = vault.url + LEADER_PATH;
  const deadline = ["-t", String(DEADLINE_S)];

  for (const [behaviour, state, reason] of CASES) {
    await t.step(`${behaviour}: ${state}`, async () => {
      vault.set({ behaviour, delayMs: DEADLINE_MS + 600 });

      const json = await run(["--url", vault.url, "--json", ...deadline]);
      const report = jsonLine(json);
      assertContained(json, report.elapsed_ms as number);
      assert.equal(json.stderr, "");
      assert.equal(report.active, false);
      assert.equal(report.state, state);
      assert.equal(report.reason, reason(url));

      const debug = await run(["--url", vault.url, "-d", ...deadline]);
      assert.equal(debug.stdout, "");
      const lines = stderrLines(debug);
      const verdict = lines.at(-1) as string;
      const match = verdict.match(/; exit 1 after (\d+(?:\.\d+)?) ms$/);
      assert.ok(match, verdict);
      assertContained(debug, Number(match[1]));
      assert.equal(
        verdict,
        `${PROGRAM}: verdict: not active (${state}): ${
          reason(url)
        }; exit 1 after ${match[1]} ms`,
      );
      assert.equal(lines.length, 4, debug.stderr);
      for (const line of lines) assert.ok(line.startsWith(`${PROGRAM}: `));
    });
  }

  await t.step(
    "--debug names an empty body rather than ending in ': '",
    async () => {
      vault.set({ behaviour: "empty_body" });
      const lines = stderrLines(
        await run(["--url", vault.url, "-d", ...deadline]),
      );
      assert.match(
        lines[2] as string,
        new RegExp(
          `^${PROGRAM}: answer 200 \\(application/json\\) in \\d+(\\.\\d)? ms: \\(empty body\\)$`,
        ),
      );
    },
  );

  await t.step("slow, but inside the deadline, is still believed", async () => {
    vault.set({ behaviour: "slow", delayMs: 200 });
    const result = await run(["--url", vault.url, "--json", "-t", "1.2"]);
    const report = jsonLine(result);
    assert.equal(result.code, 0);
    assert.equal(report.state, "active");
    assert.ok((report.elapsed_ms as number) >= 200);
    assert.ok((report.elapsed_ms as number) < 1200);
  });

  await t.step("one deadline covers both endpoints", async () => {
    vault.set({ behaviour: "hang" });
    vault.clearRequests();
    const result = await run([
      "--url",
      vault.url,
      "--json",
      "--check",
      "both",
      ...deadline,
    ]);
    const report = jsonLine(result);
    assertContained(result, report.elapsed_ms as number);
    assert.equal(report.state, "timeout");
    // Both timed out: combine names the state once, with the leader's words.
    assert.equal(report.reason, TIMEOUT(url));
    assert.deepEqual(
      vault.requests.map((request) => request.path).sort(),
      [HEALTH_PATH, LEADER_PATH],
    );
  });
});

Deno.test("a redirect is reported and never followed", async (t) => {
  await using vault = await startSimulator();
  await using elsewhere = await startSimulator({ state: "active" });

  for (const check of ["leader", "health", "both"]) {
    await t.step(`--check ${check}`, async () => {
      vault.set({
        behaviour: "redirect",
        location: elsewhere.url + LEADER_PATH,
      });
      vault.clearRequests();
      const result = await run([
        "--url",
        vault.url,
        "--json",
        "--check",
        check,
      ]);
      assert.equal(result.code, 1);
      assert.ok(!hasStackTrace(result));
      const report = jsonLine(result);
      assert.equal(report.state, "redirect");
      const path = check === "health" ? HEALTH_PATH : LEADER_PATH;
      assert.equal(
        report.reason,
        `'${vault.url}${path}' answered 307 redirecting to '${elsewhere.url}${LEADER_PATH}', which is never followed: point the target at this node's own listener`,
      );
      assert.equal(vault.requests.length, check === "both" ? 2 : 1);
      assert.equal(elsewhere.requests.length, 0);
    });
  }
});
