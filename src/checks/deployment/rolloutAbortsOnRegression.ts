// Does the rollout stop a bad canary? rollout.rehearsal makes the canary bad on purpose (its `command`, undone by
// `undo`, or added latency through the canary's fault proxy, resilience.proxies.<canary>), then the rollout's first
// step runs for real: shift, bake under load, judge. It must abort at that step, on its first analysis, and its
// rollback must be confirmed (the entry serves no canary answer). A shift back to 0 % is registered as a rollback from
// the start, so the canary never keeps traffic, whatever ends the check.
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { registerToxic } from "../../engines/experiments/fault.js";
import { proxyTraffic, remoteToxics } from "../../engines/faults/proxy/proxyClient.js";
import type { RolloutContext } from "../../engines/rollout/context.js";
import { planRollout, type RolloutPlan } from "../../engines/rollout/plan.js";
import type { RolloutResult } from "../../engines/rollout/rollout.js";
import { runShift, shiftCommandFor, shiftFailure } from "../../engines/rollout/shiftCommand.js";
import { drillEnvironment, runDrillCommand } from "../../engines/shell/scratchDrill.js";
import type { Spec } from "../../spec/schema.js";
import { formatDuration } from "../../spec/units.js";

const TOXIC_NAME = "gauntlet-rollout-rehearsal";
const REHEARSAL_TIMEOUT_MS = 120_000;

export type RehearsalObservation =
  | { kind: "noRehearsal"; canary: string }
  | { kind: "noProxy"; canary: string; latencyMs: number }
  | { kind: "planError"; message: string }
  | { kind: "rehearsalFailed"; how: "command" | "latency"; message: string; evidence: string[] }
  | {
      kind: "ran";
      how: "command" | "latency";
      /** What was done to the canary, in words. */
      regression: string;
      firstStep: number;
      outcome: RolloutResult["outcome"];
      /** Verdict of the first step and of each of its analyses, in order. */
      stepVerdict: string | null;
      analyses: { verdict: string; reasons: string[] }[];
      stopped: RolloutResult["stopped"] | null;
      rollback: {
        shiftOk: boolean;
        shiftFailure?: string;
        confirmation: string;
        message: string;
        fix?: string;
      } | null;
      /** Latency rehearsal: bytes through the canary's proxy before and after the step (null: unreadable). */
      proxyTraffic?: { before: number | null; after: number | null };
      error?: string;
      evidence: string[];
    };

