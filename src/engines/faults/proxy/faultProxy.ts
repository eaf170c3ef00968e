// A TCP proxy between a service and one dependency that injects real network faults (toxics). Each accepted
// connection is a link of two pipes; every chunk is passed through the toxics active *now*, so adding or removing a
// toxic changes links already open, not only new ones. With no toxic on a direction, chunks are written straight
// through (with backpressure) so the proxy costs next to nothing when idle.
import { EventEmitter } from "node:events";
import net from "node:net";
import { type Direction, MAX_TIMER_MS, parseToxic, type Toxic, ToxicError } from "./toxics.js";

export interface Endpoint {
  host: string;
  port: number;
}

export interface FaultProxyOptions {
  name?: string;
  listen: Endpoint;
  upstream: Endpoint;
}

export interface FaultProxyStatus {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  listening: boolean;
  toxics: Toxic[];
  connections: { open: number; total: number; refusedUpstream: number };
  bytes: { upstream: number; downstream: number };
}

/** Pause the source once this much is queued behind a toxic, so a slow toxic cannot fill memory. */
const HIGH_WATER = 1024 * 1024;
/**
 * Socket buffer size in user space. The 16 KB default makes nearly every 64 KB read overrun the destination's buffer,
 * so each chunk would pause and resume the source (two epoll changes per chunk): a third of the throughput.
 */
const SOCKET_HIGH_WATER = 1024 * 1024;

export class FaultProxy extends EventEmitter {
  readonly name: string;
  readonly upstream: Endpoint;
  #listen: Endpoint;
  #server: net.Server | null = null;
  #enabled = true;
  #toxics = new Map<string, Toxic>();
  #byDirection: Record<Direction, Toxic[]> = { upstream: [], downstream: [] };
  readonly #links = new Set<Link>();
  #total = 0;
  #refused = 0;
  readonly bytes = { upstream: 0, downstream: 0 };

  constructor(options: FaultProxyOptions) {
    super();
    this.setMaxListeners(0);
    this.name = options.name ?? `${options.upstream.host}:${options.upstream.port}`;
    this.#listen = { ...options.listen };
    this.upstream = { ...options.upstream };
  }

