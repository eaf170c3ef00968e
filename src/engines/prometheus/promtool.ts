// Runs `promtool check rules` once over many rule files and reads its verdict on each. promtool prints
// "Checking <file>" then "  SUCCESS: N rules found" on stdout for a file it accepts, and "  FAILED:" then one line per
// problem, each starting with "<file>: ", on stderr for a file it rejects; it goes through the files in order, so a run
// stopped part-way still gives the verdicts of the files it finished.
import { runCommand } from "../shell/run.js";

export interface PromtoolProblem {
  /** Position in the rule file, when promtool gives one (the expr of the rule, or the YAML line). */
  line?: number;
  column?: number;
  group?: string;
  /** 1-based index of the rule within its group. */
  rule?: number;
  ruleName?: string;
  message: string;
}

export interface PromtoolFileVerdict {
  /** The path as passed to promtool. */
  file: string;
  /** promtool finished this file (accepted it, or printed its problems and went on). */
  judged: boolean;
  rules?: number;
  problems: PromtoolProblem[];
}

export interface PromtoolRun {
  args: string[];
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
  /** Why promtool could not start, if it could not. */
  spawnError?: string;
  files: PromtoolFileVerdict[];
  /** stderr lines that name none of the files (usage errors, crashes). */
  unattributed: string[];
}

/** `promtool check rules --lint=none f1 f2 …` (lint findings are advice, not invalidity), bounded by timeoutMs. */
export async function checkRules(
  promtool: string,
  files: string[],
  options: { cwd: string; timeoutMs: number; signal: AbortSignal },
): Promise<PromtoolRun> {
  const args = ["check", "rules", "--lint=none", ...files];
  const result = await runCommand(promtool, args, {
    cwd: options.cwd,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    maxOutputBytes: 4 * 1024 * 1024,
    killGraceMs: 500,
  });
  const completed = !result.timedOut && !result.spawnError && result.exitCode !== null;
  const run: PromtoolRun = {
    args,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    durationMs: Math.round(result.durationMs),
    stdout: result.stdout,
    stderr: result.stderr,
    ...parseCheckRules(files, result.stdout, result.stderr, completed),
  };
  if (result.spawnError) run.spawnError = `${result.spawnError.code}: ${result.spawnError.message}`;
  return run;
}

/** Each file's verdict from promtool's output; `completed` says promtool ran to its end. */
export function parseCheckRules(
  files: string[],
  stdout: string,
  stderr: string,
  completed: boolean,
): { files: PromtoolFileVerdict[]; unattributed: string[] } {
  const verdicts = new Map<string, PromtoolFileVerdict>(
    files.map((file) => [file, { file, judged: false, problems: [] }]),
  );
  const order: string[] = [];
  const successes = new Map<string, number>();
  let current: string | undefined;
  for (const line of stdout.split("\n")) {
    const checking = /^Checking (.+)$/.exec(line);
    if (checking && verdicts.has(checking[1]!)) {
      current = checking[1]!;
      order.push(current);
    }
    const success = /^\s+SUCCESS: (\d+) rules found/.exec(line);
    if (success && current) successes.set(current, Number(success[1]));
  }

  const byLength = [...files].sort((a, b) => b.length - a.length);
  const unattributed: string[] = [];
  let last: { file: string; problem: PromtoolProblem } | undefined;
  // A problem without a trailing newline runs into the next "  FAILED:" (seen with template errors).
  for (const line of stderr.replace(/(?<!\n) {2}FAILED:/g, "\n  FAILED:").split("\n")) {
    if (line.trim() === "" || line.trim() === "FAILED:") continue;
    const file = byLength.find((f) => line.startsWith(`${f}: `));
    if (file) {
      last = { file, problem: parseProblem(line.slice(file.length + 2)) };
      verdicts.get(file)!.problems.push(last.problem);
    } else if (last) {
      last.problem.message += ` ${line.trim()}`;
      const yamlLine = /^line (\d+):/.exec(line.trim());
      if (yamlLine && last.problem.line === undefined) last.problem.line = Number(yamlLine[1]);
    } else {
      unattributed.push(line);
    }
  }

  for (const verdict of verdicts.values()) {
    const rules = successes.get(verdict.file);
    if (rules !== undefined) {
      verdict.judged = true;
      verdict.rules = rules;
      continue;
    }
    // Rejected and done with: promtool went on to the next file, or to its end.
    const index = order.indexOf(verdict.file);
    verdict.judged = verdict.problems.length > 0 && (completed || (index >= 0 && index < order.length - 1));
  }
  return { files: [...verdicts.values()], unattributed };
}

function parseProblem(text: string): PromtoolProblem {
  const problem: PromtoolProblem = { message: text };
  let rest = text;
  const position = /^(\d+):(\d+): /.exec(rest);
  if (position) {
    problem.line = Number(position[1]);
    problem.column = Number(position[2]);
    rest = rest.slice(position[0].length);
  }
  const rule = /^group "((?:[^"\\]|\\.)*)", rule (\d+), "((?:[^"\\]|\\.)*)": /.exec(rest);
  if (rule) {
    problem.group = unquoteGo(rule[1]!);
    problem.rule = Number(rule[2]);
    problem.ruleName = unquoteGo(rule[3]!);
    rest = rest.slice(rule[0].length);
  }
  const yamlLine = /^yaml: line (\d+):/.exec(rest);
  if (yamlLine && problem.line === undefined) problem.line = Number(yamlLine[1]);
  problem.message = rest;
  return problem;
}

function unquoteGo(text: string): string {
  return text.replace(/\\(.)/g, "$1");
}
