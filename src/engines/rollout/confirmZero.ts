// After a rollback: does the entry still serve canary answers? The sampler is stopped and only the entry is loaded, in
// short bursts, until one burst has no canary answer (the splitter may take a moment: an nginx reload, a mesh push) or
// CONFIRM_WITHIN_MS has passed. A canary's answer is recognised by rollout.identify's header (and value) on the
// responses, or else by the canary's own request counter (a *_requests_total series from services.<canary>.metrics):
// the counter's rise over the burst, less the rise one idle scrape-to-scrape gap gives (the scrape itself, when the
// canary counts its /metrics requests; series labelled with the metrics path are left out anyway). With neither the
// rollback is unconfirmed, and says what would make it confirmable.
import { setTimeout as sleep } from "node:timers/promises";
import { formatOf, parseExposition } from "../metrics/exposition.js";
import { scrapeFailure, scrapeMetrics } from "../metrics/scrape.js";
import type { RolloutContext } from "./context.js";
import type { RolloutPlan } from "./plan.js";
import { requestSender } from "./requestSender.js";

export const CONFIRM_WITHIN_MS = 30_000;
const BURST_CONCURRENCY = 10;
const BURST_TIMEOUT_MS = 5_000;
const PAUSE_BETWEEN_BURSTS_MS = 500;

export type ConfirmationStatus =
  /** A whole burst reached the entry and no answer was the canary's. */
  | "confirmed"
  /** Canary answers were still seen at the end. */
  | "canaryAnswered"
  /** The entry answered too few requests for the absence of canary answers to mean anything. */
  | "entryUnanswered"
  /** No way to tell a canary's answer (no identify header, no canary counter), or its counter could not be read. */
  | "unconfirmed";

export interface Burst {
  at: string;
  sent: number;
  answered: number;
  canaryAnswers: number;
  /** Counter method: the counter's rise over the burst and over one idle scrape gap. */
  counterRise?: number;
  idleRise?: number;
}

export interface Confirmation {
  method: "header" | "counter" | "none";
  status: ConfirmationStatus;
  message: string;
  /** What would make an unconfirmed rollback confirmable. */
  fix?: string;
  bursts: Burst[];
  durationMs: number;
}

/** Enough requests that a canary still holding `percent` % would be expected to answer about 5 of them. */
export function burstSize(percent: number): number {
  return Math.min(1000, Math.max(100, Math.ceil(500 / Math.max(percent, 0.01))));
}

export async function confirmNoCanary(
  ctx: RolloutContext,
  plan: RolloutPlan,
  /** The canary's share before the rollback: sets the burst size. */
  percent: number,
): Promise<Confirmation> {
  const started = Date.now();
  const method = plan.identify ? "header" : plan.canary.metrics ? "counter" : "none";
  if (method === "none") {
    return {
      method,
      status: "unconfirmed",
      message: `the rollback is unconfirmed: nothing tells a canary's answer at ${plan.entry.service} apart`,
      fix: `set rollout.identify { header, value } to a response header only ${plan.canary.service} sends (e.g. x-version: canary), or give services.${plan.canary.service}.metrics with a *_requests_total counter`,
      bursts: [],
      durationMs: 0,
    };
  }
  const size = burstSize(percent);
  const bursts: Burst[] = [];
  const deadline = started + CONFIRM_WITHIN_MS;
  for (;;) {
    const burst =
      method === "header" ? await headerBurst(ctx, plan, size) : await counterBurst(ctx, plan, size);
    if ("error" in burst) {
      return {
        method,
        status: "unconfirmed",
        message: `the rollback is unconfirmed: ${burst.error}`,
        fix: `make services.${plan.canary.service}.metrics answer with a *_requests_total counter, or set rollout.identify to a header only the canary sends`,
        bursts,
        durationMs: Date.now() - started,
      };
    }
    bursts.push(burst);
    const enough = burst.answered >= burst.sent / 2;
    if (enough && burst.canaryAnswers === 0) {
      const how =
        method === "header"
          ? `no answer carried ${plan.identify!.header}${plan.identify!.value ? `: ${plan.identify!.value}` : ""}`
          : `the canary's request counter rose by ${burst.counterRise} against ${burst.idleRise} for an idle scrape gap`;
      return {
        method,
        status: "confirmed",
        message: `the rollback is confirmed: ${burst.answered} of ${burst.sent} requests to ${plan.entry.service} answered and ${how}`,
        bursts,
        durationMs: Date.now() - started,
      };
    }
    if (Date.now() + PAUSE_BETWEEN_BURSTS_MS >= deadline) {
      const seconds = Math.round(CONFIRM_WITHIN_MS / 1000);
      return enough
        ? {
            method,
            status: "canaryAnswered",
            message: `the rollback did not take: ${burst.canaryAnswers} of ${burst.answered} answers at ${plan.entry.service} still came from ${plan.canary.service} after ${seconds} s`,
            bursts,
            durationMs: Date.now() - started,
          }
        : {
            method,
            status: "entryUnanswered",
            message: `the rollback cannot be confirmed: ${plan.entry.service} answered only ${burst.answered} of ${burst.sent} requests for ${seconds} s after it`,
            bursts,
            durationMs: Date.now() - started,
          };
    }
    await sleep(PAUSE_BETWEEN_BURSTS_MS);
  }
}

