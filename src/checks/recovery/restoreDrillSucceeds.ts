// Can the newest backup really be restored, and how long does it take? It is restored into a scratch instance
// Gauntlet starts itself (never into the source), compared with the source table by table (row counts and checksums)
// or key by key (Redis), and removed. The restore time is the measured RTO. A dump its script "successfully" wrote
// but PostgreSQL cannot read fails here with pg_restore's own words.
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { type Artifact, newestArtifact } from "../../engines/recovery/artifacts.js";
import { type BackupRun, backupSucceeded, takeBackup } from "../../engines/recovery/backupRun.js";
import {
  type DumpFormat,
  describeFormat,
  detectFormat,
  isPostgresFormat,
  isRedisFormat,
} from "../../engines/recovery/dumpFormat.js";
import {
  type DrillOutcome,
  type DrillRequest,
  drillPostgres,
  drillRedis,
  drillWithCommand,
} from "../../engines/recovery/restoreDrill.js";
import { isDurable } from "../../spec/kinds.js";
import type { Spec } from "../../spec/schema.js";
import { formatDuration } from "../../spec/units.js";

/** Time kept for comparing and cleaning up after the restore itself. */
const COMPARE_RESERVE_MS = 5 * 60_000;

export interface DrillObservation {
  service: string;
  kind: string;
  scratch: "instance" | "database";
  /** The limit the restore time is judged against: the smaller of restoreDrill.maxDuration and objectives.rto. */
  limitMs?: number;
  limitFrom?: string;
  /** Why no drill ran. */
  skipped?: {
    reason: "noBackup" | "noArtifact" | "wrongFormat" | "noBuiltInRestore" | "backupCannotRun";
    detail: string;
  };
  artifact?: Pick<Artifact, "display" | "bytes" | "mtimeMs" | "kind">;
  format?: DumpFormat;
  /** The artifact's age when the drill began. */
  artifactAgeMs?: number;
  /** The backup this run took (the artifact is then its output), when the backup has a command. */
  backupTakenNow: boolean;
  outcome?: DrillOutcome;
  evidence: string;
}

export interface RestoreDrillObservation {
  drills: DrillObservation[];
}

/** Datastores to drill: every durable one, plus restoreDrill.service (a cache the team wants restorable). */
function subjects(spec: Spec): string[] {
  const names = Object.entries(spec.services)
    .filter(([, s]) => isDurable(s))
    .map(([n]) => n);
  const named = spec.recovery?.restoreDrill?.service;
  if (named && !names.includes(named)) names.push(named);
  return names;
}

