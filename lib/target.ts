/**
 * The target: which Vault listener to ask, from `--url`, `BAO_ADDR` or
 * `VAULT_ADDR`, validated the way the Vault CLI reads its address.
 */

import { SetupError, UsageError } from "./errors.ts";
import { readVariable } from "./env.ts";

/** A Vault listener address the check can dial. */
export interface Target {
  /** The address as the operator gave it, without a trailing slash. */
  address: string;
  /** Where the address came from. */
  source: "--url" | "VAULT_ADDR" | "BAO_ADDR";
  /** `unix` is Vault's unix listener: plain HTTP over the socket. */
  scheme: "http" | "https" | "unix";
  /**
   * Host name or IP address as written in the URL (IPv6 without brackets);
   * `localhost` for a unix socket, as the Vault CLI sends it.
   */
  hostname: string;
  /** The TCP port; 0 for a unix socket. */
  port: number;
  /** Origin plus any path prefix, to which an endpoint path is appended. */
  base: string;
  /** The socket's path, for a `unix://` target only. */
  socketPath?: string;
}

const EXAMPLE = "https://127.0.0.1:8200";

/** A host name as a URL writes it: an IPv6 address in brackets. */
export function urlHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

/**
 * The target's host and port as `--allow-net` and the `Host` header write
 * them, e.g. `127.0.0.1:8200` or `[::1]:8200`.
 */
export function hostPort(target: Target): string {
  return `${urlHost(target.hostname)}:${target.port}`;
}

/**
 * The Deno permission flags that reaching the target takes: net access to
 * its host and port, or what {@linkcode socketFlags} names for its unix
 * socket. With `missingOnly`, only those this run has not been granted.
 */
export function accessFlags(target: Target, missingOnly = false): string[] {
  if (target.socketPath !== undefined) {
    return socketFlags(target.socketPath, missingOnly);
  }
  const host = hostPort(target);
  return flags([[{ name: "net", host }, `--allow-net=${host}`]], missingOnly);
}

/**
 * The Deno permission flags that connecting to the unix socket at `path`
 * takes: read, write and net access to it. With `missingOnly`, only those
 * this run has not been granted.
 */
export function socketFlags(path: string, missingOnly = false): string[] {
  return flags([
    [{ name: "read", path }, `--allow-read=${path}`],
    [{ name: "write", path }, `--allow-write=${path}`],
    [{ name: "net", host: `unix:${path}` }, `--allow-net=unix:${path}`],
  ], missingOnly);
}

function flags(
  needed: [Deno.PermissionDescriptor, string][],
  missingOnly: boolean,
): string[] {
  return needed
    .filter(([descriptor]) =>
      !missingOnly ||
      Deno.permissions.querySync(descriptor).state !== "granted"
    )
    .map(([, flag]) => flag);
}

/** The one line saying that reaching the target needs `flags`. */
export function accessDenied(target: Target, flags: string[]): string {
  const what = target.socketPath === undefined
    ? `Network access to '${hostPort(target)}'`
    : `Access to the socket '${target.socketPath}'`;
  return `${what} is not allowed: run with ${flags.join(" ")}`;
}

/**
 * Resolves the target from `--url`, else `BAO_ADDR` (OpenBao's name, read
 * only when the run may read it), else `VAULT_ADDR`; throws
 * {@linkcode UsageError} for a malformed `--url` (a command-line mistake)
 * and {@linkcode SetupError} naming what to set when the environment gives
 * no usable address. Does no network access and no name resolution.
 */
export function resolveTarget(url: string | undefined): Target {
  if (url !== undefined) {
    return parseAddress(url, "--url");
  }

  const bao = readVariable("BAO_ADDR");
  if (bao.value !== undefined && bao.value.trim() !== "") {
    return parseAddress(bao.value.trim(), "BAO_ADDR");
  }

  const variable = readVariable("VAULT_ADDR");
  if (variable.denied) {
    throw new SetupError(
      "VAULT_ADDR may not be read: run with --allow-env=VAULT_ADDR, or pass --url",
    );
  }
  if (variable.value === undefined || variable.value.trim() === "") {
    throw new SetupError(
      `VAULT_ADDR is ${
        variable.value === undefined ? "not set" : "empty"
      }: set it to this node's Vault address (e.g. '${EXAMPLE}') or pass --url`,
    );
  }
  return parseAddress(variable.value.trim(), "VAULT_ADDR");
}

/**
 * Reads `text` as the target address given by `source`; throws
 * {@linkcode UsageError} for a bad `--url` and {@linkcode SetupError} for a
 * bad variable, each naming `source`.
 */
export function parseAddress(
  text: string,
  source: Target["source"],
): Target {
  const fail = (why: string) =>
    failure(
      source,
      `${source} '${text}' ${why}: give this node's Vault address, e.g. '${EXAMPLE}'`,
    );

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw fail("is not a URL");
  }

  const scheme = url.protocol.slice(0, -1);
  if (scheme === "unix") return unixSocket(text, url, source);
  if (scheme !== "http" && scheme !== "https") {
    throw fail("must start with http://, https:// or unix://");
  }
  if (url.hostname === "") throw fail("has no host");
  if (url.username !== "" || url.password !== "") {
    throw fail("must not carry a user name or password");
  }
  if (url.search !== "" || url.hash !== "") {
    throw fail("must not carry a query or fragment");
  }

  const prefix = url.pathname.replace(/\/+$/, "");
  const port = url.port === "" ? (scheme === "https" ? 443 : 80) : +url.port;
  return {
    address: text.replace(/\/+$/, ""),
    source,
    scheme,
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    base: url.origin + prefix,
  };
}

function unixSocket(text: string, url: URL, source: Target["source"]): Target {
  let path = "";
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    // A '%' that starts no escape: refused below like any unusable path.
  }
  if (
    url.host !== "" || !path.startsWith("/") || path === "/" ||
    path.includes("\0")
  ) {
    throw failure(
      source,
      `${source} '${text}' is not a unix socket address: write it as 'unix:///absolute/path/to/vault.sock'`,
    );
  }
  if (url.search !== "" || url.hash !== "") {
    throw failure(
      source,
      `${source} '${text}' must not carry a query or fragment: write it as 'unix:///absolute/path/to/vault.sock'`,
    );
  }
  return {
    address: text,
    source,
    scheme: "unix",
    hostname: "localhost",
    port: 0,
    base: `unix://${path}`,
    socketPath: path,
  };
}

/** A bad `--url` is a command-line mistake; a bad variable is setup. */
function failure(source: Target["source"], message: string): Error {
  return source === "--url" ? new UsageError(message) : new SetupError(message);
}
