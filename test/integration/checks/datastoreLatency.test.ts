import net from "node:net";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/performance/datastoreLatency.js";
import { makeCheckContext } from "../../support/checkContext.js";

const redisUrl = process.env.GAUNTLET_TEST_REDIS_URL;
const pgUrl = process.env.GAUNTLET_TEST_PG_URL;

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("datastoreLatency against real Redis and PostgreSQL", () => {
  it.runIf(redisUrl && pgUrl)("measures PING and SELECT 1 and passes on loopback", async () => {
    const { ctx, readEvidence } = makeCheckContext({
      services: {
        cache: { kind: "redis", url: redisUrl! },
        db: { kind: "postgres", url: pgUrl! },
        api: { url: "http://127.0.0.1:9" },
      },
    });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status])).toEqual([
      ["cache", "PASS"],
      ["db", "PASS"],
    ]);
    const evidence = JSON.parse(readEvidence(findings[1]!.evidence![0]!));
    expect(evidence).toMatchObject({ ok: true, command: "SELECT 1", samples: 200, failures: 0 });
    expect(evidence.latency.p95).toBeGreaterThan(0);
    expect(findings[0]!.measurements![0]!.name).toBe("cache p95");
  });

  it("fails when the datastore refuses the connection", async () => {
    const port = await closedPort();
    const { ctx } = makeCheckContext({
      services: {
        cache: { kind: "redis", url: `redis://127.0.0.1:${port}` },
        db: { kind: "postgres", url: `postgres://app:s3cretpw@127.0.0.1:${port}/app` },
      },
    });
    const findings = await check.run(ctx);
    expect(findings.map((f) => f.status)).toEqual(["FAIL", "FAIL"]);
    expect(findings[0]!.message).toMatch(/cannot connect/);
    expect(findings[1]!.data?.code).toBe("ECONNREFUSED");
    expect(JSON.stringify(findings)).not.toContain("s3cretpw");
  });

  it("is UNVERIFIED without a url and N/A without datastores", () => {
    const { ctx } = makeCheckContext({ services: { cache: { kind: "redis" } } });
    return check.run(ctx).then(([finding]) => {
      expect(finding!.status).toBe("UNVERIFIED");
      expect(
        check.applies(makeCheckContext({ services: { api: {} } }).ctx.spec, { allowDestructive: false }),
      ).toEqual({
        applies: false,
        reason: "no service of kind redis or postgres",
      });
    });
  });
});
