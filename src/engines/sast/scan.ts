// Runs the rule pack with ast-grep (tree-sitter grammars: JavaScript, TypeScript and TSX built in, Python registered
// from @ast-grep/lang-python) over a batch of files on its own threads, or over one text, and reads suppression
// comments. The same text gives the same matches. Positions are 1-based lines and columns in UTF-16 code units
// (SARIF's).
import { createRequire } from "node:module";
import {
  type FindConfig,
  findInFiles,
  Lang,
  type NapiConfig,
  parse,
  registerDynamicLanguage,
  type SgNode,
} from "@ast-grep/napi";
import { familyOf, type LanguageFamily, RULES_BY_ID, SAST_RULES, type SastLanguage } from "./rules.js";

export interface RuleMatch {
  rule: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** The callee or property the match is about (`child_process.exec`, `rejectUnauthorized: false`), never data. */
  what?: string;
  /** Set when a suppression comment covers the match. */
  suppressed?: { line: number; by: SuppressionKind; reason?: string };
}

export type SuppressionKind = "gauntlet-ignore" | "nosec";

/** One `gauntlet-ignore:` / `# nosec` comment. */
export interface SuppressionComment {
  line: number;
  column: number;
  by: SuppressionKind;
  /** Rule ids (or bandit test ids) it names; empty for a bare `# nosec` (every rule on its line). */
  rules: string[];
  reason?: string;
  /** The comment is alone on its line, so it covers the next line too. */
  ownLine: boolean;
}

export interface SourceScan {
  lines: number;
  matches: RuleMatch[];
  suppressions: SuppressionComment[];
  /** Where the parser had to recover from a syntax error (the first few); matches elsewhere still count. */
  parseErrors: { line: number; column: number }[];
  parseErrorCount: number;
}

const PARSE_ERRORS_KEPT = 3;
const PYTHON = "python";

let pythonRegistered = false;
/** ast-grep wants dynamic languages registered once per process. */
function ensurePython(): void {
  if (pythonRegistered) return;
  const require = createRequire(import.meta.url);
  registerDynamicLanguage({ python: require("@ast-grep/lang-python") });
  pythonRegistered = true;
}

function grammarOf(language: SastLanguage): string {
  switch (language) {
    case "javascript":
      return Lang.JavaScript;
    case "typescript":
      return Lang.TypeScript;
    case "tsx":
      return Lang.Tsx;
    case "python":
      ensurePython();
      return PYTHON;
  }
}

const SUPPRESSION_TEXT = "gauntlet-ignore|nosec";

/**
 * One ast-grep rule per family: every rule of the pack, suppression comments and parse errors, so a file is walked
 * once and the rule compiled once per call (ast-grep compiles on every call: per batch with findInFiles). A node it
 * returns is then told apart by kind, or by testing it against each rule (few nodes match, so that costs little).
 */
const COMBINED = new Map(
  (["js", "python"] as const).map((family) => {
    const rules = SAST_RULES.filter((r) => r.matchers[family]);
    const config: NapiConfig = {
      rule: {
        any: [
          ...rules.map((r) => r.matchers[family]!.rule),
          { kind: "comment", regex: SUPPRESSION_TEXT },
          { kind: "ERROR" },
        ],
      },
      utils: Object.assign({}, ...rules.map((r) => r.matchers[family]!.utils ?? {})),
    };
    return [family, { rules, config }] as const;
  }),
);

/** Scans one source text (tests, and files ast-grep's own reader cannot take). */
export function scanSource(language: SastLanguage, source: string): SourceScan {
  return classify(parse(grammarOf(language), source).root(), familyOf(language), source);
}

export interface ScanInput {
  absolute: string;
  language: SastLanguage;
  /** The text as read; a file that is not valid UTF-8 is scanned from it (ast-grep's reader would skip it). */
  source: string;
  utf8: boolean;
}

/**
 * Scans files in parallel on ast-grep's threads, one rule compilation per language for the whole batch (findInFiles),
 * and returns each file's scan by absolute path; a file with no match, comment or error gets an empty scan.
 */