export default defineCheck<RehearsalObservation>({
  meta: {
    id: "rolloutAbortsOnRegression",
    category: "deployment",
    risk: "high",
    destructive: true,
    title: "The rollout aborts a bad canary",
    objective:
      "With the canary made bad on purpose (rollout.rehearsal), the rollout's first step aborts on its first analysis and the rollback to 0 % is confirmed at the entry.",
    remediation: {
      effort: "medium",
      text: "Make the rollout see and stop a regression ({{problem}}): set rollout.rollbackOn to conditions the regression breaks (e.g. p(99)>300ms, errors>1%), keep analysis.minSamples within what one bake gives (sampleRate × interval), have the shift command really move traffic, and let the entry tell a canary's answer (rollout.identify) so the rollback can be confirmed.",
    },
    messages: {
      aborted: "the rollout aborted at its first step on the first analysis and the rollback was confirmed",
      noRehearsal:
        "rollout.rehearsal is not set: nothing makes the canary bad to see whether the rollout stops it",
      noProxy: "the rehearsal adds latency but no fault proxy is declared for the canary",
      planError: "the rollout section cannot be run as written",
      rehearsalFailed: "the rehearsal could not make the canary bad",
      proxyUnused: "no traffic went through the canary's fault proxy: the added latency reached nobody",
      notDetected: "the first analysis passed the bad canary",
      inconclusive: "the first step stayed inconclusive: too few samples to judge",
      shiftFailed: "the shift to the first step failed",
      rollbackFailed: "the rollback command failed",
      rollbackUnconfirmed: "the rollback ran but the entry could not be shown to serve no canary answer",
      interrupted: "the rehearsal was interrupted or failed before it could be judged",
    },
    timeoutMs: 30 * 60_000,
  },

  applies(spec) {
    return spec.rollout ? true : notApplicable("no rollout section: nothing is rolled out progressively");
  },

  async observe(ctx) {
    const rollout = ctx.spec.rollout!;
    const rehearsal = rollout.rehearsal;
    if (!rehearsal) return { kind: "noRehearsal", canary: rollout.canary };
    const how = rehearsal.command !== undefined ? "command" : "latency";
    const proxySpec = ctx.spec.resilience?.proxies?.[rollout.canary];
    if (how === "latency" && !proxySpec) {
      return { kind: "noProxy", canary: rollout.canary, latencyMs: rehearsal.latency! };
    }
    let plan: RolloutPlan;
    try {
      plan = planRollout(ctx.spec, [rollout.steps[0]!]);
    } catch (error) {
      return { kind: "planError", message: error instanceof Error ? error.message : String(error) };
    }
    const rctx: RolloutContext = {
      specDir: ctx.specDir,
      env: ctx.env,
      secrets: ctx.secrets,
      evidence: ctx.evidence,
      log: (line) => ctx.log.info(line),
    };
    // From the start: whatever ends the check, the canary loses its traffic (idempotent after the rollout's own).
    ctx.rollbacks.add("shift the canary back to 0 %", async () => {
      const run = plan.rollback
        ? await runShift(rctx, plan.rollback, 0, "rollback", plan.timeoutMs, "final-rollback")
        : await runShift(rctx, shiftCommandFor(plan.shift, 0), 0, "shift", plan.timeoutMs, "final-shift-0");
      if (!run.ok) throw new Error(shiftFailure(run));
    });
    const made = await makeCanaryBad(ctx, rehearsal, rollout.canary, proxySpec);
    if ("failed" in made) {
      return { kind: "rehearsalFailed", how, message: made.failed, evidence: made.evidence };
    }
    // Loaded here, not at the top: the registry (every command) must load even when the rollout engine cannot.
    const { runRollout } = await import("../../engines/rollout/rollout.js");
    const result = await runRollout(rctx, plan, ctx.signal);
    const after = made.traffic ? await made.traffic() : undefined;
    const evidence = [...made.evidence, await ctx.evidence.writeJson("rollout.json", result)];
    const step = result.steps[0];
    return {
      kind: "ran",
      how,
      regression: made.regression,
      firstStep: plan.steps[0]!,
      outcome: result.outcome,
      stepVerdict: step?.verdict ?? null,
      analyses: (step?.analyses ?? []).map((a) => ({ verdict: a.verdict, reasons: a.reasons })),
      stopped: result.stopped ?? null,
      rollback: result.rollback
        ? {
            shiftOk: result.rollback.run.ok,
            ...(result.rollback.run.ok ? {} : { shiftFailure: shiftFailure(result.rollback.run) }),
            confirmation: result.rollback.confirmation.status,
            message: result.rollback.confirmation.message,
            ...(result.rollback.confirmation.fix ? { fix: result.rollback.confirmation.fix } : {}),
          }
        : null,
      ...(made.traffic ? { proxyTraffic: { before: made.trafficBefore ?? null, after: after ?? null } } : {}),
      ...(result.error ? { error: result.error } : {}),
      evidence,
    };
  },

  judge(observation, spec) {
    return [judgeRehearsal(observation, spec)];
  },
});

type Made =
  | { failed: string; evidence: string[] }
  | {
      regression: string;
      evidence: string[];
      trafficBefore?: number | null;
      traffic?: () => Promise<number | null>;
    };

