// One stage of load from this thread: keep-alive connections over raw sockets, pre-encoded requests, the minimal
// parser, latency into an HDR histogram. Closed model: each connection keeps `pipelining` requests in flight. Open
// model: requests are due at fixed intended times; latency counts from the intended time, so a server that stalls
// makes every request it delayed late (no coordinated omission), whether it waited on a socket or in the backlog.
import net from "node:net";
import { performance } from "node:perf_hooks";
import tls from "node:tls";
import { createHistogram, type Histogram, recordMicros } from "./histogram.js";
import { PreciseTimer } from "./preciseTimer.js";
import type { Endpoint, RequestMix } from "./requests.js";
import { HttpParseError, ResponseParser } from "./responseParser.js";

export interface StagePlan {
  name: string;
  durationMs: number;
  /** Closed model: connections; open model: the connection pool serving the arrivals. */
  connections: number;
  /** Open model when set: arrivals per second. */
  rate?: number;
  /** Ramp from `from` to this stage's level over rampUpMs. */
  rampUpMs?: number;
  from?: { connections?: number; rate?: number };
  pipelining?: number;
  /** A request unanswered (or waiting in the backlog) this long is a timeout. */
  timeoutMs?: number;
}

export interface ErrorCounts {
  refused: number;
  reset: number;
  timeout: number;
  /** Malformed responses, TLS and other socket errors. */
  other: number;
}

export interface Tick {
  /** Seconds since the stage started (1 for the first second). */
  second: number;
  requests: number;
  errors: number;
  bytes: number;
  /** Latencies recorded in this interval only. */
  histogram: Histogram;
}

export interface LoopResult {
  requests: number;
  bytes: number;
  /** Count per HTTP status code. */
  status: Record<string, number>;
  errors: ErrorCounts;
  histogram: Histogram;
  /**
   * Open model: how late the generator released each arrival (release time − intended time), µs; empty in the
   * closed model. A request is sent on release unless every connection is busy (then it is `queued`).
   */
  lateness: Histogram;
  /** Open model: arrivals that waited for a free connection (the pool was busy with slower answers). */
  queued: number;
  /** Time load was generated, ms (the grace period to collect answers is not included). */
  durationMs: number;
  /** Open model: requests due but never sent (the pool was busy until the end). */
  dropped: number;
  /** Requests still unanswered when the stage ended after its grace period. */
  unfinished: number;
  aborted: boolean;
}

export interface LoopOptions {
  endpoint: Endpoint;
  mix: RequestMix;
  plan: StagePlan;
  signal?: AbortSignal;
  /** Called once per second (and for the last partial second); the histogram is reset afterwards. */
  onTick?: (tick: Tick) => void;
  /** false accepts self-signed certificates (load tests against staging). */
  rejectUnauthorized?: boolean;
  /**
   * Wall-clock time (Date.now() ms) at which load starts, for several generators started together; connections of
   * the open model's pool are opened before it. Default: now (the open model: once its pool has connected).
   */
  startAt?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** How long in-flight requests may finish after the stage's duration. */
const GRACE_MS = 2_000;
const RECONNECT_DELAY_MS = 50;
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
/**
 * Open model: the precise timer wakes this thread this long before a due time (a futex wake and a message take about
 * 0.1 ms) and loop turns (setImmediate) cover the rest; an arrival due sooner is taken on the next turn.
 */
const EARLY_MS = 0.25;
/** Open model: the longest the schedule waits for its pool to connect before it starts anyway. */
const POOL_WAIT_MS = 1_000;

export function runLoop(options: LoopOptions): Promise<LoopResult> {
  return new LoadLoop(options).run();
}

class LoadLoop {
  readonly #o: LoopOptions;
  readonly #plan: StagePlan;
  readonly #timeoutMs: number;
  readonly #pipelining: number;
  readonly #open: boolean;
  readonly #statusCounts = new Uint32Array(1000);
  readonly #errors: ErrorCounts = { refused: 0, reset: 0, timeout: 0, other: 0 };
  readonly #total = createHistogram();
  readonly #lateness = createHistogram();
  #interval = createHistogram();
  #tickRequests = 0;
  #tickErrors = 0;
  #tickBytes = 0;
  #requests = 0;
  #bytes = 0;
  #nextRequest = 0;
  #start = 0;
  #sendingUntil = 0;
  #running = false;
  #stopped = false;
  #aborted = false;
  readonly #connections = new Set<Connection>();
  #target = 0;
  /** Open model: intended send times (performance.now ms) not yet sent, oldest first. */
  #backlog = new Float64Array(1024);
  #backlogHead = 0;
  #backlogTail = 0;
  #arrivals = 0;
  #dropped = 0;
  #queued = 0;
  readonly #idle: Connection[] = [];
  /** While the open model's pool connects: called as each initial connection succeeds or fails. */
  #onSettled: (() => void) | undefined;
  #spin: NodeJS.Immediate | undefined;
  #timer: PreciseTimer | undefined;

