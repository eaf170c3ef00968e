// Real listeners read from the real /proc/net/tcp{,6}: a server on 0.0.0.0 is exposed, one on 127.0.0.1 is not.
// The "another host" path uses a real TCP connect; only the answer to "is this host mine?" is replaced.
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import check, {
  observeExposure,
  systemProbes,
} from "../../../src/checks/security/internalServicesNotExposed.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { recordObservation } from "../../support/judgeFixtures.js";

const onCleanup = cleanupAfterEach();

async function listen(host: string): Promise<number> {
  const server = http.createServer((_req, res) => res.end("internal"));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

const verdicts = (findings: { subject?: string; status: string; messageId?: string }[]) =>
  findings.map((f) => [f.subject, f.status, f.messageId]);

describe("internalServicesNotExposed on this machine", () => {
  beforeAll(() => {
    // The check reads the kernel's socket tables: without them this test would prove nothing, so it says why.
    if (!existsSync("/proc/net/tcp")) {
      throw new Error("/proc/net/tcp is missing: run the integration tests on Linux with /proc mounted");
    }
  });

  it("fails a service listening on 0.0.0.0, naming address and port, and passes one on 127.0.0.1", async () => {
    const exposed = await listen("0.0.0.0");
    const loopback = await listen("127.0.0.1");
    const { ctx, readEvidence } = makeCheckContext({
      services: {
        exposedDb: { url: `http://127.0.0.1:${exposed}`, exposure: "internal" },
        privateDb: { url: `http://localhost:${loopback}`, exposure: "internal" },
        publicApi: { url: `http://127.0.0.1:${exposed}`, exposure: "public" },
      },
    });
    const findings = await check.run(ctx);
    expect(verdicts(findings)).toEqual([
      ["exposedDb", "FAIL", "exposed"],
      ["privateDb", "PASS", "loopbackOnly"],
    ]);
    expect(findings[0]!.data?.exposed).toEqual([`0.0.0.0:${exposed}`]);
    expect(findings[0]!.measurements?.find((m) => m.name === "exposedListeners")?.value).toBe(1);
    expect(findings[1]!.measurements?.find((m) => m.name === "exposedListeners")?.value).toBe(0);

    const portHex = exposed.toString(16).toUpperCase().padStart(4, "0");
    const evidence = JSON.parse(readEvidence(findings[0]!.evidence![0]!));
    expect(evidence.procLines).toEqual([expect.stringContaining(`00000000:${portHex} `)]);
  });

  it("fails a service listening on the IPv6 wildcard", async () => {
    const port = await listen("::");
    const { ctx } = makeCheckContext({
      services: { cache: { url: `http://[::1]:${port}`, exposure: "internal" } },
    });
    const findings = await check.run(ctx);
    expect(verdicts(findings)).toEqual([["cache", "FAIL", "exposed"]]);
    expect(findings[0]!.data?.exposed).toEqual([`[::]:${port}`]);
  });

  it("is UNVERIFIED when nothing listens on the port", async () => {
    const port = await closedPort();
    const { ctx } = makeCheckContext({
      services: { db: { url: `http://127.0.0.1:${port}`, exposure: "internal" } },
    });
    const findings = await check.run(ctx);
    expect(verdicts(findings)).toEqual([["db", "UNVERIFIED", "notListening"]]);
    expect(findings[0]!.data).toMatchObject({ port });
  });
});

describe("internalServicesNotExposed for another host (real connect)", () => {
  const elsewhere = {
    ...systemProbes,
    identify: async (host: string) => ({ local: false, addresses: [host] }),
  };

  it("fails when the port accepts a connection from here", async () => {
    const port = await listen("127.0.0.1");
    const { ctx, readEvidence } = makeCheckContext({
      services: { db: { url: `postgres://127.0.0.1:${port}/app`, exposure: "internal" } },
    });
    const findings = check.judge(await observeExposure(ctx, elsewhere), ctx.spec);
    expect(verdicts(findings)).toEqual([["db", "FAIL", "reachable"]]);
    expect(findings[0]!.data).toMatchObject({ outcome: "connected" });
    expect(findings[0]!.measurements?.[0]).toMatchObject({ name: "connectTime", unit: "ms" });
    expect(JSON.parse(readEvidence(findings[0]!.evidence![0]!)).connect).toMatchObject({ reachable: true });
  });

  it("passes when the connection is refused", async () => {
    const port = await closedPort();
    const { ctx } = makeCheckContext({
      services: { db: { url: `postgres://127.0.0.1:${port}/app`, exposure: "internal" } },
    });
    const findings = check.judge(await observeExposure(ctx, elsewhere), ctx.spec);
    expect(verdicts(findings)).toEqual([["db", "PASS", "unreachable"]]);
    expect(findings[0]!.data).toMatchObject({ outcome: "refused" });
  });

  it("is UNVERIFIED when the host name does not resolve", async () => {
    const { ctx } = makeCheckContext({
      services: { db: { url: "postgres://gauntlet-test.invalid:5432/app", exposure: "internal" } },
    });
    const findings = await check.run(ctx);
    expect(verdicts(findings)).toEqual([["db", "UNVERIFIED", "unresolvable"]]);
  });
});

describe("internalServicesNotExposed in compose files", () => {
  const AWESOME = path.resolve(import.meta.dirname, "../../fixtures/compose/awesome-compose");

  it("fails the datastores that real public compose files publish on every interface, at file:line", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-compose-"));
    for (const name of ["postgresql-pgadmin", "flask-redis", "nginx-golang-postgres"]) {
      copyFileSync(path.join(AWESOME, `${name}.yaml`), path.join(dir, `${name}.yaml`));
    }
    const spec = { deployment: { compose: ["*.yaml"] } };
    const { ctx } = makeCheckContext(spec, { specDir: dir });
    const observation = await check.observe(ctx);
    recordObservation("internalServicesNotExposed", "ng.compose-published", observation, spec);
    const findings = check.judge(observation, ctx.spec);
    expect(
      findings.map((f) => [f.subject, f.status, f.messageId, f.location?.path, f.location?.line]),
    ).toEqual([
      ["redis", "FAIL", "composePublishedEverywhere", "flask-redis.yaml", 5],
      ["db", "PASS", "composeNotPublished", "nginx-golang-postgres.yaml", 12],
      ["postgres", "FAIL", "composePublishedEverywhere", "postgresql-pgadmin.yaml", 10],
    ]);
    // The web front ends those files also publish are not datastores: not this check's business.
    expect(findings.some((f) => ["web", "pgadmin", "proxy"].includes(f.subject ?? ""))).toBe(false);
  });

  it("passes loopback-only and unpublished datastores", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-compose-"));
    writeFileSync(
      path.join(dir, "compose.yaml"),
      [
        "services:",
        "  db:",
        "    image: postgres:16",
        "    ports: ['127.0.0.1:5432:5432']",
        "  cache:",
        "    image: redis:7",
        "    ports:",
        "      - target: 6379",
        "        published: 6379",
        "        host_ip: 127.0.0.1",
        "  queue:",
        "    image: rabbitmq:3",
        "  api:",
        "    image: myorg/api:1",
        "    ports: ['8080:8080']",
        "",
      ].join("\n"),
    );
    const spec = {
      services: { api: { url: "http://127.0.0.1:8080", exposure: "public" as const } },
      deployment: { compose: ["compose.yaml"] },
    };
    const { ctx } = makeCheckContext(spec, { specDir: dir });
    const observation = await check.observe(ctx);
    recordObservation("internalServicesNotExposed", "ok.compose-loopback", observation, spec);
    const findings = check.judge(observation, ctx.spec);
    expect(verdicts(findings)).toEqual([
      ["db", "PASS", "composeNotPublished"],
      ["cache", "PASS", "composeNotPublished"],
      ["queue", "PASS", "composeNotPublished"],
    ]);
  });

  it("warns on a datastore with network_mode: host: no mapping limits where it listens", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-compose-"));
    writeFileSync(
      path.join(dir, "compose.yaml"),
      "services:\n  kv:\n    image: valkey/valkey:8\n    network_mode: host\n",
    );
    const { ctx } = makeCheckContext({ deployment: { compose: ["compose.yaml"] } }, { specDir: dir });
    expect(verdicts(await check.run(ctx))).toEqual([["kv", "WARN", "composeHostNetwork"]]);
  });

  it("is UNVERIFIED for a compose entry that matches no file", async () => {
    const { ctx } = makeCheckContext({ deployment: { compose: ["missing/compose.yaml"] } });
    expect(verdicts(await check.run(ctx))).toEqual([
      ["missing/compose.yaml", "UNVERIFIED", "composeUnreadable"],
    ]);
  });
});
