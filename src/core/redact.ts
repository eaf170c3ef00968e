// Secrets never leak (DESIGN principle 4): every log line, evidence file and report passes through one redactor.
// Values are registered as they are discovered (interpolated env values, URL passwords, required env values).

export const REDACTED = "[REDACTED]";

/** Shorter values would redact ordinary words and numbers; such weak secrets are flagged by checks instead. */
const MIN_SECRET_LENGTH = 4;

export class Redactor {
  readonly #secrets = new Set<string>();
  #pattern: RegExp | null = null;

  /** Registers a secret and the encoded forms it may appear in (URL-encoded, base64, JSON-escaped). */
  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    const forms = [
      value,
      encodeURIComponent(value),
      JSON.stringify(value).slice(1, -1),
      Buffer.from(value).toString("base64"),
    ];
    for (const form of forms) {
      if (form.length >= MIN_SECRET_LENGTH) this.#secrets.add(form);
    }
    this.#pattern = null;
  }

  /** Registers the password (and a token-like user) of a URL such as postgres://app:s3cret@host/db. */
  addFromUrl(url: string | undefined): void {
    if (!url) return;
    const match = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/i.exec(url);
    if (!match) return;
    const userinfo = match[1]!;
    const colon = userinfo.indexOf(":");
    if (colon >= 0) this.add(safeDecode(userinfo.slice(colon + 1)));
  }

  get size(): number {
    return this.#secrets.size;
  }

  redact(text: string): string {
    if (this.#secrets.size === 0 || text.length === 0) return text;
    if (!this.#pattern) {
      // Longest first so a secret that contains another is replaced whole.
      const sorted = [...this.#secrets].sort((a, b) => b.length - a.length);
      this.#pattern = new RegExp(sorted.map(escapeRegExp).join("|"), "g");
    }
    return text.replace(this.#pattern, REDACTED);
  }

  /** Redacts every string inside a JSON-like value (keys included). */
  redactValue<T>(value: T): T {
    return JSON.parse(this.redact(JSON.stringify(value))) as T;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The process-wide redactor: one run, one set of secrets. */
export const redactor = new Redactor();
