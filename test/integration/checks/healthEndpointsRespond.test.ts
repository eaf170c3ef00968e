// Real node:http servers on loopback ephemeral ports: fast, slow-but-in-time, too slow, erroring, redirecting, closed.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import check from "../../../src/checks/observability/healthEndpointsRespond.js";
import type { FindingInput } from "../../../src/core/types.js";
import { makeCheckContext } from "../../support/checkContext.js";

const servers: http.Server[] = [];

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

const delayed =
  (ms: number, status = 200): http.RequestListener =>
  (_req, res) => {
    setTimeout(() => {
      res.writeHead(status, { "content-type": "text/plain", "set-cookie": "session=abc123xyz" });
      res.end("ok");
    }, ms);
  };

let findings: FindingInput[];
let readEvidence: (relative: string) => string;
const bySubject = (subject: string) => {
  const found = findings.find((f) => f.subject === subject);
  if (!found) throw new Error(`no finding for ${subject}`);
  return found;
};

beforeAll(async () => {
  const ok = await serve((req, res) => {
    if (req.url !== "/healthz") {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: "up", detail: "x".repeat(5_000) }));
  });
  const error = await serve((_req, res) => {
    res.writeHead(500, { "content-type": "text/plain" });
    res.end("database unavailable");
  });
  const redirect = await serve((_req, res) => {
    res.writeHead(302, { location: "/login" });
    res.end();
  });
  const slowButInTime = await serve(delayed(1_200));
  const tooSlow = await serve(delayed(2_600));
  const closed = await closedPortUrl();

  const context = makeCheckContext({
    services: {
      ok: { url: ok, health: "/healthz" },
      fullUrl: { health: `${ok}/healthz` },
      error: { url: error, health: "/health" },
      redirect: { url: redirect, health: "/health" },
      slow: { url: slowButInTime, health: "/health" },
      tooSlow: { url: tooSlow, health: "/health" },
      down: { url: closed, health: "/health" },
      noHealth: { url: ok },
    },
  });
  readEvidence = context.readEvidence;
  findings = await check.run(context.ctx);
}, 20_000);

afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describe("healthEndpointsRespond against real servers", () => {
  it("reports one finding per service with health, none for the others", () => {
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["ok", "PASS", "healthy"],
      ["fullUrl", "PASS", "healthy"],
      ["error", "FAIL", "errorStatus"],
      ["redirect", "FAIL", "redirects"],
      ["slow", "WARN", "slow"],
      ["tooSlow", "FAIL", "noAnswer"],
      ["down", "FAIL", "unreachable"],
    ]);
  });

  it("passes a fast 2xx, by path and by full URL, with latency and evidence", () => {
    for (const subject of ["ok", "fullUrl"]) {
      const finding = bySubject(subject);
      expect(finding.status).toBe("PASS");
      const latency = finding.measurements?.find((m) => m.name === "latency");
      expect(latency?.unit).toBe("ms");
      expect(latency!.value).toBeGreaterThan(0);
      expect(latency!.value).toBeLessThan(1_000);
      expect(latency!.evidence).toBe(finding.evidence![0]);
    }
    const evidence = JSON.parse(readEvidence(bySubject("ok").evidence![0]!));
    expect(evidence).toMatchObject({ status: 200, followRedirects: false, bodyTruncated: true });
    expect(evidence.headers["content-type"]).toBe("application/json");
    expect(evidence.body.length).toBe(2048);
  });

  it("fails a 5xx and a redirect, recording the status", () => {
    expect(bySubject("error")).toMatchObject({ status: "FAIL", data: { status: 500 } });
    expect(bySubject("redirect")).toMatchObject({ status: "FAIL", data: { status: 302 } });
    expect(bySubject("error").measurements?.some((m) => m.name === "latency")).toBe(true);
  });

  it("warns for a 2xx slower than 1 s", () => {
    const slow = bySubject("slow");
    expect(slow.status).toBe("WARN");
    expect(slow.measurements?.find((m) => m.name === "latency")?.value).toBeGreaterThanOrEqual(1_150);
  });

  it("fails, not UNVERIFIED, for a timeout and a refused connection", () => {
    expect(bySubject("tooSlow")).toMatchObject({ status: "FAIL", data: { error: "timeout" } });
    expect(bySubject("down")).toMatchObject({ status: "FAIL", data: { error: "refused" } });
    const evidence = JSON.parse(readEvidence(bySubject("down").evidence![0]!));
    expect(evidence).toMatchObject({ ok: false, error: { kind: "refused" } });
  });

  it("keeps only selected headers as evidence (no cookies)", () => {
    const evidence = readEvidence(bySubject("slow").evidence![0]!);
    expect(evidence).not.toContain("abc123xyz");
  });
});
