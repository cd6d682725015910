import assert from "node:assert/strict";
import { LEADER_PATH, startSimulator } from "./support/simulator.ts";
import { startRecorder } from "./support/recorder.ts";
import { jsonLine, run } from "./support/run.ts";
import { haveOpenssl, makeCertificates } from "./support/certificates.ts";

const SECRETS = {
  VAULT_TOKEN: "hvs.not-for-a-health-check",
  VAULT_NAMESPACE: "team-a",
  BAO_TOKEN: "s.not-for-a-health-check",
  BAO_NAMESPACE: "team-b",
};

/** The headers Deno's fetch sends by itself; the check adds none. */
const PLAIN_HEADERS = [
  "accept",
  "accept-encoding",
  "accept-language",
  "host",
  "user-agent",
];

Deno.test("never sends a token, namespace or credentials, whatever the environment", async (t) => {
  await using vault = await startSimulator();
  const grants = [
    ["--no-prompt", "--allow-env=VAULT_ADDR", "--allow-net"],
    [
      "--no-prompt",
      `--allow-env=VAULT_ADDR,${Object.keys(SECRETS).join(",")}`,
      "--allow-net",
    ],
    ["--no-prompt", "--allow-env", "--allow-net"],
  ];
  for (const permissions of grants) {
    await t.step(permissions.join(" "), async () => {
      vault.clearRequests();
      const result = await run(["--check", "both"], {
        permissions,
        env: { VAULT_ADDR: vault.url, ...SECRETS },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(vault.requests.length, 2);
      for (const request of vault.requests) {
        assert.equal(request.method, "GET");
        assert.equal(request.query, "");
        for (
          const name of ["x-vault-token", "x-vault-namespace", "authorization"]
        ) {
          assert.equal(request.headers[name], undefined, name);
        }
        assert.deepEqual(Object.keys(request.headers).sort(), PLAIN_HEADERS);
        const values = Object.values(request.headers).join(" ");
        for (const secret of Object.values(SECRETS)) {
          assert.ok(!values.includes(secret), `header carries ${secret}`);
        }
      }
    });
  }
});

function proxyVariables(proxy: string): Record<string, string> {
  return {
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    ALL_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    all_proxy: proxy,
  };
}

Deno.test("proxy variables cannot reroute a plain-http check", async (t) => {
  await using vault = await startSimulator();
  await using proxy = startRecorder();
  const env = { VAULT_ADDR: vault.url, ...proxyVariables(proxy.url) };

  await t.step(
    "a plain fetch in the same environment does use the proxy",
    async () => {
      // Without this the test below could pass only because Deno skipped the
      // proxy for loopback by itself.
      const control = await new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `await fetch("${vault.url}${LEADER_PATH}").catch(() => {});`,
        ],
        clearEnv: true,
        env: { ...env, HOME: Deno.env.get("HOME") ?? "/root", NO_COLOR: "1" },
        stdout: "null",
        stderr: "null",
      }).output();
      assert.equal(control.code, 0);
      assert.ok(proxy.lines.length > 0, "the proxy saw the plain fetch");
    },
  );

  for (
    const [permissions, name] of [
      [["--no-prompt", "--allow-env=VAULT_ADDR", "--allow-net"], "defaults"],
      [
        ["--no-prompt", "--allow-env", "--allow-net"],
        "every variable readable",
      ],
    ] as const
  ) {
    await t.step(`the check goes straight to Vault (${name})`, async () => {
      const before = proxy.lines.length;
      vault.clearRequests();
      const result = await run(["--check", "both", "--json"], {
        permissions,
        env,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(jsonLine(result).state, "active");
      assert.deepEqual(proxy.lines.slice(before), []);
      assert.equal(vault.requests.length, 2);
    });
  }
});

Deno.test({
  name: "proxy variables cannot reroute an https or unix-socket check",
  ignore: !haveOpenssl(),
  async fn(t) {
    await using proxy = startRecorder();
    const env = proxyVariables(proxy.url);
    const certs = await makeCertificates();
    await using tls = await startSimulator({
      cert: await Deno.readTextFile(certs.loopback.cert),
      key: await Deno.readTextFile(certs.loopback.key),
    });
    const socket = `${certs.dir}/vault.sock`;
    await using unix = await startSimulator({ path: socket });

    await t.step("https: the TLS simulator gets the request", async () => {
      const result = await run(
        ["--url", tls.url, "--cacert", certs.ca, "--check", "both"],
        {
          permissions: [
            "--no-prompt",
            "--allow-net",
            `--allow-read=${certs.dir}`,
          ],
          env,
        },
      );
      assert.deepEqual([result.code, result.stderr], [0, ""]);
      assert.equal(tls.requests.length, 2);
      assert.deepEqual(proxy.lines, []);
    });

    await t.step("unix: the socket's simulator gets the request", async () => {
      const result = await run(["--url", unix.url, "--check", "both"], {
        permissions: [
          "--no-prompt",
          `--allow-read=${socket}`,
          `--allow-write=${socket}`,
          `--allow-net=unix:${socket}`,
        ],
        env,
      });
      assert.deepEqual([result.code, result.stderr], [0, ""]);
      assert.equal(unix.requests.length, 2);
      assert.deepEqual(proxy.lines, []);
    });

    await certs.remove();
  },
});
