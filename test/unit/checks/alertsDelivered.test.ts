// Cases that need no Alertmanager; delivery through a real one is in test/integration/observability/alertsDelivered.test.ts.
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/observability/alertsDelivered.js";
import { readAlertReceiver } from "../../../src/engines/alertmanager/alertReceiver.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { freePort } from "../../support/monitoring.js";

describe("alertsDelivered", () => {
  it("is N/A without monitoring.alertmanager", () => {
    const { ctx } = makeCheckContext({ monitoring: { prometheus: "http://127.0.0.1:9090" } });
    expect(check.applies(ctx.spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });

  it("is UNVERIFIED when Alertmanager is not reachable", async () => {
    const { ctx } = makeCheckContext({
      monitoring: { alertmanager: `http://127.0.0.1:${await freePort()}` },
    });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["alertmanager", "UNVERIFIED", "alertmanagerUnreachable"],
    ]);
    expect(findings[0]!.toVerify).toContain("docs/monitoring-demo.md");
  });

  it("reads monitoring.alertReceiver with defaults and durations", () => {
    const { ctx } = makeCheckContext({
      monitoring: { alertReceiver: { url: "http://127.0.0.1:19095/alerts", timeout: "20s" } },
    });
    expect(readAlertReceiver(ctx.spec)).toEqual({
      url: "http://127.0.0.1:19095/alerts",
      labels: {},
      timeout: 20_000,
    });
  });
});
