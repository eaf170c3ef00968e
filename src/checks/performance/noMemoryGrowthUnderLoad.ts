// Does memory stay flat under steady load? A leak shows as a slope, not as a high value: the target's memory is
// sampled throughout a steady closed-model load of performance.endurance.duration and a Theil–Sen slope, projected
// over that duration, is compared with performance.endurance.maxMemoryGrowth.
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { healthUrl } from "../../engines/http/serviceUrls.js";
import {
  type MemorySample,
  residentMemoryFromMetrics,
  theilSenSlope,
} from "../../engines/load/memorySlope.js";
import { runWithContext } from "./load/serviceLoad.js";

/** At least this many samples are needed for a slope worth quoting. */
const MIN_SAMPLES = 5;
/** Above this share of failed requests the load was not served, and flat memory would prove nothing. */
const MAX_ERROR_SHARE = 0.05;

export interface MemoryObservation {
  service: string;
  /** Why no load was sent (no http(s) url). */
  cannotLoad?: string;
  /** Where memory was read from: the service's controller, or its metrics endpoint. */
  source: string;
  /** False when the source gave no reading before the load: nothing was sampled. */
  readable: boolean;
  /** The steady load's planned length, ms: the slope is projected over it. */
  durationMs: number;
  cancelled: boolean;
  /** Memory readings taken during the load. */
  samples: number;
  firstBytes: number | null;
  lastBytes: number | null;
  /** Theil–Sen slope of the readings. */
  slopeBytesPerSecond: number;
  /** What the load got back; null when no stage ran. */
  load: { requests: number; errors: number } | null;
  evidence?: string;
}

export default defineCheck<MemoryObservation>({
  meta: {
    id: "noMemoryGrowthUnderLoad",
    category: "performance",
    risk: "high",
    destructive: true,
    title: "No memory growth under load",
    objective:
      "Under steady load for performance.endurance.duration, the target's memory grows less than performance.endurance.maxMemoryGrowth.",
    remediation: {
      effort: "high",
      text: "{{service}} grew {{growth}} under steady load: take heap snapshots or allocation profiles before and after a load run and look for caches without bounds, listeners or timers never removed, and per-request state kept past the request.",
    },
    messages: {
      flat: "the projected memory growth under steady load is within maxMemoryGrowth",
      grows: "the projected memory growth under steady load is over maxMemoryGrowth",
      loadNotServed:
        "the target did not serve the load (no answers, or too many errors), so flat memory proves nothing",
      tooFewSamples: "too few memory readings during the load for a slope",
      loadCancelled: "the endurance load was cancelled",
      noMemorySource: "no controller or metrics endpoint gave a memory reading",
      notHttp: "the target has no http(s) url to send load to",
    },
    timeoutMs: 4 * 60 * 60_000,
  },

  applies(spec) {
    if (!spec.performance?.endurance) return notApplicable("no performance.endurance in the spec");
    return true;
  },

  async observe(ctx) {
    const perf = ctx.spec.performance!;
    const durationMs = perf.endurance!.duration;
    const service = perf.target;
    const svc = ctx.spec.services[service]!;
    const observation: MemoryObservation = {
      service,
      source: "not read",
      readable: false,
      durationMs,
      cancelled: false,
      samples: 0,
      firstBytes: null,
      lastBytes: null,
      slopeBytesPerSecond: 0,
      load: null,
    };
    if (!svc.url || !/^https?:\/\//i.test(svc.url)) {
      return { ...observation, cannotLoad: `services.${service}.url is not an http(s) URL` };
    }
    ctx.secrets.addFromUrl(svc.url);
    const source = memorySource(ctx, service);
    observation.source = ctx.secrets.redact(source.description);
    if ((await source.read().catch(() => undefined)) === undefined) return observation;

    const intervalMs = Math.max(250, Math.min(10_000, Math.floor(durationMs / 60)));
    const connections = perf.stages?.find((s) => s.connections)?.connections ?? 10;
    const samples: MemorySample[] = [];
    const started = Date.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const bytes = await source.read().catch(() => undefined);
        if (bytes !== undefined) samples.push({ t: Date.now() - started, bytes });
        await sleep(intervalMs, ctx.signal);
      }
    })();
    let result: Awaited<ReturnType<typeof runWithContext>>;
    try {
      result = await runWithContext(ctx, {
        url: svc.url,
        requests: perf.requests ?? [],
        stages: [{ name: "endurance", connections, duration: durationMs }],
        env: ctx.env,
      });
    } finally {
      sampling = false;
      await sampler;
    }
    const slope = theilSenSlope(samples);
    const stage = result.stages[0];
    const evidence = await ctx.evidence.writeJson(`${service}-memory.json`, {
      service,
      source: source.description,
      durationMs,
      intervalMs,
      connections,
      load: stage
        ? { requests: stage.requests, rps: stage.rps, errors: stage.errors, latencyMs: stage.latency }
        : null,
      slopeBytesPerSecond: slope,
      projectedGrowthBytes: projectedGrowth(slope, durationMs),
      maxMemoryGrowthBytes: perf.endurance!.maxMemoryGrowth,
      samples,
    });
    return {
      ...observation,
      readable: true,
      cancelled: result.cancelled,
      samples: samples.length,
      firstBytes: samples[0]?.bytes ?? null,
      lastBytes: samples.at(-1)?.bytes ?? null,
      slopeBytesPerSecond: slope,
      load: stage ? { requests: stage.requests, errors: stage.errors.total } : null,
      evidence,
    };
  },

  judge(o, spec) {
    return [judgeMemory(o, spec.performance?.endurance?.maxMemoryGrowth ?? 0)];
  },
});

