/**
 * The TLS settings of an `https://` target, from the command line, else
 * OpenBao's `BAO_*` variables, else the Vault CLI's `VAULT_*` ones, with the
 * certificate files read. Loaded only for `https://` targets.
 */

import { readVariable } from "./env.ts";
import { SetupError } from "./errors.ts";
import type { Options } from "./options.ts";
import { pemProblem } from "./pem_check.ts";
import { describe } from "./probe.ts";

/** How the check speaks TLS to Vault. */
export interface TlsSettings {
  /** CA certificates (PEM) trusted besides Deno's built-in store. */
  caCerts: string[];
  /** Client certificate and key (PEM), both or neither. */
  cert?: string;
  key?: string;
  /** The name sent and verified instead of the URL's host. */
  serverName?: string;
  /** Where the trusted CAs came from, e.g. `--cacert '/etc/vault/ca.pem'`. */
  caSource?: string;
  /** Where the client certificate came from, e.g. `--cert '/etc/vault/client.pem'`. */
  certSource?: string;
  /** Where the client key came from, e.g. `--key '/etc/vault/client.key'`. */
  keySource?: string;
  /** Whether the certificate's name goes unchecked (unsafe). */
  skipVerify: boolean;
  /** What asked for that, e.g. `--tls-skip-verify` or `VAULT_SKIP_VERIFY=1`. */
  skipVerifySource?: string;
  /** Lines for `--debug`: where each setting came from, what was ignored. */
  notes: string[];
  /** Lines for `--debug` and `--json`: settings that weaken the check. */
  warnings: string[];
}

/** One setting and where it came from. */
interface Setting {
  value: string;
  source: string;
}

/** The values `VAULT_SKIP_VERIFY` may take, as the Vault CLI parses them. */
const TRUE_WORDS = ["1", "t", "T", "TRUE", "true", "True"];
const FALSE_WORDS = ["0", "f", "F", "FALSE", "false", "False"];

const CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;
/** PKCS#8 encryption, or the traditional OpenSSL header of an encrypted key. */
const ENCRYPTED_KEY =
  /-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: *4, *ENCRYPTED/m;

/**
 * Resolves the TLS settings and reads the files they name; throws
 * {@linkcode SetupError} with one line naming the file, the setting it came
 * from and the fix when something cannot be used.
 */
export function resolveTls(options: Options): TlsSettings {
  const notes: string[] = [];
  const warnings: string[] = [];

  const cacert = choose("--cacert", options.cacert, "CACERT");
  const capath = choose("--capath", options.capath, "CAPATH");
  const cert = choose("--cert", options.cert, "CLIENT_CERT");
  const key = choose("--key", options.key, "CLIENT_KEY");
  const serverName = choose(
    "--tls-server-name",
    options.tlsServerName,
    "TLS_SERVER_NAME",
  );
  const skipVerify = options.tlsSkipVerify
    ? { value: true, source: "--tls-skip-verify", given: "--tls-skip-verify" }
    : readSkipVerify();

  let caCerts: string[] = [];
  const ca = cacert ?? capath;
  if (cacert) {
    caCerts = [readPem(cacert, "CA certificate", CERTIFICATE)];
    if (capath) {
      notes.push(
        `CA directory '${capath.value}' (from ${capath.source}) ignored: the CA file from ${cacert.source} wins`,
      );
    }
  } else if (capath) {
    caCerts = readCaDirectory(capath);
  }

  if ((cert === undefined) !== (key === undefined)) {
    const [given, missing] = cert ? [cert, "key"] : [key as Setting, "cert"];
    throw new SetupError(
      `A client ${
        missing === "key" ? "certificate" : "key"
      } was given (${given.source}) without a client ${
        missing === "key" ? "key" : "certificate"
      }: set both (--cert and --key, or VAULT_CLIENT_CERT and VAULT_CLIENT_KEY) or neither`,
    );
  }

  const settings: TlsSettings = {
    caCerts,
    skipVerify: skipVerify.value,
    notes,
    warnings,
  };
  if (ca) settings.caSource = `${ca.source} '${ca.value}'`;
  if (skipVerify.value) settings.skipVerifySource = skipVerify.given;
  if (cert && key) {
    settings.certSource = `${cert.source} '${cert.value}'`;
    settings.keySource = `${key.source} '${key.value}'`;
    settings.cert = readPem(cert, "client certificate", CERTIFICATE);
    settings.key = readKey(key, settings.certSource);
  }
  if (serverName) {
    if (!/^[A-Za-z0-9.-]+$/.test(serverName.value)) {
      throw new SetupError(
        `The TLS server name '${serverName.value}' (from ${serverName.source}) is not a DNS name: give the name Vault's certificate carries`,
      );
    }
    settings.serverName = serverName.value;
  }
  // TODO: skip the chain check per connection once Deno offers a way; today
  // --tls-skip-verify skips only the name check unless Deno runs with
  // --unsafely-ignore-certificate-errors=NAME.
  if (skipVerify.value) {
    warnings.push(
      `TLS verification is weakened (${skipVerify.source}): the certificate's name is not checked, and its chain is not checked either when Deno runs with --unsafely-ignore-certificate-errors; another service on the target's address could pass for Vault`,
    );
  }
  return settings;
}

