// Real node:http services on loopback exposing good, empty-until-used, broken, incomplete and OpenMetrics expositions;
// then real datastores behind their real exporters (a dedicated redis-server with redis_exporter, a dedicated PostgreSQL
// cluster with postgres_exporter) judged by their own signals by metricsExposed and alertRulesCoverGoldenSignals, and
// judged down when the store stops behind a running exporter. UPDATE_SNAPSHOT=1 records what the exporters served as
// judge fixtures under test/fixtures/judge/metricsExposed/ (review the diff).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import coverage from "../../../src/checks/observability/alertRulesCoverGoldenSignals.js";
import check, { type EndpointObservation } from "../../../src/checks/observability/metricsExposed.js";
import type { FindingInput } from "../../../src/core/types.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import {
  type RunningPostgres,
  type RunningRedis,
  spawnForTest,
  startPostgres,
  startRedis,
} from "../../support/datastores.js";
import { freePort, pollUntil, verdictsWithoutEvidence } from "../../support/monitoring.js";
import { requireTool } from "../../support/services.js";

const servers: http.Server[] = [];
async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const text =
  (body: string, type = "text/plain; version=0.0.4"): http.RequestListener =>
  (_req, res) => {
    res.writeHead(200, { "content-type": type });
    res.end(body);
  };

const HISTOGRAM =
  '# TYPE http_request_duration_seconds histogram\nhttp_request_duration_seconds_bucket{le="+Inf"} 0\n';
let findings: FindingInput[];
const of = (subject: string) => findings.find((f) => f.subject === subject)!;

describe("metricsExposed on HTTP services", () => {
  beforeAll(async () => {
    let requests = 0;
    // Like the demo api: the counter has no series until the first request.
    const lazy = await serve((req, res) => {
      if (req.url === "/healthz") {
        requests++;
        res.writeHead(200).end("ok");
        return;
      }
      const counter = requests > 0 ? `http_requests_total{route="/healthz",code="200"} ${requests}\n` : "";
      text(`# TYPE http_requests_total counter\n${counter}${HISTOGRAM}`)(req, res);
    });
    const broken = await serve(
      text('# TYPE http_requests_total counter\nhttp_requests_total{code="200" 3\n'),
    );
    const noHistogram = await serve(
      text('# TYPE http_requests_total counter\nhttp_requests_total{code="200"} 3\n'),
    );
    const openMetrics = await serve(
      text(
        `# TYPE rpc_requests counter\nrpc_requests_total{grpc_code="OK"} 1 # {trace_id="a"} 1\n# TYPE rpc_duration_seconds histogram\nrpc_duration_seconds_bucket{le="+Inf"} 1\nrpc_duration_seconds_count 1\nrpc_duration_seconds_sum 0.1\n# EOF\n`,
        "application/openmetrics-text; version=1.0.0",
      ),
    );
    const { ctx } = makeCheckContext({
      services: {
        lazy: { url: lazy, health: "/healthz", metrics: "/metrics" },
        broken: { url: broken, metrics: "/metrics" },
        noHistogram: { url: noHistogram, metrics: "/metrics" },
        openMetrics: { metrics: `${openMetrics}/metrics` },
        down: { url: `http://127.0.0.1:${await freePort()}`, metrics: "/metrics" },
        noMetrics: { url: lazy },
      },
    });
    findings = await check.run(ctx);
  }, 20_000);

  afterAll(async () => {
    for (const server of servers) await new Promise((r) => server.close(r));
  });

  it("cites evidence for every verdict", () => {
    expect(verdictsWithoutEvidence(findings)).toEqual([]);
  });

  it("checks only services with a metrics endpoint", () => {
    expect(findings.map((f) => f.subject)).toEqual(["lazy", "broken", "noHistogram", "openMetrics", "down"]);
  });

  it("passes RED metrics, priming an empty request counter with one health request", () => {
    expect(of("lazy")).toMatchObject({
      status: "PASS",
      data: {
        red: {
          rate: "http_requests_total",
          errors: "http_requests_total by code",
          latency: "http_request_duration_seconds",
        },
      },
    });
  });

  it("fails an exposition that does not parse, naming the line", () => {
    expect(of("broken").status).toBe("FAIL");
    expect(of("broken").message).toContain("line 2");
  });

  it("names the missing latency histogram", () => {
    expect(of("noHistogram")).toMatchObject({ status: "FAIL", data: { missing: "latency histogram" } });
  });

  it("parses OpenMetrics", () => {
    expect(of("openMetrics")).toMatchObject({ status: "PASS", data: { format: "openmetrics" } });
  });

  it("fails a metrics endpoint that refuses connections", () => {
    expect(of("down").status).toBe("FAIL");
  });
});

