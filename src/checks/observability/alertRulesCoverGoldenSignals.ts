// Is every service that exposes metrics watched by alerts for the four golden signals (down/absent, error rate,
// latency, saturation), and is each of those alerts actionable: a `for:` so a blip does not page, a severity label for
// routing, a summary annotation, and a runbook (runbook_url, or a file named after the alert under
// operations.runbooks)? How an alert is matched to a service and a signal is in src/engines/prometheus/goldenSignals.ts.
import { access } from "node:fs/promises";
import path from "node:path";
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { classifyAlert, GOLDEN_SIGNALS, type GoldenSignal } from "../../engines/prometheus/goldenSignals.js";
import { allRules, loadRuleSet, type RuleDefinition } from "../../engines/prometheus/ruleFiles.js";
import type { Spec } from "../../spec/schema.js";

const SIGNAL_WORDS: Record<GoldenSignal, string> = {
  down: "down/absent",
  errors: "error rate",
  latency: "latency",
  saturation: "saturation",
};

export default defineCheck({
  meta: {
    id: "alertRulesCoverGoldenSignals",
    category: "observability",
    risk: "high",
    destructive: false,
    title: "Alerts cover the golden signals",
    objective:
      "Each service with metrics has alerts for down/absent, error rate, latency and saturation, each with for:, a severity label, a summary and a runbook.",
    remediation: {
      effort: "medium",
      text: 'Add alert rules for {{service}} covering {{missing}} (scope them with job="{{service}}" or a service: {{service}} label), each with for:, labels.severity, annotations.summary and a runbook_url or a runbook file under operations.runbooks.',
    },
    timeoutMs: 30_000,
  },

  applies(spec) {
    if (!spec.monitoring?.rules?.length) return notApplicable("monitoring.rules lists no rule files");
    return watchedServices(spec).length > 0 ? true : notApplicable("no service declares a metrics endpoint");
  },

  async run(ctx) {
    const set = await loadRuleSet(ctx.specDir, ctx.spec.monitoring?.rules ?? []);
    const services = watchedServices(ctx.spec);
    const unwatched = Object.keys(ctx.spec.services).filter((s) => !services.includes(s));
    // A rule Prometheus would reject protects nothing, so it covers no signal (alertRulesValid reports it).
    const invalid = new Set(
      set.files.flatMap((f) => f.problems.map((p) => `${f.file}\0${p.group}\0${p.rule}`)),
    );
    const alerts = allRules(set).filter(
      (r) => r.kind === "alert" && r.expr.trim() !== "" && !invalid.has(`${r.file}\0${r.group}\0${r.name}`),
    );
    const runbookDir = ctx.spec.operations?.runbooks
      ? path.resolve(ctx.specDir, ctx.spec.operations.runbooks)
      : null;

    const classified = await Promise.all(
      alerts.map(async (rule) => ({
        rule,
        // All declared services, so a rule labelled service: inventory is not mistaken for one about api.
        ...classifyAlert(rule, Object.keys(ctx.spec.services)),
        defects: await defectsOf(rule, ctx.specDir, runbookDir),
      })),
    );
    const evidence = await ctx.evidence.writeJson("coverage.json", {
      heuristics:
        "src/engines/prometheus/goldenSignals.ts (a signal: or service: label on a rule overrides them)",
      files: set.files.map((f) => f.file),
      servicesWithoutMetrics: unwatched,
      invalidRulesIgnored: [...invalid].map((key) => key.split("\0").slice(1).join("/")),
      alerts: classified.map((c) => ({
        alert: c.rule.name,
        file: c.rule.file,
        line: c.rule.position.line,
        expr: c.rule.expr,
        services: c.services,
        signals: c.signals,
        reasons: c.reasons,
        defects: c.defects,
      })),
    });

    const findings: FindingInput[] = [];
    if (set.files.length === 0) {
      return [
        {
          status: "FAIL",
          message: `monitoring.rules (${(ctx.spec.monitoring?.rules ?? []).join(", ")}) matches no rule file, so no alert watches any service`,
          data: {
            service: services.join(", "),
            missing: GOLDEN_SIGNALS.map((s) => SIGNAL_WORDS[s]).join(", "),
          },
          evidence: [evidence],
        },
      ];
    }
    for (const service of services) {
      const mine = classified.filter((c) => c.services === "all" || c.services.includes(service));
      const bySignal = new Map<GoldenSignal, typeof mine>();
      for (const signal of GOLDEN_SIGNALS)
        bySignal.set(
          signal,
          mine.filter((c) => c.signals.includes(signal)),
        );
      const missing = GOLDEN_SIGNALS.filter((s) => bySignal.get(s)!.length === 0);
      const covering = mine.filter((c) => c.signals.length > 0);
      const coverage = {
        name: "signals covered",
        value: GOLDEN_SIGNALS.length - missing.length,
        unit: `of ${GOLDEN_SIGNALS.length}`,
        evidence,
      };
      const signalsData = Object.fromEntries(
        GOLDEN_SIGNALS.map((s) => [s, bySignal.get(s)!.map((c) => c.rule.name)]),
      );
      if (missing.length > 0) {
        const words = missing.map((s) => SIGNAL_WORDS[s]).join(", ");
        findings.push({
          status: "FAIL",
          subject: service,
          message: `${service}: no alert covers ${words}`,
          data: { service, missing: words, missingSignals: missing, signals: signalsData },
          evidence: [evidence],
          measurements: [coverage],
        });
      }
      const defective = covering.filter((c) => c.defects.length > 0);
      for (const c of defective) {
        findings.push({
          status: "WARN",
          subject: service,
          location: { path: c.rule.file, line: c.rule.position.line, column: c.rule.position.column },
          message: `${service}: alert ${c.rule.name} (${c.signals.map((s) => SIGNAL_WORDS[s]).join(", ")}) lacks ${c.defects.join(", ")}`,
          data: { service, alert: c.rule.name, defects: c.defects, missing: c.defects.join(", ") },
          evidence: [evidence],
        });
      }
      if (missing.length === 0 && defective.length === 0) {
        const names = GOLDEN_SIGNALS.map(
          (s) =>
            `${SIGNAL_WORDS[s]}: ${bySignal
              .get(s)!
              .map((c) => c.rule.name)
              .join(", ")}`,
        );
        findings.push({
          status: "PASS",
          subject: service,
          message: `${service}: every golden signal has an actionable alert (${names.join("; ")})`,
          data: { service, signals: signalsData },
          evidence: [evidence],
          measurements: [coverage],
        });
      }
    }
    return findings;
  },
});

