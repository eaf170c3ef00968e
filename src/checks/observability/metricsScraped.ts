// Does Prometheus actually scrape every service that exposes metrics: is each one an active target, is the target up,
// and is its newest sample fresh? A Prometheus that cannot be reached makes this UNVERIFIED (not FAIL): the system may
// be fine, but nothing here proves it.
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { metricsUrl } from "../../engines/http/serviceUrls.js";
import { sameScrapeEndpoint } from "../../engines/metrics/endpoint.js";
import { ApiError, pause } from "../../engines/prometheus/apiRequest.js";
import {
  PrometheusClient,
  type PrometheusTarget,
  parsePromDuration,
} from "../../engines/prometheus/client.js";
import type { Service } from "../../spec/schema.js";

/** A sample older than this many scrape intervals means scraping has stalled. */
const STALE_INTERVALS = 3;
const MIN_STALE_SECONDS = 10;
/** How long to wait for a Prometheus with no active targets at all (just started) to list them. */
const EMPTY_TARGETS_WAIT_MS = 10_000;
/** Longest wait for a fresh scrape of a target that is not up (bounded by the check's timeout). */
const MAX_FRESH_SCRAPE_WAIT_MS = 20_000;

export default defineCheck({
  meta: {
    id: "metricsScraped",
    category: "observability",
    risk: "critical",
    destructive: false,
    title: "Prometheus scrapes every service",
    objective:
      "Each service with a metrics endpoint is an active Prometheus target that is up, and its newest sample is fresh.",
    remediation: {
      effort: "low",
      text: "Add {{service}} ({{url}}) to a scrape_configs job in Prometheus (job_name: {{service}}), make sure Prometheus can reach it, and check Status → Targets until it shows UP.",
    },
    timeoutMs: 45_000,
  },

  applies(spec) {
    return Object.values(spec.services).some((s) => s.metrics)
      ? true
      : notApplicable("no service declares a metrics endpoint");
  },

  async run(ctx) {
    const services = Object.entries(ctx.spec.services).filter(([, s]) => s.metrics);
    const base = ctx.spec.monitoring?.prometheus;
    if (!base) {
      return [
        {
          status: "UNVERIFIED",
          message: `${services.map(([n]) => n).join(", ")} expose metrics, but the spec names no Prometheus to check that anything scrapes them`,
          data: { services: services.map(([n]) => n) },
          toVerify:
            "set monitoring.prometheus to the URL of the Prometheus that scrapes these services, e.g. http://127.0.0.1:9090",
        },
      ];
    }
    const client = new PrometheusClient(base, { signal: ctx.signal, timeoutMs: 5_000 });
    let targets: PrometheusTarget[];
    try {
      targets = await client.targets();
      // A Prometheus that has just started lists no active target until its first service discovery sync.
      const deadline = ctx.clock.now() + EMPTY_TARGETS_WAIT_MS;
      while (targets.length === 0 && ctx.clock.now() < deadline) {
        await pause(500, ctx.signal);
        targets = await client.targets();
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const evidence = await ctx.evidence.writeJson("prometheus-unreachable.json", {
        prometheus: base,
        error: error.message,
      });
      return [
        {
          status: "UNVERIFIED",
          subject: "prometheus",
          message: `Prometheus at ${base} cannot be queried (${error.message}), so scraping of ${services.map(([n]) => n).join(", ")} is not verified`,
          data: { prometheus: base, error: error.message, kind: error.kind },
          evidence: [evidence],
          toVerify: `start Prometheus on ${base} with a scrape job for each service (see docs/monitoring-demo.md for the demo's bundled config), or fix monitoring.prometheus`,
        },
      ];
    }
    // Concurrently: a target that is down may wait for one fresh scrape, and those waits should not add up.
    return Promise.all(services.map(([name, service]) => checkService(ctx, client, targets, name, service)));
  },
});

async function checkService(
  ctx: CheckContext,
  client: PrometheusClient,
  initial: PrometheusTarget[],
  name: string,
  service: Service,
): Promise<FindingInput> {
  const url = metricsUrl(service);
  // By scrape URL first; by job/service label only when the target's host is spelled differently (a DNS name in the
  // spec, a pod IP in Prometheus). A same-host target on another port or path is another service, not this one.
  const find = (targets: PrometheusTarget[]) =>
    targets.find((t) => url && sameScrapeEndpoint(t.scrapeUrl, url)) ??
    targets.find((t) => (t.labels.job === name || t.labels.service === name) && !sameHost(t.scrapeUrl, url));
  let target = find(initial);
  const data: Record<string, unknown> = { service: name, url: url ?? service.metrics };
  if (!target) {
    const evidence = await ctx.evidence.writeJson(`${name}-targets.json`, {
      service: name,
      expected: url,
      targets: initial.map(brief),
    });
    const known =
      initial.map((t) => `job="${t.labels.job ?? t.scrapePool}" ${t.scrapeUrl}`).join(", ") || "none";
    return {
      status: "FAIL",
      subject: name,
      message: `${name} is not a Prometheus scrape target: no active target scrapes ${url ?? service.metrics} or has job="${name}" (targets: ${known})`,
      data,
      evidence: [evidence],
    };
  }
  // A target that is not up may be judged by a scrape made before the service started (Gauntlet starts supervised
  // services just before the checks): wait for one scrape made during this check before calling it down.
  const checkStarted = Date.now();
  const interval = parsePromDuration(target.scrapeInterval) ?? 60;
  const timeout = parsePromDuration(target.scrapeTimeout) ?? 10;
  const deadline = ctx.clock.now() + Math.min((interval + timeout) * 1000 + 2_000, MAX_FRESH_SCRAPE_WAIT_MS);
  while (
    target.health !== "up" &&
    Date.parse(target.lastScrape) < checkStarted &&
    ctx.clock.now() < deadline
  ) {
    await pause(500, ctx.signal);
    target = find(await client.targets()) ?? target;
  }
  data.job = target.labels.job;
  data.instance = target.labels.instance;
  data.scrapeUrl = target.scrapeUrl;
  data.health = target.health;
  const intervalSeconds = interval;
  const age = target.health === "up" ? await sampleAge(client, target) : null;
  const evidence = await ctx.evidence.writeJson(`${name}-target.json`, {
    service: name,
    target,
    sampleAgeSeconds: age,
  });
  const measurements = [
    {
      name: "scrape duration",
      value: Math.round(target.lastScrapeDuration * 10_000) / 10,
      unit: "ms",
      evidence,
    },
  ];
  if (target.health !== "up") {
    const why = target.health === "down" ? `down: ${target.lastError || "scrape failed"}` : "not scraped yet";
    return {
      status: "FAIL",
      subject: name,
      message: `${name}: Prometheus target ${target.scrapeUrl} (job="${target.labels.job}") is ${why}`,
      data: { ...data, lastError: target.lastError, lastScrape: target.lastScrape },
      evidence: [evidence],
      measurements,
    };
  }
  if (age === null) {
    return {
      status: "FAIL",
      subject: name,
      message: `${name}: target ${target.scrapeUrl} is up but Prometheus holds no up{job="${target.labels.job}"} sample for it`,
      data,
      evidence: [evidence],
      measurements,
    };
  }
  const rounded = Math.round(age * 10) / 10;
  const limit = Math.max(STALE_INTERVALS * intervalSeconds, MIN_STALE_SECONDS);
  measurements.push({ name: "newest sample age", value: rounded, unit: "s", evidence });
  data.sampleAgeSeconds = rounded;
  data.scrapeIntervalSeconds = intervalSeconds;
  if (age > limit) {
    return {
      status: "FAIL",
      subject: name,
      message: `${name}: newest sample from ${target.scrapeUrl} is ${rounded} s old (more than ${limit} s, ${STALE_INTERVALS} scrape intervals): scraping has stalled`,
      data,
      evidence: [evidence],
      measurements,
    };
  }
  return {
    status: "PASS",
    subject: name,
    message: `${name}: scraped by Prometheus as job="${target.labels.job}", up, newest sample ${rounded} s old`,
    data,
    evidence: [evidence],
    measurements,
  };
}

/** Seconds since the newest `up` sample of the target, by Prometheus' own clock; null when there is none. */
async function sampleAge(client: PrometheusClient, target: PrometheusTarget): Promise<number | null> {
  const selector = `up{job=${JSON.stringify(target.labels.job ?? "")},instance=${JSON.stringify(target.labels.instance ?? "")}}`;
  const data = await client.query(`time() - timestamp(${selector})`);
  if (data.resultType !== "vector" || data.result.length === 0) return null;
  return Math.max(0, Number(data.result[0]!.value[1]));
}

function brief(t: PrometheusTarget) {
  return { job: t.labels.job, instance: t.labels.instance, scrapeUrl: t.scrapeUrl, health: t.health };
}

function sameHost(scrapeUrl: string, url: string | null): boolean {
  if (!url) return false;
  try {
    const host = (u: string) => new URL(u).hostname.replace(/^localhost$/, "127.0.0.1");
    return host(scrapeUrl) === host(url);
  } catch {
    return false;
  }
}
