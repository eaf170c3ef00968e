// Golden-signal classification by kind: the public awesome-prometheus-alerts rule files, unchanged, cover Redis and
// PostgreSQL for what they really watch and nothing else; alerts that name no job are scoped by the family of their
// metrics; a job matcher is compared with each service's Prometheus job.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { classifyAlert, type ServiceInfo } from "../../../src/engines/prometheus/goldenSignals.js";
import { allRules, loadRuleSet } from "../../../src/engines/prometheus/ruleFiles.js";

const AWESOME = path.resolve(import.meta.dirname, "../../fixtures/monitoring/awesome-prometheus-alerts");
const SERVICES: Record<string, ServiceInfo> = {
  api: { kind: "http", job: "api" },
  cache: { kind: "redis", job: "redis-exporter" },
  db: { kind: "postgres", job: "db" },
  pool: { kind: "pgbouncer", job: "pool" },
};

const rule = (expr: string, labels: Record<string, string> = {}) => ({
  kind: "alert" as const,
  name: "A",
  expr,
  labels,
  annotations: {},
  group: "g",
  file: "f",
  position: { line: 1, column: 1 },
});
const covers = (expr: string, labels?: Record<string, string>) =>
  classifyAlert(rule(expr, labels), SERVICES).covers;

/** For each service, signal → the alerts of the file that cover it. */
async function coverageOf(file: string): Promise<Record<string, Record<string, string[]>>> {
  const set = await loadRuleSet(AWESOME, [file]);
  expect(set.files[0]!.problems).toEqual([]);
  const out: Record<string, Record<string, string[]>> = {};
  for (const r of allRules(set)) {
    for (const [service, signals] of Object.entries(classifyAlert(r, SERVICES).covers)) {
      const mine = out[service] ?? {};
      for (const signal of signals) mine[signal] = [...(mine[signal] ?? []), r.name];
      out[service] = mine;
    }
  }
  return out;
}

describe("the awesome-prometheus-alerts rule files, unchanged", () => {
  it("oliver006-redis-exporter.yml covers Redis down, errors and saturation, and nothing of any other service", async () => {
    expect(await coverageOf("oliver006-redis-exporter.yml")).toEqual({
      cache: {
        down: ["RedisDown"],
        errors: ["RedisRejectedConnections"],
        saturation: ["RedisOutOfSystemMemory", "RedisOutOfConfiguredMaxmemory", "RedisTooManyConnections"],
      },
    });
  });

  it("postgres-exporter.yml covers PostgreSQL down, errors and saturation; its exporter-error alert is no Redis error alert", async () => {
    expect(await coverageOf("postgres-exporter.yml")).toEqual({
      db: {
        down: ["PostgresqlDown"],
        errors: ["PostgresqlExporterError", "PostgresqlDeadLocks", "PostgresqlHighRollbackRate"],
        saturation: ["PostgresqlTooManyConnections", "PostgresqlTooManyLocksAcquired"],
      },
    });
  });

  it("spreaker-pgbouncer-exporter.yml covers PgBouncer only", async () => {
    expect(await coverageOf("spreaker-pgbouncer-exporter.yml")).toEqual({
      pool: {
        errors: ["PgbouncerErrors", "PgbouncerMaxConnections"],
        saturation: ["PgbouncerActiveConnections"],
      },
    });
  });

  it("says why a low-water connection alert is not a saturation alert", async () => {
    const set = await loadRuleSet(AWESOME, ["oliver006-redis-exporter.yml"]);
    const notEnough = allRules(set).find((r) => r.name === "RedisNotEnoughConnections")!;
    const classified = classifyAlert(notEnough, SERVICES);
    expect(classified.covers).toEqual({});
    expect(classified.reasons.join("\n")).toContain('compared only with "<"');
  });
});

describe("classifyAlert by kind", () => {
  it("counts datastore families only for services of their kind", () => {
    expect(covers("redis_up == 0")).toEqual({ cache: ["down"] });
    expect(covers("pg_up == 0")).toEqual({ db: ["down"] });
    expect(covers("absent(redis_up)")).toEqual({ cache: ["down"] });
    expect(covers("redis_connected_clients / redis_config_maxclients > 0.9")).toEqual({
      cache: ["saturation"],
    });
    expect(covers("sum(pg_stat_activity_count) / min(pg_settings_max_connections) > 0.8")).toEqual({
      db: ["saturation"],
    });
    expect(covers("increase(redis_rejected_connections_total[5m]) > 0")).toEqual({ cache: ["errors"] });
    expect(covers("pg_exporter_last_scrape_error > 0")).toEqual({ db: ["errors"] });
    expect(covers("pgbouncer_up == 0")).toEqual({ pool: ["down"] });
  });

  it("keeps the generic heuristics for services that are not datastores, and up == 0 for every service", () => {
    expect(covers("up == 0")).toEqual({ api: ["down"], cache: ["down"], db: ["down"], pool: ["down"] });
    expect(covers("process_resident_memory_bytes > 1e9")).toEqual({ api: ["saturation"] });
    expect(covers('rate(http_requests_total{code=~"5.."}[5m]) > 1')).toEqual({ api: ["errors"] });
  });

  it("matches a job matcher against each service's job, so a matcher naming another job covers nothing", () => {
    expect(covers('redis_up{job="redis-exporter"} == 0')).toEqual({ cache: ["down"] });
    expect(covers('redis_up{job="cache"} == 0')).toEqual({});
    expect(covers('up{job="redis-exporter"} == 0')).toEqual({ cache: ["down"] });
    expect(covers('up{job="sessions"} == 0')).toEqual({});
    // A metric of one kind never covers a service of another, whatever the matcher says.
    expect(covers('pg_up{job="redis-exporter"} == 0')).toEqual({});
    expect(covers("vector(1)", { signal: "latency", job: "db" })).toEqual({ db: ["latency"] });
  });

  it("does not count a metric of a datastore family the catalogue does not list", () => {
    const classified = classifyAlert(rule("time() - redis_rdb_last_save_timestamp_seconds > 3600"), SERVICES);
    expect(classified.covers).toEqual({});
    expect(classified.reasons).toEqual([
      "redis_rdb_last_save_timestamp_seconds: a redis metric that is none of its golden signals",
    ]);
  });
});
