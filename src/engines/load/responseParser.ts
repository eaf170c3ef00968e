// A minimal incremental HTTP/1.1 response parser for the load loop: it reads only what framing needs (status,
// Content-Length, Transfer-Encoding: chunked, Connection: close) and skips bodies without copying them. Node's own
// parser builds header objects and body buffers per response; this one allocates only when a head spans two chunks.

enum State {
  Head,
  Body,
  ChunkSize,
  ChunkExtension,
  ChunkSizeLf,
  ChunkData,
  ChunkDataCrlf,
  Trailer,
  UntilClose,
}

const CR = 13;
const LF = 10;
const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from("\r\n\r\n", "latin1");

export class HttpParseError extends Error {
  override name = "HttpParseError";
}

export class ResponseParser {
  #state = State.Head;
  #partial: Buffer | null = null;
  #remaining = 0;
  #chunkSize = 0;
  #lineLength = 0;
  #status = 0;
  #close = false;
  /** Bytes of the response being parsed, head included. */
  #bytes = 0;

  /**
   * @param nextIsHead whether the response about to be parsed answers a HEAD request (no body whatever it says).
   * @param onResponse called once per complete final response, with its size in bytes.
   */
  constructor(
    private readonly nextIsHead: () => boolean,
    private readonly onResponse: (status: number, close: boolean, bytes: number) => void,
  ) {}

  /** Whether a response is partly read (for a reset in the middle of one). */
  get busy(): boolean {
    return this.#state !== State.Head || this.#partial !== null;
  }

