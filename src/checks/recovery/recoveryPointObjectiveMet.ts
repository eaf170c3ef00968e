// How much would each durable datastore lose if its server and disk were gone now? Measured from the server, not
// assumed: PostgreSQL's WAL archiving (settings and pg_stat_archiver: does it work, how far behind is it), its
// standbys (pg_stat_replication: synchronous or not, flush lag sampled) and fsync/synchronous_commit; Redis' AOF
// fsync policy and RDB save schedule (CONFIG GET, INFO persistence: do saves succeed, what waits unsaved); and for
// every store the newest backup artifact of `recovery.backups` and the gaps between artifacts. The best working
// mechanism is the RPO, compared with `recovery.objectives.rpo`. A cache (`durable: false`) is not judged; a pooler is
// judged at the PostgreSQL behind it.
import { defineCheck, type FindingInput, type Measurement, notApplicable } from "../../core/types.js";
import { type BackupArtifacts, backupArtifacts } from "../../engines/recovery/rpoArtifacts.js";
import {
  estimateFromBackups,
  estimatePostgresRpo,
  estimateRedisRpo,
  formatLoss,
  type Mechanism,
  type RpoEstimate,
} from "../../engines/recovery/rpoEstimate.js";
import { type PostgresRpoFacts, readPostgresRecoveryPoint } from "../../engines/recovery/rpoPostgres.js";
import { type RedisRpoFacts, readRedisPersistence } from "../../engines/recovery/rpoRedis.js";
import { isDatastoreKind, isDurable, type Kind } from "../../spec/kinds.js";
import type { Service, Spec } from "../../spec/schema.js";

export interface RpoSubject {
  service: string;
  kind: Kind;
  /** The URL, redacted. */
  url?: string;
  skipped?: {
    reason: "cache" | "noUrl" | "noProbe" | "poolerBackend" | "poolerBackendUndeclared";
    detail: string;
    backend?: string;
  };
  /** Set when the server could not be read. */
  failure?: {
    stage: "connect" | "query";
    error: string;
    code?: string;
    auth?: "missing" | "rejected";
  };
  postgres?: PostgresRpoFacts;
  redis?: RedisRpoFacts;
  /** One entry per `recovery.backups` item of this service. */
  backups: BackupArtifacts[];
  evidence?: string;
}

export interface RecoveryPointObservation {
  subjects: RpoSubject[];
}

const TIMEOUT_MS = 5_000;

const FIXES: Record<string, string> = {
  postgres:
    "ship WAL off the host as it is written: archive_mode = on with an archive_command that copies to other storage (or pgBackRest/WAL-G) and archive_timeout no longer than the objective, or a streaming standby (synchronous for an RPO of 0); backups alone lose everything since the last one",
  redis:
    "turn on the append-only file (appendonly yes, appendfsync everysec loses at most 1 s, always nothing) or a save rule no longer than the objective (e.g. save 60 1), and copy the files off the host",
  fsync: "set fsync = on and synchronous_commit = on in postgresql.conf and reload",
  other:
    "measure its recovery point by hand (replication, binlog or log shipping, backup schedule), then waive this finding with the figure",
};

/** Datastores judged here: every one that must keep its data, and every pooler in front of one. */
function judged(service: Service): boolean {
  return isDurable(service) || (service.kind === "pgbouncer" && service.durable !== false);
}

/** Every datastore; the caches among them are reported as N/A beside the judged ones. */
function subjects(spec: Spec): [string, Service][] {
  return Object.entries(spec.services).filter(([, s]) => isDatastoreKind(s.kind));
}

