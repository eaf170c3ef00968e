// Do users get their service back within the SLO's MTTR? The resilience experiments measure it: each experiment on an
// SLO's service, or on a service it depends on (directly or through others: its users feel those too), gives one
// outage. Each experiment runs once per assessment (the skeleton's ctx.shared), so the figures are the resilience
// checks' own runs; experiments they did not run (--only) are run here. Only records the experiment's own check
// would judge (its guards: healthy before, injected, delivered, observed) are measured.
//
// MTTR of one experiment, the outage users saw: from the fault's start (injection) to the first round of the final
// healthy streak after it = time to detect (injection → first failed probe) + time to restore (first failed probe →
// healthy again) = (end of fault − injection) + time to recover. An experiment in which no probe ever failed was
// absorbed: its outage is 0.
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import type { Spec } from "../../spec/schema.js";
import crashRecovered from "./crashRecovered.js";
import dependencyBlinkSurvived from "./dependencyBlinkSurvived.js";
import dependencyLatencyTolerated from "./dependencyLatencyTolerated.js";
import dependencyOutageDegradesGracefully from "./dependencyOutageDegradesGracefully.js";
import { type ExperimentCheck, type ExperimentRecord, seconds } from "./experiments/skeleton.js";
import overloadShedGracefully from "./overloadShedGracefully.js";
import writesSurviveCrash from "./writesSurviveCrash.js";

type Slo = NonNullable<Spec["slos"]>[number];

/** The experiment checks whose measurements count, by id. */
const EXPERIMENT_CHECKS: ReadonlyMap<string, ExperimentCheck<unknown>> = new Map(
  (
    [
      crashRecovered,
      dependencyBlinkSurvived,
      dependencyLatencyTolerated,
      dependencyOutageDegradesGracefully,
      overloadShedGracefully,
      writesSurviveCrash,
    ] as ExperimentCheck<unknown>[]
  ).map((check) => [check.meta.id, check]),
);

export interface MttrExperiment {
  /** The resilience check the experiment belongs to. */
  checkId: string;
  record: ExperimentRecord<unknown>;
}

export interface MttrObservation {
  experiments: MttrExperiment[];
  /** Evidence: every experiment with its figures and where its journal is. */
  summary?: string;
}

interface Measured {
  checkId: string;
  experiment: string;
  target: string;
  detectMs: number | null;
  recoverMs: number | null;
  faultMs: number;
  /** null when it never got healthy again within the watch. */
  mttrMs: number | null;
  recoverWithinMs: number;
  evidence?: string;
}

export default defineCheck<MttrObservation>({
  meta: {
    id: "mttrWithinObjective",
    category: "resilience",
    risk: "medium",
    destructive: true,
    title: "Recovery within the MTTR objective",
    objective:
      "The outage each resilience experiment caused on an SLO's service or its dependencies (fault start → healthy again) is within slos[].mttr, or each experiment's recoverWithin when no MTTR is declared.",
    remediation: {
      effort: "medium",
      text: "{{service}} took {{mttr}} to recover from {{experiment}} (objective {{objective}}): shorten detection (health checks and timeouts that notice the fault) and recovery (restart policies, reconnects with backoff, faster start-up) until it fits, or revisit the objective with the SLO's owners.",
    },
    messages: {
      withinObjective: "the worst measured outage is within the SLO's mttr",
      overObjective: "an experiment's outage lasted longer than the SLO's mttr",
      notRecovered: "an experiment's fault was never recovered from within its watch",
      noObjective:
        "no slos[].mttr is declared: every outage was within its experiment's recoverWithin, which is not an objective the SLO's owners set",
      recoveredLate: "no slos[].mttr is declared, and an experiment recovered only after its recoverWithin",
      noExperiment: "no experiment measured an outage of the SLO's service or its dependencies",
    },
    timeoutMs: 60 * 60_000,
  },

  applies(spec) {
    return spec.slos?.length ? true : notApplicable("no slos in the spec: no service has an MTTR objective");
  },

  async observe(ctx) {
    const observation: MttrObservation = { experiments: [] };
    const wanted = new Set((ctx.spec.slos ?? []).flatMap((slo) => feltBy(ctx.spec, slo.service)));
    for (const [checkId, check] of EXPERIMENT_CHECKS) {
      const { planned, excluded } = check.planning(ctx.spec);
      // Kept so that an SLO whose every experiment is excluded says so, rather than "none planned".
      for (const { experiment, reason } of excluded.filter((x) => wanted.has(x.experiment.target))) {
        const skipped = { messageId: "excluded", message: `excluded by resilience.exclude: ${reason}` };
        observation.experiments.push({
          checkId,
          record: { experiment, subject: experiment.target, skipped, details: {} },
        });
      }
      for (const experiment of planned) {
        if (!wanted.has(experiment.target) || ctx.signal.aborted) continue;
        ctx.log.info(`${experiment.name}: from ${checkId} (run now unless this assessment already ran it)`);
        observation.experiments.push({ checkId, record: await check.observeExperiment(ctx, experiment) });
        ctx.keepPartial(observation);
      }
    }
    observation.summary = await ctx.evidence.writeJson("experiments.json", {
      definition:
        "mttr = (end of fault − injection) + time to recover = fault start → first round of the final healthy streak; 0 when no probe failed",
      experiments: observation.experiments.map(({ checkId, record }) => ({
        checkId,
        experiment: record.experiment.name,
        target: record.subject,
        skipped: record.skipped ?? null,
        result: record.result ?? null,
        mttrMs: record.result ? outageMs(record.result) : null,
        journal: record.evidence ?? null,
      })),
    });
    return observation;
  },

  judge(observation, spec) {
    return (spec.slos ?? []).map((slo) => judgeSlo(slo, observation, spec));
  },
});