const onCleanup = cleanupAfterEach();
const AWESOME = path.resolve(import.meta.dirname, "../../fixtures/monitoring/awesome-prometheus-alerts");
const JUDGE_FIXTURES = path.resolve(import.meta.dirname, "../../fixtures/judge/metricsExposed");

/** Starts an exporter and waits until a scrape shows it reaching its store (`ready` in the body). */
async function startExporter(
  command: string,
  args: (port: number) => string[],
  ready: string,
): Promise<string> {
  const port = await freePort();
  spawnForTest(onCleanup, command, args(port));
  const url = `http://127.0.0.1:${port}/metrics`;
  await pollUntil(`${ready} from ${url}`, async () => {
    const body = await (await fetch(url)).text();
    return body.includes(`\n${ready}`) ? true : undefined;
  });
  return url;
}

/** postgres_exporter against a cluster of its own, with extra flags. */
async function startPostgresExporter(pg: RunningPostgres, ...flags: string[]): Promise<string> {
  const bin = requireTool("prometheus-postgres-exporter");
  // postgres_exporter 0.11 takes its connection string from the environment only.
  const dsn = `postgresql://postgres@127.0.0.1:${pg.port}/postgres?sslmode=disable`;
  return startExporter(
    "env",
    (port) => [
      `DATA_SOURCE_NAME=${dsn}`,
      bin,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
      ...flags,
    ],
    "pg_up 1",
  );
}

interface Stores {
  redis: RunningRedis;
  pg: RunningPostgres;
  cacheMetrics: string;
  dbMetrics: string;
  api: string;
}

