// Does a firing alert actually reach a receiver? Gauntlet listens on the loopback webhook URL that Alertmanager's
// configuration routes to (monitoring.alertReceiver, or a loopback webhook_configs URL found in the config), posts a
// synthetic alert to Alertmanager's API, and measures the time until the notification arrives. It never posts when the
// alert would also reach a real notification channel (pager, chat, mail): then routing is explained and delivery is
// UNVERIFIED. The synthetic alert is resolved afterwards (posted again with endsAt) through ctx.rollbacks.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { type AlertReceiverSpec, readAlertReceiver } from "../../engines/alertmanager/alertReceiver.js";
import { AlertmanagerClient, type GettableAlert } from "../../engines/alertmanager/client.js";
import {
  type AlertmanagerConfig,
  allRoutes,
  describeMatchers,
  type Integration,
  labelsRoutingTo,
  matchRoutes,
  parseAlertmanagerConfig,
  type Route,
} from "../../engines/alertmanager/routing.js";
import {
  isLoopback,
  sameEndpoint,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../../engines/alertmanager/webhookReceiver.js";
import { ApiError } from "../../engines/prometheus/apiRequest.js";

const ALERT_NAME = "GauntletDeliveryCheck";
const TIMEOUT_MS = 90_000;
/** Margin over the route's group_wait before declaring the alert lost. */
const DELIVERY_MARGIN_MS = 15_000;
/** Longest wait Gauntlet allows itself, leaving time to resolve the alert and write evidence. */
const MAX_WAIT_MS = TIMEOUT_MS - 20_000;
/** The synthetic alert ends by itself after this, even if the rollback that resolves it never runs. */
const SELF_RESOLVE_MS = 10 * 60_000;

export default defineCheck({
  meta: {
    id: "alertsDelivered",
    category: "observability",
    risk: "critical",
    destructive: false,
    title: "Alerts reach a receiver",
    objective:
      "A synthetic alert posted to Alertmanager is routed to a receiver and delivered to Gauntlet's webhook, and the delivery time is measured.",
    remediation: {
      effort: "medium",
      text: "Route alerts to a receiver that notifies someone: {{explanation}} Add a route whose matchers select {{labels}} and whose receiver has a webhook_configs url of {{url}} (group_wait of a few seconds), or fix the silence or inhibition that hides it.",
    },
    timeoutMs: TIMEOUT_MS,
  },

  applies(spec) {
    return spec.monitoring?.alertmanager ? true : notApplicable("monitoring.alertmanager is not set");
  },

  async run(ctx) {
    const base = ctx.spec.monitoring!.alertmanager!;
    const receiverSpec = readAlertReceiver(ctx.spec);
    const client = new AlertmanagerClient(base, { signal: ctx.signal });
    let config: AlertmanagerConfig;
    try {
      const status = await client.status();
      await ctx.evidence.write("alertmanager-config.yml", status.config.original);
      config = parseAlertmanagerConfig(status.config.original);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return [
        {
          status: "UNVERIFIED",
          subject: "alertmanager",
          message: `Alertmanager at ${base} cannot be queried (${error.message}), so alert delivery is not verified`,
          data: { alertmanager: base, error: error.message, explanation: error.message },
          toVerify: `start Alertmanager on ${base} (see docs/monitoring-demo.md for the demo's bundled config), or fix monitoring.alertmanager`,
        },
      ];
    }

    const runId = randomUUID();
    const plan = planDelivery(config, receiverSpec, runId);
    const routes = matchRoutes(config.route, plan.labels);
    const routing = routes.map((r) => describeRoute(config, r));
    const external = routes
      .flatMap((r) => config.receivers.get(r.receiver)?.integrations ?? [])
      .filter((i) => !isLoopbackWebhook(i));
    const data: Record<string, unknown> = {
      alertmanager: base,
      url: plan.url ?? "http://127.0.0.1:PORT/alerts",
      labels: JSON.stringify(plan.labels),
      routing,
      receiverSource: plan.source,
    };

    if (!plan.url || external.length > 0) {
      const reason = !plan.url
        ? "Alertmanager's configuration has no webhook receiver on loopback and the spec sets no monitoring.alertReceiver, so Gauntlet has nowhere to receive an alert"
        : `the alert would also go to ${external.map((i) => i.type).join(", ")}, a real notification channel Gauntlet must not page`;
      const explanation = `${reason}. By the configuration, an alert ${describeLabels(plan.labels)} is routed ${routing.join("; then ")}.`;
      const evidence = await ctx.evidence.writeJson("routing.json", {
        ...data,
        delivered: false,
        posted: false,
        explanation,
      });
      return [
        {
          status: "UNVERIFIED",
          subject: "alertmanager",
          message: `alert delivery not tested: ${explanation}`,
          data: { ...data, explanation },
          evidence: [evidence],
          toVerify:
            "add a receiver with webhook_configs: [{url: http://127.0.0.1:19095/alerts, send_resolved: false}] and a route matching a label such as gauntlet: delivery-check (group_by: ['...'], group_wait: 1s), then set monitoring.alertReceiver: {url: http://127.0.0.1:19095/alerts, labels: {gauntlet: delivery-check}}",
        },
      ];
    }
    return [await deliver(ctx, config, client, plan as Plan & { url: string }, routes, routing, data)];
  },
});

interface Plan {
  url?: string;
  labels: Record<string, string>;
  timeoutMs?: number;
  source: "spec" | "config" | "none";
}

/** Which webhook URL to listen on and which labels route a synthetic alert to it. */
function planDelivery(config: AlertmanagerConfig, receiver: AlertReceiverSpec | null, runId: string): Plan {
  const synthetic = { alertname: ALERT_NAME, gauntlet_check: runId };
  if (receiver) {
    const plan: Plan = { url: receiver.url, labels: { ...synthetic, ...receiver.labels }, source: "spec" };
    if (receiver.timeout !== undefined) plan.timeoutMs = receiver.timeout;
    return plan;
  }
  for (const route of allRoutes(config.route)) {
    const webhook = config.receivers.get(route.receiver)?.integrations.find(isLoopbackWebhook);
    if (!webhook?.url) continue;
    const labels = labelsRoutingTo(config.route, route);
    if (!labels) continue;
    const all = { ...synthetic, ...labels };
    if (matchRoutes(config.route, all).includes(route))
      return { url: webhook.url, labels: all, source: "config" };
  }
  return { labels: { ...synthetic, severity: "critical" }, source: "none" };
}

async function deliver(
  ctx: CheckContext,
  config: AlertmanagerConfig,
  client: AlertmanagerClient,
  plan: Plan & { url: string },
  routes: Route[],
  routing: string[],
  data: Record<string, unknown>,
): Promise<FindingInput> {
  let receiver: WebhookReceiver;
  try {
    receiver = await startWebhookReceiver(plan.url);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      status: "UNVERIFIED",
      subject: "alertmanager",
      message: `cannot listen on ${plan.url} to receive the synthetic alert: ${message}`,
      data: { ...data, explanation: message },
      toVerify: `free ${plan.url} (nothing else may listen there during the assessment) or point monitoring.alertReceiver at a free loopback port that Alertmanager routes to`,
    };
  }
  ctx.rollbacks.add("close the alert webhook receiver", () => receiver.close());
  const startsAt = new Date(ctx.clock.now());
  const alert = {
    labels: plan.labels,
    annotations: {
      summary: "Gauntlet alert delivery check: a synthetic alert, resolved when the check ends",
    },
    startsAt: startsAt.toISOString(),
    generatorURL: "https://gauntlet.invalid/alertsDelivered",
  };
  // Registered before posting so an abort mid-post still resolves whatever reached Alertmanager.
  const resolve = ctx.rollbacks.add("resolve the synthetic alert", () =>
    new AlertmanagerClient(client.baseUrl, { timeoutMs: 5_000 }).postAlerts([
      { ...alert, endsAt: new Date(Math.max(Date.now(), startsAt.getTime() + 1)).toISOString() },
    ]),
  );
  const groupWaitMs = Math.max(...routes.map((r) => r.groupWaitMs));
  const waitMs = Math.min(plan.timeoutMs ?? groupWaitMs + DELIVERY_MARGIN_MS, MAX_WAIT_MS);
  const posted = performance.now();
  try {
    await client.postAlerts([
      { ...alert, endsAt: new Date(startsAt.getTime() + SELF_RESOLVE_MS).toISOString() },
    ]);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return {
      status: "UNVERIFIED",
      subject: "alertmanager",
      message: `Alertmanager did not accept the synthetic alert (${error.message}), so delivery is not verified`,
      data: { ...data, explanation: error.message },
      toVerify:
        "check that Gauntlet may POST to Alertmanager's /api/v2/alerts (no read-only proxy or auth in front of it)",
    };
  }
  const ours = (labels: Record<string, string>) => labels.gauntlet_check === plan.labels.gauntlet_check;
  const notification = await receiver.waitFor(
    (n) => (n.payload.alerts ?? []).some((a) => ours(a.labels) && a.status === "firing"),
    waitMs,
    ctx.signal,
  );
  const deliveryMs = notification ? Math.round((notification.receivedAtMono - posted) * 10) / 10 : null;
  const seen: GettableAlert | undefined = (
    await client.alerts([`gauntlet_check="${plan.labels.gauntlet_check}"`]).catch(() => [])
  ).find((a) => ours(a.labels));
  await resolve.runNow();

  const apiReceivers = seen?.receivers.map((r) => r.name) ?? [];
  const evidenceBase = {
    ...data,
    posted: alert,
    waitedMs: waitMs,
    groupWaitMs,
    alertInAlertmanager: seen ?? null,
    notifications: receiver.notifications.map((n) => ({
      receivedAt: new Date(n.receivedAt).toISOString(),
      path: n.path,
      payload: n.payload,
    })),
  };
  if (notification && deliveryMs !== null) {
    const evidence = await ctx.evidence.writeJson("delivery.json", {
      ...evidenceBase,
      delivered: true,
      deliveryMs,
    });
    return {
      status: "PASS",
      subject: "alertmanager",
      message: `synthetic alert delivered to ${plan.url} via receiver ${notification.payload.receiver ?? apiReceivers.join(", ")} in ${deliveryMs} ms (route group_wait ${groupWaitMs / 1000} s)`,
      data: { ...data, deliveryMs, receiver: notification.payload.receiver, groupWaitMs },
      evidence: [evidence],
      measurements: [{ name: "alert delivery time", value: deliveryMs, unit: "ms", evidence }],
    };
  }
  const explanation = explain(config, plan, routes, routing, seen, waitMs);
  const evidence = await ctx.evidence.writeJson("delivery.json", {
    ...evidenceBase,
    delivered: false,
    explanation,
  });
  return {
    status: "FAIL",
    subject: "alertmanager",
    message: `synthetic alert never reached ${plan.url} within ${Math.round(waitMs / 1000)} s: ${explanation}`,
    data: { ...data, explanation, groupWaitMs, apiReceivers, state: seen?.status.state },
    evidence: [evidence],
  };
}

