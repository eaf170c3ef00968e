// Side-by-side samples of baseline and canary: while a step bakes, requests go at `sampleRate` to each one's own URL
// (not through the splitter), open model (sent on schedule whether or not earlier ones answered, so a slow canary
// cannot slow its own sampling down). Each request belongs to the analysis in which it was sent; a cut waits for that
// analysis's requests to end (each is bounded by its timeout), so a hanging canary is counted as timeouts, not missed.
import type { SideSamples } from "../canary/judge.js";
import type { LoadRequest } from "../load/requests.js";
import type { RolloutContext } from "./context.js";
import { type RequestSender, requestSender } from "./requestSender.js";

/** A sample request unanswered this long is a failure (timeout). */
export const SAMPLE_TIMEOUT_MS = 10_000;

interface Pending {
  startedAt: number;
  done: Promise<void>;
}

interface Side {
  sender: RequestSender;
  pending: Pending[];
  /** Finished samples not yet cut, with the time they were sent. */
  finished: { startedAt: number; latencyMs?: number; ok: boolean }[];
}

export interface Sampler {
  /** Samples of the requests sent before `until` (epoch ms) and not cut before, once they have all ended. */
  cut(until: number): Promise<{ baseline: SideSamples; canary: SideSamples }>;
  stop(): void;
}

export function startSampler(
  ctx: RolloutContext,
  urls: { baseline: string; canary: string },
  requests: LoadRequest[],
  rate: number,
): Sampler {
  const side = (url: string): Side => ({
    sender: requestSender(url, requests, {
      env: ctx.env,
      secrets: ctx.secrets,
      timeoutMs: SAMPLE_TIMEOUT_MS,
      keepAlive: true,
    }),
    pending: [],
    finished: [],
  });
  const sides = { baseline: side(urls.baseline), canary: side(urls.canary) };
  const fire = (s: Side) => {
    const startedAt = Date.now();
    const entry: Pending = {
      startedAt,
      done: s.sender.send().then((r) => {
        s.finished.push({
          startedAt,
          ok: r.ok,
          ...(r.latencyMs !== undefined ? { latencyMs: r.latencyMs } : {}),
        });
        s.pending.splice(s.pending.indexOf(entry), 1);
      }),
    };
    s.pending.push(entry);
  };
  // Scheduled against the clock, not by chained timeouts, so timer drift does not lower the rate.
  const periodMs = 1000 / rate;
  const startedAt = Date.now();
  let sent = 0;
  const timer = setInterval(
    () => {
      const due = Math.floor((Date.now() - startedAt) / periodMs) + 1;
      for (; sent < due; sent++) {
        fire(sides.baseline);
        fire(sides.canary);
      }
    },
    Math.max(5, Math.min(50, periodMs / 2)),
  );
  const cutSide = async (s: Side, until: number): Promise<SideSamples> => {
    await Promise.all(s.pending.filter((p) => p.startedAt < until).map((p) => p.done));
    const taken = s.finished.filter((f) => f.startedAt < until);
    s.finished = s.finished.filter((f) => f.startedAt >= until);
    return {
      latenciesMs: taken.flatMap((f) =>
        f.latencyMs !== undefined ? [Math.round(f.latencyMs * 100) / 100] : [],
      ),
      attempts: taken.length,
      failures: taken.filter((f) => !f.ok).length,
    };
  };
  let stopped = false;
  return {
    cut: async (until) => {
      const [baseline, canary] = await Promise.all([
        cutSide(sides.baseline, until),
        cutSide(sides.canary, until),
      ]);
      return { baseline, canary };
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      // Requests still in flight are cut off: nothing is cut after a stop, and a hanging canary must not hold the exit.
      sides.baseline.sender.close();
      sides.canary.sender.close();
    },
  };
}
