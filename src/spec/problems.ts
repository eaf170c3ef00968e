// What is wrong with a spec, where, and how to fix it: `file:line:col: what is wrong — how to fix it`.
import { isAbsolute, relative } from "node:path";
import { Redactor } from "../secrets/redactor.js";
import { printable } from "./printable.js";

export interface Problem {
  /** Absolute path of the spec file. */
  file: string;
  /** 1-based; 0 when the problem is about the whole file (missing, unreadable). */
  line: number;
  /** 1-based; 0 when the problem is about the whole file. */
  column: number;
  /** What is wrong, one sentence without a trailing period. */
  message: string;
  /** How to fix it. */
  fix?: string;
}

/** A spec the user must fix. Never a bug: print `format()` and exit 3, without a stack trace. */
export class SpecError extends Error {
  readonly problems: Problem[];
  readonly exitCode = 3;
  readonly #secrets: Redactor;

  /** `secrets`: what the spec's loading found so far; messages quote values, and a value may hold one. */
  constructor(problems: Problem[], secrets: Redactor = new Redactor()) {
    const sorted = sortProblems(problems).map((p) => ({
      ...p,
      message: secrets.redact(p.message),
      ...(p.fix ? { fix: secrets.redact(p.fix) } : {}),
    }));
    super(sorted.map((p) => formatProblem(p, process.cwd(), secrets)).join("\n"));
    this.name = "SpecError";
    this.problems = sorted;
    this.#secrets = secrets;
  }

  /** One line per problem, file paths relative to `cwd` when the file is inside it. */
  format(cwd: string = process.cwd()): string {
    return this.problems.map((p) => formatProblem(p, cwd, this.#secrets)).join("\n");
  }
}

export function formatProblem(
  problem: Problem,
  cwd: string = process.cwd(),
  secrets: Redactor = new Redactor(),
): string {
  const where =
    problem.line > 0
      ? `${displayPath(problem.file, cwd)}:${problem.line}:${problem.column}`
      : displayPath(problem.file, cwd);
  const text = `${where}: ${problem.message}${problem.fix ? ` — ${problem.fix}` : ""}`;
  // One problem, one line, and only what it says: a value quoted in a message may hold line breaks, escape sequences
  // or bidi controls, and is printed escaped (after redaction, so a secret is matched as it was registered).
  return printable(secrets.redact(text));
}

/** `file` relative to `cwd` when it lies inside it, else unchanged. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

/** By line, then column; problems about the whole file first. Identical problems are kept once. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return [...problems]
    .sort((a, b) => a.line - b.line || a.column - b.column)
    .filter((p) => {
      const key = `${p.file}\0${p.line}\0${p.column}\0${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
