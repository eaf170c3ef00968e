// Is every service that exposes metrics watched by alerts for the golden signals of its kind, and is each of those
// alerts actionable: a `for:` so a blip does not page, a severity label for routing, a summary annotation, and a runbook
// (runbook_url, or a file named after the alert under operations.runbooks)? An HTTP service needs down/absent, error
// rate, latency and saturation. A datastore needs down, errors and saturation in its exporter's terms (redis_up == 0,
// redis_connected_clients / redis_config_maxclients, …), and latency only when its exporter exposes a latency family:
// the check reads each datastore's metrics endpoint once to know, and says latency could not be judged when it cannot.
// How an alert is matched to a service and a signal is in src/engines/prometheus/goldenSignals.ts.
import path from "node:path";
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { metricsUrl } from "../../engines/http/serviceUrls.js";
import { findDatastoreSignals } from "../../engines/metrics/datastoreExposition.js";
import {
  DATASTORE_SIGNALS,
  type DatastoreKind,
  isDatastoreSignalKind,
} from "../../engines/metrics/datastoreSignals.js";
import { formatOf, parseExposition } from "../../engines/metrics/exposition.js";
import { scrapeFailure, scrapeMetrics, withoutCredentials } from "../../engines/metrics/scrape.js";
import {
  type AlertClassification,
  classifyAlert,
  GOLDEN_SIGNALS,
  type GoldenSignal,
  type ServiceInfo,
} from "../../engines/prometheus/goldenSignals.js";
import { allRules, loadRuleSet, type RuleDefinition } from "../../engines/prometheus/ruleFiles.js";
import { locateRunbook } from "../../engines/runbooks/locate.js";
import { findBurnAlerts } from "../../engines/slo/burnAlerts.js";
import { jobOf } from "../../spec/kinds.js";
import type { Service, Spec } from "../../spec/schema.js";

const SIGNAL_WORDS: Record<GoldenSignal, string> = {
  down: "down/absent",
  errors: "error rate",
  latency: "latency",
  saturation: "saturation",
};

/** One valid alerting rule as read from its file, with what makes it unactionable (found on disk). */
export interface ObservedAlert {
  alert: string;
  file: string;
  line: number;
  column: number;
  group: string;
  expr: string;
  labels: Record<string, string>;
  defects: string[];
}

/** What a datastore's exporter exposes, read once from its metrics endpoint; unreadable says why not. */
export type Exposure =
  | { readable: true; latency: string[]; errors: string[]; evidence: string }
  | { readable: false; why: string; evidence?: string };

export interface CoverageObservation {
  patterns: string[];
  files: string[];
  alerts: ObservedAlert[];
  /** Datastore services with metrics → what their exporters expose. */
  exposures: Record<string, Exposure>;
  /** The coverage evidence file (every alert with its classification and defects). */
  evidence: string;
}

