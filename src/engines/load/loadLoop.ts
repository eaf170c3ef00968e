// One stage of load from this thread: keep-alive connections over raw sockets, pre-encoded requests, the minimal
// parser, latency into an HDR histogram. Closed model: each connection keeps `pipelining` requests in flight. Open
// model: requests are due at fixed intended times; latency counts from the intended time, so a server that stalls
// makes every request it delayed late (no coordinated omission), whether it waited on a socket or in the backlog.
import net from "node:net";
import { performance } from "node:perf_hooks";
import tls from "node:tls";
import { createHistogram, type Histogram, recordMicros } from "./histogram.js";
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
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** How long in-flight requests may finish after the stage's duration. */
const GRACE_MS = 2_000;
const RECONNECT_DELAY_MS = 50;
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

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
  readonly #idle: Connection[] = [];

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
      const finish = () => {
        if (this.#stopped) return;
        this.#stopped = true;
        for (const t of timers) clearInterval(t);
        clearTimeout(endTimer);
        clearTimeout(graceTimer);
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
          durationMs: Math.min(performance.now(), this.#sendingUntil) - this.#start,
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
      let graceTimer: NodeJS.Timeout | undefined;
      // Sending stops at the stage's end; answers to requests in flight are awaited for a bounded grace period.
      const endTimer = setTimeout(() => {
        // Arrivals due in the last timer tick are still sent; what the pool cannot take is counted as dropped.
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
        // Arrivals are generated on a 1 ms timer; each carries its exact intended time, so timer jitter is not hidden.
        timers.push(setInterval(() => this.#arrive(), 1));
      }
      const ramps = (plan.rampUpMs ?? 0) > 0 && !this.#open;
      this.#adjustConnections();
      if (ramps) timers.push(setInterval(() => this.#adjustConnections(), 10));
      if (this.#open) this.#arrive();
    });
  }

  #emitTick(second: number): void {
    this.#total.add(this.#interval);
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
    recordMicros(this.#interval, latencyMs * 1000);
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
      this.#backlogPush(this.#start + at * 1000);
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

  #onConnect(): void {
    this.#connected = true;
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
