// A compose file as YAML nodes with their positions: parse errors told the way a person fixes them (which line is
// indented wrong), `<<: *anchor` merge keys and aliases resolved the way compose resolves them, `!reset` and
// `!override` (compose's override tags) kept on the node.
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
  visit,
  type YAMLMap,
} from "yaml";

export interface Position {
  line: number;
  column: number;
}

export interface YamlProblem extends Position {
  code: string;
  message: string;
}

export interface ParsedYaml {
  docs: Document.Parsed[];
  lines: LineCounter;
  errors: YamlProblem[];
}

/** Compose reads every document of a multi-document file, in order. */
export function parseComposeYaml(text: string): ParsedYaml {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines, merge: true, prettyErrors: false });
  const docs = (Array.isArray(parsed) ? parsed : [parsed]) as Document.Parsed[];
  const errors: YamlProblem[] = [];
  for (const doc of docs) {
    const codes = new Set(doc.errors.map((e) => e.code));
    for (const error of doc.errors) {
      // Both name one over-indented line; MULTILINE_IMPLICIT_KEY says where the line is.
      if (error.code === "BLOCK_AS_IMPLICIT_KEY" && codes.has("MULTILINE_IMPLICIT_KEY")) continue;
      const problem = describeYamlError(text, lines, error.code, error.message, error.pos);
      if (!errors.some((e) => e.line === problem.line && e.code === problem.code)) errors.push(problem);
    }
  }
  return { docs, lines, errors };
}

function describeYamlError(
  text: string,
  lines: LineCounter,
  code: string,
  message: string,
  pos: [number, number],
): YamlProblem {
  const start = lines.linePos(pos[0]);
  const first = message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  switch (code) {
    case "BAD_INDENT":
      return {
        code,
        line: start.line,
        column: start.col,
        message: `line ${start.line} is not indented like the lines beside it: the keys of one mapping (and the items of one list) must start in the same column`,
      };
    case "MULTILINE_IMPLICIT_KEY": {
      // The key that is indented too deep sits on the line where the range ends.
      const end = lines.linePos(Math.max(pos[0], pos[1] - 1));
      const lineText = text.split(/\r?\n/)[end.line - 1] ?? "";
      const column = lineText.length - lineText.trimStart().length + 1;
      return {
        code,
        line: end.line,
        column,
        message: `line ${end.line} is indented deeper than the key above it, so YAML reads it as the rest of line ${end.line - 1}'s value: indent it like the keys beside it`,
      };
    }
    case "TAB_AS_INDENT":
      return {
        code,
        line: start.line,
        column: start.col,
        message: `line ${start.line} is indented with a tab: YAML indents with spaces only`,
      };
    case "DUPLICATE_KEY":
      return {
        code,
        line: start.line,
        column: start.col,
        message: `this key appears twice in the same mapping: compose refuses the file (the second would silently win in other tools)`,
      };
    default:
      return { code, line: start.line, column: start.col, message: `not valid YAML: ${first}` };
  }
}

export function positionOf(node: Node | null | undefined, lines: LineCounter): Position | undefined {
  if (!node?.range) return undefined;
  const { line, col } = lines.linePos(node.range[0]);
  return { line, column: col };
}

// Alias.resolve() searches the whole document for its anchor, and mappings are read many times (merges, layers,
// consistency checks): both are cached per node, which the parsed document never changes.
const aliasTargets = new WeakMap<Node, Node | null>();
const entryLists = new WeakMap<YAMLMap, Entry[]>();

const anchorIndexes = new WeakMap<Document, Map<string, { offset: number; node: Node }[]>>();

/** Every anchored node of a document by anchor name, in file order (one walk, instead of one per alias). */
function anchorsOf(doc: Document): Map<string, { offset: number; node: Node }[]> {
  let index = anchorIndexes.get(doc);
  if (!index) {
    const built = new Map<string, { offset: number; node: Node }[]>();
    visit(doc, {
      Node(_key, node) {
        if (!node.anchor || isAlias(node)) return;
        const list = built.get(node.anchor) ?? [];
        list.push({ offset: node.range?.[0] ?? 0, node });
        built.set(node.anchor, list);
      },
    });
    index = built;
    anchorIndexes.set(doc, index);
  }
  return index;
}

/** The node an alias points to (or the node itself); null for none. */
export function resolved(node: unknown, doc: Document): Node | null {
  if (!node || !isAlias(node)) return (node as Node | null | undefined) ?? null;
  const cached = aliasTargets.get(node);
  if (cached !== undefined) return cached;
  let current = node as Node | null | undefined;
  for (let hops = 0; current && isAlias(current) && hops < 64; hops++) {
    // YAML: an alias names the closest anchor of that name before it.
    const before = current.range?.[0] ?? Number.POSITIVE_INFINITY;
    const candidates = anchorsOf(doc).get(current.source) ?? [];
    current = candidates.filter((c) => c.offset < before).at(-1)?.node;
  }
  aliasTargets.set(node, current ?? null);
  return current ?? null;
}

export interface Entry {
  key: string;
  keyNode: Node;
  /** The value, aliases resolved; null for an empty value. */
  value: Node | null;
  /** Set when the entry comes from a `<<:` merge key rather than being written in this mapping. */
  merged?: boolean;
}

/** A mapping's entries as compose sees them: its own keys, then those merged in by `<<:` that it does not override. */
export function entriesOf(map: YAMLMap, doc: Document, depth = 0): Entry[] {
  const cached = entryLists.get(map);
  if (cached) return cached;
  const own: Entry[] = [];
  const merged: Entry[] = [];
  for (const pair of map.items) {
    const keyNode = pair.key as Node;
    if (isMergeKey(keyNode)) {
      if (depth > 32) continue;
      const target = resolved(pair.value, doc);
      const sources = isSeq(target) ? target.items.map((i) => resolved(i, doc)) : [target];
      for (const source of sources) {
        if (isMap(source)) {
          for (const entry of entriesOf(source, doc, depth + 1)) merged.push({ ...entry, merged: true });
        }
      }
      continue;
    }
    own.push({ key: keyText(keyNode), keyNode, value: resolved(pair.value, doc) });
  }
  const ownKeys = new Set(own.map((e) => e.key));
  const seen = new Set<string>();
  const fromMerge = merged.filter((e) => {
    if (ownKeys.has(e.key) || seen.has(e.key)) return false;
    seen.add(e.key);
    return true;
  });
  const entries = [...own, ...fromMerge];
  entryLists.set(map, entries);
  return entries;
}

function isMergeKey(node: Node): boolean {
  if (!isScalar(node)) return false;
  return typeof node.value === "symbol" || (node.value === "<<" && node.type === "PLAIN");
}

export function keyText(node: unknown): string {
  if (isScalar(node)) return String(node.value);
  return String(node);
}

/** The entry for `key` in a mapping (merges applied), or undefined. */
export function entry(map: Node | null | undefined, key: string, doc: Document): Entry | undefined {
  if (!isMap(map)) return undefined;
  return entriesOf(map, doc).find((e) => e.key === key);
}

/** `!reset` (drop what earlier files set) and `!override` (replace instead of merge) from compose's override files. */
export function overrideTag(node: Node | null | undefined): "reset" | "override" | undefined {
  const tag = (node as { tag?: string } | null | undefined)?.tag;
  if (tag === "!reset") return "reset";
  if (tag === "!override") return "override";
  return undefined;
}
