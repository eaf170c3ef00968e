// Maps a character offset inside a YAML scalar's parsed value back to the file: quotes, escapes, folding and block
// indentation mean value offsets and source offsets differ, so a PromQL error column must be translated, not copied.
import { type LineCounter, type Node, Scalar } from "yaml";

export interface Position {
  line: number;
  column: number;
}

/** Position of the node's start in the file, or undefined for a node without a range. */
export function nodePosition(node: Node | null | undefined, lines: LineCounter): Position | undefined {
  if (!node?.range) return undefined;
  const { line, col } = lines.linePos(node.range[0]);
  return { line, column: col };
}

/** Position in the file of character `offset` of the scalar's value. */
export function scalarValuePosition(
  source: string,
  node: Scalar,
  offset: number,
  lines: LineCounter,
): Position | undefined {
  if (!node.range || typeof node.value !== "string") return nodePosition(node, lines);
  const offsets = valueOffsets(source, node, node.value);
  const at =
    offset < offsets.length
      ? offsets[offset]!
      : offsets.length > 0
        ? offsets[offsets.length - 1]! + 1
        : node.range[0];
  const { line, col } = lines.linePos(at);
  return { line, column: col };
}

/** offsets[i] = source offset of value character i, aligned greedily (whitespace matches whitespace). */
function valueOffsets(source: string, node: Scalar, value: string): number[] {
  const [start, end] = node.range!;
  let s = start;
  if (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) s = start + 1;
  if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) {
    const newline = source.indexOf("\n", start);
    s = newline === -1 ? end : newline + 1;
  }
  const offsets: number[] = [];
  const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r";
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (node.type === Scalar.QUOTE_DOUBLE && source[s] === "\\") {
      const next = source[s + 1];
      if (next === "\n" || next === "\r") {
        // An escaped line break produces no character; skip it and its indentation, then match this char again.
        s += 2;
        while (isSpace(source[s])) s++;
        i--;
        continue;
      }
      offsets.push(s);
      s += next === "x" ? 4 : next === "u" ? 6 : next === "U" ? 10 : 2;
      continue;
    }
    let t = s;
    while (t < end && !(source[t] === c || (isSpace(c) && isSpace(source[t])))) t++;
    if (t >= end) {
      offsets.push(s);
      continue;
    }
    offsets.push(t);
    s = t + 1;
  }
  return offsets;
}
