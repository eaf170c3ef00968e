// Does every durable datastore have a recent, non-empty backup? A datastore that must keep its data and has no backup
// declared is a FAIL naming it (principle 8: silence is not N/A). With `command`, a fresh backup is taken first (it
// only reads the source) and timed; then the newest file matching `path` must exist, hold bytes and be young enough.
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { type ArtifactSearch, newestArtifact } from "../../engines/recovery/artifacts.js";
import { type BackupRun, backupSucceeded, takeBackup } from "../../engines/recovery/backupRun.js";
import {
  type DumpFormat,
  describeFormat,
  detectFormat,
  isPostgresFormat,
  isRedisFormat,
} from "../../engines/recovery/dumpFormat.js";
import { isDurable } from "../../spec/kinds.js";
import type { Spec } from "../../spec/schema.js";
import { formatDuration } from "../../spec/units.js";

export interface BackupObservation {
  index: number;
  service: string;
  kind: string;
  pattern: string;
  maxAgeMs: number;
  /** The command's run, when the backup has one. */
  run?: BackupRun;
  /** Epoch ms at which this check looked for the artifact. */
  lookedAt: number;
  search: ArtifactSearch;
  format?: DumpFormat;
  evidence: string;
}

export interface BackupsFreshObservation {
  /** Durable datastores with no backup entry. */
  undeclared: { service: string; kind: string }[];
  backups: BackupObservation[];
}

function durableStores(spec: Spec): [string, string][] {
  return Object.entries(spec.services)
    .filter(([, s]) => isDurable(s))
    .map(([name, s]) => [name, s.kind]);
}

export default defineCheck<BackupsFreshObservation>({
  meta: {
    id: "backupsFresh",
    category: "recovery",
    risk: "critical",
    destructive: false,
    title: "Durable datastores have fresh backups",
    objective:
      "Every durable datastore has a declared backup whose newest artifact exists, is non-empty, is of the datastore's kind and is younger than maxAge; a backup command, when given, runs and succeeds first.",
    remediation: {
      effort: "medium",
      text: "Back up {{service}}: {{fix}}",
    },
    messages: {
      fresh: "the newest backup artifact exists, holds data and is younger than maxAge",
      noBackupDeclared: "a durable datastore has no entry in recovery.backups",
      commandFailed: "the backup command exited non-zero, was killed or could not start",
      commandTimedOut: "the backup command did not finish within its timeout",
      toolMissing: "the backup command could not run here: a program it calls is not installed (exit 127)",
      noArtifact: "no file matches the backup's path",
      notWritten: "the backup command succeeded but wrote no new file matching path",
      empty: "the newest backup artifact is empty",
      wrongKind:
        "the newest artifact is a backup of another kind of datastore, or of no format Gauntlet knows",
      stale: "the newest backup artifact is older than maxAge",
    },
    timeoutMs: 60 * 60_000,
  },

  applies(spec) {
    if (durableStores(spec).length > 0 || spec.recovery?.backups?.length) return true;
    return notApplicable("no durable datastore (a cache with durable: false holds nothing to back up)");
  },

  async observe(ctx) {
    const backups = ctx.spec.recovery?.backups ?? [];
    const covered = new Set(backups.map((b) => b.service));
    const observation: BackupsFreshObservation = {
      undeclared: durableStores(ctx.spec)
        .filter(([name]) => !covered.has(name))
        .map(([service, kind]) => ({ service, kind })),
      backups: [],
    };
    for (const [index, backup] of backups.entries()) {
      ctx.signal.throwIfAborted();
      const run = (await takeBackup(ctx, index)) ?? undefined;
      const lookedAt = ctx.clock.now();
      const search = await newestArtifact(ctx.specDir, backup.path);
      const format = search.newest
        ? await detectFormat(search.newest).catch(() => "unknown" as const)
        : undefined;
      const item: Omit<BackupObservation, "evidence"> = {
        index,
        service: backup.service,
        kind: ctx.spec.services[backup.service]?.kind ?? "http",
        pattern: backup.path,
        maxAgeMs: backup.maxAge,
        lookedAt,
        search,
        ...(run ? { run } : {}),
        ...(format ? { format } : {}),
      };
      const evidence = await ctx.evidence.writeJson(`backup-${index}-${backup.service}.json`, item);
      observation.backups.push({ ...item, evidence });
      ctx.keepPartial(observation);
    }
    return observation;
  },

  judge(observation) {
    const findings: FindingInput[] = observation.undeclared.map(({ service, kind }) => ({
      status: "FAIL",
      messageId: "noBackupDeclared",
      subject: service,
      message: `${service} (${kind}) must keep its data, and recovery.backups declares no backup of it`,
      data: {
        service,
        fix: `add { service: ${service}, command: <the script that dumps it>, path: <glob of its files>, maxAge: 24h } to recovery.backups (or mark it durable: false if it is a cache)`,
      },
    }));
    for (const b of observation.backups) findings.push(judgeBackup(b));
    return findings;
  },
});