  constructor(options: LoopOptions) {
    this.#o = options;
    this.#plan = options.plan;
    this.#timeoutMs = options.plan.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#pipelining = Math.max(1, options.plan.pipelining ?? 1);
    this.#open = options.plan.rate !== undefined;
  }

  run(): Promise<LoopResult> {
    return new Promise((resolve) => {
      const plan = this.#plan;
      this.#start = performance.now();
      this.#sendingUntil = this.#start + plan.durationMs;
      this.#running = true;
      const timers: NodeJS.Timeout[] = [];
      let second = 0;
      let endTimer: NodeJS.Timeout | undefined;
      let graceTimer: NodeJS.Timeout | undefined;
      let beginTimer: NodeJS.Timeout | undefined;
      let begun = false;
      const finish = () => {
        if (this.#stopped) return;
        this.#stopped = true;
        for (const t of timers) clearInterval(t);
        clearImmediate(this.#spin);
        this.#timer?.close();
        clearTimeout(beginTimer);
        clearTimeout(endTimer);
        clearTimeout(graceTimer);
        this.#onSettled = undefined;
        this.#o.signal?.removeEventListener("abort", onAbort);
        let unfinished = 0;
        for (const c of this.#connections) {
          unfinished += c.inflight;
          c.destroy();
        }
        this.#emitTick(second + 1);
        const status: Record<string, number> = {};
        this.#statusCounts.forEach((n, code) => {
          if (n > 0) status[String(code)] = n;
        });
        resolve({
          requests: this.#requests,
          bytes: this.#bytes,
          status,
          errors: { ...this.#errors },
          histogram: this.#total,
          lateness: this.#lateness,
          queued: this.#queued,
          durationMs: begun ? Math.max(0, Math.min(performance.now(), this.#sendingUntil) - this.#start) : 0,
          dropped: this.#dropped + this.#backlogSize(),
          unfinished,
          aborted: this.#aborted,
        });
      };
      const onAbort = () => {
        this.#aborted = true;
        this.#sendingUntil = Math.min(this.#sendingUntil, performance.now());
        this.#running = false;
        finish();
      };
      if (this.#o.signal?.aborted) {
        queueMicrotask(onAbort);
        return;
      }
      this.#o.signal?.addEventListener("abort", onAbort, { once: true });

      const begin = () => {
        if (begun || this.#stopped) return;
        begun = true;
        this.#onSettled = undefined;
        clearTimeout(beginTimer);
        this.#start = performance.now();
        this.#sendingUntil = this.#start + plan.durationMs;
        // Sending stops at the stage's end; answers to requests in flight are awaited for a bounded grace period.
        endTimer = setTimeout(() => {
          // Arrivals due in the last moments are still sent; what the pool cannot take is counted as dropped.
          if (this.#open) this.#arrive();
          this.#running = false;
          const graceMs = Math.min(GRACE_MS, this.#timeoutMs);
          for (const c of this.#connections) c.endWhenIdle();
          const waitIdle = setInterval(() => {
            if ([...this.#connections].every((c) => c.inflight === 0)) finish();
          }, 5);
          timers.push(waitIdle);
          graceTimer = setTimeout(finish, graceMs);
        }, plan.durationMs);
        timers.push(
          setInterval(() => {
            second++;
            this.#emitTick(second);
          }, 1000),
        );
        timers.push(setInterval(() => this.#sweepTimeouts(), 100));
        if (this.#open) {
          this.#scheduleNext();
          return;
        }
        this.#adjustConnections();
        if ((plan.rampUpMs ?? 0) > 0) timers.push(setInterval(() => this.#adjustConnections(), 10));
      };

      // The open model opens its pool before the clock starts: connection set-up is the generator's cost, and timed
      // from an intended send it would read as server latency in the first milliseconds of every run.
      if (this.#open) {
        let timerReady = false;
        this.#timer = new PreciseTimer(
          () => this.#scheduleNext(),
          () => {
            timerReady = true;
            this.#onSettled?.();
          },
        );
        this.#adjustConnections();
        const initial = [...this.#connections];
        this.#onSettled = () => {
          if (this.#o.startAt === undefined && timerReady && initial.every((c) => c.settled)) begin();
        };
      }
      const waitMs =
        this.#o.startAt !== undefined
          ? this.#o.startAt - Date.now()
          : this.#open
            ? Math.min(POOL_WAIT_MS, this.#timeoutMs)
            : 0;
      if (waitMs > 0) beginTimer = setTimeout(begin, waitMs);
      else if (!this.#open || this.#o.startAt !== undefined) begin();
    });
  }

  /**
   * Open model: wakes for the next due arrival. Node's timers fire up to a millisecond late (their granularity),
   * which at 1,000 req/s is the whole gap between arrivals, so the wake-up comes from a precise timer (a helper
   * thread on a futex) a little early, and the last fraction of a millisecond is loop turns (setImmediate). What lateness
   * remains is measured per request, not hidden.
   */
  #scheduleNext(): void {
    if (!this.#running) return;
    this.#arrive();
    const due = this.#start + this.#timeOf(this.#arrivals) * 1000;
    if (due >= this.#sendingUntil) return; // the end timer releases what is due in the last moment
    const wait = due - performance.now();
    if (wait <= EARLY_MS || !this.#timer) {
      this.#spin = setImmediate(() => this.#scheduleNext());
      return;
    }
    this.#timer.set(performance.timeOrigin + due - EARLY_MS);
  }

  #emitTick(second: number): void {
    if (this.#o.onTick) {
      this.#o.onTick({
        second,
        requests: this.#tickRequests,
        errors: this.#tickErrors,
        bytes: this.#tickBytes,
        histogram: this.#interval,
      });
    }
    this.#interval.reset();
    this.#tickRequests = 0;
    this.#tickErrors = 0;
    this.#tickBytes = 0;
  }

  /** Closed model: the number of connections wanted now (ramping linearly when asked). */
  #adjustConnections(): void {
    if (!this.#running) return;
    const plan = this.#plan;
    let target = plan.connections;
    const ramp = plan.rampUpMs ?? 0;
    if (ramp > 0 && !this.#open) {
      const from = plan.from?.connections ?? 0;
      const t = Math.min(1, (performance.now() - this.#start) / ramp);
      target = Math.max(1, Math.round(from + (plan.connections - from) * t));
    }
    this.#target = target;
    let open = 0;
    for (const c of this.#connections) if (!c.retiring) open++;
    while (open < target) {
      this.#connect();
      open++;
    }
    if (open > target) {
      for (const c of this.#connections) {
        if (open <= target) break;
        if (!c.retiring) {
          c.endWhenIdle();
          open--;
        }
      }
    }
  }

  #connect(): void {
    const connection = new Connection(this);
    this.#connections.add(connection);
  }

  // ——— called by connections ———

  get endpoint(): Endpoint {
    return this.#o.endpoint;
  }
  get rejectUnauthorized(): boolean {
    return this.#o.rejectUnauthorized ?? true;
  }
  get running(): boolean {
    return this.#running;
  }
  get open(): boolean {
    return this.#open;
  }
  get pipelining(): number {
    return this.#pipelining;
  }

  connectionSettled(): void {
    this.#onSettled?.();
  }

  nextRequestIndex(): number {
    const order = this.#o.mix.order;
    const index = order[this.#nextRequest % order.length]!;
    this.#nextRequest++;
    return index;
  }

  requestAt(index: number) {
    return this.#o.mix.requests[index]!;
  }

  recordResponse(status: number, bytes: number, latencyMs: number): void {
    this.#requests++;
    this.#tickRequests++;
    this.#bytes += bytes;
    this.#tickBytes += bytes;
    this.#statusCounts[status]!++;
    if (status < 200 || status > 299) this.#tickErrors++;
    // Recorded twice rather than added once a second: adding walks every bucket, long enough to delay arrivals.
    recordMicros(this.#interval, latencyMs * 1000);
    recordMicros(this.#total, latencyMs * 1000);
  }

  recordError(kind: keyof ErrorCounts, count = 1): void {
    this.#errors[kind] += count;
    this.#tickErrors += count;
  }

  connectionClosed(connection: Connection): void {
    this.#connections.delete(connection);
    const i = this.#idle.indexOf(connection);
    if (i >= 0) this.#idle.splice(i, 1);
    if (!this.#running || connection.retiring) return;
    // Replace it, after a short pause when the server refuses, so a down server is counted, not hammered.
    const delay = connection.failedToConnect ? RECONNECT_DELAY_MS : 0;
    const replace = () => {
      if (!this.#running) return;
      let open = 0;
      for (const c of this.#connections) if (!c.retiring) open++;
      if (open < this.#target) this.#connect();
    };
    if (delay > 0) setTimeout(replace, delay).unref();
    else replace();
  }

  /** Open model: a connection has room for another request; it takes the oldest due one, if any. */
  connectionFree(connection: Connection): void {
    if (this.#backlogSize() > 0 && this.#running) {
      this.#queued++;
      connection.send(this.#backlogShift());
      if (connection.hasRoom) this.connectionFree(connection);
      return;
    }
    if (!this.#idle.includes(connection)) this.#idle.push(connection);
  }

  /** Open model: puts back requests a closing connection could not send, keeping their intended times. */
  requeue(intended: number): void {
    this.#backlogPush(intended);
  }

  // ——— open model ———

  /** Seconds since start at which arrival i is due. */
  #timeOf(i: number): number {
    const r1 = this.#plan.rate!;
    const rampS = (this.#plan.rampUpMs ?? 0) / 1000;
    const r0 = this.#plan.from?.rate ?? r1;
    if (rampS <= 0 || r0 === r1) return i / r1;
    const duringRamp = ((r0 + r1) * rampS) / 2;
    if (i >= duringRamp) return rampS + (i - duringRamp) / r1;
    const k = (r1 - r0) / rampS;
    return (-r0 + Math.sqrt(r0 * r0 + 2 * k * i)) / k;
  }

  #arrive(): void {
    if (!this.#running) return;
    const now = performance.now();
    const elapsedS = (Math.min(now, this.#sendingUntil) - this.#start) / 1000;
    for (;;) {
      const at = this.#timeOf(this.#arrivals);
      if (at > elapsedS) break;
      this.#arrivals++;
      const intended = this.#start + at * 1000;
      // The generator's own lateness: when it noticed the arrival against when it was due. Waiting for a free
      // connection afterwards is the server's doing (it holds them) and is counted as `queued`, not here.
      recordMicros(this.#lateness, (now - intended) * 1000);
      this.#backlogPush(intended);
    }
    while (this.#backlogSize() > 0 && this.#idle.length > 0) {
      const c = this.#idle[this.#idle.length - 1]!;
      if (c.hasRoom) c.send(this.#backlogShift());
      if (!c.hasRoom) this.#idle.pop();
    }
  }

  #backlogSize(): number {
    return this.#backlogTail - this.#backlogHead;
  }

  #backlogPush(intended: number): void {
    if (this.#backlogTail === this.#backlog.length) {
      const size = this.#backlogSize();
      // Compact, or grow when more than half is live; the backlog holds only what the server has not yet taken.
      const next =
        size * 2 > this.#backlog.length ? new Float64Array(this.#backlog.length * 2) : this.#backlog;
      next.set(this.#backlog.subarray(this.#backlogHead, this.#backlogTail), 0);
      this.#backlog = next;
      this.#backlogHead = 0;
      this.#backlogTail = size;
    }
    this.#backlog[this.#backlogTail++] = intended;
  }

  #backlogShift(): number {
    const value = this.#backlog[this.#backlogHead++]!;
    if (this.#backlogHead === this.#backlogTail) {
      this.#backlogHead = 0;
      this.#backlogTail = 0;
    }
    return value;
  }

  #sweepTimeouts(): void {
    const now = performance.now();
    for (const c of this.#connections) {
      if (c.inflight > 0 && now - c.oldestStart > this.#timeoutMs) {
        this.recordError("timeout", c.inflight);
        c.abandon();
      }
    }
    // Arrivals that waited in the backlog longer than the timeout would be timeouts on any client.
    while (this.#backlogSize() > 0 && now - this.#backlog[this.#backlogHead]! > this.#timeoutMs) {
      this.#backlogShift();
      this.recordError("timeout");
    }
    if (this.#open && this.#running) this.#arrive();
  }
}

class Connection {
  readonly #loop: LoadLoop;
  readonly #socket: net.Socket;
  readonly #parser: ResponseParser;
  /** Start (closed) or intended (open) times of requests in flight, in order, and their request indexes. */
  #starts: number[] = [];
  #indexes: number[] = [];
  #connected = false;
  #closing = false;
  #serverClose = false;
  retiring = false;
  failedToConnect = false;
  #destroyed = false;
  /** Shared by every response parsed from one chunk: they arrived together. */
  #chunkTime = 0;

  constructor(loop: LoadLoop) {
    this.#loop = loop;
    const { host, port, protocol } = loop.endpoint;
    this.#socket =
      protocol === "https:"
        ? tls.connect({
            host,
            port,
            servername: net.isIP(host) ? undefined : host,
            rejectUnauthorized: loop.rejectUnauthorized,
            ALPNProtocols: ["http/1.1"],
          })
        : net.connect({
            host,
            port,
            // Plain sockets read into one shared buffer instead of a new Buffer per read: reads are handled
            // synchronously one at a time, and the parser copies the only bytes it keeps (a partial head).
            onread: {
              buffer: READ_BUFFER,
              callback: (size: number, buffer: Uint8Array) => {
                this.#onData(Buffer.from(buffer.buffer, buffer.byteOffset, size));
                return true;
              },
            },
          });
    this.#socket.setNoDelay(true);
    this.#parser = new ResponseParser(
      () => loop.requestAt(this.#indexes[0]!).head,
      (status, close, bytes) => this.#onResponse(status, close, bytes),
    );
    this.#socket.once(protocol === "https:" ? "secureConnect" : "connect", () => this.#onConnect());
    if (protocol === "https:") this.#socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on("error", (error: NodeJS.ErrnoException) => this.#onError(error));
    this.#socket.on("close", () => this.#onClose());
  }

  #onData(chunk: Buffer): void {
    this.#chunkTime = performance.now();
    try {
      this.#parser.execute(chunk);
    } catch (error) {
      if (!(error instanceof HttpParseError)) throw error;
      this.#loop.recordError("other", Math.max(1, this.inflight));
      this.#starts = [];
      this.#indexes = [];
      this.destroy();
    }
  }

  get inflight(): number {
    return this.#starts.length;
  }
  get oldestStart(): number {
    return this.#starts[0] ?? Number.POSITIVE_INFINITY;
  }
  get hasRoom(): boolean {
    return this.#connected && !this.#closing && !this.#serverClose && this.inflight < this.#loop.pipelining;
  }

  /** The first attempt to connect has ended, either way. */
  get settled(): boolean {
    return this.#connected || this.failedToConnect || this.#destroyed;
  }

  #onConnect(): void {
    this.#connected = true;
    this.#loop.connectionSettled();
    if (!this.#loop.running) {
      this.destroy();
      return;
    }
    if (this.#loop.open) this.#loop.connectionFree(this);
    else while (this.hasRoom) this.sendNext(performance.now());
  }

  /** Closed model: the next request of the mix, timed from now. */
  sendNext(now: number): void {
    const index = this.#loop.nextRequestIndex();
    this.#starts.push(now);
    this.#indexes.push(index);
    this.#socket.write(this.#loop.requestAt(index).buffer);
  }

  /** Open model: sends the next request of the mix for an arrival due at `intended`. */
  send(intended: number): void {
    const index = this.#loop.nextRequestIndex();
    this.#starts.push(intended);
    this.#indexes.push(index);
    this.#socket.write(this.#loop.requestAt(index).buffer);
  }

  #onResponse(status: number, close: boolean, bytes: number): void {
    const start = this.#starts.shift();
    this.#indexes.shift();
    if (start === undefined) return; // an unsolicited response; nothing to time
    this.#loop.recordResponse(status, bytes, this.#chunkTime - start);
    if (close) {
      this.#serverClose = true;
      this.#drop();
      this.destroy();
      return;
    }
    if (this.#loop.running && !this.#closing) {
      if (this.#loop.open) this.#loop.connectionFree(this);
      else this.sendNext(this.#chunkTime);
    } else if (this.inflight === 0) {
      this.destroy();
    }
  }

  /** Requests in flight on a connection the server closed on purpose: open model sends them again, still late. */
  #drop(): void {
    if (this.#loop.open) for (const start of this.#starts) this.#loop.requeue(start);
    this.#starts = [];
    this.#indexes = [];
  }

  #onError(error: NodeJS.ErrnoException): void {
    if (this.#destroyed) return;
    const code = error.code ?? "";
    if (!this.#connected) {
      this.failedToConnect = true;
      this.#loop.connectionSettled();
      if (code === "ECONNREFUSED") this.#loop.recordError("refused");
      else if (code === "ECONNRESET") this.#loop.recordError("reset");
      else this.#loop.recordError("other");
    } else if (this.inflight > 0) {
      this.#loop.recordError(code === "ECONNRESET" || code === "EPIPE" ? "reset" : "other", this.inflight);
    }
    this.#starts = [];
    this.#indexes = [];
  }

  #onClose(): void {
    // A body delimited by the connection's end completes here.
    if (!this.#destroyed) this.#parser.finish();
    if (!this.#destroyed && this.inflight > 0) {
      // The server closed with requests unanswered and without saying Connection: close.
      this.#loop.recordError("reset", this.inflight);
      this.#starts = [];
      this.#indexes = [];
    }
    this.#destroyed = true;
    this.#loop.connectionClosed(this);
  }

  /** Stop sending; close once the requests in flight are answered. */
  endWhenIdle(): void {
    this.#closing = true;
    this.retiring = true;
    if (this.inflight === 0) this.destroy();
  }

  /** Gives up on the requests in flight (already counted as timeouts) and lets the loop replace the connection. */
  abandon(): void {
    this.#starts = [];
    this.#indexes = [];
    this.destroy();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#socket.destroy();
  }
}