/** The flag's value, else `BAO_<name>`, else `VAULT_<name>`. */
function choose(
  flag: string,
  value: string | undefined,
  name: string,
): Setting | undefined {
  if (value !== undefined && value !== "") return { value, source: flag };
  // A variable the run may not read counts as unset; the caller lists
  // those under --debug, since nobody can tell here whether it is set.
  for (const variable of [`BAO_${name}`, `VAULT_${name}`]) {
    const read = readVariable(variable);
    if (read.value !== undefined && read.value !== "") {
      return { value: read.value, source: variable };
    }
  }
  return undefined;
}

function readSkipVerify(): { value: boolean; source: string; given: string } {
  const setting = choose("", undefined, "SKIP_VERIFY");
  if (setting === undefined) return { value: false, source: "", given: "" };
  const given = `${setting.source}=${setting.value}`;
  if (TRUE_WORDS.includes(setting.value)) {
    return { value: true, source: setting.source, given };
  }
  if (FALSE_WORDS.includes(setting.value)) {
    return { value: false, source: setting.source, given };
  }
  throw new SetupError(
    `${setting.source} is '${setting.value}', which is neither true nor false: use 1, t, T, TRUE, true or True to skip verification, 0, f, F, FALSE, false or False not to`,
  );
}

function readPem(setting: Setting, what: string, marker: RegExp): string {
  const text = readFile(setting.value, what, setting.source);
  if (!marker.test(text)) {
    const block = marker === CERTIFICATE ? "certificate" : "private key";
    throw new SetupError(
      `The ${what} '${setting.value}' (from ${setting.source}) holds no PEM ${block}: give the ${what} in PEM form (a '-----BEGIN ${block.toUpperCase()}-----' block)`,
    );
  }
  const problem = pemProblem(text);
  if (problem !== undefined) {
    throw new SetupError(
      `The ${what} '${setting.value}' (from ${setting.source}) is not valid PEM: ${problem}: give a valid PEM ${what}`,
    );
  }
  return text;
}

/** The client key, which Deno can use only unencrypted. */
function readKey(setting: Setting, certSource: string): string {
  const text = readFile(setting.value, "client key", setting.source);
  if (ENCRYPTED_KEY.test(text)) {
    throw new SetupError(
      `The client key '${setting.value}' (from ${setting.source}) is encrypted, and the check cannot ask for its passphrase: give an unencrypted PEM private key matching the client certificate (${certSource}), e.g. from 'openssl pkey -in ${setting.value} -out NEW.key'`,
    );
  }
  return readPem(setting, "client key", PRIVATE_KEY);
}

function readCaDirectory(setting: Setting): string[] {
  const directory = setting.value;
  requireRead(directory, "CA directory", setting.source);
  let names: string[];
  try {
    names = [...Deno.readDirSync(directory)]
      .filter((entry) => entry.isFile || entry.isSymlink)
      .map((entry) => entry.name)
      .sort();
  } catch (error: unknown) {
    throw unreadable(directory, "CA directory", setting.source, error);
  }

  const certificates = names
    .map((name) => `${directory.replace(/\/+$/, "")}/${name}`)
    // A link to a pipe or device would block the read for ever.
    .filter((path) => isRegularFile(path))
    .map((path) => ({ path, text: readFile(path, "CA file", setting.source) }))
    // Files without a certificate (a README, a hash list) are skipped.
    .filter(({ text }) => CERTIFICATE.test(text))
    .map(({ path, text }) => checkCaFile(path, text, setting));
  if (certificates.length === 0) {
    throw new SetupError(
      `The CA directory '${directory}' (from ${setting.source}) holds no PEM certificate: put Vault's CA certificate there, or pass --cacert`,
    );
  }
  return certificates;
}

/**
 * A broken certificate file fails the whole check, as the Vault CLI refuses
 * the whole directory: skipping it could hide the very CA Vault needs.
 */
function checkCaFile(path: string, text: string, setting: Setting): string {
  const problem = pemProblem(text);
  if (problem !== undefined) {
    throw new SetupError(
      `The CA file '${path}' in the CA directory '${setting.value}' (from ${setting.source}) is not valid PEM: ${problem}: replace it with a valid PEM CA certificate or remove it (one broken file fails the check, as it fails the Vault CLI)`,
    );
  }
  return text;
}

function readFile(path: string, what: string, source: string): string {
  requireRead(path, what, source);
  try {
    // Reading a pipe or a device blocks the whole run (a synchronous read
    // stops the deadline too), so only a regular file is read.
    if (!Deno.statSync(path).isFile) {
      throw new SetupError(
        `The ${what} '${path}' (from ${source}) is not a regular file: give the path of the PEM file itself`,
      );
    }
    return Deno.readTextFileSync(path);
  } catch (error: unknown) {
    if (error instanceof SetupError) throw error;
    throw unreadable(path, what, source, error);
  }
}

/** Whether `path` leads to a regular file (following links); false if not readable. */
function isRegularFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    // Left to readFile, which names the problem.
    return true;
  }
}

function requireRead(path: string, what: string, source: string): void {
  const granted = Deno.permissions.querySync({ name: "read", path });
  if (granted.state !== "granted") {
    throw new SetupError(
      `Reading the ${what} '${path}' (from ${source}) is not allowed: run with --allow-read=${path}`,
    );
  }
}

function unreadable(
  path: string,
  what: string,
  source: string,
  error: unknown,
): SetupError {
  const why = error instanceof Deno.errors.NotFound
    ? "it does not exist"
    : error instanceof Deno.errors.PermissionDenied
    ? "this user may not read it"
    : describe(error);
  return new SetupError(
    `Cannot read the ${what} '${path}' (from ${source}): ${why}: check the path and the file's owner and mode`,
  );
}
