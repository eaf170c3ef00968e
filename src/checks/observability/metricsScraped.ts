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
import { jobOf } from "../../spec/kinds.js";
import type { Service } from "../../spec/schema.js";

/** A sample older than this many scrape intervals means scraping has stalled. */
const STALE_INTERVALS = 3;
const MIN_STALE_SECONDS = 10;
/** How long to wait for a Prometheus with no active targets at all (just started) to list them. */
const EMPTY_TARGETS_WAIT_MS = 10_000;
/** Longest wait for a fresh scrape of a target that is not up (bounded by the check's timeout). */
const MAX_FRESH_SCRAPE_WAIT_MS = 20_000;
/** Prometheus' own defaults, for a target that does not say. */
const DEFAULT_INTERVAL_SECONDS = 60;
const DEFAULT_TIMEOUT_SECONDS = 10;

/** A Prometheus target as the judge needs it, in Prometheus' terms. */
export interface ScrapeTarget {
  job?: string;
  instance?: string;
  scrapeUrl: string;
  health: PrometheusTarget["health"];
  lastError: string;
  lastScrape: string;
  lastScrapeDurationSeconds: number;
  scrapeIntervalSeconds: number;
}

export interface ServiceScrape {
  service: string;
  /** The job label the service is expected under (services.<name>.job, else its name). */
  job: string;
  /** The metrics endpoint as a URL; null when services.metrics is a path without a url. */
  url: string | null;
  metrics: string;
  evidence: string;
  /** The active target that scrapes this service, after waiting for a fresh scrape when it was not up. */
  target?: ScrapeTarget;
  matchedBy?: "scrapeUrl" | "jobLabel" | "serviceLabel";
  /** Every active target, when none matched. */
  activeTargets?: { job?: string; scrapeUrl: string }[];
  /** Seconds since the newest `up` sample, by Prometheus' clock; null when it holds none. Only for a target that is up. */
  sampleAgeSeconds?: number | null;
  /** Prometheus did not answer the sample query. */
  sampleQueryError?: string;
}

export interface MetricsScrapedObservation {
  /** The services with a metrics endpoint. */
  services: string[];
  prometheus?: string;
  unreachable?: { error: string; kind: ApiError["kind"]; evidence: string };
  scrapes: ServiceScrape[];
}

export default defineCheck<MetricsScrapedObservation>({
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
      text: "Add {{service}} ({{url}}) to a scrape_configs job in Prometheus (job_name: {{job}}, or set services.{{service}}.job to the job that scrapes it), make sure Prometheus can reach it, and check Status → Targets until it shows UP.",
    },
    messages: {
      scraped: "the service is an active target that is up, with a fresh newest sample",
      notATarget: "no active target scrapes the service's metrics URL or carries its job label",
      targetDown: "the target's last scrape failed",
      notScraped: "Prometheus lists the target but has not scraped it yet",
      noSample: "the target is up but Prometheus holds no `up` sample for it",
      stale: "the newest sample is older than a few scrape intervals: scraping has stalled",
      sampleQueryFailed: "Prometheus did not answer the query for the target's newest sample",
      noPrometheus: "services expose metrics but the spec names no Prometheus",
      prometheusUnreachable: "Prometheus cannot be queried",
    },
    timeoutMs: 45_000,
  },

  applies(spec) {
    return Object.values(spec.services).some((s) => s.metrics)
      ? true
      : notApplicable("no service declares a metrics endpoint");
  },

  async observe(ctx) {
    const services = Object.entries(ctx.spec.services).filter(([, s]) => s.metrics);
    const observation: MetricsScrapedObservation = { services: services.map(([n]) => n), scrapes: [] };
    const base = ctx.spec.monitoring?.prometheus;
    if (!base) return observation;
    observation.prometheus = base;
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
      observation.unreachable = { error: error.message, kind: error.kind, evidence };
      return observation;
    }
    // Concurrently: a target that is down may wait for one fresh scrape, and those waits should not add up.
    const scrapes: (ServiceScrape | undefined)[] = services.map(() => undefined);
    await Promise.all(
      services.map(async ([name, service], i) => {
        scrapes[i] = await observeService(ctx, client, targets, name, service);
        ctx.keepPartial({ ...observation, scrapes: scrapes.filter((s) => s !== undefined) });
      }),
    );
    return { ...observation, scrapes: scrapes as ServiceScrape[] };
  },

  judge(observation) {
    const names = observation.services.join(", ");
    if (!observation.prometheus) {
      return [
        {
          status: "UNVERIFIED",
          messageId: "noPrometheus",
          message: `${names} expose metrics, but the spec names no Prometheus to check that anything scrapes them`,
          data: { services: observation.services },
          toVerify:
            "set monitoring.prometheus to the URL of the Prometheus that scrapes these services, e.g. http://127.0.0.1:9090",
        },
      ];
    }
    const base = observation.prometheus;
    if (observation.unreachable) {
      const { error, kind, evidence } = observation.unreachable;
      return [
        {
          status: "UNVERIFIED",
          messageId: "prometheusUnreachable",
          subject: "prometheus",
          message: `Prometheus at ${base} cannot be queried (${error}), so scraping of ${names} is not verified`,
          data: { prometheus: base, error, kind },
          evidence: [evidence],
          toVerify: `start Prometheus on ${base} with a scrape job for each service (see docs/monitoring-demo.md for the demo's bundled config), or fix monitoring.prometheus`,
        },
      ];
    }
    return observation.scrapes.map(judgeScrape);
  },
});

