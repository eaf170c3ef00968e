// Does every SLO have burn-rate alerts? An SLO nobody is paged for is a number on a dashboard. The rule files are read
// (src/engines/prometheus/ruleFiles.ts) and each SLO's alerts found by what they compute (src/engines/slo/burnAlerts.ts):
// `gauntlet slo rules` output by its `slo` label, hand-written ones by the SLI's metrics or the recording rules over
// them. The workbook's form is the bar: a page pair (1 h/5 m or 6 h/30 m) and a ticket pair (3 d/6 h, or Sloth's
// 1 d/2 h), each with a long and a short window and the workbook's factor scaled to the SLO's window.
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { allRules, loadRuleSet } from "../../engines/prometheus/ruleFiles.js";
import {
  type BurnAlert,
  type BurnCondition,
  type ConditionVerdict,
  classifyCondition,
  FACTOR_TOLERANCE,
  findBurnAlerts,
} from "../../engines/slo/burnAlerts.js";
import { ruleNumber } from "../../engines/slo/burnRate.js";
import { promDuration } from "../../engines/slo/errorBudget.js";
import type { Spec } from "../../spec/schema.js";

export interface SloAlertsObservation {
  /** monitoring.rules as written; empty when the spec lists none. */
  patterns: string[];
  unmatched: string[];
  files: { file: string; rules: number; yamlErrors: number }[];
  slos: { name: string; service: string; hasSli: boolean; alerts: BurnAlert[] }[];
  evidence: string;
}

const GENERATE = "gauntlet slo rules > monitoring/slo.rules.yml";

export default defineCheck<SloAlertsObservation>({
  meta: {
    id: "sloAlertsDefined",
    category: "observability",
    risk: "high",
    destructive: false,
    title: "Every SLO has multiwindow burn-rate alerts",
    objective:
      "Each SLO has alerts in monitoring.rules that page on a fast error-budget burn and open a ticket on a slow one, each over a long and a short window with the workbook's factor scaled to the SLO's window.",
    remediation: {
      effort: "low",
      text: `Generate the alerts with \`${GENERATE}\`, list the file under monitoring.rules and load it in Prometheus ({{problem}}).`,
    },
    messages: {
      multiwindowComplete:
        "the SLO has a page pair and a ticket pair of burn-rate alerts with the workbook's factors",
      pageTierOnly:
        "the SLO pages on fast burns but nothing tells anyone of a slow burn (no ticket pair over days)",
      ticketTierOnly: "the SLO has a slow-burn ticket pair but nothing pages on a fast burn",
      singleWindowOnly:
        "the SLO's burn-rate alerts watch a single window: they keep firing long after the burn stops",
      factorsDoNotMatchWindow:
        "a burn-rate pair's factor is not the workbook's for the SLO's window (e.g. 14.4 on a 28-day SLO)",
      noBurnAlerts: "no alert in the rule files computes a burn rate of the SLO",
      noRuleFiles: "SLOs are declared but no rule file is listed or found, so no SLO has an alert",
      ruleFileUnparsable: "a rule file does not parse, so whether it holds the SLO's alerts is unknown",
    },
    timeoutMs: 20_000,
  },

  applies(spec) {
    return spec.slos?.length ? true : notApplicable("the spec declares no SLO (slos)");
  },

  async observe(ctx) {
    const patterns = ctx.spec.monitoring?.rules ?? [];
    const set = await loadRuleSet(ctx.specDir, patterns);
    const rules = allRules(set);
    const slos = (ctx.spec.slos ?? []).map((slo) => ({
      name: slo.name,
      service: slo.service,
      hasSli: slo.sli !== undefined,
      alerts: findBurnAlerts(slo, rules),
    }));
    const files = set.files.map((f) => ({
      file: f.file,
      rules: f.groups.reduce((n, g) => n + g.rules.length, 0),
      yamlErrors: f.problems.filter((p) => p.kind === "yaml").length,
    }));
    const evidence = await ctx.evidence.writeJson("burn-rate-alerts.json", {
      patterns,
      unmatched: set.unmatched,
      files,
      slos: slos.map((s) => {
        const slo = ctx.spec.slos!.find((x) => x.name === s.name)!;
        return {
          ...s,
          objective: slo.objective,
          window: promDuration(slo.window),
          alerts: s.alerts.map((a) => ({
            ...a,
            conditions: a.conditions.map((c) => ({ ...c, ...classifyCondition(c, slo) })),
          })),
        };
      }),
    });
    return { patterns, unmatched: set.unmatched, files, slos, evidence };
  },

  judge(observation, spec) {
    const evidence = [observation.evidence];
    const found = observation.files.length > 0;
    if (!found) {
      const why =
        observation.patterns.length === 0
          ? "monitoring.rules lists no rule file"
          : `monitoring.rules (${observation.patterns.join(", ")}) matches no file`;
      return observation.slos.map((s) => ({
        status: "FAIL",
        messageId: "noRuleFiles",
        subject: s.name,
        message: `SLO ${s.name} has no burn-rate alert: ${why}; generate them with \`${GENERATE}\` and list the file under monitoring.rules`,
        data: { slo: s.name, service: s.service, problem: why },
        evidence,
      }));
    }
    const unparsable = observation.files.filter((f) => f.yamlErrors > 0).map((f) => f.file);
    return observation.slos.map((s) => judgeSlo(s, spec, unparsable, evidence));
  },
});

interface Judged {
  alert: BurnAlert;
  condition: BurnCondition;
  verdict: ConditionVerdict;
}

