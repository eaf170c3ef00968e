// metricsExposed without a server: a datastore whose metrics is a path joined to its redis:// url is not scraped (and
// its password never reaches a finding or the observation); a metrics URL's credentials are kept out of what is recorded.
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/observability/metricsExposed.js";
import { withoutCredentials } from "../../../src/engines/metrics/scrape.js";
import { makeCheckContext } from "../../support/checkContext.js";

describe("metricsExposed", () => {
  it("says a datastore's metrics come from its exporter when its metrics is a path on a redis:// url", async () => {
    const { ctx } = makeCheckContext({
      services: { cache: { kind: "redis", url: "redis://:s3cret-Pw@127.0.0.1:6379", metrics: "/metrics" } },
    });
    const observation = await check.observe(ctx);
    const findings = check.judge(observation, ctx.spec);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["cache", "UNVERIFIED", "unusableUrl"],
    ]);
    expect(findings[0]!.toVerify).toContain("redis_exporter");
    expect(JSON.stringify({ observation, findings })).not.toContain("s3cret-Pw");
  });

  it("records a URL without its user and password", () => {
    expect(withoutCredentials("http://scraper:pa55@127.0.0.1:9121/metrics")).toBe(
      "http://127.0.0.1:9121/metrics",
    );
    expect(withoutCredentials("http://127.0.0.1:9121/metrics")).toBe("http://127.0.0.1:9121/metrics");
    expect(withoutCredentials("/metrics")).toBe("/metrics");
  });
});
