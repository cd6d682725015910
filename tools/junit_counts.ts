/**
 * Counts the tests of a `deno test --junit-path` report: passed, failed and
 * ignored, top-level tests only (a failing step also fails its test). Used by
 * `.ci/run`, which must not trust a summary line it did not compute.
 *
 * Usage: deno run --allow-read=REPORT tools/junit_counts.ts REPORT
 * Prints "PASSED FAILED IGNORED" on one line; exits 1 when the report cannot
 * be read or holds no test suite.
 */

/** How many top-level tests passed, failed and were ignored. */
export interface Counts {
  passed: number;
  failed: number;
  ignored: number;
}

/**
 * Counts the testcases of a JUnit report as Deno writes it. A testcase with
 * a `<failure>` or `<error>` failed, one with `<skipped/>` was ignored, any
 * other passed. Steps (named `test > step` after a test of the report) are
 * left out. The parent test is looked for across every suite, because Deno
 * files a test under the module that called `Deno.test` (a shared helper,
 * say) and its steps under the test file that defined them.
 */
export function countJunit(xml: string): Counts {
  const counts: Counts = { passed: 0, failed: 0, ignored: 0 };
  const suites = [...xml.matchAll(/<testsuite\b[\s\S]*?<\/testsuite>/g)];
  const cases = suites.flatMap((suite) =>
    [...suite[0].matchAll(
      /<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g,
    )].map((found) => ({
      name: /\bname="([^"]*)"/.exec(found[1] ?? "")?.[1] ?? "",
      body: found[2] ?? "",
    }))
  );
  const names = new Set(cases.map((testcase) => testcase.name));
  for (const { name, body } of cases) {
    if (isStep(name, names)) continue;
    if (/<(failure|error)\b/.test(body)) counts.failed++;
    else if (/<skipped\b/.test(body)) counts.ignored++;
    else counts.passed++;
  }
  return counts;
}

function isStep(name: string, names: Set<string>): boolean {
  const separator = " &gt; ";
  for (
    let at = name.indexOf(separator);
    at > 0;
    at = name.indexOf(separator, at + 1)
  ) {
    if (names.has(name.slice(0, at))) return true;
  }
  return false;
}

if (import.meta.main) {
  const [path] = Deno.args;
  let xml = "";
  try {
    xml = path === undefined ? "" : await Deno.readTextFile(path);
  } catch {
    // Reported below: a missing report is a crashed run.
  }
  if (!/<testsuites\b/.test(xml)) {
    // deno-lint-ignore no-console
    console.error(
      `No JUnit test report at '${path ?? ""}': the test run did not finish`,
    );
    Deno.exit(1);
  }
  const { passed, failed, ignored } = countJunit(xml);
  // deno-lint-ignore no-console
  console.log(`${passed} ${failed} ${ignored}`);
}
