// The real stack nobody here wrote, assessed end to end (the "Honest on real systems" issue): PostgreSQL 15 behind
// PgBouncer and Redis 7, both controlled from outside with control.commands as an init system would; their
// prometheus-postgres-exporter and prometheus-redis-exporter supervised by Gauntlet (control.process); a real
// Prometheus scraping them with the public awesome-prometheus-alerts rules, and Alertmanager; and an orders API whose
// /healthz — like many real ones — touches neither store. Asserted: no PASS for a blink or outage no probe could
// notice; no FAIL for the cache's lost data; a PASS for PostgreSQL's kept write; datastore metrics and alerts judged
// as datastores; crashRecovered run although the experiment list names only another fault. Then the same stack with a
// request that uses both stores, where the blinks are seen and judged.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { assess } from "../../../src/assess/assess.js";
import type { CheckResult } from "../../../src/core/assessment.js";
import {
  freePort,
  psql,
  type RunningPgbouncer,
  type RunningPostgres,
  type RunningRedis,
  startPgbouncer,
  startPostgres,
  startRedis,
} from "../../support/datastores.js";
import { type MonitoringProcess, startAlertmanager, startPrometheus } from "../../support/monitoring.js";
import { requireTool } from "../../support/services.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures");
const cleanups: (() => Promise<void> | void)[] = [];
const onCleanup = (undo: () => Promise<void> | void) => {
  cleanups.push(undo);
};

interface Stack {
  dir: string;
  pg: RunningPostgres;
  pool: RunningPgbouncer;
  redis: RunningRedis;
  ports: { api: number; redisExporter: number; pgExporter: number };
  prometheus: MonitoringProcess;
  alertmanager: MonitoringProcess;
}

let stack: Stack;

beforeAll(async () => {
  const redisExporter = requireTool("prometheus-redis-exporter");
  const pgExporter = requireTool("prometheus-postgres-exporter");
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-stack-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const pg = await startPostgres(onCleanup);
  psql(pg, "CREATE DATABASE app");
  // query_timeout: PgBouncer answers an error instead of holding the client forever when PostgreSQL stops answering.
  const pool = await startPgbouncer(onCleanup, pg, "app", { query_timeout: 1, query_wait_timeout: 1 });
  const redis = await startRedis(onCleanup, { persistence: "none" });
  const ports = { api: await freePort(), redisExporter: await freePort(), pgExporter: await freePort() };
  const targets = (port: number) => [`127.0.0.1:${port}`];
  const rules = ["oliver006-redis-exporter.yml", "postgres-exporter.yml"];
  mkdirSync(path.join(dir, "rules"));
  for (const file of rules) {
    copyFileSync(
      path.join(FIXTURES, "monitoring/awesome-prometheus-alerts", file),
      path.join(dir, "rules", file),
    );
  }
  writeFileSync(path.join(dir, "rules", "orders-api.yml"), APP_RULES);
  const prometheusConfig = stringify({
    global: { scrape_interval: "1s", evaluation_interval: "1s" },
    rule_files: rules
      .map((f) => path.join(dir, "rules", f))
      .concat(path.join(dir, "rules", "orders-api.yml")),
    scrape_configs: [
      { job_name: "orders-api", static_configs: [{ targets: targets(ports.api) }] },
      { job_name: "redis", static_configs: [{ targets: targets(ports.redisExporter) }] },
      { job_name: "postgres", static_configs: [{ targets: targets(ports.pgExporter) }] },
    ],
  });
  const prometheus = await startPrometheus(prometheusConfig);
  onCleanup(() => prometheus.stop());
  const alertmanager = await startAlertmanager(
    stringify({ route: { receiver: "null", group_wait: "1s" }, receivers: [{ name: "null" }] }),
  );
  onCleanup(() => alertmanager.stop());
  stack = { dir, pg, pool, redis, ports, prometheus, alertmanager };
  void redisExporter;
  void pgExporter;
}, 180_000);

afterAll(async () => {
  for (const undo of cleanups.reverse()) {
    try {
      await undo();
    } catch (error) {
      process.stderr.write(`stack cleanup: ${(error as Error).message}\n`);
    }
  }
}, 120_000);

