// alertsDelivered against a real Alertmanager 0.25 (one per file) whose routes send the synthetic alert to Gauntlet's
// webhook, to a receiver with no integrations (dropped), or to a pager (never posted).
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import check from "../../../src/checks/observability/alertsDelivered.js";
import { AlertmanagerClient } from "../../../src/engines/alertmanager/client.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { freePort, type MonitoringProcess, startAlertmanager } from "../../support/monitoring.js";

let alertmanager: MonitoringProcess;
let webhookUrl: string;

beforeAll(async () => {
  webhookUrl = `http://127.0.0.1:${await freePort()}/alerts`;
  alertmanager = await startAlertmanager(`
route:
  receiver: nobody
  group_by: ['...']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['gauntlet="delivery-check"']
      receiver: gauntlet
    - matchers: ['gauntlet="dropped"']
      receiver: blackhole
    - matchers: ['team="payments"']
      receiver: pager
receivers:
  - name: nobody
  - name: blackhole
  - name: gauntlet
    webhook_configs:
      - url: ${webhookUrl}
        send_resolved: false
  - name: pager
    pagerduty_configs:
      - routing_key: not-a-real-key
`);
}, 60_000);

afterAll(async () => {
  await alertmanager?.stop();
});

function context(alertReceiver?: { url: string; labels?: Record<string, string>; timeout?: string }) {
  // Through the real spec schema, so durations and defaults are what a gauntlet.yaml would give.
  const test = makeCheckContext(
    { monitoring: { alertmanager: alertmanager.url, ...(alertReceiver ? { alertReceiver } : {}) } },
    { checkId: "alertsDelivered" },
  );
  // The check's undo actions (close the webhook, resolve the alert) run even when the test fails before it does.
  onTestFinished(async () => {
    await test.rollbacks.runAll();
  });
  return test;
}

/** Runs the check and its undo actions, as the runner would; an undo that fails fails the test. */
async function run(test: ReturnType<typeof context>) {
  const findings = await check.run(test.ctx);
  expect(await test.rollbacks.runAll()).toEqual([]);
  return findings;
}

const verdicts = (findings: { subject?: string; status: string; messageId?: string }[]) =>
  findings.map((f) => [f.subject, f.status, f.messageId]);

async function activeAlerts(matcher: string) {
  return new AlertmanagerClient(alertmanager.url).alerts([matcher]);
}

describe("alertsDelivered (real Alertmanager)", () => {
  it("delivers a synthetic alert to Gauntlet's receiver, measures the time and resolves the alert", async () => {
    const test = context({ url: webhookUrl, labels: { gauntlet: "delivery-check" } });
    const findings = await run(test);
    expect(verdicts(findings)).toEqual([["alertmanager", "PASS", "delivered"]]);
    const [finding] = findings;
    const delivery = finding!.measurements!.find((m) => m.name === "alert delivery time")!;
    expect(delivery.unit).toBe("ms");
    expect(delivery.value).toBeGreaterThan(0);
    expect(delivery.value).toBeLessThan(15_000);
    const evidence = JSON.parse(test.readEvidence(delivery.evidence!));
    expect(evidence).toMatchObject({ delivered: true, deliveryMs: delivery.value });
    expect(evidence.notifications[0].payload.receiver).toBe("gauntlet");
    // The rollback posted endsAt: Alertmanager no longer lists it as active.
    const runId = JSON.parse(String(finding!.data!.labels)).gauntlet_check;
    expect(await activeAlerts(`gauntlet_check="${runId}"`)).toEqual([]);
  });

  it("finds the loopback webhook in Alertmanager's config when the spec names none", async () => {
    const findings = await run(context());
    expect(verdicts(findings)).toEqual([["alertmanager", "PASS", "delivered"]]);
    expect(findings[0]!.data).toMatchObject({ receiverSource: "config", receiver: "gauntlet" });
  });

  it("fails, naming the route and the receiver, when the route drops the alert", async () => {
    const findings = await run(context({ url: webhookUrl, labels: { gauntlet: "dropped" }, timeout: "4s" }));
    expect(verdicts(findings)).toEqual([["alertmanager", "FAIL", "notDelivered"]]);
    const explanation = String(findings[0]!.data!.explanation);
    expect(explanation).toContain('route.routes[1] {gauntlet="dropped"}');
    expect(explanation).toContain('receiver "blackhole"');
    expect(explanation).toContain("no integrations");
    expect(findings[0]!.data!.apiReceivers).toEqual(["blackhole"]);
  });

  it("does not post an alert that would page someone; routing is explained and delivery UNVERIFIED", async () => {
    const findings = await run(context({ url: webhookUrl, labels: { team: "payments" } }));
    expect(verdicts(findings)).toEqual([["alertmanager", "UNVERIFIED", "wouldNotifyPeople"]]);
    expect(findings[0]!.message).toContain("pagerduty");
    expect(findings[0]!.message).toContain('receiver "pager"');
    expect(findings[0]!.toVerify).toBeTruthy();
    expect(await activeAlerts('team="payments"')).toEqual([]);
  });

  it("is UNVERIFIED, without posting, when something else already listens on the receiver URL", async () => {
    const squatter = http.createServer((_req, res) => res.end());
    await new Promise<void>((resolve) =>
      squatter.listen(Number(new URL(webhookUrl).port), "127.0.0.1", resolve),
    );
    onTestFinished(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const findings = await run(context({ url: webhookUrl, labels: { gauntlet: "delivery-check" } }));
    expect(verdicts(findings)).toEqual([["alertmanager", "UNVERIFIED", "cannotListen"]]);
    expect(findings[0]!.toVerify).toContain(webhookUrl);
    expect(await activeAlerts('gauntlet="delivery-check"')).toEqual([]);
  });
});
