// One output stream of a supervised service, cut into whole lines and redacted before any of it is kept, so a write
// or pipe-chunk boundary never splits a secret into parts that each escape redaction.
import type { StreamRedaction } from "./redactor.js";

/** A run of text with no newline longer than this is let out in settled pieces rather than held whole. */
export const MAX_LINE = 64 * 1024;

export class LineRedactor {
  readonly #secrets: StreamRedaction;
  readonly #maxLine: number;
  #pending = "";
  // The pending length at which to try letting out a piece of an over-long line; pushed back after each try, so a
  // line that cannot be settled yet (a registered form as long as the line) is not rescanned on every write.
  #settleAt: number;

  constructor(secrets: StreamRedaction, maxLine = MAX_LINE) {
    this.#secrets = secrets;
    this.#maxLine = maxLine;
    this.#settleAt = maxLine;
  }

  /** Raw characters held back: the start of a line that has not ended yet. */
  get pending(): number {
    return this.#pending.length;
  }

  /** What of the stream is settled after this text, redacted: whole lines, or settled pieces of an over-long line. */
  push(text: string): string[] {
    const pieces: string[] = [];
    const newline = text.lastIndexOf("\n");
    if (newline >= 0) {
      // All complete lines in one pass: a multi-line secret that arrived whole is caught whole.
      const complete = this.#pending + text.slice(0, newline + 1);
      this.#pending = text.slice(newline + 1);
      this.#settleAt = this.#maxLine;
      pieces.push(...splitLines(this.#secrets.redact(complete)));
    } else {
      this.#pending += text;
    }
    if (this.#pending.length > this.#settleAt) {
      const { redacted, rest } = this.#secrets.redactSettled(this.#pending);
      if (redacted) {
        pieces.push(redacted);
        this.#pending = rest;
      } else if (this.#pending.length > 4 * this.#maxLine) {
        // Bounded memory wins over a registered form longer than this: the whole pending part is redacted as a line.
        pieces.push(this.#secrets.redact(this.#pending));
        this.#pending = "";
      }
      this.#settleAt = Math.max(this.#maxLine, this.#pending.length + this.#maxLine / 4);
    }
    return pieces;
  }

  /** The stream ended: what is pending is a whole line. */
  end(): string[] {
    const last = this.#pending;
    this.#pending = "";
    return last ? [this.#secrets.redact(last)] : [];
  }
}

function splitLines(text: string): string[] {
  const lines: string[] = [];
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf("\n", start);
    const end = newline < 0 ? text.length : newline + 1;
    lines.push(text.slice(start, end));
    start = end;
  }
  return lines;
}
