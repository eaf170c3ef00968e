// A byte-exact conversation with a datastore over TCP (optionally TLS) or a unix socket: the authentication probes
// speak each store's first messages themselves, so they see exactly what the server asked for (a password, nothing,
// a refusal) instead of what a client library made of it. One deadline covers the whole conversation.
import net from "node:net";
import tls from "node:tls";

export interface WireTarget {
  host: string;
  port: number;
  /** A unix socket path: used instead of host and port. */
  socketPath?: string;
  /** TLS from the first byte (rediss://); the certificate is not judged here. */
  tls?: boolean;
}

export class WireError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Buffered reads of exact lengths or lines from one socket, ended by `close()` or the deadline. */
export class Wire {
  #socket: net.Socket;
  #buffer = Buffer.alloc(0);
  #failure: WireError | undefined;
  readonly #waiters = new Set<() => void>();
  readonly #onFailure = new Set<(error: WireError) => void>();
  readonly #timer: NodeJS.Timeout;
  readonly #onAbort: () => void;
  readonly #signal: AbortSignal | undefined;

  private constructor(socket: net.Socket, timeoutMs: number, signal?: AbortSignal) {
    this.#socket = socket;
    this.#signal = signal;
    this.#timer = setTimeout(
      () => this.#fail(new WireError(`no answer within ${timeoutMs} ms`, "ETIMEDOUT")),
      timeoutMs,
    );
    this.#onAbort = () => this.#fail(new WireError("cancelled", "ABORTED"));
    signal?.addEventListener("abort", this.#onAbort, { once: true });
    this.#listen(socket);
  }

  /** Connects; rejects with a WireError (ECONNREFUSED, ETIMEDOUT, ENOENT for a missing socket file, …). */
  static open(target: WireTarget, timeoutMs: number, signal?: AbortSignal): Promise<Wire> {
    if (signal?.aborted) return Promise.reject(new WireError("cancelled", "ABORTED"));
    if (target.tls && !target.socketPath) {
      const secure = tls.connect({
        host: target.host,
        port: target.port,
        rejectUnauthorized: false, // gauntlet-ignore: tls-verification-disabled this probe asks about authentication (sending only empty or wrong passwords); tlsModern judges the certificate
        ...(net.isIP(target.host) === 0 ? { servername: target.host } : {}),
      });
      const wire = new Wire(secure, timeoutMs, signal);
      return wire.#until(secure, "secureConnect").then(() => wire);
    }
    const socket = target.socketPath
      ? net.connect({ path: target.socketPath })
      : net.connect({ host: target.host, port: target.port });
    const wire = new Wire(socket, timeoutMs, signal);
    return wire.#until(socket, "connect").then(() => wire);
  }

  /** Replaces the socket with a TLS session over it (PostgreSQL's SSLRequest). */
  async startTls(servername?: string): Promise<{ protocol: string | null }> {
    const plain = this.#socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    plain.removeAllListeners("error");
    const secure = tls.connect({
      socket: plain,
      rejectUnauthorized: false, // gauntlet-ignore: tls-verification-disabled this probe asks about authentication (sending only empty or wrong passwords); tlsModern judges the certificate
      ...(servername && net.isIP(servername) === 0 ? { servername } : {}),
    });
    this.#socket = secure;
    this.#listen(secure);
    await this.#until(secure, "secureConnect");
    return { protocol: secure.getProtocol() };
  }

  write(data: Buffer | string): void {
    this.#socket.write(data);
  }

  /** Exactly `length` bytes. */
  async read(length: number): Promise<Buffer> {
    while (this.#buffer.length < length) await this.#more();
    const out = this.#buffer.subarray(0, length);
    this.#buffer = this.#buffer.subarray(length);
    return out;
  }

  /** One line, without its CRLF; `max` bytes at most (a server that never ends a line is not waited on forever). */
  async readLine(max = 64 * 1024): Promise<string> {
    for (;;) {
      const end = this.#buffer.indexOf("\r\n");
      if (end >= 0) {
        const line = this.#buffer.subarray(0, end).toString("utf8");
        this.#buffer = this.#buffer.subarray(end + 2);
        return line;
      }
      if (this.#buffer.length > max) throw new WireError(`a line longer than ${max} bytes`, "EPROTO");
      await this.#more();
    }
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#socket.destroy();
  }

  #listen(socket: net.Socket): void {
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      this.#fail(new WireError(error.message, error.code ?? "ERROR"));
    });
    socket.on("close", () => this.#fail(new WireError("the server closed the connection", "ECLOSED")));
  }

  /** Resolves on the socket's `event`, rejects on the first failure (error, close, deadline, abort). */
  #until(socket: net.Socket, event: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      const onFailure = (error: WireError) => reject(error);
      this.#onFailure.add(onFailure);
      socket.once(event, () => {
        this.#onFailure.delete(onFailure);
        resolve();
      });
    });
  }

  #fail(error: WireError): void {
    if (this.#failure) return;
    this.#failure = error;
    clearTimeout(this.#timer);
    this.#socket.destroy();
    for (const listener of this.#onFailure) listener(error);
    this.#onFailure.clear();
    this.#wake();
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  async #more(): Promise<void> {
    if (this.#failure) throw this.#failure;
    await new Promise<void>((resolve) => this.#waiters.add(resolve));
  }
}
