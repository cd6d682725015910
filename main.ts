/**
 * vault-ha-active-node: exits 0 only when the local Vault says this node is
 * the active HA node. See README.md.
 */

import { main } from "./lib/cli.ts";
import { say } from "./lib/report.ts";
import { describe } from "./lib/probe.ts";

let status = 1;
try {
  status = await main(Deno.args);
} catch (error: unknown) {
  // A bug must still end in one line and "not active", never a stack trace.
  say(`internal error, exiting not active: ${describe(error)}`);
}
Deno.exit(status);