function judgeMemory(o: MemoryObservation, maxGrowth: number): FindingInput {
  const { service } = o;
  if (o.cannotLoad) {
    return {
      status: "UNVERIFIED",
      messageId: "notHttp",
      subject: service,
      message: `cannot load ${service}: ${o.cannotLoad}`,
      data: { service },
      toVerify: `give services.${service}.url as an http:// or https:// URL`,
    };
  }
  if (!o.readable) {
    return {
      status: "UNVERIFIED",
      messageId: "noMemorySource",
      subject: service,
      message: `${service}: no memory reading (${o.source} gave none)`,
      data: { service },
      toVerify: `give services.${service}.control (process or container) or a services.${service}.metrics endpoint that exports process_resident_memory_bytes`,
    };
  }
  const growth = projectedGrowth(o.slopeBytesPerSecond, o.durationMs);
  const data = {
    service,
    growth: formatBytes(growth),
    slopeBytesPerSecond: Math.round(o.slopeBytesPerSecond),
  };
  const base = { subject: service, evidence: o.evidence ? [o.evidence] : [], data };
  const unverified = (messageId: string, message: string, toVerify: string): FindingInput => ({
    ...base,
    status: "UNVERIFIED",
    messageId,
    message: `${service}: ${message}`,
    toVerify,
  });
  if (o.cancelled)
    return unverified("loadCancelled", "the endurance load was cancelled", "run the assessment to the end");
  if (o.samples < MIN_SAMPLES) {
    return unverified(
      "tooFewSamples",
      `only ${o.samples} memory samples during the run (${o.source})`,
      "make the memory source answer during load, or lengthen performance.endurance.duration",
    );
  }
  const requests = o.load?.requests ?? 0;
  const errors = o.load?.errors ?? 0;
  if (!o.load || requests - errors <= 0 || errors > requests * MAX_ERROR_SHARE) {
    return unverified(
      "loadNotServed",
      `the endurance load was not served (${requests} requests, ${errors} errors), so flat memory would prove nothing`,
      "make the target answer the performance.requests under load, then run again",
    );
  }
  const figures = `${formatBytes(o.firstBytes ?? 0)} → ${formatBytes(o.lastBytes ?? 0)}, slope ${formatBytes(o.slopeBytesPerSecond)}/s → ${formatBytes(growth)} over ${Math.round(o.durationMs / 1000)} s (${o.samples} samples, ${requests} requests)`;
  const ev = o.evidence ? { evidence: o.evidence } : {};
  const measurements = [
    { name: "memory growth", value: growth, unit: "bytes", ...ev },
    { name: "memory slope", value: Math.round(o.slopeBytesPerSecond), unit: "bytes/s", ...ev },
  ];
  if (growth <= maxGrowth) {
    return {
      ...base,
      status: "PASS",
      messageId: "flat",
      message: `${service}: memory flat under load: ${figures} ≤ ${formatBytes(maxGrowth)}`,
      measurements,
    };
  }
  return {
    ...base,
    status: "FAIL",
    messageId: "grows",
    message: `${service}: memory grows under load: ${figures} > ${formatBytes(maxGrowth)}`,
    measurements,
  };
}

/** The slope projected over the run's length: the growth a leak of this rate adds in one endurance run. */
function projectedGrowth(slopeBytesPerSecond: number, durationMs: number): number {
  return Math.round(slopeBytesPerSecond * (durationMs / 1000));
}

interface MemorySource {
  description: string;
  read(): Promise<number | undefined>;
}

function memorySource(ctx: CheckContext, service: string): MemorySource {
  const target = ctx.targets.get(service);
  const svc = ctx.spec.services[service]!;
  const metricsUrl = svc.metrics ? healthUrl({ url: svc.url, health: svc.metrics }) : null;
  if (target) {
    return {
      description: `${target.kind} target memory`,
      read: async () =>
        (await target.memoryBytes()) ?? (metricsUrl ? fromMetrics(metricsUrl, ctx.signal) : undefined),
    };
  }
  if (metricsUrl) {
    return {
      description: `process_resident_memory_bytes from ${metricsUrl}`,
      read: () => fromMetrics(metricsUrl, ctx.signal),
    };
  }
  return { description: "no control and no metrics endpoint", read: async () => undefined };
}

async function fromMetrics(url: string, signal: AbortSignal): Promise<number | undefined> {
  const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(2_000)]) });
  if (!response.ok) return undefined;
  return residentMemoryFromMetrics(await response.text());
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function formatBytes(n: number): string {
  const sign = n < 0 ? "-" : "";
  const a = Math.abs(n);
  if (a >= 1024 ** 3) return `${sign}${(a / 1024 ** 3).toFixed(2)} GB`;
  if (a >= 1024 ** 2) return `${sign}${(a / 1024 ** 2).toFixed(1)} MB`;
  if (a >= 1024) return `${sign}${(a / 1024).toFixed(1)} KB`;
  return `${sign}${Math.round(a)} B`;
}
