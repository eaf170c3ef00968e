// Does every service's metrics endpoint answer with a valid Prometheus (or OpenMetrics) exposition that carries the
// signals a thing of its kind is judged by (DESIGN principle 9)? An HTTP service needs its RED series: a request
// counter, a way to count errors and a latency histogram; a request counter with no samples yet has no labels to
// inspect, so the check first sends the service one GET of its health endpoint. A datastore is watched through its
// exporter and needs its own signals (src/engines/metrics/datastoreSignals.ts): the exporter reaches the store (an
// exporter answering 200 with redis_up 0 is a store that is down), saturation against a limit, and errors; latency only
// where the exporter has it. A datastore's health is never sent an HTTP request.
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { probeHttp } from "../../engines/http/probe.js";
import { healthUrl, metricsUrl } from "../../engines/http/serviceUrls.js";
import {
  type FoundDatastoreSignals,
  findDatastoreSignals,
} from "../../engines/metrics/datastoreExposition.js";
import {
  DATASTORE_SIGNALS,
  isDatastoreSignalKind,
  type KindSignals,
} from "../../engines/metrics/datastoreSignals.js";
import {
  type ExpositionError,
  type ExpositionFormat,
  formatOf,
  parseExposition,
} from "../../engines/metrics/exposition.js";
import { findRedSignals, type RedSignals } from "../../engines/metrics/redSignals.js";
import {
  type ScrapeResult,
  scrapeFailure,
  scrapeMetrics,
  withoutCredentials,
} from "../../engines/metrics/scrape.js";
import type { Kind } from "../../spec/kinds.js";
import type { Service } from "../../spec/schema.js";

const HEALTH_TIMEOUT_MS = 5_000;
const HTTP_HOW =
  "a request counter (e.g. http_requests_total with a code label for errors) and a latency histogram (e.g. http_request_duration_seconds), from your language's Prometheus client library";

export interface EndpointObservation {
  service: string;
  kind: Kind;
  /** services.<name>.metrics as written in the spec. */
  metrics: string;
  /** The URL scraped; null when `metrics` is a path and the service has no url to join it to. */
  url: string | null;
  /** The scrape's outcome without its body (the body is evidence). */
  scrape?: Exclude<ScrapeResult, { outcome: "ok" }> | Omit<Extract<ScrapeResult, { outcome: "ok" }>, "body">;
  exposition?: { format: ExpositionFormat; families: number; samples: number; errors: ExpositionError[] };
  /** HTTP services: the RED series found, and whether one health request was sent to make the counter emit labels. */
  red?: RedSignals;
  primedWithHealthRequest?: boolean;
  /** Datastores: the signal families found in the exporter's output. */
  datastore?: FoundDatastoreSignals;
  /** Evidence files: the scrape summary and, when there was one, the body. */
  evidence: string[];
}

export interface MetricsExposedObservation {
  endpoints: EndpointObservation[];
}

export default defineCheck<MetricsExposedObservation>({
  meta: {
    id: "metricsExposed",
    category: "observability",
    risk: "high",
    destructive: false,
    title: "Services expose the metrics their kind is judged by",
    objective:
      "Each service's metrics endpoint parses as Prometheus text or OpenMetrics and has the signals of its kind: request-rate, error and latency-histogram series for an HTTP service; up, saturation and errors (latency where its exporter has it) for a datastore's exporter.",
    remediation: {
      effort: "medium",
      text: "Make {{service}}'s metrics endpoint ({{url}}) serve {{missing}}: {{how}}.",
    },
    messages: {
      red: "an HTTP service exposes a request counter, an error series and a latency histogram",
      redMissing: "an HTTP service's exposition parses but lacks some RED series",
      storeSignals:
        "a datastore's exporter reaches the store and exposes its up, saturation and error signals",
      storeDown:
        "the datastore's exporter answers but reports that it cannot reach the store (e.g. redis_up 0)",
      storeSignalsMissing:
        "a datastore's exporter output lacks a required signal (up, saturation against a limit, errors)",
      unparsable: "the exposition does not parse as the format it announces",
      unreachable: "the metrics endpoint refused the connection, reset it or did not answer in time",
      badStatus: "the metrics endpoint answered with a non-2xx status or a body over the size limit",
      unusableUrl: "the metrics address is not an http(s) URL",
      noUrl: "metrics is a path and the service has no url to join it to",
    },
    timeoutMs: 30_000,
  },

  applies(spec) {
    return Object.values(spec.services).some((s) => s.metrics)
      ? true
      : notApplicable("no service declares a metrics endpoint");
  },

  async observe(ctx) {
    const observation: MetricsExposedObservation = { endpoints: [] };
    for (const [name, service] of Object.entries(ctx.spec.services)) {
      if (!service.metrics) continue;
      observation.endpoints.push(await observeEndpoint(ctx, name, service));
      ctx.keepPartial(observation);
    }
    return observation;
  },

  judge(observation) {
    return observation.endpoints.map(judgeEndpoint);
  },
});

