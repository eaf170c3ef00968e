// Are the rules in the files the rules Prometheus runs? A rule file that was never added to rule_files, a reload that
// failed, or an expression that errors at evaluation time (health "err") all leave a valid file that protects nothing.
// Rules are matched by group name and rule name, since Prometheus reports its own (possibly different) file paths, and
// then by expression (formatting aside): a rule edited in the file but not reloaded is not the rule that runs.
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { ApiError, pause } from "../../engines/prometheus/apiRequest.js";
import { PrometheusClient, type PrometheusRule } from "../../engines/prometheus/client.js";
import { canonicalPromql } from "../../engines/prometheus/promql.js";
import { loadRuleSet, type RuleFile } from "../../engines/prometheus/ruleFiles.js";

/** How long to wait for rules Prometheus has loaded but not evaluated yet (health "unknown"). */
const UNEVALUATED_WAIT_MS = 10_000;

/** A rule as the file has it, where it starts. */
export interface FileRule {
  kind: "alert" | "record";
  name: string;
  group: string;
  expr: string;
  line: number;
  column: number;
}

export interface RuleFileSeen {
  /** Relative to the spec's folder. */
  file: string;
  /** Parse or format problems in the file (alertRulesValid reports them). */
  problems: number;
  rules: FileRule[];
}

/** A rule as Prometheus' /api/v1/rules reports it. */
export type LoadedRule = Pick<PrometheusRule, "type" | "name" | "query" | "health" | "lastError">;

export interface LoadedGroup {
  name: string;
  file: string;
  rules: LoadedRule[];
}

export interface AlertRulesLoadedObservation {
  prometheus?: string;
  /** monitoring.rules patterns that match no file. */
  unmatched: string[];
  files: RuleFileSeen[];
  unreachable?: { error: string; kind: ApiError["kind"]; evidence: string };
  loaded?: { evidence: string; groups: LoadedGroup[] };
}

