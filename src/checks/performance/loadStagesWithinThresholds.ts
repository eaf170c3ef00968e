// Does every load stage of the spec meet every threshold? The stages run against performance.target for real; each
// stage is judged on its own figures, so a stage that degrades under load is named with the figure that broke.

import { defineCheck, type FindingInput, type Measurement, notApplicable } from "../../core/types.js";
import { parseThresholds } from "../../engines/load/thresholds.js";
import { UserError } from "../../errors.js";
import { plannedLoad, serviceLoad } from "./load/serviceLoad.js";

export default defineCheck({
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
    timeoutMs: 30 * 60_000,
  },

  applies(spec) {
    if (!spec.performance) return notApplicable("no performance section in the spec");
    if (!spec.performance.stages?.length) return notApplicable("performance.stages is empty");
    return true;
  },

  async run(ctx) {
    const perf = ctx.spec.performance!;
    const service = perf.target;
    const planned = plannedLoad(ctx, service);
    if ("missing" in planned) {
      return [
        {
          status: "UNVERIFIED",
          subject: service,
          message: `cannot load ${service}: ${planned.missing}`,
          toVerify: `give services.${service}.url as an http:// or https:// URL`,
        },
      ];
    }
    ctx.secrets.addFromUrl(planned.url);
    try {
      parseThresholds(planned.thresholds);
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
    const { result, evidence } = await serviceLoad(ctx, planned);
    if (result.cancelled) {
      return [
        {
          status: "UNVERIFIED",
          subject: service,
          message: `load on ${service} was cancelled after ${result.stages.length} of ${planned.stages.length} stages`,
          evidence,
          toVerify: "run the assessment to the end",
        },
      ];
    }

    const findings: FindingInput[] = [];
    for (const [i, stage] of result.stages.entries()) {
      const file = evidence[i];
      const measurements: Measurement[] = [
        { name: `${stage.name} rps`, value: stage.rps, unit: "req/s", ...(file ? { evidence: file } : {}) },
        {
          name: `${stage.name} p95`,
          value: stage.latency.p95,
          unit: "ms",
          ...(file ? { evidence: file } : {}),
        },
        {
          name: `${stage.name} p99`,
          value: stage.latency.p99,
          unit: "ms",
          ...(file ? { evidence: file } : {}),
        },
        {
          name: `${stage.name} errors`,
          value: Math.round(stage.errorRate * 100_000) / 1000,
          unit: "%",
          ...(file ? { evidence: file } : {}),
        },
      ];
      const failed = stage.thresholds.filter((t) => !t.passed);
      const figures = `${stage.requests} requests, ${stage.rps} req/s, p95 ${stage.latency.p95} ms, p99 ${stage.latency.p99} ms, errors ${(stage.errorRate * 100).toFixed(2)}%`;
      const base = {
        subject: service,
        evidence: file ? [file] : [],
        measurements,
        data: { service, stage: stage.name, thresholds: stage.thresholds },
      };
      if (stage.requests === 0) {
        findings.push({
          ...base,
          status: "FAIL",
          message: `stage ${stage.name}: no request was answered (${describeErrors(stage.errors)})`,
          data: { ...base.data, failure: "no request answered" },
        });
      } else if (failed.length > 0) {
        const failure = failed.map((t) => t.description).join(", ");
        findings.push({
          ...base,
          status: "FAIL",
          message: `stage ${stage.name}: ${failure} (${figures})`,
          data: { ...base.data, failure },
        });
      } else if (planned.thresholds.length === 0) {
        findings.push({
          ...base,
          status: "WARN",
          message: `stage ${stage.name}: ${figures}; no performance.thresholds to judge it against`,
          data: { ...base.data, failure: "no thresholds" },
        });
      } else {
        findings.push({
          ...base,
          status: "PASS",
          message: `stage ${stage.name}: all thresholds met (${figures})`,
        });
      }
    }
    if (result.abortedBy) {
      const skipped = planned.stages.slice(result.stages.length).map((s) => s.name);
      findings.push({
        status: "FAIL",
        subject: service,
        message: `stopped by an abortOnFail threshold (${result.abortedBy}); stages not run: ${skipped.join(", ") || "none"}`,
        evidence,
        data: { service, stage: skipped[0] ?? "", failure: result.abortedBy },
      });
    }
    return findings;
  },
});

function describeErrors(e: { refused: number; reset: number; timeout: number; other: number }): string {
  return `refused ${e.refused}, reset ${e.reset}, timeout ${e.timeout}, other ${e.other}`;
}