/** The service and every service it depends on, directly or through others (their outages reach its users). */
function feltBy(spec: Spec, service: string): string[] {
  const found = new Set<string>([service]);
  const visit = (name: string) => {
    for (const dependency of spec.services[name]?.dependsOn ?? []) {
      if (found.has(dependency)) continue;
      found.add(dependency);
      visit(dependency);
    }
  };
  visit(service);
  return [...found];
}

function outageMs(r: NonNullable<ExperimentRecord["result"]>): number | null {
  if (r.timeToRecoverMs === null || r.injectedAt === null || r.endedAt === null) return null;
  if (r.timeToDetectMs === null) return 0;
  return Math.round(r.endedAt - r.injectedAt + r.timeToRecoverMs);
}

function measure(entry: MttrExperiment): Measured {
  const { record } = entry;
  const r = record.result!;
  return {
    checkId: entry.checkId,
    experiment: record.experiment.name,
    target: record.subject,
    detectMs: r.timeToDetectMs,
    recoverMs: r.timeToRecoverMs,
    faultMs: r.endedAt !== null && r.injectedAt !== null ? Math.round(r.endedAt - r.injectedAt) : 0,
    mttrMs: outageMs(r),
    recoverWithinMs: record.experiment.recoverWithinMs,
    ...(record.evidence ? { evidence: record.evidence } : {}),
  };
}