export default defineCheck<CoverageObservation>({
  meta: {
    id: "alertRulesCoverGoldenSignals",
    category: "observability",
    risk: "high",
    destructive: false,
    title: "Alerts cover the golden signals",
    objective:
      "Each service with metrics has alerts for the golden signals of its kind (down/absent, error rate, latency and saturation for an HTTP service; down, errors, saturation and, where its exporter has it, latency for a datastore), each with for:, a severity label, a summary and a runbook.",
    remediation: {
      effort: "medium",
      text: 'Add or complete alert rules for {{service}}: {{missing}}. Scope them with job="{{job}}" or a service: {{service}} label, and give each for:, labels.severity, annotations.summary and a runbook_url or a runbook file under operations.runbooks.',
    },
    messages: {
      covered: "every golden signal the service needs has an actionable alert",
      signalsMissing: "no valid alert covers some golden signal the service needs",
      notActionable: "an alert covering a signal lacks for:, a severity label, a summary or a runbook",
      latencyUnjudged:
        "the datastore's metrics could not be read, so whether its exporter has latency (and needs an alert on it) is unknown",
      noRuleFiles: "monitoring.rules matches no rule file",
    },
    timeoutMs: 30_000,
  },

  applies(spec) {
    if (!spec.monitoring?.rules?.length) return notApplicable("monitoring.rules lists no rule files");
    return watchedServices(spec).length > 0 ? true : notApplicable("no service declares a metrics endpoint");
  },

  async observe(ctx) {
    const patterns = ctx.spec.monitoring?.rules ?? [];
    const set = await loadRuleSet(ctx.specDir, patterns);
    // A rule Prometheus would reject protects nothing, so it covers no signal (alertRulesValid reports it).
    const invalid = new Set(
      set.files.flatMap((f) => f.problems.map((p) => `${f.file}\0${p.group}\0${p.rule}`)),
    );
    const rules = allRules(set).filter(
      (r) => r.kind === "alert" && r.expr.trim() !== "" && !invalid.has(`${r.file}\0${r.group}\0${r.name}`),
    );
    const runbookDir = ctx.spec.operations?.runbooks
      ? path.resolve(ctx.specDir, ctx.spec.operations.runbooks)
      : null;
    // A multiwindow burn-rate alert needs no for: its short window already asks that the burn go on (SRE workbook).
    const burnAlerts = new Set(
      (ctx.spec.slos ?? [])
        .flatMap((slo) => findBurnAlerts(slo, allRules(set)))
        .filter((a) => a.conditions.every((c) => c.shortMs !== undefined))
        .map((a) => `${a.file}\0${a.group}\0${a.alert}`),
    );
    const alerts: ObservedAlert[] = [];
    for (const rule of rules) {
      const multiwindow = burnAlerts.has(`${rule.file}\0${rule.group}\0${rule.name}`);
      alerts.push({
        alert: rule.name,
        file: rule.file,
        line: rule.position.line,
        column: rule.position.column,
        group: rule.group,
        expr: rule.expr,
        labels: rule.labels,
        defects: await defectsOf(rule, ctx.specDir, runbookDir, multiwindow),
      });
    }
    const exposures: Record<string, Exposure> = Object.fromEntries(
      await Promise.all(
        watchedServices(ctx.spec).flatMap((name) => {
          const service = ctx.spec.services[name]!;
          return isDatastoreSignalKind(service.kind)
            ? [observeExposure(ctx, name, service, service.kind).then((e) => [name, e] as const)]
            : [];
        }),
      ),
    );
    const directory = serviceDirectory(ctx.spec);
    const evidence = await ctx.evidence.writeJson("coverage.json", {
      heuristics:
        "src/engines/prometheus/goldenSignals.ts and src/engines/metrics/datastoreSignals.ts (a signal: or service: label on a rule overrides them)",
      files: set.files.map((f) => f.file),
      unmatchedPatterns: set.unmatched,
      servicesWithoutMetrics: Object.keys(ctx.spec.services).filter((s) => !ctx.spec.services[s]!.metrics),
      services: Object.fromEntries(
        Object.entries(directory).map(([name, info]) => [
          name,
          { ...info, metrics: Boolean(ctx.spec.services[name]!.metrics), exposure: exposures[name] },
        ]),
      ),
      invalidRulesIgnored: [...invalid].map((key) => key.split("\0").slice(1).join("/")),
      alerts: alerts.map((a) => {
        const c = classify(a, directory);
        return { ...a, signals: c.signals, services: c.services, covers: c.covers, reasons: c.reasons };
      }),
    });
    return { patterns, files: set.files.map((f) => f.file), alerts, exposures, evidence };
  },

  judge(observation, spec) {
    const services = watchedServices(spec);
    const directory = serviceDirectory(spec);
    const evidence = [observation.evidence];
    if (observation.files.length === 0) {
      return [
        {
          status: "FAIL",
          messageId: "noRuleFiles",
          message: `monitoring.rules (${observation.patterns.join(", ")}) matches no rule file, so no alert watches any service`,
          data: {
            service: services.join(", "),
            job: services.map((s) => directory[s]!.job).join(", "),
            missing: `rule files (${observation.patterns.join(", ")} matches none)`,
          },
          evidence,
        },
      ];
    }
    const classified = observation.alerts.map((alert) => ({ alert, ...classify(alert, directory) }));
    return services.flatMap((service) =>
      judgeService(service, directory[service]!, classified, observation.exposures[service], evidence),
    );
  },
});

type Classified = { alert: ObservedAlert } & AlertClassification;

