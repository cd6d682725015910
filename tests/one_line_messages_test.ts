import assert from "node:assert/strict";
import { run } from "./support/run.ts";
import { PROGRAM } from "../lib/version.ts";

Deno.test("control characters in what the operator gave are shown as escapes, on one line", async (t) => {
  await t.step("VAULT_ADDR with a newline and a colour code", async () => {
    const result = await run([], {
      env: { VAULT_ADDR: "not a url\n\x1b[31mred" },
    });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `${PROGRAM}: VAULT_ADDR 'not a url\\n\\x1b[31mred' is not a URL: give this node's Vault address, e.g. 'https://127.0.0.1:8200'\n`,
    );
  });

  await t.step("an unknown option with a tab and a colour code", async () => {
    const result = await run(["--bogus\t\x1b[0m"]);
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      `${PROGRAM}: Unknown option '--bogus\\t\\x1b[0m': see --help for the options\n`,
    );
  });
});
