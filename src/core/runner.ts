// Runs a plan: non-destructive checks concurrently, destructive ones one at a time and last. Each check gets a
// timeout, an abort signal linked to the run's, and a rollback scope that is always closed. A check that throws
// becomes ERROR for that check alone; one that overruns its timeout or is cancelled becomes UNVERIFIED.

import type { TargetLookup } from "../engines/faults/targets/target.js";
import type { Redactor } from "../secrets/redactor.js";
import type { Spec } from "../spec/schema.js";
import { formatDuration } from "../spec/units.js";
import type { CheckResult } from "./assessment.js";
import { createCheckContext } from "./context.js";
import type { EvidenceStore } from "./evidence.js";
import type { PlanEntry } from "./planner.js";
import type { RollbackLedger } from "./rollbacks.js";
import { createRunShared } from "./shared.js";
import { worstStatus } from "./status.js";
import {
  type Check,
  type Clock,
  CORE_MESSAGES,
  type Finding,
  type FindingInput,
  type RunShared,
  STATUSES,
  type Status,
} from "./types.js";

export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_DESTRUCTIVE_TIMEOUT_MS = 15 * 60_000;

export type RunEvent =
  | { type: "start"; checkId: string; title: string; destructive: boolean }
  | { type: "end"; result: CheckResult }
  | { type: "log"; level: "debug" | "info" | "warn"; checkId: string; message: string };

export interface RunOptions {
  plan: PlanEntry[];
  spec: Spec;
  specPath: string;
  evidence: EvidenceStore;
  ledger: RollbackLedger;
  env?: NodeJS.ProcessEnv;
  allowDestructive: boolean;
  /** Aborts every running check (Ctrl-C, SIGTERM); checks not yet started are reported UNVERIFIED. */
  signal?: AbortSignal;
  concurrency?: number;
  clock?: Clock;
  targets?: TargetLookup;
  /** How long an aborted check may take to wind down before its rollbacks run (default ABORT_GRACE_MS). */
  abortGraceMs?: number;
  onEvent?: (event: RunEvent) => void;
}

/** How long an aborted check may take to wind down (its own cleanup) before its rollbacks are run for it. */
export const ABORT_GRACE_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

class CheckTimeout extends Error {}
class RunCancelled extends Error {}

export async function runPlan(options: RunOptions): Promise<CheckResult[]> {
  const results = new Map<string, CheckResult>();
  const emit = options.onEvent ?? (() => {});
  const secrets = options.evidence.secrets;
  const shared = createRunShared();

  for (const entry of options.plan) {
    if (entry.action === "run") continue;
    const status: Status = entry.action === "na" ? "NA" : entry.action === "error" ? "ERROR" : "UNVERIFIED";
    const messageId =
      entry.action === "na" ? "notApplicable" : entry.action === "error" ? "internalError" : "notRun";
    const only = finding(entry.check, status, messageId, entry.reason, secrets);
    if (entry.action === "excluded") only.toVerify = entry.toVerify;
    const result = resultOf(entry.check, status, 0, [only], secrets, entry.reason);
    results.set(entry.check.meta.id, result);
    emit({ type: "end", result });
  }

  const runnable = options.plan.filter((e) => e.action === "run");
  const safe = runnable.filter((e) => !e.check.meta.destructive);
  const destructive = runnable.filter((e) => e.check.meta.destructive);

  const runOne = async (check: Check) => {
    emit({
      type: "start",
      checkId: check.meta.id,
      title: check.meta.title,
      destructive: check.meta.destructive,
    });
    const result = await runCheck(check, options, shared);
    results.set(check.meta.id, result);
    emit({ type: "end", result });
  };

  const queue = safe.map((e) => e.check);
  const workers = Array.from(
    { length: Math.max(1, Math.min(options.concurrency ?? 4, queue.length)) },
    async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await runOne(next);
    },
  );
  await Promise.all(workers);
  for (const entry of destructive) await runOne(entry.check);

  // Keep the plan's order (non-destructive, then destructive) in the results.
  return options.plan.map((e) => results.get(e.check.meta.id)!);
}

