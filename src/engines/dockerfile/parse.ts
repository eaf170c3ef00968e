// A Dockerfile as plain data: instructions with 1-based positions, build stages (which one builds on which), the
// global ARG defaults FROM may use, and hadolint's inline pragmas. Parsing is dockerfile-ast's (the parser of the
// VS Code Docker extension); what the rules need is copied out so that nothing downstream depends on its classes.
import { type Argument, DockerfileParser, type Instruction, Keyword, type Property } from "dockerfile-ast";

export interface DockerProperty {
  name: string;
  /** The value with its quotes removed; null for `ARG NAME` without a default. */
  value: string | null;
  quoted: boolean;
  line: number;
  column: number;
  /** Where the value starts (1-based); absent without a value. */
  valueLine?: number;
  valueColumn?: number;
}

export interface DockerHeredoc {
  name: string;
  /** 0-based line indices of the body (first to last) and of the closing delimiter, -1 when unterminated. */
  bodyFirst: number;
  bodyLast: number;
  delimiterLine: number;
}

export interface DockerInstruction {
  /** Upper case, as Docker compares it. */
  keyword: string;
  line: number;
  column: number;
  endLine: number;
  /** Index into stages; -1 before the first FROM. */
  stage: number;
  /** The arguments as written (continuations, comments and heredoc bodies included); "" without arguments. */
  args: string;
  /** 0-based position where the arguments start, for mapping offsets in them back to the file. */
  argsLine0: number;
  argsColumn0: number;
  flags: { name: string; value: string | null }[];
  /** Exec form (`["npm", "start"]`): the strings. null for shell form (Docker treats invalid JSON as shell form). */
  json: string[] | null;
  heredocs: DockerHeredoc[];
  /** ENV, ARG and LABEL pairs. */
  properties: DockerProperty[];
}

export interface DockerStage {
  index: number;
  line: number;
  column: number;
  /** The image as written after FROM (flags removed). */
  image: string;
  /** The image with the global ARG defaults substituted; null when a variable has no default. */
  resolvedImage: string | null;
  /** Variables the image uses that have no default (only a --build-arg can set them). */
  unresolved: string[];
  alias?: string;
  /** The earlier stage this one builds on (`FROM builder`), whose USER, ENV and SHELL it inherits. */
  parent?: number;
  platform?: string;
  /** Indices into the instructions of the stage's own instructions, FROM included. */
  instructions: number[];
}

export interface HadolintPragma {
  line: number;
  ids: string[];
  global: boolean;
  /** The line of the instruction an inline pragma silences (the next one); absent for a global one or none. */
  appliesTo?: number;
}

export interface DockerfileModel {
  /** The escape character (`\`, or a backtick with `# escape=\``). */
  escapeChar: string;
  /** The file's lines without line ends. */
  lines: string[];
  instructions: DockerInstruction[];
  stages: DockerStage[];
  pragmas: HadolintPragma[];
  /** ARGs declared before the first FROM with their defaults: the only variables FROM may use. */
  globalArgs: Record<string, string | null>;
}

const KEYWORDS = new Set<string>(Object.values(Keyword));

export function isKnownKeyword(keyword: string): boolean {
  return KEYWORDS.has(keyword.toUpperCase());
}

export function parseDockerfile(text: string): DockerfileModel {
  const normalised = text.replace(/\r\n?/g, "\n");
  const lines = normalised.split("\n");
  const ast = DockerfileParser.parse(normalised);
  const escapeChar = ast.getEscapeCharacter() || "\\";
  const instructions: DockerInstruction[] = [];
  const stages: DockerStage[] = [];
  const globalArgs: Record<string, string | null> = {};

  for (const node of ast.getInstructions()) {
    const keyword = node.getKeyword().toUpperCase();
    const range = node.getRange();
    const argsRange = node.getArgumentsRange();
    const args = node.getRawArgumentsContent() ?? "";
    const instruction: DockerInstruction = {
      keyword,
      line: range.start.line + 1,
      column: range.start.character + 1,
      endLine: range.end.line + 1,
      stage: stages.length - 1,
      args,
      argsLine0: argsRange?.start.line ?? range.start.line,
      argsColumn0: argsRange?.start.character ?? range.end.character,
      flags: flagsOf(node),
      json: keyword === "FROM" ? null : execForm(args, escapeChar),
      heredocs: heredocsOf(node),
      properties: propertiesOf(node, normalised),
    };
    if (keyword === "FROM") {
      const stage = stageOf(node, stages, globalArgs, instructions.length);
      stages.push(stage);
      instruction.stage = stage.index;
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instructions.length);
    } else if (keyword === "ARG") {
      for (const p of instruction.properties) globalArgs[p.name] = p.value;
    }
    instructions.push(instruction);
  }
  return { escapeChar, lines, instructions, stages, pragmas: pragmasOf(lines, instructions), globalArgs };
}