export default defineCheck<RestoreDrillObservation>({
  meta: {
    id: "restoreDrillSucceeds",
    category: "recovery",
    risk: "critical",
    destructive: false,
    title: "The newest backup restores, complete, within the RTO",
    objective:
      "The newest backup of each durable datastore restores into a scratch instance Gauntlet starts (never the source), matches the source (per-table row counts and checksums for PostgreSQL, keys and sampled values for Redis), within restoreDrill.maxDuration and objectives.rto; every scratch thing is removed.",
    remediation: {
      effort: "medium",
      text: "Make {{service}} restorable: {{fix}}",
    },
    messages: {
      restored: "the backup restored and matches the source, within the RTO",
      restoredNoObjective: "the backup restored and matches the source; no RTO is declared to judge its time",
      nothingToRestore: "a durable datastore has no backup to restore",
      wrongFormat: "the newest artifact is not a backup this datastore can load",
      restoreFailed: "the restore program stopped with an error",
      restoreTooSlow: "the restore did not finish within twice the RTO and was stopped",
      slowerThanObjective: "the restore succeeded but took longer than the RTO",
      emptyRestore: "the restore succeeded but holds no data, while the source does",
      tablesMissing: "tables of the source are missing from the restored copy",
      dataMismatch:
        "restored rows differ from the source, and the source had no writes since the backup was taken",
      sourceChanged:
        "restored data differs from the source, which has changed since the backup (expected for an older backup)",
      notCompared: "a custom restore command succeeded; Gauntlet cannot compare what it restored",
      sourceUnreadable: "the restore succeeded but the source could not be read to compare",
      toolMissing: "the restore tools are not installed, or the scratch instance could not start",
      noBuiltInRestore: "Gauntlet has no built-in restore for this kind and no restoreDrill.command is given",
      scratchLeft: "a scratch instance, database or folder could not be removed",
    },
    timeoutMs: 2 * 60 * 60_000,
  },

  applies(spec) {
    if (subjects(spec).length > 0) return true;
    return notApplicable("no durable datastore, so no backup to restore");
  },

  async observe(ctx) {
    const observation: RestoreDrillObservation = { drills: [] };
    const backups = ctx.spec.recovery?.backups ?? [];
    for (const service of subjects(ctx.spec)) {
      ctx.signal.throwIfAborted();
      const svc = ctx.spec.services[service]!;
      const drill =
        ctx.spec.recovery?.restoreDrill?.service === service ? ctx.spec.recovery.restoreDrill : undefined;
      const limits = [
        drill?.maxDuration !== undefined ? ([drill.maxDuration, "restoreDrill.maxDuration"] as const) : null,
        ctx.spec.recovery?.objectives?.rto !== undefined
          ? ([ctx.spec.recovery.objectives.rto, "recovery.objectives.rto"] as const)
          : null,
      ]
        .filter((l) => l !== null)
        .sort((a, b) => a[0] - b[0]);
      const item: Omit<DrillObservation, "evidence"> = {
        service,
        kind: svc.kind,
        scratch: drill?.scratch ?? "instance",
        backupTakenNow: false,
        ...(limits[0] ? { limitMs: limits[0][0], limitFrom: limits[0][1] } : {}),
      };
      const index = backups.findIndex((b) => b.service === service);
      if (index < 0) {
        item.skipped = { reason: "noBackup", detail: "recovery.backups declares no backup of it" };
      } else {
        const run: BackupRun | null = await takeBackup(ctx, index);
        const search = await newestArtifact(ctx.specDir, backups[index]!.path);
        const artifact = search.newest;
        if (run?.exitCode === 127 && (!artifact || artifact.bytes === 0)) {
          item.skipped = {
            reason: "backupCannotRun",
            detail: `its backup command could not run here (a program it calls is not installed): ${run.stderrTail}`,
          };
        } else if (!artifact || artifact.bytes === 0) {
          item.skipped = {
            reason: "noArtifact",
            detail: artifact
              ? `the newest match of ${backups[index]!.path}, ${artifact.display}, is empty`
              : `nothing matches ${backups[index]!.path}${search.error ? ` (${search.error})` : ""}`,
          };
        } else {
          const { display, bytes, mtimeMs, kind } = artifact;
          item.artifact = { display, bytes, mtimeMs, kind };
          item.artifactAgeMs = Math.max(0, Math.round(ctx.clock.now() - mtimeMs));
          item.format = await detectFormat(artifact).catch(() => "unknown" as const);
          item.backupTakenNow =
            !!run && backupSucceeded(run) && artifact.mtimeMs >= Date.parse(run.startedAt) - 1_000;
          const remaining = ctx.deadline - Date.now() - COMPARE_RESERVE_MS;
          const request: DrillRequest = {
            service,
            kind: svc.kind,
            url: svc.url,
            artifact,
            format: item.format,
            scratch: item.scratch,
            // Past twice the limit the drill stops waiting: the verdict (too slow) is already known.
            timeoutMs: Math.max(30_000, Math.min(remaining, item.limitMs ? item.limitMs * 2 : remaining)),
            ...(drill?.command ? { command: drill.command } : {}),
            ...(item.backupTakenNow && run?.writesBefore ? { writesBefore: run.writesBefore } : {}),
          };
          if (svc.url) ctx.secrets.addFromUrl(svc.url);
          if (svc.kind === "postgres") {
            if (!drill?.command && !isPostgresFormat(item.format)) {
              item.skipped = {
                reason: "wrongFormat",
                detail: `${display} is ${describeFormat(item.format)}`,
              };
            } else item.outcome = await drillPostgres(ctx, request);
          } else if (svc.kind === "redis") {
            if (!isRedisFormat(item.format)) {
              item.skipped = {
                reason: "wrongFormat",
                detail: `${display} is ${describeFormat(item.format)}`,
              };
            } else item.outcome = await drillRedis(ctx, request);
          } else if (drill?.command) {
            item.outcome = await drillWithCommand(ctx, request);
          } else {
            item.skipped = {
              reason: "noBuiltInRestore",
              detail: `Gauntlet restores PostgreSQL and Redis backups itself; for ${svc.kind}, write recovery.restoreDrill: { service: ${service}, command: "<restore {{backup}} into {{target}}>" }`,
            };
          }
        }
      }
      const evidence = await ctx.evidence.writeJson(`restore-drill-${service}.json`, item);
      observation.drills.push({ ...item, evidence });
      ctx.keepPartial(observation);
    }
    return observation;
  },

  judge(observation) {
    return observation.drills.flatMap(judgeDrill);
  },
});

