// Are the SLOs met under load? Each SLO is judged on the load results of its service: the spec's stages when the
// service is performance.target (shared with loadStagesWithinThresholds, never run twice), else a short default
// measurement. Availability SLO: the share of successful requests; latency SLO: the share answered within `latency`.
// observe records each service's whole-run figures (latency at every SLO objective); judge holds them against the SLOs.
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { isDatastore } from "../../spec/kinds.js";
import type { Spec } from "../../spec/schema.js";
import { latencyAt, plannedLoad, serviceLoad } from "./load/serviceLoad.js";

type Slo = NonNullable<Spec["slos"]>[number];

export interface ServiceLoadFigures {
  service: string;
  /** Why no load was sent (no http(s) url). */
  cannotLoad?: string;
  cancelled: boolean;
  /** The stages that were planned for this service. */
  stages: string[];
  /** Answered requests, whatever their status. */
  requests: number;
  /** Failed attempts by class; `total` also counts non-2xx answers. */
  errors: { refused: number; reset: number; timeout: number; other: number; total: number };
  /** Latency in ms over the whole run at each SLO objective of the service, keyed as written ("99.9"). */
  latencyAt: Record<string, number>;
  /** The run's evidence: one file per stage, then the summary. */
  evidence: string[];
}

export interface LatencySloObservation {
  services: ServiceLoadFigures[];
}

/** SLOs this check judges: those of services that are not datastores (an HTTP service is loaded, a store is not). */
function loadableSlos(spec: Spec): Slo[] {
  return (spec.slos ?? []).filter((s) => !isDatastore(spec, s.service));
}

export default defineCheck<LatencySloObservation>({
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
    messages: {
      met: "the SLO's objective held over the load run",
      availabilityMissed: "the share of successful requests is below the availability objective",
      tooSlow: "fewer requests than the objective were answered within the SLO's latency",
      errorBudgetSpent: "requests were fast enough, but more of them failed than the error budget allows",
      loadEmpty: "the load run made no request at all, so it says nothing of the SLO",
      loadCancelled: "the load run was cancelled",
      notMeasured: "the run did not record the latency at this SLO's objective",
      notHttp: "the SLO's service has no http(s) url to send load to",
    },
    timeoutMs: 30 * 60_000,
  },

  applies(spec) {
    if (!spec.slos?.length) return notApplicable("no slos in the spec");
    return loadableSlos(spec).length > 0 ? true : notApplicable("every SLO is about a datastore");
  },

  async observe(ctx) {
    const slos = loadableSlos(ctx.spec);
    const observation: LatencySloObservation = { services: [] };
    for (const service of new Set(slos.map((s) => s.service))) {
      // Added only once complete: a partial observation kept before a timeout must not hold a half-run service.
      observation.services.push(await observeService(ctx, service, slos));
      ctx.keepPartial(observation);
    }
    return observation;
  },

  judge(observation, spec) {
    const slos = loadableSlos(spec);
    return observation.services.flatMap((figures) =>
      slos.filter((s) => s.service === figures.service).map((slo) => judgeSlo(slo, figures)),
    );
  },
});

async function observeService(ctx: CheckContext, service: string, slos: Slo[]): Promise<ServiceLoadFigures> {
  const figures: ServiceLoadFigures = {
    service,
    cancelled: false,
    stages: [],
    requests: 0,
    errors: { refused: 0, reset: 0, timeout: 0, other: 0, total: 0 },
    latencyAt: {},
    evidence: [],
  };
  const planned = plannedLoad(ctx, service);
  if ("missing" in planned) return { ...figures, cannotLoad: planned.missing };
  ctx.secrets.addFromUrl(planned.url);
  const { result, evidence } = await serviceLoad(ctx, planned);
  const { overall } = result;
  const objectives = slos.filter((s) => s.service === service && s.latency !== undefined);
  return {
    service,
    cancelled: result.cancelled,
    stages: planned.stages.map((s) => s.name),
    requests: overall.requests,
    errors: {
      refused: overall.errors.refused,
      reset: overall.errors.reset,
      timeout: overall.errors.timeout,
      other: overall.errors.other,
      total: overall.errors.total,
    },
    latencyAt: latencyAt(
      overall.histogram,
      objectives.map((s) => s.objective),
    ),
    evidence,
  };
}

