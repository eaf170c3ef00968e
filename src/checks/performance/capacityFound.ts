// How much load can the target take? A bounded, stepped open-model search reports sustained capacity (the highest
// arrival rate that meets the thresholds), burst capacity (the closed-model ceiling) and the knee; it fails when not
// even a quarter of the ceiling meets the thresholds, and warns when the planned stages ask for more than sustained.
// observe runs the search (each step is held against the thresholds as it runs, which is how the search knows when to
// stop); judge compares what it found with the rates the stages plan.

import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { CAPACITY_FRACTIONS, type CapacityStep, findCapacity } from "../../engines/load/capacity.js";
import { parseThresholds } from "../../engines/load/thresholds.js";
import { UserError } from "../../errors.js";
import type { Spec } from "../../spec/schema.js";
import { withStoppableLoad } from "./load/serviceLoad.js";

/** Used when the spec has no thresholds: what most teams would call "still working". */
export const DEFAULT_CAPACITY_THRESHOLDS = ["p(99)<1s", "errors<1%"];
const BURST_MS = 3_000;
const STEP_MS = 5_000;

export interface CapacityObservation {
  service: string;
  /** Why no load was sent (no http(s) url). */
  cannotLoad?: string;
  /** Why the thresholds could not be read (only a spec that bypassed validation has this). */
  thresholdError?: string;
  /** The thresholds every step was held against (the spec's, with an error bound added). */
  thresholds: string[];
  cancelled: boolean;
  /** Closed-model maximum, req/s. */
  burst: number;
  /** Highest step rate that met every threshold and was delivered; 0 when none. */
  sustained: number;
  knee: number | null;
  steps: Pick<CapacityStep, "rate" | "achievedRps" | "p99" | "errorRate" | "passed" | "failures">[];
  evidence?: string;
}

export default defineCheck<CapacityObservation>({
  meta: {
    id: "capacityFound",
    category: "performance",
    risk: "medium",
    destructive: true,
    title: "Capacity found",
    objective:
      "A stepped open-model search finds a sustained arrival rate that meets the thresholds, at or above the highest rate the stages plan for.",
    remediation: {
      effort: "high",
      text: "{{service}} sustains {{sustained}} req/s within its thresholds ({{failure}}): find the saturated resource at the knee ({{knee}} req/s) — CPU, pool sizes, a dependency — and raise it, or plan for less traffic.",
    },
    messages: {
      capacityFound: "a sustained rate meets the thresholds, at or above the highest rate the stages plan",
      belowPlannedRate: "the stages plan a higher arrival rate than the sustained capacity",
      noSustainedRate: "not even the lowest step (a quarter of the burst ceiling) meets the thresholds",
      noBurstAnswers: "no request was answered during the closed-model burst",
      searchCancelled: "the capacity search was cancelled",
      invalidThreshold: "a performance.thresholds expression cannot be read",
      notHttp: "the target has no http(s) url to send load to",
    },
    timeoutMs: 5 * 60_000,
  },

  applies(spec) {
    if (!spec.performance) return notApplicable("no performance section in the spec");
    return true;
  },

  async observe(ctx) {
    const perf = ctx.spec.performance!;
    const service = perf.target;
    const declared = perf.thresholds?.length ? perf.thresholds : DEFAULT_CAPACITY_THRESHOLDS;
    // A rate at which requests fail is not capacity: an error bound applies even when the spec sets only latency.
    const thresholds = declared.some((t) => /^\s*errors\b/.test(t)) ? declared : [...declared, "errors<1%"];
    const observation: CapacityObservation = {
      service,
      thresholds,
      cancelled: false,
      burst: 0,
      sustained: 0,
      knee: null,
      steps: [],
    };
    const url = ctx.spec.services[service]?.url;
    if (!url || !/^https?:\/\//i.test(url)) {
      return { ...observation, cannotLoad: `services.${service}.url is not an http(s) URL` };
    }
    ctx.secrets.addFromUrl(url);
    try {
      parseThresholds(thresholds);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return { ...observation, thresholdError: error.message };
    }
    const connections = Math.max(10, ...(perf.stages ?? []).map((s) => s.connections ?? 0));
    const stepMs = perf.capacity?.step ?? STEP_MS;
    const burstMs = perf.capacity?.burst ?? BURST_MS;
    const capacity = await withStoppableLoad(ctx, "stop capacity search", (signal) =>
      findCapacity({
        url,
        requests: perf.requests ?? [],
        thresholds,
        connections,
        burstMs,
        stepMs,
        env: ctx.env,
        secrets: ctx.secrets,
        signal,
        onStep: (m) => ctx.log.info(m),
      }),
    );
    const evidence = await ctx.evidence.writeJson(`${service}-capacity.json`, {
      service,
      url,
      thresholds,
      connections,
      burstMs,
      stepMs,
      fractions: CAPACITY_FRACTIONS,
      plannedRate: plannedRate(ctx.spec) || null,
      ...capacity,
    });
    return {
      ...observation,
      cancelled: capacity.cancelled,
      burst: capacity.burst,
      sustained: capacity.sustained,
      knee: capacity.knee,
      steps: capacity.steps.map(({ rate, achievedRps, p99, errorRate, passed, failures }) => ({
        rate,
        achievedRps,
        p99,
        errorRate,
        passed,
        failures,
      })),
      evidence,
    };
  },

  judge(observation, spec) {
    const { service } = observation;
    if (observation.cannotLoad) {
      return [
        {
          status: "UNVERIFIED",
          messageId: "notHttp",
          subject: service,
          message: `cannot load ${service}: ${observation.cannotLoad}`,
          data: { service },
          toVerify: `give services.${service}.url as an http:// or https:// URL`,
        },
      ];
    }
    if (observation.thresholdError) {
      return [
        {
          status: "UNVERIFIED",
          messageId: "invalidThreshold",
          subject: service,
          message: `performance.thresholds: ${observation.thresholdError}`,
          data: { service },
          toVerify: "fix the threshold expression in performance.thresholds",
        },
      ];
    }
    return [judgeCapacity(observation, plannedRate(spec))];
  },
});