export default defineCheck<RecoveryPointObservation>({
  meta: {
    id: "recoveryPointObjectiveMet",
    category: "recovery",
    risk: "high",
    destructive: false,
    title: "Each durable datastore's recovery point meets the objective",
    objective:
      "The data each durable datastore would lose with its server and disk (WAL archive, standbys, AOF/RDB, backups: the best mechanism that works), measured from the server and the backup files, is within recovery.objectives.rpo.",
    remediation: {
      effort: "medium",
      text: "Bound what {{service}} can lose ({{measured}} now): {{fix}}. Declare the objective in recovery.objectives.rpo.",
    },
    messages: {
      withinObjective: "the measured recovery point is within recovery.objectives.rpo",
      exceedsObjective: "the measured recovery point is longer than recovery.objectives.rpo",
      noObjective:
        "the recovery point was measured, but the spec declares no recovery.objectives.rpo to meet",
      unbounded:
        "nothing copies the store's data off the server in time (no working archive, standby, persistence or backup): a lost server loses everything",
      notBoundedInTime:
        "the data leaves the server only after enough writes (archive_timeout = 0, a save rule needing many changes): on a quiet store the loss grows without bound",
      intervalUnknown:
        "only one backup artifact: its age is within the objective, but the time to the next backup is unknown",
      unproven:
        "a mechanism is configured that could not be proven to work from here (never archived yet, standby lag hidden, CONFIG refused)",
      mechanismFailing:
        "a configured mechanism is failing (archive command, RDB save, AOF write, standby not streaming)",
      fsyncOff: "fsync = off: a crash can lose committed transactions and corrupt the cluster",
      asyncCommit:
        "synchronous_commit = off: a crash loses the last committed transactions (up to 3 × wal_writer_delay)",
      standby: "the service's URL points at a standby; its primary decides the recovery point",
      cache: "a cache (durable: false) may lose its data; its recovery point is not judged",
      judgedAtBackend: "a pooler holds no data; the PostgreSQL behind it is judged under its own name",
      poolerBackendUndeclared:
        "a pooler whose PostgreSQL the spec does not declare, so the server holding the data cannot be read",
      noUrl: "the service has no url to read its configuration from",
      noProbe:
        "Gauntlet cannot read this kind's recovery settings yet, and its backups do not meet the objective",
      unreachable: "the store could not be reached, so its recovery settings are unknown",
      queryFailed: "the store answered, but reading its recovery settings failed",
      passwordMissing: "the store requires a password the spec's URL does not give",
      credentialsRejected: "the store rejected the credentials in the spec's URL",
    },
    timeoutMs: 60_000,
  },

  applies(spec) {
    if (subjects(spec).some(([, s]) => judged(s))) return true;
    const caches = subjects(spec).map(([n]) => n);
    return notApplicable(
      caches.length > 0
        ? `no durable datastore: ${caches.join(", ")} ${caches.length === 1 ? "is" : "are"} durable: false (or hold no data of their own)`
        : "no datastore in the system",
    );
  },

  async observe(ctx) {
    const observation: RecoveryPointObservation = { subjects: [] };
    for (const [, service] of subjects(ctx.spec)) ctx.secrets.addFromUrl(service.url);
    for (const [name, service] of subjects(ctx.spec)) {
      ctx.signal.throwIfAborted();
      const subject: RpoSubject = { service: name, kind: service.kind, backups: [] };
      observation.subjects.push(subject);
      if (service.url) subject.url = ctx.secrets.redact(service.url);
      if (service.kind === "pgbouncer") {
        const backend = (service.dependsOn ?? []).find((d) => ctx.spec.services[d]?.kind === "postgres");
        subject.skipped = backend
          ? { reason: "poolerBackend", detail: `pools ${backend}`, backend }
          : {
              reason: "poolerBackendUndeclared",
              detail: "no service of kind postgres in its dependsOn",
            };
        continue;
      }
      if (!judged(service)) {
        const detail =
          service.durable === false ? "durable: false" : `${service.kind} holds no data that must survive`;
        subject.skipped = { reason: "cache", detail };
        continue;
      }
      for (const entry of ctx.spec.recovery?.backups ?? []) {
        if (entry.service !== name) continue;
        subject.backups.push(await backupArtifacts(ctx.specDir, entry.path, ctx.clock.now()));
      }
      if (!service.url) {
        subject.skipped = { reason: "noUrl", detail: "no url" };
      } else if (service.kind === "postgres") {
        ctx.log.debug(`${name}: reading WAL archiving and replication on ${subject.url}`);
        const read = await readPostgresRecoveryPoint(service.url, {
          timeoutMs: TIMEOUT_MS,
          signal: ctx.signal,
        });
        if (read.ok) {
          const settings = read.facts.settings;
          if (settings.archive_command)
            settings.archive_command = ctx.secrets.redact(settings.archive_command);
          subject.postgres = read.facts;
        } else subject.failure = { ...read, error: ctx.secrets.redact(read.error) };
      } else if (service.kind === "redis") {
        ctx.log.debug(`${name}: reading persistence on ${subject.url}`);
        const read = await readRedisPersistence(service.url, {
          timeoutMs: TIMEOUT_MS,
          local: isLoopbackUrl(service.url),
        });
        if (read.ok) subject.redis = read.facts;
        else subject.failure = { ...read, error: ctx.secrets.redact(read.error) };
      } else {
        subject.skipped = {
          reason: "noProbe",
          detail: `Gauntlet does not read ${service.kind}'s replication or log settings yet`,
        };
      }
      subject.evidence = await ctx.evidence.writeJson(`${name}-rpo.json`, {
        service: name,
        kind: service.kind,
        url: subject.url,
        ...(subject.failure ? { failure: subject.failure } : {}),
        ...(subject.postgres ? { postgres: subject.postgres } : {}),
        ...(subject.redis ? { redis: subject.redis } : {}),
        ...(subject.skipped ? { skipped: subject.skipped } : {}),
        backups: subject.backups,
        estimate: estimateOf(subject),
      });
      ctx.keepPartial(observation);
    }
    return observation;
  },

  judge(observation, spec) {
    return observation.subjects.flatMap((s) => judgeSubject(s, spec.recovery?.objectives?.rpo));
  },
});

