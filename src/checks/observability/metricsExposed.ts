// Does every service's metrics endpoint answer with a valid Prometheus (or OpenMetrics) exposition that carries the RED
// series: a request counter, a way to count errors, and a latency histogram? A request counter with no samples yet has
// no labels to inspect, so the check first sends the service one GET of its health endpoint.
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { probeHttp } from "../../engines/http/probe.js";
import { metricsUrl } from "../../engines/http/serviceUrls.js";
import { formatOf, parseExposition } from "../../engines/metrics/exposition.js";
import { findRedSignals, type RedSignals } from "../../engines/metrics/redSignals.js";
import type { Service } from "../../spec/schema.js";

const TIMEOUT_MS = 5_000;
const MAX_BYTES = 16 * 1024 * 1024;
const ACCEPT = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1";

export default defineCheck({
  meta: {
    id: "metricsExposed",
    category: "observability",
    risk: "high",
    destructive: false,
    title: "Services expose RED metrics",
    objective:
      "Each service's metrics endpoint parses as Prometheus text or OpenMetrics and has request-rate, error and latency-histogram series.",
    remediation: {
      effort: "medium",
      text: "Expose {{missing}} on {{service}}'s metrics endpoint ({{url}}): a request counter (e.g. http_requests_total with a code label for errors) and a latency histogram (e.g. http_request_duration_seconds), using your language's Prometheus client library.",
    },
    timeoutMs: 30_000,
  },

  applies(spec) {
    return Object.values(spec.services).some((s) => s.metrics)
      ? true
      : notApplicable("no service declares a metrics endpoint");
  },

  async run(ctx) {
    const findings: FindingInput[] = [];
    for (const [name, service] of Object.entries(ctx.spec.services)) {
      if (service.metrics) findings.push(await checkService(ctx, name, service));
    }
    return findings;
  },
});

async function checkService(ctx: CheckContext, name: string, service: Service): Promise<FindingInput> {
  const url = metricsUrl(service);
  if (!url) {
    return {
      status: "UNVERIFIED",
      subject: name,
      message: `${name}: metrics "${service.metrics}" is a path but the service has no url to join it to`,
      data: { service: name, url: service.metrics, missing: "a reachable metrics endpoint" },
      toVerify: `give services.${name}.url or make services.${name}.metrics a full URL`,
    };
  }
  let scrape = await fetchMetrics(ctx, url);
  if ("error" in scrape) return failedFetch(ctx, name, scrape.error(name));
  let exposition = parseExposition(scrape.body, formatOf(scrape.contentType));
  let red = findRedSignals(exposition);
  let primed = false;
  if (red.requestCounterEmpty && !red.errors && service.health && service.url) {
    // One real request makes the counter emit its labelled series (e.g. code="200").
    const health = /^[a-z]+:\/\//i.test(service.health)
      ? service.health
      : `${service.url.replace(/\/+$/, "")}${service.health}`;
    await probeHttp({ url: health, timeoutMs: TIMEOUT_MS, signal: ctx.signal });
    primed = true;
    scrape = await fetchMetrics(ctx, url);
    if ("error" in scrape) return failedFetch(ctx, name, scrape.error(name));
    exposition = parseExposition(scrape.body, formatOf(scrape.contentType));
    red = findRedSignals(exposition);
  }
  const evidenceBody = await ctx.evidence.write(`${name}-metrics.txt`, scrape.body);
  const evidence = await ctx.evidence.writeJson(`${name}-metrics.json`, {
    service: name,
    url,
    status: scrape.status,
    contentType: scrape.contentType,
    format: exposition.format,
    families: exposition.families.size,
    samples: exposition.sampleCount,
    errors: exposition.errors,
    red,
    primedWithHealthRequest: primed,
  });
  const data: Record<string, unknown> = { service: name, url, format: exposition.format, red };
  const measurements = [
    { name: "metric families", value: exposition.families.size, unit: "count", evidence },
    { name: "samples", value: exposition.sampleCount, unit: "count", evidence },
    { name: "fetch latency", value: Math.round(scrape.latencyMs * 10) / 10, unit: "ms", evidence },
  ];
  const base = { subject: name, evidence: [evidence, evidenceBody], measurements };
  if (exposition.errors.length > 0) {
    const first = exposition.errors[0]!;
    return {
      ...base,
      status: "FAIL",
      message: `${name}: ${url} does not parse as ${exposition.format === "openmetrics" ? "OpenMetrics" : "Prometheus text format"}: line ${first.line}, column ${first.column}: ${first.message}${exposition.errors.length > 1 ? ` (and ${exposition.errors.length - 1} more)` : ""}`,
      data: { ...data, errors: exposition.errors, missing: "a valid exposition" },
    };
  }
  const missing = missingParts(red);
  if (missing.length > 0) {
    return {
      ...base,
      status: "FAIL",
      message: `${name}: ${url} parses (${exposition.families.size} families) but has no ${missing.join(", no ")}`,
      data: { ...data, missing: missing.join(", ") },
    };
  }
  return {
    ...base,
    status: "PASS",
    message: `${name}: ${url} has RED series — rate: ${red.rate}, errors: ${red.errors}, latency: ${red.latency}`,
    data,
  };
}

/** Records what the failed request returned, so the finding carries evidence like every other. */
async function failedFetch(ctx: CheckContext, name: string, finding: FindingInput): Promise<FindingInput> {
  const evidence = await ctx.evidence.writeJson(`${name}-metrics.json`, {
    service: name,
    ...finding.data,
    message: finding.message,
  });
  return { ...finding, evidence: [evidence] };
}

function missingParts(red: RedSignals): string[] {
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

type Scrape =
  | { body: string; contentType: string | undefined; status: number; latencyMs: number }
  | { error: (name: string) => FindingInput };

async function fetchMetrics(ctx: CheckContext, url: string): Promise<Scrape> {
  const result = await probeHttp({
    url,
    timeoutMs: TIMEOUT_MS,
    signal: ctx.signal,
    maxBodyBytes: MAX_BYTES,
    headers: { accept: ACCEPT },
  });
  if (!result.ok) {
    const unusable =
      result.error.code === "ERR_INVALID_URL" || result.error.code === "ERR_UNSUPPORTED_SCHEME";
    return {
      error: (name) => ({
        status: unusable ? "UNVERIFIED" : "FAIL",
        subject: name,
        message: `${name}: GET ${url} failed: ${result.error.kind} (${result.error.code ?? result.error.message})`,
        data: { service: name, url, error: result.error, missing: "a reachable metrics endpoint" },
        ...(unusable ? { toVerify: `make services.${name}.metrics an http(s) URL or path` } : {}),
      }),
    };
  }
  if (result.status < 200 || result.status > 299 || result.bodyTruncated) {
    const why = result.bodyTruncated
      ? `is larger than ${MAX_BYTES / 1024 / 1024} MiB`
      : `answered ${result.status}`;
    return {
      error: (name) => ({
        status: "FAIL",
        subject: name,
        message: `${name}: GET ${url} ${why}`,
        data: { service: name, url, status: result.status, missing: "a metrics endpoint answering 200" },
      }),
    };
  }
  return {
    body: result.body,
    contentType: result.headers["content-type"],
    status: result.status,
    latencyMs: result.latencyMs,
  };
}
