/**
 * The TLS variant of the failover run, set up as the README's TLS section
 * tells operators to: every simulated Vault serves HTTPS on its own
 * 127.0.0.1:8200 with a certificate for the name {@linkcode SERVER_NAME}
 * only and demands a client certificate; keepalived's environment carries
 * `VAULT_ADDR`, `VAULT_CACERT`, `VAULT_TLS_SERVER_NAME` and the client pair;
 * the wrapper has deno.json's TLS flags with `--allow-read` for exactly the
 * CA, certificate and key files.
 */

import { run } from "./command.ts";
import type { Cluster } from "./cluster.ts";
import {
  installCheck,
  type Installed,
  searchPath,
  tlsPermissions,
} from "./install.ts";
import type { Scenario } from "./scenarios.ts";
import { VAULT_TLS_ADDRESS, type VaultTls } from "./vault_node.ts";
import { makeCertificates, SERVER_NAME } from "../support/certificates.ts";

/** Everything the TLS cluster needs. */
export interface TlsSetup {
  /** The wrapper with the TLS permissions, and its cache. */
  readonly installed: Installed;
  /** keepalived's environment besides `PATH` and `DENO_DIR`. */
  readonly environment: Readonly<Record<string, string>>;
  /** What every simulated Vault serves TLS with. */
  readonly vault: VaultTls;
  /** The `--allow-read=` files baked into the wrapper. */
  readonly readable: readonly string[];
  /** Removes the certificates made for the run (not `root`). */
  remove(): Promise<void>;
}

/**
 * Makes the certificates, puts the files the check reads in
 * `root/tls-files` (the client key readable by `scriptUser`'s group only)
 * and installs the TLS wrapper in `root/install-tls`.
 */
export async function prepareTls(
  root: string,
  scriptUser: string,
): Promise<TlsSetup> {
  const made = await makeCertificates();
  try {
    const directory = `${root}/tls-files`;
    await Deno.mkdir(directory, { mode: 0o755 });
    const ca = `${directory}/ca.pem`;
    const cert = `${directory}/client.pem`;
    const key = `${directory}/client.key`;
    await place(made.ca, ca, 0o644);
    await place(made.client.cert, cert, 0o644);
    await place(made.client.key, key, 0o640);
    const group = Number((await run("id", ["-g", scriptUser])).trim());
    await Deno.chown(key, 0, group);

    const readable = [ca, cert, key];
    const installed = await installCheck(
      `${root}/install-tls`,
      await tlsPermissions(readable),
    );
    return {
      installed,
      environment: {
        VAULT_ADDR: VAULT_TLS_ADDRESS,
        VAULT_CACERT: ca,
        VAULT_CLIENT_CERT: cert,
        VAULT_CLIENT_KEY: key,
        VAULT_TLS_SERVER_NAME: SERVER_NAME,
      },
      vault: {
        cert: made.named.cert,
        key: made.named.key,
        clientCa: made.ca,
      },
      readable,
      remove: () => made.remove(),
    };
  } catch (error: unknown) {
    await made.remove();
    throw error;
  }
}

async function place(from: string, to: string, mode: number): Promise<void> {
  await Deno.copyFile(from, to);
  await Deno.chmod(to, mode);
}

/**
 * Host a's Vault is active: the installed check, run once in a's
 * namespace with keepalived's environment, says so; without
 * `VAULT_TLS_SERVER_NAME` it verifies 127.0.0.1, which the certificate
 * does not name, and fails with a TLS error. Proves the variable is what
 * makes the TLS cluster work.
 */
export const SERVER_NAME_NEEDED: Scenario = {
  name: "the check needs VAULT_TLS_SERVER_NAME",
  run: async (stage) => {
    await stage.cluster.setVault("a", { state: "active" });
    const environment = stage.cluster.plan.environment ?? {};
    const named = await checkOnce(stage.cluster, environment);
    if (named.code !== 0 || named.active !== true) {
      throw new Error(
        `The installed check did not find host a active over TLS: exit ${named.code}, '${named.said}'`,
      );
    }
    const { VAULT_TLS_SERVER_NAME: _, ...unnamed } = environment;
    const bare = await checkOnce(stage.cluster, unnamed);
    if (bare.code !== 1 || bare.failure !== "tls_error") {
      throw new Error(
        `Without VAULT_TLS_SERVER_NAME the check should fail with a TLS error: exit ${bare.code}, '${bare.said}'`,
      );
    }
  },
};

/** What one run of the installed check said with `--json`. */
interface CheckRun {
  readonly code: number;
  readonly active: unknown;
  readonly failure: unknown;
  readonly said: string;
}

async function checkOnce(
  cluster: Cluster,
  environment: Readonly<Record<string, string>>,
): Promise<CheckRun> {
  const host = cluster.network.hosts[0];
  if (!host) throw new Error("The TLS cluster has no host a");
  const output = await new Deno.Command("ip", {
    args: ["netns", "exec", host.namespace, cluster.plan.launcher, "--json"],
    clearEnv: true,
    env: { PATH: searchPath(), DENO_DIR: cluster.plan.cache, ...environment },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const said = new TextDecoder().decode(output.stdout).trim();
  let record: {
    active?: unknown;
    answers?: Array<{ error?: { kind?: unknown } | null }>;
  } = {};
  try {
    record = JSON.parse(said);
  } catch {
    // Not one JSON line: the checks below fail and quote it.
  }
  return {
    code: output.code,
    active: record.active,
    failure: record.answers?.[0]?.error?.kind,
    said: said || new TextDecoder().decode(output.stderr).trim(),
  };
}
