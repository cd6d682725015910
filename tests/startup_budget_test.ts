import assert from "node:assert/strict";
import { LEADER_PATH, startSimulator } from "./support/simulator.ts";
import { jsonLine, run, stderrLines } from "./support/run.ts";
import { PROGRAM } from "../lib/version.ts";

/**
 * A cache Deno can neither read nor create, even as root: every run pays
 * for the retries a script user without a home pays (about 150 ms here).
 */
const NO_CACHE = { DENO_DIR: "/dev/null/deno" };

/** What exiting and the wait before Deno's clock starts may add. */
const SLACK_MS = 150;

Deno.test("--timeout bounds the whole run, start-up included", async (t) => {
  await using vault = await startSimulator();
  vault.set({ behaviour: "hang" });

  await t.step("a hung Vault ends the run within the timeout", async () => {
    const result = await run(
      ["--url", vault.url, "--json", "--timeout", "0.3"],
      { env: NO_CACHE },
    );
    assert.equal(result.code, 1, result.stderr);
    const report = jsonLine(result);
    assert.equal(report.state, "timeout");
    assert.equal(
      report.reason,
      `No complete answer from '${vault.url}${LEADER_PATH}' within 0.3 s: Vault is hung, overloaded or stepping down; raise --timeout only if keepalived's timeout allows`,
    );
    assert.ok(
      result.elapsedMs < 300 + SLACK_MS,
      `ended ${result.elapsedMs} ms after it was started`,
    );
  });

  await t.step("--debug states what start-up left of it", async () => {
    const result = await run(
      ["--url", vault.url, "--debug", "--timeout", "0.3"],
      { env: NO_CACHE },
    );
    const first = stderrLines(result)[0] as string;
    const match = first.match(
      /, deadline 0\.3 s for the whole run, (\d+) ms left after start-up$/,
    );
    assert.ok(match, first);
    assert.ok(first.startsWith(`${PROGRAM}: target ${vault.url} (from --url)`));
    assert.ok(Number(match[1]) < 300, first);
  });

  await t.step("a start-up that used it all is a timeout at once", async () => {
    vault.clearRequests();
    const result = await run(
      ["--url", vault.url, "--json", "--timeout", "0.01"],
      { env: NO_CACHE },
    );
    assert.equal(result.code, 1, result.stderr);
    const report = jsonLine(result);
    assert.equal(report.state, "timeout");
    assert.match(
      report.reason as string,
      /^Start-up took \d+ ms, all of the 0\.01 s --timeout: Vault was not asked; fill Deno's cache for the script user \(see the README's install\) or raise --timeout if keepalived's timeout allows$/,
    );
    assert.deepEqual(report.answers, []);
    assert.deepEqual(vault.requests, []);
  });
});