function estimateOf(subject: RpoSubject): RpoEstimate | null {
  if (subject.postgres) return estimatePostgresRpo(subject.postgres, subject.backups);
  if (subject.redis) return estimateRedisRpo(subject.redis, subject.backups);
  if (subject.skipped?.reason === "noProbe") return estimateFromBackups(subject.backups);
  return null;
}

function judgeSubject(subject: RpoSubject, objectiveMs: number | undefined): FindingInput[] {
  const name = subject.service;
  const evidence = subject.evidence ? [subject.evidence] : [];
  const fix = FIXES[subject.kind] ?? FIXES.other!;
  const data: Record<string, unknown> = { service: name, kind: subject.kind, fix, objectiveMs };
  const finding = (
    status: FindingInput["status"],
    messageId: string,
    message: string,
    extra: Partial<FindingInput> = {},
  ): FindingInput => ({
    status,
    messageId,
    subject: name,
    message,
    data: { ...data, ...(extra.data ?? {}) },
    ...(evidence.length > 0 ? { evidence } : {}),
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "data")),
  });
  const skipped = subject.skipped;
  if (skipped?.reason === "cache") {
    return [
      finding(
        "NA",
        "cache",
        `${name} is a cache (${skipped.detail}): what it loses on restart is not judged`,
      ),
    ];
  }
  if (skipped?.reason === "poolerBackend") {
    return [
      finding(
        "NA",
        "judgedAtBackend",
        `${name} is a pooler in front of ${skipped.backend}: the recovery point is judged on ${skipped.backend}`,
      ),
    ];
  }
  if (skipped?.reason === "poolerBackendUndeclared") {
    return [
      finding(
        "UNVERIFIED",
        "poolerBackendUndeclared",
        `${name} is a PgBouncer holding no data of its own, and the spec does not declare the PostgreSQL behind it (${skipped.detail}), so the server whose WAL and backups decide the recovery point cannot be read`,
        {
          toVerify: `declare the PostgreSQL behind ${name} as a service of kind postgres with its url, and list it in services.${name}.dependsOn`,
        },
      ),
    ];
  }
  if (skipped?.reason === "noUrl") {
    return [
      finding("UNVERIFIED", "noUrl", `${name}: no url, so its recovery settings cannot be read`, {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the hint shows the ${…} syntax itself.
        toVerify: `give services.${name}.url, e.g. ${subject.kind === "redis" ? "redis://:${REDIS_PASSWORD}@127.0.0.1:6379" : "postgres://app:${DB_PASSWORD}@127.0.0.1:5432/app"}`,
      }),
    ];
  }
  const f = subject.failure;
  if (f) {
    if (f.auth) {
      const missing = f.auth === "missing";
      return [
        finding(
          "UNVERIFIED",
          missing ? "passwordMissing" : "credentialsRejected",
          `${name}: ${missing ? `requires a password that services.${name}.url does not give` : `rejected the credentials in services.${name}.url`} (${f.error}), so its recovery settings cannot be read`,
          {
            data: { code: f.code },
            // biome-ignore lint/suspicious/noTemplateCurlyInString: the hint shows the ${…} syntax itself.
            toVerify: `put the password in services.${name}.url from the environment, e.g. ${subject.kind === "redis" ? "redis://:${REDIS_PASSWORD}@host:6379" : "postgres://app:${DB_PASSWORD}@host:5432/app"}`,
          },
        ),
      ];
    }
    const connect = f.stage === "connect";
    return [
      finding(
        "UNVERIFIED",
        connect ? "unreachable" : "queryFailed",
        `${name}: ${connect ? "cannot connect" : "reading its recovery settings failed"}: ${f.error}`,
        {
          data: { code: f.code },
          toVerify: connect
            ? `start ${name} or make ${subject.url ?? "its url"} reachable from here, then run again`
            : `let the URL's user read pg_settings, pg_stat_archiver and pg_stat_replication (grant pg_monitor), or CONFIG GET and INFO on Redis`,
        },
      ),
    ];
  }
  if (subject.postgres?.inRecovery) {
    return [
      finding(
        "UNVERIFIED",
        "standby",
        `${name} (${subject.url}) is a standby (pg_is_in_recovery): the primary's archiving and standbys decide what a lost primary loses`,
        {
          toVerify: `point services.${name}.url at the primary, and declare the standby as a service of its own`,
        },
      ),
    ];
  }
  const estimate = estimateOf(subject);
  if (!estimate) return [];
  const out: FindingInput[] = [];
  for (const c of estimate.crashLoss) {
    out.push(
      c.severity === "fail"
        ? finding("FAIL", "fsyncOff", `${name}: ${c.detail}`, {
            data: { fix: FIXES.fsync, measured: "fsync off" },
          })
        : finding("WARN", "asyncCommit", `${name}: ${c.detail}`, {
            data: { fix: FIXES.fsync, measured: `up to ${c.lossMs} ms on a crash` },
          }),
    );
  }
  const main = judgeEstimate(subject, estimate, objectiveMs, finding);
  out.push(main);
  if (main.status !== "FAIL") {
    for (const m of estimate.mechanisms.filter((x) => x.state === "broken")) {
      out.push(
        finding("WARN", "mechanismFailing", `${name}: ${m.detail}`, {
          data: { mechanism: m.name, measured: (main.data?.measured as string) ?? "unknown" },
        }),
      );
    }
  }
  return out;
}

