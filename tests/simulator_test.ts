import assert from "node:assert/strict";
import {
  type Behaviour,
  BEHAVIOURS,
  FIXTURE,
  type FixtureEntry,
  HEALTH_PATH,
  HUGE_BODY_BYTES,
  LEADER_PATH,
  NODE_STATES,
  type NodeStateName,
  type Product,
  type Simulator,
  startSimulator,
} from "./support/simulator.ts";
import { haveOpenssl, makeCertificates } from "./support/certificates.ts";

const PRODUCTS: Product[] = ["vault", "openbao"];

function entryOf(
  product: Product,
  endpoint: string,
  state: string,
): FixtureEntry {
  const entry = FIXTURE.find((candidate) =>
    candidate.product === product && candidate.endpoint === endpoint &&
    candidate.method === "GET" && candidate.state === state
  );
  assert.ok(entry, `fixture has ${product} ${state} for ${endpoint}`);
  return entry;
}

async function get(
  url: string,
  init: RequestInit & { client?: Deno.HttpClient } = {},
): Promise<{ status: number; contentType: string | null; body: string }> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(5_000),
    ...init,
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: await response.text(),
  };
}

async function assertAnswers(
  vault: Simulator,
  path: string,
  entry: FixtureEntry,
): Promise<void> {
  const answer = await get(`${vault.url}${path}`);
  assert.deepEqual(answer, {
    status: entry.status,
    contentType: entry.content_type,
    body: JSON.stringify(entry.body),
  });
}

/** What a raw client saw: the bytes, and whether the server closed. */
interface RawExchange {
  text: string;
  closed: boolean;
}

/**
 * Sends `request` over a raw TCP connection and reads until the server
 * closes or `deadlineMs` passes, whichever comes first.
 */
async function exchange(
  vault: Simulator,
  request: string,
  deadlineMs: number,
): Promise<RawExchange> {
  const port = Number(new URL(vault.url).port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(request));

  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"deadline">((resolve) => {
    timer = setTimeout(() => resolve("deadline"), deadlineMs);
  });
  const received: Uint8Array[] = [];
  let closed = false;
  try {
    for (;;) {
      const buffer = new Uint8Array(64 * 1024);
      const count = await Promise.race([conn.read(buffer), deadline]);
      if (count === "deadline") break;
      if (count === null) {
        closed = true;
        break;
      }
      received.push(buffer.slice(0, count));
    }
  } finally {
    clearTimeout(timer);
    conn.close();
  }
  const text = received.map((bytes) => new TextDecoder().decode(bytes))
    .join("");
  return { text, closed };
}

const LEADER_REQUEST = `GET ${LEADER_PATH} HTTP/1.1\r\nHost: vault\r\n\r\n`;

Deno.test("answers both endpoints of every node state exactly as the fixture", async (t) => {
  await using vault = await startSimulator();
  for (const product of PRODUCTS) {
    const states: Record<string, { leader: string; health: string }> =
      NODE_STATES[product];
    for (const [state, node] of Object.entries(states)) {
      await t.step(`${product} ${state}`, async () => {
        vault.set({ product, state: state as NodeStateName });
        const leader = entryOf(product, LEADER_PATH, node.leader);
        const health = entryOf(product, HEALTH_PATH, node.health);
        await assertAnswers(vault, LEADER_PATH, leader);
        await assertAnswers(vault, HEALTH_PATH, health);
      });
    }
  }
});

Deno.test("reaches every GET answer without a query through some node state", () => {
  const reachable = new Set<string>();
  for (const product of PRODUCTS) {
    const states: Record<string, { leader: string; health: string }> =
      NODE_STATES[product];
    for (const node of Object.values(states)) {
      reachable.add(`${product} ${LEADER_PATH} ${node.leader}`);
      reachable.add(`${product} ${HEALTH_PATH} ${node.health}`);
    }
  }
  const namespaceAnswers = ["namespace_header_enterprise", "namespace_header"];
  const missing = FIXTURE.filter((entry) =>
    entry.method === "GET" && entry.query === "" &&
    !namespaceAnswers.includes(entry.state) &&
    !reachable.has(`${entry.product} ${entry.endpoint} ${entry.state}`)
  );
  assert.deepEqual(missing, []);
});

