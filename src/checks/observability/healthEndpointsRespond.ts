// Does every service's health endpoint answer 2xx, directly and quickly? The service is supposed to be up, so a refused
// connection, a timeout or an error status is a failure of the system, not of the probe.
import {
  type CheckContext,
  defineCheck,
  type FindingInput,
  type Measurement,
  notApplicable,
} from "../../core/types.js";
import { type ProbeResult, probeHttp } from "../../engines/http/probe.js";
import { healthUrl } from "../../engines/http/serviceUrls.js";
import type { Service } from "../../spec/schema.js";

const TIMEOUT_MS = 2_000;
const SLOW_MS = 1_000;
const CONCURRENCY = 16;
/** Headers worth keeping as evidence; others (cookies, tokens) are left out. */
const EVIDENCE_HEADERS = [
  "content-type",
  "content-length",
  "cache-control",
  "location",
  "retry-after",
  "server",
  "date",
];

/** The URL a health value points at: a full URL as given, or a path appended to the service URL. */
export default defineCheck({
  meta: {
    id: "healthEndpointsRespond",
    category: "observability",
    risk: "critical",
    destructive: false,
    title: "Health endpoints respond",
    objective: `Every service with a health endpoint answers GET with 2xx within ${TIMEOUT_MS / 1000} s, without redirects.`,
    remediation: {
      effort: "low",
      text: "Make {{service}} answer GET on its health endpoint (services.{{service}}.health) with a 2xx status in well under a second and without redirecting; check that it runs and listens where services.{{service}}.url says.",
    },
    timeoutMs: 30_000,
  },

  applies(spec) {
    const withHealth = Object.values(spec.services).some((s) => s.health);
    return withHealth ? true : notApplicable("no service declares a health endpoint");
  },

  async run(ctx) {
    const targets = Object.entries(ctx.spec.services).filter(([, s]) => s.health);
    for (const [, service] of targets) {
      ctx.secrets.addFromUrl(service.url);
      ctx.secrets.addFromUrl(service.health);
    }
    const findings: FindingInput[][] = [];
    for (let i = 0; i < targets.length; i += CONCURRENCY) {
      const batch = targets.slice(i, i + CONCURRENCY);
      findings.push(...(await Promise.all(batch.map(([name, service]) => probeService(ctx, name, service)))));
    }
    return findings.flat();
  },
});

async function probeService(ctx: CheckContext, name: string, service: Service): Promise<FindingInput[]> {
  let url: string | null;
  try {
    url = healthUrl(service);
  } catch {
    url = null;
  }
  if (!url) {
    const evidence = await ctx.evidence.writeJson(`${name}-health.json`, {
      service: name,
      health: service.health,
      url: service.url ?? null,
      probed: false,
      reason: service.url ? "services.url is not a valid URL" : "relative health path and no services.url",
    });
    return [
      {
        status: "UNVERIFIED",
        subject: name,
        message: `${name}: health "${service.health}" is a path but the service has no usable url to join it to`,
        data: { service: name, health: service.health },
        evidence: [evidence],
        toVerify: `give services.${name}.url (e.g. http://127.0.0.1:8080) or make services.${name}.health a full URL`,
      },
    ];
  }

  ctx.log.debug(`GET ${url} (timeout ${TIMEOUT_MS} ms)`);
  const result = await probeHttp({ url, method: "GET", timeoutMs: TIMEOUT_MS, signal: ctx.signal });
  const evidence = await ctx.evidence.writeJson(`${name}-health.json`, evidenceOf(name, result));
  const data: Record<string, unknown> = { service: name, url };

  if (!result.ok) {
    data.error = result.error.kind;
    if (result.error.code) data.code = result.error.code;
    if (result.error.code === "ERR_UNSUPPORTED_SCHEME" || result.error.code === "ERR_INVALID_URL") {
      return [
        {
          status: "UNVERIFIED",
          subject: name,
          message: `${name}: cannot probe ${url}: ${result.error.message}`,
          data,
          evidence: [evidence],
          toVerify: `make services.${name}.health an http(s) URL or path on an http(s) services.${name}.url`,
        },
      ];
    }
    return [
      {
        status: "FAIL",
        subject: name,
        message: `${name}: GET ${url} failed: ${describeError(result.error.kind)} (${result.error.code ?? result.error.message})`,
        data,
        evidence: [evidence],
      },
    ];
  }

  const latency = Math.round(result.latencyMs * 10) / 10;
  data.status = result.status;
  data.latencyMs = latency;
  const measurements: Measurement[] = [
    { name: "latency", value: latency, unit: "ms", evidence },
    { name: "status", value: result.status, unit: "code", evidence },
  ];
  const base = { subject: name, data, evidence: [evidence], measurements };
  if (result.status < 200 || result.status > 299) {
    const where = result.headers.location ? ` (redirects to ${result.headers.location})` : "";
    return [{ ...base, status: "FAIL", message: `${name}: GET ${url} answered ${result.status}${where}` }];
  }
  if (result.latencyMs > SLOW_MS) {
    return [
      {
        ...base,
        status: "WARN",
        message: `${name}: GET ${url} answered ${result.status} but took ${latency} ms (over ${SLOW_MS} ms)`,
      },
    ];
  }
  return [
    { ...base, status: "PASS", message: `${name}: GET ${url} answered ${result.status} in ${latency} ms` },
  ];
}

function evidenceOf(service: string, result: ProbeResult): Record<string, unknown> {
  const common = {
    service,
    url: result.url,
    method: result.method,
    timeoutMs: TIMEOUT_MS,
    followRedirects: false,
  };
  if (!result.ok) return { ...common, ok: false, error: result.error, elapsedMs: round(result.elapsedMs) };
  const headers: Record<string, string> = {};
  for (const name of EVIDENCE_HEADERS) {
    const value = result.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  return {
    ...common,
    ok: true,
    status: result.status,
    statusText: result.statusText,
    latencyMs: round(result.latencyMs),
    totalMs: round(result.totalMs),
    headers,
    body: result.body,
    bodyTruncated: result.bodyTruncated,
  };
}

function describeError(kind: string): string {
  switch (kind) {
    case "refused":
      return "connection refused";
    case "timeout":
      return `no answer within ${TIMEOUT_MS} ms`;
    case "reset":
      return "connection reset";
    case "dns":
      return "host name does not resolve";
    case "tls":
      return "TLS handshake failed";
    default:
      return "request failed";
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
