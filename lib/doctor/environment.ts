/**
 * The environment keepalived gives the script: what its environment files
 * set (`/etc/default/keepalived` on Debian, `/etc/sysconfig/keepalived` on
 * Red Hat, both read by the unit's `EnvironmentFile=`), not the shell's.
 */

import type { HostFiles } from "./host_files.ts";

/** The environment files keepalived's packaged units read. */
export const DEFAULT_ENV_FILES = [
  "/etc/default/keepalived",
  "/etc/sysconfig/keepalived",
];

/** The variables set and the files they were read from. */
export interface ScriptEnvironment {
  variables: Map<string, { value: string; file: string }>;
  files: string[];
}

/**
 * Reads `paths` in order, a later file winning; a missing file is skipped
 * (like `EnvironmentFile=-...`), unless it was named by the operator.
 */
export function readEnvironment(
  host: HostFiles,
  paths: string[],
  named: boolean,
): ScriptEnvironment {
  // TODO: read Environment= lines of keepalived.service and its drop-ins;
  // today only environment files are read (give them with --env-file).
  const environment: ScriptEnvironment = { variables: new Map(), files: [] };
  for (const path of paths) {
    const text = host.read(path);
    if (text === undefined) {
      if (named) {
        throw new Deno.errors.NotFound(`No environment file at '${path}'`);
      }
      continue;
    }
    environment.files.push(path);
    for (const [name, value] of parseAssignments(text)) {
      environment.variables.set(name, { value, file: path });
    }
  }
  return environment;
}

/**
 * Parses `NAME=value` lines as both shell files and systemd environment
 * files write them: `export` allowed, one level of single or double quotes
 * removed, `#` comments skipped. No expansion.
 */
function parseAssignments(text: string): [string, string][] {
  const assignments: [string, string][] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim().replace(/^export\s+/, "");
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    let value = (match[2] as string).trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote)) {
      value = value.slice(1, -1);
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    assignments.push([match[1] as string, value]);
  }
  return assignments;
}