function judgeSlo(
  seen: SloAlertsObservation["slos"][number],
  spec: Spec,
  unparsable: string[],
  evidence: string[],
): FindingInput {
  const slo = spec.slos!.find((s) => s.name === seen.name)!;
  const base = { subject: seen.name, evidence };
  const data = (problem: string, extra: Record<string, unknown> = {}) => ({
    slo: seen.name,
    service: seen.service,
    problem,
    ...extra,
  });
  const judged: Judged[] = seen.alerts.flatMap((alert) =>
    alert.conditions.map((condition) => ({ alert, condition, verdict: classifyCondition(condition, slo) })),
  );
  // A one-window alert counts only when its factor is a burn rate's: `errors > 5 %` is an error-rate alert.
  const burn = judged.filter((j) => j.condition.shortMs !== undefined || j.verdict.matches);
  const at = (j: Judged) => ({ path: j.alert.file, line: j.alert.line, column: j.alert.column });
  const describe = (j: Judged) =>
    `${j.alert.alert} (${j.alert.file}:${j.alert.line}: ${promDuration(j.condition.longMs)}${j.condition.shortMs ? `/${promDuration(j.condition.shortMs)}` : " only"}, ${ruleNumber(j.verdict.factor)}×${j.verdict.expectedFactor !== undefined ? `, workbook ${ruleNumber(j.verdict.expectedFactor)}×` : ""})`;
  const alerts = burn.map(describe);
  const count = { name: "burn-rate conditions", value: burn.length, unit: "count" };
  if (burn.length === 0) {
    if (unparsable.length > 0)
      return {
        status: "UNVERIFIED",
        messageId: "ruleFileUnparsable",
        ...base,
        message: `SLO ${seen.name}: no burn-rate alert found, and ${unparsable.join(", ")} does not parse as YAML, so it may hold them`,
        data: data(`${unparsable.join(", ")} does not parse`),
        toVerify: `fix the YAML of ${unparsable.join(", ")} (see alertRulesValid), then run again`,
      };
    const hint = seen.hasSli
      ? `generate them with \`${GENERATE}\``
      : "add slos[].sli (errors + total, or histogram + threshold) so `gauntlet slo rules` can generate them";
    return {
      status: "FAIL",
      messageId: "noBurnAlerts",
      ...base,
      message: `SLO ${seen.name} (${slo.objective}% over ${promDuration(slo.window)}) has no burn-rate alert in the rule files: ${hint}`,
      data: data("no burn-rate alert", { hasSli: seen.hasSli }),
      measurements: [count],
    };
  }
  const pairs = burn.filter((j) => j.condition.shortMs !== undefined);
  const good = pairs.filter((j) => j.verdict.matches);
  const page = good.find((j) => j.verdict.severity === "page");
  const ticket = good.find((j) => j.verdict.severity === "ticket");
  const extra = { alerts };
  if (page && ticket)
    return {
      status: "PASS",
      messageId: "multiwindowComplete",
      ...base,
      location: at(page),
      message: `SLO ${seen.name}: burn-rate alerts page at ${describe(page)} and ticket at ${describe(ticket)}`,
      data: data("", extra),
      measurements: [count],
    };
  const warn = (messageId: string, first: Judged, message: string, problem: string): FindingInput => ({
    status: "WARN",
    messageId,
    ...base,
    location: at(first),
    message: `SLO ${seen.name}: ${message}`,
    data: data(problem, extra),
    measurements: [count],
  });
  if (pairs.length === 0)
    return warn(
      "singleWindowOnly",
      burn[0]!,
      `its burn-rate alerts watch one window each (${alerts.join("; ")}): without a short window beside the long one they keep firing for up to the long window after the burn stops; pair each with one of 1/12 its length`,
      "single-window burn-rate alerts",
    );
  const mismatched = pairs.filter((j) => !j.verdict.matches);
  if (mismatched.length > 0)
    return warn(
      "factorsDoNotMatchWindow",
      mismatched[0]!,
      `factors that do not fit its ${promDuration(slo.window)} window: ${mismatched.map(describe).join("; ")}${madeFor(mismatched, slo)}; the factor is budget share × SLO window / long window (2 % in 1h, 5 % in 6h, 10 % in 3d)`,
      "burn-rate factors that do not match the SLO window",
    );
  if (page)
    return warn(
      "pageTierOnly",
      page,
      `it pages on fast burns (${alerts.join("; ")}) but has no ticket pair (3d/6h at ${ruleNumber(classifyCondition({ longMs: 3 * 86_400_000, threshold: 0 }, slo).expectedFactor ?? 1)}×): a slow leak spends the budget unnoticed`,
      "no slow-burn ticket pair",
    );
  return warn(
    "ticketTierOnly",
    ticket ?? pairs[0]!,
    `it has a slow-burn pair (${alerts.join("; ")}) but nothing pages on a fast burn (1h/5m or 6h/30m)`,
    "no fast-burn page pair",
  );
}

/**
 * When every mismatched factor is off from the workbook's by one ratio, the thresholds were scaled for another
 * objective or window (kube-prometheus's 99 % rules under a 99.9 % SLO are 10× off): say which would fit.
 */
function madeFor(mismatched: Judged[], slo: { objective: number; window: number }): string {
  const ratios = mismatched.map((j) => j.verdict.factor / (j.verdict.expectedFactor ?? Number.NaN));
  const ratio = ratios[0]!;
  if (!ratios.every((r) => Math.abs(r / ratio - 1) <= FACTOR_TOLERANCE)) return "";
  const objective = Number((100 - (100 - slo.objective) * ratio).toPrecision(4));
  const window = promDuration(Math.round((slo.window * ratio) / 3_600_000) * 3_600_000);
  const either = objective > 0 && objective < 100 ? `a ${ruleNumber(objective)}% objective or ` : "";
  return ` (each ${ruleNumber(Number(ratio.toPrecision(3)))}× the workbook's, as if made for ${either}a ${window} window)`;
}
