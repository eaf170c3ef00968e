// Does memory stay flat under steady load? A leak shows as a slope, not as a high value: the target's memory is
// sampled throughout a steady closed-model load of performance.endurance.duration and a Theil–Sen slope, projected
// over that duration, is compared with performance.endurance.maxMemoryGrowth.
import { type CheckContext, defineCheck, notApplicable } from "../../core/types.js";
import { healthUrl } from "../../engines/http/serviceUrls.js";
import {
  type MemorySample,
  residentMemoryFromMetrics,
  theilSenSlope,
} from "../../engines/load/memorySlope.js";
import { runWithContext } from "./load/serviceLoad.js";

/** At least this many samples are needed for a slope worth quoting. */
const MIN_SAMPLES = 5;

export default defineCheck({
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
    timeoutMs: 4 * 60 * 60_000,
  },

  applies(spec) {
    if (!spec.performance?.endurance) return notApplicable("no performance.endurance in the spec");
    return true;
  },

  async run(ctx) {
    const perf = ctx.spec.performance!;
    const endurance = perf.endurance!;
    const service = perf.target;
    const svc = ctx.spec.services[service]!;
    if (!svc.url || !/^https?:\/\//i.test(svc.url)) {
      return [
        {
          status: "UNVERIFIED",
          subject: service,
          message: `cannot load ${service}: services.${service}.url is not an http(s) URL`,
          toVerify: `give services.${service}.url as an http:// or https:// URL`,
        },
      ];
    }
    ctx.secrets.addFromUrl(svc.url);
    const source = memorySource(ctx, service);
    const first = await source.read().catch(() => undefined);
    if (first === undefined) {
      return [
        {
          status: "UNVERIFIED",
          subject: service,
          message: `${service}: no memory reading (${source.description} gave none)`,
          data: { service },
          toVerify: `give services.${service}.control (process or container) or a services.${service}.metrics endpoint that exports process_resident_memory_bytes`,
        },
      ];
    }

    const durationMs = endurance.duration;
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
    const growth = Math.round(slope * (durationMs / 1000));
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
      projectedGrowthBytes: growth,
      maxMemoryGrowthBytes: endurance.maxMemoryGrowth,
      samples,
    });
    const data = { service, growth: formatBytes(growth), slopeBytesPerSecond: Math.round(slope) };
    if (result.cancelled) {
      return [
        {
          status: "UNVERIFIED",
          subject: service,
          message: `${service}: the endurance load was cancelled`,
          evidence: [evidence],
          data,
          toVerify: "run the assessment to the end",
        },
      ];
    }
    if (samples.length < MIN_SAMPLES) {
      return [
        {
          status: "UNVERIFIED",
          subject: service,
          message: `${service}: only ${samples.length} memory samples during the run (${source.description})`,
          evidence: [evidence],
          data,
          toVerify: "make the memory source answer during load, or lengthen performance.endurance.duration",
        },
      ];
    }
    const errors = stage?.errors.total ?? 0;
    if (!stage || stage.requests - errors <= 0 || errors > stage.requests * 0.05) {
      // Flat memory under a load the service did not serve says nothing about a leak.
      return [
        {
          status: "UNVERIFIED",
          subject: service,
          message: `${service}: the endurance load was not served (${stage?.requests ?? 0} requests, ${errors} errors), so flat memory would prove nothing`,
          evidence: [evidence],
          data,
          toVerify: "make the target answer the performance.requests under load, then run again",
        },
      ];
    }
    const figures = `${formatBytes(samples[0]!.bytes)} → ${formatBytes(samples[samples.length - 1]!.bytes)}, slope ${formatBytes(slope)}/s → ${formatBytes(growth)} over ${Math.round(durationMs / 1000)} s (${samples.length} samples, ${stage?.requests ?? 0} requests)`;
    const measurements = [
      { name: "memory growth", value: growth, unit: "bytes", evidence },
      { name: "memory slope", value: Math.round(slope), unit: "bytes/s", evidence },
    ];
    const passed = growth <= endurance.maxMemoryGrowth;
    return [
      {
        status: passed ? "PASS" : "FAIL",
        subject: service,
        message: passed
          ? `${service}: memory flat under load: ${figures} ≤ ${formatBytes(endurance.maxMemoryGrowth)}`
          : `${service}: memory grows under load: ${figures} > ${formatBytes(endurance.maxMemoryGrowth)}`,
        evidence: [evidence],
        measurements,
        data,
      },
    ];
  },
});

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