function judgeService(
  service: string,
  info: ServiceInfo,
  classified: Classified[],
  exposure: Exposure | undefined,
  evidence: string[],
): FindingInput[] {
  const datastore = isDatastoreSignalKind(info.kind) ? info.kind : undefined;
  const mine = classified.filter((c) => (c.covers[service] ?? []).length > 0);
  const bySignal = new Map<GoldenSignal, Classified[]>(
    GOLDEN_SIGNALS.map((signal) => [signal, mine.filter((c) => c.covers[service]!.includes(signal))]),
  );
  const covered = (signal: GoldenSignal) => bySignal.get(signal)!.length > 0;
  const { required, unjudged } = datastore
    ? datastoreNeeds(datastore, exposure)
    : { required: [...GOLDEN_SIGNALS], unjudged: [] as GoldenSignal[] };
  const missing = required.filter((s) => !covered(s));
  const unknown = unjudged.filter((s) => !covered(s));
  const signals = Object.fromEntries(
    GOLDEN_SIGNALS.map((s) => [s, bySignal.get(s)!.map((c) => c.alert.alert)]),
  );
  const coverage = {
    name: "signals covered",
    value: required.length - missing.length,
    unit: `of ${required.length}`,
    evidence: evidence[0],
  };
  const data = { service, job: info.job, kind: info.kind, required, signals };
  const findings: FindingInput[] = [];
  const unknownWhy = exposure && !exposure.readable ? exposure.why : "its metrics endpoint was not read";
  if (missing.length > 0) {
    const words = missing.map((s) => describe(s, datastore, exposure));
    findings.push({
      status: "FAIL",
      messageId: "signalsMissing",
      subject: service,
      message: `${service}: no alert covers ${words.join(", ")}${unknown.length ? `; ${unknown.join(", ")} could not be judged (${unknownWhy})` : ""}`,
      data: { ...data, missing: words.join(", "), missingSignals: missing, unjudgedSignals: unknown },
      evidence,
      measurements: [coverage],
    });
  } else if (unknown.length > 0) {
    findings.push({
      status: "UNVERIFIED",
      messageId: "latencyUnjudged",
      subject: service,
      message: `${service}: ${required.join(", ")} ${required.length === 1 ? "is" : "are"} covered, but ${unknown.join(" and ")} could not be judged: ${unknownWhy}`,
      data: { ...data, unjudgedSignals: unknown },
      evidence,
      toVerify: `make ${service}'s exporter answer at its metrics URL with the store up, so Gauntlet can see whether it exposes ${unknown.join(" or ")} families`,
    });
  }
  for (const c of mine.filter((m) => m.alert.defects.length > 0)) {
    findings.push({
      status: "WARN",
      messageId: "notActionable",
      subject: service,
      location: { path: c.alert.file, line: c.alert.line, column: c.alert.column },
      message: `${service}: alert ${c.alert.alert} (${c.covers[service]!.map((s) => SIGNAL_WORDS[s]).join(", ")}) lacks ${c.alert.defects.join(", ")}`,
      data: {
        service,
        job: info.job,
        alert: c.alert.alert,
        defects: c.alert.defects,
        missing: `${c.alert.defects.join(", ")} on alert ${c.alert.alert}`,
      },
      evidence,
    });
  }
  if (findings.length === 0) {
    const names = GOLDEN_SIGNALS.filter((s) => required.includes(s) || covered(s)).map(
      (s) =>
        `${SIGNAL_WORDS[s]}: ${
          bySignal
            .get(s)!
            .map((c) => c.alert.alert)
            .join(", ") || "none"
        }`,
    );
    const errorsExcused = datastore ? DATASTORE_SIGNALS[datastore].onlyWhenExposed.errors : undefined;
    const note = [
      datastore && !required.includes("latency") && !covered("latency")
        ? `; latency not required: ${latencyNote(datastore, exposure)}`
        : "",
      errorsExcused && !required.includes("errors") && !covered("errors")
        ? `; errors not required: ${errorsExcused}`
        : "",
    ].join("");
    findings.push({
      status: "PASS",
      messageId: "covered",
      subject: service,
      message: `${service}: every golden signal it needs has an actionable alert (${names.join("; ")})${note}`,
      data,
      evidence,
      measurements: [coverage],
    });
  }
  return findings;
}

/** down, errors and saturation always; latency (and PgBouncer's errors) when the exporter is seen to expose them. */
function datastoreNeeds(
  kind: DatastoreKind,
  exposure: Exposure | undefined,
): { required: GoldenSignal[]; unjudged: GoldenSignal[] } {
  const entry = DATASTORE_SIGNALS[kind];
  const required: GoldenSignal[] = ["down", "saturation"];
  const unjudged: GoldenSignal[] = [];
  const errorsWhenExposed = Boolean(entry.onlyWhenExposed.errors);
  if (!errorsWhenExposed) required.push("errors");
  if (!exposure?.readable) {
    if (entry.latency.length > 0) unjudged.push("latency");
    if (errorsWhenExposed) unjudged.push("errors");
  } else {
    if (exposure.latency.length > 0) required.push("latency");
    if (errorsWhenExposed && exposure.errors.length > 0) required.push("errors");
  }
  return {
    required: GOLDEN_SIGNALS.filter((s) => required.includes(s)),
    unjudged: GOLDEN_SIGNALS.filter((s) => unjudged.includes(s)),
  };
}