Deno.test("answers a health request carrying a namespace as the fixture says", async (t) => {
  await using vault = await startSimulator();
  const cases = [["vault", "namespace_header_enterprise"], [
    "openbao",
    "namespace_header",
  ]] as const;
  for (const [product, state] of cases) {
    await t.step(product, async () => {
      vault.set({ product, state: "active" });
      const entry = entryOf(product, HEALTH_PATH, state);
      const answer = await get(`${vault.url}${HEALTH_PATH}`, {
        headers: { "X-Vault-Namespace": "team-a" },
      });
      assert.equal(answer.status, entry.status);
      assert.equal(answer.body, JSON.stringify(entry.body));
    });
  }
});

Deno.test("answers a health query the fixture lists for the node state", async (t) => {
  await using vault = await startSimulator();
  const cases: [Product, NodeStateName, string][] = [
    ["vault", "standby", "standby_standbyok_true"],
    ["vault", "standby", "standby_standbyok_empty"],
    ["vault", "election", "standby_custom_standbycode"],
    ["vault", "performance_standby", "performance_standby_perfstandbyok"],
    ["vault", "standby_ha_unhealthy", "standby_ha_unhealthy_custom"],
    ["vault", "dr_secondary", "dr_secondary_active_standbyok"],
    ["vault", "sealed", "go_api_client_style_on_sealed"],
    ["vault", "removed", "removed_with_standbyok"],
    ["vault", "active", "bad_standbyok"],
    ["openbao", "standby", "standby_bad_haunhealthycode_ignored"],
    ["openbao", "sealed", "bad_standbyok"],
  ];
  for (const [product, state, answer] of cases) {
    await t.step(`${product} ${state}: ${answer}`, async () => {
      vault.set({ product, state });
      const entry = entryOf(product, HEALTH_PATH, answer);
      await assertAnswers(vault, `${HEALTH_PATH}?${entry.query}`, entry);
    });
  }
});

Deno.test("refuses a query the fixture does not list with 400 and no errors", async (t) => {
  await using vault = await startSimulator({ state: "sealed" });
  const refused = {
    status: 400,
    contentType: "application/json",
    body: '{"errors":[]}',
  };
  const paths = [
    `${HEALTH_PATH}?standbyok=true`,
    `${HEALTH_PATH}?unknown=1`,
    `${LEADER_PATH}?standbyok=true`,
  ];
  for (const path of paths) {
    await t.step(path, async () => {
      assert.deepEqual(await get(`${vault.url}${path}`), refused);
    });
  }
});

Deno.test("answers HEAD, other methods and other paths as Vault does", async (t) => {
  await using vault = await startSimulator({ state: "standby" });

  await t.step("HEAD on the leader is 405 without a body", async () => {
    const answer = await get(`${vault.url}${LEADER_PATH}`, { method: "HEAD" });
    assert.deepEqual(answer, {
      status: 405,
      contentType: "application/json",
      body: "",
    });
  });

  await t.step("HEAD on health has the GET status and no body", async () => {
    const answer = await get(`${vault.url}${HEALTH_PATH}`, { method: "HEAD" });
    assert.deepEqual(answer, {
      status: 429,
      contentType: "application/json",
      body: "",
    });
  });

  await t.step(
    "HEAD on health with a bad code has no content type",
    async () => {
      const url = `${vault.url}${HEALTH_PATH}?sealedcode=abc`;
      const answer = await get(url, { method: "HEAD" });
      assert.deepEqual(answer, { status: 400, contentType: null, body: "" });
    },
  );

  await t.step("POST on health is 405", async () => {
    const answer = await get(`${vault.url}${HEALTH_PATH}`, { method: "POST" });
    assert.deepEqual(answer, {
      status: 405,
      contentType: "application/json",
      body: '{"errors":[]}',
    });
  });

  await t.step("another path is 404", async () => {
    const answer = await get(`${vault.url}/v1/sys/seal-status`);
    assert.deepEqual(answer, {
      status: 404,
      contentType: "application/json",
      body: '{"errors":[]}',
    });
  });

  await t.step("a status without a reason phrase gets Go's", async () => {
    vault.set({ state: "dr_secondary" });
    const request = `GET ${HEALTH_PATH} HTTP/1.1\r\nHost: vault\r\n` +
      "Connection: close\r\n\r\n";
    const seen = await exchange(vault, request, 5_000);
    assert.ok(seen.text.startsWith("HTTP/1.1 472 status code 472\r\n"));
    assert.ok(seen.closed);
  });
});

