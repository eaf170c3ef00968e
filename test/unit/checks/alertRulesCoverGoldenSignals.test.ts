// Coverage against real rule files: complete, missing a latency alert, alerts without a runbook, and datastores judged
// by their own signals with the public awesome-prometheus-alerts files, unchanged.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/observability/alertRulesCoverGoldenSignals.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { freePort, verdictsWithoutEvidence } from "../../support/monitoring.js";

const fixtures = path.resolve(import.meta.dirname, "../../fixtures/monitoring");
const services = {
  api: { url: "http://127.0.0.1:1", metrics: "/metrics" },
  inventory: { url: "http://127.0.0.1:2" },
};

async function run(rules: string[], runbooks?: string) {
  const { ctx, readEvidence } = makeCheckContext(
    { services, monitoring: { rules }, ...(runbooks ? { operations: { runbooks } } : {}) },
    { specDir: fixtures },
  );
  const findings = await check.run(ctx);
  expect(verdictsWithoutEvidence(findings)).toEqual([]);
  return { findings, readEvidence };
}

describe("alertRulesCoverGoldenSignals", () => {
  it("is N/A when no service declares metrics", () => {
    const { ctx } = makeCheckContext({
      services: { a: { url: "http://x" } },
      monitoring: { rules: ["r.yml"] },
    });
    expect(check.applies(ctx.spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });

  it("passes complete, actionable coverage (runbook file found under operations.runbooks)", async () => {
    const { findings, readEvidence } = await run(["rules/golden-signals.yml"], "runbooks");
    expect(findings.map((f) => [f.status, f.subject])).toEqual([["PASS", "api"]]);
    const coverage = JSON.parse(readEvidence(findings[0]!.evidence![0]!));
    expect(coverage.servicesWithoutMetrics).toEqual(["inventory"]);
    const byName = Object.fromEntries(
      coverage.alerts.map((a: { alert: string; signals: string[] }) => [a.alert, a.signals]),
    );
    expect(byName).toMatchObject({
      ApiDown: ["down"],
      ApiHighErrorRate: ["errors"],
      ApiHighLatency: ["latency"],
      ApiSaturated: ["saturation"],
    });
  });

  it("names the service and the missing signal when a latency alert is missing", async () => {
    const { findings } = await run(["rules/missing-latency.yml"]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      status: "FAIL",
      subject: "api",
      data: { missingSignals: ["latency"] },
    });
    expect(findings[0]!.message).toContain("latency");
  });

  it("warns, at the alert's line, about an alert without a runbook", async () => {
    const { findings } = await run(["rules/golden-signals.yml"]);
    expect(findings.map((f) => [f.status, f.data?.alert, f.location?.line])).toEqual([
      ["WARN", "ApiHighLatency", 21],
    ]);
  });

  it("asks no for: of a multiwindow burn-rate alert of a declared SLO (its short window is the delay), but of others", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-golden-burn-"));
    try {
      const burn = (name: string, long: string, short: string) => `      - alert: ${name}
        expr: |
          sum(rate(http_requests_total{job="api",code=~"5.."}[${long}])) / sum(rate(http_requests_total{job="api"}[${long}])) > 14.4 * 0.001
          and
          sum(rate(http_requests_total{job="api",code=~"5.."}[${short}])) / sum(rate(http_requests_total{job="api"}[${short}])) > 14.4 * 0.001
        labels: { severity: page }
        annotations: { summary: "api burns its error budget", runbook_url: "https://runbooks.example.internal/burn" }
`;
      writeFileSync(
        path.join(dir, "burn.yml"),
        `groups:\n  - name: burn\n    rules:\n${burn("ApiFastBurn", "1h", "5m")}${burn("ApiOneWindow", "1h", "1h")}`,
      );
      const slos = [
        {
          name: "availability",
          service: "api",
          objective: "99.9%",
          window: "30d",
          sli: {
            errors: 'sum(rate(http_requests_total{job="api",code=~"5.."}[{{window}}]))',
            total: 'sum(rate(http_requests_total{job="api"}[{{window}}]))',
          },
        },
      ];
      const messages = async (withSlos: boolean) => {
        const { ctx } = makeCheckContext(
          { services, monitoring: { rules: ["burn.yml"] }, ...(withSlos ? { slos } : {}) },
          { specDir: dir },
        );
        return (await check.run(ctx)).map((f) => f.message).join("\n");
      };
      const declared = await messages(true);
      expect(declared).not.toMatch(/ApiFastBurn \(error rate\) lacks a for:/);
      expect(declared).toMatch(/ApiOneWindow \(error rate\) lacks a for:/);
      expect(await messages(false)).toMatch(/ApiFastBurn \(error rate\) lacks a for:/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("does not count alerts scoped to another job", async () => {
    const { ctx } = makeCheckContext(
      {
        services: { billing: { url: "http://127.0.0.1:3", metrics: "/metrics" } },
        monitoring: { rules: ["rules/golden-signals.yml"] },
      },
      { specDir: fixtures },
    );
    const findings = await check.run(ctx);
    expect(findings[0]).toMatchObject({
      status: "FAIL",
      subject: "billing",
      data: { missingSignals: ["down", "errors", "latency", "saturation"] },
    });
  });

  describe("datastores", () => {
    /** A datastore whose exporter is not running: what it exposes is unknown, so latency cannot be judged. */
    async function stores(rules: string[], options: { specDir?: string } = { specDir: fixtures }) {
      const closed = `http://127.0.0.1:${await freePort()}/metrics`;
      const { ctx } = makeCheckContext(
        {
          services: { cache: { kind: "redis", metrics: closed }, db: { kind: "postgres", metrics: closed } },
          monitoring: { rules },
        },
        options,
      );
      return ctx;
    }
    const verdicts = (findings: { subject?: string; status: string; messageId?: string }[]) =>
      findings.filter((f) => f.status !== "WARN").map((f) => [f.subject, f.status, f.messageId]);

    it("counts the awesome-prometheus-alerts redis and postgres files, unchanged, for the signals they cover", async () => {
      const ctx = await stores([
        "awesome-prometheus-alerts/oliver006-redis-exporter.yml",
        "awesome-prometheus-alerts/postgres-exporter.yml",
      ]);
      const findings = await check.run(ctx);
      expect(verdictsWithoutEvidence(findings)).toEqual([]);
      expect(verdicts(findings)).toEqual([
        ["cache", "UNVERIFIED", "latencyUnjudged"],
        ["db", "UNVERIFIED", "latencyUnjudged"],
      ]);
      const [cache, db] = findings.filter((f) => f.status === "UNVERIFIED");
      expect(cache!.data?.signals).toMatchObject({
        down: ["RedisDown"],
        errors: ["RedisRejectedConnections"],
        saturation: ["RedisOutOfSystemMemory", "RedisOutOfConfiguredMaxmemory", "RedisTooManyConnections"],
      });
      // The Postgres exporter's scrape-error alert names no job, and is about PostgreSQL: not a Redis error alert.
      expect(db!.data?.signals).toMatchObject({
        down: ["PostgresqlDown"],
        errors: ["PostgresqlExporterError", "PostgresqlDeadLocks", "PostgresqlHighRollbackRate"],
      });
      expect(cache!.toVerify).toContain("latency");
      // No runbook in the public files: every covering alert is a WARN at its line.
      const warned = findings.filter((f) => f.subject === "cache" && f.status === "WARN");
      expect(warned.map((f) => [f.data?.alert, f.location?.line])).toContainEqual(["RedisDown", 9]);
    });

    it("does not let a PostgreSQL alert cover a Redis service", async () => {
      const ctx = await stores(["awesome-prometheus-alerts/postgres-exporter.yml"]);
      const cache = (await check.run(ctx)).find((f) => f.subject === "cache")!;
      expect(cache).toMatchObject({
        status: "FAIL",
        messageId: "signalsMissing",
        data: { missingSignals: ["down", "errors", "saturation"], unjudgedSignals: ["latency"] },
      });
      expect(cache.message).toContain("redis_up == 0");
    });

    it("counts nothing for an alert whose job matcher names another job", async () => {
      const ctx = await stores(["sessions.yml"], {});
      writeFileSync(
        path.join(ctx.specDir, "sessions.yml"),
        'groups:\n  - name: s\n    rules:\n      - alert: SessionsDown\n        expr: redis_up{job="sessions"} == 0\n        for: 1m\n',
      );
      const cache = (await check.run(ctx)).find((f) => f.subject === "cache")!;
      expect(cache.data?.missingSignals).toEqual(["down", "errors", "saturation"]);
    });
  });
});
