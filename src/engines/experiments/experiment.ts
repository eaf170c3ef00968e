// One chaos experiment: the steady state must hold before; a few baseline rounds record what the probes answer when
// nothing is wrong; the fault is injected (its undo already registered by the caller, so it is rolled back on every
// path); probes watch it during `holdMs`; the fault is reverted; probes watch until the steady state holds again or
// `recoverWithinMs` passes. Times come from the journal: time to detect = injection → first failed probe; time to
// recover = end of the fault → first round of the final healthy streak.
import { Journal, type Phase } from "./journal.js";
import { type Probe, probeAll } from "./steadyState.js";

export interface ExperimentPlan {
  name: string;
  probes: Probe[];
  /** Injects the fault. Register its rollback with ctx.rollbacks before calling runExperiment. */
  inject(): Promise<void>;
  /** Ends the fault (e.g. removes the toxic); omitted for faults that end by themselves (kill, restart). */
  revert?(): Promise<void>;
  /** How long the fault stays before revert; 0 for instant faults. */
  holdMs: number;
  recoverWithinMs: number;
  signal: AbortSignal;
  /** Wait this long for the steady state before giving up on the experiment; default 10 s. */
  steadyWithinMs?: number;
  /** Probe rounds recorded after the steady state holds and before the fault; default 3. */
  baselineRounds?: number;
  /** Probe interval; default 200 ms. */
  intervalMs?: number;
  /** Consecutive rounds the steady state must hold to count as recovered; default 2. */
  holdRounds?: number;
  /** Skip the recovery watch (a sensitivity test only needs the fault window). */
  skipRecovery?: boolean;
}

export interface ExperimentResult {
  name: string;
  steadyBefore: boolean;
  injected: boolean;
  /** Journal times (ms) of the injection and of the end of the fault (revert done, or injection returned). */
  injectedAt: number | null;
  endedAt: number | null;
  /** ms from injection to the first failed probe; null when no probe ever failed. */
  timeToDetectMs: number | null;
  /** ms from the end of the fault to the first round of the final streak of healthy rounds; null if it never held. */
  timeToRecoverMs: number | null;
  recovered: boolean;
  failedProbes: number;
  totalProbes: number;
  error?: string;
  journal: Journal;
}

export async function runExperiment(plan: ExperimentPlan): Promise<ExperimentResult> {
  const journal = new Journal(plan.name);
  const interval = plan.intervalMs ?? 200;
  const holdRounds = plan.holdRounds ?? 2;
  const result: ExperimentResult = {
    name: plan.name,
    steadyBefore: false,
    injected: false,
    injectedAt: null,
    endedAt: null,
    timeToDetectMs: null,
    timeToRecoverMs: null,
    recovered: false,
    failedProbes: 0,
    totalProbes: 0,
    journal,
  };
  const round = async (phase: Phase) => {
    const before = journal.entries.length;
    const ok = await probeAll(plan.probes, journal, phase, plan.signal);
    const fresh = journal.entries.slice(before);
    result.totalProbes += fresh.length;
    result.failedProbes += fresh.filter((e) => !e.ok).length;
    return { ok, at: fresh[0]?.t ?? journal.now() };
  };

  // Before: the hypothesis must hold, or the experiment would measure a system that was already broken.
  const steadyDeadline = journal.now() + (plan.steadyWithinMs ?? 10_000);
  while (!plan.signal.aborted) {
    if ((await round("before")).ok) {
      result.steadyBefore = true;
      break;
    }
    if (journal.now() > steadyDeadline) return result;
    await pause(interval, plan.signal);
  }
  if (!result.steadyBefore) return result;
  for (let i = 0; i < (plan.baselineRounds ?? 3) && !plan.signal.aborted; i++) {
    await pause(interval, plan.signal);
    await round("baseline");
  }

  if (plan.signal.aborted) return result;
  const injectedAt = journal.now();
  result.injectedAt = injectedAt;
  journal.record({
    phase: "during",
    kind: "action",
    name: "inject",
    ok: true,
    detail: `inject fault: ${plan.name}`,
  });
  const noteFailure = (r: { ok: boolean; at: number }) => {
    if (!r.ok && result.timeToDetectMs === null) result.timeToDetectMs = Math.round(r.at - injectedAt);
  };
  // Probes run while the injection itself is under way: a restart is an outage for as long as it takes.
  let settled = false;
  const injection = plan.inject().then(
    () => {
      result.injected = true;
      settled = true;
    },
    (error: unknown) => {
      result.error = `the fault could not be injected: ${error instanceof Error ? error.message : String(error)}`;
      settled = true;
    },
  );
  const holdUntil = injectedAt + plan.holdMs;
  while (!plan.signal.aborted && (!settled || journal.now() < holdUntil)) {
    noteFailure(await round(settled ? "during" : "injecting"));
    if (settled && result.error) break;
    const wait = pause(Math.min(interval, Math.max(0, holdUntil - journal.now())), plan.signal);
    await (settled ? wait : Promise.race([injection, wait]));
    if (settled && journal.now() >= holdUntil) break;
  }
  await injection;
  if (result.error) {
    journal.record({ phase: "during", kind: "action", name: "inject", ok: false, detail: result.error });
    if (plan.revert) await plan.revert();
    return result;
  }
  if (plan.revert) {
    await plan.revert();
    journal.record({ phase: "after", kind: "action", name: "revert", ok: true, detail: "fault removed" });
  }
  const endedAt = journal.now();
  result.endedAt = endedAt;
  if (plan.skipRecovery) return result;

  let streak = 0;
  let streakStart = 0;
  const deadline = endedAt + plan.recoverWithinMs;
  while (!plan.signal.aborted) {
    const r = await round("after");
    noteFailure(r);
    if (r.ok) {
      if (streak === 0) streakStart = r.at;
      streak += 1;
      if (streak >= holdRounds) {
        result.recovered = streakStart - endedAt <= plan.recoverWithinMs;
        result.timeToRecoverMs = Math.max(0, Math.round(streakStart - endedAt));
        break;
      }
    } else {
      streak = 0;
    }
    if (journal.now() > deadline && streak === 0) break;
    await pause(interval, plan.signal);
  }
  return result;
}

export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