  /** The bound address (the real port when asked for port 0). */
  get listenAddress(): Endpoint {
    return { ...this.#listen };
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  async start(): Promise<void> {
    if (this.#shouldListen()) await this.#openListener();
  }

  async close(): Promise<void> {
    this.#enabled = false;
    for (const link of this.#links) link.destroy();
    this.#closeListener();
  }

  toxics(): Toxic[] {
    return [...this.#toxics.values()].map((t) => ({ ...t, attributes: { ...t.attributes } }));
  }

  /** Adds a toxic (validated); it applies at once to every open link. Throws ToxicError on a bad toxic or name clash. */
  async addToxic(input: unknown): Promise<Toxic> {
    const toxic = parseToxic(input);
    if (this.#toxics.has(toxic.name)) throw new ToxicError(`a toxic named "${toxic.name}" already exists`);
    this.#toxics.set(toxic.name, toxic);
    await this.#changed();
    return toxic;
  }

  /** Removes a toxic; false when there was none by that name. */
  async removeToxic(name: string): Promise<boolean> {
    const existed = this.#toxics.delete(name);
    if (existed) await this.#changed();
    return existed;
  }

  async removeAllToxics(): Promise<void> {
    this.#toxics.clear();
    await this.#changed();
  }

  /** Disabled = not listening and every link cut, like Toxiproxy's enabled=false. */
  async setEnabled(enabled: boolean): Promise<void> {
    this.#enabled = enabled;
    await this.#changed();
  }

  status(): FaultProxyStatus {
    return {
      name: this.name,
      listen: `${this.#listen.host}:${this.#listen.port}`,
      upstream: `${this.upstream.host}:${this.upstream.port}`,
      enabled: this.#enabled,
      listening: this.#server !== null,
      toxics: this.toxics(),
      connections: { open: this.#links.size, total: this.#total, refusedUpstream: this.#refused },
      bytes: { ...this.bytes },
    };
  }

  /** Toxics on one direction; links read this on every chunk. */
  toxicsFor(direction: Direction): readonly Toxic[] {
    return this.#byDirection[direction];
  }

  #shouldListen(): boolean {
    return this.#enabled && ![...this.#toxics.values()].some((t) => t.type === "down" && t.toxicity > 0);
  }

  async #changed(): Promise<void> {
    this.#byDirection = {
      upstream: [...this.#toxics.values()].filter((t) => t.stream === "upstream"),
      downstream: [...this.#toxics.values()].filter((t) => t.stream === "downstream"),
    };
    if (this.#shouldListen()) {
      await this.#openListener();
    } else {
      // A dependency that is down refuses new connections and loses the open ones.
      for (const link of this.#links) link.destroy();
      this.#closeListener();
    }
    this.emit("toxics");
  }

  async #openListener(): Promise<void> {
    if (this.#server) return;
    const server = net.createServer(
      { pauseOnConnect: true, noDelay: true, allowHalfOpen: true, highWaterMark: SOCKET_HIGH_WATER },
      (client) => this.#accept(client),
    );
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error) => {
        this.#server = null;
        reject(error);
      });
      server.listen(this.#listen.port, this.#listen.host, () => resolve());
    });
    const address = server.address() as net.AddressInfo;
    this.#listen = { host: this.#listen.host, port: address.port };
  }

  #closeListener(): void {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    // close() stops accepting at once; its callback waits for accepted sockets, which the links destroy themselves.
    server.close();
  }

  #accept(client: net.Socket): void {
    this.#total += 1;
    const server = net.connect({
      host: this.upstream.host,
      port: this.upstream.port,
      noDelay: true,
      allowHalfOpen: true,
      highWaterMark: SOCKET_HIGH_WATER,
    } as net.NetConnectOpts);
    client.on("error", () => server.destroy());
    server.once("error", () => {
      this.#refused += 1;
      client.destroy();
    });
    server.once("connect", () => {
      if (!this.#shouldListen()) {
        server.destroy();
        client.destroy();
        return;
      }
      const link = new Link(this, client, server);
      this.#links.add(link);
      link.once("close", () => this.#links.delete(link));
      link.start();
    });
  }
}

/** One client connection and its upstream connection. */
class Link extends EventEmitter {
  readonly proxy: FaultProxy;
  readonly client: net.Socket;
  readonly server: net.Socket;
  closed = false;
  readonly #rolls = new WeakMap<Toxic, boolean>();
  readonly #timers = new Map<Toxic, NodeJS.Timeout>();
  readonly #onToxics = () => this.#scheduleTimedToxics();

  constructor(proxy: FaultProxy, client: net.Socket, server: net.Socket) {
    super();
    this.proxy = proxy;
    this.client = client;
    this.server = server;
  }

  start(): void {
    const up = new Pipe(this, this.client, this.server, "upstream");
    const down = new Pipe(this, this.server, this.client, "downstream");
    // A clean close of one side must not cut the other: its pipe may still be delivering (latency, slow_close).
    const onClose = (hadError: boolean) => {
      if (hadError || (this.client.destroyed && this.server.destroyed)) this.destroy();
    };
    this.client.on("close", onClose);
    this.server.on("close", onClose);
    this.server.on("error", () => this.destroy());
    this.proxy.on("toxics", this.#onToxics);
    this.proxy.on("toxics", up.wake);
    this.proxy.on("toxics", down.wake);
    this.once("close", () => {
      this.proxy.off("toxics", up.wake);
      this.proxy.off("toxics", down.wake);
    });
    this.#scheduleTimedToxics();
    this.client.resume();
  }

  /** Whether a toxic applies to this link: toxicity is rolled once per link, so 0 never applies and 1 always. */
  applies(toxic: Toxic): boolean {
    let roll = this.#rolls.get(toxic);
    if (roll === undefined) {
      roll = toxic.toxicity > 0 && Math.random() < toxic.toxicity;
      this.#rolls.set(toxic, roll);
    }
    return roll;
  }

  active(direction: Direction): Toxic[] {
    const toxics = this.proxy.toxicsFor(direction);
    return toxics.length === 0 ? [] : toxics.filter((t) => this.applies(t));
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.proxy.off("toxics", this.#onToxics);
    this.client.destroy();
    this.server.destroy();
    this.emit("close");
  }

  /** RST to the client (reset_peer), then drop the upstream side. */
  reset(): void {
    if (this.closed) return;
    if (typeof this.client.resetAndDestroy === "function") this.client.resetAndDestroy();
    this.destroy();
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      // A computed wait (a very low bandwidth) may exceed what a timer keeps; Node would fire it after 1 ms.
      const timer = setTimeout(done, Math.min(ms, MAX_TIMER_MS));
      const self = this;
      function done() {
        clearTimeout(timer);
        self.off("close", done);
        resolve();
      }
      this.once("close", done);
    });
  }

  // timeout (> 0) and reset_peer act on the link after a delay, whether or not data flows.
  #scheduleTimedToxics(): void {
    const wanted = new Set<Toxic>();
    for (const direction of ["upstream", "downstream"] as const) {
      for (const toxic of this.active(direction)) {
        if (
          (toxic.type === "timeout" && (toxic.attributes.timeout ?? 0) > 0) ||
          toxic.type === "reset_peer"
        ) {
          wanted.add(toxic);
        }
      }
    }
    for (const [toxic, timer] of this.#timers) {
      if (!wanted.has(toxic)) {
        clearTimeout(timer);
        this.#timers.delete(toxic);
      }
    }
    for (const toxic of wanted) {
      if (this.#timers.has(toxic)) continue;
      const act = toxic.type === "reset_peer" ? () => this.reset() : () => this.destroy();
      this.#timers.set(toxic, setTimeout(act, toxic.attributes.timeout ?? 0));
    }
  }
}

interface Queued {
  chunk: Buffer;
  at: number;
}

/** One direction of a link. */
class Pipe {
  readonly #link: Link;
  readonly #source: net.Socket;
  readonly #dest: net.Socket;
  readonly #direction: Direction;
  readonly #queue: Queued[] = [];
  #queuedBytes = 0;
  #busy = false;
  #sourceEnded = false;
  #sent = 0;
  #wakeUp: (() => void) | null = null;
  readonly wake = () => {
    const wake = this.#wakeUp;
    this.#wakeUp = null;
    wake?.();
  };

  constructor(link: Link, source: net.Socket, dest: net.Socket, direction: Direction) {
    this.#link = link;
    this.#source = source;
    this.#dest = dest;
    this.#direction = direction;
    source.on("data", (chunk: Buffer) => this.#onData(chunk));
    source.on("end", () => {
      this.#sourceEnded = true;
      if (!this.#busy && this.#queue.length === 0) void this.#endDest();
    });
    link.once("close", this.wake);
  }

  #onData(chunk: Buffer): void {
    this.#link.proxy.bytes[this.#direction] += chunk.length;
    if (!this.#busy && this.#queue.length === 0 && this.#link.proxy.toxicsFor(this.#direction).length === 0) {
      this.#sent += chunk.length;
      if (!this.#dest.write(chunk)) {
        this.#source.pause();
        this.#dest.once("drain", () => this.#source.resume());
      }
      return;
    }
    this.#queue.push({ chunk, at: performance.now() });
    this.#queuedBytes += chunk.length;
    if (this.#queuedBytes > HIGH_WATER) this.#source.pause();
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0 && !this.#link.closed) {
        const toxics = this.#link.active(this.#direction);
        // A timeout toxic holds the data (blackhole) until it is removed or its timer cuts the link.
        if (toxics.some((t) => t.type === "timeout")) {
          await new Promise<void>((resolve) => {
            this.#wakeUp = resolve;
          });
          continue;
        }
        const item = this.#queue[0]!;
        for (const toxic of toxics) {
          if (toxic.type !== "latency") continue;
          const jitter = toxic.attributes.jitter ?? 0;
          const delay = (toxic.attributes.latency ?? 0) + (jitter ? (Math.random() * 2 - 1) * jitter : 0);
          await this.#link.sleep(item.at + delay - performance.now());
        }
        if (this.#link.closed) break;
        await this.#send(item.chunk, toxics);
        this.#queue.shift();
        this.#queuedBytes -= item.chunk.length;
        if (this.#queuedBytes <= HIGH_WATER && this.#source.isPaused()) this.#source.resume();
      }
    } finally {
      this.#busy = false;
    }
    if (this.#sourceEnded && this.#queue.length === 0) await this.#endDest();
  }

  async #send(chunk: Buffer, toxics: Toxic[]): Promise<void> {
    let data = chunk;
    const limit = toxics.find((t) => t.type === "limit_data");
    if (limit) {
      const room = (limit.attributes.bytes ?? 0) - this.#sent;
      if (room <= 0) {
        this.#link.destroy();
        return;
      }
      if (data.length > room) data = data.subarray(0, room);
    }
    const slicer = toxics.find((t) => t.type === "slicer");
    const bandwidth = toxics.find((t) => t.type === "bandwidth");
    const bytesPerMs = bandwidth ? ((bandwidth.attributes.rate ?? 1) * 1024) / 1000 : 0;
    // Bandwidth sends pieces of at most 50 ms worth of bytes, each after the time its size costs at the rate.
    const pieces = slicer
      ? slice(data, slicer)
      : bandwidth
        ? chunked(data, Math.max(1, Math.floor(bytesPerMs * 50)))
        : [data];
    for (const [i, piece] of pieces.entries()) {
      if (this.#link.closed) return;
      if (i > 0 && slicer) await this.#link.sleep(slicer.attributes.delay ?? 0);
      if (bandwidth) await this.#link.sleep(piece.length / bytesPerMs);
      if (this.#link.closed) return;
      await this.#write(piece);
      this.#sent += piece.length;
    }
    if (limit && this.#sent >= (limit.attributes.bytes ?? 0)) this.#link.destroy();
  }

  #write(piece: Buffer): Promise<void> {
    if (this.#dest.write(piece)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#dest.off("drain", done);
        this.#link.off("close", done);
        resolve();
      };
      this.#dest.once("drain", done);
      this.#link.once("close", done);
    });
  }

  async #endDest(): Promise<void> {
    const slowClose = this.#link.active(this.#direction).find((t) => t.type === "slow_close");
    if (slowClose) await this.#link.sleep(slowClose.attributes.delay ?? 0);
    if (!this.#link.closed) this.#dest.end();
  }
}

function slice(data: Buffer, toxic: Toxic): Buffer[] {
  const average = Math.max(1, toxic.attributes.average_size ?? 1);
  const variation = Math.min(average - 1, toxic.attributes.size_variation ?? 0);
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < data.length; ) {
    const size = Math.max(1, Math.round(average + (Math.random() * 2 - 1) * variation));
    pieces.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}

function chunked(data: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += size)
    pieces.push(data.subarray(offset, offset + size));
  return pieces;
}

/** "127.0.0.1:6379", ":6379" or "6379" → endpoint (host defaults to 127.0.0.1). */
export function parseEndpoint(text: string): Endpoint {
  const match = /^(?:(\[[^\]]+\]|[^:]*):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port > 65535) {
    throw new ToxicError(`"${text}" is not host:port (e.g. 127.0.0.1:6379)`);
  }
  const host = (match[1] || "127.0.0.1").replace(/^\[|\]$/g, "");
  return { host, port };
}
