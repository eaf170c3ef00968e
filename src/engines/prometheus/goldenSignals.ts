// Which golden signal an alert rule watches, and which service it is about, decided from its PromQL (metric names,
// functions, label matchers) and its labels. Heuristics, written down here and in docs/checks.md so a user can make a
// rule match on purpose: a `signal:` label (down | errors | latency | saturation) and a `service:` label always win.
import { expressionFacts, type LabelMatcher } from "./promql.js";
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

export interface AlertClassification {
  signals: GoldenSignal[];
  /** Services the rule is scoped to, or "all" when it has no service matcher (e.g. `up == 0` watches every job). */
  services: string[] | "all";
  /** Why each signal was chosen, for evidence. */
  reasons: string[];
}

/** Classifies one alerting rule against the service names the spec declares. */
export function classifyAlert(rule: RuleDefinition, serviceNames: string[]): AlertClassification {
  const facts = expressionFacts(rule.expr);
  const signals = new Set<GoldenSignal>();
  const reasons: string[] = [];
  const add = (signal: GoldenSignal, reason: string) => {
    if (!signals.has(signal)) reasons.push(`${signal}: ${reason}`);
    signals.add(signal);
  };
  const explicit = SIGNAL_ALIASES[(rule.labels.signal ?? "").toLowerCase()];
  if (explicit) add(explicit, `label signal="${rule.labels.signal}"`);
  else {
    const fns = new Set(facts.functions);
    if (fns.has("absent") || fns.has("absent_over_time")) add("down", "absent()");
    if (fns.has("histogram_quantile")) add("latency", "histogram_quantile()");
    for (const selector of facts.selectors) {
      const metric = selector.metric ?? "";
      if (metric === "up" || metric === "probe_success") add("down", `metric ${metric}`);
      if (ERROR_METRIC.test(metric)) add("errors", `metric ${metric}`);
      if (selector.matchers.some(isServerErrorMatcher)) add("errors", `${metric}{code=~"5.."}`);
      if (LATENCY_METRIC.test(metric)) add("latency", `metric ${metric}`);
      else if (SATURATION_METRIC.test(metric)) add("saturation", `metric ${metric}`);
    }
  }
  return {
    signals: [...signals],
    services: scopedServices(
      rule,
      facts.selectors.flatMap((s) => s.matchers),
      serviceNames,
    ),
    reasons,
  };
}

function isServerErrorMatcher(m: LabelMatcher): boolean {
  if (!STATUS_LABELS.test(m.label)) return false;
  if (m.op === "=") return /^5\d\d$/.test(m.value) || /^5xx$/i.test(m.value);
  if (m.op === "=~") return /^5/.test(m.value) || /5\.\.|5xx|5\[0-9\]/i.test(m.value);
  return false;
}

function scopedServices(rule: RuleDefinition, matchers: LabelMatcher[], names: string[]): string[] | "all" {
  for (const key of ["service", "job"]) {
    const value = rule.labels[key];
    if (value && names.includes(value)) return [value];
  }
  const scoped = new Set<string>();
  let scopedAtAll = false;
  for (const m of matchers) {
    if (!SERVICE_LABELS.includes(m.label) || (m.op !== "=" && m.op !== "=~")) continue;
    scopedAtAll = true;
    for (const name of names) {
      if (m.op === "=" ? m.value === name : safeRegex(m.value)?.test(name)) scoped.add(name);
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
