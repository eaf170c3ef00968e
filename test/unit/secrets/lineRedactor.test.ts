// A stream's output is redacted a whole line at a time, so a secret cut by a write or pipe-chunk boundary is still
// found whole; a line too long to hold is let out in settled pieces that never cut through a registered form.
import { describe, expect, it } from "vitest";
import { LineRedactor } from "../../../src/secrets/lineRedactor.js";
import { REDACTED, Redactor } from "../../../src/secrets/redactor.js";

const SECRET = "sk_live_4f3e2d1c0b9a8877";

function redactor(): Redactor {
  const r = new Redactor();
  r.add(SECRET);
  return r;
}

function through(stream: LineRedactor, chunks: string[]): string[] {
  return [...chunks.flatMap((c) => stream.push(c)), ...stream.end()];
}

describe("LineRedactor", () => {
  it("finds a secret split across two writes at every point", () => {
    const text = `starting\nkey=${SECRET} loaded\nready\n`;
    for (let cut = 1; cut < text.length; cut++) {
      const out = through(new LineRedactor(redactor()), [text.slice(0, cut), text.slice(cut)]);
      expect(out.join("")).toBe(`starting\nkey=${REDACTED} loaded\nready\n`);
      expect(out.every((piece) => piece.endsWith("\n"))).toBe(true);
    }
  });

  it("holds an unfinished line until it ends, and lets out the last one when the stream ends", () => {
    const stream = new LineRedactor(redactor());
    expect(stream.push(`partial ${SECRET.slice(0, 10)}`)).toEqual([]);
    expect(stream.pending).toBeGreaterThan(0);
    expect(stream.push(SECRET.slice(10))).toEqual([]);
    expect(stream.end()).toEqual([`partial ${REDACTED}`]);
  });

  it("lets out an over-long line in pieces that never cut through a secret, with or without whitespace", () => {
    for (const filler of ["x", "x "]) {
      for (let offset = 0; offset < 80; offset++) {
        const line = `${filler.repeat(300 + offset)}${SECRET}${filler.repeat(700)}`;
        for (const size of [1, 7, 64, 500]) {
          const chunks: string[] = [];
          for (let at = 0; at < line.length; at += size) chunks.push(line.slice(at, at + size));
          const out = through(new LineRedactor(redactor(), 256), chunks);
          expect(out.length).toBeGreaterThan(1);
          const joined = out.join("");
          expect(joined).toContain(REDACTED);
          for (const piece of out) expect(piece).not.toMatch(/sk_l|8877/);
          expect(joined.replace(REDACTED, SECRET)).toBe(line);
        }
      }
    }
  });

  it("catches a multi-line secret whole when its lines arrive together", () => {
    const r = new Redactor();
    r.add("line-one-of-it\nline-two-of-it");
    const out = through(new LineRedactor(r), ["a line-one-of-it\nline-two-of-it b\n"]);
    expect(out.join("")).toBe(`a ${REDACTED} b\n`);
  });
});
