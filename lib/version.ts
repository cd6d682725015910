/** The program's version, printed by `--version` and in `--json`. */
export const VERSION = "0.1.0";

/** The name the program reports itself as. */
export const PROGRAM = "vault-ha-active-node";