type MakeFinding = (
  status: FindingInput["status"],
  messageId: string,
  message: string,
  extra?: Partial<FindingInput>,
) => FindingInput;

function judgeEstimate(
  subject: RpoSubject,
  estimate: RpoEstimate,
  objectiveMs: number | undefined,
  finding: MakeFinding,
): FindingInput {
  const name = subject.service;
  const evidence = subject.evidence;
  const { mechanisms, best } = estimate;
  const broken = mechanisms.filter((m) => m.state === "broken");
  const unproven = mechanisms.filter((m) => m.state === "unproven");
  const growing = mechanisms.filter((m) => m.state === "working" && m.rpoMs === null);
  const against = objectiveMs === undefined ? "" : ` against an objective of ${formatLoss(objectiveMs)}`;
  const also = (list: Mechanism[], what: string) =>
    list.length > 0 ? `; ${what}: ${list.map((m) => m.detail).join("; ")}` : "";
  const measurement = (ms: number): Measurement[] => [
    { name: `${name} rpo`, value: ms, unit: "ms", ...(evidence ? { evidence } : {}) },
    ...(objectiveMs !== undefined
      ? [{ name: `${name} rpo objective`, value: objectiveMs, unit: "ms", ...(evidence ? { evidence } : {}) }]
      : []),
  ];
  const noProbe = subject.skipped?.reason === "noProbe";
  const toVerifyUnproven = unproven.length > 0 ? unprovenHint(name, unproven) : "";

  if (best) {
    const rpo = best.rpoMs!;
    const measured = `${formatLoss(rpo)} (${mechanismLabel(best.name)})`;
    const head = `${name}: recovery point ${measured}${against} — ${best.detail}`;
    const extra = { measurements: measurement(rpo), data: { measured, rpoMs: rpo, basis: best.name } };
    const others = also(broken, "not counted, failing") + also(unproven, "not proven");
    if (objectiveMs === undefined) {
      if (noProbe) {
        return finding(
          "UNVERIFIED",
          "noProbe",
          `${head}; ${subject.skipped!.detail}, and no recovery.objectives.rpo is declared`,
          { ...extra, toVerify: `declare recovery.objectives.rpo, and ${FIXES.other}` },
        );
      }
      return finding(
        "WARN",
        "noObjective",
        `${head}${others}; the spec declares no recovery.objectives.rpo to meet`,
        extra,
      );
    }
    if (rpo <= objectiveMs) {
      if (best.name === "backup" && best.caveat) {
        return finding("WARN", "intervalUnknown", `${head}; ${best.caveat}${others}`, extra);
      }
      return finding(
        "PASS",
        "withinObjective",
        `${head}${best.caveat ? ` (${best.caveat})` : ""}${others}${noProbe ? `; ${subject.skipped!.detail}: from the backup files alone` : ""}`,
        extra,
      );
    }
    if (noProbe) {
      return finding("UNVERIFIED", "noProbe", `${head}; ${subject.skipped!.detail}, which might do better`, {
        ...extra,
        toVerify: FIXES.other!,
      });
    }
    if (unproven.length > 0) {
      return finding("UNVERIFIED", "unproven", `${head}${others}, which might do better`, {
        ...extra,
        toVerify: toVerifyUnproven,
      });
    }
    return finding("FAIL", "exceedsObjective", `${head}${others}`, extra);
  }

  if (noProbe) {
    return finding(
      "UNVERIFIED",
      "noProbe",
      `${name}: ${subject.skipped!.detail}, and its backups bound nothing${also(broken, "backups")}`,
      { toVerify: `declare its backups in recovery.backups (path: the files they write), or ${FIXES.other}` },
    );
  }

  if (growing.length > 0) {
    const exposures = growing.map((m) => m.exposureMs).filter((e): e is number => e !== undefined);
    const exposure = exposures.length > 0 ? Math.min(...exposures) : undefined;
    const measured =
      exposure !== undefined ? `${formatLoss(exposure)} now, not bounded in time` : "not bounded in time";
    const head = `${name}: ${growing.map((m) => m.detail).join("; ")}`;
    const extra = {
      ...(exposure !== undefined ? { measurements: measurement(exposure) } : {}),
      data: {
        measured,
        ...(exposure !== undefined ? { exposureMs: exposure } : {}),
        basis: growing[0]!.name,
      },
    };
    const others = also(broken, "failing") + also(unproven, "not proven");
    if (
      objectiveMs !== undefined &&
      exposure !== undefined &&
      exposure > objectiveMs &&
      unproven.length === 0
    ) {
      return finding(
        "FAIL",
        "exceedsObjective",
        `${head}; what would be lost now (${formatLoss(exposure)}) is already beyond the objective of ${formatLoss(objectiveMs)}${others}`,
        extra,
      );
    }
    if (unproven.length > 0) {
      return finding("UNVERIFIED", "unproven", `${head}${others}`, { ...extra, toVerify: toVerifyUnproven });
    }
    return finding(
      "WARN",
      "notBoundedInTime",
      `${head}${others}${objectiveMs === undefined ? "; no recovery.objectives.rpo is declared" : ""}`,
      extra,
    );
  }

  if (unproven.length > 0) {
    const exposures = unproven.map((m) => m.exposureMs);
    const allBeyond = objectiveMs !== undefined && exposures.every((e) => e !== undefined && e > objectiveMs);
    if (allBeyond) {
      const exposure = Math.min(...(exposures as number[]));
      const measured = `${formatLoss(exposure)} unsaved now`;
      return finding(
        "FAIL",
        "exceedsObjective",
        `${name}: ${unproven.map((m) => m.detail).join("; ")}: what would be lost now (${formatLoss(exposure)}) is beyond the objective of ${formatLoss(objectiveMs)}${also(broken, "failing")}`,
        { measurements: measurement(exposure), data: { measured, exposureMs: exposure } },
      );
    }
    return finding(
      "UNVERIFIED",
      "unproven",
      `${name}: ${unproven.map((m) => m.detail).join("; ")}${also(broken, "failing")}`,
      { data: { measured: "unknown" }, toVerify: toVerifyUnproven },
    );
  }

  const absent = absentMechanisms(subject);
  const why = [...broken.map((m) => m.detail), ...absent].join("; ");
  return finding(
    "FAIL",
    "unbounded",
    `${name}: nothing copies its data off the server: ${why}. A lost server loses everything${objectiveMs !== undefined ? ` (objective ${formatLoss(objectiveMs)})` : ""}`,
    { data: { measured: "unbounded" } },
  );
}

