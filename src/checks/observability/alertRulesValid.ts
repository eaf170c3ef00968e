// Do the alert rule files parse as Prometheus rule files, with valid PromQL in every expression? The built-in validator
// (rule-file structure, PromQL syntax and types) judges every file and points each problem at file:line:column; when
// promtool is installed it runs once over all the files, within the time the check has left, as a second referee: a
// file only promtool rejects (e.g. a template error) fails too. If promtool overruns or cannot run, the built-in
// findings stand and promtool's missing verdict is UNVERIFIED beside them.
import path from "node:path";
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { checkRules, type PromtoolProblem, type PromtoolRun } from "../../engines/prometheus/promtool.js";
import {
  findRuleFiles,
  loadRuleFiles,
  type RuleFile,
  type RuleProblem,
} from "../../engines/prometheus/ruleFiles.js";
import { which } from "../../engines/shell/run.js";

/** promtool takes < 1 s for 112 files; more than this means it is stuck. */
const PROMTOOL_MAX_MS = 20_000;
/** Time kept after promtool for writing its evidence and judging. */
const RESERVE_MS = 2_000;
/** Below this there is no point starting promtool. */
const MIN_PROMTOOL_MS = 500;
const KEPT_OUTPUT = 200_000;

export interface RuleFileObservation {
  /** Path relative to the spec's folder, as in findings. */
  file: string;
  evidence: string;
  groups: number;
  rules: number;
  problems: RuleProblem[];
}

export interface PromtoolFileObservation {
  file: string;
  judged: boolean;
  problems: PromtoolProblem[];
}

export type PromtoolObservation =
  | { state: "notInstalled" }
  /** The check was stopped while promtool ran (what keepPartial saved). */
  | { state: "running"; budgetMs: number }
  | { state: "noTime"; budgetMs: number }
  | {
      state: "ran";
      evidence: string;
      timedOut: boolean;
      exitCode: number | null;
      durationMs: number;
      budgetMs: number;
      /** Why promtool gave no usable verdict, if so (could not start, crashed). */
      failure?: string;
      files: PromtoolFileObservation[];
    };

export interface AlertRulesValidObservation {
  unmatched: { pattern: string; evidence: string }[];
  files: RuleFileObservation[];
  promtool: PromtoolObservation;
}

const PROBLEM_MESSAGE: Record<RuleProblem["kind"], string> = {
  yaml: "yamlSyntax",
  format: "ruleFormat",
  promql: "invalidPromql",
};

