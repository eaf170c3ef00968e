// What a CI pipeline file was found to do, whatever the CI system: its test steps ("guards") and whether each runs,
// and can fail, on a push to the main branch and on a pull (merge) request — the two moments that keep main green.
// The YAML helpers shared by the GitHub Actions and GitLab CI readers live here too.
import { isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments, type YAMLMap } from "yaml";
import { nodePosition, type Position } from "../prometheus/yamlPosition.js";

export type { Position };

/** yes: it runs; no: it does not; maybe: it depends on something only known when the pipeline runs. */
export type Runs = "yes" | "no" | "maybe";

export interface EventRun {
  runs: Runs;
  /** Why, in a few words (`push.branches [release/*] does not match main`). */
  why: string;
  /** Set when it runs only for some changes (`paths:`, `changes:`). */
  partial?: string;
}

export interface Guard {
  file: string;
  job: string;
  /** The step's name (or "step N") for GitHub Actions. */
  step?: string;
  /** The line that runs the tests. */
  command: string;
  runner: string;
  at: Position;
  push: EventRun;
  pullRequest: EventRun;
  /** Never runs by itself: `if: false`, `when: manual`, `when: never`. */
  disabled?: string;
  /** Runs but its failure fails nothing: `continue-on-error: true`, `allow_failure: true`, `|| true`. */
  cannotFail?: string;
  /** How the step is reached from this file: a reusable workflow, a child pipeline. */
  via?: string;
}

export interface PipelineProblem extends Position {
  message: string;
}

export interface PipelineAnalysis {
  file: string;
  system: "github-actions" | "gitlab-ci" | "unknown";
  /** YAML errors and structure a CI system would reject; a file with problems guards nothing. */
  problems: PipelineProblem[];
  guards: Guard[];
  /** When the pipeline as a whole runs, per event, before job conditions. */
  push: EventRun;
  pullRequest: EventRun;
  /** Where its triggers are written (on:, workflow:), else the top of the file. */
  at: Position;
  /** Included or called configuration that could not be read (remote includes, other repositories' workflows). */
  unread: string[];
}

/** A pipeline file's text, with its path relative to the repository (how `uses: ./…` and `include: local` name it). */
export interface PipelineSource {
  /** As findings name it (relative to the spec's folder). */
  file: string;
  /** Relative to the repository root, with forward slashes. */
  repoPath: string;
  text: string;
}

/** Other files of the repository the pipeline names (called workflows, local includes), by repository path. */
export interface SourceLookup {
  get(repoPath: string): PipelineSource | undefined;
  /** Every repository path known, for an include written as a glob. */
  paths(): string[];
}

export interface ParsedYaml {
  root: Node | null;
  lines: LineCounter;
  problems: PipelineProblem[];
}

/** Parses one YAML file; with several documents (a GitLab component's spec header), the last is the configuration. */
export function parseYaml(source: string): ParsedYaml {
  const lines = new LineCounter();
  const docs = parseAllDocuments(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: PipelineProblem[] = [];
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    for (const error of doc.errors) {
      const at = error.linePos?.[0] ?? lines.linePos(error.pos[0]);
      problems.push({ line: at.line, column: at.col, message: `YAML: ${error.message.split("\n")[0]}` });
    }
  }
  if (!Array.isArray(docs)) {
    // An empty stream, or only comments.
    return { root: null, lines, problems };
  }
  const doc = list[list.length - 1];
  return { root: (doc?.contents as Node | null | undefined) ?? null, lines, problems };
}

export function positionOf(
  node: unknown,
  lines: LineCounter,
  fallback: Position = { line: 1, column: 1 },
): Position {
  return nodePosition(node as Node, lines) ?? fallback;
}

/** The value node of `key` in a mapping (undefined when absent or not a mapping). */
export function child(node: unknown, key: string): Node | undefined {
  if (!isMap(node)) return undefined;
  const pair = (node as YAMLMap).items.find((p) => keyText(p.key) === key);
  return (pair?.value ?? (pair ? null : undefined)) as Node | undefined;
}

/** The key node of `key` in a mapping, for positions. */
export function keyNode(node: unknown, key: string): Node | undefined {
  if (!isMap(node)) return undefined;
  return (node as YAMLMap).items.find((p) => keyText(p.key) === key)?.key as Node | undefined;
}

export function has(node: unknown, key: string): boolean {
  return isMap(node) && (node as YAMLMap).items.some((p) => keyText(p.key) === key);
}

export function entries(node: unknown): { key: string; keyNode: Node; value: Node | null }[] {
  if (!isMap(node)) return [];
  return (node as YAMLMap).items.map((p) => ({
    key: keyText(p.key),
    keyNode: p.key as Node,
    value: (p.value ?? null) as Node | null,
  }));
}

export function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** A scalar's text (numbers and booleans as written by YAML 1.2), or undefined for anything else. */
export function text(node: unknown): string | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  return String(node.value);
}

/** A string or a list of strings (nested lists flattened, as GitLab allows in script:). */
export function strings(node: unknown): string[] {
  if (node === undefined || node === null) return [];
  if (isSeq(node)) return node.items.flatMap((item) => strings(item));
  const value = text(node);
  return value === undefined ? [] : [value];
}

export function isNullNode(node: unknown): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

/** Both events must allow it: no wins over maybe, maybe over yes; the first partial note is kept. */
export function both(a: EventRun, b: EventRun): EventRun {
  const rank = { no: 0, maybe: 1, yes: 2 } as const;
  const low = rank[a.runs] <= rank[b.runs] ? a : b;
  const partial = a.partial ?? b.partial;
  const why = low.runs === "yes" ? a.why || b.why : low.why;
  return { runs: low.runs, why, ...(partial ? { partial } : {}) };
}