async function runCheck(check: Check, options: RunOptions, shared: RunShared): Promise<CheckResult> {
  const clock = options.clock ?? { now: () => Date.now() };
  const secrets = options.evidence.secrets;
  const started = performance.now();
  const timeoutMs =
    check.meta.timeoutMs ?? (check.meta.destructive ? DEFAULT_DESTRUCTIVE_TIMEOUT_MS : DEFAULT_TIMEOUT_MS);
  const elapsed = () => Math.round(performance.now() - started);

  if (options.signal?.aborted) {
    const reason = "not run: the assessment was cancelled before this check started";
    return resultOf(
      check,
      "UNVERIFIED",
      0,
      [finding(check, "UNVERIFIED", "cancelled", reason, secrets)],
      secrets,
      reason,
    );
  }

  const controller = new AbortController();
  const onRunAbort = () => controller.abort(new RunCancelled("the assessment was cancelled"));
  options.signal?.addEventListener("abort", onRunAbort, { once: true });
  const scope = options.ledger.open(check.meta.id);
  let timer: NodeJS.Timeout | undefined;

  let findings: Finding[];
  let reason: string | undefined;
  let running: Promise<FindingInput[]> | undefined;
  let partial: { observation: unknown } | undefined;
  try {
    const ctx = createCheckContext({
      spec: options.spec,
      specPath: options.specPath,
      checkId: check.meta.id,
      evidence: options.evidence,
      rollbacks: scope,
      signal: controller.signal,
      env: options.env ?? process.env,
      allowDestructive: options.allowDestructive,
      clock,
      ...(options.targets ? { targets: options.targets } : {}),
      secrets,
      shared,
      deadline: Date.now() + timeoutMs,
      onPartial: (observation) => {
        partial = { observation };
      },
      onLog: (level, checkId, message) => options.onEvent?.({ type: "log", level, checkId, message }),
    });
    // Racing the abort means a check that ignores its signal still cannot hold the run past its timeout.
    const aborted = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => controller.abort(new CheckTimeout(`timed out after ${formatDuration(timeoutMs)}`)),
        timeoutMs,
      );
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    });
    running = check.run(ctx);
    running.catch(() => {}); // once abandoned after a timeout, its late failure must not crash the run
    const raw = await Promise.race([running, aborted]);
    findings = normalise(check, raw, options.evidence);
  } catch (error) {
    if (error instanceof CheckTimeout || error instanceof RunCancelled) {
      reason = error.message;
      const timedOut = error instanceof CheckTimeout;
      const stop = finding(
        check,
        "UNVERIFIED",
        timedOut ? "timedOut" : "cancelled",
        `${check.meta.title}: ${reason}`,
        secrets,
      );
      stop.toVerify = timedOut
        ? "make the probe answer within the check's time limit, or find why it hangs"
        : "run the assessment to the end";
      // Findings already made are not lost with the check: what it kept is judged, and the stop is said beside them.
      findings = [...judgePartial(check, partial, options), stop];
    } else {
      reason = `check failed with an internal error: ${error instanceof Error ? error.message : String(error)}`;
      findings = [finding(check, "ERROR", "internalError", reason, secrets)];
      if (error instanceof Error && error.stack) {
        await options.evidence
          .writerFor(check.meta.id)
          .write("error.txt", error.stack)
          .then((file) => {
            findings[0]!.evidence = [file];
          })
          .catch(() => {});
      }
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onRunAbort);
  }

  if (controller.signal.aborted && running) {
    // Give a check that honours its signal a moment to finish undoing what it did before its scope is closed.
    await Promise.race([running.catch(() => {}), sleep(options.abortGraceMs ?? ABORT_GRACE_MS)]);
  }
  const failures = await options.ledger.close(scope);
  options.evidence.close(check.meta.id);
  for (const failure of failures) {
    // A rollback that failed leaves the system altered: that is worth an ERROR of its own.
    findings.push(
      finding(
        check,
        "ERROR",
        "rollbackFailed",
        `rollback "${failure.name}" failed: ${failure.error}`,
        secrets,
      ),
    );
  }
  return resultOf(check, worstStatus(findings.map((f) => f.status)), elapsed(), findings, secrets, reason);
}

function judgePartial(
  check: Check,
  partial: { observation: unknown } | undefined,
  options: RunOptions,
): Finding[] {
  if (!partial) return [];
  try {
    const judged = check.judge(partial.observation, options.spec);
    return judged.length > 0 ? normalise(check, judged, options.evidence) : [];
  } catch {
    return []; // a partial observation the judge cannot read proves nothing: the stop finding stands alone
  }
}

/**
 * Principle 1, enforced for every check: a finding may cite only evidence written in this run, and a verdict (PASS,
 * WARN, FAIL) must cite some. A check that breaks this is reported as ERROR, not believed.
 */
function normalise(check: Check, raw: unknown, evidence: EvidenceStore): Finding[] {
  const secrets = evidence.secrets;
  const bug = (message: string) => finding(check, "ERROR", "internalError", message, secrets);
  if (!Array.isArray(raw) || raw.length === 0) {
    return [bug("the check returned no findings (a bug in the check)")];
  }
  return raw.map((input: FindingInput) => {
    if (!STATUSES.includes(input?.status)) {
      return bug(`the check returned an invalid status ${JSON.stringify(input?.status)}`);
    }
    if (
      typeof input.messageId !== "string" ||
      (!Object.hasOwn(check.meta.messages, input.messageId) && !Object.hasOwn(CORE_MESSAGES, input.messageId))
    ) {
      return bug(
        `the check returned messageId ${JSON.stringify(input.messageId)}, which its meta does not declare (a bug)`,
      );
    }
    const cited = [...(input.evidence ?? []), ...(input.measurements ?? []).flatMap((m) => m.evidence ?? [])];
    const unknown = cited.filter((file) => !evidence.has(file));
    if (unknown.length > 0) {
      return bug(`the check cited evidence it never wrote: ${unknown.join(", ")} (a bug in the check)`);
    }
    if (
      cited.length === 0 &&
      (input.status === "PASS" || input.status === "WARN" || input.status === "FAIL")
    ) {
      return bug(`a ${input.status} finding without evidence: "${input.message}" (a bug in the check)`);
    }
    return secrets.redactValue({ ...input, checkId: check.meta.id }, FINDING_KEYS_KEPT);
  });
}

// A secret that happens to equal a status or an id must not rewrite them (a FAIL turned into "[REDACTED]").
const FINDING_KEYS_KEPT: ReadonlySet<string> = new Set(["status", "checkId", "messageId"]);

function finding(
  check: Check,
  status: Status,
  messageId: string,
  message: string,
  secrets: Redactor,
): Finding {
  return { checkId: check.meta.id, status, messageId, message: secrets.redact(message) };
}

function resultOf(
  check: Check,
  status: Status,
  durationMs: number,
  findings: Finding[],
  secrets: Redactor,
  reason?: string,
): CheckResult {
  const { meta } = check;
  return {
    checkId: meta.id,
    title: meta.title,
    objective: meta.objective,
    category: meta.category,
    risk: meta.risk,
    destructive: meta.destructive,
    status,
    ...(reason !== undefined ? { reason: secrets.redact(reason) } : {}),
    durationMs,
    findings,
    remediation: meta.remediation,
  };
}
