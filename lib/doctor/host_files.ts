/**
 * The files the doctor reads, under a root directory (`/` normally, or a
 * copy of a host's files given with `--root`). Paths are shown as the host
 * sees them, without the root.
 */

/** Reads a host's files under `root`. */
export class HostFiles {
  constructor(readonly root: string) {}

  /** The real path of the host's `path`. */
  real(path: string): string {
    return this.root === "/" ? path : this.root.replace(/\/+$/, "") + path;
  }

  /** The text of `path`, or undefined when it does not exist. */
  read(path: string): string | undefined {
    try {
      return Deno.readTextFileSync(this.real(path));
    } catch (error: unknown) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  /** The entry names of directory `path`; empty when it does not exist. */
  list(path: string): string[] {
    try {
      return [...Deno.readDirSync(this.real(path))].map((entry) => entry.name);
    } catch (error: unknown) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
  }

  /** What `stat` says about `path`, or undefined when it does not exist. */
  stat(path: string): Deno.FileInfo | undefined {
    try {
      return Deno.statSync(this.real(path));
    } catch (error: unknown) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      if (error instanceof Deno.errors.NotADirectory) return undefined;
      throw error;
    }
  }
}
