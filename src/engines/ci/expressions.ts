// The `if:` conditions of CI files, evaluated for one event with three-valued logic: true, false, or unknown when
// they read something only the running pipeline knows (a secret, a matrix value, the commit message). GitHub Actions
// expressions (`github.event_name == 'push' && !cancelled()`) and GitLab CI rules (`$CI_PIPELINE_SOURCE ==
// "merge_request_event"`, `$CI_COMMIT_BRANCH =~ /^release/`) each get a small tokenizer and a precedence parser.

/** A value in an expression; UNKNOWN is what the running pipeline would know. */
export const UNKNOWN = Symbol("unknown");
export type Value = string | number | boolean | null | typeof UNKNOWN;
export type Truth = boolean | null;

export function truthOf(value: Value): Truth {
  if (value === UNKNOWN) return null;
  return Boolean(value) && value !== "0";
}

function and(a: Truth, b: Truth): Truth {
  if (a === false || b === false) return false;
  return a === null || b === null ? null : true;
}

function or(a: Truth, b: Truth): Truth {
  if (a === true || b === true) return true;
  return a === null || b === null ? null : false;
}

function not(a: Truth): Truth {
  return a === null ? null : !a;
}

type Token = { kind: "op" | "string" | "number" | "ident" | "regex" | "var"; value: string; flags?: string };

class ExpressionError extends Error {}

// ---- GitHub Actions ----

/** Context values for GitHub: `github.event_name`, `github.ref`, …; a name absent here is unknown. */
export type GithubContext = Record<string, string | boolean | null>;

/** Evaluates a GitHub `if:`; `${{ }}` around it is optional, as in GitHub. Unparsable → unknown. */
export function evaluateGithub(condition: string | boolean | number, context: GithubContext): Truth {
  if (typeof condition === "boolean") return condition;
  if (typeof condition === "number") return condition !== 0;
  let expr = condition.trim();
  const wrapped = /^\$\{\{([\s\S]*)\}\}$/.exec(expr);
  if (wrapped && !wrapped[1]!.includes("}}")) expr = wrapped[1]!.trim();
  else if (expr.includes("${{")) return null; // text around an expression: a non-empty string, truthy in GitHub
  if (expr === "") return true;
  try {
    const parser = new Parser(tokenizeGithub(expr), (token) => githubValue(token, context), githubCall);
    const value = parser.parse();
    return truthOf(value);
  } catch {
    return null;
  }
}

function tokenizeGithub(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = expr.slice(i, i + 2);
    if (["==", "!=", "&&", "||", "<=", ">="].includes(two)) {
      tokens.push({ kind: "op", value: two });
      i += 2;
      continue;
    }
    if ("!()<>,[]".includes(c)) {
      tokens.push({ kind: "op", value: c });
      i++;
      continue;
    }
    if (c === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= expr.length) throw new ExpressionError("unterminated string");
        if (expr[i] === "'" && expr[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (expr[i] === "'") {
          i++;
          break;
        } else value += expr[i++];
      }
      tokens.push({ kind: "string", value });
      continue;
    }
    const number = /^-?\d+(?:\.\d+)?/.exec(expr.slice(i));
    if (number) {
      tokens.push({ kind: "number", value: number[0] });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][\w-]*(?:\.[\w*-]+|\[[^\]]*\])*/.exec(expr.slice(i));
    if (ident) {
      tokens.push({ kind: "ident", value: ident[0] });
      i += ident[0].length;
      continue;
    }
    throw new ExpressionError(`unexpected ${c}`);
  }
  return tokens;
}

function githubValue(token: Token, context: GithubContext): Value {
  if (token.kind === "string") return token.value;
  if (token.kind === "number") return Number(token.value);
  const name = token.value;
  if (name === "true") return true;
  if (name === "false") return false;
  if (name === "null") return null;
  return Object.hasOwn(context, name) ? context[name]! : UNKNOWN;
}

/** GitHub's status functions (a job's own steps have not failed yet) and string functions; others are unknown. */
function githubCall(name: string, args: Value[]): Value {
  const fn = name.toLowerCase();
  if (fn === "success" || fn === "always") return true;
  if (fn === "failure" || fn === "cancelled") return false;
  if (args.some((a) => a === UNKNOWN)) return UNKNOWN;
  const [a, b] = args.map((v) => String(v ?? "").toLowerCase());
  if (fn === "startswith") return a!.startsWith(b!);
  if (fn === "endswith") return a!.endsWith(b!);
  if (fn === "contains") return a!.includes(b!);
  return UNKNOWN;
}

// ---- GitLab CI ----

/** Variables for GitLab: a name absent here is unknown; present with null, it is known to be unset. */
export type GitlabVariables = Record<string, string | null>;

/** Evaluates a GitLab `rules: if:` or `only: variables:` expression. Unparsable → unknown. */
export function evaluateGitlab(expr: string, variables: GitlabVariables): Truth {
  try {
    const parser = new Parser(
      tokenizeGitlab(expr),
      (token) => gitlabValue(token, variables),
      () => UNKNOWN,
      true,
    );
    return truthOf(parser.parse());
  } catch {
    return null;
  }
}

