// The steady-state hypothesis of an experiment: probes that must all hold before the fault, are watched during it,
// and must hold again after it. A probe answers one yes/no question, reports its latency, and says what came back in a
// comparable form, so a judge can tell a probe that noticed the fault from one that could not have.
import { createHash } from "node:crypto";
import { probeHttp } from "../http/probe.js";
import { PrometheusClient } from "../prometheus/client.js";
import type { Journal, Phase } from "./journal.js";

export interface ProbeOutcome {
  ok: boolean;
  latencyMs: number;
  /** An HTTP answer of any status arrived (as opposed to a timeout, refusal or reset). */
  answered?: boolean;
  /** What came back, comparable between rounds: `HTTP 200 #<digest of the body>`, `refused`, `PONG`. */
  answer?: string;
  detail: string;
}

/** Bytes of a body digested for `answer`: enough to tell "ok" from "degraded" pages. */
const ANSWER_BYTES = 4096;

export interface Probe {
  name: string;
  run(signal: AbortSignal): Promise<ProbeOutcome>;
}

/** GET url answers 2xx within timeoutMs (and, with maxLatencyMs, no slower than that). */
export function httpProbe(
  name: string,
  url: string,
  options: { timeoutMs?: number; maxLatencyMs?: number } = {},
): Probe {
  const timeoutMs = options.timeoutMs ?? 2_000;
  return {
    name,
    async run(signal) {
      const result = await probeHttp({ url, timeoutMs, signal, maxBodyBytes: ANSWER_BYTES });
      if (!result.ok) {
        return {
          ok: false,
          answered: false,
          latencyMs: round(result.elapsedMs),
          answer: result.error.kind,
          detail: `${result.error.kind}: ${result.error.code ?? result.error.message}`,
        };
      }
      const inTime = options.maxLatencyMs === undefined || result.latencyMs <= options.maxLatencyMs;
      const ok = result.status >= 200 && result.status < 300 && inTime;
      const digest = createHash("sha256").update(result.body).digest("hex").slice(0, 12);
      return {
        ok,
        answered: true,
        latencyMs: round(result.latencyMs),
        answer: `HTTP ${result.status} #${digest}`,
        detail: `HTTP ${result.status}${inTime ? "" : ` slower than ${options.maxLatencyMs} ms`}`,
      };
    },
  };
}

/** Runs every probe once, concurrently, journals each result; true when all held. */
export async function probeAll(
  probes: Probe[],
  journal: Journal,
  phase: Phase,
  signal: AbortSignal,
): Promise<boolean> {
  const outcomes = await Promise.all(
    probes.map(async (probe) => {
      const outcome = await probe.run(signal);
      journal.record({ phase, kind: "probe", name: probe.name, ...outcome });
      return outcome.ok;
    }),
  );
  return outcomes.every(Boolean);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * A PromQL condition that holds while the query returns at least one sample with a non-zero value. Write it as a
 * filter, e.g. `sum(rate(http_requests_total{code=~"5.."}[30s])) / sum(rate(http_requests_total[30s])) < 0.01`:
 * a comparison drops the series that break it, so an empty result means the hypothesis does not hold.
 */
export function promqlProbe(
  prometheusUrl: string,
  expr: string,
  options: { timeoutMs?: number } = {},
): Probe {
  return {
    name: `promql ${expr}`,
    async run(signal) {
      const started = performance.now();
      const client = new PrometheusClient(prometheusUrl, { timeoutMs: options.timeoutMs ?? 2_000, signal });
      try {
        const data = await client.query(expr);
        const values =
          data.resultType === "vector"
            ? data.result.map((s) => Number(s.value[1]))
            : data.resultType === "scalar"
              ? [Number(data.result[1])]
              : [];
        const ok = values.length > 0 && values.every((v) => v !== 0 && !Number.isNaN(v));
        return {
          ok,
          answered: true,
          latencyMs: round(performance.now() - started),
          answer: ok ? "holds" : "broken",
          detail: values.length
            ? `values ${values.slice(0, 5).join(", ")}`
            : "no sample: the condition does not hold",
        };
      } catch (error) {
        signal.throwIfAborted();
        return {
          ok: false,
          answered: false,
          latencyMs: round(performance.now() - started),
          answer: "query failed",
          detail: `query failed: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    },
  };
}