async function observeEndpoint(
  ctx: CheckContext,
  name: string,
  service: Service,
): Promise<EndpointObservation> {
  const metrics = service.metrics!;
  const target = metricsUrl(service);
  const url = target ? withoutCredentials(target) : null;
  const endpoint: EndpointObservation = {
    service: name,
    kind: service.kind,
    metrics: withoutCredentials(metrics),
    url,
    evidence: [],
  };
  if (!target || !url) return endpoint;
  ctx.secrets.addFromUrl(target);
  let scrape = await scrapeMetrics(target, ctx.signal);
  const datastore = isDatastoreSignalKind(service.kind) ? service.kind : undefined;
  let primed = false;
  if (scrape.outcome === "ok" && !datastore) {
    const red = findRedSignals(parseExposition(scrape.body, formatOf(scrape.contentType)));
    const health = healthUrl(service);
    if (red.requestCounterEmpty && !red.errors && health) {
      // One real request makes the counter emit its labelled series (e.g. code="200").
      await probeHttp({ url: health, timeoutMs: HEALTH_TIMEOUT_MS, signal: ctx.signal });
      primed = true;
      scrape = await scrapeMetrics(target, ctx.signal);
    }
  }
  if (scrape.outcome !== "ok") {
    endpoint.scrape = scrape;
    endpoint.evidence.push(
      await ctx.evidence.writeJson(`${name}-metrics.json`, {
        service: name,
        kind: service.kind,
        url,
        scrape,
      }),
    );
    return endpoint;
  }
  const { body, ...head } = scrape;
  endpoint.scrape = head;
  const exposition = parseExposition(body, formatOf(scrape.contentType));
  endpoint.exposition = {
    format: exposition.format,
    families: exposition.families.size,
    samples: exposition.sampleCount,
    errors: exposition.errors,
  };
  if (datastore) endpoint.datastore = findDatastoreSignals(exposition, datastore);
  else {
    endpoint.red = findRedSignals(exposition);
    endpoint.primedWithHealthRequest = primed;
  }
  const summary = await ctx.evidence.writeJson(`${name}-metrics.json`, {
    service: name,
    kind: service.kind,
    url,
    scrape: head,
    ...endpoint.exposition,
    ...(endpoint.red ? { red: endpoint.red, primedWithHealthRequest: primed } : {}),
    ...(endpoint.datastore ? { datastore: endpoint.datastore } : {}),
  });
  endpoint.evidence.push(summary, await ctx.evidence.write(`${name}-metrics.txt`, body));
  return endpoint;
}

