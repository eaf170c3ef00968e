// The simple commands of a shell script, as far as the Dockerfile rules need them: each command's program (after
// `NAME=value` prefixes and wrappers such as sudo or env), its words with quotes removed, where it starts, and which
// command pipes into it. Commands inside $(…), `…` and <(…) are listed too, marked nested. Not a full shell parser:
// it does not expand anything, and a here-document's body is skipped, not read as commands.
import path from "node:path";

export interface ShellCommand {
  program: string;
  args: string[];
  /** `NAME=value` words before the program (`DEBIAN_FRONTEND=noninteractive apt-get …`). */
  assignments: string[];
  /** Offset in the script where the command's first word starts. */
  offset: number;
  /** Index (in the returned list) of the command whose output this one reads: `curl … | sh`. */
  pipeFrom?: number;
  nested: boolean;
}

interface Word {
  text: string;
  offset: number;
  /** Whether any part of it was quoted (a quoted `if` is not a keyword). */
  quoted: boolean;
}

const NO_OP_WORDS = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "do",
  "done",
  "while",
  "until",
  "!",
  "{",
  "}",
]);
/** A header (`for x in a b`, `case $x in`), not a command. */
const HEADER_WORDS = new Set(["for", "case", "select", "esac", "function"]);
const WRAPPERS = new Set(["sudo", "env", "command", "exec", "nohup", "time", "nice", "doas"]);
/** Options of the wrappers that take a value (`sudo -u app`, `nice -n 5`, `env -u NAME`). */
const WRAPPER_OPTIONS_WITH_VALUE: Record<string, Set<string>> = {
  sudo: new Set(["-u", "-g", "-h", "-p", "-C", "-U", "-r", "-t", "-T", "-D"]),
  doas: new Set(["-u", "-C"]),
  env: new Set(["-u", "-C", "-S"]),
  nice: new Set(["-n"]),
};

export function shellCommands(script: string): ShellCommand[] {
  const out: ShellCommand[] = [];
  scan(script, 0, script.length, false, out);
  return out;
}