/** Applies the rehearsal, its undo registered first; says how it failed rather than throwing. */
async function makeCanaryBad(
  ctx: CheckContext,
  rehearsal: NonNullable<NonNullable<Spec["rollout"]>["rehearsal"]>,
  canary: string,
  proxySpec: { api: string; token?: string | undefined } | undefined,
): Promise<Made> {
  if (rehearsal.command !== undefined) {
    const env = drillEnvironment(ctx, ctx.env.HOME ? { HOME: ctx.env.HOME } : {});
    const run = (command: string, prefix: string) =>
      runDrillCommand(ctx, command, REHEARSAL_TIMEOUT_MS, {
        cwd: ctx.specDir,
        shownCwd: ".",
        env,
        evidencePrefix: prefix,
      });
    ctx.rollbacks.add("undo the rollout rehearsal", async () => {
      const undone = await run(rehearsal.undo!, "rehearsal-undo-");
      if (undone.exitCode !== 0) {
        throw new Error(
          `rollout.rehearsal.undo exited with ${undone.exitCode ?? undone.signal}: ${undone.stderrTail.slice(-2).join(" | ")}`,
        );
      }
    });
    const made = await run(rehearsal.command, "rehearsal-");
    const evidence = [made.stdout, made.stderr];
    if (made.exitCode !== 0 || made.timedOut) {
      const said = (made.stderrTail.length > 0 ? made.stderrTail : made.stdoutTail).slice(-2).join(" | ");
      return {
        failed: `rollout.rehearsal.command ${made.timedOut ? "timed out" : `exited with ${made.exitCode ?? made.signal}`}${said ? `: ${said}` : ""}`,
        evidence,
      };
    }
    return { regression: `rollout.rehearsal.command (${ctx.secrets.redact(rehearsal.command)})`, evidence };
  }
  const latency = rehearsal.latency!;
  const proxy = remoteToxics(proxySpec!.api, proxySpec!.token, `resilience.proxies.${canary}.token`);
  const fault = registerToxic(ctx.rollbacks, ctx.signal, proxy, [
    { name: TOXIC_NAME, type: "latency", stream: "downstream", attributes: { latency } },
  ]);
  const trafficBefore = await proxyTraffic(proxy);
  try {
    await fault.inject();
  } catch (error) {
    return {
      failed: `adding ${formatDuration(latency)} at ${proxy.where} failed: ${error instanceof Error ? error.message : String(error)}`,
      evidence: [],
    };
  }
  return {
    regression: `+${formatDuration(latency)} at ${proxy.where}`,
    evidence: [],
    trafficBefore,
    traffic: () => proxyTraffic(proxy),
  };
}

