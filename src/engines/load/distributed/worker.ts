// A load worker process: announces itself on Redis with a heartbeat, takes one assignment at a time from its inbox,
// runs its segment with runLoop from the shared barrier, streams a snapshot per second and its final result, and
// waits for the next. A stop (SIGINT/SIGTERM) aborts a running segment and says so, so the coordinator fails the run
// at once instead of waiting for the silence.
import { hostname } from "node:os";
import { UserError } from "../../../errors.js";
import { type LoopResult, runLoop } from "../loadLoop.js";
import {
  type Assignment,
  type ControlMessage,
  DEFAULT_PREFIX,
  decodeMix,
  encodeLoopResult,
  encodeTick,
  entryMessage,
  FIELD,
  HEARTBEAT_EVERY_MS,
  HEARTBEAT_TTL_MS,
  keysOf,
  PROTOCOL_VERSION,
  parseAssignment,
  parseControl,
  prefixProblem,
  redisLabel,
  versionOf,
  type WorkerBeat,
  type WorkerEvent,
  workerNameProblem,
} from "./protocol.js";
import { clockSkew, connectRedisPair, end, type RedisPair } from "./redisConnection.js";

export interface WorkerOptions {
  redis: string;
  name: string;
  prefix?: string;
  /** Stops the worker; its reason (e.g. "SIGTERM") is what the coordinator is told. */
  signal: AbortSignal;
  log: (line: string) => void;
  /** End after this long without an assignment (the pods of a Kubernetes Job must end); default: never. */
  idleTimeoutMs?: number;
}

export interface WorkerOutcome {
  runs: number;
  stoppedBy: "signal" | "idle";
}

/** How long an assigned worker waits for the barrier before it gives the run up (its coordinator is gone). */
const START_WAIT_MS = 30_000;
/** Blocking reads wake this often, so a finished segment or a stop is noticed soon. */
const BLOCK_MS = 500;

/** The worker's default name: an Indexed Job's pods by their index, anything else by host and pid. */
export function defaultWorkerName(env: NodeJS.ProcessEnv = process.env): string {
  const index = env.JOB_COMPLETION_INDEX;
  if (index !== undefined && /^\d+$/.test(index)) return `${env.GAUNTLET_JOB_NAME || "worker"}-${index}`;
  return `${hostname().replace(/[^A-Za-z0-9._-]/g, "-")}-${process.pid}`;
}

export async function runLoadWorker(options: WorkerOptions): Promise<WorkerOutcome> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const problem = workerNameProblem(options.name) ?? prefixProblem(prefix);
  if (problem) throw new UserError(problem);
  const redis = await connectRedisPair(options.redis, true);
  const worker = new LoadWorker(options, prefix, redis);
  try {
    return await worker.serve();
  } finally {
    await redis.close();
  }
}

class LoadWorker {
  readonly #o: WorkerOptions;
  readonly #redis: RedisPair;
  readonly #keys: ReturnType<typeof keysOf>;
  readonly #prefix: string;
  #beat: WorkerBeat;