export async function scanFiles(files: readonly ScanInput[]): Promise<Map<string, SourceScan>> {
  const out = new Map<string, SourceScan>();
  const byGrammar = new Map<SastLanguage, ScanInput[]>();
  for (const file of files) {
    if (!file.utf8) {
      out.set(file.absolute, scanSource(file.language, file.source));
      continue;
    }
    const list = byGrammar.get(file.language) ?? [];
    list.push(file);
    byGrammar.set(file.language, list);
  }
  for (const [language, list] of byGrammar) {
    const family = familyOf(language);
    const { config } = COMBINED.get(family)!;
    const sources = new Map(list.map((f) => [f.absolute, f.source]));
    const found = new Map<string, SgNode[]>();
    const complete = await findAll(
      grammarOf(language),
      { paths: [...sources.keys()], matcher: config },
      found,
    );
    for (const file of list) {
      const nodes = found.get(file.absolute);
      // Should a callback never arrive, the batch is scanned again one text at a time rather than missing a file.
      out.set(
        file.absolute,
        complete ? classifyNodes(nodes ?? [], family, file.source) : scanSource(language, file.source),
      );
    }
  }
  return out;
}

/** How long the last callbacks may lag behind findInFiles' promise before the batch is scanned another way. */
const CALLBACK_GRACE_MS = 5_000;

/**
 * findInFiles, waiting for every file's callback (its promise, the number of files with a match, can settle before
 * the last callbacks have run); false when they did not all arrive or one reported an error.
 */
function findAll(grammar: string, config: FindConfig, found: Map<string, SgNode[]>): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let calls = 0;
    let expected = -1;
    let failed = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = () => {
      if (calls !== expected) return;
      clearTimeout(timer);
      resolve(!failed);
    };
    findInFiles(grammar, config, (error, nodes) => {
      calls += 1;
      if (error) failed = true;
      else if (nodes.length > 0) found.set(nodes[0]!.getRoot().filename(), nodes);
      settle();
    }).then((count) => {
      expected = count;
      timer = setTimeout(() => resolve(false), CALLBACK_GRACE_MS);
      settle();
    }, reject);
  });
}

function classify(root: SgNode, family: LanguageFamily, source: string): SourceScan {
  return classifyNodes(root.findAll(COMBINED.get(family)!.config), family, source);
}

function classifyNodes(nodes: readonly SgNode[], family: LanguageFamily, source: string): SourceScan {
  const { rules } = COMBINED.get(family)!;
  const lines = source.split("\n");
  const matches: RuleMatch[] = [];
  const suppressions: SuppressionComment[] = [];
  const errors: SgNode[] = [];
  for (const node of nodes) {
    const kind = node.kind();
    if (kind === "ERROR") {
      errors.push(node);
      continue;
    }
    if (kind === "comment") {
      const suppression = suppressionOf(node, lines, family === "python");
      if (suppression) suppressions.push(suppression);
      continue;
    }
    const { start, end } = node.range();
    const what = describe(node);
    for (const rule of rules) {
      if (!node.matches(rule.matchers[family]!)) continue;
      matches.push({
        rule: rule.id,
        line: start.line + 1,
        column: start.column + 1,
        endLine: end.line + 1,
        endColumn: end.column + 1,
        ...(what ? { what } : {}),
      });
    }
  }
  matches.sort((a, b) => a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : 1));
  suppressions.sort((a, b) => a.line - b.line || a.column - b.column);
  return {
    lines: source.length === 0 ? 0 : lines.length - (source.endsWith("\n") ? 1 : 0),
    matches: applySuppressions(matches, suppressions),
    suppressions,
    parseErrors: errors.slice(0, PARSE_ERRORS_KEPT).map((n) => ({
      line: n.range().start.line + 1,
      column: n.range().start.column + 1,
    })),
    parseErrorCount: errors.length,
  };
}

