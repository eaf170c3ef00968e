// PromQL string literals as Prometheus' lexer reads them: "…" and '…' take Go escapes (only the opening quote may be
// escaped, and \d is an error, not a regex class), `…` is raw. Lezer's grammar accepts any escape and a missing
// closing quote, so both are checked here, with the offset of what is wrong.

export interface StringValue {
  value: string;
  /** offsets[i] = offset within the literal of the source text that produced value[i]. */
  offsets: number[];
}

export interface StringProblem {
  /** Offset within the literal (0 = the opening quote). */
  offset: number;
  message: string;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
};
/** Escape letter → [digits, base, largest value]. */
const NUMERIC_ESCAPES: Record<string, [number, number, number]> = {
  x: [2, 16, 0xff],
  u: [4, 16, 0x10ffff],
  U: [8, 16, 0x10ffff],
};

/** The value of a PromQL string literal, or what makes it invalid. */
export function readStringLiteral(literal: string): StringValue | { problem: StringProblem } {
  const quote = literal[0];
  const unterminated = {
    problem: {
      offset: 0,
      message: `unterminated string: the ${quote === "`" ? "backtick" : "quote"} here is never closed`,
    },
  };
  if (quote === "`") {
    if (literal.length < 2 || !literal.endsWith("`")) return unterminated;
    const value = literal.slice(1, -1);
    return { value, offsets: Array.from(value, (_, i) => i + 1) };
  }
  let value = "";
  const offsets: number[] = [];
  let i = 1;
  while (i < literal.length) {
    const c = literal[i]!;
    if (c === quote) return i === literal.length - 1 ? { value, offsets } : unterminated;
    if (c === "\n") return unterminated;
    if (c !== "\\") {
      value += c;
      offsets.push(i);
      i++;
      continue;
    }
    const escaped = readEscape(literal, i, quote!);
    if ("problem" in escaped) return escaped.problem.offset >= literal.length ? unterminated : escaped;
    value += escaped.char;
    offsets.push(i);
    i = escaped.next;
  }
  return unterminated;
}

function readEscape(
  literal: string,
  at: number,
  quote: string,
): { char: string; next: number } | { problem: StringProblem } {
  const letter = literal[at + 1];
  const problem = (message: string, offset = at) => ({ problem: { offset, message } });
  if (letter === undefined) return problem("escape sequence not terminated", literal.length);
  if (letter === quote) return { char: quote, next: at + 2 };
  const simple = SIMPLE_ESCAPES[letter];
  if (simple !== undefined) return { char: simple, next: at + 2 };
  const octal = /[0-7]/.test(letter);
  const numeric = octal ? ([3, 8, 0xff] as const) : NUMERIC_ESCAPES[letter];
  if (!numeric) {
    const hint =
      letter === '"' || letter === "'"
        ? `only the string's own quote (${quote}) can be escaped`
        : `write "\\\\${letter}" for a literal backslash (e.g. in a regex), or use a \`backtick\` string`;
    return problem(`unknown escape sequence "\\${letter}" in a string: ${hint}`);
  }
  const [digits, base, largest] = numeric;
  const start = octal ? at + 1 : at + 2;
  let code = 0;
  for (let k = 0; k < digits; k++) {
    const d = literal[start + k];
    if (d === undefined) return problem("escape sequence not terminated", literal.length);
    const value = Number.parseInt(d, base);
    if (Number.isNaN(value)) {
      return problem(
        `illegal character ${JSON.stringify(d)} in escape sequence "\\${letter}": it needs ${digits} ${base === 8 ? "octal" : "hex"} digits`,
        start + k,
      );
    }
    code = code * base + value;
  }
  if (code > largest || (code >= 0xd800 && code < 0xe000)) {
    return problem(
      `escape sequence "${literal.slice(at, start + digits)}" is not a valid Unicode code point`,
    );
  }
  return { char: String.fromCodePoint(code), next: start + digits };
}
