// Is there error budget left? For each SLO, Prometheus is asked for the bad and the total events over the SLO window:
// a ratio SLI's own errors and total expressions ({{window}} = the window as a PromQL duration), or a histogram SLI's
// total − good (NAME_count, and NAME_bucket at the threshold's `le`). The budget consumed is (bad/total) / (1 −
// objective). When Prometheus holds less history than the window, the verdict is over what it holds, and says so.
// observe asks (every query and raw answer is evidence); judge turns the sums into the verdict.
import { setTimeout as sleep } from "node:timers/promises";
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { PrometheusClient, type QueryData } from "../../engines/prometheus/client.js";
import { expressionFacts } from "../../engines/prometheus/promql.js";
import {
  earliestSampleQuery,
  errorBudget,
  histogramQueries,
  historyStepSeconds,
  leValue,
  matchingBucket,
  parseHistogramSli,
  promDuration,
  selectorText,
  thresholdInUnit,
  withWindow,
} from "../../engines/slo/errorBudget.js";
import type { Spec } from "../../spec/schema.js";

type Slo = NonNullable<Spec["slos"]>[number];

/** One question put to Prometheus and its answer as it came (or the error). */
export interface PromAnswer {
  purpose: string;
  query: string;
  answer?: QueryData;
  error?: string;
}

export interface SloBudgetRecord {
  slo: string;
  service: string;
  /** Why Prometheus was not asked at all. */
  cannot?: { messageId: "noPrometheus" | "noSli" | "badHistogram"; message: string; toVerify: string };
  form?: "ratio" | "histogram";
  windowMs: number;
  queries: PromAnswer[];
  /** Summed answers of the bad and total queries; null when not reached. */
  bad: number | null;
  total: number | null;
  /** The answers are per-second rates over the window (rate()), so events = answer × window in seconds. */
  perSecond: boolean;
  /** The errors expression matched no series while its metric exists: no bad event in the window, counted as 0. */
  noErrorSeries?: boolean;
  /** The first query whose answer held no sample. */
  empty?: { purpose: string; query: string };
  /** That query's metrics do have series: Prometheus holds too few samples of them for a rate yet (a fresh scrape). */
  tooYoung?: boolean;
  /** No series yet, but Prometheus scrapes a target of this job: its first samples may be a scrape away. */
  pendingJob?: string;
  /** How long the check waited for Prometheus to gather more samples, ms. */
  waitedMs?: number;
  missingBucket?: { metric: string; le: number; buckets: string[] };
  failed?: { query: string; error: string };
  /** How far back (ms) Prometheus holds the SLI's series within the window; null when not measured (historyNote). */
  historyMs: number | null;
  historyNote?: string;
  evidence?: string;
}

export interface ErrorBudgetObservation {
  slos: SloBudgetRecord[];
}

/** How long to wait for a second sample of series Prometheus has only just begun to scrape, and how often to ask. */
const YOUNG_WAIT_MS = 30_000;
const YOUNG_RETRY_MS = 2_000;
/** A job scraped fewer times than this may not have exported its series yet. */
const YOUNG_SCRAPES = 3;
/** Below this share of the budget left, the SLO is WARN: a quarter is what a bad day can take. */
const LOW_BUDGET = 0.25;
/** History within this share of the window counts as the whole window (the coarse steps, scrape jitter). */
const WHOLE_WINDOW = 0.99;

