// What is not a secret although it sits where one would: placeholders people write in examples and docs, template
// references filled in at deploy time, and values whose shape is a public identifier (a lockfile's integrity hash, a
// UUID, an image digest, a commit id). Every detection passes through here, secretlint's included, so the decoys a
// repository is full of never fire.

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

// Matched anywhere in the value, any case. A random token holds one of these by chance about once in a million.
const PLACEHOLDER_MARKERS: ReadonlyArray<[string, RegExp]> = [
  ["your-…", /(?:^|[^a-z])your(?:[-_ .]|[A-Z])/i],
  ["change-me", /change[-_ .]?(?:me|it|this)/i],
  ["replace-me", /replace[-_ .]?(?:me|with|this)/i],
  ["example", /example/i],
  ["sample", /sample/i],
  ["placeholder", /placeholder/i],
  ["dummy", /dummy/i],
  ["fake", /fake/i],
  ["redacted", /redacted|\[masked\]/i],
  ["insert-…", /insert[-_ .]?(?:your|key|token|here)/i],
  ["to-do", /\btodo\b|fixme/i],
  ["run-of-x", /x{4,}|X{4,}/],
  ["run-of-stars", /\*{3,}/],
  ["ellipsis", /\.{3}|…/],
  ["angle-brackets", /<[^<>\s]{1,60}>/],
  ["template-reference", /\$\{|\$\(|\{\{|\}\}|%\(|<%|#\{|@@/],
  ["lorem-ipsum", /lorem|ipsum/i],
  ["key-here", /(?:key|token|secret|password)[-_ ]?here/i],
];

/**
 * Why a value is a placeholder, or null when it may be real. Applies to every rule's secret. `run` is the length of
 * an ascending or descending run (12345…, abcde…) that marks a typed value: long for tokens, whose numeric parts
 * (Slack's ids) hold short runs by chance, shorter for assigned passwords.
 */
export function placeholderReason(value: string, run = 8): string | null {
  const trimmed = value.trim();
  if (trimmed.length === 0) return "empty";
  for (const [reason, pattern] of PLACEHOLDER_MARKERS) if (pattern.test(trimmed)) return reason;
  // One character over and over (aaaa…, 0000…), or a run of the alphabet or the digits: typed, not generated.
  if (/^(.)\1+$/.test(trimmed)) return "one-character";
  if (hasRun(trimmed, run) || /qwerty|asdfgh/i.test(trimmed)) return "sequence";
  if (WEAK_WORDS.has(deLeet(trimmed))) return "dictionary-word";
  return null;
}

// Values people type when a secret is needed for an example, also spelt with digits for letters (s3cret, p4ssw0rd).
const WEAK_WORDS = new Set([
  "secret",
  "secrets",
  "password",
  "passwords",
  "passwd",
  "pass",
  "token",
  "apikey",
  "admin",
  "root",
  "test",
  "tester",
  "testing",
  "letmein",
  "welcome",
  "hunter",
  "default",
  "guest",
  "user",
  "mysecret",
  "mypassword",
  "supersecret",
  "topsecret",
]);

function deLeet(value: string): string {
  const map: Record<string, string> = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "@": "a",
    $: "s",
  };
  return value
    .toLowerCase()
    .replace(/[013457@$]/g, (c) => map[c]!)
    .replace(/[^a-z]/g, "");
}

/** A run of `length` consecutive characters going up or down by one (12345, abcde, 98765). */
function hasRun(value: string, length: number): boolean {
  let up = 1;
  let down = 1;
  for (let i = 1; i < value.length; i++) {
    const step = value.charCodeAt(i) - value.charCodeAt(i - 1);
    const alnum = /[A-Za-z0-9]/.test(value[i]!) && /[A-Za-z0-9]/.test(value[i - 1]!);
    up = alnum && step === 1 ? up + 1 : 1;
    down = alnum && step === -1 ? down + 1 : 1;
    if (up >= length || down >= length) return true;
  }
  return false;
}

/** A token body (what follows a fixed prefix such as ghp_) too regular to have been generated. */
export function lowEntropyBody(body: string, minimum = 2.5): boolean {
  return body.length >= 8 && shannonEntropy(body) < minimum;
}

// Public identifiers that land under keys such as "integrity", "digest", "id" or "commit", and in generic values.
const PUBLIC_SHAPES: ReadonlyArray<[string, RegExp]> = [
  ["uuid", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i],
  ["subresource-integrity", /^sha(?:1|256|384|512)-[A-Za-z0-9+/]{16,}={0,2}$/],
  ["content-digest", /^(?:sha1|sha256|sha384|sha512|md5|blake2b|blake3):[0-9a-f]{16,}$/i],
  ["image-reference", /^[\w.-]+(?:\/[\w.-]+)*(?::[\w.-]+)?@sha256:[0-9a-f]{64}$/i],
  ["url-without-credentials", /^[a-z][a-z0-9+.-]*:\/\/[^@\s]*$/i],
  ["file-path", /^(?:\/|\.{1,2}\/|~\/|[A-Za-z]:\\)/],
  ["number", /^[+-]?\d+(?:\.\d+)?$/],
  ["version", /^v?\d+\.\d+(?:\.\d+)?(?:[-+][\w.-]+)?$/],
  [
    "keyword",
    /^(?:true|false|null|nil|none|undefined|yes|no|on|off|required|optional|string|secret|password)$/i,
  ],
];

/** The public shape a generic value has (uuid, integrity hash, digest, …), or null. */
export function publicShape(value: string): string | null {
  for (const [shape, pattern] of PUBLIC_SHAPES) if (pattern.test(value)) return shape;
  return null;
}