function explain(
  config: AlertmanagerConfig,
  plan: Plan & { url: string },
  routes: Route[],
  routing: string[],
  seen: GettableAlert | undefined,
  waitMs: number,
): string {
  const parts = [`Alertmanager routes ${describeLabels(plan.labels)} ${routing.join("; then ")}.`];
  if (seen && seen.receivers.length > 0)
    parts.push(`Its API lists the alert's receivers as ${seen.receivers.map((r) => r.name).join(", ")}.`);
  if (seen?.status.silencedBy.length)
    parts.push(`The alert is silenced by silence ${seen.status.silencedBy.join(", ")}.`);
  if (seen?.status.inhibitedBy.length)
    parts.push(`The alert is inhibited by ${seen.status.inhibitedBy.join(", ")}.`);
  if (!seen) parts.push("Alertmanager did not list the alert after it was posted.");
  const reachesUs = routes.some((r) => receiverPostsTo(config, r, plan.url));
  if (!reachesUs)
    parts.push(
      `No matched receiver has a webhook_configs url of ${plan.url}, so the alert is delivered elsewhere or dropped.`,
    );
  else
    parts.push(
      `The receiver does post to ${plan.url}, yet nothing arrived within ${Math.round(waitMs / 1000)} s; check Alertmanager's log for notify errors.`,
    );
  const muted = routes.filter((r) => r.muteTimeIntervals.length > 0);
  if (muted.length > 0)
    parts.push(
      `Route ${muted[0]!.path} has mute_time_intervals (${muted[0]!.muteTimeIntervals.join(", ")}).`,
    );
  return parts.join(" ");
}

