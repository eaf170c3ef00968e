// parseDocument with bounds: the lexer and parser are driven token by token, so a file nested thousands of levels deep
// or made of hundreds of thousands of tokens stops at the first one past the limit, before the (recursive) composer
// ever sees it. What it returns is what `yaml`'s parseDocument would have returned.
import { Composer, type CST, type Document, Lexer, type LineCounter, Parser, YAMLParseError } from "yaml";
import { MAX_DEPTH, MAX_TOKENS } from "./limits.js";

/** A spec problem found while reading the YAML, at a character offset of the text. */
export interface OffsetProblem {
  offset: number;
  message: string;
  fix: string;
}

export type BoundedParse = { doc: Document.Parsed; stopped?: undefined } | { stopped: OffsetProblem };

const COLLECTIONS = new Set(["block-map", "block-seq", "flow-collection"]);

/** `text` must already have its line ends normalised (the lexer knows \n and \r\n only). */
export function parseBoundedYaml(text: string, lineCounter: LineCounter): BoundedParse {
  // Each syntax error is an Error whose stack the parser never uses; capturing thousands of them (a line of 100 000
  // stray commas) took seconds.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return parse(text, lineCounter);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

function parse(text: string, lineCounter: LineCounter): BoundedParse {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0);
  const tokens: CST.Token[] = [];
  let lexemes = 0;
  for (const lexeme of new Lexer().lex(text)) {
    if (++lexemes > MAX_TOKENS) return { stopped: tooManyTokens(parser.offset) };
    for (const token of parser.next(lexeme)) tokens.push(token);
    // Cheap test first: the stack also holds the document and the scalar being read.
    if (parser.stack.length > MAX_DEPTH) {
      const collections = parser.stack.filter((token) => COLLECTIONS.has(token.type));
      if (collections.length > MAX_DEPTH) return { stopped: tooDeep(collections[MAX_DEPTH]!.offset) };
    }
  }
  for (const token of parser.end()) tokens.push(token);

  let doc: Document.Parsed | undefined;
  // logLevel "error": toJS would print its warnings (a list used as a key) to stderr, outside any problem line.
  const composer = new Composer({ uniqueKeys: false, logLevel: "error" });
  for (const next of composer.compose(tokens, true, text.length)) {
    if (!doc) {
      doc = next;
      continue;
    }
    doc.errors.push(
      new YAMLParseError(
        [next.range[0], next.range[1]],
        "MULTIPLE_DOCS",
        "Source contains multiple documents",
      ),
    );
    break;
  }
  // compose(…, forceDoc = true) always yields a document, an empty one for an empty stream.
  return { doc: doc! };
}

export function tooDeep(offset: number): OffsetProblem {
  return {
    offset,
    message: `mappings and lists nest more than ${MAX_DEPTH} levels deep here; a spec may nest at most ${MAX_DEPTH}`,
    fix: "flatten it: a spec needs a handful of levels (and close every [ and { you open)",
  };
}

function tooManyTokens(offset: number): OffsetProblem {
  return {
    offset,
    message: `the spec holds more than ${MAX_TOKENS} YAML tokens (keys, values, punctuation, line ends) by this point; a spec may hold at most ${MAX_TOKENS}`,
    fix: "a spec describes one system in a few hundred lines: remove generated or pasted content",
  };
}