export default defineCheck<ErrorBudgetObservation>({
  meta: {
    id: "errorBudgetRemaining",
    category: "performance",
    risk: "high",
    destructive: false,
    title: "Error budget left",
    objective:
      "Over each SLO's window (or all the history Prometheus holds), the SLI's bad/total ratio leaves error budget: exhausted = FAIL, under 25 % left = WARN.",
    remediation: {
      effort: "high",
      text: "SLO {{slo}} of {{service}} has {{remaining}} of its error budget left: slow down risky changes (freeze releases) and spend the effort on what makes its requests fail or slow until the budget recovers; or revisit the objective with the SLO's owners.",
    },
    messages: {
      budgetLeft: "at least a quarter of the error budget is left over the window",
      budgetLow: "less than a quarter of the error budget is left",
      budgetExhausted: "the error budget is spent: more events were bad than the objective allows",
      noPrometheus: "monitoring.prometheus is not set, so nobody can be asked for the SLI",
      noSli: "the SLO has no sli: Gauntlet does not know which series measure it",
      badHistogram: "the sli.histogram is not a metric name with optional matchers",
      queryFailed: "Prometheus could not be reached or refused a query",
      emptyResult: "a query of the SLI returned no sample (misspelt metric, or no such series)",
      tooLittleHistory:
        "the SLI's series exist, but Prometheus holds too few samples of them for a rate (it began scraping them moments ago)",
      missingBucket: "the histogram has no bucket at the SLI's threshold",
      noRequests: "no request in the window: the budget says nothing",
    },
    timeoutMs: 120_000,
  },

  applies(spec) {
    return spec.slos?.length ? true : notApplicable("no slos in the spec");
  },

  async observe(ctx) {
    const observation: ErrorBudgetObservation = { slos: [] };
    const url = ctx.spec.monitoring?.prometheus;
    const client = url ? new PrometheusClient(url, { timeoutMs: 15_000, signal: ctx.signal }) : undefined;
    if (url) ctx.secrets.addFromUrl(url);
    let waitBudget = YOUNG_WAIT_MS;
    for (const [index, slo] of (ctx.spec.slos ?? []).entries()) {
      // One instant for every query of an SLO, so its history and its sums describe the same window.
      let askedAt = ctx.clock.now();
      let record = client ? await askPrometheus(client, slo, index, askedAt) : unasked(slo, noPrometheus());
      // Series with too few samples for rate(), or none yet from a job Prometheus scrapes (a service Gauntlet started a
      // moment ago): wait a few scrapes, bounded, rather than call a measurable SLO unmeasurable.
      const waitStarted = ctx.clock.now();
      while (
        client &&
        (record.tooYoung || record.pendingJob !== undefined) &&
        ctx.clock.now() - waitStarted < waitBudget &&
        !ctx.signal.aborted
      ) {
        await sleep(YOUNG_RETRY_MS, undefined, { signal: ctx.signal }).catch(() => {});
        askedAt = ctx.clock.now();
        record = await askPrometheus(client, slo, index, askedAt);
        record.waitedMs = ctx.clock.now() - waitStarted;
      }
      // One budget for the whole check: several SLOs of a young service wait for the same scrapes.
      waitBudget -= record.waitedMs ?? 0;
      if (client) {
        record.evidence = await ctx.evidence.writeJson(`${safe(slo.name)}-budget.json`, {
          objective: slo.objective,
          window: promDuration(slo.window),
          evaluatedAt: new Date(askedAt).toISOString(),
          ...record,
        });
      }
      observation.slos.push(record);
      ctx.keepPartial(observation);
    }
    return observation;
  },

  judge(observation, spec) {
    const slos = new Map((spec.slos ?? []).map((s) => [s.name, s]));
    return observation.slos.flatMap((record) => {
      const slo = slos.get(record.slo);
      return slo ? [judgeSlo(record, slo)] : [];
    });
  },
});

function noPrometheus(): NonNullable<SloBudgetRecord["cannot"]> {
  return {
    messageId: "noPrometheus",
    message: "no monitoring.prometheus to ask for the SLI",
    toVerify: "set monitoring.prometheus to the Prometheus that scrapes the SLO's service",
  };
}

function unasked(slo: Slo, cannot?: NonNullable<SloBudgetRecord["cannot"]>): SloBudgetRecord {
  return {
    slo: slo.name,
    service: slo.service,
    ...(cannot ? { cannot } : {}),
    windowMs: slo.window,
    queries: [],
    bad: null,
    total: null,
    perSecond: false,
    historyMs: null,
  };
}