/** Services a rule set can watch: those that declare a metrics endpoint (the others have no series to alert on). */
function watchedServices(spec: Spec): string[] {
  return Object.entries(spec.services)
    .filter(([, s]) => s.metrics)
    .map(([name]) => name);
}

async function defectsOf(
  rule: RuleDefinition,
  specDir: string,
  runbookDir: string | null,
): Promise<string[]> {
  const defects: string[] = [];
  if (!rule.for || /^0+(ms|s|m|h)?$/.test(rule.for)) defects.push("a for: duration");
  if (!rule.labels.severity) defects.push("a severity label");
  if (!rule.annotations.summary) defects.push("a summary annotation");
  if (!(await hasRunbook(rule, specDir, runbookDir))) {
    defects.push(
      runbookDir
        ? `a runbook_url or a runbook file ${rule.name}.md in ${path.relative(specDir, runbookDir) || "."}`
        : "a runbook_url annotation (or operations.runbooks with a file for it)",
    );
  }
  return defects;
}

async function hasRunbook(
  rule: RuleDefinition,
  specDir: string,
  runbookDir: string | null,
): Promise<boolean> {
  const url = rule.annotations.runbook_url ?? rule.annotations.runbook;
  if (url) {
    // An http(s) link is taken as given (fetching a wiki would need its credentials); a path must exist.
    if (/^https?:\/\//i.test(url)) return true;
    const local = url.startsWith("file://")
      ? new URL(url).pathname
      : path.resolve(runbookDir ?? specDir, url);
    if (await exists(local)) return true;
    if (await exists(path.resolve(specDir, url))) return true;
    return false;
  }
  if (!runbookDir) return false;
  const kebab = rule.name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
  const names = [rule.name, rule.name.toLowerCase(), kebab, kebab.replace(/-/g, "_")];
  for (const name of names) {
    for (const ext of [".md", ".markdown", ".txt", ".adoc", ".rst"]) {
      if (await exists(path.join(runbookDir, `${name}${ext}`))) return true;
    }
  }
  return false;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
