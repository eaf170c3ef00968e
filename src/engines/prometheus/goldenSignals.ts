// Which golden signal an alert rule watches, and for which services, decided from its PromQL (metric names, functions,
// label matchers, comparisons) and its labels. Heuristics, written down here and in docs/checks.md so a user can make a
// rule match on purpose: a `signal:` label (down | errors | latency | saturation) and a `service:` label always win.
//
// A thing is judged by its kind (DESIGN principle 9). A metric of a datastore exporter's family (redis_*, pg_*,
// pgbouncer_*, mysql_*, …) means what src/engines/metrics/datastoreSignals.ts says and covers only services of that
// kind; such a metric the catalogue does not list (backups, replication, vacuum) is no golden signal. Other metrics are
// read with name heuristics and cover services that are not datastores, except `up`, `probe_success` and `absent()`,
// which say "down" for any service. Scope comes first: a job matcher is compared with each service's Prometheus job,
// other service labels with its name; an alert that names no service covers every service its metrics fit.
import { parser } from "@prometheus-io/lezer-promql";
import type { Kind } from "../../spec/kinds.js";
import { type DatastoreKind, datastoreKindOfMetric, meaningOfMetric } from "../metrics/datastoreSignals.js";
import { expressionFacts, type LabelMatcher, type Selector } from "./promql.js";
import type { RuleDefinition } from "./ruleFiles.js";

export const GOLDEN_SIGNALS = ["down", "errors", "latency", "saturation"] as const;
export type GoldenSignal = (typeof GOLDEN_SIGNALS)[number];

/** Labels that name the service a series comes from, in Prometheus scrape configs and exporters. */
export const SERVICE_LABELS = ["job", "service", "app", "application", "app_kubernetes_io_name", "container"];
const STATUS_LABELS = /^(code|status|status_code|http_status|response_code|http_code)$/;
const ERROR_METRIC = /(error|errors|fail|failed|failure|exception|panic)/i;
const LATENCY_METRIC = /(duration|latency|response_time|request_seconds|_seconds_bucket)/i;
const SATURATION_METRIC =
  /(cpu|memory|_mem_|resident|heap|saturation|utili[sz]ation|queue|inflight|in_flight|concurrency|open_fds|max_fds|file_descriptors|connections|pool|threads|goroutines|event_loop|eventloop|lag|disk|filesystem|load1|load5|load15|throttl)/i;
const SIGNAL_ALIASES: Record<string, GoldenSignal> = {
  down: "down",
  availability: "down",
  absent: "down",
  errors: "errors",
  error: "errors",
  latency: "latency",
  saturation: "saturation",
};

/** What the classifier needs to know of a declared service: its kind and the job label it is scraped under. */
export interface ServiceInfo {
  kind: Kind;
  job: string;
}

export interface AlertClassification {
  signals: GoldenSignal[];
  /** Services the rule is scoped to, or "all" when it has no service matcher (e.g. `up == 0` watches every job). */
  services: string[] | "all";
  /** For each service in scope, the signals this rule covers for it (its metrics must fit the service's kind). */
  covers: Record<string, GoldenSignal[]>;
  /** Why each signal was chosen (and why a metric counted for nothing), for evidence. */
  reasons: string[];
}

/** Who a signal applies to: any service, services that are not datastores, or datastores of one kind. */
type Audience = "any" | "notDatastore" | DatastoreKind;

interface Contribution {
  signal: GoldenSignal;
  audience: Audience;
  reason: string;
}

/**
 * Classifies one alerting rule against the declared services: a name → kind and job map, or bare names (then each is
 * taken as an HTTP service scraped under its own name).
 */
export function classifyAlert(
  rule: RuleDefinition,
  services: readonly string[] | Readonly<Record<string, ServiceInfo>>,
): AlertClassification {
  const directory: Readonly<Record<string, ServiceInfo>> = isNameList(services)
    ? Object.fromEntries(services.map((name) => [name, { kind: "http", job: name }]))
    : services;
  const facts = expressionFacts(rule.expr);
  const notes: string[] = [];
  const explicit = SIGNAL_ALIASES[(rule.labels.signal ?? "").toLowerCase()];
  const contributions: Contribution[] = explicit
    ? [{ signal: explicit, audience: "any", reason: `label signal="${rule.labels.signal}"` }]
    : fromExpression(rule.expr, facts.selectors, facts.functions, notes);
  const scope = scopedServices(
    rule,
    facts.selectors.flatMap((s) => s.matchers),
    directory,
  );
  const covers: Record<string, GoldenSignal[]> = {};
  for (const name of scope === "all" ? Object.keys(directory) : scope) {
    const kind = directory[name]!.kind;
    const signals = GOLDEN_SIGNALS.filter((signal) =>
      contributions.some((c) => c.signal === signal && reaches(c.audience, kind)),
    );
    if (signals.length > 0) covers[name] = signals;
  }
  const signals = GOLDEN_SIGNALS.filter((signal) => contributions.some((c) => c.signal === signal));
  const reasons: string[] = [];
  for (const c of contributions) {
    const line = `${c.signal}: ${c.reason}${audienceNote(c.audience)}`;
    if (!reasons.includes(line)) reasons.push(line);
  }
  return { signals, services: scope, covers, reasons: [...reasons, ...new Set(notes)] };
}

function isNameList(
  value: readonly string[] | Readonly<Record<string, ServiceInfo>>,
): value is readonly string[] {
  return Array.isArray(value);
}

