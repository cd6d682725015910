/**
 * keepalived's configuration as a tree of statements: words, an optional
 * block of child statements, and where each came from. `include` lines are
 * followed (with `*`, `?` and `[...]` globs), `$NAME=value` definitions
 * substituted, comments (`#`, `!`) dropped.
 */

import type { HostFiles } from "./host_files.ts";

/** One word of a statement, and whether it was written in double quotes. */
export interface Word {
  text: string;
  quoted: boolean;
}

/** One statement, e.g. `script "/usr/bin/x --y"` or `vrrp_script x { }`. */
export interface Statement {
  words: Word[];
  children?: Statement[];
  file: string;
  line: number;
}

/** The parsed configuration and the files it was read from. */
export interface KeepalivedConf {
  statements: Statement[];
  files: string[];
  /** Include patterns that matched no file, with where they were. */
  unmatched: { pattern: string; where: string }[];
}

/** Reads and parses `path` and everything it includes. */
export function readKeepalivedConf(
  host: HostFiles,
  path: string,
): KeepalivedConf {
  const conf: KeepalivedConf = { statements: [], files: [], unmatched: [] };
  const tokens: Token[] = [];
  collect(host, path, conf, tokens, 0, new Map());
  conf.statements = build(tokens);
  return conf;
}

/** The first word of a statement, its keyword. */
export function keyword(statement: Statement): string {
  return statement.words[0]?.text ?? "";
}

/** The child statements with keyword `name`. */
export function childrenNamed(
  statement: { children?: Statement[] },
  name: string,
): Statement[] {
  return (statement.children ?? []).filter((child) => keyword(child) === name);
}

/** `file:line` of a statement. */
export function whereOf(statement: Statement): string {
  return `${statement.file}:${statement.line}`;
}

type Token =
  | { kind: "word"; word: Word; file: string; line: number }
  | { kind: "open" | "close" | "end"; file: string; line: number };

const MAX_INCLUDE_DEPTH = 8;

function collect(
  host: HostFiles,
  path: string,
  conf: KeepalivedConf,
  tokens: Token[],
  depth: number,
  definitions: Map<string, string>,
): void {
  const text = host.read(path);
  if (text === undefined) {
    throw new Deno.errors.NotFound(`No keepalived configuration at '${path}'`);
  }
  conf.files.push(path);

  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1;
    const text = lines[index] as string;
    // keepalived's own definitions: `$NAME=value`, used as $NAME or ${NAME}.
    const definition = /^\s*\$([A-Za-z_]\w*)=(.*)$/.exec(text);
    if (definition) {
      definitions.set(
        definition[1] as string,
        (definition[2] as string).trim(),
      );
      continue;
    }
    const words = splitLine(
      text.replace(
        /\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)/g,
        (whole, braced, bare) => definitions.get(braced ?? bare) ?? whole,
      ),
    );
    if (words[0]?.text === "include" && !words[0].quoted) {
      const pattern = words[1]?.text ?? "";
      const absolute = pattern.startsWith("/")
        ? pattern
        : `${path.slice(0, path.lastIndexOf("/") + 1)}${pattern}`;
      const matches = depth < MAX_INCLUDE_DEPTH ? glob(host, absolute) : [];
      if (matches.length === 0) {
        conf.unmatched.push({ pattern, where: `${path}:${line}` });
      }
      for (const match of matches) {
        collect(host, match, conf, tokens, depth + 1, definitions);
      }
      continue;
    }
    for (const word of words) {
      if (!word.quoted && (word.text === "{" || word.text === "}")) {
        tokens.push({
          kind: word.text === "{" ? "open" : "close",
          file: path,
          line,
        });
      } else {
        tokens.push({ kind: "word", word, file: path, line });
      }
    }
    tokens.push({ kind: "end", file: path, line });
  }
}

/** Splits a line into words: double quotes group, `#` and `!` start comments. */
function splitLine(text: string): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (/\s/.test(char)) {
      i++;
    } else if (char === "#" || char === "!") {
      break;
    } else if (char === "{" || char === "}") {
      words.push({ text: char, quoted: false });
      i++;
    } else if (char === '"') {
      const end = text.indexOf('"', i + 1);
      const stop = end === -1 ? text.length : end;
      words.push({ text: text.slice(i + 1, stop), quoted: true });
      i = stop + 1;
    } else {
      let end = i;
      while (end < text.length && !/[\s{}]/.test(text[end] as string)) end++;
      words.push({ text: text.slice(i, end), quoted: false });
      i = end;
    }
  }
  return words;
}

/** Builds statements from tokens; a `{` opens a block for the statement before it. */
function build(tokens: Token[]): Statement[] {
  const root: Statement[] = [];
  const stack: Statement[][] = [root];
  let current: Statement | undefined;
  let last: Statement | undefined;

  for (const token of tokens) {
    const level = stack[stack.length - 1] as Statement[];
    if (token.kind === "word") {
      if (!current) {
        current = { words: [], file: token.file, line: token.line };
        level.push(current);
      }
      current.words.push(token.word);
    } else if (token.kind === "open") {
      const owner = current ?? last ??
        { words: [], file: token.file, line: token.line };
      owner.children ??= [];
      stack.push(owner.children);
      current = undefined;
      last = undefined;
    } else if (token.kind === "close") {
      if (stack.length > 1) stack.pop();
      last = (stack[stack.length - 1] as Statement[]).at(-1);
      current = undefined;
    } else {
      if (current) last = current;
      current = undefined;
    }
  }
  return root;
}

/** The files matching a glob pattern of absolute path `pattern`, sorted. */
function glob(host: HostFiles, pattern: string): string[] {
  let paths = ["/"];
  for (const part of pattern.split("/").filter((part) => part !== "")) {
    const next: string[] = [];
    for (const base of paths) {
      const prefix = base.endsWith("/") ? base : base + "/";
      if (!/[*?[]/.test(part)) {
        if (host.stat(prefix + part)) next.push(prefix + part);
        continue;
      }
      const matcher = globToRegExp(part);
      for (const name of host.list(base).sort()) {
        const hidden = name.startsWith(".") && !part.startsWith(".");
        if (!hidden && matcher.test(name)) next.push(prefix + name);
      }
    }
    paths = next;
  }
  return paths.filter((path) => host.stat(path)?.isFile);
}

function globToRegExp(part: string): RegExp {
  let source = "";
  for (let i = 0; i < part.length; i++) {
    const char = part[i] as string;
    if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else if (char === "[") {
      const end = part.indexOf("]", i + 1);
      if (end === -1) source += "\\[";
      else {
        source += "[" + part.slice(i + 1, end).replace(/^!/, "^") + "]";
        i = end;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