export default defineCheck<AlertRulesLoadedObservation>({
  meta: {
    id: "alertRulesLoaded",
    category: "observability",
    risk: "medium",
    destructive: false,
    title: "Prometheus runs the alert rules",
    objective:
      "The rules Prometheus has loaded (/api/v1/rules) include every rule in the rule files, and none fails evaluation.",
    remediation: {
      effort: "low",
      text: "Load {{file}} in Prometheus (list it under rule_files and reload with SIGHUP or POST /-/reload), then fix any rule whose evaluation fails: {{problem}}.",
    },
    messages: {
      loaded: "every rule of the file is loaded in Prometheus and evaluates without error",
      notLoaded: "some rules of the file are not loaded in Prometheus",
      staleExpression: "Prometheus runs another expression under the rule's group and name than the file has",
      evaluationFails: "Prometheus loaded the rule but its evaluation fails",
      notEvaluatedYet: "Prometheus loaded the rules but has not evaluated them yet",
      fileUnparsable: "the file does not parse as rule YAML, so there is nothing to compare",
      fileEmpty: "the file holds no rules, so there is nothing to compare",
      patternMatchesNothing: "a monitoring.rules entry matches no file, so there is nothing to compare",
      noPrometheus: "the spec lists rule files but names no Prometheus",
      prometheusUnreachable: "Prometheus cannot be queried",
    },
    timeoutMs: 30_000,
  },

  applies(spec) {
    return spec.monitoring?.rules?.length ? true : notApplicable("monitoring.rules lists no rule files");
  },

  async observe(ctx) {
    const base = ctx.spec.monitoring?.prometheus;
    const observation: AlertRulesLoadedObservation = { unmatched: [], files: [] };
    if (!base) return observation;
    observation.prometheus = base;
    const set = await loadRuleSet(ctx.specDir, ctx.spec.monitoring?.rules ?? []);
    observation.unmatched = set.unmatched;
    observation.files = set.files.map(seenFile);
    const rules = observation.files.flatMap((f) => f.rules);
    const client = new PrometheusClient(base, { signal: ctx.signal });
    let groups: LoadedGroup[];
    try {
      groups = (await client.rules()).map(loadedGroup);
      const deadline = ctx.clock.now() + UNEVALUATED_WAIT_MS;
      while (rules.some((r) => lookup(groups, r)?.health === "unknown") && ctx.clock.now() < deadline) {
        await pause(500, ctx.signal);
        groups = (await client.rules()).map(loadedGroup);
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const evidence = await ctx.evidence.writeJson("prometheus-unreachable.json", {
        prometheus: base,
        error: error.message,
      });
      observation.unreachable = { error: error.message, kind: error.kind, evidence };
      return observation;
    }
    const evidence = await ctx.evidence.writeJson("loaded-rules.json", { prometheus: base, groups });
    observation.loaded = { evidence, groups };
    return observation;
  },

  judge(observation) {
    if (!observation.prometheus) {
      return [
        {
          status: "UNVERIFIED",
          messageId: "noPrometheus",
          message:
            "the spec lists rule files but names no Prometheus, so whether they are loaded is not verified",
          data: { file: "monitoring.rules", problem: "no Prometheus named" },
          toVerify: "set monitoring.prometheus to the URL of the Prometheus that should run these rules",
        },
      ];
    }
    const base = observation.prometheus;
    if (observation.unreachable || !observation.loaded) {
      const error = observation.unreachable?.error ?? "no answer";
      return [
        {
          status: "UNVERIFIED",
          messageId: "prometheusUnreachable",
          subject: "prometheus",
          message: `Prometheus at ${base} cannot be queried (${error}), so whether it runs the rules is not verified`,
          data: { prometheus: base, error, file: "monitoring.rules", problem: error },
          ...(observation.unreachable ? { evidence: [observation.unreachable.evidence] } : {}),
          toVerify: `start Prometheus on ${base} with these rule files under rule_files (see docs/monitoring-demo.md), or fix monitoring.prometheus`,
        },
      ];
    }
    const loaded = observation.loaded;
    const unmatched = observation.unmatched.map(
      (pattern): FindingInput => ({
        status: "UNVERIFIED",
        messageId: "patternMatchesNothing",
        subject: pattern,
        message: `monitoring.rules entry "${pattern}" matches no file, so whether Prometheus loads it cannot be compared`,
        data: { file: pattern },
        toVerify: `fix the path (relative to the spec's folder) or remove "${pattern}" from monitoring.rules`,
      }),
    );
    return [...unmatched, ...observation.files.flatMap((file) => judgeFile(file, loaded))];
  },
});

function judgeFile(file: RuleFileSeen, loaded: { evidence: string; groups: LoadedGroup[] }): FindingInput[] {
  const path = file.file;
  const evidence = [loaded.evidence];
  const at = (rule: FileRule) => ({ path, line: rule.line, column: rule.column });
  const rules = file.rules;
  if (rules.length === 0) {
    // Nothing to compare: an unreadable file must not read as "all 0 rules loaded".
    const unparsable = file.problems > 0;
    return [
      {
        status: "UNVERIFIED",
        messageId: unparsable ? "fileUnparsable" : "fileEmpty",
        subject: path,
        location: { path },
        message: `${path}: ${unparsable ? "the file does not parse as rule YAML" : "the file holds no rules"}, so whether Prometheus loads it cannot be compared`,
        data: { file: path },
        evidence,
        toVerify: "fix the rule file (see alertRulesValid), then run again",
      },
    ];
  }
  const findings: FindingInput[] = [];
  const missing: FileRule[] = [];
  const stale: { rule: FileRule; query: string }[] = [];
  // Loaded but not evaluated yet: it has not shown that it evaluates without error.
  const unevaluated: FileRule[] = [];
  for (const rule of rules) {
    const running = lookup(loaded.groups, rule);
    if (!running) {
      missing.push(rule);
      continue;
    }
    if (canonicalPromql(running.query) !== canonicalPromql(rule.expr)) {
      // Same group and name but another expression: Prometheus runs an older (or someone else's) version.
      stale.push({ rule, query: running.query });
      continue;
    }
    if (running.health === "unknown") {
      unevaluated.push(rule);
      continue;
    }
    if (running.health === "err") {
      findings.push({
        status: "FAIL",
        messageId: "evaluationFails",
        subject: path,
        location: at(rule),
        message: `${path}: rule ${rule.name} (group ${rule.group}) fails evaluation in Prometheus: ${running.lastError ?? "unknown error"}`,
        data: {
          file: path,
          rule: rule.name,
          group: rule.group,
          problem: running.lastError ?? "evaluation error",
        },
        evidence,
      });
    }
  }
  for (const { rule, query } of stale) {
    findings.push({
      status: "FAIL",
      messageId: "staleExpression",
      subject: path,
      location: at(rule),
      message: `${path}: Prometheus runs a different expression for ${rule.group}/${rule.name} than the file has (loaded: ${query}); reload Prometheus or load this file`,
      data: {
        file: path,
        rule: rule.name,
        group: rule.group,
        loaded: query,
        problem: "the loaded expression differs from the file",
      },
      evidence,
    });
  }
  const count = (value: number) => ({
    name: "rules loaded",
    value,
    unit: `of ${rules.length}`,
    evidence: loaded.evidence,
  });
  if (missing.length > 0) {
    const names = missing.map((r) => `${r.group}/${r.name}`).join(", ");
    findings.push({
      status: "FAIL",
      messageId: "notLoaded",
      subject: path,
      location: at(missing[0]!),
      message: `${path}: ${missing.length} of ${rules.length} rule(s) are not loaded in Prometheus: ${names}`,
      data: {
        file: path,
        missing: missing.map((r) => ({ group: r.group, rule: r.name })),
        problem: `not loaded: ${names}`,
      },
      evidence,
      measurements: [count(rules.length - missing.length)],
    });
  }
  if (unevaluated.length > 0) {
    findings.push({
      status: "UNVERIFIED",
      messageId: "notEvaluatedYet",
      subject: path,
      location: at(unevaluated[0]!),
      message: `${path}: ${unevaluated.length} rule(s) are loaded but Prometheus has not evaluated them yet: ${unevaluated.map((r) => r.name).join(", ")}`,
      data: { file: path },
      evidence,
      toVerify: "run again once Prometheus has evaluated its rule groups (one evaluation_interval)",
    });
  }
  if (findings.length === 0) {
    findings.push({
      status: "PASS",
      messageId: "loaded",
      subject: path,
      location: { path },
      message: `${path}: all ${rules.length} rule(s) are loaded in Prometheus and evaluate without error`,
      data: { file: path, rules: rules.length },
      evidence,
      measurements: [count(rules.length)],
    });
  }
  return findings;
}

/** The loaded rule with the file rule's group, name and type; Prometheus' file paths are its own, so they are not compared. */
function lookup(groups: LoadedGroup[], rule: FileRule): LoadedRule | undefined {
  const type = rule.kind === "alert" ? "alerting" : "recording";
  return groups
    .find((g) => g.name === rule.group)
    ?.rules.find((r) => r.name === rule.name && r.type === type);
}

function seenFile(file: RuleFile): RuleFileSeen {
  return {
    file: file.file,
    problems: file.problems.length,
    rules: file.groups.flatMap((g) =>
      g.rules.map((r) => ({
        kind: r.kind,
        name: r.name,
        group: r.group,
        expr: r.expr,
        line: r.position.line,
        column: r.position.column,
      })),
    ),
  };
}

function loadedGroup(group: { name: string; file: string; rules: PrometheusRule[] }): LoadedGroup {
  return {
    name: group.name,
    file: group.file,
    rules: group.rules.map((r) => {
      const rule: LoadedRule = { type: r.type, name: r.name, query: r.query, health: r.health };
      if (r.lastError) rule.lastError = r.lastError;
      return rule;
    }),
  };
}
