// `gauntlet load URL`: standalone HTTP load — closed model (-c connections, -p pipelining) or open model (-R rate) —
// with a live line on a TTY, a final table or one JSON object, and thresholds that set the exit code (0 pass, 1 fail).
import { type Command, Option } from "commander";
import type { LoadRequest } from "../engines/load/requests.js";
import type { LoadRunResult } from "../engines/load/run.js";
import { parseDuration, parseRate } from "../spec/units.js";
import { type CliIO, UserError } from "./io.js";

export interface LoadFlags {
  connections?: string;
  duration?: string;
  rate?: string;
  pipelining?: string;
  workers?: string;
  header?: string[];
  method?: string;
  body?: string;
  threshold?: string[];
  timeout?: string;
  insecure?: boolean;
  json?: boolean;
  redis?: string;
  redisPrefix?: string;
  workerWait?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerLoad(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("load")
    .description("generate HTTP load against URL and report rps, latency percentiles and errors")
    .argument("<url>", "http:// or https:// URL (only hosts you are allowed to load)")
    .option("-c, --connections <n>", "connections (default 10; open model: the pool serving the arrivals)")
    .option("-d, --duration <d>", "how long, e.g. 10s, 1m (a plain number is seconds)", "10s")
    .option("-R, --rate <r>", "open model: fixed arrival rate in requests per second")
    .option("-p, --pipelining <n>", "requests in flight per connection", "1")
    .option(
      "-w, --workers <n>",
      "worker threads (each takes a share of the connections or the rate); with --redis: `gauntlet worker` processes, on any machines",
      "1",
    )
    .option(
      "--redis <url>",
      "distributed: split the load over --workers `gauntlet worker` processes that reach this Redis",
    )
    .option("--redis-prefix <prefix>", "distributed: the key prefix the workers use (default gauntlet:load)")
    .option("--worker-wait <d>", "distributed: how long to wait for enough live workers", "30s")
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the help shows the ${…} syntax itself.
    .option("-H, --header <h>", '"Name: value" (repeatable; ${ENV} is expanded and redacted)', collect)
    .option("-m, --method <m>", "HTTP method", "GET")
    .option("-b, --body <b>", "request body")
    .option("--threshold <t>", 'e.g. "p(99)<100ms", "errors<1%", "rps>500" (repeatable)', collect)
    .option("--timeout <d>", "a request unanswered this long is a timeout", "10s")
    .option("-k, --insecure", "accept self-signed TLS certificates")
    .addOption(new Option("--json", "print one JSON object instead of the table"))
    .action(async (url: string, flags: LoadFlags) => {
      setExit(await loadCommand(url, flags, io));
    });
}

export async function loadCommand(url: string, flags: LoadFlags, io: CliIO): Promise<number> {
  const connections = positiveInt(flags.connections, "--connections", 10);
  const pipelining = positiveInt(flags.pipelining, "--pipelining", 1);
  const workers = positiveInt(flags.workers, "--workers", 1);
  const duration = durationOf(flags.duration ?? "10s", "--duration");
  const timeoutMs = durationOf(flags.timeout ?? "10s", "--timeout");
  if (flags.redis) io.secrets.addFromUrl(flags.redis);
  if (flags.redisPrefix !== undefined && !flags.redis) {
    throw new UserError("--redis-prefix only applies with --redis: add --redis URL or leave it out");
  }
  const distributed = flags.redis
    ? {
        redis: flags.redis,
        workers,
        ...(flags.redisPrefix !== undefined ? { prefix: flags.redisPrefix } : {}),
        waitMs: durationOf(flags.workerWait ?? "30s", "--worker-wait"),
      }
    : undefined;
  let rate: number | undefined;
  if (flags.rate !== undefined) {
    const parsed = parseRate(flags.rate);
    if (!parsed.ok) throw new UserError(`--rate: ${parsed.error}`);
    rate = parsed.value;
  }
  const [{ defaultPool, runLoad }, { parseThresholds }] = await Promise.all([
    import("../engines/load/run.js"),
    import("../engines/load/thresholds.js"),
  ]);
  parseThresholds(flags.threshold ?? []);
  const request: LoadRequest = {
    method: flags.method ?? "GET",
    path: "/",
    headers: headersOf(flags.header ?? []),
  };
  if (flags.body !== undefined) request.body = flags.body;

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const live = io.isTTY && !flags.json && Boolean(process.stderr.isTTY);
  const started = Date.now();
  let result: LoadRunResult;
  try {
    result = await runLoad({
      url,
      requests: [request],
      stages: [
        {
          name: "load",
          connections:
            rate !== undefined && flags.connections === undefined ? defaultPool(rate) : connections,
          ...(rate !== undefined ? { rate } : {}),
          duration,
          pipelining,
        },
      ],
      thresholds: flags.threshold ?? [],
      workers,
      ...(distributed ? { distributed } : {}),
      timeoutMs,
      secrets: io.secrets,
      signal: controller.signal,
      rejectUnauthorized: !flags.insecure,
      onSecond: (_, point) => {
        if (!live) return;
        const elapsed = Math.round((Date.now() - started) / 1000);
        process.stderr.write(
          `\r\x1b[2K${elapsed}s/${Math.round(duration / 1000)}s  ${point.rps} req/s  p50 ${point.p50} ms  p99 ${point.p99} ms  errors ${point.errors}`,
        );
      },
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (live) process.stderr.write("\r\x1b[2K");
  }
  if (flags.json) io.out(JSON.stringify(jsonOf(result), null, 2));
  else io.out(tableOf(result));
  if (result.cancelled) return 130;
  return result.passed ? 0 : 1;
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UserError(`${flag} takes a whole number above 0, not "${value}"`);
  return n;
}

function durationOf(value: string, flag: string): number {
  const parsed = /^\d+(\.\d+)?$/.test(value.trim())
    ? parseDuration(`${value.trim()}s`)
    : parseDuration(value);
  if (!parsed.ok) throw new UserError(`${flag}: ${parsed.error}`);
  if (parsed.value <= 0) throw new UserError(`${flag} must be above 0, e.g. 10s`);
  return parsed.value;
}

function headersOf(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new UserError(`-H "${line}" is not a header: write it as "Name: value"`);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

export function jsonOf(result: LoadRunResult) {
  const stage = result.stages[0];
  const o = result.overall;
  return {
    url: result.url,
    model: stage?.model ?? "closed",
    connections: stage?.connections ?? 0,
    ...(stage?.rate !== undefined ? { targetRate: stage.rate } : {}),
    pipelining: stage?.pipelining ?? 1,
    workers: stage?.workers ?? 1,
    ...(stage?.perWorker ? { distributed: true } : {}),
    durationMs: o.durationMs,
    requests: o.requests,
    rps: o.rps,
    bytes: o.bytes,
    errors: o.errors.total,
    errorClasses: o.errors,
    errorRate: o.errorRate,
    latencyMs: {
      min: o.latency.min,
      mean: o.latency.mean,
      p50: o.latency.p50,
      p90: o.latency.p90,
      p95: o.latency.p95,
      p99: o.latency.p99,
      p999: o.latency.p999,
      max: o.latency.max,
    },
    ...(stage?.lateness ? { generatorLatenessMs: latenessOf(stage.lateness) } : {}),
    status: o.status,
    dropped: stage?.dropped ?? 0,
    queued: stage?.queued ?? 0,
    unfinished: stage?.unfinished ?? 0,
    timeline: stage?.timeline ?? [],
    ...(stage?.perWorker ? { perWorker: stage.perWorker } : {}),
    thresholds: o.thresholds,
    passed: result.passed,
  };
}

/** The generator's own lateness: how far behind its schedule requests left, included in the latency figures. */
function latenessOf(l: { p50: number; p90: number; p99: number; p999: number; max: number; count: number }) {
  return { sent: l.count, p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p999, max: l.max };
}

function tableOf(result: LoadRunResult): string {
  const o = result.overall;
  const stage = result.stages[0];
  const l = o.latency;
  const lines: string[] = [];
  const model =
    stage?.model === "open"
      ? `open model, ${stage.rate}/s over ${stage.connections} connections`
      : `closed model, ${stage?.connections ?? 0} connections × ${stage?.pipelining ?? 1} pipelined`;
  lines.push(`${result.url} — ${model}, ${(o.durationMs / 1000).toFixed(1)} s`);
  lines.push("");
  lines.push("latency   p50        p90        p99        p99.9      max");
  lines.push(`          ${[l.p50, l.p90, l.p99, l.p999, l.max].map((v) => `${v} ms`.padEnd(11)).join("")}`);
  if (stage?.lateness) {
    const g = stage.lateness;
    lines.push(
      `generator late by  p50 ${g.p50} ms  p99 ${g.p99} ms  p99.9 ${g.p999} ms  max ${g.max} ms  (its own delay against the schedule, part of the latency above)`,
    );
  }
  lines.push("");
  lines.push(`requests  ${o.requests}   ${o.rps} req/s   ${formatBytes(o.bytes)} read`);
  const status = Object.entries(o.status)
    .map(([code, n]) => `${code}: ${n}`)
    .join("  ");
  lines.push(`status    ${status || "none"}`);
  const e = o.errors;
  const non2xx = Object.entries(e.non2xx)
    .map(([code, n]) => `${code}: ${n}`)
    .join(" ");
  lines.push(
    `errors    ${e.total} (refused ${e.refused}, reset ${e.reset}, timeout ${e.timeout}, other ${e.other}${non2xx ? `, non-2xx ${non2xx}` : ""})`,
  );
  if (stage && stage.queued > 0)
    lines.push(
      `queued    ${stage.queued} arrivals waited for a free connection (their wait is in their latency)`,
    );
  if (stage && stage.dropped > 0)
    lines.push(`dropped   ${stage.dropped} arrivals never sent (the pool was busy)`);
  if (stage?.perWorker) lines.push("", ...perWorkerLines(stage.perWorker));
  if (o.thresholds.length > 0) {
    lines.push("");
    for (const t of o.thresholds) lines.push(`${t.passed ? "✓" : "✗"} ${t.threshold}   ${t.description}`);
  }
  if (result.cancelled) lines.push("\ninterrupted: figures cover the time before the interruption");
  return lines.join("\n");
}

/** A distributed run: one line per worker process, so an unevenly loaded or slow generator stands out. */
function perWorkerLines(workers: NonNullable<LoadRunResult["stages"][number]["perWorker"]>): string[] {
  const rows = workers.map((w) => [
    w.name,
    String(w.requests),
    `${w.rps}/s`,
    String(w.errors),
    `${w.p50} ms`,
    `${w.p99} ms`,
    `${w.clockSkewMs >= 0 ? "+" : ""}${w.clockSkewMs} ms`,
  ]);
  const header = ["worker", "requests", "rate", "errors", "p50", "p99", "clock vs Redis"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 2);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}
