/** What the doctor found: one problem, why it matters and how to fix it. */

/** `error`: the VIP would not follow the active node; `warning`: a risk. */
export type Severity = "error" | "warning";

/** One finding, printed as what, why and fix. */
export interface Finding {
  severity: Severity;
  /** A short stable name, e.g. `unquoted-script`. */
  code: string;
  /** Where it was found, e.g. `/etc/keepalived/keepalived.conf:12`. */
  where?: string;
  what: string;
  why: string;
  fix: string;
}

/** Formats a finding as three lines for the operator. */
export function formatFinding(finding: Finding): string {
  const where = finding.where ? ` ${finding.where}:` : "";
  return `${finding.severity} [${finding.code}]${where} ${finding.what}
  why: ${finding.why}
  fix: ${finding.fix}`;
}
