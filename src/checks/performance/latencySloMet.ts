// Are the SLOs met under load? Each SLO is judged on the load results of its service: the spec's stages when the
// service is performance.target (shared with loadStagesWithinThresholds, never run twice), else a short default
// measurement. Availability SLO: the share of successful requests; latency SLO: the share answered within `latency`.
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { percentileMs } from "../../engines/load/histogram.js";
import type { Spec } from "../../spec/schema.js";
import { plannedLoad, serviceLoad } from "./load/serviceLoad.js";

type Slo = NonNullable<Spec["slos"]>[number];

export default defineCheck({
  meta: {
    id: "latencySloMet",
    category: "performance",
    risk: "high",
    destructive: true,
    title: "SLOs met under load",
    objective:
      "Under the spec's load, each SLO's objective holds: share of successful requests, and share answered within its latency.",
    remediation: {
      effort: "high",
      text: "{{service}} misses SLO {{slo}} under load ({{failure}}): find what makes requests fail or slow at this load (saturation, timeouts, retries, slow dependencies), fix it, and measure again; or revisit the objective with the SLO's owners.",
    },
    timeoutMs: 30 * 60_000,
  },

  applies(spec) {
    if (!spec.slos?.length) return notApplicable("no slos in the spec");
    const http = spec.slos.some((s) => (spec.services[s.service]?.kind ?? "http") === "http");
    return http ? true : notApplicable("no SLO is about an HTTP service");
  },

  async run(ctx) {
    const findings: FindingInput[] = [];
    const slos = (ctx.spec.slos ?? []).filter(
      (s) => (ctx.spec.services[s.service]?.kind ?? "http") === "http",
    );
    for (const service of new Set(slos.map((s) => s.service))) {
      const planned = plannedLoad(ctx, service);
      const mine = slos.filter((s) => s.service === service);
      if ("missing" in planned) {
        for (const slo of mine) {
          findings.push({
            status: "UNVERIFIED",
            subject: service,
            message: `SLO ${slo.name}: cannot load ${service}: ${planned.missing}`,
            data: { service, slo: slo.name },
            toVerify: `give services.${service}.url as an http:// or https:// URL`,
          });
        }
        continue;
      }
      ctx.secrets.addFromUrl(planned.url);
      const { result, evidence } = await serviceLoad(ctx, planned);
      if (result.cancelled || result.overall.requests + result.overall.errors.total === 0) {
        for (const slo of mine) {
          findings.push({
            status: "UNVERIFIED",
            subject: service,
            message: `SLO ${slo.name}: the load run on ${service} was ${result.cancelled ? "cancelled" : "empty"}`,
            data: { service, slo: slo.name },
            evidence,
            toVerify: "run the assessment to the end",
          });
        }
        continue;
      }
      for (const slo of mine)
        findings.push(
          judge(
            slo,
            service,
            result.overall,
            evidence,
            planned.stages.map((s) => s.name),
          ),
        );
    }
    return findings;
  },
});

function judge(
  slo: Slo,
  service: string,
  overall: Awaited<ReturnType<typeof serviceLoad>>["result"]["overall"],
  evidence: string[],
  stages: string[],
): FindingInput {
  const summary = evidence[evidence.length - 1];
  const ev = summary ? { evidence: summary } : {};
  const attempts =
    overall.requests +
    overall.errors.refused +
    overall.errors.reset +
    overall.errors.timeout +
    overall.errors.other;
  const success = attempts > 0 ? (100 * (attempts - overall.errors.total)) / attempts : 0;
  const base = {
    subject: service,
    evidence,
    data: { service, slo: slo.name, stages } as Record<string, unknown>,
  };
  const over = `over ${attempts} requests in stages ${stages.join(", ")}`;
  const round = (n: number) => Math.round(n * 1000) / 1000;
  if (slo.latency === undefined) {
    const passed = success >= slo.objective;
    const failure = `${round(success)}% successful < ${slo.objective}%`;
    return {
      ...base,
      status: passed ? "PASS" : "FAIL",
      data: { ...base.data, failure },
      measurements: [{ name: `${slo.name} availability`, value: round(success), unit: "%", ...ev }],
      message: passed
        ? `SLO ${slo.name}: ${round(success)}% successful ≥ ${slo.objective}% ${over}`
        : `SLO ${slo.name}: ${failure} ${over}`,
    };
  }
  // Good = answered with 2xx within the latency; p(objective) ≤ latency says the share of fast answers is enough.
  const atObjective = percentileMs(overall.histogram, slo.objective);
  const fastEnough = atObjective <= slo.latency;
  const errorBudget = 100 - slo.objective;
  const errorsOk = 100 - success <= errorBudget;
  const passed = fastEnough && errorsOk;
  const reasons: string[] = [];
  if (!fastEnough) reasons.push(`p(${slo.objective})=${atObjective}ms > ${slo.latency}ms`);
  if (!errorsOk) reasons.push(`${round(100 - success)}% failed > ${round(errorBudget)}% budget`);
  const figures = `p(${slo.objective})=${atObjective}ms, ${round(success)}% successful`;
  return {
    ...base,
    status: passed ? "PASS" : "FAIL",
    data: { ...base.data, failure: reasons.join(", ") },
    measurements: [
      { name: `${slo.name} p(${slo.objective})`, value: atObjective, unit: "ms", ...ev },
      { name: `${slo.name} success`, value: round(success), unit: "%", ...ev },
    ],
    message: passed
      ? `SLO ${slo.name}: ${figures} within ${slo.latency}ms ${over}`
      : `SLO ${slo.name}: ${reasons.join(", ")} ${over}`,
  };
}