/** Scans text[start, end) (a whole script or the inside of a substitution) and appends its commands to out. */
function scan(text: string, start: number, end: number, nested: boolean, out: ShellCommand[]): void {
  let words: Word[] = [];
  let buffer = "";
  let wordStart = -1;
  let quoted = false;
  let redirectTarget = false;
  let pipeFrom: number | undefined;
  const heredocs: { delimiter: string; stripTabs: boolean }[] = [];
  let heredocDelimiterNext: { stripTabs: boolean } | null = null;

  const endWord = () => {
    if (wordStart < 0) return;
    const word = { text: buffer, offset: wordStart, quoted };
    if (heredocDelimiterNext) {
      heredocs.push({ delimiter: word.text, stripTabs: heredocDelimiterNext.stripTabs });
      heredocDelimiterNext = null;
      redirectTarget = false;
    } else if (redirectTarget) {
      redirectTarget = false;
    } else {
      words.push(word);
    }
    buffer = "";
    wordStart = -1;
    quoted = false;
  };
  const startWord = (at: number) => {
    if (wordStart < 0) wordStart = at;
  };
  const endCommand = (operator: string) => {
    endWord();
    const index = pushCommand(words, nested, pipeFrom, out);
    words = [];
    pipeFrom = operator === "|" || operator === "|&" ? index : undefined;
  };

  let i = start;
  while (i < end) {
    const c = text[i]!;
    if (c === "\\") {
      if (text[i + 1] === "\n") {
        i += 2;
        continue;
      }
      startWord(i);
      buffer += text[i + 1] ?? "";
      i += 2;
      continue;
    }
    if (c === "'") {
      startWord(i);
      quoted = true;
      const close = text.indexOf("'", i + 1);
      const stop = close < 0 || close >= end ? end : close;
      buffer += text.slice(i + 1, stop);
      i = stop + 1;
      continue;
    }
    if (c === '"') {
      startWord(i);
      quoted = true;
      i = doubleQuoted(text, i + 1, end, out, (s) => {
        buffer += s;
      });
      continue;
    }
    if (c === "`") {
      startWord(i);
      const close = findBacktick(text, i + 1, end);
      scan(text, i + 1, close, true, out);
      buffer += text.slice(i, Math.min(close + 1, end));
      i = close + 1;
      continue;
    }
    if (c === "$" && text[i + 1] === "(") {
      startWord(i);
      const arithmetic = text[i + 2] === "(";
      const close = matchParen(text, i + 1, end);
      if (!arithmetic) scan(text, i + 2, close, true, out);
      buffer += text.slice(i, Math.min(close + 1, end));
      i = close + 1;
      continue;
    }
    if (c === "$" && text[i + 1] === "{") {
      startWord(i);
      const close = matchBrace(text, i + 1, end);
      buffer += text.slice(i, Math.min(close + 1, end));
      i = close + 1;
      continue;
    }
    if ((c === "<" || c === ">") && text[i + 1] === "(") {
      // Process substitution: a word whose inside is commands.
      startWord(i);
      const close = matchParen(text, i + 1, end);
      scan(text, i + 2, close, true, out);
      buffer += text.slice(i, Math.min(close + 1, end));
      i = close + 1;
      continue;
    }
    if (c === "#" && wordStart < 0) {
      const newline = text.indexOf("\n", i);
      i = newline < 0 || newline >= end ? end : newline;
      continue;
    }
    if (c === " " || c === "\t") {
      endWord();
      i++;
      continue;
    }
    if (c === "\n") {
      endCommand("\n");
      i++;
      // Here-documents start on the next line: skip their bodies.
      while (heredocs.length > 0) {
        const { delimiter, stripTabs } = heredocs.shift()!;
        i = skipHeredoc(text, i, end, delimiter, stripTabs);
      }
      continue;
    }
    if (c === "<" || c === ">" || (c === "&" && text[i + 1] === ">")) {
      // A redirection: a pending all-digit word is its file descriptor (2>), the next word its target.
      if (wordStart >= 0 && /^\d+$/.test(buffer) && !quoted) {
        buffer = "";
        wordStart = -1;
      } else {
        endWord();
      }
      let j = i + 1;
      if (c === "<" && text[j] === "<" && text[j + 1] !== "<") {
        j++;
        const stripTabs = text[j] === "-";
        if (stripTabs) j++;
        heredocDelimiterNext = { stripTabs };
      } else {
        while (j < end && /[<>&|-]/.test(text[j]!) && j - i < 3) j++;
        redirectTarget = true;
      }
      i = j;
      continue;
    }
    if (c === ";" || c === "&" || c === "|" || c === "(" || c === ")") {
      let operator = c;
      if ((c === "&" || c === "|" || c === ";") && text[i + 1] === c) operator = c + c;
      else if (c === "|" && text[i + 1] === "&") operator = "|&";
      endCommand(operator);
      i += operator.length;
      continue;
    }
    startWord(i);
    buffer += c;
    i++;
  }
  endCommand("");
}

