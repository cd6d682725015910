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
  type Failure,
  incomplete,
  MAX_BODY_BYTES,
  notHttp1,
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
  // Whether any byte of the answer arrived, which tells a cut-off answer
  // from a server that hung up during the handshake.
  let answered = false;
  deadline.addEventListener("abort", hangUp, { once: true });
  try {
    connection = await beforeDeadline(dial(target, tls), deadline);
    await writeAll(connection, request(target, endpoint));
    const dialled = connection;
    const answer = await readAnswer({
      read: async (buffer) => {
        const count = await dialled.read(buffer);
        if (count) answered = true;
        return count;
      },
    }, MAX_BODY_BYTES);
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
    return done({
      failure: classifyDirect(
        error,
        url,
        target,
        tls,
        deadline,
        timeoutMs,
        answered,
      ),
    });
  } finally {
    deadline.removeEventListener("abort", hangUp);
    hangUp();
  }
}

/** Classifies like the fetch probe, with what only this probe knows. */
function classifyDirect(
  error: unknown,
  url: string,
  target: Target,
  tls: TlsSettings | undefined,
  deadline: AbortSignal,
  timeoutMs: number,
  answered: boolean,
): Failure {
  const failure = classify(
    error,
    url,
    target,
    deadline,
    timeoutMs,
    tls?.caSource,
  );
  if (failure.kind === "timeout" || failure.kind === "not_permitted") {
    return failure;
  }
  const detail = describe(error);
  if (error instanceof MalformedAnswer && failure.kind !== "incomplete") {
    return notHttp1(url, detail);
  }
  // Vault closes with close_notify; a bare close after part of the answer
  // is a cut-off answer, as over plain HTTP.
  if (answered && /close_notify/i.test(detail)) {
    return incomplete(url, " (without TLS close_notify)");
  }
  const pair = clientPairProblem(detail, tls);
  if (pair) {
    return {
      kind: "tls_error",
      message: `TLS with '${url}' not attempted: ${pair}`,
    };
  }
  if (failure.kind === "unreachable" || failure.kind === "tls_error") {
    // rustls appends a documentation link that helps no operator.
    failure.message = failure.message.replace(/: https:\/\/\S+$/, "") +
      hint(detail, target, tls);
  }
  return failure;
}

/**
 * What is wrong with the client certificate and key when Deno refuses them
 * before dialling; the files were checked as PEM when read, so what is left
 * is a key Deno cannot use or one of another certificate.
 */
function clientPairProblem(
  detail: string,
  tls: TlsSettings | undefined,
): string | undefined {
  if (tls?.keySource === undefined || tls.certSource === undefined) {
    return undefined;
  }
  const fix =
    `give the unencrypted PEM private key (PKCS#8, RSA or EC) of the client certificate`;
  if (/KeyMismatch|keys may not be consistent/i.test(detail)) {
    return `the client key (${tls.keySource}) does not belong to the client certificate (${tls.certSource}): ${fix}`;
  }
  if (/No keys found in key data|Unable to decode key/i.test(detail)) {
    return `the client key (${tls.keySource}) holds no private key Deno can use (${detail}): ${fix} (${tls.certSource})`;
  }
  if (/Unable to decode certificate/i.test(detail)) {
    return `the client certificate (${tls.certSource}) cannot be decoded (${detail}): give the client certificate in PEM form`;
  }
  return undefined;
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
  target: Target,
  tls: TlsSettings | undefined,
): string {
  const name = tls?.serverName ?? target.hostname;
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
      : ": Vault's certificate is not signed by a CA this check trusts (Deno trusts the Mozilla store, not the system's): pass --cacert with the CA that signed it";
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
  // What rustls says when the first bytes back are not a TLS record.
  if (
    /corrupt message of type (?:InvalidContentType|UnknownProtocolVersion)/i
      .test(detail)
  ) {
    return ": the target does not speak TLS; use an http:// address if Vault's listener has tls_disable";
  }
  if (/HandshakePayloadTooLarge/i.test(detail)) {
    return ": Vault's certificate chain is larger than a TLS handshake message may be (64 KiB): serve only Vault's certificate and its intermediate CAs in the listener's tls_cert_file";
  }
  if (/BadEncoding/i.test(detail)) {
    return `: a certificate cannot be parsed, Vault's${
      tls?.caSource ? ` or the CA given (${tls.caSource})` : ""
    }: check it with 'openssl x509 -noout -text -in FILE'`;
  }
  return "";
}
