// Does every service's health endpoint answer 2xx, directly and quickly? The service is supposed to be up, so a refused
// connection, a timeout or an error status is a failure of the system, not of the probe.
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { type ProbeErrorKind, type ProbeResult, probeHttp } from "../../engines/http/probe.js";
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
/** Probe error codes that mean the URL itself cannot be probed (not http(s), not a URL): nothing was asked. */
const UNPROBEABLE_CODES = ["ERR_UNSUPPORTED_SCHEME", "ERR_INVALID_URL"];

export interface HealthProbe {
  service: string;
  health: string;
  /** The URL probed; null when the health path has no usable services.url to be joined to. */
  url: string | null;
  /** Why there is no URL: the service has no url, or its url does not parse. */
  noUrl?: "missing" | "invalid";
  evidence: string;
  response?: { status: number; latencyMs: number; location?: string };
  error?: { kind: ProbeErrorKind; code?: string; message: string };
}

export interface HealthEndpointsObservation {
  services: HealthProbe[];
}

export default defineCheck<HealthEndpointsObservation>({
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
    messages: {
      healthy: "the health endpoint answered 2xx in under the slow limit",
      slow: "the health endpoint answered 2xx, but slower than the slow limit",
      errorStatus: "the health endpoint answered a status that is neither 2xx nor a redirect",
      redirects: "the health endpoint answered with a redirect instead of 2xx",
      unreachable:
        "the request failed: connection refused or reset, host name unknown or TLS handshake failed",
      noAnswer: "the health endpoint did not answer within the time limit",
      noUrl: "health is a path and the service has no usable url to join it to",
      notHttp: "the health URL is not an http(s) URL, so it cannot be probed",
    },
    timeoutMs: 30_000,
  },

  applies(spec) {
    const withHealth = Object.values(spec.services).some((s) => s.health);
    return withHealth ? true : notApplicable("no service declares a health endpoint");
  },

  async observe(ctx) {
    const targets = Object.entries(ctx.spec.services).filter(([, s]) => s.health);
    for (const [, service] of targets) {
      ctx.secrets.addFromUrl(service.url);
      ctx.secrets.addFromUrl(service.health);
    }
    const observation: HealthEndpointsObservation = { services: [] };
    for (let i = 0; i < targets.length; i += CONCURRENCY) {
      const batch = targets.slice(i, i + CONCURRENCY);
      observation.services.push(
        ...(await Promise.all(batch.map(([name, service]) => probeService(ctx, name, service)))),
      );
      ctx.keepPartial(observation);
    }
    return observation;
  },

  judge(observation) {
    return observation.services.map(judgeProbe);
  },
});

async function probeService(ctx: CheckContext, name: string, service: Service): Promise<HealthProbe> {
  const health = service.health!;
  let url: string | null;
  try {
    url = healthUrl(service);
  } catch {
    url = null;
  }
  if (!url) {
    const noUrl = service.url ? "invalid" : "missing";
    const evidence = await ctx.evidence.writeJson(`${name}-health.json`, {
      service: name,
      health,
      url: service.url ?? null,
      probed: false,
      reason:
        noUrl === "invalid" ? "services.url is not a valid URL" : "relative health path and no services.url",
    });
    return { service: name, health, url: null, noUrl, evidence };
  }
  ctx.log.debug(`GET ${url} (timeout ${TIMEOUT_MS} ms)`);
  const result = await probeHttp({ url, method: "GET", timeoutMs: TIMEOUT_MS, signal: ctx.signal });
  const evidence = await ctx.evidence.writeJson(`${name}-health.json`, evidenceOf(name, result));
  if (!result.ok) return { service: name, health, url, evidence, error: result.error };
  const response: HealthProbe["response"] = { status: result.status, latencyMs: round(result.latencyMs) };
  if (result.headers.location) response.location = result.headers.location;
  return { service: name, health, url, evidence, response };
}

function judgeProbe(probe: HealthProbe): FindingInput {
  const name = probe.service;
  const evidence = [probe.evidence];
  const data: Record<string, unknown> = { service: name, url: probe.url ?? probe.health };
  if (!probe.url) {
    return {
      status: "UNVERIFIED",
      messageId: "noUrl",
      subject: name,
      message: `${name}: health "${probe.health}" is a path but the service has no usable url to join it to`,
      data: { service: name, health: probe.health },
      evidence,
      toVerify: `give services.${name}.url (e.g. http://127.0.0.1:8080) or make services.${name}.health a full URL`,
    };
  }
  const url = probe.url;
  if (probe.error) {
    data.error = probe.error.kind;
    if (probe.error.code) data.code = probe.error.code;
    if (probe.error.code && UNPROBEABLE_CODES.includes(probe.error.code)) {
      return {
        status: "UNVERIFIED",
        messageId: "notHttp",
        subject: name,
        message: `${name}: cannot probe ${url}: ${probe.error.message}`,
        data,
        evidence,
        toVerify: `make services.${name}.health an http(s) URL or path on an http(s) services.${name}.url`,
      };
    }
    return {
      status: "FAIL",
      messageId: probe.error.kind === "timeout" ? "noAnswer" : "unreachable",
      subject: name,
      message: `${name}: GET ${url} failed: ${describeError(probe.error.kind)} (${probe.error.code ?? probe.error.message})`,
      data,
      evidence,
    };
  }
  const { status, latencyMs, location } = probe.response!;
  data.status = status;
  data.latencyMs = latencyMs;
  const measurements = [
    { name: "latency", value: latencyMs, unit: "ms", evidence: probe.evidence },
    { name: "status", value: status, unit: "code", evidence: probe.evidence },
  ];
  const base = { subject: name, data, evidence, measurements };
  if (status >= 300 && status <= 399) {
    const where = location ? ` (redirects to ${location})` : "";
    return {
      ...base,
      status: "FAIL",
      messageId: "redirects",
      message: `${name}: GET ${url} answered ${status}${where}`,
    };
  }
  if (status < 200 || status > 299) {
    return {
      ...base,
      status: "FAIL",
      messageId: "errorStatus",
      message: `${name}: GET ${url} answered ${status}`,
    };
  }
  if (latencyMs > SLOW_MS) {
    return {
      ...base,
      status: "WARN",
      messageId: "slow",
      message: `${name}: GET ${url} answered ${status} but took ${latencyMs} ms (over ${SLOW_MS} ms)`,
    };
  }
  return {
    ...base,
    status: "PASS",
    messageId: "healthy",
    message: `${name}: GET ${url} answered ${status} in ${latencyMs} ms`,
  };
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

function describeError(kind: ProbeErrorKind): string {
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
