// Reads Prometheus rule files the way `promtool check rules` does (rulefmt: groups → rules, exactly one of alert or
// record, an expr, known keys only, every expr valid PromQL with its types), keeping every node's file position so
// each problem can point at its line and column. What promtool takes as empty (a null `groups:` or `rules:`, a null
// list item) is empty here too, not a problem.
import { readFile } from "node:fs/promises";
import path from "node:path";
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Scalar,
  type YAMLMap,
} from "yaml";
import { expandPattern } from "../files/glob.js";
import { validatePromql } from "./promqlTypes.js";
import { nodePosition, type Position, scalarValuePosition } from "./yamlPosition.js";

export interface RuleDefinition {
  kind: "alert" | "record";
  name: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  group: string;
  file: string;
  /** Where the rule's mapping starts (the "- alert:" line). */
  position: Position;
  exprPosition?: Position;
}

export interface RuleProblem {
  file: string;
  line: number;
  column: number;
  kind: "yaml" | "format" | "promql";
  message: string;
  group?: string;
  rule?: string;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: RuleDefinition[];
}

export interface RuleFile {
  file: string;
  groups: RuleGroup[];
  problems: RuleProblem[];
}

const GROUP_KEYS = new Set(["name", "interval", "limit", "rules", "query_offset"]);
const RULE_KEYS = new Set(["alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"]);
const DURATION = /^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export async function loadRuleFile(absolutePath: string, displayPath: string): Promise<RuleFile> {
  return parseRuleFile(await readFile(absolutePath, "utf8"), displayPath);
}

/** Parses and validates one rule file's text; `file` is the path used in every problem and rule. */
export function parseRuleFile(source: string, file: string): RuleFile {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const result: RuleFile = { file, groups: [], problems: [] };
  const problem = (
    kind: RuleProblem["kind"],
    at: Position | undefined,
    message: string,
    extra: { group?: string; rule?: string } = {},
  ) => result.problems.push({ file, line: at?.line ?? 1, column: at?.column ?? 1, kind, message, ...extra });

  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const at = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
      problem(
        "yaml",
        at ? { line: at.line, column: at.col } : undefined,
        `YAML: ${error.message.split("\n")[0]}`,
      );
    }
    return result;
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return result; // an empty file holds no rules
  if (!isMap(root)) {
    problem(
      "format",
      nodePosition(root, lines),
      "a rule file must be a mapping with a top-level groups: list",
    );
    return result;
  }
  for (const pair of root.items) {
    const key = keyOf(pair.key);
    if (key !== "groups")
      problem(
        "format",
        nodePosition(pair.key as Node, lines),
        `unknown top-level key "${key}" (only groups is allowed)`,
      );
  }
  const groups = root.get("groups", true);
  if (!groups) {
    problem("format", nodePosition(root, lines), "no groups: key");
    return result;
  }
  if (isNull(groups)) return result;
  if (!isSeq(groups)) {
    problem("format", nodePosition(groups as Node, lines), "groups must be a list");
    return result;
  }
  const seenGroups = new Set<string>();
  for (const groupNode of groups.items) {
    if (isNull(groupNode)) continue;
    const groupAt = nodePosition(groupNode as Node, lines);
    if (!isMap(groupNode)) {
      problem("format", groupAt, "each group must be a mapping with name and rules");
      continue;
    }
    for (const pair of groupNode.items) {
      const key = keyOf(pair.key);
      if (!GROUP_KEYS.has(key))
        problem("format", nodePosition(pair.key as Node, lines), `unknown group key "${key}"`);
    }
    const name = stringAt(groupNode, "name");
    if (!name) {
      problem("format", groupAt, "group without a name");
      continue;
    }
    if (seenGroups.has(name))
      problem("format", groupAt, `group "${name}" is defined twice in this file`, { group: name });
    seenGroups.add(name);
    const group: RuleGroup = { name, rules: [] };
    const interval = stringAt(groupNode, "interval");
    if (interval !== undefined) {
      group.interval = interval;
      if (!isDuration(interval))
        problem(
          "format",
          nodePosition(groupNode.get("interval", true) as Node, lines),
          `group "${name}": invalid interval "${interval}"`,
          { group: name },
        );
    }
    result.groups.push(group);
    const rules = groupNode.get("rules", true);
    // `rules:` with nothing after it is a null scalar, which promtool reads as no rules.
    if (rules === undefined || isNull(rules)) continue;
    if (!isSeq(rules)) {
      problem("format", nodePosition(rules as Node, lines), `group "${name}": rules must be a list`, {
        group: name,
      });
      continue;
    }
    for (const [index, ruleNode] of rules.items.entries()) {
      if (isNull(ruleNode)) continue;
      const rule = readRule(ruleNode as Node, index, name, file, source, lines, problem);
      if (rule) group.rules.push(rule);
    }
  }
  return result;
}

type Report = (
  kind: RuleProblem["kind"],
  at: Position | undefined,
  message: string,
  extra?: { group?: string; rule?: string },
) => void;