function flagsOf(node: Instruction): DockerInstruction["flags"] {
  const withFlags = node as Instruction & {
    getFlags?: () => { getName(): string; getValue(): string | null }[];
  };
  return (withFlags.getFlags?.() ?? []).map((f) => ({ name: f.getName(), value: f.getValue() }));
}

/** `["a", "b"]` as Docker reads it: a JSON array of strings, else null (shell form). */
function execForm(args: string, escapeChar: string): string[] | null {
  const joined = joinContinuations(args, escapeChar).trim();
  if (!joined.startsWith("[")) return null;
  try {
    const value: unknown = JSON.parse(joined);
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : null;
  } catch {
    return null;
  }
}

/** The arguments on one line, as Docker joins them: escaped line ends removed, comment lines inside dropped. */
export function joinContinuations(args: string, escapeChar: string): string {
  const out: string[] = [];
  const physical = args.split("\n");
  physical.forEach((line, i) => {
    if (i > 0 && (line.trim() === "" || line.trimStart().startsWith("#"))) return;
    out.push(endsWithEscape(line, escapeChar) ? line.slice(0, line.lastIndexOf(escapeChar)) : line);
  });
  return out.join("");
}

export function endsWithEscape(line: string, escapeChar: string): boolean {
  const trimmed = line.replace(/[ \t]+$/, "");
  return trimmed.endsWith(escapeChar);
}

function heredocsOf(node: Instruction): DockerHeredoc[] {
  const withHeredocs = node as Instruction & {
    getHeredocs?: () => {
      getName(): string;
      getContentRange(): { start: { line: number }; end: { line: number; character: number } } | null;
      getDelimiterRange(): { start: { line: number } } | null;
      getStartRange(): { start: { line: number } };
    }[];
  };
  return (withHeredocs.getHeredocs?.() ?? []).map((h) => {
    const content = h.getContentRange();
    const delimiter = h.getDelimiterRange();
    const start = h.getStartRange().start.line;
    const bodyFirst = content ? content.start.line : start + 1;
    // An empty body has no content range; the body then ends just before the delimiter.
    const bodyLast = content ? content.end.line : bodyFirst - 1;
    return { name: h.getName(), bodyFirst, bodyLast, delimiterLine: delimiter ? delimiter.start.line : -1 };
  });
}

