// The probes that watch an experiment, by role: the target's own (an HTTP health endpoint, or a PING / SELECT 1 for a
// datastore: a store is judged as a store), its dependants' (health, the performance.requests GETs of the
// performance target, and for a dependant datastore such as PgBouncer its own no-op), the probes the experiment
// declares, the PromQL steady state, and the bystanders that should not suffer.
import { datastoreProbe } from "../../../engines/datastores/probe.js";
import { httpProbe, type Probe, promqlProbe } from "../../../engines/experiments/steadyState.js";
import { healthUrl } from "../../../engines/http/serviceUrls.js";
import { protocolOf } from "../../../spec/kinds.js";
import type { Spec } from "../../../spec/schema.js";
import { type PlannedExperiment, transitiveDependentsOf } from "./plan.js";

export type ProbeRole = "target" | "dependant" | "bystander" | "declared" | "hypothesis";

export interface WatchingProbe {
  probe: Probe;
  service: string | null;
  role: ProbeRole;
}

export interface ProbeOptions {
  timeoutMs?: number;
  maxLatencyMs?: number;
}

/** How Gauntlet tells whether one service answers: its health endpoint, or a no-op for a datastore; null if neither. */
export function ownProbe(spec: Spec, name: string, options: ProbeOptions = {}): Probe | null {
  const service = spec.services[name];
  if (!service) return null;
  let url: string | null = null;
  try {
    url = healthUrl(service);
  } catch {
    url = null;
  }
  if (url && /^https?:/.test(url)) return httpProbe(`${name} health`, url, options);
  const protocol = protocolOf(service.kind);
  if (protocol && service.url) {
    return datastoreProbe(
      `${name} ${protocol === "redis" ? "PING" : "SELECT 1"}`,
      protocol,
      service.url,
      options,
    );
  }
  return null;
}

/**
 * Probes for the GET requests of `performance.requests` when `name` is the performance target: a health endpoint
 * may not touch a dependency at all, while the requests users make do.
 */
export function requestProbes(spec: Spec, name: string, options: ProbeOptions = {}): Probe[] {
  const service = spec.services[name];
  if (spec.performance?.target !== name || !service?.url || !/^https?:/.test(service.url)) return [];
  return (spec.performance.requests ?? [])
    .filter((r) => r.method === "GET" && !r.headers)
    .map((r) => httpProbe(`${name} GET ${r.path}`, new URL(r.path, service.url).href, options));
}

function probesOf(spec: Spec, name: string, role: ProbeRole, options: ProbeOptions): WatchingProbe[] {
  const own = ownProbe(spec, name, options);
  return [
    ...(own ? [{ probe: own, service: name, role }] : []),
    ...requestProbes(spec, name, options).map((probe) => ({ probe, service: name, role })),
  ];
}

/** Everything that depends on `target` (transitively), each by its own probe and request probes. */
export function dependantProbes(spec: Spec, target: string, options: ProbeOptions = {}): WatchingProbe[] {
  return transitiveDependentsOf(spec, target).flatMap((name) => probesOf(spec, name, "dependant", options));
}

/** Services that neither are nor depend on `target`: a fault there must not reach them (no cascade). */
export function bystanderProbes(spec: Spec, target: string, options: ProbeOptions = {}): WatchingProbe[] {
  const dependants = new Set(transitiveDependentsOf(spec, target));
  return Object.keys(spec.services)
    .filter((name) => name !== target && !dependants.has(name))
    .flatMap((name) => probesOf(spec, name, "bystander", options));
}

/** The target's own probe (null when it has none). */
export function targetProbe(spec: Spec, target: string, options: ProbeOptions = {}): WatchingProbe | null {
  const own = ownProbe(spec, target, options);
  return own ? { probe: own, service: target, role: "target" } : null;
}

/** The experiment's declared request probes and its PromQL steady state. */
export function experimentProbes(
  spec: Spec,
  experiment: PlannedExperiment,
  options: ProbeOptions = {},
): WatchingProbe[] {
  const declared = (experiment.probes ?? []).flatMap((p): WatchingProbe[] => {
    if (typeof p === "string")
      return [{ probe: httpProbe(`GET ${p}`, p, options), service: null, role: "declared" }];
    const base = spec.services[p.service]?.url;
    if (!base || !/^https?:/.test(base)) return [];
    const url = new URL(p.path, base).href;
    return [
      { probe: httpProbe(`${p.service} GET ${p.path}`, url, options), service: p.service, role: "declared" },
    ];
  });
  const prometheus = spec.monitoring?.prometheus;
  const hypotheses = prometheus
    ? (experiment.steadyState ?? []).map((expr) => ({
        probe: promqlProbe(prometheus, expr),
        service: null,
        role: "hypothesis" as const,
      }))
    : [];
  return [...declared, ...hypotheses];
}
