/**
 * The HTTP probe: one GET to one Vault endpoint, bounded by the run's
 * deadline from connecting to the last byte of the body. It reports what
 * came back or why nothing usable did; deciding is the verdict's job.
 */

import { accessDenied, accessFlags, hostPort, type Target } from "./target.ts";

/** The largest body read; Vault's answers are well under 2 KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

/** What Vault sent back. */
export interface Answer {
  status: number;
  contentType: string | null;
  /** The `Location` header of a redirect, which is never followed. */
  location: string | null;
  body: string;
}

/** Why no usable answer arrived. */
export type FailureKind =
  | "timeout"
  | "refused"
  | "tls_error"
  | "unreachable"
  | "too_large"
  | "incomplete"
  | "malformed"
  | "not_permitted";

/** Why no usable answer arrived, in the operator's words. */
export interface Failure {
  kind: FailureKind;
  message: string;
}

/** The outcome of asking one endpoint. */
export type Probe =
  & { endpoint: string; url: string; elapsedMs: number }
  & (
    | { answer: Answer; failure?: undefined }
    | { answer?: undefined; failure: Failure }
  );

/**
 * Asks `endpoint` (a path such as `/v1/sys/leader`) of the target with GET,
 * sending no token or namespace header and following no redirect.
 */
export async function ask(
  target: Target,
  endpoint: string,
  client: Deno.HttpClient,
  deadline: AbortSignal,
  timeoutMs: number,
): Promise<Probe> {
  const url = target.base + endpoint;
  const done = startProbe(endpoint, url);

  try {
    const response = await fetch(url, {
      client,
      redirect: "manual",
      signal: deadline,
    });
    const body = await readCapped(response);
    if (body === undefined) return done({ failure: tooLarge(url) });
    return done({
      answer: {
        status: response.status,
        contentType: response.headers.get("content-type"),
        location: response.headers.get("location"),
        body,
      },
    });
  } catch (error: unknown) {
    return done({
      failure: classify(error, url, target, deadline, timeoutMs),
    });
  }
}

/**
 * Starts timing one request; the returned function completes the probe with
 * what came back or why nothing usable did.
 */
export function startProbe(
  endpoint: string,
  url: string,
): (outcome: { answer: Answer } | { failure: Failure }) => Probe {
  const started = performance.now();
  return (outcome) => ({
    endpoint,
    url,
    elapsedMs: millisecondsSince(started),
    ...outcome,
  });
}

/**
 * Milliseconds from `started` (a `performance.now()` reading) until now, to
 * a tenth, as every time the check reports is given.
 */