export function judgeRehearsal(o: RehearsalObservation, spec: Spec): FindingInput {
  const subject = spec.rollout?.canary ?? "rollout";
  const unverified = (
    messageId: string,
    message: string,
    toVerify: string,
    extra: Partial<FindingInput> = {},
  ) => ({
    status: "UNVERIFIED" as const,
    messageId,
    subject,
    message,
    toVerify,
    data: { subject },
    ...extra,
  });
  if (o.kind === "noRehearsal") {
    return unverified(
      "noRehearsal",
      "not rehearsed: rollout.rehearsal is not set, so nothing shows the rollout would stop a bad canary",
      `add rollout.rehearsal { command: <makes ${o.canary} bad, e.g. slower or failing>, undo: <makes it healthy again> }, or rollout.rehearsal.latency (e.g. 500ms) with a fault proxy in front of ${o.canary} in resilience.proxies.${o.canary}`,
    );
  }
  if (o.kind === "noProxy") {
    return unverified(
      "noProxy",
      `not rehearsed: rollout.rehearsal.latency adds ${formatDuration(o.latencyMs)} through the canary's fault proxy, but resilience.proxies.${o.canary} is not declared`,
      `route ${o.canary}'s traffic through \`gauntlet proxy\` and name its control API in resilience.proxies.${o.canary}.api, or use rollout.rehearsal.command with undo`,
    );
  }
  if (o.kind === "planError") {
    return unverified(
      "planError",
      `not rehearsed: ${o.message}`,
      "fix the rollout section as the message says",
    );
  }
  if (o.kind === "rehearsalFailed") {
    return unverified(
      "rehearsalFailed",
      `not rehearsed: ${o.message}`,
      "make rollout.rehearsal work when run by hand from the spec's folder",
      {
        evidence: o.evidence,
      },
    );
  }
  const step = `step 1 (${o.firstStep} %)`;
  const evidence = o.evidence;
  const data = { subject, outcome: o.outcome, regression: o.regression, analyses: o.analyses };
  const finding = (
    status: FindingInput["status"],
    messageId: string,
    message: string,
    problem: string,
    toVerify?: string,
  ): FindingInput => ({
    status,
    messageId,
    subject,
    message,
    evidence,
    data: { ...data, problem },
    ...(toVerify ? { toVerify } : {}),
  });
  if (
    o.proxyTraffic &&
    !(
      o.proxyTraffic.after !== null &&
      o.proxyTraffic.before !== null &&
      o.proxyTraffic.after > o.proxyTraffic.before
    )
  ) {
    return finding(
      "UNVERIFIED",
      "proxyUnused",
      `not rehearsed: no traffic went through the canary's fault proxy during ${step} (bytes ${o.proxyTraffic.before ?? "?"} → ${o.proxyTraffic.after ?? "?"}), so the added latency reached nobody`,
      "the rehearsal never reached the canary",
      `point services.${subject}.url and the splitter's canary at the proxy's listen address, so the canary's traffic passes through it`,
    );
  }
  if (o.outcome === "interrupted" || o.outcome === "error") {
    return finding(
      "UNVERIFIED",
      "interrupted",
      `not judged: the rehearsal's rollout ${o.outcome === "error" ? `failed (${o.error ?? "error"})` : "was interrupted"}`,
      "the rehearsal did not finish",
      "run the check again without interrupting it",
    );
  }
  if (o.outcome === "inconclusive") {
    const why = o.stopped?.reasons.join("; ") ?? "too few samples";
    return finding(
      "UNVERIFIED",
      "inconclusive",
      `${step} with ${o.regression} stayed inconclusive: ${why}`,
      "the analysis had too few samples",
      "raise rollout.analysis.sampleRate or the bake (or interval), or lower analysis.minSamples to what one analysis gives",
    );
  }
  if (o.stepVerdict === "SHIFT_FAILED") {
    return finding(
      "FAIL",
      "shiftFailed",
      `the rollout could not start: ${o.stopped?.message ?? "the shift failed"}`,
      "the shift command failed",
    );
  }
  const first = o.analyses[0];
  if (o.outcome === "completed" || !first || first.verdict !== "FAIL") {
    const said = first ? `${first.verdict}: ${first.reasons.join("; ")}` : "no analysis";
    return finding(
      "FAIL",
      "notDetected",
      `the rollout did not stop the bad canary (${o.regression}) at its first analysis of ${step}: ${said}`,
      "the canary analysis did not see the regression",
    );
  }
  const rb = o.rollback;
  if (!rb?.shiftOk) {
    return finding(
      "FAIL",
      "rollbackFailed",
      `the rollout aborted at ${step} (${first.reasons.join("; ")}) but its rollback failed: ${rb?.shiftFailure ?? "it did not run"}`,
      "the rollback command failed",
    );
  }
  if (rb.confirmation !== "confirmed") {
    return finding(
      "FAIL",
      "rollbackUnconfirmed",
      `the rollout aborted at ${step} (${first.reasons.join("; ")}) but ${rb.message}`,
      "the rollback could not be confirmed",
      rb.fix,
    );
  }
  return finding(
    "PASS",
    "aborted",
    `the rollout aborted the bad canary (${o.regression}) at ${step} on its first analysis (${first.reasons.join("; ")}); ${rb.message}`,
    "none",
  );
}
