// How much load can the target take? A bounded, stepped open-model search reports sustained capacity (the highest
// arrival rate that meets the thresholds), burst capacity (the closed-model ceiling) and the knee; it fails when not
// even a quarter of the ceiling meets the thresholds, and warns when the planned stages ask for more than sustained.

import { defineCheck, notApplicable } from "../../core/types.js";
import { CAPACITY_FRACTIONS, findCapacity } from "../../engines/load/capacity.js";
import { parseThresholds } from "../../engines/load/thresholds.js";
import { UserError } from "../../errors.js";

/** Used when the spec has no thresholds: what most teams would call "still working". */
export const DEFAULT_CAPACITY_THRESHOLDS = ["p(99)<1s", "errors<1%"];
const BURST_MS = 3_000;
const STEP_MS = 5_000;

export default defineCheck({
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
    timeoutMs: 5 * 60_000,
  },

  applies(spec) {
    if (!spec.performance) return notApplicable("no performance section in the spec");
    return true;
  },

  async run(ctx) {
    const perf = ctx.spec.performance!;
    const service = perf.target;
    const url = ctx.spec.services[service]?.url;
    if (!url || !/^https?:\/\//i.test(url)) {
      return [
        {
          status: "UNVERIFIED",
          subject: service,
          message: `cannot load ${service}: services.${service}.url is not an http(s) URL`,
          toVerify: `give services.${service}.url as an http:// or https:// URL`,
        },
      ];
    }
    ctx.secrets.addFromUrl(url);
    const declared = perf.thresholds?.length ? perf.thresholds : DEFAULT_CAPACITY_THRESHOLDS;
    // A rate at which requests fail is not capacity: an error bound applies even when the spec sets only latency.
    const thresholds = declared.some((t) => /^\s*errors\b/.test(t)) ? declared : [...declared, "errors<1%"];
    try {
      parseThresholds(thresholds);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return [
        {
          status: "UNVERIFIED",
          subject: service,
          message: `performance.thresholds: ${error.message}`,
          toVerify: "fix the threshold expression in performance.thresholds",
        },
      ];
    }
    const connections = Math.max(10, ...(perf.stages ?? []).map((s) => s.connections ?? 0));
    const stepMs = perf.capacity?.step ?? STEP_MS;
    const burstMs = perf.capacity?.burst ?? BURST_MS;
    // The search follows the check's signal, and a rollback stops it on every exit path.
    const controller = new AbortController();
    if (ctx.signal.aborted) controller.abort();
    const onAbort = () => controller.abort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    const stop = ctx.rollbacks.add("stop capacity search", () => controller.abort());
    let capacity: Awaited<ReturnType<typeof findCapacity>>;
    try {
      capacity = await findCapacity({
        url,
        requests: perf.requests ?? [],
        thresholds,
        connections,
        burstMs,
        stepMs,
        env: ctx.env,
        secrets: ctx.secrets,
        signal: controller.signal,
        onStep: (m) => ctx.log.info(m),
      });
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
      await stop.runNow();
    }
    const planned = Math.max(0, ...(perf.stages ?? []).map((s) => s.rate ?? 0));
    const evidence = await ctx.evidence.writeJson(`${service}-capacity.json`, {
      service,
      url,
      thresholds,
      connections,
      burstMs,
      stepMs,
      fractions: CAPACITY_FRACTIONS,
      plannedRate: planned || null,
      ...capacity,
    });
    const lastFailure = capacity.steps.find((s) => !s.passed)?.failures.join(", ") ?? "";
    const data = {
      service,
      sustained: capacity.sustained,
      burst: capacity.burst,
      knee: capacity.knee ?? "none found",
      failure: lastFailure || "no step failed",
    };
    const measurements = [
      { name: "sustained capacity", value: capacity.sustained, unit: "req/s", evidence },
      { name: "burst capacity", value: capacity.burst, unit: "req/s", evidence },
      ...(capacity.knee !== null ? [{ name: "knee", value: capacity.knee, unit: "req/s", evidence }] : []),
    ];
    const base = { subject: service, evidence: [evidence], measurements, data };
    if (capacity.cancelled) {
      return [
        {
          ...base,
          status: "UNVERIFIED",
          message: `${service}: capacity search cancelled`,
          toVerify: "run the assessment to the end",
        },
      ];
    }
    const figures = `sustained ${capacity.sustained} req/s, burst ${capacity.burst} req/s, knee ${capacity.knee ?? "not reached"}${capacity.knee !== null ? " req/s" : ""}`;
    if (capacity.burst <= 0) {
      return [
        { ...base, status: "FAIL", message: `${service}: no request answered during the burst; ${figures}` },
      ];
    }
    if (capacity.sustained === 0) {
      return [
        {
          ...base,
          status: "FAIL",
          message: `${service}: not even ${capacity.steps[0]?.rate ?? 0} req/s meets the thresholds (${lastFailure}); ${figures}`,
        },
      ];
    }
    if (planned > capacity.sustained) {
      return [
        {
          ...base,
          status: "WARN",
          message: `${service}: stages plan ${planned} req/s but ${figures}`,
        },
      ];
    }
    return [{ ...base, status: "PASS", message: `${service}: ${figures}` }];
  },
});
