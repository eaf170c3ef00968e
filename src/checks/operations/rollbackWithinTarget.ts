// Does the rollback work, and within its time limit? `operations.rollback.command` is run for real, in a scratch copy
// of the repository (HEAD plus the working tree's uncommitted changes, so the script being edited is the one tested),
// with a minimal environment and its own process group, and timed against `timeout`. With `safe: true` it runs
// against the system itself, in the repository. The copy never stops a command from reaching beyond it (an absolute
// path, a remote API): only the repository and HOME are kept from it.
import path from "node:path";
import {
  type CheckContext,
  defineCheck,
  type FindingInput,
  type Measurement,
  notApplicable,
} from "../../core/types.js";
import { toPosix } from "../../engines/files/glob.js";
import { scriptOfCommand } from "../../engines/shell/commandScript.js";
import {
  DRILL_SHELL,
  DRILL_WIND_DOWN_MS,
  type DrillRun,
  drillEnvironment,
  inScratchCopy,
  type LeftoverSweep,
  runDrillCommand,
  type ScratchSummary,
  type SetupError,
  scratchSetupFix,
} from "../../engines/shell/scratchDrill.js";
import type { Spec } from "../../spec/schema.js";
import { formatDuration } from "../../spec/units.js";

const SHELL = DRILL_SHELL;
const WIND_DOWN_MS = DRILL_WIND_DOWN_MS;

export type RollbackRun = DrillRun;

export interface RollbackObservation {
  /** operations.rollback as the spec declares it, or null. */
  declared: { command: string; timeoutMs: number; safe: boolean } | null;
  /** The spec keys that say the system is deployed (principle 8: no rollback declared then is a FAIL). */
  deployedBy: string[];
  /** The script the command names, relative to the spec folder, when it names one. */
  script: string | null;
  mode: "scratch" | "system";
  /** Whether destructive checks were allowed (a run against the system needs it). */
  consent: boolean;
  scratch?: ScratchSummary;
  /** Why no scratch copy (or no run in it) could be made. */
  setupError?: SetupError;
  run?: RollbackRun;
  /** What the scratch run left running, ended after it. */
  leftovers?: LeftoverSweep;
  evidence: string;
}

export default defineCheck<RollbackObservation>({
  meta: {
    id: "rollbackWithinTarget",
    category: "operations",
    risk: "high",
    // Not destructive: by default it runs in a scratch copy; `safe: true` (against the system) needs consent and is
    // reported notRun without it, so the planner's all-or-nothing flag would wrongly hold back the scratch drill.
    destructive: false,
    title: "The rollback succeeds within its timeout",
    objective:
      "operations.rollback.command runs for real (in a scratch copy of the repository, or against the system when marked safe) and exits 0 within its timeout; a deployed system with no rollback fails. The copy keeps the repository and HOME out of its reach, not absolute paths or remote systems the command addresses.",
    remediation: {
      effort: "medium",
      text: "Make {{subject}} a command that returns the system to its previous release and finishes within its timeout: declare operations.rollback { command, timeout } if it is missing, run it by hand from a fresh clone (the finding quotes the end of its output), make it idempotent, and have it act on paths relative to its folder (or $RELEASE_DIR-style variables) rather than fixed absolute ones.",
    },
    messages: {
      withinTarget: "the rollback exited 0 within its timeout; its duration is measured",
      noRollback: "the system is deployed but declares no operations.rollback",
      failed: "the rollback exited non-zero or was ended by a signal",
      notRunnable: "the shell could not find or execute a command (exit 126 or 127)",
      overran: "the rollback took longer than its timeout and was ended",
      scratchUnavailable: "no scratch copy of the repository could be made to run the rollback in",
      shellMissing: "the shell could not be started",
      limitedByCheck: "the check's own time limit ended the rollback before its timeout did",
    },
    timeoutMs: 2 * 60 * 60_000 + WIND_DOWN_MS,
  },

  applies(spec) {
    // Principle 8: a deployed system without a rollback fails; only a system with nothing deployed is N/A.
    if (spec.operations?.rollback || deployedBy(spec).length > 0) return true;
    return notApplicable(
      "nothing is deployed (no deployment section, no service with control) and no operations.rollback",
    );
  },

  async observe(ctx) {
    const rollback = ctx.spec.operations?.rollback;
    const base: Omit<RollbackObservation, "evidence"> = {
      declared: rollback
        ? { command: rollback.command, timeoutMs: rollback.timeout, safe: rollback.safe }
        : null,
      deployedBy: deployedBy(ctx.spec),
      script: rollback ? scriptRelative(ctx, rollback.command) : null,
      mode: rollback?.safe ? "system" : "scratch",
      consent: ctx.allowDestructive,
    };
    if (!rollback || (rollback.safe && !ctx.allowDestructive)) {
      return { ...base, evidence: await ctx.evidence.writeJson("rollback.json", base) };
    }
    const observation = rollback.safe
      ? await runAgainstSystem(ctx, base, rollback.command, rollback.timeout)
      : await runInScratchCopy(ctx, base, rollback.command, rollback.timeout);
    return { ...observation, evidence: await ctx.evidence.writeJson("rollback.json", observation) };
  },

  judge(observation) {
    return [judgeRollback(observation)];
  },
});

