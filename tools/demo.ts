/**
 * The demo: starts simulated Vault and OpenBao nodes on loopback, one per
 * state, runs the real check (`main.ts`, in its own process, with the
 * default permissions and the target in `VAULT_ADDR`) against each, and
 * prints what each node answered, the verdict, the exit status and the time
 * taken. Exits 1 when a verdict is not the one expected.
 *
 * Usage: deno run --no-prompt --allow-net=127.0.0.1 --allow-run=deno tools/demo.ts
 */

import {
  type Behaviour,
  type NodeStateName,
  type Product,
  startSimulator,
} from "../tests/support/simulator.ts";

/** One simulated node and what the check must conclude about it. */
export interface Scene {
  label: string;
  product: Product;
  state: NodeStateName;
  behaviour?: Behaviour;
  /** Stop the node before the check runs: nothing listens any more. */
  down?: boolean;
  check?: "leader" | "health";
  expected: string;
}

/** Every node the demo shows, in order. */
// deno-fmt-ignore: one scene a line reads as a table
export const SCENES: readonly Scene[] = [
  { label: "Vault active", product: "vault", state: "active", expected: "active" },
  { label: "Vault standby", product: "vault", state: "standby", expected: "standby" },
  { label: "Vault, election running", product: "vault", state: "election", expected: "election" },
  { label: "Vault performance standby", product: "vault", state: "performance_standby", expected: "performance_standby" },
  { label: "Vault sealed", product: "vault", state: "sealed", expected: "sealed" },
  { label: "Vault uninitialised", product: "vault", state: "uninitialized", expected: "sealed" },
  { label: "Vault, HA disabled", product: "vault", state: "ha_disabled", expected: "ha_disabled" },
  { label: "Vault, HA backend error", product: "vault", state: "server_error", expected: "server_error" },
  { label: "OpenBao active", product: "openbao", state: "active", expected: "active" },
  { label: "OpenBao standby", product: "openbao", state: "standby", expected: "standby" },
  { label: "Vault that hangs", product: "vault", state: "active", behaviour: "hang", expected: "timeout" },
  { label: "Not Vault: a web page", product: "vault", state: "active", behaviour: "not_json", expected: "malformed" },
  { label: "Vault down", product: "vault", state: "active", down: true, expected: "refused" },
  { label: "Vault active", product: "vault", state: "active", check: "health", expected: "active" },
  { label: "Vault standby", product: "vault", state: "standby", check: "health", expected: "standby" },
  { label: "Vault uninitialised", product: "vault", state: "uninitialized", check: "health", expected: "uninitialized" },
];

/**
 * The check as keepalived runs it by default; each run adds `--json` or
 * `--debug`.
 */
const MAIN = new URL("../main.ts", import.meta.url).href;
const CHECK = [
  "run",
  "--no-prompt",
  "--allow-env=VAULT_ADDR",
  "--allow-net",
  MAIN,
];

/** A check that outlives this is killed; its own guard ends it long before. */
const KILL_AFTER_MS = 5_000;

/** What one run of the check showed. */
interface Row {
  scene: Scene;
  answered: string;
  state: string;
  exit: number;
  ms: number;
}

const COLUMNS = [
  { title: "node", width: 36 },
  { title: "Vault answered", width: 72 },
  { title: "verdict", width: 19 },
  { title: "exit", width: 4 },
  { title: "time", width: 7 },
];

async function demo(): Promise<number> {
  show("Each row: a simulated node on 127.0.0.1, then the real check in its");
  show("own process, with the default permissions, as keepalived runs it:");
  show(`  VAULT_ADDR=http://127.0.0.1:PORT deno ${CHECK.join(" ")} --json`);
  show("(--json only adds the line on stdout that this table is read from)");
  show("");
  show(line(COLUMNS.map((column) => column.title)));

  const rows: Row[] = [];
  for (const scene of SCENES) {
    const row = await play(scene);
    rows.push(row);
    show(line([
      scene.check ? `${scene.label} (--check ${scene.check})` : scene.label,
      row.answered,
      row.state === scene.expected ? row.state : `${row.state} (!)`,
      String(row.exit),
      `${row.ms} ms`,
    ]));
  }

  show("");
  show("time: the whole process, Deno's start-up included.");
  const active = rows.filter((row) => row.exit === 0).length;
  show(
    `keepalived lets a node hold the VIP only while its check exits 0: ${active} of ${rows.length} runs did.`,
  );
  await showDebug();

  const wrong = rows.filter((row) =>
    row.state !== row.scene.expected ||
    (row.exit === 0) !== (row.scene.expected === "active")
  );
  if (wrong.length > 0) {
    show(
      `Unexpected verdicts (!): ${
        wrong.map((row) => row.scene.label).join(", ")
      }`,
    );
    return 1;
  }
  show("Every verdict is the one expected.");
  return 0;
}