function judgeDrill(d: DrillObservation): FindingInput[] {
  const base = { subject: d.service, evidence: [d.evidence] };
  const finding = (
    status: FindingInput["status"],
    messageId: string,
    message: string,
    fix: string,
    extra: Partial<FindingInput> = {},
  ): FindingInput => ({ ...base, status, messageId, message, data: { service: d.service, fix }, ...extra });

  if (d.skipped) {
    switch (d.skipped.reason) {
      case "noBackup":
      case "noArtifact":
        return [
          finding(
            "FAIL",
            "nothingToRestore",
            `${d.service} cannot be restored: ${d.skipped.detail}`,
            "declare and schedule a backup in recovery.backups, then drill it",
          ),
        ];
      case "wrongFormat":
        return [
          finding(
            "FAIL",
            "wrongFormat",
            `the backup of ${d.service} (${d.kind}) cannot be restored: ${d.skipped.detail}`,
            `back ${d.service} up with its own tool (pg_dump -Fc, or Redis's RDB/AOF)`,
          ),
        ];
      case "backupCannotRun":
        return [
          {
            ...finding(
              "UNVERIFIED",
              "toolMissing",
              `no backup of ${d.service} to drill: ${d.skipped.detail}`,
              "install what the backup command calls (e.g. apt-get install postgresql) where Gauntlet runs",
            ),
            toVerify: "the backup's programs (and PostgreSQL's for the drill), installed where Gauntlet runs",
          },
        ];
      case "noBuiltInRestore":
        return [
          {
            ...finding(
              "UNVERIFIED",
              "noBuiltInRestore",
              `no restore drill for ${d.service}: ${d.skipped.detail}`,
              "give recovery.restoreDrill.command",
            ),
            toVerify: "recovery.restoreDrill.command with {{backup}} and {{target}}",
          },
        ];
    }
  }
  const o = d.outcome!;
  const findings: FindingInput[] = [];
  if (!o.cleanedUp) {
    findings.push(
      finding(
        "WARN",
        "scratchLeft",
        `the scratch ${o.target} of the ${d.service} drill could not be removed: see the evidence`,
        "remove it by hand; the next run also tries",
      ),
    );
  }
  if (o.unavailable) {
    findings.push({
      ...finding(
        "UNVERIFIED",
        "toolMissing",
        `the restore drill of ${d.service} could not run: ${o.unavailable.reason}${o.unavailable.detail ? `\n${o.unavailable.detail}` : ""}`,
        o.unavailable.fix,
      ),
      toVerify: o.unavailable.fix,
    });
    return findings;
  }
  const r = o.restore!;
  const restoreTime = { name: "restoreTime", value: r.durationMs, unit: "ms", evidence: d.evidence };
  const of = `${d.artifact!.display} (${describeFormat(d.format!)}, ${d.artifact!.bytes} bytes)`;
  if (!r.ok) {
    if (r.timedOut) {
      findings.push(
        finding(
          "FAIL",
          "restoreTooSlow",
          `restoring ${of} into a scratch ${o.target} did not finish in ${formatDuration(r.durationMs)} and was stopped${d.limitMs ? ` (limit ${formatDuration(d.limitMs)}, ${d.limitFrom})` : ""}`,
          "make the restore faster (pg_restore --jobs, a smaller or incremental backup) or revise the RTO",
          { measurements: [restoreTime] },
        ),
      );
    } else {
      findings.push(
        finding(
          "FAIL",
          "restoreFailed",
          `restoring ${of} failed (${r.program} exit ${r.exitCode ?? "signal"}):\n${r.output}`,
          "the backup is unusable: fix the backup script so it fails when its dump fails (set -o pipefail; check pg_dump's exit), then take and drill a new one",
          {
            data: {
              service: d.service,
              fix: "fix the backup script so it fails when its dump fails (set -o pipefail), then drill a new backup",
              output: r.output,
            },
          },
        ),
      );
    }
    return findings;
  }
  const measurements = [restoreTime];
  if (o.scratchStartMs !== undefined)
    measurements.push({
      name: "scratchStartTime",
      value: o.scratchStartMs,
      unit: "ms",
      evidence: d.evidence,
    });
  const content = judgeContent(d, o, of, finding, measurements);
  if (content) return [...findings, content];
  const took = `${formatDuration(r.durationMs)}`;
  if (d.limitMs !== undefined && r.durationMs > d.limitMs) {
    findings.push(
      finding(
        "FAIL",
        "slowerThanObjective",
        `${of} restored and verified, but the restore took ${took}, over ${formatDuration(d.limitMs)} (${d.limitFrom})`,
        "make the restore faster or revise the RTO with the business",
        { measurements },
      ),
    );
    return findings;
  }
  const what = summary(o);
  if (d.limitMs === undefined) {
    findings.push(
      finding(
        "WARN",
        "restoredNoObjective",
        `${of} restored in ${took} into a scratch ${o.target} and matches the source (${what}); no RTO is declared to judge that time`,
        "declare recovery.objectives.rto (or restoreDrill.maxDuration)",
        { measurements },
      ),
    );
  } else {
    findings.push(
      finding(
        "PASS",
        "restored",
        `${of} restored in ${took} (limit ${formatDuration(d.limitMs)}, ${d.limitFrom}) into a scratch ${o.target} and matches the source: ${what}`,
        "",
        { measurements },
      ),
    );
  }
  return findings;
}