function pushCommand(words: Word[], nested: boolean, pipeFrom: number | undefined, out: ShellCommand[]) {
  let rest = words;
  while (rest.length > 0 && !rest[0]!.quoted && NO_OP_WORDS.has(rest[0]!.text)) rest = rest.slice(1);
  if (rest.length === 0 || (!rest[0]!.quoted && HEADER_WORDS.has(rest[0]!.text))) return undefined;
  const offset = rest[0]!.offset;
  const assignments: string[] = [];
  while (rest.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0]!.text)) {
    assignments.push(rest[0]!.text);
    rest = rest.slice(1);
  }
  // Wrappers run the command they are given: `sudo -E bash -`, `env -i PATH=… sh`.
  while (rest.length > 0 && WRAPPERS.has(path.posix.basename(rest[0]!.text))) {
    const wrapper = path.posix.basename(rest[0]!.text);
    rest = rest.slice(1);
    const withValue = WRAPPER_OPTIONS_WITH_VALUE[wrapper];
    while (rest.length > 0) {
      const word = rest[0]!.text;
      if (word === "--") {
        rest = rest.slice(1);
        break;
      }
      if (word.startsWith("-")) {
        rest = rest.slice(withValue?.has(word) ? 2 : 1);
      } else if (wrapper === "env" && /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) {
        assignments.push(word);
        rest = rest.slice(1);
      } else {
        break;
      }
    }
  }
  if (rest.length === 0) return undefined;
  out.push({
    program: path.posix.basename(rest[0]!.text),
    args: rest.slice(1).map((w) => w.text),
    assignments,
    offset,
    ...(pipeFrom !== undefined ? { pipeFrom } : {}),
    nested,
  });
  return out.length - 1;
}

/** Reads a double-quoted string from `i` (after the quote); returns the index after the closing quote. */
function doubleQuoted(
  text: string,
  i: number,
  end: number,
  out: ShellCommand[],
  append: (s: string) => void,
): number {
  while (i < end) {
    const c = text[i]!;
    if (c === '"') return i + 1;
    if (c === "\\" && i + 1 < end) {
      const next = text[i + 1]!;
      if (next === "\n") {
        i += 2;
        continue;
      }
      append('"\\$`'.includes(next) ? next : c + next);
      i += 2;
      continue;
    }
    if (c === "$" && text[i + 1] === "(") {
      const close = matchParen(text, i + 1, end);
      if (text[i + 2] !== "(") scan(text, i + 2, close, true, out);
      append(text.slice(i, Math.min(close + 1, end)));
      i = close + 1;
      continue;
    }
    if (c === "`") {
      const close = findBacktick(text, i + 1, end);
      scan(text, i + 1, close, true, out);
      append(text.slice(i, Math.min(close + 1, end)));
      i = close + 1;
      continue;
    }
    append(c);
    i++;
  }
  return end;
}

/** Index of the `)` matching the `(` at `open`, skipping quotes and nested parentheses; `end` when unmatched. */
function matchParen(text: string, open: number, end: number): number {
  let depth = 0;
  for (let i = open; i < end; i++) {
    const c = text[i]!;
    if (c === "\\") {
      i++;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0 || close >= end) return end;
      i = close;
    } else if (c === '"') {
      i = skipDoubleQuoted(text, i + 1, end) - 1;
    } else if (c === "(") {
      depth++;
    } else if (c === ")") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return end;
}

function matchBrace(text: string, open: number, end: number): number {
  let depth = 0;
  for (let i = open; i < end; i++) {
    const c = text[i]!;
    if (c === "\\") i++;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i;
  }
  return end;
}

function skipDoubleQuoted(text: string, i: number, end: number): number {
  while (i < end) {
    const c = text[i]!;
    if (c === "\\") i += 2;
    else if (c === '"') return i + 1;
    else if (c === "$" && text[i + 1] === "(") i = matchParen(text, i + 1, end) + 1;
    else i++;
  }
  return end;
}

function findBacktick(text: string, i: number, end: number): number {
  for (; i < end; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === "`") return i;
  }
  return end;
}

/** Skips a here-document body starting at `i` up to and including its delimiter line. */
function skipHeredoc(text: string, i: number, end: number, delimiter: string, stripTabs: boolean): number {
  while (i < end) {
    const newline = text.indexOf("\n", i);
    const lineEnd = newline < 0 || newline >= end ? end : newline;
    const line = text.slice(i, lineEnd);
    i = lineEnd + 1;
    if ((stripTabs ? line.replace(/^\t+/, "") : line) === delimiter) break;
  }
  return Math.min(i, end);
}