/** What the store does not have at all, said in its own terms. */
function absentMechanisms(subject: RpoSubject): string[] {
  const out: string[] = [];
  const pgFacts = subject.postgres;
  if (pgFacts) {
    const mode = pgFacts.settings.archive_mode ?? "off";
    if (mode === "off") out.push("archive_mode = off (no WAL archiving)");
    if (pgFacts.replicas.length === 0) out.push("no standby streams from it (pg_stat_replication is empty)");
  }
  const r = subject.redis;
  if (r?.config) {
    if (r.config.appendonly !== "yes") out.push("appendonly no");
    if (!r.config.save) out.push("save '' (no RDB snapshots): every restart loses everything");
  }
  if (subject.backups.length === 0) out.push(`no recovery.backups entry for ${subject.service}`);
  return out;
}

function unprovenHint(name: string, unproven: Mechanism[]): string {
  const hints = new Set<string>();
  for (const m of unproven) {
    if (m.name === "walArchive")
      hints.add(
        `wait for archive_timeout (or run SELECT pg_switch_wal()) and check that pg_stat_archiver.last_archived_time advances, then run again`,
      );
    else if (m.name === "asyncReplica" || m.name === "syncReplica")
      hints.add(
        `grant pg_monitor to the user of services.${name}.url so the standbys' state and lag can be read`,
      );
    else
      hints.add(
        `let the user of services.${name}.url run CONFIG GET (or give its persistence settings' source)`,
      );
  }
  return [...hints].join("; ");
}

function mechanismLabel(name: Mechanism["name"]): string {
  return {
    syncReplica: "synchronous standby",
    asyncReplica: "asynchronous standby",
    walArchive: "WAL archive",
    backup: "backups",
    aof: "append-only file",
    rdb: "RDB snapshots",
  }[name];
}

function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, "").toLowerCase();
    return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}
