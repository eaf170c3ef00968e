// The tags of an XML document, in order, with their attributes and the names of the elements around them. Coverage
// reports are machine-written element-and-attribute XML (Cobertura, JaCoCo): no text content, namespaces or entities
// beyond the five predefined ones matter, and no XML parser is among the project's dependencies, so this reader
// covers exactly that — quote-aware attributes, comments, CDATA, processing instructions, a DOCTYPE with or without
// an internal subset — and refuses what a truncated or broken file looks like (an unclosed tag, a mismatched end tag,
// elements still open at the end), naming the line.

export interface XmlTag {
  name: string;
  /** "open" `<a>`, "empty" `<a/>`, "close" `</a>`. */
  kind: "open" | "empty" | "close";
  attributes: Record<string, string>;
  /** Names of the enclosing elements, outermost first (a live view: read it before the next tag). */
  ancestors: readonly string[];
  line: number;
}

export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ATTRIBUTE = /\s*([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*')/y;

export function* xmlTags(text: string): Generator<XmlTag> {
  const stack: string[] = [];
  let position = 0;
  let line = 1;
  let counted = 0;
  const lineAt = (index: number) => {
    for (let i = counted; i < index; i++) if (text.charCodeAt(i) === 10) line++;
    counted = Math.max(counted, index);
    return line;
  };
  const skipPast = (start: number, terminator: string, what: string) => {
    const end = text.indexOf(terminator, start);
    if (end < 0) throw new XmlSyntaxError(`${what} is never closed (${terminator} missing)`, lineAt(start));
    return end + terminator.length;
  };

  while (true) {
    const lt = text.indexOf("<", position);
    if (lt < 0) break;
    if (text.startsWith("<!--", lt)) {
      position = skipPast(lt + 4, "-->", "a comment");
    } else if (text.startsWith("<![CDATA[", lt)) {
      position = skipPast(lt + 9, "]]>", "a CDATA section");
    } else if (text.startsWith("<?", lt)) {
      position = skipPast(lt + 2, "?>", "a processing instruction");
    } else if (text.startsWith("<!", lt)) {
      position = skipDeclaration(text, lt, lineAt);
    } else if (text.startsWith("</", lt)) {
      NAME.lastIndex = lt + 2;
      const name = NAME.exec(text)?.[0];
      const end = text.indexOf(">", lt);
      if (!name || end < 0 || text.slice(NAME.lastIndex, end).trim() !== "") {
        throw new XmlSyntaxError("a malformed end tag", lineAt(lt));
      }
      const open = stack.pop();
      if (open !== name) {
        throw new XmlSyntaxError(
          open ? `</${name}> closes <${open}>` : `</${name}> has no start tag`,
          lineAt(lt),
        );
      }
      position = end + 1;
      yield { name, kind: "close", attributes: {}, ancestors: stack, line: lineAt(lt) };
    } else {
      NAME.lastIndex = lt + 1;
      const name = NAME.exec(text)?.[0];
      if (!name) throw new XmlSyntaxError("a '<' that starts no tag", lineAt(lt));
      const attributes: Record<string, string> = {};
      let cursor = NAME.lastIndex;
      while (true) {
        ATTRIBUTE.lastIndex = cursor;
        const match = ATTRIBUTE.exec(text);
        if (!match) break;
        attributes[match[1]!] = decodeEntities(match[2]!.slice(1, -1));
        cursor = ATTRIBUTE.lastIndex;
      }
      while (cursor < text.length && /\s/.test(text[cursor]!)) cursor++;
      const line = lineAt(lt);
      if (text.startsWith("/>", cursor)) {
        position = cursor + 2;
        yield { name, kind: "empty", attributes, ancestors: stack, line };
      } else if (text[cursor] === ">") {
        position = cursor + 1;
        yield { name, kind: "open", attributes, ancestors: stack, line };
        stack.push(name);
      } else {
        throw new XmlSyntaxError(
          text.indexOf(">", cursor) < 0
            ? `<${name}> is cut off (the file ends inside it)`
            : `<${name}> is malformed (an attribute without a quoted value?)`,
          line,
        );
      }
    }
  }
  if (stack.length > 0) {
    throw new XmlSyntaxError(
      `<${stack.at(-1)}> is never closed: the file ends before it does (a truncated report?)`,
      lineAt(text.length),
    );
  }
}

/** `<!DOCTYPE …>`, whose internal subset `[…]` may itself hold `>` characters. */
function skipDeclaration(text: string, start: number, lineAt: (index: number) => number): number {
  let inSubset = false;
  let quote: string | null = null;
  for (let i = start + 2; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "[") inSubset = true;
    else if (c === "]") inSubset = false;
    else if (c === ">" && !inSubset) return i + 1;
  }
  throw new XmlSyntaxError("a <!DOCTYPE> declaration is never closed", lineAt(start));
}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeEntities(value: string): string {
  if (!value.includes("&")) return value;
  return value.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (!ref.startsWith("#")) return ENTITIES[ref] ?? whole;
    const code = ref.startsWith("#x") ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}
