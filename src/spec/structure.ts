// What the YAML parser accepts but a spec must not be: aliases with no anchor, aliases that contain themselves, aliases
// that multiply a document past the size bounds (a "billion laughs"), values too long to be a setting, and keys that
// are not names. One walk in document order, resolving each alias to the last anchor of its name above it, as YAML does.
import { type Alias, type Document, isAlias, isCollection, isPair, isScalar, type Node } from "yaml";
import type { OffsetProblem } from "./boundedYaml.js";
import { tooDeep } from "./boundedYaml.js";
import { formatBytes, MAX_DEPTH, MAX_EXPANDED_CHARS, MAX_NODES, MAX_VALUE_LENGTH } from "./limits.js";

export interface StructureCheck {
  problems: OffsetProblem[];
  /** The node each alias names, for finding a path's position through aliases without searching the document. */
  aliasTargets: Map<Alias, Node>;
}

/** What a node becomes once its aliases are expanded. */
interface Size {
  nodes: number;
  chars: number;
  /** Mappings and lists inside one another, this node included. */
  depth: number;
}

const NOTHING: Size = { nodes: 0, chars: 0, depth: 0 };

/** Thrown inside the walk once the expansion passed a bound: the rest would only repeat it. */
class ExpansionStopped extends Error {}

export function checkStructure(doc: Document): StructureCheck {
  const problems: OffsetProblem[] = [];
  const aliasTargets = new Map<Alias, Node>();
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, Size>();
  const open = new Set<Node>();
  const total = { nodes: 0, chars: 0 };

  const count = (added: Size, at: number, alias: Alias | undefined) => {
    total.nodes += added.nodes;
    total.chars += added.chars;
    if (total.nodes <= MAX_NODES && total.chars <= MAX_EXPANDED_CHARS) return;
    const through = alias ? `through *${alias.source}, ` : "";
    problems.push({
      offset: at,
      message:
        total.nodes > MAX_NODES
          ? `${through}the spec expands to more than ${MAX_NODES} keys and values; a spec may hold at most ${MAX_NODES}`
          : `${through}the spec expands to more than ${formatBytes(MAX_EXPANDED_CHARS)} of text; a spec may hold at most ${formatBytes(MAX_EXPANDED_CHARS)}`,
      fix: alias
        ? "use this alias fewer times, or name a smaller node: each use counts as a copy of what it names"
        : "a spec describes one system in a few hundred values: remove generated or pasted content",
    });
    throw new ExpansionStopped();
  };

  const visit = (node: unknown, depth: number): Size => {
    if (isAlias(node)) return visitAlias(node, depth);
    if (isPair(node)) {
      const keyProblem = badKey(node.key);
      if (keyProblem) problems.push(keyProblem);
      const key = visit(node.key, depth);
      const value = visit(node.value, depth);
      return add(key, value);
    }
    if (!isScalar(node) && !isCollection(node)) return NOTHING;
    const offset = node.range?.[0] ?? 0;
    if (node.anchor) anchors.set(node.anchor, node);
    if (isScalar(node)) {
      const chars = typeof node.value === "string" ? node.value.length : 1;
      if (chars > MAX_VALUE_LENGTH) problems.push(tooLong(offset, chars));
      const size = { nodes: 1, chars, depth: 0 };
      count(size, offset, undefined);
      if (node.anchor) sizes.set(node, size);
      return size;
    }
    count({ nodes: 1, chars: 0, depth: 0 }, offset, undefined);
    open.add(node);
    let size: Size = { nodes: 1, chars: 0, depth: 0 };
    for (const item of node.items) size = add(size, visit(item, depth + 1));
    open.delete(node);
    size = { ...size, depth: size.depth + 1 };
    if (node.anchor) sizes.set(node, size);
    return size;
  };

  const visitAlias = (alias: Alias, depth: number): Size => {
    const offset = alias.range?.[0] ?? 0;
    const target = anchors.get(alias.source);
    if (!target) {
      problems.push({
        offset,
        message: `no anchor named ${alias.source} above this line`,
        fix: `define it with &${alias.source} first`,
      });
      return NOTHING;
    }
    aliasTargets.set(alias, target);
    if (open.has(target)) {
      problems.push({
        offset,
        message: `*${alias.source} is inside the node &${alias.source} names, so it would repeat itself forever`,
        fix: `name a node outside this one, or write the value out instead of *${alias.source}`,
      });
      return NOTHING;
    }
    const size = sizes.get(target) ?? NOTHING;
    if (depth + size.depth > MAX_DEPTH) {
      const deep = tooDeep(offset);
      problems.push({ ...deep, message: `through *${alias.source}, ${deep.message}` });
      throw new ExpansionStopped();
    }
    count(size, offset, alias);
    return size;
  };

  try {
    visit(doc.contents, 0);
  } catch (error) {
    if (!(error instanceof ExpansionStopped)) throw error;
  }
  return { problems, aliasTargets };
}

function add(a: Size, b: Size): Size {
  return { nodes: a.nodes + b.nodes, chars: a.chars + b.chars, depth: Math.max(a.depth, b.depth) };
}

/** A key a spec cannot have: a list or mapping (`? [a, b]`), or `__proto__`, which JavaScript reads as a prototype. */
function badKey(key: unknown): OffsetProblem | undefined {
  if (isCollection(key)) {
    return {
      offset: key.range?.[0] ?? 0,
      message: "this key is a list or a mapping; a spec's keys are names",
      fix: "write the key as a plain name, e.g. api:",
    };
  }
  if (isScalar(key) && key.value === "__proto__") {
    return {
      offset: key.range?.[0] ?? 0,
      message: "__proto__ cannot be a key: JavaScript would read it as the object's prototype",
      fix: "rename it",
    };
  }
  return undefined;
}

function tooLong(offset: number, chars: number): OffsetProblem {
  return {
    offset,
    message: `this value is ${chars} characters long; a key or value may be at most ${MAX_VALUE_LENGTH} characters (${formatBytes(MAX_VALUE_LENGTH)})`,
    fix: "shorten it: a long script, query or body belongs in a file the spec names by path",
  };
}
