// The rollout section resolved into what a run needs: the URLs of the entry, baseline and canary, the requests sent,
// the analysis settings and how a canary's answer is recognised. Everything a user can get wrong is found here, before
// any traffic is shifted, as a sentence naming the spec key and the fix.
import { UserError } from "../../errors.js";
import type { Spec } from "../../spec/schema.js";
import { parseThresholds, type Threshold } from "../../spec/thresholds.js";
import { metricsUrl } from "../http/serviceUrls.js";
import type { LoadRequest } from "../load/requests.js";

export interface RolloutPlan {
  entry: { service: string; url: string };
  baseline: { service: string; url: string };
  canary: { service: string; url: string; metrics: string | null };
  requests: LoadRequest[];
  /** Where `requests` came from, for messages. */
  requestsFrom: "rollout.requests" | "performance.requests" | "GET /";
  shift: string;
  rollback: string | null;
  steps: number[];
  bakeMs: number;
  /** Each bake is cut into this many analyses of intervalMs. */
  analysesPerBake: number;
  intervalMs: number;
  rate: number;
  sampleRate: number;
  minSamples: number;
  failureLimit: number;
  alpha: number;
  tolerance: { latency: number; errors: number };
  rollbackOn: Threshold[];
  timeoutMs: number;
  identify: { header: string; value?: string } | null;
}

/** How often a step's bake is run again when its analyses were inconclusive, before the rollout gives up. */
export const MAX_BAKES_PER_STEP = 3;

export function planRollout(spec: Spec, steps?: number[]): RolloutPlan {
  const r = spec.rollout;
  if (!r) {
    throw new UserError(
      "the spec has no rollout section: add rollout { service, baseline, canary, shift, steps } (see docs/spec.md)",
    );
  }
  const urlOf = (service: string, key: string): string => {
    const url = spec.services[service]?.url;
    if (!url || !/^https?:\/\//i.test(url)) {
      throw new UserError(
        `rollout.${key} names ${service}, whose services.${service}.url is ${url ? `"${url}", not an http(s) URL` : "not set"}: give it the http:// URL that reaches it directly`,
      );
    }
    return url;
  };
  const requestsFrom: RolloutPlan["requestsFrom"] = r.requests
    ? "rollout.requests"
    : spec.performance?.target === r.service && spec.performance.requests?.length
      ? "performance.requests"
      : "GET /";
  const requests: LoadRequest[] =
    r.requests ??
    (requestsFrom === "performance.requests" ? spec.performance!.requests! : [{ method: "GET", path: "/" }]);
  const chosen = steps ?? r.steps;
  const bakeMs = r.bake;
  const interval = r.analysis.interval ?? bakeMs;
  const analysesPerBake = Math.max(1, Math.round(bakeMs / Math.min(interval, bakeMs)));
  const canary = spec.services[r.canary];
  return {
    entry: { service: r.service, url: urlOf(r.service, "service") },
    baseline: { service: r.baseline, url: urlOf(r.baseline, "baseline") },
    canary: {
      service: r.canary,
      url: urlOf(r.canary, "canary"),
      metrics: canary ? metricsUrl(canary) : null,
    },
    requests,
    requestsFrom,
    shift: r.shift,
    rollback: r.rollback ?? null,
    steps: chosen,
    bakeMs,
    analysesPerBake,
    intervalMs: bakeMs / analysesPerBake,
    rate: r.analysis.rate,
    sampleRate: r.analysis.sampleRate,
    minSamples: r.analysis.minSamples,
    failureLimit: r.analysis.failureLimit,
    alpha: r.analysis.alpha,
    tolerance: { latency: r.analysis.tolerance.latency, errors: r.analysis.tolerance.errors },
    rollbackOn: parseThresholds(r.rollbackOn),
    timeoutMs: r.timeout,
    identify: r.identify
      ? { header: r.identify.header, ...(r.identify.value !== undefined ? { value: r.identify.value } : {}) }
      : null,
  };
}

/** `--steps 10,50,100`: rising percentages above 0 and up to 100. */
export function parseSteps(text: string): number[] {
  const steps = text.split(",").map((s) => Number(s.trim().replace(/%$/, "")));
  const rising = steps.every((v, i) => i === 0 || v > steps[i - 1]!);
  if (steps.length === 0 || steps.some((v) => !(v > 0 && v <= 100)) || !rising) {
    throw new UserError(
      `--steps "${text}" is not a list of rising percentages: write it like 5,25,100 (each above 0, at most 100)`,
    );
  }
  return steps;
}
