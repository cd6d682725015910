/**
 * Certificates made by the tests with openssl, in a fresh temporary
 * directory: a CA, server certificates for a name and for 127.0.0.1, a
 * client certificate, an expired server certificate, and a server
 * certificate from an unrelated CA.
 */

/** A certificate file and its key file. */
export interface Pair {
  readonly cert: string;
  readonly key: string;
}

/** Paths of everything made; all PEM. */
export interface Certificates {
  readonly dir: string;
  /** The CA that signed every pair below except `stranger`. */
  readonly ca: string;
  /** A directory holding the CA certificate (and a file that is not one). */
  readonly caDir: string;
  /** A server certificate for the DNS name {@linkcode SERVER_NAME} only. */
  readonly named: Pair;
  /** A server certificate for IP address 127.0.0.1. */
  readonly loopback: Pair;
  /** A client certificate. */
  readonly client: Pair;
  /** A server certificate for 127.0.0.1 that expired in 2020. */
  readonly expired: Pair;
  /** A server certificate for 127.0.0.1 signed by an unrelated CA. */
  readonly stranger: Pair;
  /** Removes the directory. */
  remove(): Promise<void>;
}

/** The DNS name in {@linkcode Certificates.named}. */
export const SERVER_NAME = "vault.test";

/** True when openssl can be run here. */
export function haveOpenssl(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Makes every certificate; takes a few hundred milliseconds. */
export async function makeCertificates(): Promise<Certificates> {
  const dir = await Deno.makeTempDir({ prefix: "vault-ha-tls-" });
  const at = (name: string) => `${dir}/${name}`;

  await selfSigned(at("ca"), "Test CA");
  await selfSigned(at("other-ca"), "Unrelated CA");
  await signed(at("named"), at("ca"), "server", `DNS:${SERVER_NAME}`);
  await signed(at("loopback"), at("ca"), "server", "IP:127.0.0.1");
  await signed(at("client"), at("ca"), "client");
  await signed(at("stranger"), at("other-ca"), "server", "IP:127.0.0.1");
  await expired(dir, at("expired"), at("ca"));

  const caDir = at("ca.d");
  await Deno.mkdir(caDir);
  await Deno.copyFile(at("ca.pem"), `${caDir}/ca.pem`);
  await Deno.writeTextFile(`${caDir}/README`, "not a certificate\n");

  const pair = (name: string) => ({
    cert: at(`${name}.pem`),
    key: at(`${name}.key`),
  });
  return {
    dir,
    ca: at("ca.pem"),
    caDir,
    named: pair("named"),
    loopback: pair("loopback"),
    client: pair("client"),
    expired: pair("expired"),
    stranger: pair("stranger"),
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

async function openssl(args: string[], cwd?: string): Promise<void> {
  const output = await new Deno.Command("openssl", {
    args,
    ...(cwd === undefined ? {} : { cwd }),
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
}

const KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

async function selfSigned(base: string, name: string): Promise<void> {
  await openssl([
    "req",
    "-x509",
    ...KEY,
    "-keyout",
    `${base}.key`,
    "-out",
    `${base}.pem`,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]); // deno-fmt-ignore
}

async function request(base: string, name: string): Promise<void> {
  await openssl([
    "req",
    "-new",
    ...KEY,
    "-keyout",
    `${base}.key`,
    "-out",
    `${base}.csr`,
    "-subj",
    `/CN=${name}`,
  ]); // deno-fmt-ignore
}

async function extensions(
  base: string,
  use: "server" | "client",
  altName?: string,
): Promise<string> {
  const lines = [
    "basicConstraints=CA:FALSE",
    `extendedKeyUsage=${use === "server" ? "serverAuth" : "clientAuth"}`,
  ];
  if (altName) lines.push(`subjectAltName=${altName}`);
  await Deno.writeTextFile(`${base}.ext`, lines.join("\n") + "\n");
  return `${base}.ext`;
}

async function signed(
  base: string,
  ca: string,
  use: "server" | "client",
  altName?: string,
): Promise<void> {
  await request(base, use);
  await openssl([
    "x509",
    "-req",
    "-in",
    `${base}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-out",
    `${base}.pem`,
    "-days",
    "2",
    "-extfile",
    await extensions(base, use, altName),
  ]); // deno-fmt-ignore
}

/** `openssl x509` cannot back-date; `openssl ca` can, with a tiny database. */
async function expired(dir: string, base: string, ca: string): Promise<void> {
  await request(base, "expired");
  await Deno.writeTextFile(`${dir}/index.txt`, "");
  await Deno.writeTextFile(`${dir}/serial`, "1000\n");
  await Deno.writeTextFile(
    `${dir}/ca.cnf`,
    [
      "[ca]",
      "default_ca = test",
      "[test]",
      `dir = ${dir}`,
      "database = $dir/index.txt",
      "serial = $dir/serial",
      "new_certs_dir = $dir",
      "default_md = sha256",
      "policy = anything",
      "[anything]",
      "commonName = supplied",
      "",
    ].join("\n"),
  );
  await openssl([
    "ca",
    "-batch",
    "-config",
    `${dir}/ca.cnf`,
    "-cert",
    `${ca}.pem`,
    "-keyfile",
    `${ca}.key`,
    "-in",
    `${base}.csr`,
    "-out",
    `${base}.pem`,
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200102000000Z",
    "-notext",
    "-extfile",
    await extensions(base, "server", "IP:127.0.0.1"),
  ], dir); // deno-fmt-ignore
}