function judgeCapacity(o: CapacityObservation, planned: number): FindingInput {
  const { service, evidence } = o;
  const firstFailure = o.steps.find((s) => !s.passed)?.failures.join(", ") ?? "";
  const data = {
    service,
    sustained: o.sustained,
    burst: o.burst,
    knee: o.knee ?? "none found",
    failure: firstFailure || "no step failed",
    plannedRate: planned,
  };
  const ev = evidence ? { evidence } : {};
  const measurements = [
    { name: "sustained capacity", value: o.sustained, unit: "req/s", ...ev },
    { name: "burst capacity", value: o.burst, unit: "req/s", ...ev },
    ...(o.knee !== null ? [{ name: "knee", value: o.knee, unit: "req/s", ...ev }] : []),
  ];
  const base = { subject: service, evidence: evidence ? [evidence] : [], measurements, data };
  if (o.cancelled) {
    return {
      ...base,
      status: "UNVERIFIED",
      messageId: "searchCancelled",
      message: `${service}: capacity search cancelled`,
      toVerify: "run the assessment to the end",
    };
  }
  const figures = `sustained ${o.sustained} req/s, burst ${o.burst} req/s, knee ${o.knee ?? "not reached"}${o.knee !== null ? " req/s" : ""}`;
  if (o.burst <= 0) {
    return {
      ...base,
      status: "FAIL",
      messageId: "noBurstAnswers",
      message: `${service}: no request answered during the burst; ${figures}`,
    };
  }
  if (o.sustained === 0) {
    return {
      ...base,
      status: "FAIL",
      messageId: "noSustainedRate",
      message: `${service}: not even ${o.steps[0]?.rate ?? 0} req/s meets the thresholds (${firstFailure}); ${figures}`,
    };
  }
  if (planned > o.sustained) {
    return {
      ...base,
      status: "WARN",
      messageId: "belowPlannedRate",
      message: `${service}: stages plan ${planned} req/s but ${figures}`,
    };
  }
  return { ...base, status: "PASS", messageId: "capacityFound", message: `${service}: ${figures}` };
}

/** The highest arrival rate the stages plan (open-model stages); 0 when every stage is closed-model. */
function plannedRate(spec: Spec): number {
  return Math.max(0, ...(spec.performance?.stages ?? []).map((s) => s.rate ?? 0));
}