export default defineCheck<AlertRulesValidObservation>({
  meta: {
    id: "alertRulesValid",
    category: "observability",
    risk: "high",
    destructive: false,
    title: "Alert rules are valid",
    objective:
      "Every rule file under monitoring.rules parses as a Prometheus rule file and every expression is valid PromQL.",
    remediation: {
      effort: "low",
      text: "Fix {{file}} at the line given: {{problem}}. Run `promtool check rules {{file}}` to confirm before deploying it.",
    },
    messages: {
      valid:
        "the file is a valid rule file and every expression is valid PromQL (built-in validator, and promtool when installed)",
      yamlSyntax: "the file is not valid YAML",
      ruleFormat:
        "the file is not a valid rule file (groups, rules, alert/record, expr, known keys, durations, names)",
      invalidPromql:
        "an expression is not valid PromQL (syntax, value types, function arity, regex, modifiers)",
      promtoolRejects: "promtool rejects the file for a reason the built-in validator did not find",
      patternUnmatched: "a monitoring.rules entry matches no file",
      promtoolTimedOut:
        "promtool did not finish within the check's time: its verdict on some files is missing",
      promtoolFailed: "promtool could not run or gave no verdict on some files",
    },
    timeoutMs: 30_000,
  },

  applies(spec) {
    return spec.monitoring?.rules?.length ? true : notApplicable("monitoring.rules lists no rule files");
  },

  async observe(ctx) {
    const found = await findRuleFiles(ctx.specDir, ctx.spec.monitoring?.rules ?? []);
    const observation: AlertRulesValidObservation = {
      unmatched: [],
      files: [],
      promtool: { state: "notInstalled" },
    };
    for (const pattern of found.unmatched) {
      const evidence = await ctx.evidence.writeJson(`unmatched-${safeName(pattern)}.json`, {
        pattern,
        specDir: ctx.specDir,
        matched: [],
      });
      observation.unmatched.push({ pattern, evidence });
    }
    if (found.absolute.length === 0) return observation;

    // promtool works on its own while the built-in validator reads the same files.
    const promtool = await which("promtool", ctx.env.PATH ?? process.env.PATH);
    const budgetMs = Math.round(Math.min(PROMTOOL_MAX_MS, ctx.deadline - Date.now() - RESERVE_MS));
    const stop = new AbortController();
    const forward = () => stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener("abort", forward, { once: true });
    let running: Promise<PromtoolRun> | undefined;
    if (promtool && budgetMs >= MIN_PROMTOOL_MS) {
      ctx.log.debug(`promtool check rules over ${found.absolute.length} file(s), ${budgetMs} ms budget`);
      running = checkRules(promtool, found.absolute, {
        cwd: ctx.specDir,
        timeoutMs: budgetMs,
        signal: stop.signal,
      });
      running.catch(() => {}); // awaited below; an abort while the built-in pass runs must not go unhandled
    } else if (promtool) {
      observation.promtool = { state: "noTime", budgetMs: Math.max(0, budgetMs) };
    }
    try {
      const set = await loadRuleFiles(found);
      for (const file of set.files) {
        observation.files.push({
          file: file.file,
          evidence: await ctx.evidence.writeJson(`${safeName(file.file)}.json`, summary(file)),
          groups: file.groups.length,
          rules: file.groups.reduce((n, g) => n + g.rules.length, 0),
          problems: file.problems,
        });
      }
      if (!running) return observation;
      // If the runner stops the check while promtool still runs, every built-in finding is judged all the same.
      ctx.keepPartial({ ...observation, promtool: { state: "running", budgetMs } });
      const run = await running;
      const display = new Map(found.absolute.map((abs, i) => [abs, found.display[i]!]));
      const failure = failureOf(run);
      observation.promtool = {
        state: "ran",
        evidence: await ctx.evidence.writeJson(
          "promtool-check-rules.json",
          promtoolEvidence(run, display, ctx.specDir),
        ),
        timedOut: run.timedOut,
        exitCode: run.exitCode,
        durationMs: run.durationMs,
        budgetMs,
        ...(failure ? { failure } : {}),
        files: run.files.map((f) => ({
          file: display.get(f.file) ?? f.file,
          judged: f.judged,
          problems: f.problems,
        })),
      };
      return observation;
    } finally {
      ctx.signal.removeEventListener("abort", forward);
      stop.abort(); // ends promtool if the built-in pass failed before awaiting it (a no-op once it has exited)
    }
  },

  judge(observation) {
    const findings: FindingInput[] = observation.unmatched.map(({ pattern, evidence }) => ({
      status: "FAIL",
      messageId: "patternUnmatched",
      subject: pattern,
      message: `monitoring.rules entry "${pattern}" matches no file; fix the path or the glob (relative to the spec's folder)`,
      data: { pattern, file: pattern, problem: "the pattern matches no file" },
      evidence: [evidence],
    }));
    const promtool = observation.promtool;
    for (const file of observation.files) findings.push(...judgeFile(file, promtool));
    const missing = promtoolMissing(observation);
    if (missing) findings.push(missing);
    return findings;
  },
});

function judgeFile(file: RuleFileObservation, promtool: PromtoolObservation): FindingInput[] {
  const ran = promtool.state === "ran" ? promtool : undefined;
  const evidence = ran ? [file.evidence, ran.evidence] : [file.evidence];
  const findings: FindingInput[] = file.problems.map((problem) => ({
    status: "FAIL",
    messageId: PROBLEM_MESSAGE[problem.kind],
    subject: file.file,
    location: { path: file.file, line: problem.line, column: problem.column },
    message: `${file.file}:${problem.line}:${problem.column}: ${problem.message}`,
    data: {
      file: file.file,
      problem: problem.message,
      kind: problem.kind,
      group: problem.group,
      rule: problem.rule,
    },
    evidence,
  }));
  const verdict = ran?.files.find((f) => f.file === file.file);
  const extra = verdict?.judged ? verdict.problems.filter((p) => !explains(file.problems, p)) : [];
  for (const problem of extra) {
    const where = problem.line ? `:${problem.line}${problem.column ? `:${problem.column}` : ""}` : "";
    const location = problem.line
      ? { path: file.file, line: problem.line, ...(problem.column ? { column: problem.column } : {}) }
      : { path: file.file };
    findings.push({
      status: "FAIL",
      messageId: "promtoolRejects",
      subject: file.file,
      location,
      message: `${file.file}${where}: promtool rejects it: ${problem.message}`,
      data: {
        file: file.file,
        problem: problem.message,
        kind: "promtool",
        group: problem.group,
        rule: problem.ruleName,
      },
      evidence,
    });
  }
  if (findings.length > 0) return findings;
  const by = verdict?.judged
    ? "built-in validator and promtool"
    : promtool.state === "notInstalled"
      ? "built-in validator; promtool is not installed"
      : "built-in validator; promtool gave no verdict";
  return [
    {
      status: "PASS",
      messageId: "valid",
      subject: file.file,
      location: { path: file.file },
      message: `${file.file}: ${file.groups} group(s), ${file.rules} rule(s), all valid (${by})`,
      data: { file: file.file, groups: file.groups, rules: file.rules, promtool: Boolean(verdict?.judged) },
      evidence,
      measurements: [{ name: "rules", value: file.rules, unit: "count", evidence: file.evidence }],
    },
  ];
}

