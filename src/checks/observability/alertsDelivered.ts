// Does a firing alert actually reach a receiver? Gauntlet listens on the loopback webhook URL that Alertmanager's
// configuration routes to (monitoring.alertReceiver, or a loopback webhook_configs URL found in the config), posts a
// synthetic alert to Alertmanager's API, and measures the time until the notification arrives. It never posts when the
// alert would also reach a real notification channel (pager, chat, mail): then routing is explained and delivery is
// UNVERIFIED. The synthetic alert is resolved afterwards (posted again with endsAt) through ctx.rollbacks.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { type AlertReceiverSpec, readAlertReceiver } from "../../engines/alertmanager/alertReceiver.js";
import { AlertmanagerClient } from "../../engines/alertmanager/client.js";
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
/** Time kept after the wait to resolve the alert and write evidence. */
const WIND_DOWN_MS = 20_000;
/** Longest wait Gauntlet allows itself, leaving time to resolve the alert and write evidence. */
const MAX_WAIT_MS = TIMEOUT_MS - WIND_DOWN_MS;
/** The synthetic alert ends by itself after this, even if the rollback that resolves it never runs. */
const SELF_RESOLVE_MS = 10 * 60_000;
/** Where the fix tells the user to point a receiver when Gauntlet knows of none. */
const PLACEHOLDER_URL = "http://127.0.0.1:PORT/alerts";

/** Which webhook URL Gauntlet listens on and which labels route the synthetic alert to it. */
export interface DeliveryPlan {
  /** The loopback webhook; absent when neither the spec nor Alertmanager's configuration names one. */
  url?: string;
  labels: Record<string, string>;
  timeoutMs?: number;
  source: "spec" | "config" | "none";
}

export interface DeliveryAttempt {
  evidence: string;
  waitedMs: number;
  groupWaitMs: number;
  /** The first notification of the synthetic alert that reached Gauntlet's webhook; null when none did in time. */
  notification: { receiver?: string; deliveryMs: number } | null;
  /** The alert as Alertmanager's API listed it after the wait; null when it did not list it. */
  alertInAlertmanager: {
    receivers: string[];
    state: string;
    silencedBy: string[];
    inhibitedBy: string[];
  } | null;
}

export interface AlertsDeliveredObservation {
  alertmanager: string;
  unreachable?: { error: string; kind: ApiError["kind"]; evidence: string };
  /** Alertmanager's loaded configuration as it reports it (config.original), and the evidence file holding it. */
  config?: { text: string; evidence: string };
  plan?: DeliveryPlan;
  /** Whether the synthetic alert was posted; it is not when there is no receiver or a real channel would get it. */
  posted?: boolean;
  /** Evidence of the routing when nothing was posted. */
  routingEvidence?: string;
  /** Gauntlet could not listen on the plan's URL. */
  listenError?: string;
  /** Alertmanager refused the synthetic alert. */
  postError?: string;
  delivery?: DeliveryAttempt;
}

