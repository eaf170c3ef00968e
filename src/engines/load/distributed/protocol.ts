// What coordinator and load workers say to each other over Redis, and where: the key names, the messages (JSON in one
// field of a stream entry or list item) and the encoding of the figures. Histograms travel as HDR compressed base64,
// so merging on the coordinator is exact (bucket by bucket), as between threads.
import { z } from "zod";
import { decodeHistogram, encodeHistogram, type Histogram } from "../histogram.js";
import type { LoopResult, StagePlan, Tick } from "../loadLoop.js";
import type { Endpoint, RequestMix } from "../requests.js";

/** Bumped whenever a message changes shape; a worker refuses an assignment of another version, by name. */
export const PROTOCOL_VERSION = 1;

export const DEFAULT_PREFIX = "gauntlet:load";

/** A worker refreshes its heartbeat key this often; the key lives HEARTBEAT_TTL_MS, so a dead worker's key is gone. */
export const HEARTBEAT_EVERY_MS = 1_000;
export const HEARTBEAT_TTL_MS = 3_000;

/** Stream entries and list items carry one field, this one, holding the message as JSON. */
export const FIELD = "m";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,99}$/;

/** Why `name` cannot name a worker (it is part of key names and of a SCAN pattern), or undefined. */
export function workerNameProblem(name: string): string | undefined {
  return NAME.test(name)
    ? undefined
    : `"${name}" is not a usable worker name: use letters, digits, '.', '_' or '-' (at most 100), e.g. load-1`;
}

export function prefixProblem(prefix: string): string | undefined {
  return PREFIX.test(prefix)
    ? undefined
    : `"${prefix}" is not a usable key prefix: use letters, digits, ':', '.', '_' or '-', e.g. gauntlet:load`;
}

/** Every key of the protocol, under one prefix; a run's keys also carry its id, so they can be deleted after it. */
export function keysOf(prefix: string) {
  return {
    /** A worker's heartbeat: its WorkerBeat as JSON, with a short TTL. */
    worker: (name: string) => `${prefix}:worker:${name}`,
    /** SCAN pattern of every heartbeat (names and prefixes hold no glob characters). */
    workers: `${prefix}:worker:*`,
    nameOf: (key: string) => key.slice(`${prefix}:worker:`.length),
    /** The list a worker pops its assignments from. */
    inbox: (name: string) => `${prefix}:inbox:${name}`,
    /** Holds the run id of the coordinator that has a worker: two coordinators never share one. */
    claim: (name: string) => `${prefix}:claim:${name}`,
    /** Worker → coordinator: ready, per-second snapshots, final result, failures. */
    events: (runId: string) => `${prefix}:run:${runId}:events`,
    /** Coordinator → workers: start (the barrier), abort. */
    control: (runId: string) => `${prefix}:run:${runId}:control`,
  };
}

export type Keys = ReturnType<typeof keysOf>;

/** A Redis URL as it may be printed: without its password (user:password@ becomes user:***@). */
export function redisLabel(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//***@");
  }
}

// ——— the figures ———

type HistogramKey = {
  [K in keyof LoopResult]-?: LoopResult[K] extends Histogram ? K : never;
}[keyof LoopResult];

/** Every Histogram field of LoopResult: what encodeLoopResult encodes and decodeLoopResult decodes. */
const LOOP_HISTOGRAMS = ["histogram", "lateness"] as const satisfies readonly HistogramKey[];

// A Histogram field added to LoopResult and missing from the list above fails the build here, not the merge later.
const listsEveryHistogram: [Exclude<HistogramKey, (typeof LOOP_HISTOGRAMS)[number]>] extends [never]
  ? true
  : never = true;
void listsEveryHistogram;

export type EncodedLoopResult = Omit<LoopResult, HistogramKey> & Record<HistogramKey, string>;

export function encodeLoopResult(result: LoopResult): EncodedLoopResult {
  const encoded = { ...result } as unknown as Record<string, unknown>;
  for (const key of LOOP_HISTOGRAMS) encoded[key] = encodeHistogram(result[key]);
  return encoded as EncodedLoopResult;
}

export function decodeLoopResult(encoded: EncodedLoopResult): LoopResult {
  const decoded = { ...encoded } as unknown as Record<string, unknown>;
  for (const key of LOOP_HISTOGRAMS) decoded[key] = decodeHistogram(encoded[key]);
  return decoded as unknown as LoopResult;
}

/** One second of one worker; an idle second carries no histogram (""), not an empty one. */
export interface EncodedTick {
  second: number;
  requests: number;
  errors: number;
  bytes: number;
  histogram: string;
}

export function encodeTick(tick: Tick): EncodedTick {
  const quiet = tick.histogram.totalCount === 0;
  return {
    second: tick.second,
    requests: tick.requests,
    errors: tick.errors,
    bytes: tick.bytes,
    histogram: quiet ? "" : encodeHistogram(tick.histogram),
  };
}

/** The tick's histogram, or null for a second without a recorded latency. */
export function tickHistogram(tick: EncodedTick): Histogram | null {
  return tick.histogram ? decodeHistogram(tick.histogram) : null;
}

export interface EncodedMix {
  order: number[];
  requests: { buffer: string; method: string; head: boolean; label: string }[];
}

export function encodeMix(mix: RequestMix): EncodedMix {
  return {
    order: mix.order,
    requests: mix.requests.map((r) => ({ ...r, buffer: r.buffer.toString("base64") })),
  };
}

