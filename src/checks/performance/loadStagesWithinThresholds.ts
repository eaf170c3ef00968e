// Does every load stage of the spec meet every threshold? The stages run against performance.target for real; each
// stage is judged on its own figures, so a stage that degrades under load is named with the figure that broke.
// observe records each stage's figures (latency at every percentile a threshold names); judge holds them against
// performance.thresholds.

import { defineCheck, type FindingInput, type Measurement, notApplicable } from "../../core/types.js";
import {
  evaluateThreshold,
  parseThresholds,
  type Threshold,
  type ThresholdSubject,
} from "../../engines/load/thresholds.js";
import { UserError } from "../../errors.js";
import type { Spec } from "../../spec/schema.js";
import { latencyAt, plannedLoad, serviceLoad } from "./load/serviceLoad.js";

/** Percentiles every stage records besides those the thresholds name, so the evidence and the report can quote them. */
const RECORDED_PERCENTILES = [50, 90, 95, 99, 99.9];

export interface StageFigures {
  name: string;
  /** The stage's evidence file (figures, histogram, timeline). */
  evidence: string;
  requests: number;
  rps: number;
  /** Share of attempts that failed (non-2xx or connection errors), 0–1. */
  errorRate: number;
  errors: { refused: number; reset: number; timeout: number; other: number; total: number };
  /** Milliseconds. */
  latency: { min: number; mean: number; max: number; p95: number; p99: number };
  /** Latency in ms at each recorded percentile, keyed as written ("95", "99.9"). */
  latencyAt: Record<string, number>;
}

export interface LoadStagesObservation {
  service: string;
  /** Why no load was sent (the target has no http(s) url). */
  cannotLoad?: string;
  /** Why the thresholds could not be read (only a spec that bypassed validation has this). */
  thresholdError?: string;
  /** The stages the spec plans, in order. */
  planned: string[];
  /** The stages that ran, in order. */
  stages: StageFigures[];
  cancelled: boolean;
  /** The abortOnFail threshold that stopped the run, as the load engine described it. */
  abortedBy: string | null;
  /** Every evidence file of the run: one per stage, then the run's summary. */
  evidence: string[];
}

export default defineCheck<LoadStagesObservation>({
  meta: {
    id: "loadStagesWithinThresholds",
    category: "performance",
    risk: "high",
    destructive: true,
    title: "Load stages within thresholds",
    objective:
      "Every stage of performance.stages, run against performance.target, meets every performance.thresholds.",
    remediation: {
      effort: "high",
      text: "Profile {{service}} under the load of stage {{stage}} ({{failure}}): find the bottleneck (CPU, pool sizes, slow queries, locks), fix it or scale out, and run the stage again.",
    },
    messages: {
      withinThresholds: "the stage met every threshold",
      thresholdMissed: "the stage missed at least one threshold (each is named with its figure)",
      noAnswers: "no request of the stage was answered (refused, reset or timed out)",
      noThresholds: "the stage ran, but performance.thresholds gives nothing to judge it against",
      abortedByThreshold: "an abortOnFail threshold failed and stopped the run before its last stages",
      notMeasured: "a threshold names a percentile the run did not record, so it cannot be judged",
      invalidThreshold: "a performance.thresholds expression cannot be read",
      loadCancelled: "the load run was cancelled before every stage ran",
      notHttp: "the target has no http(s) url to send load to",
    },
    timeoutMs: 30 * 60_000,
  },

  applies(spec) {
    if (!spec.performance) return notApplicable("no performance section in the spec");
    if (!spec.performance.stages?.length) return notApplicable("performance.stages is empty");
    return true;
  },

  async observe(ctx) {
    const service = ctx.spec.performance!.target;
    const planned = plannedLoad(ctx, service);
    const observation: LoadStagesObservation = {
      service,
      planned: (ctx.spec.performance?.stages ?? []).map((s) => s.name),
      stages: [],
      cancelled: false,
      abortedBy: null,
      evidence: [],
    };
    if ("missing" in planned) return { ...observation, cannotLoad: planned.missing };
    ctx.secrets.addFromUrl(planned.url);
    let thresholds: Threshold[];
    try {
      thresholds = parseThresholds(planned.thresholds);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return { ...observation, thresholdError: error.message };
    }
    const percentiles = [...RECORDED_PERCENTILES, ...thresholds.flatMap(percentileOf)];
    const { result, evidence } = await serviceLoad(ctx, planned);
    return {
      ...observation,
      planned: planned.stages.map((s) => s.name),
      stages: result.stages.map((stage, i) => ({
        name: stage.name,
        evidence: evidence[i]!,
        requests: stage.requests,
        rps: stage.rps,
        errorRate: stage.errorRate,
        errors: {
          refused: stage.errors.refused,
          reset: stage.errors.reset,
          timeout: stage.errors.timeout,
          other: stage.errors.other,
          total: stage.errors.total,
        },
        latency: {
          min: stage.latency.min,
          mean: stage.latency.mean,
          max: stage.latency.max,
          p95: stage.latency.p95,
          p99: stage.latency.p99,
        },
        latencyAt: latencyAt(stage.histogram, percentiles),
      })),
      cancelled: result.cancelled,
      abortedBy: result.abortedBy ?? null,
      evidence,
    };
  },

  judge(observation, spec) {
    const { service } = observation;
    const unverified = (messageId: string, message: string, toVerify: string): FindingInput[] => [
      {
        status: "UNVERIFIED",
        messageId,
        subject: service,
        message,
        data: { service },
        evidence: observation.evidence,
        toVerify,
      },
    ];
    if (observation.cannotLoad) {
      return unverified(
        "notHttp",
        `cannot load ${service}: ${observation.cannotLoad}`,
        `give services.${service}.url as an http:// or https:// URL`,
      );
    }
    const thresholds = observation.thresholdError
      ? { error: observation.thresholdError }
      : thresholdsOf(spec);
    if ("error" in thresholds) {
      return unverified(
        "invalidThreshold",
        `performance.thresholds: ${thresholds.error}`,
        "fix the threshold expression in performance.thresholds",
      );
    }
    if (observation.cancelled) {
      return unverified(
        "loadCancelled",
        `load on ${service} was cancelled after ${observation.stages.length} of ${observation.planned.length} stages`,
        "run the assessment to the end",
      );
    }
    const findings = observation.stages.map((stage) => judgeStage(service, stage, thresholds));
    if (observation.abortedBy) {
      const skipped = observation.planned.slice(observation.stages.length);
      findings.push({
        status: "FAIL",
        messageId: "abortedByThreshold",
        subject: service,
        message: `stopped by an abortOnFail threshold (${observation.abortedBy}); stages not run: ${skipped.join(", ") || "none"}`,
        evidence: observation.evidence,
        data: {
          service,
          stage: skipped[0] ?? observation.stages.at(-1)?.name ?? "",
          failure: observation.abortedBy,
          skipped,
        },
      });
    }
    return findings;
  },
});

