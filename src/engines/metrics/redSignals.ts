// Finds the RED series in a parsed exposition: a request counter (Rate), a way to count errors (an error counter, or a
// status-code label on the request counter) and a latency histogram (Duration). Names follow the conventions of the
// Prometheus client libraries and OpenTelemetry's Prometheus exporter.
import type { Exposition, MetricFamily } from "./exposition.js";

const REQUEST_NAME = /(request|rpc|call|handled|served|hits|messages|operations)/i;
const ERROR_NAME = /(error|fail|exception|panic)/i;
const LATENCY_NAME = /(duration|latency|response_time|_seconds|_milliseconds|_ms$)/i;
const STATUS_LABEL =
  /^(code|status|status_code|http_status|response_code|http_response_status_code|grpc_code)$/;

export interface RedSignals {
  rate?: string;
  errors?: string;
  latency?: string;
  /** A latency summary was found but no histogram (summaries cannot be aggregated across instances). */
  latencySummary?: string;
  /** The request counter exists but has no samples yet, so its labels are unknown. */
  requestCounterEmpty?: boolean;
}

export function findRedSignals(exposition: Exposition): RedSignals {
  const families = [...exposition.families.values()];
  const signals: RedSignals = {};
  const counters = families.filter(isCounter);
  const histograms = families.filter(
    (f) => f.type === "histogram" && f.samples.some((s) => "le" in s.labels || f.samples.length === 0),
  );
  const requestCounter = counters.find((f) => REQUEST_NAME.test(f.name) && !ERROR_NAME.test(f.name));
  const latencyHistogram = histograms.find((f) => LATENCY_NAME.test(f.name));
  if (requestCounter) signals.rate = requestCounter.name;
  else if (latencyHistogram && REQUEST_NAME.test(latencyHistogram.name))
    signals.rate = `${latencyHistogram.name}_count`;
  const errorCounter = counters.find((f) => ERROR_NAME.test(f.name));
  const withStatus = [requestCounter, latencyHistogram].find((f) =>
    f?.samples.some((s) => Object.keys(s.labels).some((l) => STATUS_LABEL.test(l))),
  );
  if (errorCounter) signals.errors = errorCounter.name;
  else if (withStatus) {
    const label = Object.keys(
      withStatus.samples.find((s) => Object.keys(s.labels).some((l) => STATUS_LABEL.test(l)))!.labels,
    ).find((l) => STATUS_LABEL.test(l));
    signals.errors = `${withStatus.name} by ${label}`;
  }
  if (requestCounter && requestCounter.samples.length === 0) signals.requestCounterEmpty = true;
  if (latencyHistogram) signals.latency = latencyHistogram.name;
  else {
    const summary = families.find((f) => f.type === "summary" && LATENCY_NAME.test(f.name));
    if (summary) signals.latencySummary = summary.name;
  }
  return signals;
}

function isCounter(family: MetricFamily): boolean {
  if (family.type === "counter") return true;
  return (family.type === "untyped" || family.type === "unknown") && family.name.endsWith("_total");
}