function judgeBackup(b: BackupObservation): FindingInput {
  const base = { subject: b.service, evidence: [b.evidence] };
  const fixRun = `make \`${b.run?.command}\` succeed (run it by hand from ${b.run?.cwd})`;
  if (b.run && b.run.exitCode === 127) {
    // The shell's "command not found": the backup may work where it is scheduled, it cannot run where Gauntlet runs.
    return {
      ...base,
      status: "UNVERIFIED",
      messageId: "toolMissing",
      message: `the backup of ${b.service} (\`${b.run.command}\`) could not run here: ${b.run.stderrTail || "a program it calls was not found"}`,
      data: {
        service: b.service,
        fix: "install what the backup command calls (e.g. apt-get install postgresql-client) where Gauntlet runs",
      },
      toVerify: "the programs the backup command calls, installed where Gauntlet runs",
    };
  }
  if (b.run && !backupSucceeded(b.run)) {
    const how = b.run.timedOut
      ? `did not finish within its timeout (${formatDuration(b.run.durationMs)})`
      : b.run.spawnError
        ? `could not start: ${b.run.spawnError}`
        : b.run.exitCode === null
          ? `was killed by ${b.run.signal}`
          : `exited with code ${b.run.exitCode}`;
    return {
      ...base,
      status: "FAIL",
      messageId: b.run.timedOut ? "commandTimedOut" : "commandFailed",
      message: `the backup of ${b.service} (\`${b.run.command}\`) ${how}${b.run.stderrTail ? `:\n${b.run.stderrTail}` : ""}`,
      data: { service: b.service, fix: fixRun, stderrTail: b.run.stderrTail, stdoutTail: b.run.stdoutTail },
      measurements: [{ name: "backupDuration", value: b.run.durationMs, unit: "ms", evidence: b.evidence }],
    };
  }
  const artifact = b.search.newest;
  if (!artifact) {
    return {
      ...base,
      status: "FAIL",
      messageId: "noArtifact",
      message: `no backup of ${b.service} matches ${b.pattern}${b.search.error ? ` (${b.search.error})` : ""}`,
      data: { service: b.service, fix: `make the backup write its files where path (${b.pattern}) points` },
    };
  }
  const ageMs = Math.max(0, b.lookedAt - artifact.mtimeMs);
  const measurements = [
    { name: "backupAge", value: Math.round(ageMs), unit: "ms", evidence: b.evidence },
    { name: "backupSize", value: artifact.bytes, unit: "bytes", evidence: b.evidence },
    ...(b.run ? [{ name: "backupDuration", value: b.run.durationMs, unit: "ms", evidence: b.evidence }] : []),
  ];
  const described = `${artifact.display} (${artifact.bytes} bytes, ${formatAge(ageMs)} old)`;
  if (b.run && artifact.mtimeMs < Date.parse(b.run.startedAt) - 1_000) {
    return {
      ...base,
      status: "FAIL",
      messageId: "notWritten",
      message: `the backup command of ${b.service} exited 0, yet the newest file matching ${b.pattern} is ${described}, older than the run: it writes elsewhere, or nothing`,
      data: {
        service: b.service,
        fix: `make \`${b.run.command}\` write to ${b.pattern}, and fail when it writes nothing`,
      },
      measurements,
    };
  }
  if (artifact.bytes === 0) {
    return {
      ...base,
      status: "FAIL",
      messageId: "empty",
      message: `the newest backup of ${b.service}, ${artifact.display}, is empty`,
      data: {
        service: b.service,
        fix: "make the backup script fail (set -euo pipefail) when its dump fails, instead of writing an empty file",
      },
      measurements,
    };
  }
  const expected = b.kind === "postgres" ? isPostgresFormat : b.kind === "redis" ? isRedisFormat : null;
  if (expected && b.format && !expected(b.format)) {
    return {
      ...base,
      status: "FAIL",
      messageId: "wrongKind",
      message: `the newest backup of ${b.service} (${b.kind}), ${artifact.display}, is ${describeFormat(b.format)}`,
      data: { service: b.service, fix: `point path at the ${b.kind} backup's files` },
      measurements,
    };
  }
  if (ageMs > b.maxAgeMs) {
    return {
      ...base,
      status: "FAIL",
      messageId: "stale",
      message: `the newest backup of ${b.service} is ${described}: older than maxAge ${formatAge(b.maxAgeMs)}`,
      data: {
        service: b.service,
        fix: `schedule the backup at least every ${formatAge(b.maxAgeMs)} and alert when it fails`,
      },
      measurements,
    };
  }
  return {
    ...base,
    status: "PASS",
    messageId: "fresh",
    message: `the newest backup of ${b.service} is ${described}${b.format ? `, ${describeFormat(b.format)}` : ""}${b.run ? `; taken now in ${formatDuration(b.run.durationMs)}` : ""}`,
    data: { service: b.service, fix: "" },
    measurements,
  };
}

/** Ages read in the unit a person would use: 40 s, 3h12m, 2d4h. */
export function formatAge(ms: number): string {
  if (ms < 2 * 3_600_000) return formatDuration(ms);
  const hours = Math.floor(ms / 3_600_000);
  if (hours < 48) return `${hours}h${String(Math.floor((ms % 3_600_000) / 60_000)).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d${hours % 24}h`;
}
