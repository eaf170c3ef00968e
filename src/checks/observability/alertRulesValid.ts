// Do the alert rule files parse as Prometheus rule files, with valid PromQL in every expression? Each problem points
// at its file, line and column (SARIF-ready). When promtool is installed its verdict is kept as further evidence, and a
// file it rejects for a reason the built-in validator missed (e.g. a function given the wrong argument type) fails too.
import path from "node:path";
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { loadRuleSet, type RuleFile } from "../../engines/prometheus/ruleFiles.js";
import { runCommand, which } from "../../engines/shell/run.js";

const PROMTOOL_TIMEOUT_MS = 20_000;

export default defineCheck({
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
    timeoutMs: 30_000,
  },

  applies(spec) {
    return spec.monitoring?.rules?.length ? true : notApplicable("monitoring.rules lists no rule files");
  },

  async run(ctx) {
    const set = await loadRuleSet(ctx.specDir, ctx.spec.monitoring?.rules ?? []);
    const findings: FindingInput[] = [];
    for (const pattern of set.unmatched) {
      const evidence = await ctx.evidence.writeJson(`unmatched-${safeName(pattern)}.json`, {
        pattern,
        specDir: ctx.specDir,
        matched: [],
      });
      findings.push({
        evidence: [evidence],
        status: "FAIL",
        subject: pattern,
        message: `monitoring.rules entry "${pattern}" matches no file under ${ctx.specDir}; fix the path or the glob`,
        data: { pattern, file: pattern, problem: "the pattern matches no file" },
      });
    }
    if (set.files.length === 0) return findings;

    const promtool = await promtoolVerdict(ctx.signal, set.absolute, ctx.specDir);
    const promtoolEvidence = promtool
      ? await ctx.evidence.writeJson("promtool-check-rules.json", promtool)
      : undefined;

    for (const [index, file] of set.files.entries()) {
      const evidence = [await ctx.evidence.writeJson(`${safeName(file.file)}.json`, summary(file))];
      if (promtoolEvidence) evidence.push(promtoolEvidence);
      const rules = file.groups.reduce((n, g) => n + g.rules.length, 0);
      for (const problem of file.problems) {
        findings.push({
          status: "FAIL",
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
        });
      }
      if (file.problems.length > 0) continue;
      const rejected = promtool?.files[index];
      if (rejected && !rejected.ok) {
        const at = /:\s*(\d+):(\d+):/.exec(rejected.message);
        findings.push({
          status: "FAIL",
          subject: file.file,
          location: at
            ? { path: file.file, line: Number(at[1]), column: Number(at[2]) }
            : { path: file.file },
          message: `${file.file}: promtool rejects it: ${rejected.message}`,
          data: { file: file.file, problem: rejected.message, kind: "promtool" },
          evidence,
        });
        continue;
      }
      const by = promtool ? "built-in validator and promtool" : "built-in validator (promtool not installed)";
      findings.push({
        status: "PASS",
        subject: file.file,
        location: { path: file.file },
        message: `${file.file}: ${file.groups.length} group(s), ${rules} rule(s), all valid (${by})`,
        data: { file: file.file, groups: file.groups.length, rules, promtool: Boolean(promtool) },
        evidence,
        measurements: [{ name: "rules", value: rules, unit: "count", evidence: evidence[0]! }],
      });
    }
    return findings;
  },
});

interface PromtoolVerdict {
  command: string;
  exitCode: number | null;
  timedOut: boolean;
  output: string;
  files: { file: string; ok: boolean; message: string }[];
}

/** Runs `promtool check rules` on each file separately so a verdict belongs to one file; null without promtool. */
async function promtoolVerdict(
  signal: AbortSignal,
  files: string[],
  specDir: string,
): Promise<PromtoolVerdict | null> {
  const promtool = await which("promtool");
  if (!promtool) return null;
  const verdict: PromtoolVerdict = {
    command: `${promtool} check rules`,
    exitCode: 0,
    timedOut: false,
    output: "",
    files: [],
  };
  for (const file of files) {
    const result = await runCommand(promtool, ["check", "rules", file], {
      timeoutMs: PROMTOOL_TIMEOUT_MS,
      signal,
      cwd: specDir,
    });
    const output = `${result.stdout}${result.stderr}`.replaceAll(`${specDir}${path.sep}`, "");
    verdict.output += `$ promtool check rules ${path.relative(specDir, file)}\n${output}\n`;
    if (result.timedOut) verdict.timedOut = true;
    if (result.exitCode !== 0) verdict.exitCode = result.exitCode;
    const failed = output.split("\n").findIndex((l) => /FAILED:/.test(l));
    const failure =
      failed >= 0
        ? output
            .split("\n")
            .slice(failed + 1)
            .join(" ")
            .replace(/\s+/g, " ")
        : undefined;
    verdict.files.push({
      file: path.relative(specDir, file),
      // A timed-out or crashed promtool proves nothing; only a clean non-zero exit is a rejection.
      ok: result.exitCode === 0 || result.timedOut || result.exitCode === null,
      message: (failure ?? output).trim().slice(0, 500),
    });
  }
  return verdict;
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