function judgeEndpoint(endpoint: EndpointObservation): FindingInput {
  const name = endpoint.service;
  const url = endpoint.url ?? endpoint.metrics;
  const datastore = isDatastoreSignalKind(endpoint.kind) ? endpoint.kind : undefined;
  const exporterHint = datastore
    ? ` (a ${datastore}'s metrics come from its exporter, e.g. ${DATASTORE_SIGNALS[datastore].exporters[0]!.name})`
    : "";
  const scrape = endpoint.scrape;
  if (!endpoint.url || !scrape) {
    return {
      status: "UNVERIFIED",
      messageId: "noUrl",
      subject: name,
      message: `${name}: metrics "${endpoint.metrics}" is a path but the service has no url to join it to`,
      data: { service: name, url, missing: "a reachable metrics endpoint" },
      toVerify: `give services.${name}.url or make services.${name}.metrics a full URL${exporterHint}`,
    };
  }
  const evidence = endpoint.evidence;
  const reachHow = datastore
    ? `start ${DATASTORE_SIGNALS[datastore].exporters.map((e) => e.name).join(" or ")} for this ${datastore} on that address, or correct services.${name}.metrics`
    : `start the service or correct services.${name}.metrics`;
  if (scrape.outcome === "unusableUrl") {
    return {
      status: "UNVERIFIED",
      messageId: "unusableUrl",
      subject: name,
      message: `${name}: ${scrapeFailure(scrape)}`,
      data: { service: name, url, error: scrape.error, missing: "a reachable metrics endpoint" },
      toVerify: `make services.${name}.metrics an http(s) URL or path${exporterHint}`,
    };
  }
  if (scrape.outcome === "unreachable") {
    return {
      status: "FAIL",
      messageId: "unreachable",
      subject: name,
      message: `${name}: ${scrapeFailure(scrape)}`,
      data: {
        service: name,
        url,
        error: scrape.error,
        missing: "a reachable metrics endpoint",
        how: reachHow,
      },
      evidence,
    };
  }
  if (scrape.outcome === "badStatus") {
    return {
      status: "FAIL",
      messageId: "badStatus",
      subject: name,
      message: `${name}: ${scrapeFailure(scrape)}`,
      data: {
        service: name,
        url,
        status: scrape.status,
        missing: "a metrics endpoint answering 200",
        how: reachHow,
      },
      evidence,
    };
  }
  const exposition = endpoint.exposition!;
  const measurements = [
    { name: "metric families", value: exposition.families, unit: "count", evidence: evidence[0] },
    { name: "samples", value: exposition.samples, unit: "count", evidence: evidence[0] },
    { name: "fetch latency", value: scrape.latencyMs, unit: "ms", evidence: evidence[0] },
  ];
  const base = { subject: name, evidence, measurements };
  const data = { service: name, url, format: exposition.format, kind: endpoint.kind };
  if (exposition.errors.length > 0) {
    const first = exposition.errors[0]!;
    const format = exposition.format === "openmetrics" ? "OpenMetrics" : "Prometheus text format";
    return {
      ...base,
      status: "FAIL",
      messageId: "unparsable",
      message: `${name}: ${url} does not parse as ${format}: line ${first.line}, column ${first.column}: ${first.message}${exposition.errors.length > 1 ? ` (and ${exposition.errors.length - 1} more)` : ""}`,
      data: {
        ...data,
        errors: exposition.errors,
        missing: `a valid ${format} exposition`,
        how: `fix what writes line ${first.line} (Prometheus would drop the whole scrape)`,
      },
    };
  }
  if (endpoint.datastore)
    return judgeDatastore(endpoint.datastore, { ...base, data, families: exposition.families });
  const red = endpoint.red ?? {};
  const missing = missingRedParts(red);
  if (missing.length > 0) {
    return {
      ...base,
      status: "FAIL",
      messageId: "redMissing",
      message: `${name}: ${url} parses (${exposition.families} families) but has no ${missing.join(", no ")}`,
      data: { ...data, red, missing: missing.join(", "), how: HTTP_HOW },
    };
  }
  return {
    ...base,
    status: "PASS",
    messageId: "red",
    message: `${name}: ${url} has RED series — rate: ${red.rate}, errors: ${red.errors}, latency: ${red.latency}`,
    data: { ...data, red },
  };
}

function missingRedParts(red: RedSignals): string[] {
  const missing: string[] = [];
  if (!red.rate) missing.push("request counter (rate)");
  if (!red.errors) missing.push("error series (an error counter or a status-code label)");
  if (!red.latency) {
    missing.push(
      red.latencySummary
        ? `latency histogram (${red.latencySummary} is a summary, which cannot be aggregated)`
        : "latency histogram",
    );
  }
  return missing;
}

interface DatastoreVerdictBase {
  subject: string;
  evidence: string[];
  measurements: FindingInput["measurements"];
  data: Record<string, unknown>;
  families: number;
}