function fromExpression(
  expr: string,
  selectors: Selector[],
  functions: string[],
  notes: string[],
): Contribution[] {
  const out: Contribution[] = [];
  const named = selectors.filter((s) => s.metric);
  const kinds = new Set(named.map((s) => datastoreKindOfMetric(s.metric!)));
  // A function over series of one datastore kind speaks of that kind (absent(redis_up) is Redis down).
  const only = kinds.size === 1 ? [...kinds][0] : undefined;
  const fns = new Set(functions);
  if (fns.has("absent") || fns.has("absent_over_time"))
    out.push({ signal: "down", audience: only ?? "any", reason: "absent()" });
  if (fns.has("histogram_quantile"))
    out.push({ signal: "latency", audience: only ?? "notDatastore", reason: "histogram_quantile()" });

  const meanings = named.flatMap((s) => {
    const kind = datastoreKindOfMetric(s.metric!);
    return kind ? meaningOfMetric(kind, s.metric!).map((m) => ({ ...m, kind, metric: s.metric! })) : [];
  });
  // `redis_connected_clients < 5` fires when a store is idle, not when it fills: without a limit in the expression,
  // a usage that only ever falls below a bound is no saturation alert.
  const lowWater = onlyLowerBounds(expr) && !meanings.some((m) => m.role === "limit");
  for (const selector of named) {
    const metric = selector.metric!;
    const kind = datastoreKindOfMetric(metric);
    if (kind) {
      const mine = meanings.filter((m) => m.metric === metric);
      if (mine.length === 0) notes.push(`${metric}: a ${kind} metric that is none of its golden signals`);
      for (const m of mine) {
        if (m.signal === "saturation" && lowWater) {
          notes.push(`${metric}: compared only with "<", so it fires when usage is low, not on saturation`);
          continue;
        }
        const signal: GoldenSignal = m.signal === "up" ? "down" : m.signal;
        out.push({ signal, audience: kind, reason: `metric ${metric} (${m.means})` });
      }
      continue;
    }
    if (metric === "up" || metric === "probe_success")
      out.push({ signal: "down", audience: "any", reason: `metric ${metric}` });
    if (ERROR_METRIC.test(metric))
      out.push({ signal: "errors", audience: "notDatastore", reason: `metric ${metric}` });
    if (selector.matchers.some(isServerErrorMatcher))
      out.push({ signal: "errors", audience: "notDatastore", reason: `${metric}{code=~"5.."}` });
    if (LATENCY_METRIC.test(metric))
      out.push({ signal: "latency", audience: "notDatastore", reason: `metric ${metric}` });
    else if (SATURATION_METRIC.test(metric))
      out.push({ signal: "saturation", audience: "notDatastore", reason: `metric ${metric}` });
  }
  return out;
}

function reaches(audience: Audience, kind: Kind): boolean {
  if (audience === "any") return true;
  if (audience === "notDatastore") return datastoreKindOfKind(kind) === undefined;
  return audience === kind;
}

function datastoreKindOfKind(kind: Kind): DatastoreKind | undefined {
  return kind === "http" || kind === "other" ? undefined : kind;
}

function audienceNote(audience: Audience): string {
  if (audience === "any") return "";
  if (audience === "notDatastore") return " — services that are not datastores";
  return ` — ${audience} services`;
}

/** True when the expression compares, and every comparison is `<` or `<=`. */
function onlyLowerBounds(expr: string): boolean {
  const operators: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (["Lss", "Lte", "Gtr", "Gte", "Eql", "Neq"].includes(node.name)) operators.push(node.name);
    },
  });
  return operators.length > 0 && operators.every((op) => op === "Lss" || op === "Lte");
}

function isServerErrorMatcher(m: LabelMatcher): boolean {
  if (!STATUS_LABELS.test(m.label)) return false;
  if (m.op === "=") return /^5\d\d$/.test(m.value) || /^5xx$/i.test(m.value);
  if (m.op === "=~") return /^5/.test(m.value) || /5\.\.|5xx|5\[0-9\]/i.test(m.value);
  return false;
}

function scopedServices(
  rule: RuleDefinition,
  matchers: LabelMatcher[],
  directory: Readonly<Record<string, ServiceInfo>>,
): string[] | "all" {
  const names = Object.keys(directory);
  const service = rule.labels.service;
  if (service && names.includes(service)) return [service];
  const job = rule.labels.job;
  const byJob = job ? names.filter((name) => directory[name]!.job === job) : [];
  if (byJob.length > 0) return byJob;
  const scoped = new Set<string>();
  let scopedAtAll = false;
  for (const m of matchers) {
    if (!SERVICE_LABELS.includes(m.label) || (m.op !== "=" && m.op !== "=~")) continue;
    scopedAtAll = true;
    const pattern = m.op === "=~" ? safeRegex(m.value) : null;
    const matches = (value: string) => (m.op === "=" ? m.value === value : (pattern?.test(value) ?? false));
    for (const name of names) {
      // The job label is the scrape job (services.<name>.job, else the name); other labels carry the name.
      const values = m.label === "job" ? [directory[name]!.job] : [name, directory[name]!.job];
      if (values.some(matches)) scoped.add(name);
    }
  }
  // Scoped to a job that is not a declared service: it covers none of them, not all of them.
  return scopedAtAll ? [...scoped] : "all";
}

function safeRegex(source: string): RegExp | null {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch {
    return null;
  }
}
