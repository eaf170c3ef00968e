// JSON.parse, with its error at a line and column: Node 20's messages often name no position ("Unexpected token '}',
// "…" is not valid JSON"), so on failure a small scanner walks the text again to find where it stops being JSON.

/** A file's content is not what it should be: a sentence with the line (and column), never a stack. */
export class TextError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = "TextError";
  }
}

/** Maps character offsets of a text to 1-based line numbers. */
export function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

/** JSON.parse; a syntax error becomes a TextError "<what> is not valid JSON at line L, column C: <what was wrong>". */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const found = locateJsonError(text);
    if (!found) throw new TextError(`${what} is not valid JSON: ${(error as Error).message}`);
    const line = lineIndex(text)(found.offset);
    const column = found.offset - text.lastIndexOf("\n", found.offset - 1);
    throw new TextError(
      `${what} is not valid JSON at line ${line}, column ${column}: ${found.problem}`,
      line,
      column,
    );
  }
}

/** Where and why the text stops being JSON; null if the scanner finds it valid (then JSON.parse's message stands). */
export function locateJsonError(text: string): { offset: number; problem: string } | null {
  let i = 0;
  const stack: ("{" | "[")[] = [];
  const fail = (problem: string) => ({ offset: Math.min(i, text.length), problem });
  const skipSpace = () => {
    while (i < text.length && " \t\r\n".includes(text[i]!)) i++;
  };
  const describe = () => (i >= text.length ? "the text ends" : `unexpected ${JSON.stringify(text[i])}`);
  const readString = (): string | null => {
    i++; // opening quote
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return null;
      }
      if (c === "\\") {
        const next = text[i + 1];
        if (next === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return "a \\u escape needs four hex digits";
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else return "an invalid escape in a string";
      } else if (c < " ") return "a control character (a raw line break?) inside a string";
      else i++;
    }
    return "a string is not closed";
  };
  // value: what is expected next. after: a value ended, so a comma or a closing bracket may follow.
  let expect: "value" | "key" | "after" = "value";
  skipSpace();
  while (true) {
    skipSpace();
    if (expect === "after") {
      const top = stack.at(-1);
      if (!top) return i >= text.length ? null : fail(`${describe()} after the end of the JSON value`);
      const c = text[i];
      if (c === ",") {
        const comma = i++;
        expect = top === "{" ? "key" : "value";
        skipSpace();
        if (text[i] === "}" || text[i] === "]")
          return { offset: comma, problem: "a trailing comma before the closing bracket" };
        continue;
      }
      if ((c === "}" && top === "{") || (c === "]" && top === "[")) {
        i++;
        stack.pop();
        continue;
      }
      return fail(`${describe()}: expected ',' or '${top === "{" ? "}" : "]"}'`);
    }
    if (expect === "key") {
      if (text[i] !== '"') return fail(`${describe()}: expected a property name in double quotes`);
      const problem = readString();
      if (problem) return fail(problem);
      skipSpace();
      if (text[i] !== ":") return fail(`${describe()}: expected ':' after the property name`);
      i++;
      expect = "value";
      continue;
    }
    const c = text[i];
    if (c === "{" || c === "[") {
      stack.push(c);
      i++;
      skipSpace();
      const close = c === "{" ? "}" : "]";
      if (text[i] === close) {
        i++;
        stack.pop();
        expect = "after";
      } else expect = c === "{" ? "key" : "value";
      continue;
    }
    if (c === '"') {
      const problem = readString();
      if (problem) return fail(problem);
      expect = "after";
      continue;
    }
    const literal = /^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)/.exec(
      text.slice(i, i + 400),
    );
    if (!literal) return fail(`${describe()}: expected a value`);
    i += literal[0].length;
    expect = "after";
  }
}