function judgeStage(service: string, stage: StageFigures, thresholds: Threshold[]): FindingInput {
  const ev = { evidence: stage.evidence };
  const measurements: Measurement[] = [
    { name: `${stage.name} rps`, value: stage.rps, unit: "req/s", ...ev },
    { name: `${stage.name} p95`, value: stage.latency.p95, unit: "ms", ...ev },
    { name: `${stage.name} p99`, value: stage.latency.p99, unit: "ms", ...ev },
    { name: `${stage.name} errors`, value: Math.round(stage.errorRate * 100_000) / 1000, unit: "%", ...ev },
  ];
  const base = {
    subject: service,
    evidence: [stage.evidence],
    measurements,
    data: { service, stage: stage.name } as Record<string, unknown>,
  };
  const figures = `${stage.requests} requests, ${stage.rps} req/s, p95 ${stage.latency.p95} ms, p99 ${stage.latency.p99} ms, errors ${(stage.errorRate * 100).toFixed(2)}%`;
  if (stage.requests === 0) {
    const e = stage.errors;
    return {
      ...base,
      status: "FAIL",
      messageId: "noAnswers",
      message: `stage ${stage.name}: no request was answered (refused ${e.refused}, reset ${e.reset}, timeout ${e.timeout}, other ${e.other})`,
      data: { ...base.data, failure: "no request answered", errors: e },
    };
  }
  const unmeasured = thresholds.filter((t) => percentileOf(t).some((p) => !(String(p) in stage.latencyAt)));
  if (unmeasured.length > 0) {
    return {
      ...base,
      status: "UNVERIFIED",
      messageId: "notMeasured",
      message: `stage ${stage.name}: the run recorded no figure for ${unmeasured.map((t) => t.source).join(", ")}`,
      toVerify: "run the load again with the current performance.thresholds",
    };
  }
  const outcomes = thresholds.map((t) => evaluateThreshold(t, subjectOf(stage)));
  const failed = outcomes.filter((o) => !o.passed);
  const data = { ...base.data, thresholds: outcomes };
  if (failed.length > 0) {
    const failure = failed.map((o) => o.description).join(", ");
    return {
      ...base,
      status: "FAIL",
      messageId: "thresholdMissed",
      message: `stage ${stage.name}: ${failure} (${figures})`,
      data: { ...data, failure },
    };
  }
  if (thresholds.length === 0) {
    return {
      ...base,
      status: "WARN",
      messageId: "noThresholds",
      message: `stage ${stage.name}: ${figures}; no performance.thresholds to judge it against`,
      data: { ...data, failure: "no thresholds" },
    };
  }
  return {
    ...base,
    status: "PASS",
    messageId: "withinThresholds",
    message: `stage ${stage.name}: all thresholds met (${figures})`,
    data,
  };
}

/** The spec's thresholds; a spec built without validation may still hold one that cannot be read. */
function thresholdsOf(spec: Spec): Threshold[] | { error: string } {
  try {
    return parseThresholds(spec.performance?.thresholds ?? []);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return { error: error.message };
  }
}

/** The latency percentiles a threshold is judged on (med is p50). */
function percentileOf(threshold: Threshold): number[] {
  if (threshold.metric.kind === "percentile") return [threshold.metric.percentile];
  return threshold.metric.kind === "med" ? [50] : [];
}

function subjectOf(stage: StageFigures): ThresholdSubject {
  return {
    latencyAt: (p) => stage.latencyAt[String(p)]!,
    avg: stage.latency.mean,
    max: stage.latency.max,
    min: stage.latency.min,
    errorRate: stage.errorRate,
    rps: stage.rps,
  };
}