function receiverPostsTo(config: AlertmanagerConfig, route: Route, url: string): boolean {
  const integrations = config.receivers.get(route.receiver)?.integrations ?? [];
  return integrations.some((i) => i.type === "webhook" && i.url !== undefined && sameEndpoint(i.url, url));
}

function describeRoute(config: AlertmanagerConfig, route: Route): string {
  const receiver = config.receivers.get(route.receiver);
  const integrations = receiver?.integrations ?? [];
  const to =
    integrations.length === 0
      ? "which has no integrations (alerts routed there are dropped)"
      : `which sends to ${integrations.map((i) => (i.url ? `${i.type} ${i.url}` : i.type)).join(", ")}`;
  const where =
    route.path === "route"
      ? "by the root route (no child route matched)"
      : `by ${route.path} ${describeMatchers(route.matchers)}`;
  return `${where} to receiver "${route.receiver}", ${to}`;
}

function describeLabels(labels: Record<string, string>): string {
  return `{${Object.entries(labels)
    .filter(([k]) => k !== "gauntlet_check")
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ")}}`;
}

function isLoopbackWebhook(integration: Integration): boolean {
  if (integration.type !== "webhook" || !integration.url) return false;
  try {
    return isLoopback(new URL(integration.url).hostname.replace(/^\[|\]$/g, ""));
  } catch {
    return false;
  }
}
