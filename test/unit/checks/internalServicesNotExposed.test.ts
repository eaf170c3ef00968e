import { describe, expect, it } from "vitest";
import check, {
  type ExposureObservation,
  type HostProbes,
  observeExposure,
  parseTarget,
  systemProbes,
} from "../../../src/checks/security/internalServicesNotExposed.js";
import {
  type ConnectResult,
  type ListenerTable,
  parseProcNetTcp,
} from "../../../src/engines/net/listeners.js";
import { type SpecInput, specSchema } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";

// Port 5432 (0x1538) on 127.0.0.1; port 6379 (0x18EB) on 0.0.0.0; port 11211 (0x2BCB) on the private 10.0.0.5;
// port 3306 (0x0CEA) on the public 203.0.113.7; port 8080 (0x1F90) on :: and ::1.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 7913 1 0000000000000000 100 0 0 10 0
   1: 00000000:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   102        0 7914 1 0000000000000000 100 0 0 10 0
   2: 0500000A:2BCB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   103        0 7915 1 0000000000000000 100 0 0 10 0
   3: 077100CB:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   104        0 7916 1 0000000000000000 100 0 0 10 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11456 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11457 1 0000000000000000 100 0 0 10 0
`;

function table(complete = true): ListenerTable {
  return {
    listeners: [...parseProcNetTcp(TCP, true), ...parseProcNetTcp(TCP6, true)],
    sources: [
      { path: "/proc/net/tcp", read: true },
      complete
        ? { path: "/proc/net/tcp6", read: true }
        : { path: "/proc/net/tcp6", read: false, error: "EACCES" },
    ],
    complete,
  };
}

function probes(overrides: Partial<HostProbes> = {}): HostProbes {
  return {
    identify: async (host) => ({ local: host === "127.0.0.1" || host === "localhost", addresses: [host] }),
    readListeners: async () => table(),
    canConnect: async () => {
      throw new Error("canConnect must not be called for a local host");
    },
    hostname: () => "gauntlet-test-host",
    localAddresses: () => ["127.0.0.1", "::1"],
    ...overrides,
  };
}

const connectResult = (outcome: ConnectResult["outcome"]): ConnectResult => ({
  host: "db.remote.test",
  port: 5432,
  reachable: outcome === "connected",
  outcome,
  latencyMs: 1.5,
});

async function judge(services: SpecInput["services"], overrides: Partial<HostProbes> = {}) {
  const { ctx, readEvidence } = makeCheckContext({ services });
  const findings = check.judge(await observeExposure(ctx, probes(overrides)), ctx.spec);
  return { findings, readEvidence };
}

describe("internalServicesNotExposed meta", () => {
  it("is a critical security check named after its file", () => {
    expect(check.meta).toMatchObject({
      id: "internalServicesNotExposed",
      category: "security",
      risk: "critical",
    });
    expect(check.meta.remediation.text).toContain("{{service}}");
  });

  it("applies only when a service is internal", () => {
    const opts = { allowDestructive: false };
    const spec = (services: Record<string, unknown>) =>
      specSchema.parse({ version: 1, system: { name: "t" }, services });
    expect(
      check.applies(spec({ api: { url: "http://127.0.0.1:1", exposure: "public" } }), opts),
    ).toMatchObject({
      applies: false,
    });
    expect(check.applies(spec({ db: { kind: "postgres", exposure: "internal" } }), opts)).toBe(true);
  });

  it("uses the real machine by default", () => {
    expect(systemProbes.hostname()).toBeTruthy();
    expect(systemProbes.localAddresses()).toContain("127.0.0.1");
  });
});

describe("parseTarget", () => {
  it.each([
    ["postgres://app:pw@127.0.0.1/app", 5432, "scheme default"],
    ["redis://127.0.0.1", 6379, "scheme default"],
    ["mysql://db", 3306, "scheme default"],
    ["mongodb://db", 27017, "scheme default"],
    ["memcached://db", 11211, "scheme default"],
    ["amqp://mq", 5672, "scheme default"],
    ["http://127.0.0.1", 80, "scheme default"],
    ["https://127.0.0.1", 443, "scheme default"],
    ["redis://127.0.0.1:6380", 6380, "url"],
  ])("%s → port %i (%s)", (url, port, portFrom) => {
    expect(parseTarget(url)).toMatchObject({ port, portFrom });
  });

  it("strips IPv6 brackets and gives up on unknown schemes without a port", () => {
    expect(parseTarget("redis://[::1]:6379")).toMatchObject({ host: "::1", port: 6379 });
    expect(parseTarget("kafka://broker")).toBeNull();
  });
});

describe("internalServicesNotExposed judgement on this host", () => {
  it("passes when the port listens on loopback only", async () => {
    const { findings, readEvidence } = await judge({
      db: { kind: "postgres", url: "postgres://127.0.0.1:5432/app", exposure: "internal" },
    });
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([["db", "PASS", "loopbackOnly"]]);
    expect(findings[0]!.measurements?.map((m) => m.name)).toEqual(["listeners", "exposedListeners"]);
    const evidence = JSON.parse(readEvidence(findings[0]!.evidence![0]!));
    expect(evidence.procLines).toEqual([expect.stringMatching(/0100007F:1538/)]);
  });

  it("fails naming the wildcard address and port", async () => {
    const { findings } = await judge({
      cache: { kind: "redis", url: "redis://localhost", exposure: "internal" },
    });
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([["cache", "FAIL", "exposed"]]);
    expect(findings[0]!.data?.exposed).toEqual(["0.0.0.0:6379"]);
  });

  it("warns for a private-network address: reachable beyond loopback, but not from everywhere", async () => {
    const { findings } = await judge({
      sessions: { kind: "memcached", url: "memcached://127.0.0.1:11211", exposure: "internal" },
    });
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["sessions", "WARN", "privateNetwork"],
    ]);
    expect(findings[0]!.data?.exposed).toEqual(["10.0.0.5:11211"]);
  });

  it("fails for a public address", async () => {
    const { findings } = await judge({
      db: { kind: "mysql", url: "mysql://127.0.0.1:3306/app", exposure: "internal" },
    });
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([["db", "FAIL", "exposed"]]);
    expect(findings[0]!.data?.exposed).toEqual(["203.0.113.7:3306"]);
  });

  it("fails for an IPv6 wildcard even when loopback also listens", async () => {
    const { findings } = await judge({ admin: { url: "http://127.0.0.1:8080", exposure: "internal" } });
    expect(findings[0]).toMatchObject({ status: "FAIL", subject: "admin", messageId: "exposed" });
    expect(findings[0]!.data?.exposed).toEqual(["[::]:8080"]);
  });

  it("is UNVERIFIED when nothing listens on the port", async () => {
    const { findings } = await judge({ db: { url: "postgres://127.0.0.1:15432/app", exposure: "internal" } });
    expect(findings[0]).toMatchObject({
      status: "UNVERIFIED",
      subject: "db",
      messageId: "notListening",
      data: { port: 15432 },
    });
    expect(findings[0]!.toVerify).toBeTruthy();
  });

  it("is UNVERIFIED when the socket tables cannot be read", async () => {
    const { findings } = await judge(
      { db: { url: "postgres://127.0.0.1:5432/app", exposure: "internal" } },
      { readListeners: async () => Promise.reject(new Error("ENOENT /proc/net/tcp")) },
    );
    expect(findings[0]).toMatchObject({
      status: "UNVERIFIED",
      subject: "db",
      messageId: "socketTablesUnreadable",
    });
    expect(findings[0]!.toVerify).toBeTruthy();
  });

  it("does not pass on loopback-only when an IPv6 table could not be read", async () => {
    const { findings } = await judge(
      { db: { url: "postgres://127.0.0.1:5432/app", exposure: "internal" } },
      { readListeners: async () => table(false) },
    );
    expect(findings[0]).toMatchObject({ status: "UNVERIFIED", messageId: "socketTablesIncomplete" });
  });

  it("is UNVERIFIED for an internal service without url or port", async () => {
    const { findings } = await judge({
      db: { kind: "postgres", exposure: "internal" },
      bus: { kind: "kafka", url: "kafka://broker", exposure: "internal" },
    });
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["db", "UNVERIFIED", "noUrl"],
      ["bus", "UNVERIFIED", "noPort"],
    ]);
  });

  it("keeps no password of a url in what it observed", async () => {
    const { ctx } = makeCheckContext({
      services: { db: { url: "postgres://app:Hunter2-pw-9f@127.0.0.1:5432/app", exposure: "internal" } },
    });
    const observation = await observeExposure(ctx, probes());
    expect(JSON.stringify(observation)).not.toContain("Hunter2-pw-9f");
    expect(check.judge(observation, ctx.spec).map((f) => f.messageId)).toEqual(["loopbackOnly"]);
  });

  it("keeps each service once probed, so a timeout still judges the services already seen", async () => {
    const { ctx } = makeCheckContext({
      services: {
        db: { url: "postgres://127.0.0.1:5432/app", exposure: "internal" },
        cache: { kind: "redis", url: "redis://localhost", exposure: "internal" },
      },
    });
    const kept: string[][] = [];
    ctx.keepPartial = (o) => kept.push((o as ExposureObservation).services.map((s) => s.service));
    await observeExposure(ctx, probes());
    expect(kept).toEqual([["db"], ["db", "cache"]]);
  });

  it("ignores public services", async () => {
    const { findings } = await judge({
      api: { url: "http://127.0.0.1:6379", exposure: "public" },
      db: { url: "postgres://127.0.0.1:5432/app", exposure: "internal" },
    });
    expect(findings.map((f) => f.subject)).toEqual(["db"]);
  });
});

describe("internalServicesNotExposed judgement of another host", () => {
  const remote: SpecInput["services"] = {
    db: { kind: "postgres", url: "postgres://db.remote.test:5432/app", exposure: "internal" },
  };

  it("fails when the port is reachable from here", async () => {
    const { findings } = await judge(remote, { canConnect: async () => connectResult("connected") });
    expect(findings[0]).toMatchObject({
      status: "FAIL",
      subject: "db",
      messageId: "reachable",
      data: { from: "gauntlet-test-host" },
    });
    expect(findings[0]!.measurements?.map((m) => m.name)).toEqual(["connectTime"]);
  });

  it.each(["refused", "timeout", "unreachable"] as const)(
    "passes when the connection is %s",
    async (outcome) => {
      const { findings } = await judge(remote, { canConnect: async () => connectResult(outcome) });
      expect(findings[0]).toMatchObject({
        status: "PASS",
        subject: "db",
        messageId: "unreachable",
        data: { outcome },
      });
    },
  );

  it("is UNVERIFIED when the host does not resolve", async () => {
    const { findings } = await judge(remote, {
      identify: async () => ({ local: false, addresses: [], error: "ENOTFOUND" }),
    });
    expect(findings[0]).toMatchObject({ status: "UNVERIFIED", subject: "db", messageId: "unresolvable" });
  });

  it("is UNVERIFIED for an inconclusive connection error", async () => {
    const { findings } = await judge(remote, { canConnect: async () => connectResult("other") });
    expect(findings[0]).toMatchObject({ status: "UNVERIFIED", messageId: "connectInconclusive" });
  });
});
