// What the resilience checks read from a spec: which experiments to run (the spec's own, or defaults derived from
// `dependsOn`), who depends on a datastore, the steady-state probes of a service, and the fault proxy (if any) a
// service reaches a dependency through. Proxies are `resilience.proxies: { <dependency>: { api: <control URL> } }`.

import type { Spec } from "../../spec/schema.js";
import { healthUrl } from "../http/serviceUrls.js";
import { httpProbe, type Probe, promqlProbe } from "./steadyState.js";

export const DATASTORE_KINDS = ["postgres", "redis", "mysql", "mongodb", "memcached", "kafka", "rabbitmq"];

export type Fault = NonNullable<Spec["resilience"]>["experiments"][number]["fault"];

export interface PlannedExperiment {
  name: string;
  target: string;
  fault: Fault;
  durationMs?: number;
  latencyMs?: number;
  recoverWithinMs: number;
  /** PromQL conditions that must hold with the health probes (needs monitoring.prometheus). */
  steadyState?: string[];
}

export const DEFAULT_RECOVER_WITHIN_MS = 10_000;

export function isDatastore(spec: Spec, name: string): boolean {
  const kind = spec.services[name]?.kind;
  return kind !== undefined && DATASTORE_KINDS.includes(kind);
}

/** Services that declare `dependsOn: [name]`. */
export function dependentsOf(spec: Spec, name: string): string[] {
  return Object.entries(spec.services)
    .filter(([, s]) => s.dependsOn?.includes(name))
    .map(([n]) => n);
}

/** Every service some other service depends on (dependencies in spec order). */
export function dependencies(spec: Spec): string[] {
  return Object.keys(spec.services).filter((name) => dependentsOf(spec, name).length > 0);
}

/**
 * The spec's experiments with one of `faults`; when the spec lists none at all, `derive()` supplies defaults, so an
 * empty `resilience.experiments` still tests what `dependsOn` says the system relies on.
 */
export function experimentsFor(
  spec: Spec,
  faults: Fault[],
  derive: () => PlannedExperiment[],
): PlannedExperiment[] {
  const declared = spec.resilience?.experiments ?? [];
  if (declared.length === 0) return derive();
  return declared
    .filter((e) => faults.includes(e.fault))
    .map((e) => ({
      name: e.name,
      target: e.target,
      fault: e.fault,
      recoverWithinMs: e.recoverWithin,
      ...(e.duration !== undefined ? { durationMs: e.duration } : {}),
      ...(e.latency !== undefined ? { latencyMs: e.latency } : {}),
      ...steadyStateOf(e),
    }));
}

/** Why no experiment of these faults is planned: the declared list leaves them out, or nothing to derive them from. */
export function noExperimentReason(spec: Spec, faults: Fault[], nothingToDerive: string): string {
  const list = faults.map((f) => `fault: ${f}`).join(" or ");
  return (spec.resilience?.experiments ?? []).length > 0
    ? `resilience.experiments lists no experiment with ${list} (add one to run this check)`
    : nothingToDerive;
}

/** The health probe of a service, or null when it declares no usable health endpoint. */
export function healthProbe(
  spec: Spec,
  name: string,
  options: { timeoutMs?: number; maxLatencyMs?: number } = {},
): Probe | null {
  const service = spec.services[name];
  if (!service?.health) return null;
  let url: string | null;
  try {
    url = healthUrl(service);
  } catch {
    url = null;
  }
  return url && /^https?:/.test(url) ? httpProbe(`${name} health`, url, options) : null;
}

/** The control API URL of the fault proxy that carries traffic to `dependency`, when the spec names one. */
export function proxyApiFor(spec: Spec, dependency: string): string | undefined {
  return spec.resilience?.proxies?.[dependency]?.api;
}

/** Probes for every service with a health endpoint, split into the dependants of `dependency` and the others. */
export function probesAround(spec: Spec, dependency: string, options: { timeoutMs?: number } = {}) {
  const dependants = new Set(dependentsOf(spec, dependency));
  const all = Object.keys(spec.services)
    .filter((name) => name !== dependency)
    .flatMap((name) => [
      { name, probe: healthProbe(spec, name, options) },
      ...requestProbes(spec, name, options).map((probe) => ({ name, probe })),
    ])
    .filter((p): p is { name: string; probe: Probe } => p.probe !== null);
  return {
    dependants: all.filter((p) => dependants.has(p.name)),
    bystanders: all.filter((p) => !dependants.has(p.name)),
  };
}

/**
 * Probes for the GET requests of `performance.requests` when `name` is the performance target: a health endpoint
 * may not touch a dependency at all, while the requests users make do.
 */
export function requestProbes(spec: Spec, name: string, options: { timeoutMs?: number } = {}): Probe[] {
  const service = spec.services[name];
  if (spec.performance?.target !== name || !service?.url || !/^https?:/.test(service.url)) return [];
  return (spec.performance.requests ?? [])
    .filter((r) => r.method === "GET" && !r.headers)
    .map((r) => httpProbe(`${name} GET ${r.path}`, new URL(r.path, service.url).href, options));
}

function steadyStateOf(experiment: { steadyState?: string[] | undefined }): { steadyState?: string[] } {
  return experiment.steadyState ? { steadyState: experiment.steadyState } : {};
}

/** PromQL probes of an experiment's steady state; none without monitoring.prometheus. */
export function hypothesisProbes(spec: Spec, experiment: PlannedExperiment): Probe[] {
  const prometheus = spec.monitoring?.prometheus;
  if (!prometheus) return [];
  return (experiment.steadyState ?? []).map((expr) => promqlProbe(prometheus, expr));
}