/** Shows what an operator reads when running the check with `--debug`. */
async function showDebug(): Promise<void> {
  await using node = await startSimulator({ state: "standby" });
  const result = await runCheck(node.url, ["--debug"]);
  show("");
  show("With --debug instead of --json (on stderr), a Vault standby:");
  const stderr = new TextDecoder().decode(result.stderr).trimEnd();
  for (const text of stderr.split("\n")) show(`  ${text}`);
  show(`  exit status ${result.code}`);
  show("");
}

/** Starts the scene's node, runs the check against it and stops the node. */
async function play(scene: Scene): Promise<Row> {
  await using node = await startSimulator({
    product: scene.product,
    state: scene.state,
    behaviour: scene.behaviour ?? "normal",
  });
  if (scene.down) await node.close();

  const flags = scene.check ? ["--json", "--check", scene.check] : ["--json"];
  const started = performance.now();
  const result = await runCheck(node.url, flags);
  const ms = Math.round(performance.now() - started);

  const report = readReport(new TextDecoder().decode(result.stdout));
  if (report === undefined) {
    const stderr = new TextDecoder().decode(result.stderr).trim();
    return {
      scene,
      answered: `no report: ${stderr.split("\n")[0] ?? ""}`,
      state: result.signal ? `killed (${result.signal})` : "no report",
      exit: result.code,
      ms,
    };
  }
  return {
    scene,
    answered: summarise(report.answers[0]),
    state: report.state,
    exit: result.code,
    ms,
  };
}

/** Runs the check against `url`, given in VAULT_ADDR, with extra flags. */
function runCheck(url: string, flags: string[]): Promise<Deno.CommandOutput> {
  return new Deno.Command("deno", {
    args: [...CHECK, ...flags],
    env: { VAULT_ADDR: url },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(KILL_AFTER_MS),
  }).output();
}

/** The parts of the check's `--json` line the table shows. */
interface Report {
  state: string;
  answers: {
    status: number | null;
    body: string | null;
    error: { kind: string } | null;
  }[];
}

function readReport(stdout: string): Report | undefined {
  try {
    const report = JSON.parse(stdout.trim()) as Report;
    return typeof report.state === "string" && Array.isArray(report.answers)
      ? report
      : undefined;
  } catch {
    return undefined;
  }
}

/** The keys that decide the verdict, in the order they are shown. */
const KEYS = [
  "errors",
  "ha_enabled",
  "is_self",
  "performance_standby",
  "leader_address",
  "initialized",
  "sealed",
  "standby",
];

/** The status and the fields of the answer that decide the verdict. */
function summarise(answer: Report["answers"][number] | undefined): string {
  if (answer === undefined) return "nothing asked";
  if (answer.status === null) {
    return `no answer (${answer.error?.kind ?? "unknown"})`;
  }

  let body: unknown;
  try {
    body = JSON.parse(answer.body ?? "");
  } catch {
    const text = (answer.body ?? "").slice(0, 24);
    return `${answer.status}, not JSON: ${JSON.stringify(text)}…`;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return `${answer.status} ${JSON.stringify(body)}`;
  }

  const fields = body as Record<string, unknown>;
  const shown = KEYS.filter((key) => key in fields)
    .filter((key) => key !== "performance_standby" || fields[key] === true)
    .filter((key) => key !== "leader_address" || fields.is_self !== true)
    .map((key) => `${key}=${shownValue(fields[key])}`);
  return [String(answer.status), ...shown].join(" ");
}

function shownValue(value: unknown): string {
  return typeof value === "string" && value !== ""
    ? value
    : JSON.stringify(value);
}

function line(cells: string[]): string {
  return cells.map((cell, index) => {
    const width = COLUMNS[index]?.width ?? 0;
    const fitted = cell.length > width ? cell.slice(0, width - 1) + "…" : cell;
    return fitted.padEnd(width);
  }).join(" ").trimEnd();
}

function show(text: string): void {
  // deno-lint-ignore no-console
  console.log(text);
}

if (import.meta.main) Deno.exit(await demo());