/** What says this system is deployed somewhere, as spec keys. */
export function deployedBy(spec: Spec): string[] {
  const d = spec.deployment;
  const keys: string[] = [];
  if (d?.deploy) keys.push("deployment.deploy");
  for (const key of ["scripts", "compose", "kubernetes", "dockerfiles"] as const) {
    if (d?.[key]?.length) keys.push(`deployment.${key}`);
  }
  for (const [name, service] of Object.entries(spec.services)) {
    if (service.control) keys.push(`services.${name}.control`);
  }
  return keys;
}

function scriptRelative(ctx: CheckContext, command: string): string | null {
  const script = scriptOfCommand(command);
  return script ? toPosix(path.relative(ctx.specDir, path.resolve(ctx.specDir, script))) : null;
}

async function runInScratchCopy(
  ctx: CheckContext,
  base: Omit<RollbackObservation, "evidence">,
  command: string,
  timeoutMs: number,
): Promise<Omit<RollbackObservation, "evidence">> {
  const outcome = await inScratchCopy(
    ctx,
    { prefix: "rollback", what: "a rollback drill's scratch copy of the repository" },
    async (site) => {
      const run = await site.run(command, timeoutMs);
      const leftovers = await site.stopLeftovers();
      // Processes still there after it exited by itself (also those that left its group) are what it left running.
      if (!run.timedOut && leftovers.count > 0) run.leftRunning = true;
      return { run, leftovers };
    },
  );
  if ("setupError" in outcome) {
    return {
      ...base,
      ...(outcome.scratch ? { scratch: outcome.scratch } : {}),
      setupError: outcome.setupError,
    };
  }
  return { ...base, scratch: outcome.scratch, ...outcome.value };
}

async function runAgainstSystem(
  ctx: CheckContext,
  base: Omit<RollbackObservation, "evidence">,
  command: string,
  timeoutMs: number,
): Promise<Omit<RollbackObservation, "evidence">> {
  const home = ctx.env.HOME ?? process.env.HOME;
  // Against the system, what it leaves running may be the release it started: never ended by Gauntlet.
  const run = await runDrillCommand(ctx, command, timeoutMs, {
    cwd: ctx.specDir,
    shownCwd: ".",
    env: drillEnvironment(ctx, home ? { HOME: home } : {}),
  });
  return { ...base, run };
}

const SETUP_FALLBACK =
  "make the repository copyable (readable by git, uncommitted changes under 1 GiB), or mark the rollback `safe: true` to run it against the system";