Deno.test("records method, path, query, every header and the arrival time", async () => {
  await using vault = await startSimulator();
  const before = Date.now();
  const answer = await get(`${vault.url}${HEALTH_PATH}?standbyok=true`, {
    headers: { "X-Probe": "one", "Accept": "application/json" },
  });
  const after = Date.now();

  assert.equal(answer.status, 400);
  assert.equal(vault.requests.length, 1);
  const [request] = vault.requests;
  assert.ok(request);
  assert.equal(request.method, "GET");
  assert.equal(request.path, HEALTH_PATH);
  assert.equal(request.query, "standbyok=true");
  assert.equal(request.headers["x-probe"], "one");
  assert.equal(request.headers["accept"], "application/json");
  assert.equal(request.headers["x-vault-token"], undefined);
  assert.ok(request.receivedAt >= before && request.receivedAt <= after);

  vault.clearRequests();
  assert.deepEqual(vault.requests, []);
});

Deno.test("set keeps the node state and returns to normal answers", async () => {
  await using vault = await startSimulator({ state: "standby" });
  vault.set({ behaviour: "array_body" });
  assert.equal(vault.settings.state, "standby");

  vault.set({ state: "sealed" });
  assert.equal(vault.settings.behaviour, "normal");
  const answer = await get(`${vault.url}${LEADER_PATH}`);
  assert.equal(answer.status, 503);

  assert.throws(() => vault.set({ state: "melted" as NodeStateName }), {
    name: "RangeError",
    message: /^Unknown vault node state "melted"; known states: active, /,
  });
  assert.throws(
    () => vault.set({ product: "openbao", state: "performance_standby" }),
    { name: "RangeError" },
  );
  assert.throws(() => vault.set({ behaviour: "explode" as Behaviour }), {
    name: "RangeError",
    message: /^Unknown behaviour "explode"; known behaviours: normal, /,
  });
  assert.equal(vault.settings.state, "sealed");
});

