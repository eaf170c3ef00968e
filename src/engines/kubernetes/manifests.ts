// Kubernetes manifest files as objects with positions: multi-document YAML read the way kubectl reads it (YAML 1.1
// scalars, so `on` is a boolean; duplicate keys are an error; `kind: List` expanded into its items), each object able
// to say at which line and column any of its fields is written. A Helm or other template (`{{ … }}`) is recognised and
// reported as such rather than as broken YAML.
import { isMap, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";

export type FieldPath = readonly (string | number)[];

export interface Position {
  line: number;
  column: number;
}

export interface ManifestObject {
  file: string;
  /** 0-based index of the YAML document in the file. */
  document: number;
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  /** The object as plain data. */
  value: Record<string, unknown>;
  /** Where the object starts. */
  line: number;
  column: number;
  /** Where a field (path from the object's root) is written; the nearest written ancestor when it is absent. */
  positionOf(path: FieldPath): Position;
}

export interface ManifestProblem {
  file: string;
  line: number;
  column: number;
  message: string;
  /** The file is a template (Helm, Kustomize vars…): render it first. */
  template?: boolean;
}

export interface ParsedManifests {
  objects: ManifestObject[];
  problems: ManifestProblem[];
  /** Documents that are not Kubernetes objects (no apiVersion or kind), with where they start. */
  notObjects: Position[];
}

const TEMPLATE = /\{\{[\s\S]*?\}\}/;
/**
 * Template syntax where YAML structure goes (a `{{- if }}` line, an unquoted `key: {{ … }}`) or naming Helm's objects:
 * a file a chart renders. A `{{ $labels.x }}` inside a quoted string (an alert annotation in a ConfigMap) is not.
 */
const TEMPLATE_FILE =
  /^\s*\{\{-?\s*(?:if|else|end|range|with|define|include|template|\/\*)\b|^\s*(?:-\s+)?[\w.-]+:\s+\{\{|\{\{-?\s*(?:\.(?:Values|Release|Chart|Capabilities|Files)\b|include\b|template\b|toYaml\b|tpl\b)/m;

export function parseManifestText(text: string, file: string): ParsedManifests {
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, {
    lineCounter: lines,
    version: "1.1",
    merge: true,
    prettyErrors: false,
  });
  const out: ParsedManifests = { objects: [], problems: [], notObjects: [] };
  const at = (offset: number): Position => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  if (TEMPLATE_FILE.test(text)) {
    const line = text.split("\n").findIndex((l) => TEMPLATE_FILE.test(l)) + 1;
    out.problems.push({
      file,
      line: Math.max(line, 1),
      column: 1,
      message: "a template, not a manifest",
      template: true,
    });
    return out;
  }
  const template = TEMPLATE.test(text);
  const docs = Array.isArray(documents) ? documents : [documents];
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      const first = doc.errors[0]!;
      out.problems.push({
        file,
        ...at(first.pos[0]),
        message: `not valid YAML: ${first.message.split("\n")[0]}`,
        ...(template ? { template: true } : {}),
      });
      return;
    }
    if (doc.contents === null) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      out.problems.push({
        file,
        ...at(doc.contents.range?.[0] ?? 0),
        message: `not valid YAML: ${(error as Error).message}`,
      });
      return;
    }
    if (value === null || value === undefined) return;
    const positionOf = (root: FieldPath) => (path: FieldPath) =>
      nodePosition(doc.contents, [...root, ...path], at);
    const addObject = (object: unknown, root: FieldPath) => {
      const start = positionOf(root)([]);
      if (
        !isPlainObject(object) ||
        typeof object.kind !== "string" ||
        typeof object.apiVersion !== "string"
      ) {
        if (template && JSON.stringify(object ?? "").includes("{{")) {
          out.problems.push({ file, ...start, message: "a template, not a manifest", template: true });
        } else {
          out.notObjects.push(start);
        }
        return;
      }
      const metadata = isPlainObject(object.metadata) ? object.metadata : {};
      out.objects.push({
        file,
        document: index,
        apiVersion: object.apiVersion,
        kind: object.kind,
        name:
          typeof metadata.name === "string"
            ? metadata.name
            : typeof metadata.generateName === "string"
              ? `${metadata.generateName}*`
              : "",
        ...(typeof metadata.namespace === "string" ? { namespace: metadata.namespace } : {}),
        value: object,
        ...start,
        positionOf: positionOf(root),
      });
    };
    // kind: List (and FooList) carries its objects in items.
    if (
      isPlainObject(value) &&
      typeof value.kind === "string" &&
      value.kind.endsWith("List") &&
      Array.isArray(value.items)
    ) {
      for (const [i, item] of value.items.entries()) addObject(item, ["items", i]);
    } else {
      addObject(value, []);
    }
  });
  if (template && out.objects.length === 0 && out.problems.length === 0) {
    out.problems.push({ file, line: 1, column: 1, message: "a template, not a manifest", template: true });
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The position of the node at `path`, or of its nearest ancestor that is written. */
function nodePosition(root: Node | null, path: FieldPath, at: (offset: number) => Position): Position {
  let node: unknown = root;
  let found: Position = at((root as Node | null)?.range?.[0] ?? 0);
  for (const key of path) {
    let next: unknown;
    let keyNode: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k = p.key as { value?: unknown } | null;
        return (k && typeof k === "object" && "value" in k ? k.value : k) === key;
      });
      keyNode = pair?.key;
      next = pair?.value;
    } else if (isSeq(node) && typeof key === "number") {
      next = node.items[key];
      keyNode = next;
    } else {
      break;
    }
    const keyRange = (keyNode as Node | undefined)?.range;
    if (!keyRange) break;
    found = at(keyRange[0]);
    node = next;
  }
  return found;
}
