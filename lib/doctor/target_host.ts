/**
 * Is the target this host? keepalived runs the check on every node; a target
 * that is the VIP or another host gives every node the same answer, so the
 * VIP no longer follows the active Vault.
 */

import type { Target } from "../target.ts";
import type { Finding } from "./finding.ts";
import type { HostFiles } from "./host_files.ts";

/** How long name resolution may take before the doctor gives up on it. */
const RESOLVE_BUDGET_MS = 2000;

/**
 * Returns findings about where `target` points, and whether it is safe to
 * ask it (only this host is asked).
 */
export async function checkTargetHost(
  target: Target,
  vips: string[],
  host: HostFiles,
): Promise<{ findings: Finding[]; local: boolean }> {
  const name = target.hostname.toLowerCase();
  const where = `target '${target.address}' (from ${target.source})`;
  if (name === "localhost" || name.endsWith(".localhost")) {
    return { findings: [], local: true };
  }

  const resolved = isIp(name)
    ? { addresses: [name] }
    : await resolve(name, host);
  if ("problem" in resolved) {
    return {
      findings: [{
        severity: "warning",
        code: "target-unresolved",
        what:
          `${where}: cannot tell whether '${name}' is this host: ${resolved.problem}`,
        why:
          "a name that resolves to the VIP or another host gives every node the same answer",
        fix:
          "use 127.0.0.1 (with --tls-server-name for the certificate) or this host's own address",
      }],
      local: false,
    };
  }

  const vip = resolved.addresses.find((address) => vips.includes(address));
  if (vip) {
    return {
      findings: [{
        severity: "error",
        code: "target-is-vip",
        what: `${where} is the VIP ${vip}`,
        why:
          "every node asks whichever Vault holds the VIP and gets the same answer, so the VIP never follows the active node",
        fix:
          "point the check at this node's own Vault, e.g. https://127.0.0.1:8200",
      }],
      local: false,
    };
  }

  const own = ownAddresses();
  if ("problem" in own) {
    const loopback = resolved.addresses.every(isLoopback);
    return {
      findings: loopback ? [] : [{
        severity: "warning",
        code: "target-unchecked",
        what:
          `${where}: cannot compare with this host's addresses: ${own.problem}`,
        why: "a target that is not this host gives every node the same answer",
        fix: "run the doctor with --allow-sys=networkInterfaces",
      }],
      local: loopback,
    };
  }
  const foreign = resolved.addresses.filter((address) =>
    !isLoopback(address) && !own.addresses.has(address)
  );
  if (foreign.length === 0) return { findings: [], local: true };
  return {
    findings: [{
      severity: "error",
      code: "target-not-this-host",
      what: `${where} is ${foreign.join(", ")}, not an address of this host`,
      why:
        "every node asks the same Vault and gets the same answer, so the VIP does not follow the active node",
      fix:
        "point the check at this node's own Vault, e.g. https://127.0.0.1:8200",
    }],
    local: false,
  };
}

function isIp(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(":");
}

function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

function ownAddresses():
  | { addresses: Set<string> }
  | { problem: string } {
  const granted = Deno.permissions.querySync({
    name: "sys",
    kind: "networkInterfaces",
  });
  if (granted.state !== "granted") {
    return { problem: "--allow-sys=networkInterfaces was not given" };
  }
  return {
    addresses: new Set(
      Deno.networkInterfaces().map((entry) => entry.address.toLowerCase()),
    ),
  };
}

/** Resolves a name through the host's /etc/hosts, then DNS. */
async function resolve(
  name: string,
  host: HostFiles,
): Promise<{ addresses: string[] } | { problem: string }> {
  const fromHosts = (host.read("/etc/hosts") ?? "").split("\n")
    .map((line) => line.replace(/#.*/, "").trim().split(/\s+/))
    .filter((fields) =>
      fields.slice(1).some((field) => field.toLowerCase() === name)
    )
    .map((fields) => (fields[0] as string).toLowerCase());
  if (fromHosts.length > 0) return { addresses: fromHosts };

  const budget = AbortSignal.timeout(RESOLVE_BUDGET_MS);
  const lookups = (["A", "AAAA"] as const).map((type) =>
    Deno.resolveDns(name, type, { signal: budget }).catch(() => [] as string[])
  );
  try {
    const addresses = (await Promise.all(lookups)).flat();
    if (addresses.length === 0) {
      return {
        problem: "it is not in /etc/hosts and DNS has no address for it",
      };
    }
    return { addresses: addresses.map((address) => address.toLowerCase()) };
  } catch (error: unknown) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}