function judgeRollback(o: RollbackObservation): FindingInput {
  const subject = "operations.rollback";
  const finding = (
    status: FindingInput["status"],
    messageId: string,
    message: string,
    extra: Partial<FindingInput> = {},
  ): FindingInput => ({
    status,
    messageId,
    subject,
    message,
    ...(o.script && (status === "FAIL" || status === "PASS") ? { location: { path: o.script } } : {}),
    evidence: [o.evidence, ...(o.run ? [o.run.stdout, o.run.stderr] : [])],
    ...extra,
    data: { subject, ...(o.declared ? { command: o.declared.command } : {}), ...extra.data },
  });
  if (!o.declared) {
    if (o.deployedBy.length === 0) {
      return { status: "NA", messageId: "notApplicable", subject, message: "nothing is deployed" };
    }
    return finding(
      "FAIL",
      "noRollback",
      `no rollback declared: the system is deployed (${o.deployedBy.join(", ")}) but operations.rollback is not set`,
      { data: { deployedBy: o.deployedBy } },
    );
  }
  const { command, timeoutMs } = o.declared;
  const target = formatDuration(timeoutMs);
  if (o.mode === "system" && !o.consent) {
    return finding(
      "UNVERIFIED",
      "notRun",
      `not run: operations.rollback is marked safe, so it runs against the system itself, and destructive checks are not allowed for this run`,
      {
        toVerify:
          "allow it to run against the system (`destructive: true` in the spec or --allow-destructive), or drop `safe: true` to drill it in a scratch copy of the repository",
      },
    );
  }
  if (o.setupError) {
    return finding("UNVERIFIED", "scratchUnavailable", `the rollback was not run: ${o.setupError.message}`, {
      data: { reason: o.setupError.code },
      toVerify: scratchSetupFix(o.setupError.code, SETUP_FALLBACK),
    });
  }
  const run = o.run!;
  const measurements: Measurement[] = [
    { name: "rollback.duration", value: run.durationMs, unit: "ms", evidence: o.evidence },
    { name: "rollback.timeout", value: timeoutMs, unit: "ms", evidence: o.evidence },
  ];
  const took = formatDuration(run.durationMs);
  const lastLines = run.stderrTail.length > 0 ? run.stderrTail : run.stdoutTail;
  const outputTail = lastLines.join("\n");
  const quoted = lastLines.length > 0 ? `: ${lastLines.slice(-3).join(" | ")}` : " (no output)";
  const data = {
    duration: took,
    timeout: target,
    exitCode: run.exitCode,
    tail: outputTail,
    stdoutTail: run.stdoutTail.join("\n"),
    stderrTail: run.stderrTail.join("\n"),
  };
  if (run.spawnError) {
    return finding(
      "UNVERIFIED",
      "shellMissing",
      `the rollback was not run: ${SHELL} could not start (${run.spawnError.code})`,
      {
        toVerify: `make ${SHELL} available to Gauntlet`,
        data,
      },
    );
  }
  if (run.timedOut && run.limitedByCheck) {
    return finding(
      "UNVERIFIED",
      "limitedByCheck",
      `the rollback ran ${took} and was ended by the check's own time limit (${formatDuration(run.limitMs)}), before its timeout of ${target}`,
      {
        toVerify: "give the rollback a timeout under 2 h, or run it by hand and time it",
        measurements,
        data,
      },
    );
  }
  if (run.timedOut) {
    return finding(
      "FAIL",
      "overran",
      `the rollback took longer than its timeout (${target}) and was ended (${command})${quoted}`,
      { measurements, data },
    );
  }
  if (run.exitCode === 126 || run.exitCode === 127) {
    const said = run.stderrTail.at(-1) ?? `exit ${run.exitCode}`;
    return finding(
      "FAIL",
      "notRunnable",
      `the rollback could not run: the shell said "${said}" (exit ${run.exitCode}: ${run.exitCode === 127 ? "a command was not found" : "a file is not executable"})`,
      { measurements, data },
    );
  }
  if (run.exitCode !== 0) {
    const how = run.exitCode === null ? `was ended by ${run.signal}` : `exited with ${run.exitCode}`;
    return finding("FAIL", "failed", `the rollback ${how} after ${took}${quoted}`, { measurements, data });
  }
  const where =
    o.mode === "system" ? "against the system" : `in a scratch copy (${o.scratch?.method ?? "copy"})`;
  const left = run.leftRunning ? "; it left processes running in its process group" : "";
  return finding(
    "PASS",
    "withinTarget",
    `the rollback succeeded ${where} in ${took} (timeout ${target})${left}`,
    {
      measurements,
      data,
    },
  );
}