export default defineCheck<AlertsDeliveredObservation>({
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
    messages: {
      delivered: "the synthetic alert reached Gauntlet's webhook; the delivery time is measured",
      notDelivered: "the synthetic alert was posted but never reached Gauntlet's webhook in time",
      noLoopbackReceiver:
        "there is no loopback webhook receiver to deliver a synthetic alert to, so nothing was posted",
      wouldNotifyPeople:
        "the synthetic alert would also reach a real notification channel, so it was not posted",
      cannotListen: "Gauntlet cannot listen on the receiver URL",
      postRefused: "Alertmanager did not accept the synthetic alert",
      alertmanagerUnreachable: "Alertmanager cannot be queried",
    },
    timeoutMs: TIMEOUT_MS,
  },

  applies(spec) {
    return spec.monitoring?.alertmanager ? true : notApplicable("monitoring.alertmanager is not set");
  },

  async observe(ctx) {
    const base = ctx.spec.monitoring!.alertmanager!;
    const observation: AlertsDeliveredObservation = { alertmanager: base };
    const client = new AlertmanagerClient(base, { signal: ctx.signal });
    let config: AlertmanagerConfig;
    try {
      const text = (await client.status()).config.original;
      observation.config = { text, evidence: await ctx.evidence.write("alertmanager-config.yml", text) };
      config = parseAlertmanagerConfig(text);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const evidence = await ctx.evidence.writeJson("alertmanager-unreachable.json", {
        alertmanager: base,
        error: error.message,
      });
      observation.unreachable = { error: error.message, kind: error.kind, evidence };
      return observation;
    }
    const plan = planDelivery(config, readAlertReceiver(ctx.spec), randomUUID());
    observation.plan = plan;
    const routing = routingOf(config, plan.labels);
    if (!plan.url || routing.external.length > 0) {
      // Never post an alert that could page a person: the routing alone is what can be observed.
      observation.posted = false;
      observation.routingEvidence = await ctx.evidence.writeJson("routing.json", {
        alertmanager: base,
        plan,
        routing: routing.described,
        realChannels: routing.external.map((i) => i.type),
        posted: false,
      });
      return observation;
    }
    await deliver(ctx, client, observation, { ...plan, url: plan.url }, routing);
    return observation;
  },

  judge(observation) {
    return [judgeDelivery(observation)];
  },
});