/** A missing signal in the service's own terms: an HTTP word, or an example in its exporter's families. */
function describe(
  signal: GoldenSignal,
  kind: DatastoreKind | undefined,
  exposure: Exposure | undefined,
): string {
  if (!kind) return SIGNAL_WORDS[signal];
  const entry = DATASTORE_SIGNALS[kind];
  const up = entry.up[0]!;
  const resource = entry.saturation[0]!;
  const errors = entry.errors.find((e) => !e.aboutExporter)!;
  const example: Record<GoldenSignal, string> = {
    down: up.how === "value" ? `${up.name} == 0` : `absent(${up.name})`,
    errors: `increase(${errors.name}[5m]) > 0`,
    saturation: resource.limit[0]
      ? `${resource.usage[0]!.name} / ${resource.limit[0].name} > 0.9`
      : `${resource.usage[0]!.name} above a bound`,
    latency: `an alert on ${exposure?.readable && exposure.latency.length ? exposure.latency.join(" or ") : (entry.latency[0]?.name ?? "a latency family")}`,
  };
  return `${signal} (e.g. ${example[signal]})`;
}

function latencyNote(kind: DatastoreKind, exposure: Exposure | undefined): string {
  if (DATASTORE_SIGNALS[kind].latency.length === 0) return `no ${kind} exporter exposes a latency family`;
  return exposure?.readable ? "its exporter exposes no latency family" : "unknown";
}

function classify(alert: ObservedAlert, directory: Record<string, ServiceInfo>): AlertClassification {
  const rule: RuleDefinition = {
    kind: "alert",
    name: alert.alert,
    expr: alert.expr,
    labels: alert.labels,
    annotations: {},
    group: alert.group,
    file: alert.file,
    position: { line: alert.line, column: alert.column },
  };
  return classifyAlert(rule, directory);
}

/** Every declared service, so a rule labelled service: inventory is not mistaken for one about api. */
function serviceDirectory(spec: Spec): Record<string, ServiceInfo> {
  return Object.fromEntries(
    Object.entries(spec.services).map(([name, service]) => [
      name,
      { kind: service.kind, job: jobOf(name, service) },
    ]),
  );
}

/** Services a rule set can watch: those that declare a metrics endpoint (the others have no series to alert on). */
function watchedServices(spec: Spec): string[] {
  return Object.entries(spec.services)
    .filter(([, s]) => s.metrics)
    .map(([name]) => name);
}

/** Reads a datastore's exporter once (a GET, nothing else) to see which latency and error families it has. */
async function observeExposure(
  ctx: CheckContext,
  name: string,
  service: Service,
  kind: DatastoreKind,
): Promise<Exposure> {
  const target = metricsUrl(service);
  if (!target)
    return { readable: false, why: `services.${name}.metrics is a path and the service has no url` };
  ctx.secrets.addFromUrl(target);
  const url = withoutCredentials(target);
  const scrape = await scrapeMetrics(target, ctx.signal);
  const write = (value: unknown) => ctx.evidence.writeJson(`${name}-exposure.json`, value);
  if (scrape.outcome !== "ok") {
    const why = scrapeFailure(scrape);
    return { readable: false, why, evidence: await write({ service: name, kind, url, scrape, why }) };
  }
  const exposition = parseExposition(scrape.body, formatOf(scrape.contentType));
  const found = findDatastoreSignals(exposition, kind);
  const down = found.up.flatMap((u) => (u.how === "value" ? u.series.filter((s) => s.value === 0) : []));
  const evidence = await write({ service: name, kind, url, families: exposition.families.size, found });
  if (exposition.errors.length > 0)
    return { readable: false, why: `${url} does not parse (line ${exposition.errors[0]!.line})`, evidence };
  // A store the exporter cannot reach shows only the exporter's own families: what it would expose is unknown.
  if (down.length > 0)
    return { readable: false, why: `the exporter at ${url} reports the ${kind} down`, evidence };
  return { readable: true, latency: found.latency, errors: found.errors, evidence };
}

async function defectsOf(
  rule: RuleDefinition,
  specDir: string,
  runbookDir: string | null,
  multiwindowBurn: boolean,
): Promise<string[]> {
  const defects: string[] = [];
  if (!multiwindowBurn && (!rule.for || /^0+(ms|s|m|h)?$/.test(rule.for))) defects.push("a for: duration");
  if (!rule.labels.severity) defects.push("a severity label");
  if (!rule.annotations.summary) defects.push("a summary annotation");
  if ((await locateRunbook(rule.name, rule.annotations, specDir, runbookDir)).kind === "missing") {
    defects.push(
      runbookDir
        ? `a runbook_url or a runbook file ${rule.name}.md in ${path.relative(specDir, runbookDir) || "."}`
        : "a runbook_url annotation (or operations.runbooks with a file for it)",
    );
  }
  return defects;
}