function judgeDatastore(found: FoundDatastoreSignals, base: DatastoreVerdictBase): FindingInput {
  const { families, data: baseData, ...finding } = base;
  const name = finding.subject;
  const url = baseData.url as string;
  const entry = DATASTORE_SIGNALS[found.kind];
  const exporters = entry.exporters.map((e) => e.name).join(" or ");
  const data = { ...baseData, datastore: found };
  const down = found.up.flatMap((u) =>
    u.how === "value"
      ? u.series.filter((s) => s.value === 0).map((s) => `${u.family}${s.labels ? `{${s.labels}}` : ""} 0`)
      : [],
  );
  if (down.length > 0) {
    return {
      ...finding,
      status: "FAIL",
      messageId: "storeDown",
      message: `${name}: the exporter at ${url} answers but reports the ${found.kind} down (${down.join(", ")}): it cannot reach the store`,
      data: {
        ...data,
        down,
        missing: `metrics of a reachable ${found.kind}`,
        how: `the exporter cannot reach ${name}: start the store, or correct the address and credentials the exporter uses to connect to it`,
      },
    };
  }
  const complete = found.saturation.filter(
    (r) => r.usage.length > 0 && (r.limit.length > 0 || r.noKnownLimit),
  );
  const missing: string[] = [];
  if (!found.up.some((u) => u.series.length > 0))
    missing.push(`up (${entry.up.map((u) => u.name).join(" or ")})`);
  if (complete.length === 0) {
    const withoutLimit = found.saturation.filter((r) => r.usage.length > 0);
    missing.push(
      withoutLimit.length > 0
        ? `saturation against a limit (${withoutLimit.map((r) => `${r.resource}: ${r.usage.join(", ")} without ${limitNames(entry, r.resource)}`).join("; ")})`
        : `saturation (${entry.saturation.map((r) => `${r.resource}: ${[r.usage[0]?.name, r.limit[0]?.name].filter(Boolean).join(" vs ")}`).join("; ")})`,
    );
  }
  const errorsRequired = !entry.onlyWhenExposed.errors;
  if (found.errors.length === 0 && errorsRequired)
    missing.push(
      `errors (e.g. ${entry.errors
        .filter((e) => !e.aboutExporter)
        .slice(0, 2)
        .map((e) => e.name)
        .join(", ")})`,
    );
  if (missing.length > 0) {
    return {
      ...finding,
      status: "FAIL",
      messageId: "storeSignalsMissing",
      message: `${name}: ${url} parses (${families} families) but lacks the ${found.kind} signals ${missing.join("; ")}`,
      data: {
        ...data,
        missing: missing.join("; "),
        how: `point services.${name}.metrics at this ${found.kind}'s exporter (${exporters}) and enable the collectors that export these families`,
      },
    };
  }
  const upText = found.up.map((u) =>
    u.how === "value" ? `${u.family} ${u.series.map((s) => s.value).join(",")}` : u.family,
  );
  const saturation = complete.map(
    (r) => `${r.resource} (${r.usage.join(", ")}${r.limit.length ? ` vs ${r.limit.join(", ")}` : ""})`,
  );
  const errors = found.errors.length
    ? found.errors.join(", ")
    : `none: ${entry.onlyWhenExposed.errors ?? "not exposed"} (not required)`;
  const latency = found.latency.length
    ? found.latency.join(", ")
    : `this exporter exposes none${entry.latency.length ? "" : ` (no ${found.kind} exporter has one)`}, so none is required`;
  return {
    ...finding,
    status: "PASS",
    messageId: "storeSignals",
    message: `${name}: ${url} has the ${found.kind} signals — up: ${upText.join(", ")}; saturation: ${saturation.join("; ")}; errors: ${errors}; latency: ${latency}`,
    data,
  };
}

/** The limit families the catalogue knows for a resource, e.g. "pg_settings_max_connections". */
function limitNames(entry: KindSignals, resource: string): string {
  const limits = entry.saturation.find((r) => r.resource === resource)?.limit ?? [];
  return limits.map((l) => l.name).join(" or ") || "a limit";
}
