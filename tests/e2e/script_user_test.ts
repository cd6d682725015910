/**
 * The script user is created only when missing and removed only by the run
 * that created it. Exercised as root on a throwaway user name, so that the
 * machine's own `keepalived_script` is never touched.
 */

import assert from "node:assert/strict";
import { available } from "./command.ts";
import {
  ensureUser,
  groupExists,
  removeUser,
  userExists,
} from "./script_user.ts";

const reason = Deno.build.os !== "linux"
  ? "user management is tested on Linux only"
  : Deno.uid() !== 0
  ? "creating a user needs root"
  : !await available("useradd", ["--help"])
  ? "useradd is not installed (apt-get install passwd)"
  : undefined;
if (reason !== undefined) {
  // deno-lint-ignore no-console
  console.log(`skipped: script user tests: ${reason}`);
}

const NAME = `vha-e2e-${Deno.pid}`;

Deno.test({
  name: "a missing script user is created, then removed with its group",
  ignore: reason !== undefined,
  fn: async () => {
    assert.equal(await userExists(NAME), false);
    try {
      assert.equal(await ensureUser(NAME), true);
      assert.equal(await userExists(NAME), true);
      assert.equal(await groupExists(NAME), true);
      assert.equal(await ensureUser(NAME), false, "created twice");
    } finally {
      assert.deepEqual(await removeUser(NAME), []);
    }
    assert.equal(await userExists(NAME), false);
    assert.equal(await groupExists(NAME), false);
  },
});

Deno.test({
  name: "removing a user that is not there reports it",
  ignore: reason !== undefined,
  fn: async () => {
    const problems = await removeUser(NAME);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? "",
      new RegExp(`^Removing the user '${NAME}' failed with exit 6: `),
    );
  },
});
