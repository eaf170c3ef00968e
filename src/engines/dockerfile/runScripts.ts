// The shell script each RUN hands to its shell, as Docker builds it: escaped line ends joined, comment and empty
// lines inside the continuation dropped, here-document bodies kept as written, and a RUN that is only a
// here-document (`RUN <<EOF`) running the body itself. Every character remembers where it came from in the
// Dockerfile, so a ShellCheck comment at line:column of the script maps back to the Dockerfile's line:column.
import path from "node:path";
import { chainInstructions, type DockerfileModel, endsWithEscape } from "./parse.js";

export interface RunScript {
  /** Index into model.instructions of the RUN. */
  instruction: number;
  /** The RUN's first line in the Dockerfile (1-based). */
  instructionLine: number;
  stage: number;
  text: string;
  /** 0-based Dockerfile line and column of each character of text (and one past the end). */
  originLine: number[];
  originColumn: number[];
  /** The interpreter's name: sh, bash, …, or what a here-document's shebang or SHELL names. */
  shell: string;
  /** The body of `RUN <<EOF` runs as the script. */
  heredocOnly: boolean;
  /** `--mount=…` values. */
  mounts: string[];
}

/** Where a script position (1-based line and column, ShellCheck's) is in the Dockerfile (1-based). */
export function dockerfilePosition(
  script: RunScript,
  line: number,
  column: number,
): { line: number; column: number } {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = script.text.indexOf("\n", offset);
    if (next < 0) break;
    offset = next + 1;
  }
  const at = Math.min(Math.max(offset + column - 1, 0), script.text.length);
  return { line: script.originLine[at]! + 1, column: script.originColumn[at]! + 1 };
}

/** Same for an offset into the script text. */
export function dockerfilePositionAt(script: RunScript, offset: number): { line: number; column: number } {
  const at = Math.min(Math.max(offset, 0), script.text.length);
  return { line: script.originLine[at]! + 1, column: script.originColumn[at]! + 1 };
}

/** Every shell-form RUN of the file with its script; exec-form RUNs run no shell and are not listed. */
export function runScripts(model: DockerfileModel): RunScript[] {
  const scripts: RunScript[] = [];
  model.instructions.forEach((ins, index) => {
    if (ins.keyword !== "RUN" || ins.json || ins.args.trim() === "") return;
    const script = buildScript(model, index);
    if (script) scripts.push(script);
  });
  return scripts;
}

function buildScript(model: DockerfileModel, index: number): RunScript | null {
  const ins = model.instructions[index]!;
  const physical = ins.args.split("\n");
  const heredocLines = new Set<number>();
  for (const h of ins.heredocs) {
    for (let l = h.bodyFirst; l <= h.bodyLast; l++) heredocLines.add(l);
    if (h.delimiterLine >= 0) heredocLines.add(h.delimiterLine);
  }
  let text = "";
  const originLine: number[] = [];
  const originColumn: number[] = [];
  const append = (s: string, line: number, column: number) => {
    for (let k = 0; k < s.length; k++) {
      originLine.push(line);
      originColumn.push(column + k);
    }
    text += s;
  };

  const firstHeredoc = ins.heredocs[0];
  const command = joinedCommandLine(physical, ins.argsLine0, heredocLines, model.escapeChar);
  let heredocOnly = false;
  const bodyShell = firstHeredoc && ins.heredocs.length === 1 ? heredocScriptShell(command) : null;
  if (firstHeredoc && bodyShell !== null) {
    // `RUN <<EOF` (BuildKit runs the body with the shell, or its shebang's interpreter), `RUN <<EOF bash`, `RUN bash
    // -e <<EOF`: the body is the script.
    heredocOnly = true;
    for (let l = firstHeredoc.bodyFirst; l <= firstHeredoc.bodyLast; l++) {
      append(`${model.lines[l] ?? ""}\n`, l, 0);
    }
  } else {
    physical.forEach((line, k) => {
      const docLine = ins.argsLine0 + k;
      const column = k === 0 ? ins.argsColumn0 : 0;
      if (heredocLines.has(docLine)) {
        append(`${line}\n`, docLine, column);
        return;
      }
      if (k > 0 && (line.trim() === "" || line.trimStart().startsWith("#"))) return;
      if (endsWithEscape(line, model.escapeChar)) {
        append(line.slice(0, line.lastIndexOf(model.escapeChar)), docLine, column);
      } else {
        append(k < physical.length - 1 ? `${line}\n` : line, docLine, column);
      }
    });
  }
  const last = ins.endLine - 1;
  originLine.push(originLine.at(-1) ?? last);
  originColumn.push((originColumn.at(-1) ?? 0) + 1);

  let shell = bodyShell || shellOf(model, index);
  if (heredocOnly) {
    const interpreter = shebangInterpreter(text);
    if (interpreter) shell = interpreter;
  }
  const mounts = ins.flags.filter((f) => f.name === "mount" && f.value).map((f) => f.value!);
  return {
    instruction: index,
    instructionLine: ins.line,
    stage: ins.stage,
    text,
    originLine,
    originColumn,
    shell,
    heredocOnly,
    mounts,
  };
}

/** The RUN's first logical line (before any here-document body), joined as Docker joins it. */
function joinedCommandLine(
  physical: string[],
  firstLine: number,
  heredocLines: Set<number>,
  escapeChar: string,
): string {
  let out = "";
  for (let k = 0; k < physical.length; k++) {
    if (heredocLines.has(firstLine + k)) break;
    const line = physical[k]!;
    if (k > 0 && (line.trim() === "" || line.trimStart().startsWith("#"))) continue;
    if (!endsWithEscape(line, escapeChar)) return (out + line).trim();
    out += line.slice(0, line.lastIndexOf(escapeChar));
  }
  return out.trim();
}

const SHELLS = new Set(["sh", "bash", "dash", "ash", "ksh", "mksh", "zsh"]);

/**
 * Whether the RUN's command line only feeds one here-document to a shell: "" for `<<EOF` alone (the default shell),
 * the shell's name for `<<EOF bash` or `bash -e <<EOF`, null otherwise (the body is data for some command).
 */
function heredocScriptShell(command: string): string | null {
  const rest = command.replace(/<<-?\s*(["']?)[A-Za-z0-9_.-]+\1/, " ").trim();
  if (rest === "") return "";
  const [program, ...flags] = rest.split(/\s+/);
  const name = path.posix.basename(program!);
  return SHELLS.has(name) && flags.every((f) => f.startsWith("-")) ? name : null;
}

/** The shell RUN uses at this instruction: the last SHELL of its stage (or of the stages it builds on), else sh. */
export function shellOf(model: DockerfileModel, index: number): string {
  const ins = model.instructions[index]!;
  let shell = "sh";
  for (const earlier of chainInstructions(model, ins.stage)) {
    if (earlier === ins) break;
    if (earlier.keyword === "SHELL" && earlier.json?.[0]) shell = path.posix.basename(earlier.json[0]);
  }
  return shell.replace(/\.exe$/i, "");
}

function shebangInterpreter(text: string): string | null {
  const match = /^#!\s*(\S+)(?:[ \t]+(\S+))?/.exec(text);
  if (!match) return null;
  const program = path.posix.basename(match[1]!);
  if (program === "env" && match[2]) return path.posix.basename(match[2]);
  return program;
}
