// Can the system be deployed, and deployed again over itself? `deployment.deploy.command` runs for real, twice, in the
// SAME scratch copy of the repository (never the working tree; see src/engines/shell/scratchDrill.ts): the first run
// deploys onto a fresh checkout, the second onto what the first left — files, links and the processes it started,
// which keep running through it. Both must exit 0 within `timeout`. Afterwards whatever the runs left running is
// ended (their process groups and every process working inside the copy); containers started through a daemon
// (`docker compose up -d`) and remote systems the command reaches are outside the copy and are not stopped.
import { readFile } from "node:fs/promises";
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
  inScratchCopy,
  type LeftoverSweep,
  type ScratchSummary,
  type SetupError,
  scratchSetupFix,
} from "../../engines/shell/scratchDrill.js";
import type { Spec } from "../../spec/schema.js";
import { formatDuration } from "../../spec/units.js";

const RUNS = 2;
/** Programs that act outside the copy: what they start or change is not ended with the copy's processes. */
const OUTSIDE_TOOLS =
  /(?:^|[\s;&|(`$/])(docker-compose|docker|podman-compose|podman|nerdctl|kubectl|helm|systemctl|ssh)(?=\s|$|;|\))/gm;

export interface DeployObservation {
  /** deployment.deploy as the spec declares it, or null. */
  declared: { command: string; timeoutMs: number } | null;
  /** Spec keys that say there is something to deploy (principle 8: with no deploy command, UNVERIFIED). */
  deployables: string[];
  /** The script the command names, relative to the spec folder, when it names one. */
  script: string | null;
  /** Programs the command or its script calls that act outside the copy (docker, kubectl, ssh, …). */
  outsideTools: string[];
  scratch?: ScratchSummary;
  setupError?: SetupError;
  /** The runs made, in order: the second only after the first succeeded. */
  runs: DrillRun[];
  /** What the runs left running, ended after the last one. */
  leftovers?: LeftoverSweep;
  evidence: string;
}

export default defineCheck<DeployObservation>({
  meta: {
    id: "deploymentRepeatable",
    category: "deployment",
    risk: "high",
    // It runs the user's deploy for real: in a scratch copy, but it may start services, bind ports or call a daemon.
    destructive: true,
    title: "The deploy succeeds twice in a row, within its timeout",
    objective:
      "deployment.deploy.command runs for real, twice in the same scratch copy of the repository (never the working tree), and exits 0 both times within its timeout: the deploy works from a fresh checkout and is repeatable over itself. What it left running is stopped afterwards.",
    remediation: {
      effort: "medium",
      text: "Make {{subject}} a deploy that can run again over its own result: declare deployment.deploy { command, timeout } if it is missing, create folders with `mkdir -p`, replace links with `ln -sfn`, skip steps already done, start services only when they are not running, and act on paths relative to its folder (or $RELEASE_DIR-style variables) rather than fixed absolute ones. Run it twice by hand from a fresh clone: the finding quotes the end of the failing run's output.",
    },
    messages: {
      repeatable:
        "the deploy exited 0 twice in the same copy, each within its timeout; both durations are measured",
      noDeployCommand: "the system has deployment files or scripts but no deployment.deploy.command to drill",
      failed: "the first deploy, onto a fresh copy, exited non-zero or was ended by a signal",
      notRepeatable: "the first deploy succeeded and the second, over it, failed",
      notRunnable: "the shell could not find or execute the deploy's command (exit 126 or 127)",
      overran: "a deploy run took longer than its timeout and was ended",
      scratchUnavailable: "no scratch copy of the repository could be made to run the deploy in",
      shellMissing: "the shell could not be started",
      limitedByCheck: "the check's own time limit ended a deploy run before its timeout did",
    },
    // Two runs of up to an hour each, then the removal of the copy.
    timeoutMs: RUNS * 60 * 60_000 + DRILL_WIND_DOWN_MS,
  },

  applies(spec) {
    if (spec.deployment?.deploy || deployables(spec).length > 0) return true;
    // Principle 8: deploy scripts, manifests or images say the system is deployed by something (then UNVERIFIED
    // "no deploy command to drill"); only a system with nothing of the kind has nothing to drill.
    return notApplicable(
      "nothing to deploy: no deployment.deploy, scripts, compose, kubernetes or dockerfiles, and no service run as a container or Kubernetes workload",
    );
  },

  async observe(ctx) {
    const deploy = ctx.spec.deployment?.deploy;
    const base: Omit<DeployObservation, "evidence"> = {
      declared: deploy ? { command: deploy.command, timeoutMs: deploy.timeout } : null,
      deployables: deployables(ctx.spec),
      script: deploy ? scriptRelative(ctx, deploy.command) : null,
      outsideTools: [],
      runs: [],
    };
    if (!deploy) return { ...base, evidence: await ctx.evidence.writeJson("deploy.json", base) };
    const outcome = await inScratchCopy(
      ctx,
      { prefix: "deploy", what: "a deploy drill's scratch copy of the repository" },
      async (site) => {
        // Read from the copy before running: the deploy may move or delete its own script.
        const scriptText = base.script
          ? await readFile(path.join(site.cwd, base.script), "utf8").catch(() => "")
          : "";
        const outsideTools = toolsNamed(`${deploy.command}\n${scriptText}`);
        const runs: DrillRun[] = [];
        let leftovers: LeftoverSweep;
        try {
          for (let i = 1; i <= RUNS; i++) {
            const run = await site.run(deploy.command, deploy.timeout, {
              evidencePrefix: `run${i}.`,
              runsLeft: RUNS - i + 1,
            });
            runs.push(run);
            ctx.log.info(
              `deploy run ${i}: ${run.timedOut ? "overran" : `exit ${run.exitCode ?? run.signal}`} in ${formatDuration(run.durationMs)}`,
            );
            if (run.timedOut || run.exitCode !== 0) break;
          }
        } finally {
          // Services the deploy started are stopped once both runs are done (or one failed, or the check ends).
          leftovers = await site.stopLeftovers();
        }
        return { outsideTools, runs, leftovers };
      },
    );
    const observation: Omit<DeployObservation, "evidence"> =
      "setupError" in outcome
        ? {
            ...base,
            ...(outcome.scratch ? { scratch: outcome.scratch } : {}),
            setupError: outcome.setupError,
          }
        : { ...base, scratch: outcome.scratch, ...outcome.value };
    return { ...observation, evidence: await ctx.evidence.writeJson("deploy.json", observation) };
  },

  judge(observation) {
    return [judgeDeploy(observation)];
  },
});

/** What says there is something to deploy, as spec keys. */
export function deployables(spec: Spec): string[] {
  const d = spec.deployment;
  const keys: string[] = [];
  for (const key of ["scripts", "compose", "kubernetes", "dockerfiles"] as const) {
    if (d?.[key]?.length) keys.push(`deployment.${key}`);
  }
  // A supervised process (control.process) is started by Gauntlet from the spec itself; a container or a workload
  // is deployed by something outside it.
  for (const [name, service] of Object.entries(spec.services)) {
    if (service.control?.container) keys.push(`services.${name}.control.container`);
    if (service.control?.kubernetes) keys.push(`services.${name}.control.kubernetes`);
  }
  return keys;
}

/** Programs in `text` (a command and its script) that act outside the copy, each once, in order of appearance. */
export function toolsNamed(text: string): string[] {
  const code = text
    .split("\n")
    .filter((line) => !/^\s*#/.test(line))
    .join("\n");
  return [...new Set([...code.matchAll(OUTSIDE_TOOLS)].map((m) => m[1]!))];
}

function scriptRelative(ctx: CheckContext, command: string): string | null {
  const script = scriptOfCommand(command);
  return script ? toPosix(path.relative(ctx.specDir, path.resolve(ctx.specDir, script))) : null;
}

const SETUP_FALLBACK =
  "make the repository copyable (readable by git, uncommitted changes under 1 GiB) so the deploy can be drilled in a copy";

function judgeDeploy(o: DeployObservation): FindingInput {
  const subject = "deployment.deploy";
  const evidence = [o.evidence, ...o.runs.flatMap((r) => [r.stdout, r.stderr])];
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
    evidence,
    ...extra,
    data: { subject, ...(o.declared ? { command: o.declared.command } : {}), ...extra.data },
  });
  if (!o.declared) {
    if (o.deployables.length === 0) {
      return { status: "NA", messageId: "notApplicable", subject, message: "nothing to deploy" };
    }
    return finding(
      "UNVERIFIED",
      "noDeployCommand",
      `no deployment.deploy.command to drill: the system is deployed (${o.deployables.join(", ")}) but the spec does not say how`,
      {
        data: { deployables: o.deployables },
        toVerify:
          "declare deployment.deploy { command, timeout } — the command that deploys the system from a checkout — so Gauntlet can run it twice in a scratch copy",
      },
    );
  }
  if (o.setupError) {
    return finding("UNVERIFIED", "scratchUnavailable", `the deploy was not run: ${o.setupError.message}`, {
      data: { reason: o.setupError.code },
      toVerify: scratchSetupFix(o.setupError.code, SETUP_FALLBACK),
    });
  }
  const { command, timeoutMs } = o.declared;
  const target = formatDuration(timeoutMs);
  const measurements: Measurement[] = [
    ...o.runs.map((r, i) => ({
      name: `deploy.run${i + 1}.duration`,
      value: r.durationMs,
      unit: "ms",
      evidence: o.evidence,
    })),
    { name: "deploy.timeout", value: timeoutMs, unit: "ms", evidence: o.evidence },
  ];
  const last = o.runs.at(-1);
  if (!last) {
    // observe() always runs once when a copy was made; an observation without a run is not a verdict.
    return finding("UNVERIFIED", "scratchUnavailable", "the deploy was not run", {
      toVerify: "run the assessment again",
    });
  }
  const which = o.runs.length === 1 ? "first" : "second";
  const took = formatDuration(last.durationMs);
  const lastLines = last.stderrTail.length > 0 ? last.stderrTail : last.stdoutTail;
  const quoted = lastLines.length > 0 ? `: ${lastLines.slice(-3).join(" | ")}` : " (no output)";
  const data = {
    run: o.runs.length,
    durations: o.runs.map((r) => formatDuration(r.durationMs)).join(", "),
    timeout: target,
    exitCode: last.exitCode,
    tail: lastLines.join("\n"),
    stdoutTail: last.stdoutTail.join("\n"),
    stderrTail: last.stderrTail.join("\n"),
  };
  const notRepeatable = o.runs.length > 1 ? "the deploy is not repeatable: " : "";
  if (last.spawnError) {
    return finding(
      "UNVERIFIED",
      "shellMissing",
      `the deploy was not run: ${DRILL_SHELL} could not start (${last.spawnError.code})`,
      { toVerify: `make ${DRILL_SHELL} available to Gauntlet`, data },
    );
  }
  if (last.timedOut && last.limitedByCheck) {
    return finding(
      "UNVERIFIED",
      "limitedByCheck",
      `the ${which} deploy ran ${took} and was ended by the check's own time limit (${formatDuration(last.limitMs)}), before its timeout of ${target}`,
      {
        toVerify: "give the deploy a timeout under 1 h, or run it twice by hand and time it",
        measurements,
        data,
      },
    );
  }
  if (last.timedOut) {
    return finding(
      "FAIL",
      "overran",
      `${notRepeatable}the ${which} deploy took longer than its timeout (${target}) and was ended (${command})${quoted}`,
      { measurements, data },
    );
  }
  if (o.runs.length === 1 && (last.exitCode === 126 || last.exitCode === 127)) {
    const said = last.stderrTail.at(-1) ?? `exit ${last.exitCode}`;
    return finding(
      "FAIL",
      "notRunnable",
      `the deploy could not run: the shell said "${said}" (exit ${last.exitCode}: ${last.exitCode === 127 ? "a command was not found" : "a file is not executable"})`,
      { measurements, data },
    );
  }
  if (last.exitCode !== 0) {
    const how = last.exitCode === null ? `was ended by ${last.signal}` : `exited with ${last.exitCode}`;
    if (o.runs.length === 1) {
      return finding(
        "FAIL",
        "failed",
        `the deploy failed on a fresh copy of the repository: it ${how} after ${took}${quoted}`,
        { measurements, data },
      );
    }
    return finding(
      "FAIL",
      "notRepeatable",
      `the deploy is not repeatable: the first run succeeded in ${formatDuration(o.runs[0]!.durationMs)}, the second, over it, ${how} after ${took}${quoted}`,
      { measurements, data },
    );
  }
  const [first, second] = o.runs as [DrillRun, DrillRun];
  const notes: string[] = [];
  if (o.leftovers && o.leftovers.count > 0) {
    notes.push(`it left ${o.leftovers.count} process(es) running, stopped afterwards`);
  }
  if (o.leftovers?.survivors.length) {
    notes.push(
      `${o.leftovers.survivors.length} could not be stopped (pids ${o.leftovers.survivors.join(", ")})`,
    );
  }
  if (o.outsideTools.length > 0) {
    notes.push(
      `it calls ${o.outsideTools.join(", ")}: what those started or changed outside the copy (containers, pods, remote hosts) was not stopped by Gauntlet`,
    );
  }
  return finding(
    "PASS",
    "repeatable",
    `the deploy succeeded twice in the same scratch copy (${o.scratch?.method ?? "copy"}): ${formatDuration(first.durationMs)}, then ${formatDuration(second.durationMs)} over the first (timeout ${target} each)${notes.length ? `; ${notes.join("; ")}` : ""}`,
    { measurements, data },
  );
}