  constructor(options: WorkerOptions, prefix: string, redis: RedisPair) {
    this.#o = options;
    this.#redis = redis;
    this.#prefix = prefix;
    this.#keys = keysOf(prefix);
    this.#beat = {
      v: PROTOCOL_VERSION,
      name: options.name,
      host: hostname(),
      pid: process.pid,
      state: "idle",
    };
  }

  async serve(): Promise<WorkerOutcome> {
    const { name, signal } = this.#o;
    const beatKey = this.#keys.worker(name);
    const where = `${redisLabel(this.#o.redis)} (prefix ${this.#prefix})`;
    const taken = await this.#redis.commands.set(
      beatKey,
      JSON.stringify(this.#beat),
      "PX",
      HEARTBEAT_TTL_MS,
      "NX",
    );
    if (taken !== "OK") {
      throw new UserError(`a worker named ${name} is already live on ${where}: give this one another --name`);
    }
    const heartbeat = setInterval(() => void this.#sendBeat(), HEARTBEAT_EVERY_MS);
    // A blocked read holds its connection; dropping it is the only way to stop waiting at once.
    const onStop = () => end(this.#redis.blocking);
    signal.addEventListener("abort", onStop, { once: true });
    this.#o.log(`worker ${name} waiting for load runs on ${where}`);
    let runs = 0;
    let stoppedBy: WorkerOutcome["stoppedBy"] = "signal";
    let idleSince = Date.now();
    try {
      while (!signal.aborted) {
        let popped: [string, string] | null;
        try {
          popped = await this.#redis.blocking.blpop(this.#keys.inbox(name), BLOCK_MS / 1000);
        } catch (error) {
          if (signal.aborted) break;
          throw error;
        }
        if (!popped) {
          const idle = this.#o.idleTimeoutMs;
          if (idle !== undefined && Date.now() - idleSince >= idle) {
            stoppedBy = "idle";
            this.#o.log(`worker ${name}: no run for ${Math.round(idle / 1000)} s, stopping`);
            break;
          }
          continue;
        }
        if (await this.#serveAssignment(popped[1])) runs++;
        idleSince = Date.now();
      }
    } finally {
      clearInterval(heartbeat);
      signal.removeEventListener("abort", onStop);
      await this.#redis.commands.del(beatKey).catch(() => {});
    }
    return { runs, stoppedBy };
  }

  #sendBeat(): Promise<unknown> {
    return this.#redis.commands
      .set(this.#keys.worker(this.#o.name), JSON.stringify(this.#beat), "PX", HEARTBEAT_TTL_MS)
      .catch(() => {});
  }

  #setState(state: WorkerBeat["state"], run?: string): Promise<unknown> {
    this.#beat = { ...this.#beat, state, ...(run ? { run } : {}) };
    if (!run) delete this.#beat.run;
    return this.#sendBeat();
  }

  #send(runId: string, event: WorkerEvent): Promise<unknown> {
    return this.#redis.commands.xadd(this.#keys.events(runId), "*", FIELD, JSON.stringify(event));
  }

  /** One assignment, start to end; false when it was not run (stale, malformed, never started). */
  async #serveAssignment(text: string): Promise<boolean> {
    const { name, log } = this.#o;
    const runId = runIdOf(text);
    const version = versionOf(text);
    if (version !== PROTOCOL_VERSION) {
      const reason = `worker ${name} speaks protocol ${PROTOCOL_VERSION}, the coordinator ${version ?? "an unknown one"}: run the same gauntlet version on coordinator and workers`;
      log(reason);
      if (runId) await this.#send(runId, { type: "failed", worker: name, reason }).catch(() => {});
      return false;
    }
    let assignment: Assignment;
    try {
      assignment = parseAssignment(text);
    } catch (error) {
      const reason = `worker ${name} cannot use its assignment: ${(error as Error).message}`;
      log(reason);
      if (runId) await this.#send(runId, { type: "failed", worker: name, reason }).catch(() => {});
      return false;
    }
    // An assignment left by a coordinator that has since gone (its claim expired, or another coordinator's) is old.
    const claim = await this.#redis.commands.get(this.#keys.claim(name));
    if (claim !== assignment.runId) {
      log(
        `worker ${name}: ignoring an assignment for run ${assignment.runId}, which no longer holds this worker`,
      );
      return false;
    }
    await this.#setState("busy", assignment.runId);
    try {
      return await this.#run(assignment);
    } finally {
      await this.#setState("idle");
    }
  }

  async #run(a: Assignment): Promise<boolean> {
    const { name, log, signal } = this.#o;
    const control = this.#keys.control(a.runId);
    let lastControl = "0-0";
    const readControl = async (): Promise<ControlMessage[]> => {
      const reply = (await this.#redis.blocking.xread(
        "COUNT",
        10,
        "BLOCK",
        BLOCK_MS,
        "STREAMS",
        control,
        lastControl,
      )) as [string, [string, string[]][]][] | null;
      const messages: ControlMessage[] = [];
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          lastControl = id;
          const text = entryMessage(fields);
          if (text) messages.push(parseControl(text));
        }
      }
      return messages;
    };

    // Each machine's clock is off by its own amount (NTP keeps them within milliseconds, a VM without it may be
    // seconds off); the barrier is given in Redis' clock and converted with this worker's measured skew, so the
    // workers start together to within half a round trip to Redis, whatever their clocks say.
    const skew = await clockSkew(this.#redis.commands);
    await this.#send(a.runId, { type: "ready", worker: name, clockSkewMs: skew.skewMs, rttMs: skew.rttMs });
    const p = a.plan;
    const load =
      p.rate !== undefined
        ? `${round2(p.rate)}/s over ${p.connections} connections`
        : `${p.connections} connections`;
    log(
      `run ${a.runId}: segment ${a.index + 1}/${a.of} of stage ${p.name}, ${load} for ${p.durationMs} ms (clock ${skew.skewMs} ms from Redis')`,
    );

    let startAt: number | undefined;
    const deadline = Date.now() + START_WAIT_MS;
    while (startAt === undefined) {
      if (signal.aborted) {
        await this.#stopped(a.runId);
        return false;
      }
      if (Date.now() > deadline) {
        log(
          `run ${a.runId}: no start within ${START_WAIT_MS / 1000} s; its coordinator is gone, giving it up`,
        );
        return false;
      }
      let messages: ControlMessage[];
      try {
        messages = await readControl();
      } catch (error) {
        if (signal.aborted) continue;
        throw error;
      }
      for (const m of messages) {
        if (m.type === "start") startAt = m.startAt;
        if (m.type === "abort") {
          log(`run ${a.runId}: aborted before it started: ${m.reason}`);
          return false;
        }
      }
    }

    const controller = new AbortController();
    let abortedBy: string | undefined;
    const onStop = () => controller.abort();
    signal.addEventListener("abort", onStop, { once: true });
    const inFlight = new Set<Promise<unknown>>();
    let sendError: unknown;
    let finished = false;
    let result: LoopResult;
    const watch = (async () => {
      while (!finished && !signal.aborted) {
        let messages: ControlMessage[];
        try {
          messages = await readControl();
        } catch {
          return;
        }
        const abort = messages.find((m) => m.type === "abort");
        if (abort && abort.type === "abort") {
          abortedBy = abort.reason;
          controller.abort();
        }
      }
    })();
    try {
      result = await runLoop({
        endpoint: a.endpoint,
        mix: decodeMix(a.mix),
        plan: a.plan,
        signal: controller.signal,
        rejectUnauthorized: a.rejectUnauthorized,
        startAt: startAt + skew.skewMs,
        onTick: (tick) => {
          const sent = this.#send(a.runId, { type: "tick", worker: name, tick: encodeTick(tick) }).catch(
            (error: unknown) => {
              sendError ??= error;
            },
          );
          inFlight.add(sent);
          void sent.finally(() => inFlight.delete(sent));
        },
      });
    } catch (error) {
      finished = true;
      const reason = `worker ${name}: the load loop failed: ${(error as Error).message}`;
      log(reason);
      await this.#send(a.runId, { type: "failed", worker: name, reason }).catch(() => {});
      return false;
    } finally {
      finished = true;
      signal.removeEventListener("abort", onStop);
    }
    await Promise.all(inFlight);
    if (signal.aborted) {
      await this.#stopped(a.runId);
      await watch;
      return false;
    }
    if (sendError) log(`run ${a.runId}: a snapshot did not reach Redis: ${(sendError as Error).message}`);
    await this.#send(a.runId, { type: "done", worker: name, result: encodeLoopResult(result) });
    await watch;
    log(
      abortedBy
        ? `run ${a.runId}: aborted (${abortedBy}) after ${result.requests} requests`
        : `run ${a.runId}: done, ${result.requests} requests`,
    );
    return true;
  }

  async #stopped(runId: string): Promise<void> {
    const why = this.#o.signal.reason;
    const reason = `worker ${this.#o.name} was stopped${typeof why === "string" ? ` by ${why}` : ""}`;
    this.#o.log(`run ${runId}: ${reason}`);
    await this.#send(runId, { type: "failed", worker: this.#o.name, reason }).catch(() => {});
  }
}

function runIdOf(text: string): string | undefined {
  try {
    const runId = (JSON.parse(text) as { runId?: unknown }).runId;
    return typeof runId === "string" && /^[A-Za-z0-9-]{1,64}$/.test(runId) ? runId : undefined;
  } catch {
    return undefined;
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