/** `size` requests at the entry, BURST_CONCURRENCY at a time, each on a new connection (not one an old worker holds). */
async function sendBurst(
  ctx: RolloutContext,
  plan: RolloutPlan,
  size: number,
  isCanary: (headers: Record<string, string | string[] | undefined>) => boolean,
): Promise<Burst> {
  const sender = requestSender(plan.entry.url, plan.requests, {
    env: ctx.env,
    secrets: ctx.secrets,
    timeoutMs: BURST_TIMEOUT_MS,
    keepAlive: false,
  });
  const at = new Date().toISOString();
  let sent = 0;
  let answered = 0;
  let canaryAnswers = 0;
  const worker = async () => {
    while (sent < size) {
      sent++;
      const r = await sender.send();
      if (r.status === undefined) continue;
      answered++;
      if (r.headers && isCanary(r.headers)) canaryAnswers++;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(BURST_CONCURRENCY, size) }, worker));
  } finally {
    sender.close();
  }
  return { at, sent, answered, canaryAnswers };
}

function headerBurst(ctx: RolloutContext, plan: RolloutPlan, size: number): Promise<Burst> {
  const { header, value } = plan.identify!;
  const name = header.toLowerCase();
  return sendBurst(ctx, plan, size, (headers) => {
    const found = headers[name];
    if (found === undefined) return false;
    if (value === undefined) return true;
    return (Array.isArray(found) ? found : [found]).some((v) => v.trim() === value);
  });
}

async function counterBurst(
  ctx: RolloutContext,
  plan: RolloutPlan,
  size: number,
): Promise<Burst | { error: string }> {
  const url = plan.canary.metrics!;
  const metricsPath = new URL(url).pathname;
  const read = async (): Promise<number | { error: string }> => {
    const scraped = await scrapeMetrics(url, AbortSignal.timeout(10_000));
    if (scraped.outcome !== "ok") return { error: scrapeFailure(scraped) };
    return (
      requestCount(scraped.body, formatOf(scraped.contentType), metricsPath) ?? {
        error: `${scraped.url} has no *_requests_total counter to count the canary's answers with`,
      }
    );
  };
  const before = await read();
  if (typeof before !== "number") return before;
  const idle = await read();
  if (typeof idle !== "number") return idle;
  const burst = await sendBurst(ctx, plan, size, () => false);
  const after = await read();
  if (typeof after !== "number") return after;
  const idleRise = idle - before;
  const counterRise = after - idle;
  return { ...burst, canaryAnswers: Math.max(0, counterRise - idleRise), counterRise, idleRise };
}

/** The sum of every *_requests_total series, less those labelled with the metrics path (scrapes); null if none. */
export function requestCount(
  body: string,
  format: ReturnType<typeof formatOf>,
  metricsPath: string,
): number | null {
  const exposition = parseExposition(body, format);
  let total = 0;
  let found = false;
  for (const family of exposition.families.values()) {
    if (family.type !== "counter" && family.type !== "untyped" && family.type !== "unknown") continue;
    for (const sample of family.samples) {
      if (!sample.name.endsWith("requests_total")) continue;
      found = true;
      if (Object.values(sample.labels).includes(metricsPath)) continue;
      total += sample.value;
    }
  }
  return found ? total : null;
}