  /** Feeds bytes; throws HttpParseError on a malformed response (the connection must then be dropped). */
  execute(input: Buffer): void {
    if (this.#partial) {
      const joined = Buffer.concat([this.#partial, input]);
      this.#partial = null;
      this.execute(joined);
      return;
    }
    const data = input;
    let pos = 0;
    const end = data.length;
    while (pos < end) {
      switch (this.#state) {
        case State.Head: {
          const headEnd = data.indexOf(HEAD_END, pos);
          if (headEnd < 0) {
            if (end - pos > MAX_HEAD_BYTES) throw new HttpParseError("response head over 64 KB");
            this.#partial = Buffer.from(data.subarray(pos));
            return;
          }
          this.#parseHead(data, pos, headEnd);
          this.#bytes = headEnd + 4 - pos;
          pos = headEnd + 4;
          if (this.#status < 200) {
            // 1xx (100 Continue, 103 Early Hints) precede the real response.
            this.#state = State.Head;
            this.#bytes = 0;
          }
          break;
        }
        case State.Body: {
          const take = Math.min(this.#remaining, end - pos);
          this.#remaining -= take;
          this.#bytes += take;
          pos += take;
          if (this.#remaining === 0) this.#complete();
          break;
        }
        case State.ChunkSize: {
          const c = data[pos++]!;
          this.#bytes++;
          const digit = hexValue(c);
          if (digit >= 0) {
            this.#chunkSize = this.#chunkSize * 16 + digit;
            if (this.#chunkSize > Number.MAX_SAFE_INTEGER / 16)
              throw new HttpParseError("chunk size too large");
          } else if (c === CR) this.#state = State.ChunkSizeLf;
          else if (c === 0x3b /* ; */ || c === 0x20 || c === 0x09) this.#state = State.ChunkExtension;
          else throw new HttpParseError("bad chunk size");
          break;
        }
        case State.ChunkExtension: {
          const c = data[pos++]!;
          this.#bytes++;
          if (c === CR) this.#state = State.ChunkSizeLf;
          break;
        }
        case State.ChunkSizeLf: {
          const c = data[pos++]!;
          this.#bytes++;
          if (c !== LF) throw new HttpParseError("bad chunk line ending");
          if (this.#chunkSize === 0) {
            this.#state = State.Trailer;
            this.#lineLength = 0;
          } else {
            this.#remaining = this.#chunkSize;
            this.#state = State.ChunkData;
          }
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.#remaining, end - pos);
          this.#remaining -= take;
          this.#bytes += take;
          pos += take;
          if (this.#remaining === 0) {
            this.#remaining = 2;
            this.#state = State.ChunkDataCrlf;
          }
          break;
        }
        case State.ChunkDataCrlf: {
          pos++;
          this.#bytes++;
          if (--this.#remaining === 0) {
            this.#chunkSize = 0;
            this.#state = State.ChunkSize;
          }
          break;
        }
        case State.Trailer: {
          const c = data[pos++]!;
          this.#bytes++;
          if (c === LF) {
            if (this.#lineLength === 0) this.#complete();
            else this.#lineLength = 0;
          } else if (c !== CR) this.#lineLength++;
          break;
        }
        case State.UntilClose: {
          this.#bytes += end - pos;
          pos = end;
          break;
        }
      }
    }
  }

  /** The socket ended: a body delimited by the close completes now; anything else partly read was cut. */
  finish(): "complete" | "cut" | "idle" {
    if (this.#state === State.UntilClose) {
      this.#complete();
      return "complete";
    }
    return this.busy ? "cut" : "idle";
  }

  #parseHead(data: Buffer, start: number, headEnd: number): void {
    // "HTTP/1.1 200 OK"
    if (
      headEnd - start < 12 ||
      data[start] !== 0x48 ||
      data[start + 4] !== 0x2f ||
      data[start + 5] !== 0x31 ||
      data[start + 6] !== 0x2e
    ) {
      throw new HttpParseError("not an HTTP/1.x response");
    }
    const minor = data[start + 7]! - 0x30;
    const status =
      (data[start + 9]! - 0x30) * 100 + (data[start + 10]! - 0x30) * 10 + (data[start + 11]! - 0x30);
    if (!(status >= 100 && status <= 999)) throw new HttpParseError("bad status code");
    this.#status = status;
    let contentLength = -1;
    let chunked = false;
    let close = minor === 0;
    let line = data.indexOf(LF, start) + 1;
    while (line > 0 && line < headEnd) {
      const next = data.indexOf(LF, line);
      const lineEnd = next < 0 || next > headEnd ? headEnd : next - 1;
      const first = data[line]! | 0x20;
      if (first === 0x63 /* c */ || first === 0x74 /* t */) {
        const colon = data.indexOf(0x3a, line);
        if (colon > 0 && colon < lineEnd) {
          const nameLength = colon - line;
          if (nameLength === 14 && matches(data, line, "content-length")) {
            contentLength = parseDecimal(data, colon + 1, lineEnd);
          } else if (nameLength === 17 && matches(data, line, "transfer-encoding")) {
            chunked = valueIncludes(data, colon + 1, lineEnd, "chunked");
          } else if (nameLength === 10 && matches(data, line, "connection")) {
            if (valueIncludes(data, colon + 1, lineEnd, "close")) close = true;
            else if (valueIncludes(data, colon + 1, lineEnd, "keep-alive")) close = false;
          }
        }
      }
      line = next < 0 ? -1 : next + 1;
    }
    this.#close = close;
    if (status < 200) return;
    const noBody = status === 204 || status === 304 || this.nextIsHead();
    if (noBody) {
      this.#state = State.Head;
      this.#emit();
    } else if (chunked) {
      this.#chunkSize = 0;
      this.#state = State.ChunkSize;
    } else if (contentLength >= 0) {
      this.#remaining = contentLength;
      this.#state = State.Body;
      if (contentLength === 0) {
        this.#state = State.Head;
        this.#emit();
      }
    } else {
      this.#close = true;
      this.#state = State.UntilClose;
    }
  }

  #complete(): void {
    this.#state = State.Head;
    this.#emit();
  }

  #emit(): void {
    const bytes = this.#bytes;
    this.#bytes = 0;
    this.onResponse(this.#status, this.#close, bytes);
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function matches(data: Buffer, start: number, lowerName: string): boolean {
  for (let i = 0; i < lowerName.length; i++) {
    if ((data[start + i]! | 0x20) !== lowerName.charCodeAt(i)) return false;
  }
  return true;
}

function parseDecimal(data: Buffer, start: number, end: number): number {
  let value = -1;
  for (let i = start; i < end; i++) {
    const c = data[i]!;
    if (c >= 0x30 && c <= 0x39) value = (value < 0 ? 0 : value * 10) + (c - 0x30);
    else if (c !== 0x20 && c !== 0x09 && c !== CR) throw new HttpParseError("bad Content-Length");
  }
  return value;
}

/** Case-insensitive search of a lower-case ASCII word in a header value, without building a string. */
function valueIncludes(data: Buffer, start: number, end: number, lowerWord: string): boolean {
  const first = lowerWord.charCodeAt(0);
  const last = end - lowerWord.length;
  outer: for (let i = start; i <= last; i++) {
    if ((data[i]! | 0x20) !== first) continue;
    for (let j = 1; j < lowerWord.length; j++) {
      if ((data[i + j]! | 0x20) !== lowerWord.charCodeAt(j)) continue outer;
    }
    return true;
  }
  return false;
}