function judgeSlo(slo: Slo, figures: ServiceLoadFigures): FindingInput {
  const { service, evidence } = figures;
  const data: Record<string, unknown> = { service, slo: slo.name, stages: figures.stages };
  const unverified = (messageId: string, message: string, toVerify: string): FindingInput => ({
    status: "UNVERIFIED",
    messageId,
    subject: service,
    message: `SLO ${slo.name}: ${message}`,
    data,
    evidence,
    toVerify,
  });
  if (figures.cannotLoad) {
    return unverified(
      "notHttp",
      `cannot load ${service}: ${figures.cannotLoad}`,
      `give services.${service}.url as an http:// or https:// URL`,
    );
  }
  if (figures.cancelled) {
    return unverified(
      "loadCancelled",
      `the load run on ${service} was cancelled`,
      "run the assessment to the end",
    );
  }
  const e = figures.errors;
  if (figures.requests + e.total === 0) {
    return unverified(
      "loadEmpty",
      `the load run on ${service} was empty`,
      `make ${service} reachable from this machine and run the assessment to the end`,
    );
  }
  // Non-2xx answers are among `requests`; connection errors are attempts that never got one.
  const attempts = figures.requests + e.refused + e.reset + e.timeout + e.other;
  const success = attempts > 0 ? (100 * (attempts - e.total)) / attempts : 0;
  const summary = evidence.at(-1);
  const ev = summary ? { evidence: summary } : {};
  const over = `over ${attempts} requests in stages ${figures.stages.join(", ")}`;
  const base = { subject: service, evidence };
  if (slo.latency === undefined) {
    const failure = `${round(success)}% successful < ${slo.objective}%`;
    const measurements = [{ name: `${slo.name} availability`, value: round(success), unit: "%", ...ev }];
    if (success >= slo.objective) {
      return {
        ...base,
        status: "PASS",
        messageId: "met",
        message: `SLO ${slo.name}: ${round(success)}% successful ≥ ${slo.objective}% ${over}`,
        data,
        measurements,
      };
    }
    return {
      ...base,
      status: "FAIL",
      messageId: "availabilityMissed",
      message: `SLO ${slo.name}: ${failure} ${over}`,
      data: { ...data, failure },
      measurements,
    };
  }
  // Good = answered with 2xx within the latency; p(objective) ≤ latency says the share of fast answers is enough.
  const atObjective = figures.latencyAt[String(slo.objective)];
  if (atObjective === undefined) {
    return unverified(
      "notMeasured",
      `the run on ${service} recorded no p(${slo.objective})`,
      "run the load again with the current slos",
    );
  }
  const fastEnough = atObjective <= slo.latency;
  const errorBudget = 100 - slo.objective;
  const errorsOk = 100 - success <= errorBudget;
  const reasons: string[] = [];
  if (!fastEnough) reasons.push(`p(${slo.objective})=${atObjective}ms > ${slo.latency}ms`);
  if (!errorsOk) reasons.push(`${round(100 - success)}% failed > ${round(errorBudget)}% budget`);
  const measurements = [
    { name: `${slo.name} p(${slo.objective})`, value: atObjective, unit: "ms", ...ev },
    { name: `${slo.name} success`, value: round(success), unit: "%", ...ev },
  ];
  if (reasons.length === 0) {
    return {
      ...base,
      status: "PASS",
      messageId: "met",
      message: `SLO ${slo.name}: p(${slo.objective})=${atObjective}ms, ${round(success)}% successful within ${slo.latency}ms ${over}`,
      data,
      measurements,
    };
  }
  return {
    ...base,
    status: "FAIL",
    messageId: fastEnough ? "errorBudgetSpent" : "tooSlow",
    message: `SLO ${slo.name}: ${reasons.join(", ")} ${over}`,
    data: { ...data, failure: reasons.join(", ") },
    measurements,
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
