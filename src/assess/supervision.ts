// Starts the services a spec asks Gauntlet to supervise (`control.process`) before the checks, dependencies first,
// and stops them when the run ends, however it ends (their stop is registered in the rollback ledger).
import path from "node:path";
import type { EvidenceStore } from "../core/evidence.js";
import { startTicksOf } from "../core/faultJournal.js";
import type { RollbackLedger } from "../core/rollbacks.js";
import { ProcessControl } from "../engines/faults/targets/processControl.js";
import { ProcessTarget } from "../engines/faults/targets/processTarget.js";
import type { TargetLookup } from "../engines/faults/targets/target.js";
import { parseTarget } from "../engines/net/endpoint.js";
import { canConnect } from "../engines/net/listeners.js";
import { Redactor } from "../secrets/redactor.js";
import type { Spec } from "../spec/schema.js";

export interface SupervisedService {
  name: string;
  target: ProcessTarget;
  started: boolean;
  ready: boolean;
  readyMs: number | null;
  note: string;
}

export const SYSTEM_EVIDENCE = "_system";

/**
 * `secrets` are the run's: each service's output is redacted with them, line by line and per stream, before any of it
 * is kept, and again (with whatever was registered since) when recordSupervision writes it.
 */
export async function startSupervisedServices(
  spec: Spec,
  specDir: string,
  ledger: RollbackLedger,
  log: (message: string) => void,
  signal?: AbortSignal,
  secrets: Redactor = new Redactor(),
): Promise<SupervisedService[]> {
  const scope = ledger.open(SYSTEM_EVIDENCE);
  const supervised: SupervisedService[] = [];
  for (const name of startOrder(spec)) {
    if (signal?.aborted) break;
    const service = spec.services[name]!;
    const control = service.control?.process;
    if (!control) continue;
    const endpoint = service.url ? parseTarget(service.url) : null;
    const target = new ProcessTarget({
      name,
      command: control.command,
      cwd: path.resolve(specDir, control.cwd ?? "."),
      ...(control.env ? { env: control.env } : {}),
      restart: control.restart,
      secrets,
    });
    if (endpoint && (await reachable(endpoint))) {
      // Something already listens there; starting a second copy would fail and we would assess the stranger.
      const note = `not started: ${endpoint.host}:${endpoint.port} is already in use by another process; that process is assessed instead`;
      log(`${name}: ${note}`);
      supervised.push({ name, target, started: false, ready: true, readyMs: null, note });
      continue;
    }
    log(`${name}: starting \`${control.command}\``);
    const started = performance.now();
    target.start();
    const pgid = target.pid;
    // Journaled: if Gauntlet is killed, the service would run on orphaned; the next run stops it.
    const ticks = pgid ? startTicksOf(pgid) : undefined;
    scope.add(
      `stop ${name}`,
      () => target.stop(),
      pgid && ticks
        ? { kind: "stopProcessGroup", pgid, startTicks: ticks, service: name, command: control.command }
        : undefined,
    );
    const ready = await waitUntilReady(endpoint, target, control.startTimeout, signal);
    const readyMs = ready ? Math.round(performance.now() - started) : null;
    const note = ready
      ? `started and ready in ${readyMs} ms`
      : signal?.aborted
        ? "start-up interrupted: the assessment was cancelled"
        : target.isRunning()
          ? `started but not ready within ${control.startTimeout / 1000} s`
          : "exited during start-up";
    log(`${name}: ${note}`);
    supervised.push({ name, target, started: true, ready, readyMs, note });
  }
  return supervised;
}

/** Controllers for the supervised services, for ctx.targets. */
export function supervisedTargets(services: SupervisedService[]): TargetLookup {
  const byName = new Map(
    services.filter((s) => s.started).map((s) => [s.name, new ProcessControl(s.name, s.target)] as const),
  );
  return { get: (service) => byName.get(service) };
}

/** Writes one evidence file per supervised service: its lifecycle and its (redacted) output. */
export async function recordSupervision(
  evidence: EvidenceStore,
  services: SupervisedService[],
): Promise<void> {
  const writer = evidence.writerFor(SYSTEM_EVIDENCE);
  for (const s of services) {
    await writer.writeJson(`${s.name}.json`, {
      service: s.name,
      command: s.target.options.command,
      started: s.started,
      ready: s.ready,
      readyMs: s.readyMs,
      note: s.note,
      restarts: s.target.restarts,
      exits: s.target.exits,
    });
    if (s.started) await writer.write(`${s.name}.log`, s.target.output);
  }
}

/** Dependencies before dependants; services outside any cycle keep spec order. */
function startOrder(spec: Spec): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (order.includes(name) || visiting.has(name)) return;
    visiting.add(name);
    for (const dep of spec.services[name]?.dependsOn ?? []) visit(dep);
    visiting.delete(name);
    order.push(name);
  };
  for (const name of Object.keys(spec.services)) visit(name);
  return order;
}

// Ready = accepting connections on its port. Whether it is healthy is for the checks to judge, not the supervisor.
async function waitUntilReady(
  endpoint: { host: string; port: number } | null,
  target: ProcessTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && !signal?.aborted) {
    if (!target.isRunning() && target.options.restart === "never") return false;
    if (!endpoint) {
      await sleep(500);
      return target.isRunning();
    }
    if (await reachable(endpoint)) return true;
    await sleep(100);
  }
  return false;
}

async function reachable(endpoint: { host: string; port: number }): Promise<boolean> {
  return (await canConnect(endpoint.host, endpoint.port, 500)).reachable;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
