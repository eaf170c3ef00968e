// Secrets never leak (DESIGN principle 4): every log line, evidence file and report of a run passes through that
// run's redactor. Values are registered as they are discovered (interpolated env values, URL passwords, required env
// values). There is no process-wide instance: one run, one set of secrets (a second assessment in the same process,
// e.g. a test, must neither see nor leak the first one's).

export const REDACTED = "[REDACTED]";

/**
 * Registered values shorter than this would redact ordinary words and numbers everywhere. Short secrets in the two
 * places secrets are recognisable by shape (URL passwords, secret-named query parameters) are masked whatever their
 * length; requiredEnvPresent warns about short required values.
 */
export const MIN_SECRET_LENGTH = 4;

// scheme://user:PASSWORD@ — the password is masked by position, so its length does not matter.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s/@:'"<>]*:)([^\s/@'"<>]+)(@)/gi;
// ?token=…&sig=… — values of query parameters whose names say they are credentials.
const SECRET_QUERY =
  /([?&](?:access_token|refresh_token|id_token|token|api[_-]?key|apikey|key|secret|client_secret|password|passwd|pwd|sig|signature|auth|x-amz-signature|x-amz-credential|x-goog-signature)=)([^&#\s'"<>]+)/gi;

/** Where code that discovers a secret registers it; a Redactor is one. */
export interface SecretSink {
  add(value: string | undefined | null): void;
  addFromUrl(url: string | undefined): void;
}

export class Redactor implements SecretSink {
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
    if (text.length === 0) return text;
    let out = text;
    if (this.#secrets.size > 0) {
      if (!this.#pattern) {
        // Longest first so a secret that contains another is replaced whole.
        const sorted = [...this.#secrets].sort((a, b) => b.length - a.length);
        this.#pattern = new RegExp(sorted.map(escapeRegExp).join("|"), "g");
      }
      out = out.replace(this.#pattern, REDACTED);
    }
    if (out.includes("@"))
      out = out.replace(URL_PASSWORD, (_, before, password, at) =>
        password === REDACTED ? `${before}${password}${at}` : `${before}${REDACTED}${at}`,
      );
    if (out.includes("=")) out = out.replace(SECRET_QUERY, (_, name) => `${name}${REDACTED}`);
    return out;
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
}

const NOTHING: ReadonlySet<string> = new Set();

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
