/**
 * Reading environment variables without ever dying of a permission error:
 * a variable the run may not read is treated as unset and noted, so that
 * `--debug` can say which `--allow-env` entry would have let it count.
 */

/** What the environment said about one variable. */
export interface Variable {
  name: string;
  value: string | undefined;
  /** True when the variable exists for the process but may not be read. */
  denied: boolean;
}

const denied: string[] = [];

/** Reads `name` if the run was granted `--allow-env` for it; never prompts. */
export function readVariable(name: string): Variable {
  const granted = Deno.permissions.querySync({ name: "env", variable: name });
  if (granted.state !== "granted") {
    if (!denied.includes(name)) denied.push(name);
    return { name, value: undefined, denied: true };
  }
  return { name, value: Deno.env.get(name), denied: false };
}

/**
 * The variables this run asked for but may not read, in the order asked.
 * Whether they are set cannot be known without the permission.
 */
export function deniedVariables(): readonly string[] {
  return denied;
}