function summary(o: DrillOutcome): string {
  if (o.postgres?.tables) {
    const rows = o.postgres.tables.reduce((n, t) => n + t.source.rows, 0);
    return `${o.postgres.tables.length} tables, ${rows} rows, counts and checksums equal`;
  }
  if (o.redis?.restoredKeys) {
    const keys = Object.values(o.redis.restoredKeys).reduce((a, b) => a + b, 0);
    return `${keys} keys, ${o.redis.sampled ?? 0} sampled values equal`;
  }
  return "restored";
}

type Make = (
  status: FindingInput["status"],
  id: string,
  message: string,
  fix: string,
  extra?: Partial<FindingInput>,
) => FindingInput;

/** A finding when the restored content is wrong or cannot be compared; null when it matches the source. */
function judgeContent(
  d: DrillObservation,
  o: DrillOutcome,
  of: string,
  finding: Make,
  measurements: FindingInput["measurements"],
): FindingInput | null {
  if (o.notCompared) {
    return finding(
      "WARN",
      "notCompared",
      `restoreDrill.command restored ${of} in ${formatDuration(o.restore!.durationMs)}; what it restored was not compared with the source`,
      "use a kind Gauntlet restores itself (postgres, redis), or check the result in the command and exit non-zero on a mismatch",
      { measurements },
    );
  }
  const pg = o.postgres;
  if (pg) {
    if (pg.sourceError || !pg.tables) {
      return {
        ...finding(
          "UNVERIFIED",
          "sourceUnreadable",
          `${of} restored in ${formatDuration(o.restore!.durationMs)}, but ${d.service} could not be read to compare: ${pg.sourceError}`,
          `give services.${d.service}.url a user that can read every table`,
          { measurements },
        ),
        toVerify: `a services.${d.service}.url that can read every table`,
      };
    }
    const sourceRows = pg.tables.reduce((n, t) => n + t.source.rows, 0);
    const restoredRows = pg.tables.reduce((n, t) => n + (t.restored?.rows ?? 0), 0);
    if (sourceRows > 0 && restoredRows === 0) {
      return finding(
        "FAIL",
        "emptyRestore",
        `${of} restored without an error but holds no rows, while ${d.service} has ${sourceRows}`,
        "check that the backup dumps the right database, with its data",
        { measurements },
      );
    }
    const missing = pg.tables.filter((t) => !t.restored).map((t) => t.table);
    if (missing.length > 0) {
      return finding(
        "FAIL",
        "tablesMissing",
        `${missing.length} of ${pg.tables.length} tables of ${d.service} are missing from the restored copy: ${missing.slice(0, 10).join(", ")}`,
        "dump every schema the application uses (no --table/--schema filter that leaves tables out)",
        { measurements },
      );
    }
    const differing = pg.tables.filter((t) => !t.match);
    if (differing.length > 0) {
      const list = differing
        .slice(0, 10)
        .map(
          (t) =>
            `${t.table} (source ${t.source.rows} rows, restored ${t.restored!.rows}${t.source.rows === t.restored!.rows ? ", checksums differ" : ""})`,
        )
        .join("; ");
      const certain = differing.filter((t) => t.sourceQuiet === true);
      if (d.backupTakenNow && certain.length > 0) {
        return finding(
          "FAIL",
          "dataMismatch",
          `the backup taken now restores different data for ${certain.length} table(s) nobody wrote to since: ${list}`,
          "the backup loses data: check its filters (--exclude-table-data), and that it dumps the database the application writes",
          { measurements },
        );
      }
      return finding(
        "WARN",
        "sourceChanged",
        `${differing.length} restored table(s) differ from ${d.service} as it is now: ${list}; the backup is ${d.artifactAgeMs !== undefined ? formatDuration(d.artifactAgeMs) : "of unknown age"} old, and the source changed since`,
        "give the backup a command, so the drill compares a backup taken now",
        { measurements },
      );
    }
    return null;
  }
  const redis = o.redis;
  if (redis) {
    if (redis.sourceError || !redis.sourceKeys) {
      return {
        ...finding(
          "UNVERIFIED",
          "sourceUnreadable",
          `${of} loaded in ${formatDuration(o.restore!.durationMs)}, but ${d.service} could not be read to compare: ${redis.sourceError}`,
          `give services.${d.service}.url its password`,
          { measurements },
        ),
        toVerify: `services.${d.service}.url with its password`,
      };
    }
    const total = (k: Record<string, number> | undefined) =>
      Object.values(k ?? {}).reduce((a, b) => a + b, 0);
    const [source, restored] = [total(redis.sourceKeys), total(redis.restoredKeys)];
    if (source > 0 && restored === 0) {
      return finding(
        "FAIL",
        "emptyRestore",
        `${of} loaded without an error but holds no keys, while ${d.service} has ${source}`,
        "check that the backup copies the RDB/AOF Redis writes (BGSAVE first, then copy)",
        { measurements },
      );
    }
    if (source !== restored || (redis.mismatched?.length ?? 0) > 0 || (redis.missingInSource ?? 0) > 0) {
      return finding(
        "WARN",
        "sourceChanged",
        `the restored copy has ${restored} keys, ${d.service} now ${source}; ${redis.mismatched?.length ?? 0} of ${redis.sampled} sampled values differ and ${redis.missingInSource ?? 0} sampled keys are gone from the source: it changed since the backup`,
        "give the backup a command (BGSAVE and copy), so the drill compares a backup taken now",
        { measurements },
      );
    }
  }
  return null;
}