/** A name chain (`child_process.exec`), or a short literal pair or assignment: code shape, never a data value. */
function describe(node: SgNode): string | undefined {
  const kind = node.kind();
  const name = (n: SgNode | null) => {
    const text = n?.text() ?? "";
    return /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(text) && text.length <= 80 ? text : undefined;
  };
  if (kind === "call_expression" || kind === "call") return name(node.field("function"));
  if (kind === "new_expression") {
    const callee = name(node.field("constructor"));
    return callee ? `new ${callee}` : undefined;
  }
  if (kind === "pair" || kind === "assignment_expression" || kind === "assignment") {
    const [left, right] =
      kind === "pair" ? [node.field("key"), node.field("value")] : [node.field("left"), node.field("right")];
    const key = left?.text().replace(/^["']|["']$/g, "");
    const value = right?.text() ?? "";
    const literal =
      /^(false|False|true|True|["'`][0-9.:[\]]*["'`]|[0-9]+|[\w.]*CERT_NONE|\(\)\s*=>\s*(undefined|null|\{\s*\}))$/.test(
        value,
      );
    if (key && /^[\w$.[\]"']+$/.test(key) && key.length <= 80 && literal)
      return `${key}${kind === "pair" ? ":" : " ="} ${value}`;
  }
  return undefined;
}

/** At the start of the comment, so prose that mentions the syntax (like this line) is not one. */
const GAUNTLET_IGNORE = /^gauntlet-ignore\b\s*:?\s*([\s\S]*)$/;
const NOSEC = /(?:^|[\s#])nosec\b:?\s*([\s\S]*)$/;

function suppressionOf(node: SgNode, lines: readonly string[], python: boolean): SuppressionComment | null {
  const text = node
    .text()
    .replace(/^(\/\/+|\/\*+|#+)\s*/, "")
    .replace(/\*+\/\s*$/, "")
    .trim();
  const { start } = node.range();
  const before = (lines[start.line] ?? "").slice(0, start.column);
  const base = { line: start.line + 1, column: start.column + 1, ownLine: before.trim() === "" };
  const ignore = GAUNTLET_IGNORE.exec(text);
  if (ignore) {
    const rest = ignore[1]!.trim();
    const [head = "", ...tail] = rest.split(/\s+/);
    const rules = head.split(",").filter(Boolean);
    const reason = tail
      .join(" ")
      .replace(/^(--|—|:|-)\s*/, "")
      .trim();
    return { ...base, by: "gauntlet-ignore", rules, ...(reason ? { reason } : {}) };
  }
  // `# nosec` is bandit's convention, honoured for Python only (where code audited with bandit already carries it).
  const nosec = python ? NOSEC.exec(text) : null;
  if (nosec) {
    const rules = (/^[A-Z]\d{3}(\s*,\s*[A-Z]\d{3})*/.exec(nosec[1]!.trim())?.[0] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    return { ...base, by: "nosec", rules };
  }
  return null;
}

/** Whether a suppression names this rule: its id, or one of the bandit test ids it maps to; bare nosec names all. */
export function suppressionCovers(suppression: SuppressionComment, rule: string): boolean {
  if (suppression.by === "nosec" && suppression.rules.length === 0) return true;
  if (suppression.rules.includes(rule)) return true;
  const bandit = RULES_BY_ID.get(rule)?.bandit ?? [];
  return suppression.rules.some((id) => bandit.includes(id));
}

/**
 * The suppression covering a finding that spans lines [line, endLine]: a comment on one of those lines, or alone on
 * the line just above.
 */
export function coveringSuppression(
  suppressions: readonly SuppressionComment[],
  rule: string,
  line: number,
  endLine: number,
): SuppressionComment | undefined {
  return suppressions.find(
    (s) =>
      suppressionCovers(s, rule) &&
      ((s.line >= line && s.line <= endLine) || (s.ownLine && s.line === line - 1)),
  );
}

function applySuppressions(matches: RuleMatch[], suppressions: readonly SuppressionComment[]): RuleMatch[] {
  return matches.map((m) => {
    const s = coveringSuppression(suppressions, m.rule, m.line, m.endLine);
    return s
      ? { ...m, suppressed: { line: s.line, by: s.by, ...(s.reason ? { reason: s.reason } : {}) } }
      : m;
  });
}

/** Rule tokens a suppression names that are neither a rule of the pack nor a bandit test id. */
export function unknownRules(suppression: SuppressionComment): string[] {
  return suppression.rules.filter((id) => !RULES_BY_ID.has(id) && !/^B\d{3}$/.test(id));
}