const APP_RULES = `groups:
  - name: orders-api
    rules:
      - alert: OrdersApiDown
        expr: up{job="orders-api"} == 0
        for: 1m
        labels: { severity: critical }
        annotations: { summary: "orders API down", runbook_url: "https://runbooks.example/orders-api-down" }
      - alert: OrdersApiErrors
        expr: sum(rate(http_requests_total{job="orders-api",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="orders-api"}[5m])) > 0.05
        for: 5m
        labels: { severity: page }
        annotations: { summary: "orders API errors", runbook_url: "https://runbooks.example/orders-api-errors" }
      - alert: OrdersApiSlow
        expr: histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{job="orders-api"}[5m])) by (le)) > 0.5
        for: 5m
        labels: { severity: page }
        annotations: { summary: "orders API slow", runbook_url: "https://runbooks.example/orders-api-slow" }
      - alert: OrdersApiSaturated
        expr: process_resident_memory_bytes{job="orders-api"} > 1e9
        for: 5m
        labels: { severity: warning }
        annotations: { summary: "orders API memory", runbook_url: "https://runbooks.example/orders-api-memory" }
`;

/** The spec a user of this stack writes; `requests` adds a performance target whose request uses both stores. */
function stackSpec(options: { requests: boolean }) {
  const { pg, pool, redis, ports, prometheus, alertmanager, dir } = stack;
  const exporterNote = "an exporter is scraped by Prometheus, not called by users";
  const initNote = "systemd restarts it in production; here it is started by hand";
  return {
    version: 1,
    system: { name: "orders-stack" },
    destructive: true,
    services: {
      db: {
        kind: "postgres",
        url: `postgres://postgres@127.0.0.1:${pg.port}/app`,
        metrics: `http://127.0.0.1:${ports.pgExporter}/metrics`,
        job: "postgres",
        exposure: "internal",
        control: { commands: pg.commands },
      },
      pool: {
        kind: "pgbouncer",
        url: pool.url,
        exposure: "internal",
        dependsOn: ["db"],
        control: { commands: pool.commands },
      },
      cache: {
        kind: "redis",
        url: redis.url,
        durable: false,
        metrics: `http://127.0.0.1:${ports.redisExporter}/metrics`,
        job: "redis",
        exposure: "internal",
        control: { commands: redis.commands },
      },
      api: {
        url: `http://127.0.0.1:${ports.api}`,
        health: "/healthz",
        metrics: "/metrics",
        job: "orders-api",
        dependsOn: ["pool", "cache"],
        control: {
          process: {
            command: `node ${path.join(FIXTURES, "services/stackApp.mjs")}`,
            env: { PORT: ports.api, DATABASE_URL: pool.url, REDIS_URL: redis.url },
            restart: "always",
          },
        },
      },
      "redis-exporter": {
        url: `http://127.0.0.1:${ports.redisExporter}`,
        health: "/",
        control: {
          process: {
            command: `prometheus-redis-exporter --redis.addr=redis://127.0.0.1:${redis.port} --web.listen-address=127.0.0.1:${ports.redisExporter}`,
            restart: "always",
          },
        },
      },
      "postgres-exporter": {
        url: `http://127.0.0.1:${ports.pgExporter}`,
        health: "/",
        control: {
          process: {
            command: `prometheus-postgres-exporter --web.listen-address=127.0.0.1:${ports.pgExporter}`,
            env: { DATA_SOURCE_NAME: `postgresql://postgres@127.0.0.1:${pg.port}/postgres?sslmode=disable` },
            restart: "always",
          },
        },
      },
    },
    ...(options.requests
      ? { performance: { target: "api", requests: [{ method: "GET", path: "/api/orders" }] } }
      : {}),
    monitoring: {
      prometheus: prometheus.url,
      alertmanager: alertmanager.url,
      rules: [path.join(dir, "rules", "*.yml")],
    },
    resilience: {
      // Only a restart of the database is listed: every other fault type must still run (principle 8).
      experiments: [{ name: "db-restart", target: "db", fault: "restart", recoverWithin: "20s" }],
      exclude: [
        { check: "crashRecovered", subject: "db", reason: initNote },
        { check: "crashRecovered", subject: "pool", reason: initNote },
        { check: "crashRecovered", subject: "cache", reason: initNote },
        { check: "overloadShedGracefully", subject: "redis-exporter", reason: exporterNote },
        { check: "overloadShedGracefully", subject: "postgres-exporter", reason: exporterNote },
      ],
    },
  };
}

async function assessStack(name: string, spec: object, only: string[]) {
  const dir = path.join(stack.dir, name);
  mkdirSync(dir, { recursive: true });
  const specPath = path.join(dir, "gauntlet.yaml");
  writeFileSync(specPath, stringify(spec));
  const outcome = await assess({ specPath, cwd: dir, store: false, only, env: { PATH: process.env.PATH } });
  const byId = (id: string): CheckResult => outcome.assessment.checks.find((c) => c.checkId === id)!;
  const verdicts = (id: string) => byId(id).findings.map((f) => [f.subject, f.status, f.messageId]);
  return {
    outcome,
    byId,
    verdicts,
    read: (file: string) => readFileSync(path.join(outcome.outDir, "evidence", file), "utf8"),
  };
}