async function observeService(
  ctx: CheckContext,
  client: PrometheusClient,
  initial: PrometheusTarget[],
  name: string,
  service: Service,
): Promise<ServiceScrape> {
  const url = metricsUrl(service);
  const job = jobOf(name, service);
  const about = { service: name, job, url, metrics: service.metrics! };
  const found = findTarget(initial, url, job, name);
  if (!found) {
    const evidence = await ctx.evidence.writeJson(`${name}-targets.json`, {
      service: name,
      expected: { url, job },
      targets: initial.map(brief),
    });
    const activeTargets = initial.map((t) => ({ job: t.labels.job ?? t.scrapePool, scrapeUrl: t.scrapeUrl }));
    return { ...about, evidence, activeTargets };
  }
  let target = found.target;
  // A target that is not up may be judged by a scrape made before the service started (Gauntlet starts supervised
  // services just before the checks): wait for one scrape made during this check before calling it down.
  const checkStarted = Date.now();
  const interval = parsePromDuration(target.scrapeInterval) ?? DEFAULT_INTERVAL_SECONDS;
  const timeout = parsePromDuration(target.scrapeTimeout) ?? DEFAULT_TIMEOUT_SECONDS;
  const deadline = ctx.clock.now() + Math.min((interval + timeout) * 1000 + 2_000, MAX_FRESH_SCRAPE_WAIT_MS);
  // Never into the runner's deadline (it keeps time for the sample query): a target still down is judged as down.
  const inTime = () => ctx.clock.now() < deadline && Date.now() < ctx.deadline - 5_000;
  while (target.health !== "up" && Date.parse(target.lastScrape) < checkStarted && inTime()) {
    await pause(500, ctx.signal);
    const latest = await client.targets().catch((error) => {
      if (error instanceof ApiError) return null; // Prometheus went away mid-wait: judge the last answer it gave
      throw error;
    });
    if (!latest) break;
    target = findTarget(latest, url, job, name)?.target ?? target;
  }
  const seen: ScrapeTarget = {
    scrapeUrl: target.scrapeUrl,
    health: target.health,
    lastError: target.lastError,
    lastScrape: target.lastScrape,
    lastScrapeDurationSeconds: target.lastScrapeDuration,
    scrapeIntervalSeconds: interval,
  };
  if (target.labels.job !== undefined) seen.job = target.labels.job;
  if (target.labels.instance !== undefined) seen.instance = target.labels.instance;
  const sample: Pick<ServiceScrape, "sampleAgeSeconds" | "sampleQueryError"> = {};
  if (target.health === "up") {
    try {
      sample.sampleAgeSeconds = await sampleAge(client, target);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      sample.sampleQueryError = error.message;
    }
  }
  const evidence = await ctx.evidence.writeJson(`${name}-target.json`, {
    service: name,
    matchedBy: found.by,
    target,
    sampleAgeSeconds: sample.sampleAgeSeconds ?? null,
    ...sample,
  });
  return { ...about, evidence, matchedBy: found.by, target: seen, ...sample };
}

