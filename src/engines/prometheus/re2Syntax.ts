// Regular expressions as Prometheus compiles them (Go's regexp/syntax, RE2 with Perl flags), not as JavaScript does:
// RE2 takes (?i) and (?s:…) flag groups, \Q…\E, \z, \pL and [[:alpha:]], and rejects lookaround, backreferences,
// \Z, \C, nested repetition (a**) and counts over 1000. The parse also tells whether the regex matches the empty
// string, which decides whether a label matcher selects anything on its own ({job=~".*"} does not).

export interface Re2Problem {
  /** Offset within the pattern (UTF-16 code units) where the bad construct starts. */
  offset: number;
  message: string;
}

export type Re2Result = { ok: true; matchesEmpty: boolean } | { ok: false; problem: Re2Problem };

type Node =
  | { kind: "leaf"; nullable: boolean }
  | { kind: "repeat"; min: number; max: number; sub: Node }
  | { kind: "concat" | "alternate"; subs: Node[] };

const MAX_REPEAT = 1000;
const PERL_CLASSES = new Set(["d", "D", "s", "S", "w", "W"]);
const POSIX_CLASSES = new Set([
  "alnum",
  "alpha",
  "ascii",
  "blank",
  "cntrl",
  "digit",
  "graph",
  "lower",
  "print",
  "punct",
  "space",
  "upper",
  "word",
  "xdigit",
]);
const UNICODE_CATEGORIES = new Set(
  "C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs Any".split(
    " ",
  ),
);
const C_ESCAPES = new Set(["a", "f", "n", "r", "t", "v"]);

class Re2Error extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parses `pattern` with RE2's rules; says what is wrong and where, or whether it matches "". */
export function checkRe2(pattern: string): Re2Result {
  try {
    const node = new Re2Parser(pattern).parse();
    return { ok: true, matchesEmpty: nullable(node) };
  } catch (error) {
    if (error instanceof Re2Error)
      return { ok: false, problem: { offset: error.offset, message: error.message } };
    throw error;
  }
}

function nullable(node: Node): boolean {
  switch (node.kind) {
    case "leaf":
      return node.nullable;
    case "repeat":
      return node.min === 0 || nullable(node.sub);
    case "concat":
      return node.subs.every(nullable);
    case "alternate":
      return node.subs.some(nullable);
  }
}

/** Go's rule: the product of nested counted repetitions must stay within 1000 copies of the innermost thing. */
function repeatIsValid(node: Node, budget: number): boolean {
  if (node.kind === "repeat") {
    const count = node.max === -1 ? node.min : node.max;
    if (count === 0) return true;
    if (count > budget) return false;
    if (count > 0) budget = Math.floor(budget / count);
    return repeatIsValid(node.sub, budget);
  }
  if (node.kind === "leaf") return true;
  return node.subs.every((sub) => repeatIsValid(sub, budget));
}

const CHAR: Node = { kind: "leaf", nullable: false };
const EMPTY_WIDTH: Node = { kind: "leaf", nullable: true };

