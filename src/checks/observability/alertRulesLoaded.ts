// Are the rules in the files the rules Prometheus runs? A rule file that was never added to rule_files, a reload that
// failed, or an expression that errors at evaluation time (health "err") all leave a valid file that protects nothing.
// Rules are matched by group name and rule name, since Prometheus reports its own (possibly different) file paths, and
// then by expression (formatting aside): a rule edited in the file but not reloaded is not the rule that runs.
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { ApiError, pause } from "../../engines/prometheus/apiRequest.js";
import {
  PrometheusClient,
  type PrometheusRule,
  type PrometheusRuleGroup,
} from "../../engines/prometheus/client.js";
import { canonicalPromql } from "../../engines/prometheus/promql.js";
import { loadRuleSet, type RuleDefinition } from "../../engines/prometheus/ruleFiles.js";

/** How long to wait for rules Prometheus has loaded but not evaluated yet (health "unknown"). */
const UNEVALUATED_WAIT_MS = 10_000;

export default defineCheck({
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
    timeoutMs: 30_000,
  },

  applies(spec) {
    return spec.monitoring?.rules?.length ? true : notApplicable("monitoring.rules lists no rule files");
  },

  async run(ctx) {
    const base = ctx.spec.monitoring?.prometheus;
    if (!base) {
      return [
        {
          status: "UNVERIFIED",
          message:
            "the spec lists rule files but names no Prometheus, so whether they are loaded is not verified",
          data: { file: "monitoring.rules", problem: "no Prometheus named" },
          toVerify: "set monitoring.prometheus to the URL of the Prometheus that should run these rules",
        },
      ];
    }
    const set = await loadRuleSet(ctx.specDir, ctx.spec.monitoring?.rules ?? []);
    const client = new PrometheusClient(base, { signal: ctx.signal });
    let groups: PrometheusRuleGroup[];
    try {
      groups = await client.rules();
      const deadline = ctx.clock.now() + UNEVALUATED_WAIT_MS;
      while (
        pendingEvaluation(
          groups,
          set.files.flatMap((f) => f.groups.flatMap((g) => g.rules)),
        ) &&
        ctx.clock.now() < deadline
      ) {
        await pause(500, ctx.signal);
        groups = await client.rules();
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return [
        {
          status: "UNVERIFIED",
          subject: "prometheus",
          message: `Prometheus at ${base} cannot be queried (${error.message}), so whether it runs the rules is not verified`,
          data: { prometheus: base, error: error.message, file: "monitoring.rules", problem: error.message },
          evidence: [
            await ctx.evidence.writeJson("prometheus-unreachable.json", {
              prometheus: base,
              error: error.message,
            }),
          ],
          toVerify: `start Prometheus on ${base} with these rule files under rule_files (see docs/monitoring-demo.md), or fix monitoring.prometheus`,
        },
      ];
    }
    const evidence = await ctx.evidence.writeJson("loaded-rules.json", {
      prometheus: base,
      groups: groups.map((g) => ({
        name: g.name,
        file: g.file,
        rules: g.rules.map((r) => ({ type: r.type, name: r.name, health: r.health, lastError: r.lastError })),
      })),
    });
    const findings: FindingInput[] = [];
    for (const file of set.files) {
      const rules = file.groups.flatMap((g) => g.rules);
      if (rules.length === 0) {
        // Nothing to compare: an unreadable file must not read as "all 0 rules loaded".
        findings.push({
          status: "UNVERIFIED",
          subject: file.file,
          location: { path: file.file },
          message: `${file.file}: ${file.problems.length > 0 ? "the file does not parse as rule YAML" : "the file holds no rules"}, so whether Prometheus loads it cannot be compared`,
          data: { file: file.file },
          evidence: [evidence],
          toVerify: "fix the rule file (see alertRulesValid), then run again",
        });
        continue;
      }
      const missing: RuleDefinition[] = [];
      const stale: { rule: RuleDefinition; loaded: string }[] = [];
      // Loaded but not evaluated yet: it has not shown that it evaluates without error.
      const unevaluated: RuleDefinition[] = [];
      let failing = 0;
      for (const rule of rules) {
        const loaded = lookup(groups, rule);
        if (!loaded) {
          missing.push(rule);
          continue;
        }
        if (canonicalPromql(loaded.query) !== canonicalPromql(rule.expr)) {
          // Same group and name but another expression: Prometheus runs an older (or someone else's) version.
          stale.push({ rule, loaded: loaded.query });
          continue;
        }
        if (loaded.health === "unknown") {
          unevaluated.push(rule);
          continue;
        }
        if (loaded.health === "err") {
          failing++;
          findings.push({
            status: "FAIL",
            subject: file.file,
            location: { path: file.file, line: rule.position.line, column: rule.position.column },
            message: `${file.file}: rule ${rule.name} (group ${rule.group}) fails evaluation in Prometheus: ${loaded.lastError ?? "unknown error"}`,
            data: {
              file: file.file,
              rule: rule.name,
              group: rule.group,
              problem: loaded.lastError ?? "evaluation error",
            },
            evidence: [evidence],
          });
        }
      }
      for (const { rule, loaded } of stale) {
        findings.push({
          status: "FAIL",
          subject: file.file,
          location: { path: file.file, line: rule.position.line, column: rule.position.column },
          message: `${file.file}: Prometheus runs a different expression for ${rule.group}/${rule.name} than the file has (loaded: ${loaded}); reload Prometheus or load this file`,
          data: {
            file: file.file,
            rule: rule.name,
            group: rule.group,
            loaded,
            problem: "the loaded expression differs from the file",
          },
          evidence: [evidence],
        });
      }
      if (missing.length > 0) {
        const names = missing.map((r) => `${r.group}/${r.name}`).join(", ");
        findings.push({
          status: "FAIL",
          subject: file.file,
          location: { path: file.file, line: missing[0]!.position.line, column: missing[0]!.position.column },
          message: `${file.file}: ${missing.length} of ${rules.length} rule(s) are not loaded in Prometheus: ${names}`,
          data: {
            file: file.file,
            missing: missing.map((r) => ({ group: r.group, rule: r.name })),
            problem: `not loaded: ${names}`,
          },
          evidence: [evidence],
          measurements: [
            {
              name: "rules loaded",
              value: rules.length - missing.length,
              unit: `of ${rules.length}`,
              evidence,
            },
          ],
        });
      }
      if (unevaluated.length > 0) {
        findings.push({
          status: "UNVERIFIED",
          subject: file.file,
          location: {
            path: file.file,
            line: unevaluated[0]!.position.line,
            column: unevaluated[0]!.position.column,
          },
          message: `${file.file}: ${unevaluated.length} rule(s) are loaded but Prometheus has not evaluated them yet: ${unevaluated.map((r) => r.name).join(", ")}`,
          data: { file: file.file },
          evidence: [evidence],
          toVerify: "run again once Prometheus has evaluated its rule groups (one evaluation_interval)",
        });
      }
      if (missing.length === 0 && failing === 0 && stale.length === 0 && unevaluated.length === 0) {
        findings.push({
          status: "PASS",
          subject: file.file,
          location: { path: file.file },
          message: `${file.file}: all ${rules.length} rule(s) are loaded in Prometheus and evaluate without error`,
          data: { file: file.file, rules: rules.length },
          evidence: [evidence],
          measurements: [{ name: "rules loaded", value: rules.length, unit: `of ${rules.length}`, evidence }],
        });
      }
    }
    return findings;
  },
});

function lookup(groups: PrometheusRuleGroup[], rule: RuleDefinition): PrometheusRule | undefined {
  const type = rule.kind === "alert" ? "alerting" : "recording";
  return groups
    .find((g) => g.name === rule.group)
    ?.rules.find((r) => r.name === rule.name && r.type === type);
}

function pendingEvaluation(groups: PrometheusRuleGroup[], rules: RuleDefinition[]): boolean {
  return rules.some((rule) => lookup(groups, rule)?.health === "unknown");
}