export function decodeMix(mix: EncodedMix): RequestMix {
  return {
    order: mix.order,
    requests: mix.requests.map((r) => ({ ...r, buffer: Buffer.from(r.buffer, "base64") })),
  };
}

// ——— the messages ———

/** A worker's heartbeat value. */
export interface WorkerBeat {
  v: number;
  name: string;
  host: string;
  pid: number;
  state: "idle" | "busy";
  /** The run it is busy with. */
  run?: string;
}

/** Coordinator → one worker (its inbox): its segment of the stage. */
export interface Assignment {
  v: number;
  runId: string;
  worker: string;
  /** Its place among the run's workers (0-based) and their number. */
  index: number;
  of: number;
  endpoint: Endpoint;
  mix: EncodedMix;
  plan: StagePlan;
  rejectUnauthorized: boolean;
}

export type ControlMessage =
  | { type: "open" }
  /** The barrier: load starts at this Redis TIME (ms since the epoch), on every worker. */
  | { type: "start"; startAt: number }
  | { type: "abort"; reason: string };

export type WorkerEvent =
  | { type: "open" }
  /** The worker has its segment; its clock minus Redis' (ms) and the round trip that bounds the estimate. */
  | { type: "ready"; worker: string; clockSkewMs: number; rttMs: number }
  | { type: "tick"; worker: string; tick: EncodedTick }
  | { type: "done"; worker: string; result: EncodedLoopResult }
  /** The worker cannot run or finish its segment (a stop signal, a version mismatch, an error). */
  | { type: "failed"; worker: string; reason: string };

const num = z.number().finite();
const histogramText = z.string();

const stagePlanSchema = z.looseObject({
  name: z.string(),
  durationMs: num,
  connections: z.number().int().min(1),
  rate: num.optional(),
  rampUpMs: num.optional(),
  from: z.looseObject({ connections: num.optional(), rate: num.optional() }).optional(),
  pipelining: num.optional(),
  timeoutMs: num.optional(),
});

const assignmentSchema = z.looseObject({
  v: z.number().int(),
  runId: z.string().min(1),
  worker: z.string().min(1),
  index: z.number().int().min(0),
  of: z.number().int().min(1),
  endpoint: z.looseObject({
    protocol: z.enum(["http:", "https:"]),
    host: z.string(),
    port: z.number().int(),
    hostHeader: z.string(),
    basePath: z.string(),
  }),
  mix: z.object({
    order: z.array(z.number().int().min(0)),
    requests: z
      .array(z.object({ buffer: z.string(), method: z.string(), head: z.boolean(), label: z.string() }))
      .min(1),
  }),
  plan: stagePlanSchema,
  rejectUnauthorized: z.boolean(),
});

const controlSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("open") }),
  z.object({ type: z.literal("start"), startAt: num }),
  z.object({ type: z.literal("abort"), reason: z.string() }),
]);

const tickSchema = z.object({
  second: z.number().int(),
  requests: num,
  errors: num,
  bytes: num,
  histogram: histogramText,
});

const errorsSchema = z.looseObject({ refused: num, reset: num, timeout: num, other: num });

// Loose: a field the lead adds to LoopResult passes through without a change here (Histogram ones: see above).
const loopResultSchema = z.looseObject({
  requests: num,
  bytes: num,
  status: z.record(z.string(), num),
  errors: errorsSchema,
  histogram: histogramText,
  lateness: histogramText,
  durationMs: num,
  dropped: num,
  unfinished: num,
  aborted: z.boolean(),
});

const eventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("open") }),
  z.object({ type: z.literal("ready"), worker: z.string(), clockSkewMs: num, rttMs: num }),
  z.object({ type: z.literal("tick"), worker: z.string(), tick: tickSchema }),
  z.object({ type: z.literal("done"), worker: z.string(), result: loopResultSchema }),
  z.object({ type: z.literal("failed"), worker: z.string(), reason: z.string() }),
]);

const beatSchema = z.looseObject({
  v: z.number().int(),
  name: z.string(),
  host: z.string(),
  pid: z.number().int(),
  state: z.enum(["idle", "busy"]),
  run: z.string().optional(),
});

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

function parseWith<T>(schema: z.ZodType, text: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProtocolError(`${what} is not JSON: ${text.slice(0, 80)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProtocolError(`${what} is malformed at ${issue?.path.join(".") || "top"}: ${issue?.message}`);
  }
  return parsed.data as T;
}

export const parseAssignment = (text: string) =>
  parseWith<Assignment>(assignmentSchema, text, "an assignment");
export const parseControl = (text: string) =>
  parseWith<ControlMessage>(controlSchema, text, "a control message");
export const parseEvent = (text: string) => parseWith<WorkerEvent>(eventSchema, text, "a worker event");
export const parseBeat = (text: string) => parseWith<WorkerBeat>(beatSchema, text, "a heartbeat");

/** An assignment's version only, read before the rest: a newer coordinator's message may not parse at all. */
export function versionOf(text: string): number | undefined {
  try {
    const v = (JSON.parse(text) as { v?: unknown }).v;
    return typeof v === "number" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The JSON field of a stream entry as ioredis returns it ([field, value, field, value, …]). */
export function entryMessage(fields: string[]): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === FIELD) return fields[i + 1];
  return undefined;
}
