/**
 * Variables in keepalived's environment that Deno itself obeys, with no
 * permission asked and whatever the check's `--allow-env` says: they change
 * which CAs the check trusts, or write its TLS secrets to a file.
 */

import type { Finding } from "./finding.ts";

/** Variables that add to or replace the CAs Deno trusts. */
const TRUST = ["DENO_CERT", "NODE_EXTRA_CA_CERTS", "DENO_TLS_CA_STORE"];

/** Where `DENO_TLS_CA_STORE=system` finds the system's CAs. */
const SYSTEM_STORE = ["SSL_CERT_FILE", "SSL_CERT_DIR"];

/** One warning per risk found in keepalived's environment `variables`. */
export function runtimeVariableFindings(
  variables: Map<string, { value: string; file: string }>,
): Finding[] {
  const set = (name: string) => (variables.get(name)?.value ?? "") !== "";
  const named = (names: string[]) =>
    names.map((name) => `${name}='${variables.get(name)?.value}'`).join(", ");
  const where = (names: string[]) =>
    [...new Set(names.map((name) => variables.get(name)?.file))].join(", ");
  const findings: Finding[] = [];

  const trust = TRUST.filter(set);
  if (trust.includes("DENO_TLS_CA_STORE")) {
    trust.push(...SYSTEM_STORE.filter(set));
  }
  if (trust.length > 0) {
    findings.push({
      severity: "warning",
      code: "deno-trust-in-environment",
      where: where(trust),
      what: `keepalived's environment sets ${named(trust)}`,
      why:
        "Deno obeys these without any permission: the check then trusts CAs that --cacert and --capath do not name, and one that Deno cannot load fails every check, http targets included",
      fix: `remove ${
        trust.join(", ")
      } from keepalived's environment; give Vault's CA with --cacert or VAULT_CACERT`,
    });
  }

  if (set("SSLKEYLOGFILE")) {
    const path = variables.get("SSLKEYLOGFILE")?.value;
    findings.push({
      severity: "warning",
      code: "tls-key-log-in-environment",
      where: where(["SSLKEYLOGFILE"]),
      what: `keepalived's environment sets SSLKEYLOGFILE='${path}'`,
      why:
        "Deno writes the secrets of every TLS session to that file, without any write permission: whoever can read it can decrypt the check's traffic with Vault",
      fix:
        `remove SSLKEYLOGFILE from keepalived's environment and delete '${path}'`,
    });
  }
  return findings;
}