function readRule(
  node: Node,
  index: number,
  group: string,
  file: string,
  source: string,
  lines: LineCounter,
  problem: Report,
): RuleDefinition | null {
  const at = nodePosition(node, lines);
  const label = `group "${group}", rule ${index + 1}`;
  if (!isMap(node)) {
    problem("format", at, `${label}: a rule must be a mapping`, { group });
    return null;
  }
  const alert = stringAt(node, "alert");
  const record = stringAt(node, "record");
  const name = alert ?? record ?? "";
  const extra = { group, rule: name || `#${index + 1}` };
  const where = name ? `${label} "${name}"` : label;
  for (const pair of node.items) {
    const key = keyOf(pair.key);
    if (!RULE_KEYS.has(key))
      problem("format", nodePosition(pair.key as Node, lines), `${where}: unknown rule key "${key}"`, extra);
  }
  if ((alert === undefined) === (record === undefined)) {
    problem("format", at, `${where}: a rule needs exactly one of alert or record`, extra);
    return null;
  }
  if (record !== undefined && !METRIC_NAME.test(record))
    problem("format", at, `${where}: "${record}" is not a valid metric name for record`, extra);
  if (alert !== undefined && alert.trim() === "")
    problem("format", at, `${label}: the alert name is empty`, extra);
  const exprNode = node.get("expr", true) as Node | undefined;
  const expr = isScalar(exprNode) ? scalarText(exprNode) : undefined;
  const rule: RuleDefinition = {
    kind: alert !== undefined ? "alert" : "record",
    name,
    expr: expr ?? "",
    labels: stringMap(node, "labels", where, lines, problem, extra, true),
    annotations: stringMap(node, "annotations", where, lines, problem, extra, false),
    group,
    file,
    position: at ?? { line: 1, column: 1 },
  };
  const exprAt = nodePosition(exprNode, lines);
  if (exprAt) rule.exprPosition = exprAt;
  const forValue = stringAt(node, "for");
  if (forValue !== undefined) rule.for = forValue;
  for (const key of ["for", "keep_firing_for"]) {
    const value = stringAt(node, key);
    if (value === undefined) continue;
    if (record !== undefined)
      problem(
        "format",
        nodePosition(node.get(key, true) as Node, lines),
        `${where}: ${key} is only allowed on alerting rules`,
        extra,
      );
    else if (!isDuration(value))
      problem(
        "format",
        nodePosition(node.get(key, true) as Node, lines),
        `${where}: invalid ${key} duration "${value}" (write e.g. 5m)`,
        extra,
      );
  }
  if (record !== undefined && node.has("annotations"))
    problem("format", at, `${where}: annotations are only allowed on alerting rules`, extra);
  if (expr === undefined || expr.trim() === "") {
    problem("format", exprAt ?? at, `${where}: the rule has no expr`, extra);
    return rule;
  }
  const invalid = validatePromql(expr);
  if (invalid) {
    const position = scalarValuePosition(source, exprNode as Scalar, invalid.offset, lines) ?? exprAt;
    problem("promql", position, `${where}: invalid PromQL: ${invalid.message}`, extra);
  }
  return rule;
}

function stringMap(
  node: YAMLMap,
  key: string,
  where: string,
  lines: LineCounter,
  problem: Report,
  extra: { group: string; rule: string },
  labelNames: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  const value = node.get(key, true) as Node | undefined;
  if (value === undefined || (isScalar(value) && value.value === null)) return out;
  if (!isMap(value)) {
    problem(
      "format",
      nodePosition(value, lines),
      `${where}: ${key} must be a mapping of names to strings`,
      extra,
    );
    return out;
  }
  for (const pair of value.items) {
    const name = keyOf(pair.key);
    if (labelNames && !LABEL_NAME.test(name))
      problem(
        "format",
        nodePosition(pair.key as Node, lines),
        `${where}: "${name}" is not a valid label name`,
        extra,
      );
    const v = pair.value;
    out[name] = isScalar(v) ? scalarText(v) : "";
  }
  return out;
}

function isNull(node: unknown): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function isDuration(value: string): boolean {
  return value === "0" || (value !== "" && DURATION.test(value));
}

function keyOf(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function stringAt(map: YAMLMap, key: string): string | undefined {
  const node = map.get(key, true);
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  return scalarText(node);
}

function scalarText(node: Scalar): string {
  return typeof node.value === "string" ? node.value : String(node.value);
}

export interface RuleSet {
  files: RuleFile[];
  /** Absolute paths, in the order of `files`. */
  absolute: string[];
  /** Patterns that matched no file. */
  unmatched: string[];
}

/** Expands monitoring.rules patterns (relative to specDir) and parses every file once, in a stable order. */
export async function loadRuleSet(specDir: string, patterns: string[]): Promise<RuleSet> {
  return loadRuleFiles(await findRuleFiles(specDir, patterns));
}

export interface FoundRuleFiles {
  /** Absolute paths, each once, in pattern order. */
  absolute: string[];
  /** The same files relative to the spec's folder, as problems and findings name them. */
  display: string[];
  /** Patterns that matched no file. */
  unmatched: string[];
}

/** Expands monitoring.rules patterns (relative to specDir) without reading the files (e.g. to start promtool early). */
export async function findRuleFiles(specDir: string, patterns: string[]): Promise<FoundRuleFiles> {
  const found: FoundRuleFiles = { absolute: [], display: [], unmatched: [] };
  const seen = new Set<string>();
  for (const pattern of patterns) {
    const matched = await expandPattern(specDir, pattern);
    if (matched.length === 0) found.unmatched.push(pattern);
    for (const file of matched) {
      if (seen.has(file)) continue;
      seen.add(file);
      found.absolute.push(file);
      found.display.push(path.relative(specDir, file).split(path.sep).join("/"));
    }
  }
  return found;
}

/** Parses and validates every found file once, in order. */
export async function loadRuleFiles(found: FoundRuleFiles): Promise<RuleSet> {
  const files: RuleFile[] = [];
  for (const [i, file] of found.absolute.entries()) files.push(await loadRuleFile(file, found.display[i]!));
  return { files, absolute: [...found.absolute], unmatched: [...found.unmatched] };
}

/** Every rule of the set, alerting and recording. */
export function allRules(set: RuleSet): RuleDefinition[] {
  return set.files.flatMap((f) => f.groups.flatMap((g) => g.rules));
}
