/**
 * The test network: one network namespace per Vault host, each joined to a
 * bridge that lives in a namespace of its own. Every address is from
 * 198.51.100.0/24 and exists only inside these namespaces; the root
 * namespace's links, addresses and routes are never touched.
 */

import { attempt, run } from "./command.ts";

/** The virtual address keepalived moves to the active Vault's host. */
export const VIP = "198.51.100.100";

/** The prefix length of every test address. */
export const PREFIX = 24;

/** The interface name of each host's link to the bridge. */
export const HOST_INTERFACE = "eth0";

/** One simulated Vault host. */
export interface Host {
  /** `a`, `b`, `c`: also its bridge port's suffix. */
  readonly name: string;
  /** Its network namespace. */
  readonly namespace: string;
  /** Its own address on the test network. */
  readonly address: string;
}

/** The namespaces of one test run and the hosts in them. */
export interface Network {
  readonly bridgeNamespace: string;
  readonly hosts: readonly Host[];
}

/** The start of every namespace name this test creates. */
export const NAMESPACE_PREFIX = "vha-e2e-";

/** The namespace names of a run: unique per process and per network. */
export function namespacePrefix(run: string): string {
  return `${NAMESPACE_PREFIX}${Deno.pid}-${run}-`;
}

/**
 * Creates the bridge namespace and `count` host namespaces with `lo` up and
 * one address each. Undoes what it made if a step fails.
 */
export async function createNetwork(
  run: string,
  count: number,
): Promise<Network> {
  const prefix = namespacePrefix(run);
  const network: Network = {
    bridgeNamespace: `${prefix}br`,
    hosts: Array.from({ length: count }, (_, index) => {
      const name = String.fromCharCode(97 + index);
      return {
        name,
        namespace: `${prefix}${name}`,
        address: `198.51.100.${11 + index}`,
      };
    }),
  };
  try {
    await build(network);
  } catch (error: unknown) {
    await deleteNetwork(network);
    throw error;
  }
  return network;
}

async function build(network: Network): Promise<void> {
  const bridge = network.bridgeNamespace;
  await ip(["netns", "add", bridge]);
  await ip(["-n", bridge, "link", "add", "br0", "type", "bridge"]);
  await ip(["-n", bridge, "link", "set", "br0", "up"]);

  for (const host of network.hosts) {
    const port = portName(host);
    await ip(["netns", "add", host.namespace]);
    await ip([
      ...["-n", bridge, "link", "add", port, "type", "veth"],
      ...["peer", "name", HOST_INTERFACE, "netns", host.namespace],
    ]);
    await ip(["-n", bridge, "link", "set", port, "master", "br0", "up"]);
    await ip(["-n", host.namespace, "link", "set", "lo", "up"]);
    await ip(["-n", host.namespace, "link", "set", HOST_INTERFACE, "up"]);
    await ip([
      ...["-n", host.namespace, "addr", "add", `${host.address}/${PREFIX}`],
      ...["dev", HOST_INTERFACE],
    ]);
  }
}

/** Deletes every namespace of `network` that exists; never throws. */
export async function deleteNetwork(network: Network): Promise<string[]> {
  const problems: string[] = [];
  const names = [
    ...network.hosts.map((host) => host.namespace),
    network.bridgeNamespace,
  ];
  const existing = await listNamespaces();
  for (const name of names) {
    if (!existing.includes(name)) continue;
    const deleted = await attempt("ip", ["netns", "delete", name]);
    if (deleted.code !== 0) {
      problems.push(`Deleting namespace '${name}' failed: '${deleted.stderr}'`);
    }
  }
  return problems;
}

/** The names of every network namespace on the machine. */
export async function listNamespaces(): Promise<string[]> {
  const listed = await run("ip", ["netns", "list"]);
  return listed.split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name !== "");
}

/** Whether the VIP is on `host`'s interface right now. */
export async function holdsVip(host: Host): Promise<boolean> {
  const shown = await run("ip", [
    ...["-n", host.namespace, "-o", "-4", "addr", "show"],
    ...["dev", HOST_INTERFACE],
  ]);
  return shown.includes(` ${VIP}/`);
}

/**
 * Stops (`blocked`) or restores forwarding between `host` and the bridge,
 * without taking either link down: keepalived on `host` keeps seeing a
 * working interface but hears no adverts and its own reach nobody.
 */
export async function setIsolated(
  network: Network,
  host: Host,
  blocked: boolean,
): Promise<void> {
  // Bridge port states: 3 forwarding, 4 blocking; settable without STP.
  await run("bridge", [
    ...["-n", network.bridgeNamespace, "link", "set"],
    ...["dev", portName(host), "state", blocked ? "4" : "3"],
  ]);
}

function portName(host: Host): string {
  return `port-${host.name}`;
}

async function ip(args: readonly string[]): Promise<void> {
  await run("ip", args);
}