Deno.test("misbehaves as each hostile behaviour says", async (t) => {
  await using vault = await startSimulator();
  await using other = await startSimulator();
  const leaderUrl = `${vault.url}${LEADER_PATH}`;

  await t.step("hang reads the request and never answers", async () => {
    vault.set({ behaviour: "hang" });
    const request = fetch(leaderUrl, { signal: AbortSignal.timeout(200) });
    await assert.rejects(request, { name: "TimeoutError" });
    assert.equal(vault.requests.at(-1)?.path, LEADER_PATH);
  });

  await t.step(
    "stall_body sends the head and never the whole body",
    async () => {
      vault.set({ behaviour: "stall_body" });
      const signal = AbortSignal.timeout(300);
      const response = await fetch(leaderUrl, { signal });
      assert.equal(response.status, 200);
      await assert.rejects(response.text(), { name: "TimeoutError" });
    },
  );

  await t.step("close_mid_headers closes inside the head", async () => {
    vault.set({ behaviour: "close_mid_headers" });
    const seen = await exchange(vault, LEADER_REQUEST, 5_000);
    assert.ok(seen.closed);
    assert.ok(seen.text.startsWith("HTTP/1.1 200 OK\r\n"));
    assert.ok(!seen.text.includes("\r\n\r\n"));
  });

  await t.step("close_mid_body closes before the promised length", async () => {
    vault.set({ behaviour: "close_mid_body" });
    const seen = await exchange(vault, LEADER_REQUEST, 5_000);
    assert.ok(seen.closed);
    const [head = "", body = ""] = seen.text.split("\r\n\r\n");
    const promised = Number(/content-length: (\d+)/i.exec(head)?.[1]);
    assert.ok(body.length > 0 && body.length < promised);
  });

  await t.step("endless_body keeps sending a chunked body", async () => {
    vault.set({ behaviour: "endless_body" });
    const response = await fetch(leaderUrl, {
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(response.status, 200);
    assert.ok(response.body);
    let received = 0;
    for await (const bytes of response.body) {
      received += bytes.length;
      if (received > 256 * 1024) break;
    }
    assert.ok(received > 256 * 1024);
  });

  await t.step("huge_body sends valid JSON of several MiB", async () => {
    vault.set({ behaviour: "huge_body" });
    const answer = await get(leaderUrl);
    assert.equal(answer.status, 200);
    assert.ok(answer.body.length >= HUGE_BODY_BYTES);
    assert.equal(JSON.parse(answer.body).is_self, true);
  });

  const canned: [Behaviour, string | null, (body: string) => void][] = [
    ["not_json", "text/html", (body) => assert.throws(() => JSON.parse(body))],
    ["wrong_types", "application/json", (body) => {
      const parsed = JSON.parse(body);
      assert.equal(parsed.ha_enabled, "true");
      assert.equal(parsed.is_self, "true");
    }],
    ["array_body", "application/json", (body) => assert.equal(body, "[true]")],
    ["empty_body", "application/json", (body) => assert.equal(body, "")],
  ];
  for (const [behaviour, contentType, check] of canned) {
    await t.step(`${behaviour} answers 200 with its body`, async () => {
      vault.set({ behaviour });
      const answer = await get(leaderUrl);
      assert.equal(answer.status, 200);
      assert.equal(answer.contentType, contentType);
      check(answer.body);
    });
  }

  await t.step("redirect points at the given loopback address", async () => {
    const location = `${other.url}${LEADER_PATH}`;
    vault.set({ behaviour: "redirect", location });
    const response = await fetch(leaderUrl, {
      redirect: "manual",
      signal: AbortSignal.timeout(5_000),
    });
    await response.body?.cancel();
    assert.equal(response.status, 307);
    assert.equal(response.headers.get("location"), location);
    assert.deepEqual(other.requests, []);
  });

  await t.step("slow answers the node state after the delay", async () => {
    vault.set({ behaviour: "slow", delayMs: 300 });
    const early = fetch(leaderUrl, { signal: AbortSignal.timeout(100) });
    await assert.rejects(early, { name: "TimeoutError" });

    const started = performance.now();
    await assertAnswers(
      vault,
      LEADER_PATH,
      entryOf("vault", LEADER_PATH, "active"),
    );
    assert.ok(performance.now() - started >= 290);
  });

  await t.step("every behaviour is covered above", () => {
    const covered = [
      "normal",
      "hang",
      "stall_body",
      "close_mid_headers",
      "close_mid_body",
      "endless_body",
      "huge_body",
      ...canned.map(([behaviour]) => behaviour),
      "redirect",
      "slow",
    ];
    assert.deepEqual([...covered].sort(), [...BEHAVIOURS].sort());
  });
});

Deno.test("close ends hanging and stalled connections", async () => {
  const vault = await startSimulator({ behaviour: "hang" });
  const port = Number(new URL(vault.url).port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const arrived = vault.nextRequest();
  await conn.write(new TextEncoder().encode(LEADER_REQUEST));
  await arrived;
  const reading = conn.read(new Uint8Array(1024));

  await vault.close();
  assert.equal(await reading, null);
  conn.close();
  await assert.rejects(fetch(`${vault.url}${LEADER_PATH}`), TypeError);
});

Deno.test("serves on a unix socket and removes it when closed", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/vault.sock`;
  const vault = await startSimulator({ path, state: "standby" });
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path } });
  try {
    assert.equal(vault.url, `unix://${path}`);
    const answer = await get(`http://vault${LEADER_PATH}`, { client });
    assert.equal(
      answer.body,
      JSON.stringify(entryOf("vault", LEADER_PATH, "standby").body),
    );
  } finally {
    client.close();
    await vault.close();
  }
  await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  await Deno.remove(dir);
});

/** The PEM text of a test CA, a server pair for 127.0.0.1 and a client pair. */
async function readCertificates() {
  const made = await makeCertificates();
  try {
    const read = (path: string) => Deno.readTextFile(path);
    return {
      ca: await read(made.ca),
      cert: await read(made.loopback.cert),
      key: await read(made.loopback.key),
      clientCert: await read(made.client.cert),
      clientKey: await read(made.client.key),
    };
  } finally {
    await made.remove();
  }
}

Deno.test({
  name: "speaks TLS and, when asked, requires a client certificate",
  ignore: !haveOpenssl(),
  fn: async (t) => {
    const pem = await readCertificates();
    const { cert, key, ca: caCert } = pem;

    await t.step("TLS answers the node state", async () => {
      await using vault = await startSimulator({ cert, key, state: "sealed" });
      assert.match(vault.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      using client = Deno.createHttpClient({ caCerts: [caCert] });
      const answer = await get(`${vault.url}${LEADER_PATH}`, { client });
      assert.equal(answer.status, 503);
    });

    await t.step("mutual TLS answers a client with a certificate", async () => {
      await using vault = await startSimulator({
        cert,
        key,
        caCert,
        requireClientCert: true,
      });
      using client = Deno.createHttpClient({
        caCerts: [caCert],
        cert: pem.clientCert,
        key: pem.clientKey,
      });
      const answer = await get(`${vault.url}${LEADER_PATH}`, { client });
      assert.equal(answer.status, 200);
      assert.equal(vault.requests.length, 1);
    });

    await t.step("mutual TLS refuses a client without one", async () => {
      await using vault = await startSimulator({
        cert,
        key,
        caCert,
        requireClientCert: true,
      });
      using client = Deno.createHttpClient({ caCerts: [caCert] });
      await assert.rejects(
        get(`${vault.url}${LEADER_PATH}`, { client }),
        TypeError,
      );
      assert.deepEqual(vault.requests, []);
    });

    await t.step("closing ends a hanging mutual TLS request", async () => {
      const vault = await startSimulator({
        cert,
        key,
        caCert,
        requireClientCert: true,
        behaviour: "hang",
      });
      using client = Deno.createHttpClient({
        caCerts: [caCert],
        cert: pem.clientCert,
        key: pem.clientKey,
      });
      const arrived = vault.nextRequest();
      const refused = assert.rejects(
        get(`${vault.url}${LEADER_PATH}`, { client }),
        TypeError,
      );
      await arrived;
      await vault.close();
      await refused;
    });

    await t.step("mutual TLS needs the CA", async () => {
      await assert.rejects(
        startSimulator({ cert, key, requireClientCert: true }),
        {
          name: "TypeError",
          message:
            "Cannot require a client certificate without cert, key and caCert",
        },
      );
    });
  },
});

const MAIN = new URL("./support/simulator_main.ts", import.meta.url).pathname;
const MAIN_FLAGS = ["run", "--allow-net", "--allow-read", "--allow-write"];

/** Reads one line of a process's output, leaving the rest to `reader`. */
async function readLine(
  reader: ReadableStreamDefaultReader<string>,
): Promise<{ line: string; rest: string }> {
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const end = text.indexOf("\n");
  return end < 0
    ? { line: text, rest: "" }
    : { line: text.slice(0, end), rest: text.slice(end + 1) };
}

async function readAll(
  reader: ReadableStreamDefaultReader<string>,
): Promise<string> {
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += value;
  }
}

Deno.test("the command line prints one ready line and obeys its control socket", async () => {
  const dir = await Deno.makeTempDir();
  const control = `${dir}/control.sock`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [...MAIN_FLAGS, MAIN, "--state", "standby", "--control", control],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = readAll(
    child.stderr.pipeThrough(new TextDecoderStream()).getReader(),
  );
  using client = Deno.createHttpClient({
    proxy: { transport: "unix", path: control },
  });
  const ask = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`http://control${path}`, {
      client,
      method,
      signal: AbortSignal.timeout(5_000),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: await response.json() };
  };

  const { line, rest } = await readLine(stdout);
  assert.match(line, /^ready http:\/\/127\.0\.0\.1:\d+$/);
  const url = line.slice("ready ".length);

  assert.equal((await get(`${url}${LEADER_PATH}`)).status, 200);
  assert.deepEqual(await ask("POST", "/state", { state: "sealed" }), {
    status: 200,
    json: {
      product: "vault",
      state: "sealed",
      behaviour: "normal",
      delayMs: 2000,
      location: `${url}${LEADER_PATH}`,
    },
  });
  assert.equal((await get(`${url}${LEADER_PATH}`)).status, 503);

  const refused = await ask("POST", "/state", { state: "melted" });
  assert.equal(refused.status, 400);
  assert.match(refused.json.error, /^Unknown vault node state "melted"/);
  assert.equal(
    (await ask("POST", "/state", { delayMs: "5" })).json.error,
    'Field "delayMs" must be a number',
  );

  const recorded = await ask("GET", "/requests");
  assert.equal(recorded.json.length, 2);
  assert.equal(recorded.json[0].path, LEADER_PATH);
  assert.deepEqual((await ask("DELETE", "/requests")).json, []);
  assert.deepEqual((await ask("GET", "/requests")).json, []);

  child.kill("SIGTERM");
  assert.equal(rest + await readAll(stdout), "");
  assert.equal(await stderr, "");
  assert.equal((await child.status).code, 0);
  await assert.rejects(Deno.lstat(control), Deno.errors.NotFound);
  await Deno.remove(dir);
});

Deno.test("the command line refuses an unknown state with status 2", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      ...MAIN_FLAGS,
      MAIN,
      "--product",
      "openbao",
      "--state",
      "dr_secondary",
    ],
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(code, 2);
  assert.equal(new TextDecoder().decode(stdout), "");
  assert.match(
    new TextDecoder().decode(stderr),
    /^error: Unknown openbao node state "dr_secondary"; known states: active, .*\nUsage: simulator_main\.ts /,
  );
});
