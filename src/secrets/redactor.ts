// Secrets never leak (DESIGN principle 4): every log line, evidence file and report of a run passes through that
// run's redactor. Values are registered as they are discovered (interpolated env values, URL passwords, required env
// values), each with every encoded form it may be printed in (secretForms.ts). There is no process-wide instance: one
// run, one set of secrets (a second assessment in the same process, e.g. a test, must neither see nor leak the first
// one's). Redaction is linear in the text: one automaton pass for the registered forms, two scans for shapes.
import { LiteralMatcher, type Span } from "./literalMatcher.js";
import { REDACTED } from "./marker.js";
import { basicAuthForms, encodedForms } from "./secretForms.js";
import { isShapeBreak, maskSecretQueries, maskUrlPasswords } from "./shapes.js";

export { REDACTED };

/**
 * Registered values shorter than this would redact ordinary words and numbers everywhere. Short secrets in the two
 * places secrets are recognisable by shape (URL passwords, secret-named query parameters) are masked whatever their
 * length; requiredEnvPresent warns about short required values.
 */
export const MIN_SECRET_LENGTH = 4;

// How far back a stream's cut looks for whitespace, so a URL password or query value is not split by it.
const SHAPE_LOOKBACK = 4096;

/** Where code that discovers a secret registers it; a Redactor is one. */
export interface SecretSink {
  add(value: string | undefined | null): void;
  addFromUrl(url: string | undefined): void;
}

/** What a stream of output needs to be redacted before any of it is kept (see LineRedactor). */
export interface StreamRedaction {
  redact(text: string): string;
  redactSettled(text: string): { redacted: string; rest: string };
}

export class Redactor implements SecretSink, StreamRedaction {
  readonly #values = new Set<string>();
  readonly #forms = new Set<string>();
  #longestForm = 0;
  #matcher: LiteralMatcher | null = null;

  /** Registers a secret and every encoded form it may appear in; each line of a multi-line one too. */
  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_SECRET_LENGTH || this.#values.has(value)) return;
    this.#values.add(value);
    this.#addForms(encodedForms(value));
    // Output is redacted line by line, where a multi-line secret (a PEM key) may show up one line at a time.
    if (value.includes("\n")) for (const line of value.split(/\r?\n/)) this.add(line);
  }

  /** Registers the password of a URL (postgres://app:s3cret@host/db), and user:password as basic auth sends it. */
  addFromUrl(url: string | undefined): void {
    if (!url) return;
    const match = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/i.exec(url);
    if (!match) return;
    const userinfo = match[1]!;
    const colon = userinfo.indexOf(":");
    if (colon < 0) return;
    const password = safeDecode(userinfo.slice(colon + 1));
    if (!password) return;
    this.add(password);
    // Whole, user:password is distinctive however short the password is.
    this.#addForms(basicAuthForms(safeDecode(userinfo.slice(0, colon)), password));
  }

  /** How many secrets are registered (not counting their encoded forms). */
  get size(): number {
    return this.#values.size;
  }

  redact(text: string): string {
    if (text.length === 0) return text;
    let out = text;
    if (this.#forms.size > 0) out = replaceSpans(out, this.#spans(out));
    return maskSecretQueries(maskUrlPasswords(out));
  }

  /**
   * For a stream's pending text that more text will follow: redacts and returns the part no later text can change,
   * and the raw rest to hold back. The rest covers any registered form that may continue past the end of the text,
   * and the cut never falls inside one; it falls after whitespace when there is some close by, so a URL password or
   * query value masked by shape is not split either.
   */
  redactSettled(text: string): { redacted: string; rest: string } {
    let cut = text.length - Math.max(this.#longestForm - 1, 0);
    for (let i = cut - 1; i >= 0 && i >= cut - SHAPE_LOOKBACK; i--) {
      if (isShapeBreak(text.charCodeAt(i))) {
        cut = i + 1;
        break;
      }
    }
    if (this.#forms.size > 0) {
      // Spans are disjoint, so moving the cut to the start of the one it falls in puts it outside every span.
      for (const [start, end] of this.#spans(text)) if (start < cut && end > cut) cut = start;
    }
    if (cut <= 0) return { redacted: "", rest: text };
    return { redacted: this.redact(text.slice(0, cut)), rest: text.slice(cut) };
  }

  /**
   * Redacts every string inside a JSON-like value, keys included, keeping its structure: numbers, booleans and the
   * keys named in `keep` (e.g. a finding's status) are left as they are.
   */
  redactValue<T>(value: T, keep: ReadonlySet<string> = NOTHING): T {
    if (typeof value === "string") return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((item) => this.redactValue(item, keep)) as T;
    if (value !== null && typeof value === "object") {
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        copy[this.redact(key)] = keep.has(key) ? item : this.redactValue(item, keep);
      }
      return copy as T;
    }
    return value;
  }

  #addForms(forms: string[]): void {
    for (const form of forms) {
      if (form.length < MIN_SECRET_LENGTH || this.#forms.has(form)) continue;
      this.#forms.add(form);
      this.#longestForm = Math.max(this.#longestForm, form.length);
      this.#matcher = null;
    }
  }

  #spans(text: string): Span[] {
    this.#matcher ??= new LiteralMatcher(this.#forms);
    return this.#matcher.spans(text);
  }
}

const NOTHING: ReadonlySet<string> = new Set();

// Overlapping forms (two secrets sharing characters, a secret repeated into itself) are one span, replaced whole.
function replaceSpans(text: string, spans: Span[]): string {
  if (spans.length === 0) return text;
  let out = "";
  let copied = 0;
  for (const [start, end] of spans) {
    out += text.slice(copied, start) + REDACTED;
    copied = end;
  }
  return out + text.slice(copied);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