class Re2Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.alternation();
    if (this.pos < this.src.length) throw new Re2Error(this.pos, "unexpected ): there is no ( to close");
    return node;
  }

  private fail(at: number, message: string, end = this.pos): never {
    const text = this.src.slice(at, Math.max(end, at + 1));
    throw new Re2Error(at, `${message}: \`${text}\``);
  }

  private alternation(): Node {
    const branches = [this.concatenation()];
    while (this.src[this.pos] === "|") {
      this.pos++;
      branches.push(this.concatenation());
    }
    return branches.length === 1 ? branches[0]! : { kind: "alternate", subs: branches };
  }

  private concatenation(): Node {
    const items: Node[] = [];
    let lastRepeatAt = -1;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      if (c === "|" || c === ")") break;
      const at = this.pos;
      const repeat = this.repetition();
      if (repeat) {
        if (lastRepeatAt >= 0) this.fail(lastRepeatAt, "invalid nested repetition operator");
        const sub = items.pop();
        if (!sub) this.fail(at, "missing argument to repetition operator");
        const node: Node = { kind: "repeat", min: repeat.min, max: repeat.max, sub };
        if (repeat.counted && (repeat.min >= 2 || repeat.max >= 2) && !repeatIsValid(node, MAX_REPEAT))
          this.fail(at, "invalid repeat count (nested repetitions multiply beyond 1000)");
        items.push(node);
        lastRepeatAt = at;
        continue;
      }
      lastRepeatAt = -1;
      this.atom(items);
    }
    if (items.length === 0) return EMPTY_WIDTH;
    return items.length === 1 ? items[0]! : { kind: "concat", subs: items };
  }

  /** A repetition operator at pos (*, +, ?, {n}, {n,}, {n,m}, each optionally followed by ? for non-greedy). */
  private repetition(): { min: number; max: number; counted: boolean } | null {
    const c = this.src[this.pos];
    let result: { min: number; max: number; counted: boolean } | null = null;
    if (c === "*" || c === "+" || c === "?") {
      this.pos++;
      result = { min: c === "+" ? 1 : 0, max: c === "?" ? 1 : -1, counted: false };
    } else if (c === "{") {
      const counted = /^\{(0|[1-9]\d*)(,(0|[1-9]\d*)?)?\}/.exec(this.src.slice(this.pos));
      if (!counted) return null; // not a count: { is a literal
      const at = this.pos;
      const min = Number(counted[1]);
      const max = counted[2] === undefined ? min : counted[3] === undefined ? -1 : Number(counted[3]);
      this.pos += counted[0].length;
      if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max))
        this.fail(at, "invalid repeat count (at most 1000, and min ≤ max)");
      result = { min, max, counted: true };
    }
    if (result && this.src[this.pos] === "?") this.pos++;
    return result;
  }

  /** Appends what the construct at pos matches: nothing for a flag group, one item per character of \Q…\E. */
  private atom(items: Node[]): void {
    const at = this.pos;
    const c = this.src[this.pos]!;
    if (c === "(") {
      const group = this.group();
      if (group) items.push(group);
    } else if (c === "^" || c === "$") {
      this.pos++;
      items.push(EMPTY_WIDTH);
    } else if (c === "[") {
      this.characterClass();
      items.push(CHAR);
    } else if (c === "\\") {
      items.push(...this.escapeAtom());
    } else {
      this.pos += codePointLength(this.src, at);
      items.push(CHAR);
    }
  }

  private group(): Node | null {
    const at = this.pos;
    this.pos++;
    if (this.src[this.pos] === "?") {
      const named = /^\?P?<([^>]*)>/.exec(this.src.slice(this.pos));
      if (this.src.startsWith("?<=", this.pos) || this.src.startsWith("?<!", this.pos))
        this.fail(at, "invalid or unsupported Perl syntax (RE2 has no lookbehind)", at + 4);
      if (named) {
        if (!/^[A-Za-z0-9_]+$/.test(named[1]!))
          this.fail(at, "invalid named capture", at + 1 + named[0].length);
        this.pos += named[0].length;
      } else if (this.src.startsWith("?P<", this.pos) || this.src.startsWith("?<", this.pos)) {
        this.fail(at, "invalid named capture (no closing >)", this.src.length);
      } else if (!this.flags(at)) {
        return null; // (?i) changes flags for the rest of the group and matches nothing itself
      }
    }
    const inner = this.alternation();
    if (this.src[this.pos] !== ")") this.fail(at, "missing closing )", this.src.length);
    this.pos++;
    return inner;
  }

  /** Parses (?flags) or (?flags: after "(": true when a group opens (":"), false for a bare flag change. */
  private flags(at: number): boolean {
    this.pos++; // ?
    let negated = false;
    let sawFlag = false;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      this.pos++;
      if ("imsU".includes(c)) {
        sawFlag = true;
        continue;
      }
      if (c === "-" && !negated) {
        negated = true;
        sawFlag = false;
        continue;
      }
      if ((c === ":" || c === ")") && !(negated && !sawFlag)) return c === ":";
      const hint =
        c === "=" || c === "!"
          ? " (RE2 has no lookahead)"
          : c === ">"
            ? " (RE2 has no atomic groups)"
            : c === "P"
              ? " (RE2 has no backreferences or recursion)"
              : "";
      this.fail(at, `invalid or unsupported Perl syntax${hint}`);
    }
    this.fail(at, "invalid or unsupported Perl syntax", this.src.length);
  }

  private escapeAtom(): Node[] {
    const at = this.pos;
    const next = this.src[at + 1];
    if (next === undefined) this.fail(at, "trailing backslash at end of expression");
    if (next === "A" || next === "z" || next === "B") {
      this.pos += 2;
      return [EMPTY_WIDTH];
    }
    if (next === "b") {
      this.pos += 2;
      return [{ kind: "leaf", nullable: false }]; // a word boundary needs a word character beside it
    }
    if (next === "C") this.fail(at, "invalid escape sequence (RE2 does not support \\C)", at + 2);
    if (next === "Q") {
      const end = this.src.indexOf("\\E", at + 2);
      const literal = end === -1 ? this.src.slice(at + 2) : this.src.slice(at + 2, end);
      this.pos = end === -1 ? this.src.length : end + 2;
      return Array.from(literal, () => CHAR);
    }
    if (next === "p" || next === "P") {
      this.unicodeClass();
      return [CHAR];
    }
    if (PERL_CLASSES.has(next)) {
      this.pos += 2;
      return [CHAR];
    }
    this.escapedChar();
    return [CHAR];
  }

  /** \pL, \p{Greek}, \P{^Lu}: a Unicode category or script Go knows. */
  private unicodeClass(): void {
    const at = this.pos;
    this.pos += 2;
    let name: string;
    if (this.src[this.pos] === "{") {
      const end = this.src.indexOf("}", this.pos);
      if (end === -1) this.fail(at, "invalid character class range", this.src.length);
      name = this.src.slice(this.pos + 1, end);
      this.pos = end + 1;
    } else {
      name = this.src[this.pos] ?? "";
      this.pos += name.length;
    }
    if (!isUnicodeClassName(name.startsWith("^") ? name.slice(1) : name))
      this.fail(at, "invalid character class range (unknown Unicode class)");
  }

  /** An escape standing for one character: punctuation, octal, \x, \a \f \n \r \t \v. Returns its code point. */
  private escapedChar(): number {
    const at = this.pos;
    const next = this.src[at + 1];
    if (next === undefined) this.fail(at, "trailing backslash at end of expression");
    this.pos += 2;
    if (next.charCodeAt(0) < 0x80 && !/[0-9A-Za-z]/.test(next)) return next.charCodeAt(0);
    if (C_ESCAPES.has(next)) return "\x07\f\n\r\t\v".charCodeAt("afnrtv".indexOf(next));
    const octal = /^[0-7]{1,3}/.exec(this.src.slice(at + 1))?.[0] ?? "";
    if (next === "0" || (octal.length >= 2 && next >= "1" && next <= "7")) {
      this.pos = at + 1 + octal.length;
      return Number.parseInt(octal, 8);
    }
    if (next === "x") {
      const braced = /^\{([0-9A-Fa-f]+)\}/.exec(this.src.slice(this.pos));
      const pair = /^[0-9A-Fa-f]{2}/.exec(this.src.slice(this.pos));
      if (braced && Number.parseInt(braced[1]!, 16) <= 0x10ffff) {
        this.pos += braced[0].length;
        return Number.parseInt(braced[1]!, 16);
      }
      if (pair && !braced) {
        this.pos += 2;
        return Number.parseInt(pair[0], 16);
      }
      this.fail(at, "invalid escape sequence", this.pos + 2);
    }
    const hint = /[1-9]/.test(next) ? " (RE2 has no backreferences)" : "";
    return this.fail(at, `invalid escape sequence${hint}`, at + 1 + codePointLength(this.src, at + 1));
  }

  private characterClass(): void {
    const at = this.pos;
    this.pos++;
    if (this.src[this.pos] === "^") this.pos++;
    let first = true; // ] right after [ or [^ is a literal
    while (first || this.src[this.pos] !== "]") {
      first = false;
      if (this.pos >= this.src.length) this.fail(at, "missing closing ]", this.src.length);
      if (this.src.startsWith("[:", this.pos)) {
        const end = this.src.indexOf(":]", this.pos + 2);
        if (end !== -1) {
          const name = this.src.slice(this.pos + 2, end);
          if (!POSIX_CLASSES.has(name.startsWith("^") ? name.slice(1) : name))
            this.fail(this.pos, "invalid character class range (unknown POSIX class)", end + 2);
          this.pos = end + 2;
          continue;
        }
      }
      const c = this.src[this.pos];
      const next = this.src[this.pos + 1];
      if (c === "\\" && (next === "p" || next === "P")) {
        this.unicodeClass();
        continue;
      }
      if (c === "\\" && next !== undefined && PERL_CLASSES.has(next)) {
        this.pos += 2;
        continue;
      }
      const rangeAt = this.pos;
      const lo = this.classChar(at);
      if (this.src[this.pos] === "-" && this.pos + 1 < this.src.length && this.src[this.pos + 1] !== "]") {
        this.pos++;
        const hi = this.classChar(at);
        if (hi < lo) this.fail(rangeAt, "invalid character class range");
      }
    }
    this.pos++; // ]
  }

  private classChar(classAt: number): number {
    if (this.pos >= this.src.length) this.fail(classAt, "missing closing ]", this.src.length);
    if (this.src[this.pos] === "\\") return this.escapedChar();
    const code = this.src.codePointAt(this.pos)!;
    this.pos += codePointLength(this.src, this.pos);
    return code;
  }
}

function codePointLength(text: string, at: number): number {
  const code = text.codePointAt(at);
  return code !== undefined && code > 0xffff ? 2 : 1;
}

function isUnicodeClassName(name: string): boolean {
  if (UNICODE_CATEGORIES.has(name)) return true;
  if (!/^[A-Z][A-Za-z_]*$/.test(name)) return false;
  try {
    new RegExp(`\\p{Script=${name}}`, "u"); // Go's script names are Unicode's, which V8 knows
    return true;
  } catch {
    return false;
  }
}
