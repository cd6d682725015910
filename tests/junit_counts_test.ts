import assert from "node:assert/strict";
import { countJunit } from "../tools/junit_counts.ts";

const REPORT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="8" failures="3" errors="1" time="0.010">
    <testsuite name="./a_test.ts" tests="7" disabled="1" errors="0" failures="3">
        <testcase name="passes" classname="./a_test.ts" time="0.000" line="1" col="6">
        </testcase>
        <testcase name="fails" classname="./a_test.ts" time="0.001" line="2" col="6">
            <failure message="Uncaught Error: x">Error: x &lt;/testcase&gt;</failure>
        </testcase>
        <testcase name="ignored" classname="./a_test.ts" time="0.000" line="3" col="6">
            <skipped/>
        </testcase>
        <testcase name="steps" classname="./a_test.ts" time="0.001" line="4" col="6">
            <failure message="1 test step failed">1 test step failed.</failure>
        </testcase>
        <testcase name="a &gt; b" classname="./a_test.ts" time="0.000" line="5" col="6">
        </testcase>
        <testcase name="steps &gt; s1" classname="./a_test.ts" time="0.000" line="4" col="43">
        </testcase>
        <testcase name="steps &gt; s2" classname="./a_test.ts" time="0.000" line="4" col="73">
            <failure message="Uncaught Error: y">Error: y</failure>
        </testcase>
    </testsuite>
    <testsuite name="./b_test.ts" tests="2" disabled="0" errors="1" failures="0">
        <testcase name="steps" classname="./b_test.ts" time="0.001" line="1" col="6">
        </testcase>
        <testcase name="unhandled" classname="./b_test.ts" time="0.000" line="3" col="6">
            <error message="Cancelled"/>
        </testcase>
    </testsuite>
</testsuites>
`;

Deno.test("countJunit counts top-level tests by outcome, leaving steps out", () => {
  assert.deepEqual(countJunit(REPORT), { passed: 3, failed: 3, ignored: 1 });
});

Deno.test("countJunit leaves out steps filed under another suite than their test", () => {
  const report = `<testsuites name="deno test" tests="3">
    <testsuite name="./support/helper.ts" tests="1">
        <testcase name="shared set-up" classname="./support/helper.ts" line="9" col="8">
            <failure message="1 test step failed">1 test step failed.</failure>
        </testcase>
    </testsuite>
    <testsuite name="./c_test.ts" tests="2">
        <testcase name="shared set-up &gt; one" classname="./c_test.ts" line="3" col="15">
        </testcase>
        <testcase name="shared set-up &gt; two" classname="./c_test.ts" line="3" col="15">
            <failure message="Uncaught Error: z">Error: z</failure>
        </testcase>
    </testsuite>
</testsuites>`;
  assert.deepEqual(countJunit(report), { passed: 0, failed: 1, ignored: 0 });
});

Deno.test("countJunit counts nothing in a report without suites", () => {
  assert.deepEqual(
    countJunit('<testsuites name="deno test" tests="0"></testsuites>'),
    { passed: 0, failed: 0, ignored: 0 },
  );
});
