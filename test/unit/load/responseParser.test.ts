import { describe, expect, it } from "vitest";
import { HttpParseError, ResponseParser } from "../../../src/engines/load/responseParser.js";

function parse(chunks: (string | Buffer)[], heads: boolean[] = []) {
  const out: { status: number; close: boolean; bytes: number }[] = [];
  let n = 0;
  const parser = new ResponseParser(
    () => heads[n] ?? false,
    (status, close, bytes) => {
      n++;
      out.push({ status, close, bytes });
    },
  );
  for (const c of chunks) parser.execute(typeof c === "string" ? Buffer.from(c, "latin1") : c);
  return { out, parser };
}

const ok = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

describe("ResponseParser", () => {
  it("parses pipelined Content-Length responses in one chunk and counts their bytes", () => {
    const { out } = parse([ok + ok + "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"]);
    expect(out.map((r) => r.status)).toEqual([200, 200, 404]);
    expect(out[0]!.bytes).toBe(ok.length);
    expect(out.every((r) => !r.close)).toBe(true);
  });

  it("parses byte by byte (heads and bodies split anywhere)", () => {
    const text =
      ok +
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: 1\r\n\r\n" +
      ok;
    const { out } = parse([...text].map((c) => c));
    expect(out.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(out[1]!.bytes).toBe(text.length - 2 * ok.length);
  });

  it("honours Connection: close, HTTP/1.0, HEAD, 204 and 1xx", () => {
    const { out } = parse(
      [
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", // answers HEAD: no body follows
        "HTTP/1.1 204 No Content\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
      ],
      [false, true, false, false],
    );
    expect(out.map((r) => [r.status, r.close])).toEqual([
      [201, true],
      [200, false],
      [204, false],
      [200, true],
    ]);
  });

  it("ends a body without length at the socket's close", () => {
    const { out, parser } = parse(["HTTP/1.1 200 OK\r\n\r\nsome body", " more"]);
    expect(out).toHaveLength(0);
    expect(parser.finish()).toBe("complete");
    expect(out[0]).toMatchObject({ status: 200, close: true });
  });

  it("reports a cut response and rejects garbage", () => {
    const { parser } = parse(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]);
    expect(parser.finish()).toBe("cut");
    expect(() => parse(["SSH-2.0-OpenSSH_9.6\r\n\r\n"])).toThrow(HttpParseError);
    expect(() => parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"])).toThrow(
      HttpParseError,
    );
  });
});
