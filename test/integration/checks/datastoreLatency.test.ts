// datastoreLatency against real servers: the shared Redis and PostgreSQL pass on loopback; a refused connection
// fails; a store that demands a password the spec does not give (Redis requirepass, PostgreSQL scram-sha-256) is
// UNVERIFIED, never FAIL, and a wrong password says so — without the password ever reaching a finding.
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/performance/datastoreLatency.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { freePort, startPostgres, startRedis } from "../../support/datastores.js";
import { sharedPostgresUrl, sharedRedisUrl } from "../../support/services.js";

const onCleanup = cleanupAfterEach();

describe("datastoreLatency against real Redis and PostgreSQL", () => {
  it("measures PING and SELECT 1 and passes on loopback", async () => {
    const { ctx, readEvidence } = makeCheckContext({
      services: {
        cache: { kind: "redis", url: sharedRedisUrl() },
        db: { kind: "postgres", url: sharedPostgresUrl() },
        api: { url: "http://127.0.0.1:9" },
      },
    });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["cache", "PASS", "fast"],
      ["db", "PASS", "fast"],
    ]);
    const evidence = JSON.parse(readEvidence(findings[1]!.evidence![0]!));
    expect(evidence).toMatchObject({ ok: true, command: "SELECT 1", samples: 200, failures: 0 });
    expect(evidence.latency.p95).toBeGreaterThan(0);
    expect(findings[0]!.measurements![0]!.name).toBe("cache p95");
  });

  it("fails when the datastore refuses the connection", async () => {
    const port = await freePort();
    const { ctx } = makeCheckContext({
      services: {
        cache: { kind: "redis", url: `redis://127.0.0.1:${port}` },
        db: { kind: "postgres", url: `postgres://app:s3cretpw@127.0.0.1:${port}/app` },
      },
    });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.status, f.messageId])).toEqual([
      ["FAIL", "cannotConnect"],
      ["FAIL", "cannotConnect"],
    ]);
    expect(findings[1]!.data?.code).toBe("ECONNREFUSED");
    expect(JSON.stringify(findings)).not.toContain("s3cretpw");
  });

  it("is UNVERIFIED when a password is required but not given, and when the given one is refused", async () => {
    const redis = await startRedis(onCleanup, { password: "redis-Pass-4242" });
    const pg = await startPostgres(onCleanup, { auth: "scram", password: "pg-Pass-4242" });
    const { ctx } = makeCheckContext({
      services: {
        cache: { kind: "redis", url: `redis://127.0.0.1:${redis.port}` },
        sessions: { kind: "redis", url: `redis://:not-it-9999@127.0.0.1:${redis.port}` },
        db: { kind: "postgres", url: `postgres://postgres@127.0.0.1:${pg.port}/postgres` },
        reports: { kind: "postgres", url: `postgres://postgres:wrong-Pass-1@127.0.0.1:${pg.port}/postgres` },
        good: { kind: "redis", url: redis.url },
      },
    });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["cache", "UNVERIFIED", "passwordMissing"],
      ["sessions", "UNVERIFIED", "credentialsRejected"],
      ["db", "UNVERIFIED", "passwordMissing"],
      ["reports", "UNVERIFIED", "credentialsRejected"],
      ["good", "PASS", "fast"],
    ]);
    expect(findings[0]!.toVerify).toMatch(/REDIS_PASSWORD/);
    const text = JSON.stringify(findings);
    for (const secret of ["redis-Pass-4242", "not-it-9999", "wrong-Pass-1"])
      expect(text).not.toContain(secret);
  }, 60_000);

  it("is UNVERIFIED without a url and N/A without datastores", async () => {
    const { ctx } = makeCheckContext({ services: { cache: { kind: "redis" } } });
    const [finding] = await check.run(ctx);
    expect(finding).toMatchObject({ status: "UNVERIFIED", messageId: "noUrl" });
    expect(
      check.applies(makeCheckContext({ services: { api: {} } }).ctx.spec, { allowDestructive: false }),
    ).toEqual({ applies: false, reason: "no service of kind redis, postgres or pgbouncer" });
  });
});
