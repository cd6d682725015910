/**
 * Checking PEM text the way Deno's TLS reads it, before any connection:
 * Deno refuses a whole CA list, client certificate or key for one broken
 * block, and says so without naming the file. Loaded only for `https://`
 * targets.
 */

/** The block labels Deno decodes; blocks with other labels are skipped. */
const DECODED = new Set([
  "CERTIFICATE",
  "PRIVATE KEY",
  "RSA PRIVATE KEY",
  "EC PRIVATE KEY",
  "PUBLIC KEY",
  "X509 CRL",
  "CERTIFICATE REQUEST",
]);

const BASE64 =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * What is wrong with the first broken PEM block of `text`, as a clause
 * naming its line ("the 'CERTIFICATE' block from line 3 is not valid
 * base64"), or undefined when every block would load. Text outside the
 * blocks is ignored, as Deno ignores it.
 */
export function pemProblem(text: string): string | undefined {
  let open: { label: string; line: number; body: string } | undefined;
  const lines = text.split("\n");
  for (const [index, line] of lines.entries()) {
    const number = index + 1;
    if (line.startsWith("-----BEGIN ")) {
      const label = /^-----BEGIN ([^-]*)-----[\r ]*$/.exec(line)?.[1];
      if (label === undefined) {
        return `line ${number} is not a whole '-----BEGIN ...-----' line`;
      }
      open = { label, line: number, body: "" };
      continue;
    }
    if (open === undefined) continue;
    if (!line.startsWith(`-----END ${open.label}-----`)) {
      open.body += line.trim();
      continue;
    }
    const problem = DECODED.has(open.label) ? blockProblem(open) : undefined;
    if (problem !== undefined) return problem;
    open = undefined;
  }
  return open === undefined
    ? undefined
    : `the '${open.label}' block from line ${open.line} has no '-----END ${open.label}-----' line`;
}

function blockProblem(
  block: { label: string; line: number; body: string },
): string | undefined {
  const where = `the '${block.label}' block from line ${block.line}`;
  if (!BASE64.test(block.body)) return `${where} is not valid base64`;
  // A certificate that decodes but is cut short or padded fails only in
  // the handshake, where it reads as a fault of Vault's certificate.
  if (block.label === "CERTIFICATE" && !isWholeDer(atob(block.body))) {
    return `${where} is not one whole certificate`;
  }
  return undefined;
}

/** Whether `bytes` (one char per byte) is exactly one DER SEQUENCE. */
function isWholeDer(bytes: string): boolean {
  if (bytes.charCodeAt(0) !== 0x30 || bytes.length < 2) return false;
  const first = bytes.charCodeAt(1);
  if (first < 0x80) return 2 + first === bytes.length;
  const count = first & 0x7f;
  if (count === 0 || count > 4) return false;
  let length = 0;
  for (let i = 0; i < count; i++) {
    length = length * 256 + bytes.charCodeAt(2 + i);
  }
  return 2 + count + length === bytes.length;
}
