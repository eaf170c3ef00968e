// Which experiments a resilience check runs. Every check derives defaults from what the system is (principle 8:
// every controllable service gets every fault type); an experiment the spec lists refines the default for the same
// fault family and target, or adds one; `resilience.exclude` leaves a (check, subject) out with a reason that every
// report prints. Listing one experiment never switches the others off.
import type { Spec } from "../../../spec/schema.js";

export type Fault = NonNullable<Spec["resilience"]>["experiments"][number]["fault"];
export type DeclaredProbe = NonNullable<
  NonNullable<Spec["resilience"]>["experiments"][number]["probes"]
>[number];

export interface PlannedExperiment {
  name: string;
  target: string;
  fault: Fault;
  durationMs?: number;
  latencyMs?: number;
  recoverWithinMs: number;
  /** PromQL conditions that must hold with the probes (needs monitoring.prometheus). */
  steadyState?: string[];
  /** Requests the spec says use the target: what makes the fault observable. */
  probes?: DeclaredProbe[];
  concurrency?: number;
  /** Listed in resilience.experiments (as opposed to derived). */
  declared: boolean;
}

export const DEFAULT_RECOVER_WITHIN_MS = 10_000;

export interface ExperimentPlanning {
  /** Experiments to run, in spec order of their targets. */
  planned: PlannedExperiment[];
  /** Experiments left out by resilience.exclude, with the reason. */
  excluded: { experiment: PlannedExperiment; reason: string }[];
}

/**
 * `defaults(spec)` are the check's own experiments, one per eligible target; declared experiments of `faults`
 * replace the default of the same target or are added; exclusions for `checkId` are moved aside.
 */
export function planExperiments(
  spec: Spec,
  checkId: string,
  faults: readonly Fault[],
  defaults: (spec: Spec) => PlannedExperiment[],
  /** Targets the check can judge at all: a `kill` listed for an API is crashRecovered's, not writesSurviveCrash's. */
  eligible: (spec: Spec, target: string) => boolean = () => true,
): ExperimentPlanning {
  const declared = (spec.resilience?.experiments ?? []).filter(
    (e) => faults.includes(e.fault) && eligible(spec, e.target),
  );
  const byTarget = new Map<string, PlannedExperiment[]>();
  for (const d of defaults(spec)) byTarget.set(d.target, [d]);
  const refined = new Set<string>();
  for (const e of declared) {
    const planned: PlannedExperiment = {
      name: e.name,
      target: e.target,
      fault: e.fault,
      recoverWithinMs: e.recoverWithin,
      declared: true,
      ...(e.duration !== undefined ? { durationMs: e.duration } : {}),
      ...(e.latency !== undefined ? { latencyMs: e.latency } : {}),
      ...(e.steadyState ? { steadyState: e.steadyState } : {}),
      ...(e.probes ? { probes: e.probes } : {}),
      ...(e.concurrency !== undefined ? { concurrency: e.concurrency } : {}),
    };
    // The first declared experiment for a target replaces its default; further ones are run as well.
    if (!refined.has(e.target)) {
      refined.add(e.target);
      byTarget.set(e.target, [planned]);
    } else {
      byTarget.get(e.target)!.push(planned);
    }
  }
  const order = Object.keys(spec.services);
  const all = [...byTarget.entries()]
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
    .flatMap(([, list]) => list);
  const exclusions = (spec.resilience?.exclude ?? []).filter((x) => x.check === checkId);
  const planning: ExperimentPlanning = { planned: [], excluded: [] };
  for (const experiment of all) {
    const exclusion = exclusions.find((x) => x.subject === undefined || x.subject === experiment.target);
    if (exclusion) planning.excluded.push({ experiment, reason: exclusion.reason });
    else planning.planned.push(experiment);
  }
  return planning;
}

/** Services that declare `dependsOn: [name]`. */
export function dependentsOf(spec: Spec, name: string): string[] {
  return Object.entries(spec.services)
    .filter(([, s]) => s.dependsOn?.includes(name))
    .map(([n]) => n);
}

/**
 * Everything that depends on `name`, directly or through others (api → pgbouncer → db: both watch db), in spec
 * order; a cycle is visited once.
 */
export function transitiveDependentsOf(spec: Spec, name: string): string[] {
  const found = new Set<string>();
  const visit = (service: string) => {
    for (const dependant of dependentsOf(spec, service)) {
      if (dependant === name || found.has(dependant)) continue;
      found.add(dependant);
      visit(dependant);
    }
  };
  visit(name);
  return Object.keys(spec.services).filter((s) => found.has(s));
}

/** Every service some other service depends on, in spec order. */
export function dependencies(spec: Spec): string[] {
  return Object.keys(spec.services).filter((name) => dependentsOf(spec, name).length > 0);
}

/** The control API URL of the fault proxy that carries traffic to `dependency`, when the spec names one. */
export function proxyApiFor(spec: Spec, dependency: string): string | undefined {
  return spec.resilience?.proxies?.[dependency]?.api;
}

/** The token for `dependency`'s fault proxy control API, and the spec key that sets it (named when it is refused). */
export function proxyTokenFor(spec: Spec, dependency: string): [token: string | undefined, setting: string] {
  return [spec.resilience?.proxies?.[dependency]?.token, `resilience.proxies.${dependency}.token`];
}

export function defaultExperiment(
  target: string,
  fault: Fault,
  suffix: string,
  extra: Partial<PlannedExperiment> = {},
): PlannedExperiment {
  return {
    name: `${target}-${suffix}`,
    target,
    fault,
    recoverWithinMs: DEFAULT_RECOVER_WITHIN_MS,
    declared: false,
    ...extra,
  };
}
