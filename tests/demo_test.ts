import assert from "node:assert/strict";
import { SCENES } from "../tools/demo.ts";
import { run } from "./support/run.ts";

Deno.test("deno task demo runs the check against every scene, exits 0 and ends by itself", async () => {
  const result = await run(["task", "demo"], { executable: Deno.execPath() });

  assert.equal(result.code, 0, result.stdout + result.stderr);
  const rows = result.stdout.split("\n").filter((line) =>
    /^\S.* \d+ ms$/.test(line)
  );
  assert.equal(rows.length, SCENES.length);
  rows.forEach((row, index) => {
    const scene = SCENES[index];
    assert.ok(scene);
    const label = scene.check
      ? `${scene.label} (--check ${scene.check})`
      : scene.label;
    assert.ok(row.startsWith(label + " "), row);
    assert.match(
      row,
      new RegExp(
        ` ${scene.expected} +${scene.expected === "active" ? 0 : 1} +\\d+ ms$`,
      ),
    );
  });
  assert.match(
    result.stdout,
    /only while its check exits 0: 3 of 16 runs did\.\n/,
  );
  assert.ok(
    result.stdout.trimEnd().endsWith("Every verdict is the one expected."),
  );
  assert.ok(result.elapsedMs < 15_000, `took ${result.elapsedMs} ms`);
});