function tokenizeGitlab(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = expr.slice(i, i + 2);
    if (["==", "!=", "=~", "!~", "&&", "||"].includes(two)) {
      tokens.push({ kind: "op", value: two });
      i += 2;
      continue;
    }
    if (c === "(" || c === ")") {
      tokens.push({ kind: "op", value: c });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = expr.indexOf(c, i + 1);
      if (end < 0) throw new ExpressionError("unterminated string");
      tokens.push({ kind: "string", value: expr.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if (c === "/") {
      let j = i + 1;
      while (j < expr.length && expr[j] !== "/") j += expr[j] === "\\" ? 2 : 1;
      if (j >= expr.length) throw new ExpressionError("unterminated regex");
      const flags = /^[a-z]*/.exec(expr.slice(j + 1))![0];
      tokens.push({ kind: "regex", value: expr.slice(i + 1, j), flags });
      i = j + 1 + flags.length;
      continue;
    }
    const variable = /^\$(?:\{(\w+)\}|(\w+))/.exec(expr.slice(i));
    if (variable) {
      tokens.push({ kind: "var", value: variable[1] ?? variable[2]! });
      i += variable[0].length;
      continue;
    }
    const word = /^(?:null|true|false)\b/.exec(expr.slice(i));
    if (word) {
      tokens.push({ kind: "ident", value: word[0] });
      i += word[0].length;
      continue;
    }
    throw new ExpressionError(`unexpected ${c}`);
  }
  return tokens;
}

function gitlabValue(token: Token, variables: GitlabVariables): Value {
  if (token.kind === "string") return token.value;
  if (token.kind === "regex") return `/${token.value}/${token.flags ?? ""}`;
  if (token.kind === "ident") return token.value === "null" ? null : token.value;
  if (token.kind === "var") return Object.hasOwn(variables, token.value) ? variables[token.value]! : UNKNOWN;
  return UNKNOWN;
}

/** `a =~ /re/`: the right side is a /regex/ literal or a variable holding one. */
function regexMatch(left: Value, right: Value): Value {
  if (left === UNKNOWN || right === UNKNOWN) return UNKNOWN;
  const source = String(right ?? "");
  const literal = /^\/([\s\S]*)\/([a-z]*)$/.exec(source);
  if (!literal) return false;
  try {
    return new RegExp(literal[1]!, literal[2]!.replace(/[^imsu]/g, "")).test(String(left ?? ""));
  } catch {
    return UNKNOWN;
  }
}

// ---- shared precedence parser: || < && < comparison < unary ! < primary ----

class Parser {
  #i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly valueFor: (token: Token) => Value,
    private readonly call: (name: string, args: Value[]) => Value,
    private readonly gitlab = false,
  ) {}

  parse(): Value {
    const value = this.or();
    if (this.#i < this.tokens.length) throw new ExpressionError("trailing tokens");
    return value;
  }

  #peek(value: string): boolean {
    const t = this.tokens[this.#i];
    return t?.kind === "op" && t.value === value;
  }

  #take(value: string): boolean {
    if (!this.#peek(value)) return false;
    this.#i++;
    return true;
  }

  private or(): Value {
    let left = this.and();
    while (this.#take("||")) {
      const right = this.and();
      left = fromTruth(or(truthOf(left), truthOf(right)), left, right, "or");
    }
    return left;
  }

  private and(): Value {
    let left = this.comparison();
    while (this.#take("&&")) {
      const right = this.comparison();
      left = fromTruth(and(truthOf(left), truthOf(right)), left, right, "and");
    }
    return left;
  }

  private comparison(): Value {
    const left = this.unary();
    for (const op of ["==", "!=", "=~", "!~", "<", ">", "<=", ">="]) {
      if (!this.#take(op)) continue;
      const right = this.unary();
      if (op === "=~") return regexMatch(left, right);
      if (op === "!~") {
        const m = regexMatch(left, right);
        return m === UNKNOWN ? UNKNOWN : !m;
      }
      if (left === UNKNOWN || right === UNKNOWN) return UNKNOWN;
      if (op === "==" || op === "!=") {
        const same = this.gitlab ? left === right : looseEqual(left, right);
        return op === "==" ? same : !same;
      }
      return UNKNOWN;
    }
    return left;
  }

  private unary(): Value {
    if (!this.gitlab && this.#take("!")) {
      const t = not(truthOf(this.unary()));
      return t === null ? UNKNOWN : t;
    }
    return this.primary();
  }

  private primary(): Value {
    if (this.#take("(")) {
      const value = this.or();
      if (!this.#take(")")) throw new ExpressionError("missing )");
      return value;
    }
    const token = this.tokens[this.#i++];
    if (!token || token.kind === "op") throw new ExpressionError("expected a value");
    if (token.kind === "ident" && this.#peek("(")) {
      this.#i++;
      const args: Value[] = [];
      if (!this.#take(")")) {
        do args.push(this.or());
        while (this.#take(","));
        if (!this.#take(")")) throw new ExpressionError("missing )");
      }
      return this.call(token.value, args);
    }
    return this.valueFor(token);
  }
}

/** && and || give one of their operands in both systems; for the truth of the result only truthiness matters. */
function fromTruth(truth: Truth, left: Value, right: Value, op: "and" | "or"): Value {
  if (truth === null) return UNKNOWN;
  const pick =
    op === "and" ? (truthOf(left) === false ? left : right) : truthOf(left) === true ? left : right;
  return truthOf(pick) === truth ? pick : truth;
}

/** GitHub compares strings case-insensitively, and coerces numbers and booleans. */
function looseEqual(a: Value, b: Value): boolean {
  if (typeof a === "string" && typeof b === "string") return a.toLowerCase() === b.toLowerCase();
  if (a === null || b === null) return a === b;
  if (typeof a === typeof b) return a === b;
  return Number(a) === Number(b);
}
