/**
 * The target: which Vault listener to ask, from `--url` or `VAULT_ADDR`,
 * validated the way the Vault CLI reads its address.
 */

import { SetupError } from "./errors.ts";
import { readVariable } from "./env.ts";

/** A Vault listener address the check can dial. */
export interface Target {
  /** The address as the operator gave it, without a trailing slash. */
  address: string;
  /** Where the address came from. */
  source: "--url" | "VAULT_ADDR";
  scheme: "http" | "https";
  /** Host name or IP address as written in the URL (IPv6 without brackets). */
  hostname: string;
  port: number;
  /** Origin plus any path prefix, to which an endpoint path is appended. */
  base: string;
}

const EXAMPLE = "https://127.0.0.1:8200";

/**
 * Resolves the target from `--url` or else `VAULT_ADDR`; throws
 * {@linkcode SetupError} naming what to set when neither gives a usable
 * address. Does no network access and no name resolution.
 */
export function resolveTarget(url: string | undefined): Target {
  if (url !== undefined) {
    return parseAddress(url, "--url");
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

function parseAddress(text: string, source: Target["source"]): Target {
  const fail = (why: string) =>
    new SetupError(
      `${source} '${text}' ${why}: give this node's Vault address, e.g. '${EXAMPLE}'`,
    );

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw fail("is not a URL");
  }

  const scheme = url.protocol.slice(0, -1);
  if (scheme === "unix") {
    // TODO: dial Vault's unix listener; until then refuse rather than guess.
    throw new SetupError(
      `${source} '${text}' is a unix socket address, which is not supported yet: use Vault's TCP listener, e.g. '${EXAMPLE}'`,
    );
  }
  if (scheme !== "http" && scheme !== "https") {
    throw fail("must start with http:// or https://");
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