/** A promtool problem the built-in validator already reported (same rule, or the file's YAML is broken anyway). */
function explains(problems: RuleProblem[], problem: PromtoolProblem): boolean {
  if (problems.some((p) => p.kind === "yaml")) return true;
  if (problem.group === undefined)
    return /^yaml:/.test(problem.message) && problems.some((p) => p.kind === "format");
  return problems.some(
    (p) => p.group === problem.group && (p.rule === problem.ruleName || p.rule === `#${problem.rule}`),
  );
}

/** The UNVERIFIED finding for the files promtool did not judge, if any. */
function promtoolMissing(observation: AlertRulesValidObservation): FindingInput | undefined {
  const promtool = observation.promtool;
  if (promtool.state === "notInstalled" || observation.files.length === 0) return undefined;
  const judged = new Set(
    promtool.state === "ran" ? promtool.files.filter((f) => f.judged).map((f) => f.file) : [],
  );
  const files = observation.files.map((f) => f.file).filter((f) => !judged.has(f));
  if (files.length === 0) return undefined;
  const total = observation.files.length;
  const listed =
    files.length > 5 ? `${files.slice(0, 5).join(", ")} and ${files.length - 5} more` : files.join(", ");
  const base = {
    status: "UNVERIFIED" as const,
    subject: "promtool",
    data: { files, unjudged: files.length, total },
    ...(promtool.state === "ran" ? { evidence: [promtool.evidence] } : {}),
  };
  if (promtool.state === "ran" && promtool.failure) {
    return {
      ...base,
      messageId: "promtoolFailed",
      message: `promtool gave no verdict on ${files.length} of ${total} file(s) (${promtool.failure}): ${listed}; the built-in validator's findings stand`,
      toVerify: `run \`promtool check rules ${files[0]}\` by hand to see why it fails, or reinstall promtool`,
    };
  }
  const budget = "budgetMs" in promtool ? promtool.budgetMs : 0;
  const why =
    promtool.state === "noTime"
      ? `no time was left to run it (${budget} ms)`
      : `it did not finish within ${budget} ms`;
  return {
    ...base,
    messageId: "promtoolTimedOut",
    message: `promtool's verdict is missing for ${files.length} of ${total} file(s): ${why}: ${listed}; the built-in validator's findings stand`,
    toVerify:
      "run `promtool check rules` on these files by hand, or find what slows it (a huge file, a loaded machine)",
  };
}

function failureOf(run: PromtoolRun): string | undefined {
  if (run.spawnError) return `it could not start: ${run.spawnError}`;
  if (run.timedOut) return undefined;
  if (run.exitCode === null) return "it was killed by a signal";
  if (run.exitCode !== 0 && run.exitCode !== 1) return `it exited with code ${run.exitCode}`;
  if (run.files.some((f) => !f.judged)) {
    const said = run.unattributed.join(" ").trim();
    return `it exited with code ${run.exitCode}${said ? `: ${said.slice(0, 300)}` : ""}`;
  }
  return undefined;
}

function promtoolEvidence(run: PromtoolRun, display: Map<string, string>, specDir: string): unknown {
  const relative = (text: string) => text.replaceAll(`${specDir}${path.sep}`, "");
  return {
    command: `promtool ${run.args.map((a) => display.get(a) ?? a).join(" ")}`,
    exitCode: run.exitCode,
    timedOut: run.timedOut,
    durationMs: run.durationMs,
    spawnError: run.spawnError,
    files: run.files.map((f) => ({ ...f, file: display.get(f.file) ?? f.file })),
    stdout: relative(run.stdout).slice(0, KEPT_OUTPUT),
    stderr: relative(run.stderr).slice(0, KEPT_OUTPUT),
  };
}

function summary(file: RuleFile): unknown {
  return {
    file: file.file,
    problems: file.problems,
    groups: file.groups.map((g) => ({
      name: g.name,
      interval: g.interval,
      rules: g.rules.map((r) => ({
        kind: r.kind,
        name: r.name,
        expr: r.expr,
        line: r.position.line,
        for: r.for,
      })),
    })),
  };
}

function safeName(file: string): string {
  return file.replace(/[^A-Za-z0-9._-]+/g, "_");
}