function judgeSlo(slo: Slo, observation: MttrObservation, spec: Spec): FindingInput {
  const service = slo.service;
  const data: Record<string, unknown> = { service, slo: slo.name };
  const base = { subject: service, data };
  const summary = observation.summary ? [observation.summary] : [];
  const exclusion = spec.resilience?.exclude.find(
    (x) => x.check === "mttrWithinObjective" && (x.subject === undefined || x.subject === service),
  );
  if (exclusion) {
    return {
      ...base,
      status: "NA",
      messageId: "excluded",
      message: `${service}: excluded by resilience.exclude: ${exclusion.reason}`,
    };
  }
  const felt = new Set(feltBy(spec, service));
  const relevant = observation.experiments.filter((e) => felt.has(e.record.subject));
  const measured: Measured[] = [];
  const unmeasured: string[] = [];
  /** Left out by resilience.exclude, with a reason every report prints: named only when nothing else measured. */
  const excludedLines: string[] = [];
  for (const entry of relevant) {
    // The experiment's own check's guards decide whether it measured anything (not steady, not injected, unobserved…).
    const own = EXPERIMENT_CHECKS.get(entry.checkId)?.judge({ records: [entry.record] }, spec)[0];
    if (own && ["PASS", "WARN", "FAIL"].includes(own.status) && entry.record.result) {
      measured.push(measure(entry));
    } else {
      const line = `${entry.record.experiment.name} (${entry.checkId}): ${own?.message ?? "not run"}`;
      (entry.record.skipped?.messageId === "excluded" ? excludedLines : unmeasured).push(line);
    }
  }
  const evidence = [...new Set([...summary, ...measured.flatMap((m) => (m.evidence ? [m.evidence] : []))])];
  const scope = `${service}${felt.size > 1 ? ` or its dependencies (${[...felt].slice(1).join(", ")})` : ""}`;
  if (measured.length === 0) {
    const why =
      unmeasured.length + excludedLines.length > 0
        ? `every experiment measured nothing: ${[...unmeasured, ...excludedLines].join("; ")}`
        : "no resilience experiment is planned for them (no control to fault them, no health endpoint to watch)";
    return {
      ...base,
      evidence: summary,
      status: "UNVERIFIED",
      messageId: "noExperiment",
      message: `SLO ${slo.name}: no experiment measured an outage of ${scope}: ${why}`,
      toVerify: `make ${service} and its dependencies faultable and watchable (services.<name>.control and health), so the resilience experiments measure their recovery`,
    };
  }
  const measurements = measured.flatMap((m) => {
    const ev = m.evidence ? { evidence: m.evidence } : {};
    return m.mttrMs === null ? [] : [{ name: `mttr ${m.experiment}`, value: m.mttrMs, unit: "ms", ...ev }];
  });
  const more =
    unmeasured.length > 0 ? `; ${unmeasured.length} more measured nothing (${unmeasured.join("; ")})` : "";
  const figures = (m: Measured) =>
    m.mttrMs === 0
      ? `${m.experiment}: no probe failed, no outage`
      : `${m.experiment}: fault ${seconds(m.faultMs)}, detected after ${m.detectMs === null ? "-" : seconds(m.detectMs)}, healthy ${m.recoverMs === null ? "never" : seconds(m.recoverMs)} after it ended = ${m.mttrMs === null ? "no recovery" : seconds(m.mttrMs)}`;
  const verdict = (status: FindingInput["status"], messageId: string, message: string, extra = {}) => ({
    ...base,
    data: { ...data, ...extra },
    evidence,
    measurements,
    status,
    messageId,
    message: `SLO ${slo.name}: ${message}${more}`,
  });
  const objective = slo.mttr !== undefined ? seconds(slo.mttr) : "none declared";
  const never = measured.filter((m) => m.mttrMs === null);
  if (never.length > 0) {
    const first = never[0]!;
    return verdict(
      "FAIL",
      "notRecovered",
      `${never.map(figures).join("; ")}: not healthy again within ${seconds(first.recoverWithinMs)} after the fault`,
      { experiment: first.experiment, mttr: "no recovery", objective },
    );
  }
  const worst = measured.reduce((a, b) => ((b.mttrMs ?? 0) > (a.mttrMs ?? 0) ? b : a));
  const worstText = `worst outage ${seconds(worst.mttrMs!)} (${figures(worst)}) of ${measured.length} experiment${measured.length > 1 ? "s" : ""} on ${scope}`;
  const extra = { experiment: worst.experiment, mttr: seconds(worst.mttrMs!), objective };
  if (slo.mttr !== undefined) {
    const over = measured.filter((m) => m.mttrMs! > slo.mttr!);
    if (over.length > 0) {
      return verdict(
        "FAIL",
        "overObjective",
        `${over.map(figures).join("; ")} > mttr ${seconds(slo.mttr)}`,
        extra,
      );
    }
    return verdict("PASS", "withinObjective", `${worstText} ≤ mttr ${seconds(slo.mttr)}`, extra);
  }
  // Without slos[].mttr, each experiment's recoverWithin is the limit: the outage may last the fault plus that.
  const late = measured.filter((m) => (m.recoverMs ?? 0) > m.recoverWithinMs);
  if (late.length > 0) {
    const first = late[0]!;
    return verdict(
      "FAIL",
      "recoveredLate",
      `no slos[].mttr is declared, and ${late.map((m) => `${figures(m)}, beyond recoverWithin ${seconds(m.recoverWithinMs)}`).join("; ")}`,
      {
        ...extra,
        experiment: first.experiment,
        mttr: seconds(first.mttrMs!),
        objective: `recoverWithin ${seconds(first.recoverWithinMs)}`,
      },
    );
  }
  // WARN, not PASS: recoverWithin bounds one fault's recovery (10 s unless written), not the outage the SLO's users
  // were promised; the measured figures stand, but the objective the check is named for is missing.
  return verdict(
    "WARN",
    "noObjective",
    `no slos[].mttr is declared: ${worstText}, each within its experiment's recoverWithin`,
    { ...extra, objective: "none declared (slos[].mttr)" },
  );
}
