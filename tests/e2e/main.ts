/**
 * `deno task e2e`: runs the keepalived failover suite, prints one line per
 * scenario and ends with exactly one summary line; exits 1 if anything
 * failed, 0 when it passed or could not run here (with the reason). A
 * passing run also writes the summary line to `.tmp/failover.txt` for
 * `deno task bench`.
 */

import { runSuite, skipReason, type SuiteOutcome } from "./suite.ts";
import { recordSummary, SUMMARY_FILE } from "./summary_file.ts";

// deno-lint-ignore no-console
const say = (line: string) => console.log(line);

const reason = await skipReason();
if (reason !== undefined) {
  say(`skipped: keepalived failover end-to-end test: ${reason}`);
  Deno.exit(0);
}

const outcome = await runSuite(say);
const failures = failuresOf(outcome);
for (const failure of failures) say(`FAILED: ${failure}`);
if (failures.length === 0) {
  await recordSummary(outcome.summary);
  say(`  summary line kept in ${SUMMARY_FILE.pathname} for deno task bench`);
}
say(outcome.summary);
Deno.exit(failures.length === 0 ? 0 : 1);

function failuresOf(outcome: SuiteOutcome): string[] {
  const proof = outcome.failOpenProof;
  const user = outcome.scriptUser;
  return [
    ...outcome.leftovers.map((line) => `left behind: ${line}`),
    ...(user.existsAfter === user.existedBefore ? [] : [
      `the user '${user.name}' ${
        user.existedBefore ? "was there before but is gone" : "was left behind"
      }`,
    ]),
    ...outcome.failOpenLines.map((line) => `check dropped: ${line}`),
    ...outcome.scenarios.filter((each) => each.error !== undefined)
      .map((each) => `${each.cluster}: ${each.scenario}: ${each.error}`),
    ...outcome.violations.map((violation) => violation.message),
    ...(proof.failOpenLines.some((line) => line.includes("is not executable"))
      ? []
      : ["the fail-open setup was not seen in keepalived's log"]),
    ...(proof.pathProblems.some((line) => line.includes("not executable"))
      ? []
      : ["the non-executable launcher passed the path check"]),
    ...(proof.pathProblems.some((line) => line.includes("(mode 757)"))
      ? []
      : ["the world-writable launcher passed the path check"]),
    ...(proof.violations.some((violation) => violation.kind === "misplaced")
      ? []
      : ["the sampler did not flag the VIP on a standby host"]),
  ];
}