async function startStores(): Promise<Stores> {
  const redisExporter = requireTool("prometheus-redis-exporter");
  const [redis, pg] = await Promise.all([startRedis(onCleanup), startPostgres(onCleanup)]);
  const cacheMetrics = await startExporter(
    redisExporter,
    (port) => [`--redis.addr=redis://127.0.0.1:${redis.port}`, `--web.listen-address=127.0.0.1:${port}`],
    "redis_up 1",
  );
  const dbMetrics = await startPostgresExporter(pg);
  const server = http.createServer((req, res) => {
    if (req.url === "/healthz") return void res.writeHead(200).end("ok");
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(
      `# TYPE http_requests_total counter\nhttp_requests_total{code="200"} 7\n# TYPE http_request_duration_seconds histogram\nhttp_request_duration_seconds_bucket{le="0.1"} 7\nhttp_request_duration_seconds_bucket{le="+Inf"} 7\nhttp_request_duration_seconds_sum 0.2\nhttp_request_duration_seconds_count 7\n`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { redis, pg, cacheMetrics, dbMetrics, api };
}

function services(stores: Stores) {
  return {
    api: { url: stores.api, health: "/healthz", metrics: "/metrics" },
    // The exporter is scraped under its own job name, not the service's.
    cache: { kind: "redis" as const, url: stores.redis.url, metrics: stores.cacheMetrics, job: "redis" },
    db: { kind: "postgres" as const, url: stores.pg.url, metrics: stores.dbMetrics },
  };
}

/** Alerts in the awesome-prometheus-alerts style, scoped and made actionable (for:, severity, summary, runbook). */
const OWN_RULES = (() => {
  const alert = (name: string, expr: string) => ({
    alert: name,
    expr,
    for: "2m",
    labels: { severity: "warning" },
    annotations: { summary: name, runbook_url: `https://runbooks.example.internal/${name}` },
  });
  return stringify({
    groups: [
      {
        name: "stores",
        rules: [
          alert("ApiDown", 'up{job="api"} == 0'),
          alert("ApiErrors", 'sum(rate(http_requests_total{job="api",code=~"5.."}[5m])) > 1'),
          alert(
            "ApiSlow",
            'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="api"}[5m]))) > 0.5',
          ),
          alert("ApiMemory", 'process_resident_memory_bytes{job="api"} > 1e9'),
          alert("CacheDown", 'redis_up{job="redis"} == 0 or absent(redis_up{job="redis"})'),
          alert("CacheRejectsConnections", 'increase(redis_rejected_connections_total{job="redis"}[5m]) > 0'),
          alert(
            "CacheConnectionsSaturated",
            'redis_connected_clients{job="redis"} / redis_config_maxclients{job="redis"} > 0.9',
          ),
          alert(
            "CacheSlowCommands",
            'max(redis_latency_percentiles_usec{job="redis",quantile="99"}) > 10000',
          ),
          alert("DbDown", 'pg_up{job="db"} == 0'),
          alert("DbDeadlocks", 'increase(pg_stat_database_deadlocks{job="db"}[5m]) > 0'),
          alert(
            "DbConnectionsSaturated",
            'sum(pg_stat_activity_count{job="db"}) / min(pg_settings_max_connections{job="db"}) > 0.8',
          ),
          alert("DbLongTransaction", 'max(pg_stat_activity_max_tx_duration{job="db"}) > 300'),
        ],
      },
    ],
  });
})();

/** Runs the coverage check with the awesome-prometheus-alerts files, or with `ownRules` written into the spec's folder. */
async function runCoverage(stores: Stores, rules: string[], ownRules?: string) {
  const { ctx } = makeCheckContext(
    { services: services(stores), monitoring: { rules } },
    { checkId: "alertRulesCoverGoldenSignals", ...(ownRules ? {} : { specDir: AWESOME }) },
  );
  if (ownRules) writeFileSync(path.join(ctx.specDir, rules[0]!), ownRules);
  const findings = await coverage.run(ctx);
  expect(verdictsWithoutEvidence(findings)).toEqual([]);
  return findings;
}

async function observeMetrics(spec: { services: Record<string, object> }) {
  const context = makeCheckContext(spec, { checkId: "metricsExposed" });
  const observation = await check.observe(context.ctx);
  const findings = check.judge(observation, context.ctx.spec);
  expect(verdictsWithoutEvidence(findings)).toEqual([]);
  const endpoint = (name: string) => observation.endpoints.find((e) => e.service === name)!;
  return { findings, endpoint, readEvidence: context.readEvidence };
}

/** UPDATE_SNAPSHOT=1: keeps what a real exporter served as a judge fixture (observation, spec and the scrape body). */
function record(fixture: string, endpoint: EndpointObservation, body: string): void {
  if (process.env.UPDATE_SNAPSHOT !== "1") return;
  const dir = path.join(JUDGE_FIXTURES, fixture);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, "observation.json"),
    `${JSON.stringify({ endpoints: [endpoint] }, null, 2)}\n`,
  );
  writeFileSync(
    path.join(dir, "spec.yaml"),
    `# Recorded from a real exporter by test/integration/checks/metricsExposed.test.ts (UPDATE_SNAPSHOT=1).\n${stringify({ services: { [endpoint.service]: { kind: endpoint.kind, metrics: endpoint.url } } })}`,
  );
  writeFileSync(path.join(dir, "metrics.txt"), body);
}

const statuses = (findings: FindingInput[]) => findings.map((f) => [f.subject, f.status, f.messageId]);

describe("datastores behind their real exporters", () => {
  it("are judged by their own signals: metricsExposed and golden-signal coverage pass, awesome rules count for what they cover", async () => {
    const stores = await startStores();
    const metrics = await observeMetrics({ services: services(stores) });
    expect(statuses(metrics.findings)).toEqual([
      ["api", "PASS", "red"],
      ["cache", "PASS", "storeSignals"],
      ["db", "PASS", "storeSignals"],
    ]);
    const [, cache, db] = metrics.findings;
    expect(cache!.message).toContain("up: redis_up 1");
    expect(cache!.message).toMatch(
      /saturation: connections \(redis_connected_clients.* vs redis_config_maxclients\)/,
    );
    expect(cache!.message).toContain("latency: redis_latency_percentiles_usec");
    expect(db!.message).toMatch(
      /saturation: connections \(pg_stat_activity_count.* vs pg_settings_max_connections/,
    );
    expect(db!.message).toContain("errors: pg_stat_database_xact_rollback");
    expect(db!.message).toContain("latency: pg_stat_activity_max_tx_duration");
    for (const name of ["cache", "db"]) {
      const endpoint = metrics.endpoint(name);
      record(`ok.${endpoint.kind}-exporter`, endpoint, metrics.readEvidence(endpoint.evidence[1]!));
    }

    const own = await runCoverage(stores, ["stores.yml"], OWN_RULES);
    expect(statuses(own)).toEqual([
      ["api", "PASS", "covered"],
      ["cache", "PASS", "covered"],
      ["db", "PASS", "covered"],
    ]);
    expect(own[1]!.data).toMatchObject({
      required: ["down", "errors", "latency", "saturation"],
      signals: { down: ["CacheDown"], errors: ["CacheRejectsConnections"], latency: ["CacheSlowCommands"] },
    });

    // The public rules, unchanged: down, errors and saturation are covered for both stores, a Postgres alert never
    // for Redis; latency is missing because both exporters expose a latency family that no rule watches.
    const awesome = await runCoverage(stores, ["oliver006-redis-exporter.yml", "postgres-exporter.yml"]);
    const fails = awesome.filter((f) => f.status === "FAIL");
    expect(fails.map((f) => [f.subject, f.data?.missingSignals])).toEqual([
      ["api", ["down", "errors", "latency", "saturation"]],
      ["cache", ["latency"]],
      ["db", ["latency"]],
    ]);
    expect(fails[1]!.data?.signals).toEqual({
      down: ["RedisDown"],
      errors: ["RedisRejectedConnections"],
      latency: [],
      saturation: ["RedisOutOfSystemMemory", "RedisOutOfConfiguredMaxmemory", "RedisTooManyConnections"],
    });
    expect(fails[2]!.data?.signals).toEqual({
      down: ["PostgresqlDown"],
      errors: ["PostgresqlExporterError", "PostgresqlDeadLocks", "PostgresqlHighRollbackRate"],
      latency: [],
      saturation: ["PostgresqlTooManyConnections", "PostgresqlTooManyLocksAcquired"],
    });
    expect(String(fails[1]!.data?.missing)).toContain("redis_latency_percentiles_usec");
    // The public rules have no runbook and some fire without for:: they count, with a WARN each.
    expect(
      awesome.filter((f) => f.subject === "cache" && f.status === "WARN").map((f) => f.data?.alert),
    ).toContain("RedisRejectedConnections");
  }, 90_000);

  it("fails a store that stopped behind a running exporter, which still answers 200 with redis_up 0 / pg_up 0", async () => {
    const stores = await startStores();
    execFileSync("/bin/sh", ["-c", stores.redis.commands.stop], { timeout: 15_000 });
    const redisDown = await observeMetrics({ services: services(stores) });
    expect(statuses(redisDown.findings)).toEqual([
      ["api", "PASS", "red"],
      ["cache", "FAIL", "storeDown"],
      ["db", "PASS", "storeSignals"],
    ]);
    expect(redisDown.findings[1]!.data?.down).toEqual(["redis_up 0"]);
    const cache = redisDown.endpoint("cache");
    expect(cache.scrape).toMatchObject({ outcome: "ok", status: 200 });
    record("ng.redis-down", cache, redisDown.readEvidence(cache.evidence[1]!));

    // What the stopped store's exporter would expose is unknown: latency cannot be judged, it is not excused.
    const awesome = await runCoverage(stores, ["oliver006-redis-exporter.yml"]);
    expect(
      awesome.filter((f) => f.subject === "cache" && f.status !== "WARN").map((f) => [f.status, f.messageId]),
    ).toEqual([["UNVERIFIED", "latencyUnjudged"]]);

    execFileSync("/bin/sh", ["-c", stores.pg.commands.stop], { timeout: 30_000 });
    const pgDown = await observeMetrics({ services: services(stores) });
    expect(statuses(pgDown.findings).slice(1)).toEqual([
      ["cache", "FAIL", "storeDown"],
      ["db", "FAIL", "storeDown"],
    ]);
    expect(pgDown.findings[2]!.data?.down).toEqual(["pg_up 0"]);
    const db = pgDown.endpoint("db");
    record("ng.postgres-down", db, pgDown.readEvidence(db.evidence[1]!));
  }, 90_000);

  it("never sends a datastore's health endpoint an HTTP request, and does not take RED series for its signals", async () => {
    let healthRequests = 0;
    const server = http.createServer((req, res) => {
      if (req.url === "/healthz") healthRequests++;
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(`# TYPE http_requests_total counter\n${HISTOGRAM}`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const run = await observeMetrics({
      services: { cache: { kind: "redis", url, health: "/healthz", metrics: "/metrics" } },
    });
    expect(healthRequests).toBe(0);
    expect(statuses(run.findings)).toEqual([["cache", "FAIL", "storeSignalsMissing"]]);
  });

  it("fails a postgres_exporter run with --disable-settings-metrics: connections without max_connections", async () => {
    const pg = await startPostgres(onCleanup);
    const metrics = await startPostgresExporter(pg, "--disable-settings-metrics");
    const run = await observeMetrics({ services: { db: { kind: "postgres", url: pg.url, metrics } } });
    expect(statuses(run.findings)).toEqual([["db", "FAIL", "storeSignalsMissing"]]);
    expect(String(run.findings[0]!.data?.missing)).toMatch(
      /saturation against a limit \(connections: pg_stat_activity_count.* without pg_settings_max_connections/,
    );
    const db = run.endpoint("db");
    record("ng.postgres-settings-disabled", db, run.readEvidence(db.evidence[1]!));
  }, 60_000);
});
