// One stage over several load worker processes (`gauntlet worker`, on any machines that reach the same Redis): wait
// for enough live workers, claim them, give each its segment, start them all at one barrier, merge their per-second
// snapshots and final results exactly (HDR add), and return the figures runStage returns plus per-worker ones. A
// worker that goes silent mid-run fails the whole run, by name: a run never quietly continues with fewer workers.
import { randomBytes } from "node:crypto";
import { UserError } from "../../../errors.js";
import { createHistogram } from "../histogram.js";
import type { LoopResult, StagePlan, Tick } from "../loadLoop.js";
import {
  type StageOptions,
  type StageResult,
  stageResultOf,
  TimelineCollector,
  type WorkerFigures,
} from "../stage.js";
import {
  type Assignment,
  DEFAULT_PREFIX,
  decodeLoopResult,
  encodeMix,
  entryMessage,
  FIELD,
  HEARTBEAT_TTL_MS,
  type Keys,
  keysOf,
  PROTOCOL_VERSION,
  parseBeat,
  parseEvent,
  prefixProblem,
  redisLabel,
  tickHistogram,
  type WorkerBeat,
  type WorkerEvent,
} from "./protocol.js";
import { clockSkew, connectRedisPair, nowMs, type RedisPair, redisTime } from "./redisConnection.js";
import { segmentsOf } from "./segments.js";

export interface DistributedLoad {
  /** redis:// or rediss:// URL every worker and the coordinator reach. */
  redis: string;
  /** Worker processes the stage is split over; the run waits for this many and never runs with fewer. */
  workers: number;
  /** Key prefix shared with the workers (`gauntlet worker --redis-prefix`); default gauntlet:load. */
  prefix?: string;
  /** How long to wait for enough live workers, ms; default 30 s. */
  waitMs?: number;
}

export interface DistributedStageOptions extends Omit<StageOptions, "workers"> {
  distributed: DistributedLoad;
  /** Every per-second snapshot as it arrives (the histogram is valid during the call only). */
  onSnapshot?: (worker: string, tick: Tick) => void;
}

/** The run could not take place or did not complete on every worker; exit code 1 (the load run failed). */
export class DistributedLoadError extends UserError {
  constructor(message: string) {
    super(message, 1);
    this.name = "DistributedLoadError";
  }
}

const DEFAULT_WAIT_MS = 30_000;
/** The barrier is this far ahead of the moment it is sent: time to receive it and open the open model's pool. */
const START_LEAD_MS = 2_000;
/** How long claimed workers may take to take their segment and measure their clock. */
const READY_WAIT_MS = 10_000;
/** A worker silent (no snapshot) this long mid-run is dead; snapshots come every second. */
export const DEAD_AFTER_MS = 3_000;
/** Claims outlive a coordinator that crashed by this much at most; refreshed every check while the run lasts. */
const CLAIM_TTL_MS = 15_000;
/** After an abort: how long the workers still alive get to stop and say so before the run's keys go. */
const ABORT_WAIT_MS = 3_000;
/** After a cancel (Ctrl-C): how long the workers get to send their figures so far. */
const CANCEL_WAIT_MS = 5_000;
const POLL_MS = 200;
const READ_BLOCK_MS = 250;
const CHECK_EVERY_MS = 500;
const TRIM_EVERY_MS = 5_000;

const RELEASE_CLAIM = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export async function runDistributedStage(options: DistributedStageOptions): Promise<StageResult> {
  const d = options.distributed;
  const prefix = d.prefix ?? DEFAULT_PREFIX;
  const problem = prefixProblem(prefix);
  if (problem) throw new UserError(problem);
  const segments = segmentsOf(options.plan, d.workers);
  const redis = await connectRedisPair(d.redis, false);
  const run = new DistributedRun(options, prefix, redis, segments);
  try {
    return await run.execute();
  } finally {
    await run.cleanup().catch(() => {});
    await redis.close();
  }
}

