/**
 * What the TLS tests share: a test that gets fresh certificates, a simulated
 * Vault serving one of them, the permissions to read them, and the check's
 * one-line answer to a setting it cannot use.
 */

import assert from "node:assert/strict";
import {
  type Certificates,
  haveOpenssl,
  makeCertificates,
  type Pair,
} from "./certificates.ts";
import { type Simulator, startSimulator } from "./simulator.ts";
import { run, type RunResult } from "./run.ts";
import { PROGRAM } from "../../lib/version.ts";

/** True when openssl can make the certificates these tests need. */
export const OPENSSL: boolean = haveOpenssl();

/**
 * Registers a test that runs with freshly made certificates and removes
 * them afterwards; without openssl it is ignored, and says so.
 */
export function tlsTest(
  name: string,
  fn: (t: Deno.TestContext, certs: Certificates) => Promise<void>,
): void {
  if (!OPENSSL) {
    // deno-lint-ignore no-console
    console.log(`skipped: '${name}' needs openssl to make certificates`);
  }
  Deno.test({
    name,
    ignore: !OPENSSL,
    async fn(t) {
      const certs = await makeCertificates();
      try {
        await fn(t, certs);
      } finally {
        await certs.remove();
      }
    },
  });
}

/** The default permissions plus reading the test's certificate directory. */
export function tlsPermissions(
  certs: Certificates,
  env = "VAULT_ADDR",
): string[] {
  return [
    "--no-prompt",
    `--allow-env=${env}`,
    "--allow-net",
    `--allow-read=${certs.dir}`,
  ];
}

/**
 * Runs the check against `url` with `flags` and `--json`, allowed the
 * default permissions plus reading the certificates.
 */
export async function checkJson(
  certs: Certificates,
  url: string,
  flags: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<RunResult> {
  return await run(["--url", url, ...flags, "--json"], {
    permissions: tlsPermissions(certs),
    env,
  });
}

/**
 * Starts a simulated Vault serving `pair` over TLS; with `clientCa`, it
 * demands a client certificate signed by that CA.
 */
export async function tlsVault(
  pair: Pair,
  clientCa?: string,
): Promise<Simulator> {
  return await startSimulator({
    cert: await Deno.readTextFile(pair.cert),
    key: await Deno.readTextFile(pair.key),
    ...(clientCa === undefined ? {} : {
      requireClientCert: true,
      caCert: await Deno.readTextFile(clientCa),
    }),
  });
}

/** Asserts the run exited with `code` after printing only `line`. */
export function assertOneLine(
  result: RunResult,
  code: number,
  line: string,
): void {
  assert.deepEqual(
    { code: result.code, stdout: result.stdout, stderr: result.stderr },
    { code, stdout: "", stderr: `${PROGRAM}: ${line}\n` },
  );
}
