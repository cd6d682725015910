/**
 * The failures that stop a run before Vault is asked. Each message is one
 * line an operator can act on: what was wrong and what to do.
 */

/** A mistake on the command line; the program exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * The environment or a file the check depends on is missing or wrong (the
 * target is unset, a permission was not granted, a certificate cannot be
 * read); the program exits 1 because it cannot tell whether Vault is active.
 */
export class SetupError extends Error {
  override name = "SetupError";
}