interface Ready {
  clockSkewMs: number;
  rttMs: number;
}

class DistributedRun {
  readonly #o: DistributedStageOptions;
  readonly #plan: StagePlan;
  readonly #segments: StagePlan[];
  readonly #n: number;
  readonly #redis: RedisPair;
  readonly #keys: Keys;
  readonly #prefix: string;
  readonly #runId = randomBytes(6).toString("hex");
  #names: string[] = [];
  #opened = false;
  #lastEvent = "0-0";
  readonly #ready = new Map<string, Ready>();
  readonly #results = new Map<string, LoopResult>();
  /** Workers that reported done or failed after an abort. */
  readonly #stopped = new Set<string>();
  readonly #dead = new Set<string>();
  readonly #snapshots = new Map<string, number>();
  /** This machine's clock (ms) when each worker's last snapshot arrived. */
  readonly #lastSnapshot = new Map<string, number>();
  #timeline: TimelineCollector | undefined;

  constructor(options: DistributedStageOptions, prefix: string, redis: RedisPair, segments: StagePlan[]) {
    this.#o = options;
    this.#plan = options.plan;
    this.#segments = segments;
    this.#n = segments.length;
    this.#redis = redis;
    this.#prefix = prefix;
    this.#keys = keysOf(prefix);
  }

