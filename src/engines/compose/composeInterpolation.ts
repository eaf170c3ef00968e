// Compose's `${VAR}` interpolation, as compose-go's template package does it: `$VAR`, `${VAR}`, `${VAR:-default}`
// (unset or empty), `${VAR-default}` (unset), `${VAR:?error}`, `${VAR?error}`, `${VAR:+replacement}`,
// `${VAR+replacement}`, defaults that nest (`${A:-${B:-c}}`), `$$` for a literal `$`; a `$` before anything else is
// kept as it is, and a `${` that does not form a variable is an error compose refuses the file for. The `.env` file
// beside a compose file is read the way compose-go's dotenv parser reads it.

/** A value lookup: undefined when the variable is not set (set to "" is set). */
export type Lookup = (name: string) => string | undefined;

export type Operator = ":-" | "-" | ":?" | "?" | ":+" | "+";

/** One reference to a variable in a template, by offset in the template text. */
export interface VariableUse {
  name: string;
  operator?: Operator;
  /** The template goes on without this variable: it has a default, or it sits inside another variable's default. */
  optional: boolean;
  offset: number;
}

type Token =
  | { kind: "text"; text: string }
  | { kind: "ref"; name: string; operator?: Operator; word: Token[]; offset: number };

export interface Template {
  tokens: Token[];
  /** The first `${…}` that is not a valid reference, with its offset. */
  error?: { offset: number; text: string };
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([\s\S]*))?$/;

/** Whether a text holds anything compose would interpolate (a `$` not escaped as `$$`). */
export function hasInterpolation(text: string): boolean {
  return /\$(?!\$)/.test(text.replace(/\$\$/g, ""));
}

export function parseTemplate(text: string, base = 0): Template {
  const tokens: Token[] = [];
  let literal = "";
  const flush = () => {
    if (literal) tokens.push({ kind: "text", text: literal });
    literal = "";
  };
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    const next = text[i + 1];
    if (char !== "$") {
      literal += char;
      i++;
    } else if (next === "$") {
      literal += "$";
      i += 2;
    } else if (next !== undefined && NAME_START.test(next)) {
      let end = i + 1;
      while (end < text.length && NAME_CHAR.test(text[end]!)) end++;
      flush();
      tokens.push({ kind: "ref", name: text.slice(i + 1, end), word: [], offset: base + i });
      i = end;
    } else if (next === "{") {
      const close = closingBrace(text, i + 1);
      const inner = close < 0 ? "" : text.slice(i + 2, close);
      const match = close < 0 ? null : BRACED.exec(inner);
      if (!match) {
        flush();
        const shown = close < 0 ? text.slice(i) : text.slice(i, close + 1);
        return { tokens, error: { offset: base + i, text: shown } };
      }
      const [, name, operator, word = ""] = match;
      const wordStart = i + 2 + name!.length + (operator?.length ?? 0);
      const nested = parseTemplate(word, base + wordStart);
      if (nested.error) return { tokens, error: nested.error };
      flush();
      tokens.push({
        kind: "ref",
        name: name!,
        ...(operator ? { operator: operator as Operator } : {}),
        word: nested.tokens,
        offset: base + i,
      });
      i = close + 1;
    } else {
      // compose keeps a `$` that starts no variable (`$1`, a trailing `$`).
      literal += "$";
      i++;
    }
  }
  flush();
  return { tokens };
}

/** Index of the `}` that closes the `{` at `open`, counting nested braces; -1 when it is never closed. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** Every variable a template reads, in order; those inside another's default or after `:+`/`+` are optional. */
export function variableUses(template: Template): VariableUse[] {
  const uses: VariableUse[] = [];
  const walk = (tokens: Token[], optional: boolean) => {
    for (const token of tokens) {
      if (token.kind !== "ref") continue;
      const defaulted = token.operator !== undefined && !token.operator.endsWith("?");
      uses.push({
        name: token.name,
        ...(token.operator ? { operator: token.operator } : {}),
        optional: optional || defaulted,
        offset: token.offset,
      });
      walk(token.word, true);
    }
  };
  walk(template.tokens, false);
  return uses;
}

export interface Interpolated {
  value: string;
  /** Variables read without a value and without a default: compose warns and substitutes "". */
  unset: string[];
  /** `${VAR:?message}` / `${VAR?message}` whose variable is missing: compose refuses the file. */
  missingRequired: { name: string; message: string }[];
}

export function evaluate(template: Template, lookup: Lookup): Interpolated {
  const result: Interpolated = { value: "", unset: [], missingRequired: [] };
  result.value = evaluateTokens(template.tokens, lookup, result);
  return result;
}