/** Which webhook URL to listen on and which labels route a synthetic alert to it. */
function planDelivery(
  config: AlertmanagerConfig,
  receiver: AlertReceiverSpec | null,
  runId: string,
): DeliveryPlan {
  const synthetic = { alertname: ALERT_NAME, gauntlet_check: runId };
  if (receiver) {
    const plan: DeliveryPlan = {
      url: receiver.url,
      labels: { ...synthetic, ...receiver.labels },
      source: "spec",
    };
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

/** Listens, posts the synthetic alert, waits for its notification, then resolves it; records all in `observation`. */
async function deliver(
  ctx: CheckContext,
  client: AlertmanagerClient,
  observation: AlertsDeliveredObservation,
  plan: DeliveryPlan & { url: string },
  routing: Routing,
): Promise<void> {
  let receiver: WebhookReceiver;
  try {
    receiver = await startWebhookReceiver(plan.url);
  } catch (error) {
    observation.posted = false;
    observation.listenError = error instanceof Error ? error.message : String(error);
    return;
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
  const groupWaitMs = Math.max(...routing.routes.map((r) => r.groupWaitMs));
  // Within the runner's deadline too, so a wait that finds nothing ends as FAIL with evidence, not as a timeout.
  const waitMs = Math.max(
    0,
    Math.min(
      plan.timeoutMs ?? groupWaitMs + DELIVERY_MARGIN_MS,
      MAX_WAIT_MS,
      ctx.deadline - Date.now() - WIND_DOWN_MS,
    ),
  );
  const posted = performance.now();
  observation.posted = true;
  try {
    await client.postAlerts([
      { ...alert, endsAt: new Date(startsAt.getTime() + SELF_RESOLVE_MS).toISOString() },
    ]);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    observation.postError = error.message;
    return;
  }
  const ours = (labels: Record<string, string>) => labels.gauntlet_check === plan.labels.gauntlet_check;
  const notification = await receiver.waitFor(
    (n) => (n.payload.alerts ?? []).some((a) => ours(a.labels) && a.status === "firing"),
    waitMs,
    ctx.signal,
  );
  const deliveryMs = notification ? Math.round((notification.receivedAtMono - posted) * 10) / 10 : null;
  const seen = (await client.alerts([`gauntlet_check="${plan.labels.gauntlet_check}"`]).catch(() => [])).find(
    (a) => ours(a.labels),
  );
  await resolve.runNow();

  const evidence = await ctx.evidence.writeJson("delivery.json", {
    alertmanager: client.baseUrl,
    plan,
    routing: routing.described,
    posted: alert,
    waitedMs: waitMs,
    groupWaitMs,
    alertInAlertmanager: seen ?? null,
    notifications: receiver.notifications.map((n) => ({
      receivedAt: new Date(n.receivedAt).toISOString(),
      path: n.path,
      payload: n.payload,
    })),
    delivered: deliveryMs !== null,
    deliveryMs,
  });
  observation.delivery = {
    evidence,
    waitedMs: waitMs,
    groupWaitMs,
    notification: null,
    alertInAlertmanager: seen
      ? {
          receivers: seen.receivers.map((r) => r.name),
          state: seen.status.state,
          silencedBy: seen.status.silencedBy,
          inhibitedBy: seen.status.inhibitedBy,
        }
      : null,
  };
  if (notification && deliveryMs !== null) {
    observation.delivery.notification = { deliveryMs };
    if (notification.payload.receiver)
      observation.delivery.notification.receiver = notification.payload.receiver;
  }
}

function judgeDelivery(observation: AlertsDeliveredObservation): FindingInput {
  const base = observation.alertmanager;
  const subject = "alertmanager";
  if (observation.unreachable || !observation.config || !observation.plan) {
    const error = observation.unreachable?.error ?? "no configuration in its status";
    return {
      status: "UNVERIFIED",
      messageId: "alertmanagerUnreachable",
      subject,
      message: `Alertmanager at ${base} cannot be queried (${error}), so alert delivery is not verified`,
      data: { alertmanager: base, error, explanation: error },
      ...(observation.unreachable ? { evidence: [observation.unreachable.evidence] } : {}),
      toVerify: `start Alertmanager on ${base} (see docs/monitoring-demo.md for the demo's bundled config), or fix monitoring.alertmanager`,
    };
  }
  const config = parseAlertmanagerConfig(observation.config.text);
  const plan = observation.plan;
  const routing = routingOf(config, plan.labels);
  const data: Record<string, unknown> = {
    alertmanager: base,
    url: plan.url ?? PLACEHOLDER_URL,
    labels: JSON.stringify(plan.labels),
    routing: routing.described,
    receiverSource: plan.source,
  };
  const evidence = [observation.config.evidence];

  if (!plan.url || routing.external.length > 0) {
    const reason = !plan.url
      ? "Alertmanager's configuration has no webhook receiver on loopback and the spec sets no monitoring.alertReceiver, so Gauntlet has nowhere to receive an alert"
      : `the alert would also go to ${routing.external.map((i) => i.type).join(", ")}, a real notification channel Gauntlet must not page`;
    const explanation = `${reason}. By the configuration, an alert ${describeLabels(plan.labels)} is routed ${routing.described.join("; then ")}.`;
    return {
      status: "UNVERIFIED",
      messageId: plan.url ? "wouldNotifyPeople" : "noLoopbackReceiver",
      subject,
      message: `alert delivery not tested: ${explanation}`,
      data: { ...data, explanation },
      evidence: observation.routingEvidence ? [...evidence, observation.routingEvidence] : evidence,
      toVerify:
        "add a receiver with webhook_configs: [{url: http://127.0.0.1:19095/alerts, send_resolved: false}] and a route matching a label such as gauntlet: delivery-check (group_by: ['...'], group_wait: 1s), then set monitoring.alertReceiver: {url: http://127.0.0.1:19095/alerts, labels: {gauntlet: delivery-check}}",
    };
  }
  const url = plan.url;
  if (observation.listenError !== undefined) {
    return {
      status: "UNVERIFIED",
      messageId: "cannotListen",
      subject,
      message: `cannot listen on ${url} to receive the synthetic alert: ${observation.listenError}`,
      data: { ...data, explanation: observation.listenError },
      evidence,
      toVerify: `free ${url} (nothing else may listen there during the assessment) or point monitoring.alertReceiver at a free loopback port that Alertmanager routes to`,
    };
  }
  if (observation.postError !== undefined || !observation.delivery) {
    const error = observation.postError ?? "the check stopped before the alert was posted";
    return {
      status: "UNVERIFIED",
      messageId: "postRefused",
      subject,
      message: `Alertmanager did not accept the synthetic alert (${error}), so delivery is not verified`,
      data: { ...data, explanation: error },
      evidence,
      toVerify:
        "check that Gauntlet may POST to Alertmanager's /api/v2/alerts (no read-only proxy or auth in front of it)",
    };
  }
  const delivery = observation.delivery;
  const seen = delivery.alertInAlertmanager;
  const { groupWaitMs } = delivery;
  if (delivery.notification) {
    const { deliveryMs, receiver } = delivery.notification;
    return {
      status: "PASS",
      messageId: "delivered",
      subject,
      message: `synthetic alert delivered to ${url} via receiver ${receiver ?? seen?.receivers.join(", ")} in ${deliveryMs} ms (route group_wait ${groupWaitMs / 1000} s)`,
      data: { ...data, deliveryMs, receiver, groupWaitMs },
      evidence: [delivery.evidence],
      measurements: [
        { name: "alert delivery time", value: deliveryMs, unit: "ms", evidence: delivery.evidence },
      ],
    };
  }
  const explanation = explain(config, { ...plan, url }, routing, seen, delivery.waitedMs);
  return {
    status: "FAIL",
    messageId: "notDelivered",
    subject,
    message: `synthetic alert never reached ${url} within ${Math.round(delivery.waitedMs / 1000)} s: ${explanation}`,
    data: { ...data, explanation, groupWaitMs, apiReceivers: seen?.receivers ?? [], state: seen?.state },
    evidence: [delivery.evidence],
  };
}

interface Routing {
  routes: Route[];
  /** One sentence per matched route: which route, which receiver, what it sends to. */
  described: string[];
  /** Integrations of the matched receivers that would notify a person (anything but a loopback webhook). */
  external: Integration[];
}

/** Where Alertmanager's configuration routes an alert with these labels. */
function routingOf(config: AlertmanagerConfig, labels: Record<string, string>): Routing {
  const routes = matchRoutes(config.route, labels);
  return {
    routes,
    described: routes.map((r) => describeRoute(config, r)),
    external: routes
      .flatMap((r) => config.receivers.get(r.receiver)?.integrations ?? [])
      .filter((i) => !isLoopbackWebhook(i)),
  };
}

function explain(
  config: AlertmanagerConfig,
  plan: DeliveryPlan & { url: string },
  routing: Routing,
  seen: DeliveryAttempt["alertInAlertmanager"],
  waitMs: number,
): string {
  const parts = [`Alertmanager routes ${describeLabels(plan.labels)} ${routing.described.join("; then ")}.`];
  if (seen && seen.receivers.length > 0)
    parts.push(`Its API lists the alert's receivers as ${seen.receivers.join(", ")}.`);
  if (seen?.silencedBy.length) parts.push(`The alert is silenced by silence ${seen.silencedBy.join(", ")}.`);
  if (seen?.inhibitedBy.length) parts.push(`The alert is inhibited by ${seen.inhibitedBy.join(", ")}.`);
  if (!seen) parts.push("Alertmanager did not list the alert after it was posted.");
  const reachesUs = routing.routes.some((r) => receiverPostsTo(config, r, plan.url));
  if (!reachesUs)
    parts.push(
      `No matched receiver has a webhook_configs url of ${plan.url}, so the alert is delivered elsewhere or dropped.`,
    );
  else
    parts.push(
      `The receiver does post to ${plan.url}, yet nothing arrived within ${Math.round(waitMs / 1000)} s; check Alertmanager's log for notify errors.`,
    );
  const muted = routing.routes.filter((r) => r.muteTimeIntervals.length > 0);
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