/**
 * By scrape URL first; by job (or service) label only when the target's host is spelled differently (a DNS name in the
 * spec, a pod IP in Prometheus). A same-host target on another port or path is another service, not this one.
 */
function findTarget(
  targets: PrometheusTarget[],
  url: string | null,
  job: string,
  name: string,
): { target: PrometheusTarget; by: NonNullable<ServiceScrape["matchedBy"]> } | undefined {
  const byUrl = targets.find((t) => url && sameScrapeEndpoint(t.scrapeUrl, url));
  if (byUrl) return { target: byUrl, by: "scrapeUrl" };
  const elsewhere = targets.filter((t) => !sameHost(t.scrapeUrl, url));
  const byJob = elsewhere.find((t) => t.labels.job === job);
  if (byJob) return { target: byJob, by: "jobLabel" };
  const byService = elsewhere.find((t) => t.labels.service === name);
  return byService ? { target: byService, by: "serviceLabel" } : undefined;
}

function judgeScrape(scrape: ServiceScrape): FindingInput {
  const name = scrape.service;
  const where = scrape.url ?? scrape.metrics;
  const data: Record<string, unknown> = { service: name, url: where, job: scrape.job };
  const evidence = [scrape.evidence];
  const target = scrape.target;
  if (!target) {
    const known =
      (scrape.activeTargets ?? []).map((t) => `job="${t.job}" ${t.scrapeUrl}`).join(", ") || "none";
    return {
      status: "FAIL",
      messageId: "notATarget",
      subject: name,
      message: `${name} is not a Prometheus scrape target: no active target scrapes ${where} or has job="${scrape.job}" (targets: ${known})`,
      data,
      evidence,
    };
  }
  Object.assign(data, {
    targetJob: target.job,
    instance: target.instance,
    scrapeUrl: target.scrapeUrl,
    health: target.health,
  });
  const measurements = [
    {
      name: "scrape duration",
      value: Math.round(target.lastScrapeDurationSeconds * 10_000) / 10,
      unit: "ms",
      evidence: scrape.evidence,
    },
  ];
  const base = { subject: name, evidence, measurements };
  if (target.health !== "up") {
    const down = target.health === "down";
    const why = down ? `down: ${target.lastError || "scrape failed"}` : "not scraped yet";
    return {
      ...base,
      status: "FAIL",
      messageId: down ? "targetDown" : "notScraped",
      message: `${name}: Prometheus target ${target.scrapeUrl} (job="${target.job}") is ${why}`,
      data: { ...data, lastError: target.lastError, lastScrape: target.lastScrape },
    };
  }
  if (scrape.sampleQueryError !== undefined) {
    return {
      ...base,
      status: "UNVERIFIED",
      messageId: "sampleQueryFailed",
      message: `${name}: target ${target.scrapeUrl} is up, but Prometheus did not answer for its newest sample (${scrape.sampleQueryError})`,
      data: { ...data, error: scrape.sampleQueryError },
      toVerify: "run again once Prometheus answers /api/v1/query",
    };
  }
  const age = scrape.sampleAgeSeconds;
  if (age === null || age === undefined) {
    return {
      ...base,
      status: "FAIL",
      messageId: "noSample",
      message: `${name}: target ${target.scrapeUrl} is up but Prometheus holds no up{job="${target.job}"} sample for it`,
      data,
    };
  }
  const rounded = Math.round(age * 10) / 10;
  const interval = target.scrapeIntervalSeconds;
  const limit = Math.max(STALE_INTERVALS * interval, MIN_STALE_SECONDS);
  measurements.push({ name: "newest sample age", value: rounded, unit: "s", evidence: scrape.evidence });
  Object.assign(data, { sampleAgeSeconds: rounded, scrapeIntervalSeconds: interval });
  if (age > limit) {
    return {
      ...base,
      status: "FAIL",
      messageId: "stale",
      message: `${name}: newest sample from ${target.scrapeUrl} is ${rounded} s old (more than ${limit} s, ${STALE_INTERVALS} scrape intervals): scraping has stalled`,
      data,
    };
  }
  return {
    ...base,
    status: "PASS",
    messageId: "scraped",
    message: `${name}: scraped by Prometheus as job="${target.job}", up, newest sample ${rounded} s old`,
    data,
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
