/**
 * The probe for `https://` and `unix://` targets: the check dials the
 * target itself (TLS with the settings' CA, client certificate and server
 * name, or the unix socket) and sends one HTTP/1.1 GET. No proxy variable
 * can reroute it, because no proxy logic is involved. Loaded only for these
 * targets; plain-http targets use `fetch` (see `probe.ts`).
 */

import { MalformedAnswer, readAnswer } from "./http1_reader.ts";
import {
  classify,
  describe,
  MAX_BODY_BYTES,
  type Probe,
  startProbe,
  tooLarge,
} from "./probe.ts";
import { hostPort, type Target } from "./target.ts";
import type { TlsSettings } from "./tls_settings.ts";
import { PROGRAM, VERSION } from "./version.ts";

/**
 * Deno's `connectTls` dials `hostname` but sends and verifies this name
 * when the option is present. It is not in Deno's public types yet.
 */
// TODO: use a public option once Deno has one; this key is what
// Deno.connectTls reads in 2.9 (ext/net/02_tls.js).
const SERVER_NAME = Symbol.for("unstableServerName");

/**
 * Asks `endpoint` of the target like `probe.ts`'s `ask` does (GET, no token
 * or namespace header, no redirect followed, body capped, one deadline),
 * over a connection of its own.
 */
export async function askDirect(
  target: Target,
  endpoint: string,
  tls: TlsSettings | undefined,
  deadline: AbortSignal,
  timeoutMs: number,
): Promise<Probe> {
  const url = target.base + endpoint;
  const done = startProbe(endpoint, url);

  let connection: Deno.Conn | undefined;
  const hangUp = () => {
    try {
      connection?.close();
    } catch {
      // Already closed.
    }
  };
  deadline.addEventListener("abort", hangUp, { once: true });
  try {
    connection = await beforeDeadline(dial(target, tls), deadline);
    await writeAll(connection, request(target, endpoint));
    const answer = await readAnswer(connection, MAX_BODY_BYTES);
    if (answer.body === undefined) return done({ failure: tooLarge(url) });
    return done({
      answer: {
        status: answer.status,
        contentType: answer.contentType,
        location: answer.location,
        body: new TextDecoder().decode(answer.body),
      },
    });
  } catch (error: unknown) {
    const failure = classify(error, url, target, deadline, timeoutMs);
    if (failure.kind === "unreachable" || failure.kind === "tls_error") {
      // rustls appends a documentation link that helps no operator.
      failure.message = failure.message.replace(/: https:\/\/\S+$/, "") +
        hint(describe(error), error, target, tls);
    }
    return done({ failure });
  } finally {
    deadline.removeEventListener("abort", hangUp);
    hangUp();
  }
}

function dial(
  target: Target,
  tls: TlsSettings | undefined,
): Promise<Deno.Conn> {
  if (target.socketPath !== undefined) {
    return Deno.connect({ transport: "unix", path: target.socketPath });
  }
  const options: Deno.ConnectTlsOptions & Partial<Deno.TlsCertifiedKeyPem> & {
    [SERVER_NAME]?: string;
  } = {
    hostname: target.hostname,
    port: target.port,
    caCerts: tls?.caCerts ?? [],
    // Vault's listener speaks HTTP/1.1 whatever ALPN offers.
    alpnProtocols: ["http/1.1"],
  };
  if (tls?.cert !== undefined && tls.key !== undefined) {
    options.cert = tls.cert;
    options.key = tls.key;
  }
  if (tls?.serverName !== undefined) options[SERVER_NAME] = tls.serverName;
  if (tls?.skipVerify) options.unsafelyDisableHostnameVerification = true;
  return Deno.connectTls(options as Deno.ConnectTlsOptions);
}

/** Settles with `dialling` or rejects once the deadline passes, whichever is first. */
function beforeDeadline(
  dialling: Promise<Deno.Conn>,
  deadline: AbortSignal,
): Promise<Deno.Conn> {
  return new Promise((resolve, reject) => {
    const abort = () => reject(deadline.reason);
    if (deadline.aborted) abort();
    deadline.addEventListener("abort", abort, { once: true });
    dialling.then(
      (connection) => {
        deadline.removeEventListener("abort", abort);
        // A connection that arrives too late is closed at once.
        if (deadline.aborted) connection.close();
        else resolve(connection);
      },
      (error: unknown) => {
        deadline.removeEventListener("abort", abort);
        reject(error);
      },
    );
  });
}

/** The GET as the Vault CLI would send it, asking the server to close after. */
function request(target: Target, endpoint: string): Uint8Array {
  const path = target.socketPath === undefined
    ? new URL(target.base + endpoint).pathname
    : endpoint;
  const host = target.socketPath !== undefined ? "localhost" : hostPort(target);
  return new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${PROGRAM}/${VERSION}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`,
  );
}

async function writeAll(connection: Deno.Conn, bytes: Uint8Array) {
  let written = 0;
  while (written < bytes.length) {
    written += await connection.write(bytes.subarray(written));
  }
}

/** What to do about a TLS or connection failure, as a clause to append. */
function hint(
  detail: string,
  error: unknown,
  target: Target,
  tls: TlsSettings | undefined,
): string {
  const name = tls?.serverName ?? target.hostname;
  if (error instanceof MalformedAnswer) {
    return ": something other than Vault's API answers at the target";
  }
  if (/No such file or directory/i.test(detail) && target.socketPath) {
    return `: the socket '${target.socketPath}' does not exist; check Vault's listener "unix" address`;
  }
  if (/UnknownIssuer/i.test(detail)) {
    if (tls?.skipVerify) {
      return `: ${
        tls.skipVerifySource ?? "--tls-skip-verify"
      } skips only the name check; to accept any certificate, run Deno with --unsafely-ignore-certificate-errors=${name} (unsafe)`;
    }
    return tls?.caSource
      ? `: Vault's certificate is not signed by the CA given (${tls.caSource}): give the CA that signed Vault's certificate`
      : ": Vault's certificate is not signed by a CA this check trusts (Deno trusts the Mozilla store, not the system's): pass --cacert with the CA that signed it, or set DENO_TLS_CA_STORE=system";
  }
  if (/not valid for name/i.test(detail)) {
    return `: the certificate does not name '${name}'; pass --tls-server-name with a name it carries`;
  }
  if (/expired|not valid after|NotValidYet|not valid before/i.test(detail)) {
    return ": Vault's certificate is outside its validity period: renew it (or check this host's clock)";
  }
  if (/CertificateRequired|peer sent no certificates/i.test(detail)) {
    return ": Vault requires a client certificate: pass --cert and --key";
  }
  if (
    /BadCertificate|UnknownCA|CertificateUnknown|DecryptError/i.test(detail)
  ) {
    return ": Vault rejected the client certificate: check that --cert and --key match and are signed by a CA Vault trusts";
  }
  if (/close_notify/i.test(detail) && tls?.cert !== undefined) {
    return ": Vault hung up during TLS: check that --cert and --key are a client certificate Vault trusts";
  }
  if (/InvalidContentType|corrupt message|not a TLS/i.test(detail)) {
    return ": the target does not speak TLS; use an http:// address if Vault's listener has tls_disable";
  }
  return "";
}