function evaluateTokens(tokens: Token[], lookup: Lookup, out: Interpolated): string {
  let text = "";
  for (const token of tokens) {
    if (token.kind === "text") {
      text += token.text;
      continue;
    }
    const value = lookup(token.name);
    const isSet = value !== undefined;
    const nonEmpty = isSet && value !== "";
    const word = () => evaluateTokens(token.word, lookup, out);
    switch (token.operator) {
      case ":-":
        text += nonEmpty ? value : word();
        break;
      case "-":
        text += isSet ? value : word();
        break;
      case ":?":
      case "?":
        if (token.operator === ":?" ? nonEmpty : isSet) text += value;
        else out.missingRequired.push({ name: token.name, message: word() });
        break;
      case ":+":
        text += nonEmpty ? word() : (value ?? "");
        break;
      case "+":
        text += isSet ? word() : "";
        break;
      default:
        if (!isSet && !out.unset.includes(token.name)) out.unset.push(token.name);
        text += value ?? "";
    }
  }
  return text;
}

/** Parses and evaluates in one step; `error` set when the text is not a valid template. */
export function interpolate(
  text: string,
  lookup: Lookup,
): Interpolated & { error?: Template["error"]; uses: VariableUse[] } {
  const template = parseTemplate(text);
  const uses = variableUses(template);
  if (template.error) return { value: text, unset: [], missingRequired: [], error: template.error, uses };
  return { ...evaluate(template, lookup), uses };
}

export interface DotEnvEntry {
  name: string;
  value: string;
  line: number;
}

export interface DotEnv {
  entries: DotEnvEntry[];
  /** The first line compose's parser refuses, with why. */
  error?: { line: number; message: string };
}

/**
 * An env file as compose reads it: `NAME=value`, `export NAME=value`, `NAME: value`, single quotes (literal), double
 * quotes (escapes, then interpolation), unquoted values cut at ` #`, a bare `NAME` taken from the environment;
 * values may use the names defined above them or the environment (`lookup`).
 */
export function parseDotEnv(text: string, lookup: Lookup = () => undefined): DotEnv {
  const entries: DotEnvEntry[] = [];
  const defined = new Map<string, string>();
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const get: Lookup = (name) => (defined.has(name) ? defined.get(name) : lookup(name));
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1;
    const raw = lines[index]!.replace(/^\s+/, "");
    if (raw === "" || raw.startsWith("#")) continue;
    const statement = raw.replace(/^export\s+/, "");
    const keyMatch = /^([^=:\s]*)\s*([=:])?/.exec(statement)!;
    const name = keyMatch[1]!;
    if (!keyMatch[2]) {
      if (/^[A-Za-z0-9_.\-[\]]+\s*$/.test(statement)) {
        const inherited = lookup(name);
        if (inherited !== undefined) set(name, inherited, line);
        continue;
      }
      return { entries, error: { line, message: `"${statement.split(/\s/)[0]}" is not NAME=value` } };
    }
    if (name === "" || !/^[A-Za-z0-9_.\-[\]]+$/.test(name)) {
      return { entries, error: { line, message: `"${name}" is not a variable name` } };
    }
    let rest = statement.slice(keyMatch[0].length).replace(/^[ \t]+/, "");
    const quote = rest[0];
    if (quote === "'" || quote === '"') {
      // A quoted value may run over several lines.
      let body = rest.slice(1);
      let end = closingQuote(body, quote);
      let last = index;
      while (end < 0 && last + 1 < lines.length) {
        last++;
        body += `\n${lines[last]}`;
        end = closingQuote(body, quote);
      }
      if (end < 0) return { entries, error: { line, message: `the ${quote} quote is never closed` } };
      const inner = unescapeQuoted(body.slice(0, end), quote);
      index = last;
      if (quote === "'") set(name, inner, line);
      else {
        const expanded = interpolate(expandEscapes(inner), get);
        if (expanded.error)
          return { entries, error: { line, message: `invalid interpolation ${expanded.error.text}` } };
        set(name, expanded.value, line);
      }
      continue;
    }
    rest = rest.split(" #")[0]!.replace(/\s+$/, "");
    const expanded = interpolate(rest, get);
    if (expanded.error)
      return { entries, error: { line, message: `invalid interpolation ${expanded.error.text}` } };
    set(name, expanded.value, line);
  }
  return { entries };

  function set(name: string, value: string, line: number) {
    defined.set(name, value);
    entries.push({ name, value, line });
  }
}

/** Index of the unescaped closing quote, or -1. */
function closingQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i++) {
    if (body[i] === "\\") i++;
    else if (body[i] === quote) return i;
  }
  return -1;
}

/** Inside quotes only the quote itself is unescaped here; double-quoted escapes follow in expandEscapes. */
function unescapeQuoted(body: string, quote: string): string {
  return body.replace(new RegExp(`\\\\${quote}`, "g"), quote);
}

const ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  c: "",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  '"': '"',
  "\\": "\\",
};

function expandEscapes(text: string): string {
  return text.replace(/\\([abcfnrtv$"\\]|0[0-7]{0,3})/g, (_, code: string) => {
    if (code === "$") return "$$";
    if (code.startsWith("0")) return String.fromCharCode(Number.parseInt(code.slice(1) || "0", 8));
    return ESCAPES[code] ?? code;
  });
}
