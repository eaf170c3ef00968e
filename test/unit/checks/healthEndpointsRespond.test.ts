import { describe, expect, it } from "vitest";
import check from "../../../src/checks/observability/healthEndpointsRespond.js";
import { healthUrl } from "../../../src/engines/http/serviceUrls.js";
import { specSchema } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";

const spec = (services: Record<string, unknown>) =>
  specSchema.parse({ version: 1, system: { name: "t" }, services });

describe("healthEndpointsRespond meta", () => {
  it("is a critical observability check named after its file", () => {
    expect(check.meta).toMatchObject({
      id: "healthEndpointsRespond",
      category: "observability",
      risk: "critical",
      destructive: false,
    });
    expect(check.meta.remediation.text).toContain("{{service}}");
  });

  it("applies only when some service declares health", () => {
    const opts = { allowDestructive: false };
    expect(check.applies(spec({ api: { url: "http://127.0.0.1:1" } }), opts)).toMatchObject({
      applies: false,
    });
    expect(check.applies(spec({}), opts)).toMatchObject({ applies: false });
    expect(check.applies(spec({ api: { url: "http://127.0.0.1:1", health: "/healthz" } }), opts)).toBe(true);
  });
});

describe("healthUrl", () => {
  it.each([
    [{ url: "http://127.0.0.1:8080", health: "/healthz" }, "http://127.0.0.1:8080/healthz"],
    [{ url: "http://127.0.0.1:8080/", health: "/healthz" }, "http://127.0.0.1:8080/healthz"],
    [{ url: "http://127.0.0.1:8080/api/", health: "healthz" }, "http://127.0.0.1:8080/api/healthz"],
    [
      { url: "http://127.0.0.1:8080/api?x=1", health: "/health?full=1" },
      "http://127.0.0.1:8080/api/health?full=1",
    ],
    [{ url: "https://u:p@svc.internal", health: "/ready" }, "https://u:p@svc.internal/ready"],
    [{ url: "http://127.0.0.1:8080", health: "http://127.0.0.1:9000/live" }, "http://127.0.0.1:9000/live"],
    [{ health: "https://status.example.test/ping" }, "https://status.example.test/ping"],
  ])("%j → %s", (service, expected) => {
    expect(healthUrl(service)).toBe(expected);
  });

  it("has no URL for a relative path without a service url", () => {
    expect(healthUrl({ health: "/healthz" })).toBeNull();
    expect(healthUrl({ url: "http://127.0.0.1:1" })).toBeNull();
  });
});

describe("healthEndpointsRespond run without a reachable target", () => {
  it("is UNVERIFIED, with what to add, for a relative health path and no url", async () => {
    const { ctx, readEvidence } = makeCheckContext({ services: { worker: { health: "/healthz" } } });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["worker", "UNVERIFIED", "noUrl"],
    ]);
    expect(findings[0]!.toVerify).toContain("services.worker.url");
    expect(JSON.parse(readEvidence(findings[0]!.evidence![0]!))).toMatchObject({ probed: false });
  });

  it("is UNVERIFIED for a health path on a non-HTTP url", async () => {
    const { ctx } = makeCheckContext({
      services: { cache: { kind: "redis", url: "redis://127.0.0.1:6379", health: "/ping" } },
    });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["cache", "UNVERIFIED", "notHttp"],
    ]);
    expect(findings[0]!.toVerify).toBeTruthy();
  });

  it("fails, not UNVERIFIED, when the host name does not resolve", async () => {
    const { ctx } = makeCheckContext({
      services: { api: { url: "http://gauntlet-test.invalid:8080", health: "/healthz" } },
    });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId, f.data?.error])).toEqual([
      ["api", "FAIL", "unreachable", "dns"],
    ]);
  });

  it("stops when the run is cancelled", async () => {
    const { ctx } = makeCheckContext(
      { services: { api: { url: "http://127.0.0.1:1", health: "/healthz" } } },
      { signal: AbortSignal.abort(new Error("cancelled")) },
    );
    await expect(check.run(ctx)).rejects.toThrow("cancelled");
  });
});
