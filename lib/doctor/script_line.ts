/**
 * A `vrrp_script`'s command line as keepalived runs it: split like a shell
 * (quotes and backslashes, no expansion), and which part of it is this
 * program and its arguments.
 */

/** The name that marks a command as this check. */
const PROGRAM_MARK = "vault-ha-active-node";

/** Splits a command like a shell would, without any expansion. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const char = command[i] as string;
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === "\\" && quote === '"' && i + 1 < command.length) {
        word = (word ?? "") + command[++i];
      } else word = (word ?? "") + char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (char === "\\" && i + 1 < command.length) {
      word = (word ?? "") + command[++i];
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? "") + char;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Where this program sits in a command, and what it is given. */
export interface ProgramCall {
  /** The word that runs it: the binary, wrapper or script file. */
  program: string;
  /** The arguments after it. */
  args: string[];
  /**
   * Words before it that keepalived runs instead (an interpreter such as
   * `deno run ...`); empty when the program is the first word.
   */
  runner: string[];
}

/** Finds this program in `words`, or undefined when it is not there. */
export function findProgram(words: string[]): ProgramCall | undefined {
  // A runner's flags may name the program's directory too
  // (`--allow-read=/opt/vault-ha-active-node`): only a word that is not a
  // flag can be the program.
  const index = words.findIndex((word) =>
    !word.startsWith("-") &&
    word.split("/").some((part) => part.startsWith(PROGRAM_MARK))
  );
  if (index === -1) return undefined;
  return {
    program: words[index] as string,
    args: words.slice(index + 1),
    runner: words.slice(0, index),
  };
}