describe("the real stack, with a health endpoint that touches no store", () => {
  let run: Awaited<ReturnType<typeof assessStack>>;
  beforeAll(async () => {
    run = await assessStack("blind", stackSpec({ requests: false }), [
      "crashRecovered",
      "dependencyBlinkSurvived",
      "dependencyOutageDegradesGracefully",
      "writesSurviveCrash",
      "metricsExposed",
      "alertRulesCoverGoldenSignals",
      "datastoreLatency",
    ]);
    if (process.env.GAUNTLET_STACK_REPORT)
      copyFileSync(path.join(run.outcome.outDir, "report.md"), process.env.GAUNTLET_STACK_REPORT);
  }, 600_000);

  it("no PASS for a blink or outage that no probe could notice", () => {
    const blink = run.verdicts("dependencyBlinkSurvived");
    const outage = run.verdicts("dependencyOutageDegradesGracefully");
    // The cache and the pool have one dependant, whose only probe is the static /healthz: nothing could notice.
    expect(blink).toContainEqual(["cache", "UNVERIFIED", "faultUnobserved"]);
    expect(blink).toContainEqual(["pool", "UNVERIFIED", "faultUnobserved"]);
    expect(outage).toContainEqual(["cache", "UNVERIFIED", "faultUnobserved"]);
    expect(outage).toContainEqual(["pool", "UNVERIFIED", "faultUnobserved"]);
    // The database is watched through PgBouncer's own SELECT 1, which does use it: judged on what it saw.
    const db = blink.find(([subject]) => subject === "db");
    expect(db?.[1]).not.toBe("UNVERIFIED");
    for (const check of ["dependencyBlinkSurvived", "dependencyOutageDegradesGracefully"]) {
      for (const f of run.byId(check).findings) {
        if (f.status === "PASS")
          expect(f.message, `${check} ${f.subject}`).toMatch(/noticed by|shown to use/);
      }
    }
  });

  it("no FAIL for the cache's lost data; a PASS for PostgreSQL's kept write", () => {
    expect(run.verdicts("writesSurviveCrash")).toEqual([
      ["db", "PASS", "kept"],
      ["pool", "NA", "noDataOfItsOwn"],
      ["cache", "NA", "cacheLost"],
    ]);
  });

  it("crashRecovered runs although the experiment list names only a restart", () => {
    expect(run.verdicts("crashRecovered")).toEqual([
      ["db", "NA", "excluded"],
      ["pool", "NA", "excluded"],
      ["cache", "NA", "excluded"],
      ["api", "PASS", "recoveredBySupervisor"],
      ["redis-exporter", "PASS", "recoveredBySupervisor"],
      ["postgres-exporter", "PASS", "recoveredBySupervisor"],
    ]);
    expect(run.outcome.assessment.exclusions?.filter((x) => x.state === "applied")).toHaveLength(3);
  });

  it("datastore metrics and alerts are judged as datastores", () => {
    expect(run.verdicts("metricsExposed")).toEqual([
      ["db", "PASS", expect.any(String)],
      ["cache", "PASS", expect.any(String)],
      ["api", "PASS", expect.any(String)],
    ]);
    const coverage = run.byId("alertRulesCoverGoldenSignals").findings;
    for (const store of ["db", "cache"]) {
      const missing = coverage.filter((f) => f.subject === store && f.status === "FAIL");
      // The public rule set covers down, errors and saturation for both; what it lacks is named, never "HTTP".
      for (const f of missing) expect(f.data?.missingSignals).not.toContain("errors");
    }
    expect(run.verdicts("datastoreLatency")).toEqual([
      ["db", "PASS", "fast"],
      ["pool", "PASS", "fast"],
      ["cache", "PASS", "fast"],
    ]);
  });
});

describe("the same stack, probed through a request that uses both stores", () => {
  it("sees the blinks and judges them", async () => {
    const run = await assessStack("observable", stackSpec({ requests: true }), ["dependencyBlinkSurvived"]);
    const findings = run.byId("dependencyBlinkSurvived").findings;
    for (const subject of ["cache", "pool"]) {
      const f = findings.find((x) => x.subject === subject)!;
      expect(f.status, `${subject}: ${f.message}`).not.toBe("UNVERIFIED");
      expect(f.message).toMatch(/api GET \/api\/orders/);
    }
  }, 600_000);
});
