/**
 * The VIP follows the active Vault with the real keepalived: runs the whole
 * end-to-end suite (see `suite.ts`) when this machine can, and says why not
 * otherwise.
 */

import assert from "node:assert/strict";
import { runSuite, skipReason } from "./suite.ts";
import { recordSummary } from "./summary_file.ts";

const reason = await skipReason();
if (reason !== undefined) {
  // deno-lint-ignore no-console
  console.log(`skipped: keepalived failover end-to-end test: ${reason}`);
}

Deno.test({
  name: "keepalived moves the VIP to the active Vault and nowhere else",
  ignore: reason !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // deno-lint-ignore no-console
    const outcome = await runSuite((line) => console.log(line));

    assert.deepEqual(outcome.leftovers, [], "teardown left something behind");
    assert.equal(
      outcome.scriptUser.existsAfter,
      outcome.scriptUser.existedBefore,
      `the user '${outcome.scriptUser.name}' is not as the run found it`,
    );
    assert.deepEqual(
      outcome.failOpenLines,
      [],
      "keepalived disabled or ignored the check",
    );
    assert.deepEqual(
      outcome.scenarios.filter((each) => each.error !== undefined)
        .map((each) => `${each.cluster}: ${each.scenario}: ${each.error}`),
      [],
    );
    assert.deepEqual(
      outcome.violations.map((violation) => violation.message),
      [],
    );

    const proof = outcome.failOpenProof;
    assert.ok(
      proof.failOpenLines.some((line) => line.includes("is not executable")),
      `the fail-open setup was not seen in keepalived's log: ${
        JSON.stringify(proof.failOpenLines)
      }`,
    );
    assert.ok(
      proof.pathProblems.some((line) => line.includes("not executable")),
      "the non-executable launcher passed the path check",
    );
    assert.ok(
      proof.pathProblems.some((line) => line.includes("(mode 757)")),
      "the world-writable launcher passed the path check",
    );
    assert.ok(
      proof.violations.some((violation) => violation.kind === "misplaced"),
      "the sampler did not flag the VIP on a standby host",
    );

    // deno-lint-ignore no-console
    console.log(outcome.summary);
    await recordSummary(outcome.summary);
  },
});
