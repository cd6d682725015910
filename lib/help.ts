/** The `--help` text: every flag, the variables read, exit codes, permissions. */

import {
  DEFAULT_JOURNAL_SOCKET,
  DEFAULT_STATE_FILE,
  DEFAULT_TIMEOUT_MS,
} from "./options.ts";
import { PROGRAM, VERSION } from "./version.ts";

/** Returns the help text. */
export function helpText(): string {
  return `${PROGRAM} ${VERSION}
Exits 0 only when the local Vault or OpenBao says this node is the active HA
node; exits non-zero in every other case. Meant as a keepalived vrrp_script.

Usage: ${PROGRAM} [options]

The doctor, which checks this host's keepalived setup, is a program of its
own, in the sources: deno task doctor --help

Options:
  -u, --url URL          Vault address (wins over BAO_ADDR, VAULT_ADDR), e.g.
                         https://127.0.0.1:8200, http://host:8200/prefix
                         or unix:///run/vault/vault.sock
  -t, --timeout SECONDS  Deadline for the whole run, start-up included: the
                         requests (two with --check both) get what start-up
                         left, from connecting to the last byte of the body;
                         0.01 to 3600, fractions allowed
                         (default ${DEFAULT_TIMEOUT_MS / 1000})
      --check MODE       leader: GET /v1/sys/leader, active when ha_enabled
                         and is_self are true (default);
                         health: GET /v1/sys/health, active only on 200
                         with initialized true, sealed, standby and
                         performance_standby false; cannot tell a Vault
                         without HA from an active node: prefer leader or
                         both;
                         both: both must say active
  -d, --debug            Explain the run on stderr: target, request, answer,
                         time taken and verdict
      --json             Print one JSON line with the same facts on stdout
      --cacert FILE      CA certificate (PEM) to verify Vault's certificate
      --capath DIR       Directory of CA certificates (PEM); --cacert wins
      --cert FILE        Client certificate (PEM), with --key
      --key FILE         Client private key (PEM), with --cert
      --tls-server-name NAME
                         Name to send and verify instead of the URL's host;
                         the check still dials the URL's address
      --tls-skip-verify  Do not check the certificate's name (unsafe); for
                         the chain too, run Deno with its runtime flag
                         (unsafe) --unsafely-ignore-certificate-errors=NAME
      --log journal      Send the verdict to the systemd journal when it
                         changes, and every failure to tell
      --journal-socket PATH
                         Journal stream socket
                         (default ${DEFAULT_JOURNAL_SOCKET})
      --state-file FILE  Where --log keeps the last verdict
                         (default ${DEFAULT_STATE_FILE})
  -h, --help             Show this help
      --version          Show the version

Environment (BAO_* wins over VAULT_*; each read only when allowed):
  VAULT_ADDR, BAO_ADDR   Vault address when --url is not given
  VAULT_CACERT, VAULT_CAPATH, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY,
  VAULT_TLS_SERVER_NAME, VAULT_SKIP_VERIFY (and their BAO_* names)
                         as the TLS flags, for https:// targets

Exit status:
  0  this node is the active node
  1  not active, or unable to tell (down, sealed, standby, timeout, ...)
  2  command-line mistake

Permissions (Deno):
  --allow-env=VAULT_ADDR  read the address (not needed with --url)
  --allow-net             reach Vault; narrow it to the target, e.g.
                          --allow-net=127.0.0.1:8200
  --log journal also needs, for the socket and the state file:
    --allow-read=SOCKET,FILE --allow-write=SOCKET,FILE
    and, with a narrowed --allow-net, --allow-net=unix:SOCKET
  TLS: --allow-read=FILE for each CA, certificate and key file (or DIR),
    --allow-env=NAME for each variable above that should count
  unix:///PATH targets: --allow-read=PATH --allow-write=PATH
    --allow-net=unix:PATH
`;
}