  get #where(): string {
    return `${redisLabel(this.#o.distributed.redis)} (prefix ${this.#prefix})`;
  }

  async execute(): Promise<StageResult> {
    try {
      const claimed = await this.#claimWorkers();
      if (!claimed) return this.#nothingRun();
      await this.#open();
      await this.#assign();
      await this.#awaitReady();
      return await this.#collect(await this.#barrier());
    } catch (error) {
      if (this.#opened) await this.#abortAll((error as Error).message).catch(() => {});
      throw error;
    }
  }

  /** The run's keys, and the claims this run still holds. */
  async cleanup(): Promise<void> {
    const c = this.#redis.commands;
    const keys = [this.#keys.events(this.#runId), this.#keys.control(this.#runId)];
    for (const name of this.#names) keys.push(this.#keys.inbox(name));
    await c.del(...keys);
    for (const name of this.#names) await c.eval(RELEASE_CLAIM, 1, this.#keys.claim(name), this.#runId);
  }

  // ——— before the start ———

  /** Claims n idle live workers, in name order; false when the signal aborted the wait. */
  async #claimWorkers(): Promise<boolean> {
    const c = this.#redis.commands;
    const waitMs = this.#o.distributed.waitMs ?? DEFAULT_WAIT_MS;
    const deadline = Date.now() + waitMs;
    const claimed: string[] = [];
    this.#names = claimed;
    for (;;) {
      const live = await this.#liveWorkers();
      // A claimed worker whose heartbeat vanished while we waited for others is let go.
      for (const name of [...claimed]) {
        if (live.has(name)) continue;
        await c.eval(RELEASE_CLAIM, 1, this.#keys.claim(name), this.#runId);
        claimed.splice(claimed.indexOf(name), 1);
      }
      for (const [name, beat] of [...live].sort(([a], [b]) => a.localeCompare(b))) {
        if (claimed.length >= this.#n) break;
        if (claimed.includes(name) || beat.state !== "idle" || beat.v !== PROTOCOL_VERSION) continue;
        const ok = await c.set(this.#keys.claim(name), this.#runId, "PX", CLAIM_TTL_MS, "NX");
        if (ok === "OK") claimed.push(name);
      }
      if (claimed.length >= this.#n) return true;
      if (this.#o.signal?.aborted) return false;
      if (Date.now() >= deadline) throw this.#tooFew(live, claimed, waitMs);
      await sleep(POLL_MS);
    }
  }

  #tooFew(live: Map<string, WorkerBeat>, claimed: string[], waitMs: number): DistributedLoadError {
    const seen = [...live.values()].sort((a, b) => a.name.localeCompare(b.name));
    const described = seen.map((b) => {
      if (b.v !== PROTOCOL_VERSION) return `${b.name} (protocol ${b.v}, another gauntlet version)`;
      if (b.state === "busy" && !claimed.includes(b.name)) return `${b.name} (busy in another run)`;
      return b.name;
    });
    const usable = claimed.length;
    return new DistributedLoadError(
      `waited ${Number((waitMs / 1000).toFixed(1))} s for ${this.#n} load workers on ${this.#where}: saw ${seen.length} live${seen.length > 0 ? ` (${described.join(", ")})` : ""}, ${usable} of them free, ${this.#n} needed; start ${this.#n - usable} more with \`gauntlet worker --redis URL${this.#prefix === DEFAULT_PREFIX ? "" : ` --redis-prefix ${this.#prefix}`}\` or ask for fewer workers`,
    );
  }

  /** Every worker with a live heartbeat under the prefix. */
  async #liveWorkers(): Promise<Map<string, WorkerBeat>> {
    const c = this.#redis.commands;
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await c.scan(cursor, "MATCH", this.#keys.workers, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    const live = new Map<string, WorkerBeat>();
    if (keys.length === 0) return live;
    const values = await c.mget(...keys);
    keys.forEach((key, i) => {
      const value = values[i];
      if (!value) return;
      try {
        const beat = parseBeat(value);
        live.set(this.#keys.nameOf(key), beat);
      } catch {
        // not a worker's heartbeat; ignored
      }
    });
    return live;
  }

  #nothingRun(): StageResult {
    return { ...stageResultOf(this.#plan, this.#n, new Date().toISOString(), [], []), aborted: true };
  }

  /** Creates the run's streams with a TTL, so a coordinator that crashes leaves nothing behind for long. */
  async #open(): Promise<void> {
    const c = this.#redis.commands;
    const ttl = this.#plan.durationMs + (this.#plan.timeoutMs ?? 10_000) + 10 * 60_000;
    const open = JSON.stringify({ type: "open" });
    for (const key of [this.#keys.events(this.#runId), this.#keys.control(this.#runId)]) {
      await c.xadd(key, "*", FIELD, open);
      await c.pexpire(key, ttl);
    }
    this.#opened = true;
  }

  async #assign(): Promise<void> {
    const c = this.#redis.commands;
    const mix = encodeMix(this.#o.mix);
    for (const [index, name] of this.#names.entries()) {
      const assignment: Assignment = {
        v: PROTOCOL_VERSION,
        runId: this.#runId,
        worker: name,
        index,
        of: this.#n,
        endpoint: this.#o.endpoint,
        mix,
        plan: this.#segments[index]!,
        rejectUnauthorized: this.#o.rejectUnauthorized ?? true,
      };
      const inbox = this.#keys.inbox(name);
      // The claim is ours, so is the inbox: anything left in it belongs to an older run.
      await c.multi().del(inbox).rpush(inbox, JSON.stringify(assignment)).pexpire(inbox, CLAIM_TTL_MS).exec();
    }
  }

  async #awaitReady(): Promise<void> {
    const deadline = Date.now() + READY_WAIT_MS;
    let nextCheck = 0;
    while (this.#ready.size < this.#n) {
      for (const event of await this.#read()) this.#handle(event);
      if (Date.now() >= nextCheck) {
        await this.#checkHeartbeats();
        nextCheck = Date.now() + CHECK_EVERY_MS;
      }
      if (this.#o.signal?.aborted)
        throw new DistributedLoadError("the load run was cancelled before it started");
      if (Date.now() > deadline) {
        const late = this.#names.filter((n) => !this.#ready.has(n));
        throw new DistributedLoadError(
          `load worker${late.length === 1 ? "" : "s"} ${late.join(", ")} did not take ${late.length === 1 ? "its" : "their"} segment within ${READY_WAIT_MS / 1000} s (on ${this.#where}); the run was not started`,
        );
      }
    }
  }

  /** Sends the start time, in Redis' clock; returns it in this machine's clock. */
  async #barrier(): Promise<number> {
    const c = this.#redis.commands;
    const startAt = Math.ceil((await redisTime(c)) + START_LEAD_MS);
    const mine = await clockSkew(c);
    await c.xadd(this.#keys.control(this.#runId), "*", FIELD, JSON.stringify({ type: "start", startAt }));
    return startAt + mine.skewMs;
  }

  // ——— the run ———

  async #collect(localStart: number): Promise<StageResult> {
    const startedAt = new Date(localStart).toISOString();
    this.#timeline = new TimelineCollector(this.#plan, this.#n, this.#o.onSecond);
    // The first snapshot is due a second after the start.
    for (const name of this.#names) this.#lastSnapshot.set(name, localStart + 1_000);
    let nextCheck = 0;
    let nextTrim = Date.now() + TRIM_EVERY_MS;
    let cancelDeadline: number | undefined;
    while (this.#results.size < this.#n) {
      if (this.#o.signal?.aborted && cancelDeadline === undefined) {
        await this.#sendAbort("the run was cancelled on the coordinator");
        cancelDeadline = Date.now() + CANCEL_WAIT_MS;
      }
      for (const event of await this.#read()) this.#handle(event);
      if (Date.now() >= nextCheck) {
        await this.#checkLiveness();
        nextCheck = Date.now() + CHECK_EVERY_MS;
      }
      if (Date.now() >= nextTrim) {
        // Entries read are no longer needed: the stream stays small however long the stage runs.
        await this.#redis.commands
          .xtrim(this.#keys.events(this.#runId), "MINID", this.#lastEvent)
          .catch(() => {});
        nextTrim = Date.now() + TRIM_EVERY_MS;
      }
      if (cancelDeadline !== undefined && Date.now() > cancelDeadline) {
        const missing = this.#names.filter((n) => !this.#results.has(n));
        throw new DistributedLoadError(
          `the load run was cancelled and ${missing.join(", ")} did not report within ${CANCEL_WAIT_MS / 1000} s`,
        );
      }
    }
    const results = this.#names.map((name) => this.#results.get(name)!);
    const result = stageResultOf(this.#plan, this.#n, startedAt, results, this.#timeline.finish());
    result.perWorker = this.#names.map((name, i) => this.#figures(name, i, startedAt));
    return result;
  }

  #figures(name: string, index: number, startedAt: string): WorkerFigures {
    const segment = this.#segments[index]!;
    const own = stageResultOf(segment, 1, startedAt, [this.#results.get(name)!], []);
    const ready = this.#ready.get(name);
    return {
      name,
      connections: segment.connections,
      ...(segment.rate !== undefined ? { rate: Math.round(segment.rate * 100) / 100 } : {}),
      requests: own.requests,
      rps: own.rps,
      bytes: own.bytes,
      errors: own.errors.total,
      errorRate: own.errorRate,
      p50: own.latency.p50,
      p90: own.latency.p90,
      p99: own.latency.p99,
      max: own.latency.max,
      durationMs: own.durationMs,
      dropped: own.dropped,
      queued: own.queued,
      snapshots: this.#snapshots.get(name) ?? 0,
      clockSkewMs: ready?.clockSkewMs ?? 0,
      rttMs: ready?.rttMs ?? 0,
    };
  }

  #handle(event: WorkerEvent): void {
    if (event.type === "open") return;
    const name = event.worker;
    if (!this.#names.includes(name)) return;
    switch (event.type) {
      case "ready":
        this.#ready.set(name, { clockSkewMs: event.clockSkewMs, rttMs: event.rttMs });
        return;
      case "tick": {
        this.#lastSnapshot.set(name, Date.now());
        this.#snapshots.set(name, (this.#snapshots.get(name) ?? 0) + 1);
        const histogram = tickHistogram(event.tick);
        this.#timeline?.add(event.tick.second, event.tick.requests, event.tick.errors, histogram);
        if (this.#o.onSnapshot) {
          const empty = histogram ?? createHistogram();
          this.#o.onSnapshot(name, { ...event.tick, histogram: empty });
        }
        return;
      }
      case "done":
        this.#results.set(name, decodeLoopResult(event.result));
        return;
      case "failed":
        throw this.#died(name, event.reason);
    }
  }

  async #read(): Promise<WorkerEvent[]> {
    const reply = (await this.#redis.blocking.xread(
      "COUNT",
      1000,
      "BLOCK",
      READ_BLOCK_MS,
      "STREAMS",
      this.#keys.events(this.#runId),
      this.#lastEvent,
    )) as [string, [string, string[]][]][] | null;
    const events: WorkerEvent[] = [];
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        this.#lastEvent = id;
        const text = entryMessage(fields);
        if (text) events.push(parseEvent(text));
      }
    }
    return events;
  }

  /** Before the start: a claimed worker whose heartbeat is gone. */
  async #checkHeartbeats(): Promise<void> {
    const waiting = this.#names.filter((n) => !this.#results.has(n));
    if (waiting.length === 0) return;
    const c = this.#redis.commands;
    const beats = await c.mget(...waiting.map((n) => this.#keys.worker(n)));
    waiting.forEach((name, i) => {
      if (!beats[i]) {
        throw this.#died(
          name,
          `its heartbeat stopped (no heartbeat for over ${HEARTBEAT_TTL_MS / 1000} s: its key expired)`,
        );
      }
    });
    const claims = c.multi();
    for (const name of this.#names) claims.pexpire(this.#keys.claim(name), CLAIM_TTL_MS);
    await claims.exec();
  }

  /** Mid-run: heartbeats, and a snapshot at least every DEAD_AFTER_MS from every worker still running. */
  async #checkLiveness(): Promise<void> {
    await this.#checkHeartbeats();
    const now = Date.now();
    for (const name of this.#names) {
      if (this.#results.has(name)) continue;
      const silent = now - this.#lastSnapshot.get(name)!;
      if (silent > DEAD_AFTER_MS) {
        throw this.#died(name, `it sent no snapshot for ${(silent / 1000).toFixed(1)} s`);
      }
    }
  }

  #died(name: string, why: string): DistributedLoadError {
    this.#dead.add(name);
    return new DistributedLoadError(
      `load worker ${name} stopped mid-run: ${why}; the run was aborted on all ${this.#n} workers and fails (a distributed run never continues with fewer workers than asked for)`,
    );
  }

  async #sendAbort(reason: string): Promise<void> {
    await this.#redis.commands.xadd(
      this.#keys.control(this.#runId),
      "*",
      FIELD,
      JSON.stringify({ type: "abort", reason }),
    );
  }

  /** Tells every worker to stop and waits (bounded) until those still alive have, so none keeps loading. */
  async #abortAll(reason: string): Promise<void> {
    await this.#sendAbort(reason);
    const deadline = nowMs() + ABORT_WAIT_MS;
    const pending = () =>
      this.#names.filter((n) => !this.#results.has(n) && !this.#stopped.has(n) && !this.#dead.has(n));
    while (pending().length > 0 && nowMs() < deadline) {
      for (const event of await this.#read()) {
        if (event.type === "done" || event.type === "failed") this.#stopped.add(event.worker);
      }
      // A worker that never got its assignment or has gone has nothing to stop.
      const waiting = pending();
      if (waiting.length === 0) break;
      const beats = await this.#redis.commands.mget(...waiting.map((n) => this.#keys.worker(n)));
      waiting.forEach((name, i) => {
        const beat = beats[i] ? safeBeat(beats[i]!) : undefined;
        if (!beat || beat.run !== this.#runId) this.#stopped.add(name);
      });
    }
  }
}

function safeBeat(text: string): WorkerBeat | undefined {
  try {
    return parseBeat(text);
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