export function millisecondsSince(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/** The failure of an answer cut off at {@linkcode MAX_BODY_BYTES}. */
export function tooLarge(url: string): Failure {
  return {
    kind: "too_large",
    message:
      `The answer from '${url}' is larger than ${MAX_BODY_BYTES} bytes: this is not Vault's answer; check what listens at the target`,
  };
}

async function readCapped(response: Response): Promise<string | undefined> {
  if (response.body === null) return "";
  // A body of declared length arrives whole or not at all, never longer, so
  // it is read in one go: the stream reader below costs every run about
  // 0.8 MB of memory. fetch decompresses a coded body, which can then grow
  // past its declared length: that one is counted chunk by chunk.
  const declared = declaredLength(response.headers);
  if (declared !== undefined && declared > MAX_BODY_BYTES) {
    await response.body.cancel().catch(() => {});
    return undefined;
  }
  if (declared !== undefined) return await response.text();

  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** The body's length in bytes as sent, when nothing decompresses it. */
function declaredLength(headers: Headers): number | undefined {
  const coding = headers.get("content-encoding")?.trim().toLowerCase();
  if (coding !== undefined && coding !== "identity") return undefined;
  const length = headers.get("content-length");
  if (length === null || !/^\d{1,15}$/.test(length)) return undefined;
  return Number(length);
}

/**
 * Names why a request failed, in the operator's words: the deadline passed,
 * a permission is missing, the connection was refused or cut short, the
 * answer was not HTTP, Deno's own CA settings failed, TLS failed, or
 * anything else the runtime said. `caSource` names the CA the check was
 * given, if any.
 */
export function classify(
  error: unknown,
  url: string,
  target: Target,
  deadline: AbortSignal,
  timeoutMs: number,
  caSource?: string,
): Failure {
  if (deadline.aborted) {
    return {
      kind: "timeout",
      message: `No complete answer from '${url}' within ${
        timeoutMs / 1000
      } s: Vault is hung, overloaded or stepping down; raise --timeout only if keepalived's timeout allows`,
    };
  }
  if (error instanceof Deno.errors.NotCapable) {
    return {
      kind: "not_permitted",
      message: accessDenied(target, accessFlags(target)),
    };
  }

  const detail = describe(error);
  // The runtime's words repeat the URL: a host or path that contains "tls"
  // or "certificate" must not decide what kind of failure this is.
  const words = detail.split(url).join(" ");
  if (/connection refused/i.test(words)) {
    return {
      kind: "refused",
      message: `Connection to ${
        target.socketPath
          ? `the socket '${target.socketPath}'`
          : `'${hostPort(target)}'`
      } refused: Vault is not running or not listening there`,
    };
  }
  if (INCOMPLETE.test(words)) return incomplete(url);
  const notHttp = NOT_HTTP.exec(words);
  if (notHttp) return notHttp1(url, notHttp[0]);
  const trust = runtimeTrustProblem(words, caSource);
  if (trust) {
    return {
      kind: "tls_error",
      message: `Request to '${url}' not sent: ${trust}`,
    };
  }
  if (
    /certificate|tls|handshake|UnknownIssuer|NotValidForName|received corrupt message|received fatal alert/i
      .test(words)
  ) {
    return {
      kind: "tls_error",
      message: `TLS with '${url}' failed: ${detail}`,
    };
  }
  return {
    kind: "unreachable",
    message: `Request to '${url}' failed: ${detail}`,
  };
}

/** The failure of an answer cut off before its end. */
export function incomplete(url: string, how = ""): Failure {
  return {
    kind: "incomplete",
    message:
      `The connection to '${url}' closed before a complete answer${how}: Vault may be restarting, or something other than Vault listens at the target`,
  };
}

/** The failure of an answer that is not HTTP/1.1 as Vault speaks it. */
export function notHttp1(url: string, what: string): Failure {
  return {
    kind: "malformed",
    message:
      `'${url}' answered something that is not HTTP/1.1 as Vault speaks it (${what}): check what listens at the target`,
  };
}

/** How the runtime says the server hung up in the middle of its answer. */
const INCOMPLETE =
  /connection closed before message completed|error reading a body|unexpected eof|incomplete message/i;

/** How fetch says the answer could not be parsed as HTTP. */
const NOT_HTTP =
  /invalid HTTP (?:version|status-code|header|method) parsed|message head is too large|invalid content-length parsed|unexpected transfer-encoding parsed|received unexpected message from connection/i;

/**
 * What went wrong when Deno loaded the CAs it trusts from its own
 * variables, which keepalived's environment may carry: DENO_CERT (a CA
 * file), DENO_TLS_CA_STORE (the stores) and, with DENO_TLS_CA_STORE=system,
 * SSL_CERT_FILE or SSL_CERT_DIR. The check cannot read them (no permission
 * is asked), so it goes by the runtime's words.
 */
function runtimeTrustProblem(
  words: string,
  caSource: string | undefined,
): string | undefined {
  const said = oneLine(words, 160);
  if (/Failed opening CA file/i.test(words)) {
    return `Deno cannot open the CA file that DENO_CERT names (${said}): remove DENO_CERT from keepalived's environment and give the CA with --cacert`;
  }
  if (/Unable to add pem file to certificate store/i.test(words)) {
    // The check's own CA files were checked as PEM when read: this is
    // DENO_CERT, unless the runtime reads PEM more strictly than that check.
    return `Deno cannot load the CA file that DENO_CERT names (${said}): remove DENO_CERT from keepalived's environment${
      caSource === undefined
        ? " and give the CA with --cacert"
        : `; if it is not set, check the CA given (${caSource})`
    }`;
  }
  if (/Unknown certificate store/i.test(words)) {
    return `DENO_TLS_CA_STORE names a store Deno does not know (${said}): remove DENO_TLS_CA_STORE from keepalived's environment and give the CA with --cacert`;
  }
  if (/Failed to load platform certificates/i.test(words)) {
    return `Deno cannot load the system's CAs that DENO_TLS_CA_STORE=system asks for (${said}): remove DENO_TLS_CA_STORE (and SSL_CERT_FILE, SSL_CERT_DIR) from keepalived's environment and give the CA with --cacert`;
  }
  return undefined;
}

/** Flattens an error and its causes into one line without a stack. */
export function describe(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && parts.length < 4) {
    const text = current instanceof Error ? current.message : String(current);
    if (text !== "" && !parts.some((part) => part.includes(text))) {
      parts.push(text);
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  return oneLine(parts.join(": "));
}

/** Makes server- or system-supplied text safe for a one-line message. */
export function oneLine(text: string, limit = 300): string {
  // deno-lint-ignore no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return flat.length > limit ? flat.slice(0, limit) + "…" : flat;
}