function propertiesOf(node: Instruction, text: string): DockerProperty[] {
  const keyword = node.getKeyword().toUpperCase();
  if (keyword !== "ENV" && keyword !== "ARG" && keyword !== "LABEL") return [];
  const withProperties = node as Instruction & { getProperties?: () => Property[] };
  const lineStarts = lineStartsOf(text);
  return (withProperties.getProperties?.() ?? []).map((p) => {
    const nameRange = p.getNameRange();
    const valueRange = p.getValueRange();
    const raw = valueRange
      ? text.slice(offsetOf(lineStarts, valueRange.start), offsetOf(lineStarts, valueRange.end))
      : "";
    return {
      name: p.getName(),
      value: p.getValue(),
      quoted: /^["']/.test(raw),
      line: nameRange.start.line + 1,
      column: nameRange.start.character + 1,
      ...(valueRange
        ? { valueLine: valueRange.start.line + 1, valueColumn: valueRange.start.character + 1 }
        : {}),
    };
  });
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

function offsetOf(starts: number[], position: { line: number; character: number }): number {
  return (starts[position.line] ?? 0) + position.character;
}

function stageOf(
  node: Instruction,
  stages: DockerStage[],
  globalArgs: Record<string, string | null>,
  instructionIndex: number,
): DockerStage {
  const range = node.getRange();
  // The arguments without flags: `--platform=… image AS name`.
  const words = (node as Instruction & { getArguments(): Argument[] })
    .getArguments()
    .map((a) => a.getValue());
  const image = words[0] ?? "";
  const asIndex = words.findIndex((w) => w.toUpperCase() === "AS");
  const alias = asIndex > 0 ? words[asIndex + 1] : undefined;
  const { text: resolved, unresolved } = substituteVariables(image, globalArgs);
  const parent = stages.find(
    (s) => s.alias !== undefined && s.alias.toLowerCase() === resolved.toLowerCase(),
  );
  const platform = flagsOf(node).find((f) => f.name === "platform")?.value ?? undefined;
  return {
    index: stages.length,
    line: range.start.line + 1,
    column: range.start.character + 1,
    image,
    resolvedImage: unresolved.length > 0 ? null : resolved,
    unresolved,
    ...(alias ? { alias } : {}),
    ...(parent ? { parent: parent.index } : {}),
    ...(platform ? { platform } : {}),
    instructions: [instructionIndex],
  };
}

/**
 * `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alternative}` as Docker substitutes them; a variable that is
 * neither given nor defaulted is left out and named in `unresolved`.
 */
export function substituteVariables(
  text: string,
  variables: Record<string, string | null>,
): { text: string; unresolved: string[] } {
  const unresolved: string[] = [];
  const out = text.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (_match, braced: string | undefined, operator: string | undefined, word: string | undefined, bare) => {
      const name = (braced ?? bare) as string;
      const value = variables[name];
      const set = value !== undefined && value !== null && value !== "";
      if (operator === "-") return set ? value : (word ?? "");
      if (operator === "+") return set ? (word ?? "") : "";
      if (value === undefined || value === null) {
        unresolved.push(name);
        return "";
      }
      return value;
    },
  );
  return { text: out, unresolved };
}

const PRAGMA = /^\s*#\s*hadolint\s+(global\s+)?ignore\s*=\s*([A-Za-z0-9_,/\s-]*?)\s*(?:#.*)?$/;

/** `# hadolint ignore=DL3008,SC2086` silences those rules on the next instruction; `global ignore` on the file. */
function pragmasOf(lines: string[], instructions: DockerInstruction[]): HadolintPragma[] {
  const pragmas: HadolintPragma[] = [];
  lines.forEach((text, i) => {
    const match = PRAGMA.exec(text);
    if (!match) return;
    const line = i + 1;
    // A `#` line inside an instruction's continuation is part of that instruction, not a pragma.
    if (instructions.some((ins) => ins.line < line && line <= ins.endLine)) return;
    const ids = match[2]!
      .split(/[\s,]+/)
      .map((id) => id.trim().toUpperCase())
      .filter(Boolean);
    const global = Boolean(match[1]);
    const next = global ? undefined : instructions.find((ins) => ins.line > line);
    pragmas.push({ line, ids, global, ...(next ? { appliesTo: next.line } : {}) });
  });
  return pragmas;
}

/** The stage and the stages it builds on, nearest first (`FROM builder` inherits builder's USER, ENV, SHELL). */
export function stageChain(model: DockerfileModel, stageIndex: number): DockerStage[] {
  const chain: DockerStage[] = [];
  const seen = new Set<number>();
  let stage: DockerStage | undefined = model.stages[stageIndex];
  while (stage && !seen.has(stage.index)) {
    chain.push(stage);
    seen.add(stage.index);
    stage = stage.parent === undefined ? undefined : model.stages[stage.parent];
  }
  return chain;
}

/** The instructions of a stage and of the stages it builds on, in build order (the base's first). */
export function chainInstructions(model: DockerfileModel, stageIndex: number): DockerInstruction[] {
  return stageChain(model, stageIndex)
    .reverse()
    .flatMap((s) => s.instructions.map((i) => model.instructions[i]!));
}