async function askPrometheus(
  client: PrometheusClient,
  slo: Slo,
  index: number,
  now: number,
): Promise<SloBudgetRecord> {
  const sli = slo.sli;
  if (!sli) {
    return unasked(slo, {
      messageId: "noSli",
      message: "the SLO has no sli, so Gauntlet does not know which series measure it",
      toVerify: `write slos[${index}].sli: errors + total PromQL over [{{window}}], or histogram + threshold`,
    });
  }
  const record = unasked(slo);
  const at = new Date(now);
  /** Asks, records; undefined when it failed (recorded in `failed`). */
  const ask = async (purpose: string, query: string): Promise<QueryData | undefined> => {
    try {
      const answer = await client.query(query, at);
      record.queries.push({ purpose, query, answer });
      return answer;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      record.queries.push({ purpose, query, error: message });
      record.failed = { query, error: message };
      return undefined;
    }
  };
  /** The summed answer; undefined when it failed or was empty (recorded). */
  const sum = async (purpose: string, query: string): Promise<number | undefined> => {
    const answer = await ask(purpose, query);
    if (!answer) return undefined;
    const value = sumOf(answer);
    if (value === null) {
      record.empty ??= { purpose, query };
      const exists = await seriesExist(query, ask);
      if (exists === true) record.tooYoung = true;
      else if (exists === false) {
        const job = await youngJob(client, query);
        if (job !== undefined) record.pendingJob = job;
      }
    }
    return value ?? undefined;
  };

  let historySelectors: string[];
  if (sli.histogram !== undefined) {
    record.form = "histogram";
    const histogram = parseHistogramSli(sli.histogram);
    if (!histogram) {
      return unasked(slo, {
        messageId: "badHistogram",
        message: `sli.histogram "${sli.histogram}" is not a metric name with optional {matchers}`,
        toVerify: `write slos[${index}].sli.histogram as the histogram's name without _bucket, e.g. http_request_duration_seconds{job="api"}`,
      });
    }
    const queries = histogramQueries(histogram, slo.window);
    const buckets = await ask("buckets", queries.buckets);
    if (!buckets) return record;
    const les = labelValues(buckets, "le");
    if (les.length === 0) {
      record.empty = { purpose: "buckets", query: queries.buckets };
      const job = await youngJob(client, queries.buckets);
      if (job !== undefined) record.pendingJob = job;
      return record;
    }
    // The schema makes sure a histogram SLI has one of the two.
    const thresholdMs = sli.threshold ?? slo.latency ?? 0;
    const le = matchingBucket(les, thresholdMs, histogram.metric);
    if (le === undefined) {
      record.missingBucket = {
        metric: `${histogram.metric}_bucket`,
        le: thresholdInUnit(thresholdMs, histogram.metric),
        buckets: les.sort((a, b) => leValue(a) - leValue(b)),
      };
      return record;
    }
    const total = await sum("total", queries.total);
    if (total === undefined) return record;
    const good = await sum("good", histogramQueries(histogram, slo.window, le).good!);
    if (good === undefined) return record;
    record.total = total;
    // increase() extrapolates each series on its own, so good may exceed total by a hair: never below 0 bad.
    record.bad = Math.max(0, total - good);
    historySelectors = [queries.count];
  } else {
    record.form = "ratio";
    const totalQuery = withWindow(sli.total!, slo.window);
    const errorsQuery = withWindow(sli.errors!, slo.window);
    // rate() divides each increase by the same window, so the ratio of the two rates is the ratio of the events
    // over the window — also when the history is shorter than the window (both lack the same missing part).
    record.perSecond = !/\bincrease\s*\(/.test(sli.total!);
    const total = await sum("total", totalQuery);
    if (total === undefined) return record;
    record.total = total;
    const errorsAnswer = await ask("errors", errorsQuery);
    if (!errorsAnswer) return record;
    const errors = sumOf(errorsAnswer);
    if (errors === null) {
      // sum(rate(x{code=~"5.."}[30d])) is empty when no 5xx series exists: zero errors, if the metric itself exists.
      const exists = await metricsExist(errorsQuery, ask);
      if (exists !== true) {
        if (exists === false) record.empty = { purpose: "errors", query: errorsQuery };
        return record;
      }
      record.noErrorSeries = true;
    }
    record.bad = errors ?? 0;
    historySelectors = selectorsOf(totalQuery);
  }
  await measureHistory(record, historySelectors, slo.window, now, ask);
  return record;
}

/**
 * The `job` the expression selects when Prometheus has a target of it that it has scraped fewer than three times (a
 * service started a moment ago, whose counters may appear only with its first requests); undefined otherwise.
 */
async function youngJob(client: PrometheusClient, expr: string): Promise<string | undefined> {
  const jobs = safeFacts(expr).flatMap((s) =>
    s.matchers.filter((m) => m.label === "job" && m.op === "=").map((m) => m.value),
  );
  if (jobs.length === 0) return undefined;
  const targets = await client.targets().catch(() => []);
  for (const job of jobs) {
    if (!targets.some((t) => t.labels.job === job)) continue;
    const scrapes = await client
      .query(`sum(count_over_time(up{job=${JSON.stringify(job)}}[10m]))`)
      .then((data) => (data.resultType === "vector" ? Number(data.result[0]?.value[1] ?? 0) : 0))
      .catch(() => Number.POSITIVE_INFINITY);
    if (scrapes < YOUNG_SCRAPES) return job;
  }
  return undefined;
}

/** Whether every selector of the expression, matchers and all, has a series now; undefined when a query failed. */
async function seriesExist(
  expr: string,
  ask: (purpose: string, query: string) => Promise<QueryData | undefined>,
): Promise<boolean | undefined> {
  const selectors = selectorsOf(expr);
  if (selectors.length === 0) return false;
  for (const selector of selectors) {
    const answer = await ask("series exist", `count(${selector})`);
    if (!answer) return undefined;
    if (!sumOf(answer)) return false;
  }
  return true;
}

/** Whether every metric the expression names has a series now; undefined when a query failed. */
async function metricsExist(
  expr: string,
  ask: (purpose: string, query: string) => Promise<QueryData | undefined>,
): Promise<boolean | undefined> {
  const metrics = [...new Set(safeFacts(expr).flatMap((s) => (s.metric ? [s.metric] : [])))];
  if (metrics.length === 0) return false;
  for (const metric of metrics) {
    const answer = await ask("errors metric exists", `count(${selectorText({ metric, matchers: [] })})`);
    if (!answer) return undefined;
    if (!sumOf(answer)) return false;
  }
  return true;
}

/**
 * The SLI's earliest sample within the window: a coarse subquery over the whole window, then one at 1 s around its
 * answer. Cheaper than reading raw samples, exact to a second, and it is the SLI's own history, not the TSDB's.
 */
async function measureHistory(
  record: SloBudgetRecord,
  selectors: string[],
  windowMs: number,
  now: number,
  ask: (purpose: string, query: string) => Promise<QueryData | undefined>,
): Promise<void> {
  if (selectors.length === 0) {
    record.historyNote = "the total expression names no series whose history could be read";
    return;
  }
  const range = Math.ceil(windowMs / 1000);
  const step = historyStepSeconds(windowMs);
  let earliest: number | undefined;
  for (const selector of selectors) {
    const coarse = await ask("history", earliestSampleQuery(selector, range, step));
    let first = coarse ? (sumOf(coarse) ?? undefined) : undefined;
    // Subquery steps are aligned to multiples of the step: a series younger than the last aligned step is seen by
    // none of them, and is then looked for in the last step's span at 1 s.
    if (step > 1) {
      const fine = await ask("history (1 s)", earliestSampleQuery(selector, step + 1, 1, first));
      first = (fine ? sumOf(fine) : null) ?? first;
    }
    if (first !== undefined) earliest = Math.min(earliest ?? first, first);
  }
  // A failed history query is not a failed SLI: the sums stand, the span is said to be unmeasured.
  delete record.failed;
  if (earliest === undefined) {
    record.historyNote = "Prometheus did not answer when the SLI's series begin";
    return;
  }
  record.historyMs = Math.max(0, Math.min(windowMs, now - earliest * 1000));
}

function safeFacts(expr: string) {
  try {
    return expressionFacts(expr).selectors;
  } catch {
    return [];
  }
}

function selectorsOf(expr: string): string[] {
  return [...new Set(safeFacts(expr).map(selectorText))];
}

/** The sum of an answer's samples; null when it holds none (an empty vector). */
function sumOf(data: QueryData): number | null {
  if (data.resultType === "scalar") return Number(data.result[1]);
  if (data.resultType === "vector") {
    if (data.result.length === 0) return null;
    return data.result.reduce((total, s) => total + Number(s.value[1]), 0);
  }
  return null;
}

function labelValues(data: QueryData, label: string): string[] {
  if (data.resultType !== "vector") return [];
  return [...new Set(data.result.flatMap((s) => (s.metric[label] !== undefined ? [s.metric[label]] : [])))];
}

function judgeSlo(record: SloBudgetRecord, slo: Slo): FindingInput {
  const data: Record<string, unknown> = { service: slo.service, slo: slo.name };
  const evidence = record.evidence ? [record.evidence] : [];
  const base = { subject: slo.service, data, evidence };
  const unverified = (messageId: string, message: string, toVerify: string): FindingInput => ({
    ...base,
    status: "UNVERIFIED",
    messageId,
    message: `SLO ${slo.name}: ${message}`,
    toVerify,
  });
  if (record.cannot)
    return unverified(record.cannot.messageId, record.cannot.message, record.cannot.toVerify);
  if (record.failed) {
    return unverified(
      "queryFailed",
      `Prometheus did not answer ${record.failed.query}: ${record.failed.error}`,
      "make monitoring.prometheus reachable from this machine and the sli's expressions valid PromQL",
    );
  }
  if (record.missingBucket) {
    const m = record.missingBucket;
    return unverified(
      "missingBucket",
      `${m.metric} has no bucket le="${m.le}" (its buckets: ${m.buckets.join(", ")})`,
      `set slos[].sli.threshold (or latency) of ${slo.name} to one of the buckets, or add a ${m.le} bucket to the histogram`,
    );
  }
  if (record.tooYoung) {
    const waited = record.waitedMs ? ` (waited ${Math.round(record.waitedMs / 1000)} s)` : "";
    return unverified(
      "tooLittleHistory",
      `the series of the ${record.empty?.purpose ?? "SLI"} query ${record.empty?.query ?? ""} exist, but Prometheus holds too few samples of them for a rate${waited}`,
      `let Prometheus scrape ${slo.service} for a few scrape intervals, then run again`,
    );
  }
  if (record.empty || record.total === null || record.bad === null) {
    const query = record.empty?.query ?? "the SLI's queries";
    const waited =
      record.pendingJob !== undefined
        ? ` (job ${record.pendingJob} had only just begun to be scraped; no such series appeared in ${Math.round((record.waitedMs ?? 0) / 1000)} s)`
        : "";
    return unverified(
      "emptyResult",
      `Prometheus returned no sample for the ${record.empty?.purpose ?? "SLI"} query ${query}${waited}`,
      "check the metric names and labels of slos[].sli against what Prometheus scrapes (run the query in its UI)",
    );
  }
  const windowSeconds = record.windowMs / 1000;
  const toEvents = (value: number) => (record.perSecond ? value * windowSeconds : value);
  const total = toEvents(record.total);
  const bad = toEvents(record.bad);
  const span = spanText(record);
  data.window = span.text;
  if (!(total > 0)) {
    return unverified(
      "noRequests",
      `no requests ${span.text}: the budget says nothing`,
      `send traffic to ${slo.service} (or check that slos[].sli.total counts its requests), then run again`,
    );
  }
  const budget = errorBudget(bad, total, slo.objective);
  const remainingPct = round(budget.remaining * 100);
  data.remaining = Number.isFinite(remainingPct) ? `${remainingPct}%` : "none";
  data.errorRatio = round(budget.errorRatio * 100);
  data.requests = Math.round(total);
  const ev = record.evidence ? { evidence: record.evidence } : {};
  const measurements = [
    ...(Number.isFinite(remainingPct)
      ? [{ name: "budget remaining", value: remainingPct, unit: "%", ...ev }]
      : []),
    { name: "error ratio", value: round(budget.errorRatio * 100), unit: "%", ...ev },
    { name: "requests", value: Math.round(total), unit: "count", ...ev },
    { name: "window judged", value: Math.round(span.ms), unit: "ms", ...ev },
  ];
  const zeroNote = record.noErrorSeries ? " (no error series exists: none counted)" : "";
  const figures = `${round(budget.errorRatio * 100)}% of ${Math.round(total)} requests bad${zeroNote} against ${round(budget.allowed * 100)}% allowed (objective ${slo.objective}%) ${span.text}`;
  const left =
    Number.isFinite(budget.remaining) && budget.remaining > 0
      ? `${remainingPct}% of the error budget left`
      : budget.allowed === 0
        ? "an objective of 100% allows no bad request: no budget"
        : `the error budget is spent (${round(budget.consumed * 100)}% consumed)`;
  const finding = { ...base, measurements, message: `SLO ${slo.name}: ${left}: ${figures}` };
  if (budget.remaining <= 0) return { ...finding, status: "FAIL", messageId: "budgetExhausted" };
  if (budget.remaining < LOW_BUDGET) return { ...finding, status: "WARN", messageId: "budgetLow" };
  return { ...finding, status: "PASS", messageId: "budgetLeft" };
}

/** "over 30d", or "over the last 3h of 30d (all the history Prometheus holds)". */
function spanText(record: SloBudgetRecord): { ms: number; text: string } {
  const window = promDuration(record.windowMs);
  if (record.historyMs === null) {
    return { ms: record.windowMs, text: `over ${window} (${record.historyNote ?? "history not measured"})` };
  }
  if (record.historyMs >= record.windowMs * WHOLE_WINDOW)
    return { ms: record.windowMs, text: `over ${window}` };
  const held = promDuration(
    record.historyMs >= 3_600_000 ? round60(record.historyMs) : record.historyMs - (record.historyMs % 1000),
  );
  return {
    ms: record.historyMs,
    text: `over the last ${held} of ${window} (all the history Prometheus holds)`,
  };
}

function round60(ms: number): number {
  return Math.round(ms / 60_000) * 60_000;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, "-");
}
