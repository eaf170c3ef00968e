// Gauntlet's own rules: what gitleaks finds and secretlint's recommended preset does not (checked against the
// preset's 12.0.0 patterns, so nothing here duplicates it): private keys secretlint misses or cannot grade
// (privateKeys.ts), Stripe live keys, Google API keys, Slack's legacy xoxs-/xoxe- tokens, JWTs assigned to a
// secret-named key, and password/secret assignments. The generic rules fire only on a literal of high entropy that
// is no placeholder, and never in docs or example files, where such assignments are illustrations.
import path from "node:path";
import { lowEntropyBody, placeholderReason, publicShape, shannonEntropy } from "./placeholders.js";
import { detectPrivateKeys } from "./privateKeys.js";

export type Severity = "fail" | "warn";

/** A secret found in a text: offsets into it, never printed. */
export interface RawDetection {
  ruleId: string;
  /** What kind of secret, for people ("GitHub token", "OpenSSH private key"). */
  label: string;
  start: number;
  end: number;
  /** What identifies the secret (hashed into fingerprints, never written). */
  secret: string;
  /** Every string to register with the run's redactor so that no output shows it. */
  redact: string[];
  severity: Severity;
  /** Lower wins when two detections overlap (the more specific rule). */
  priority: number;
  /** For a private key: whether a passphrase protects it (null: cannot be told). */
  encrypted?: boolean | null;
}

/** How a file is read by the generic rules. */
export type FileClass = "code" | "config" | "docs" | "example" | "test";

const CODE_EXTENSIONS = new Set(
  (
    ".js .mjs .cjs .jsx .ts .mts .cts .tsx .py .rb .go .java .kt .kts .scala .groovy .cs .fs .php .rs .swift .m .mm " +
    ".c .cc .cpp .cxx .h .hpp .dart .lua .pl .pm .r .ex .exs .erl .clj .vue .svelte"
  ).split(" "),
);
const DOC_EXTENSIONS = new Set([".md", ".markdown", ".mdx", ".rst", ".adoc", ".asciidoc"]);
const EXAMPLE_NAME = /(?:^|[._-])(?:example|examples|sample|samples|template|tmpl|tpl|dist)(?:[._-]|$)/i;
const TEST_FOLDERS = new Set([
  "test",
  "tests",
  "__tests__",
  "spec",
  "specs",
  "fixtures",
  "__fixtures__",
  "testdata",
  "__mocks__",
  "mocks",
]);
const TEST_NAME = /(?:\.|_)(?:test|spec)\.[A-Za-z0-9]+$|^test_.*\.py$/;

/**
 * Docs and example files illustrate; tests hold made-up credentials for made-up services. The generic rules (secret
 * assignments, JWTs) stay out of all three; a secret of a known format (ghp_…, a private key) is found everywhere.
 */
export function classifyFile(file: string): FileClass {
  const name = path.posix.basename(file);
  if (EXAMPLE_NAME.test(name)) return "example";
  const ext = path.posix.extname(name).toLowerCase();
  if (DOC_EXTENSIONS.has(ext)) return "docs";
  if (
    TEST_NAME.test(name) ||
    file
      .split("/")
      .slice(0, -1)
      .some((s) => TEST_FOLDERS.has(s))
  )
    return "test";
  if (CODE_EXTENSIONS.has(ext)) return "code";
  return "config";
}

export const PRIORITY = { privateKey: 0, secretlint: 1, token: 2, jwt: 3, assignment: 4 } as const;

export function gauntletDetections(text: string, fileClass: FileClass): RawDetection[] {
  const found: RawDetection[] = [];
  for (const key of detectPrivateKeys(text)) {
    found.push({
      ruleId: "gauntlet/private-key",
      label: `${key.format} private key${key.encrypted ? " (encrypted)" : key.encrypted === false ? " (not encrypted)" : ""}`,
      start: key.start,
      end: key.end,
      secret: key.secret,
      redact: [key.secret, ...key.material],
      // Only a key known to be locked is the lesser leak; one whose protection cannot be told is judged as clear.
      severity: key.encrypted === true ? "warn" : "fail",
      priority: PRIORITY.privateKey,
      encrypted: key.encrypted,
    });
  }
  for (const rule of TOKEN_RULES) {
    if (!text.includes(rule.keyword)) continue;
    for (const match of text.matchAll(rule.pattern)) {
      const token = match[0];
      const body = token.slice(rule.prefixLength(token));
      if (lowEntropyBody(body, rule.minEntropy) || placeholderReason(token)) continue;
      found.push({
        ruleId: rule.id,
        label: rule.label(token),
        start: match.index,
        end: match.index + token.length,
        secret: token,
        redact: [token],
        severity: "fail",
        priority: PRIORITY.token,
      });
    }
  }
  if (fileClass !== "code" && fileClass !== "config") return found;
  found.push(...jwtAssignments(text), ...secretAssignments(text, fileClass));
  return found;
}

interface TokenRule {
  id: string;
  /** A string every match contains: the pattern runs only on texts that hold it. */
  keyword: string;
  pattern: RegExp;
  label: (token: string) => string;
  prefixLength: (token: string) => number;
  minEntropy: number;
}

const TOKEN_RULES: readonly TokenRule[] = [
  {
    id: "gauntlet/stripe-live-key",
    keyword: "k_live_",
    pattern: /(?<![A-Za-z0-9_])[sr]k_live_[A-Za-z0-9]{20,247}(?![A-Za-z0-9_])/g,
    label: (t) => (t.startsWith("rk_") ? "Stripe live restricted key" : "Stripe live secret key"),
    prefixLength: () => 8,
    minEntropy: 3,
  },
  {
    id: "gauntlet/google-api-key",
    keyword: "AIza",
    pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g,
    label: () => "Google API key",
    prefixLength: () => 4,
    minEntropy: 3,
  },
  {
    // The preset covers xoxb/xoxp/xapp/xoxa/xoxo/xoxr; these are the legacy workspace and refresh tokens.
    id: "gauntlet/slack-legacy-token",
    keyword: "xox",
    pattern:
      /(?<![A-Za-z0-9_-])xox[se]-(?:\d-)?[A-Za-z0-9]{4,40}(?:-[A-Za-z0-9]{4,64}){1,5}(?![A-Za-z0-9_-])/g,
    label: () => "Slack legacy token",
    prefixLength: () => 5,
    minEntropy: 2.5,
  },
];

const JWT =
  /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,2000}\.eyJ[A-Za-z0-9_-]{8,8000}\.[A-Za-z0-9_-]{16,2000}(?![A-Za-z0-9_-])/g;
// The JWT is the value of a secret-named key (token: …, "jwt": "…", Authorization = …) or follows "Bearer ".
const JWT_CONTEXT =
  /(?:(?:token|jwt|secret|key|auth|authorization|bearer|session|credential|password|cookie)[A-Za-z0-9_.-]*["'`]?\s*(?::=|=>|=|:)\s*["'`]?|bearer\s+)$/i;

function jwtAssignments(text: string): RawDetection[] {
  if (!text.includes("eyJ")) return [];
  const found: RawDetection[] = [];
  for (const match of text.matchAll(JWT)) {
    const token = match[0];
    const lineStart = text.lastIndexOf("\n", match.index) + 1;
    const before = text.slice(Math.max(lineStart, match.index - 160), match.index);
    if (!JWT_CONTEXT.test(before)) continue;
    const [header, payload] = token.split(".") as [string, string];
    const decodedHeader = decodeJson(header);
    if (!decodedHeader || typeof decodedHeader.alg !== "string") continue;
    // jwt.io's sample token (John Doe, sub 1234567890) is in countless READMEs and tests.
    const claims = decodeJson(payload);
    if (claims && claims.sub === "1234567890" && claims.name === "John Doe") continue;
    found.push({
      ruleId: "gauntlet/jwt",
      label: "JSON Web Token",
      start: match.index,
      end: match.index + token.length,
      secret: token,
      redact: [token],
      severity: "fail",
      priority: PRIORITY.jwt,
    });
  }
  return found;
}

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

// At a key (bare or quoted): an assignment (=, :, :=, =>; not ==, !=, <=, =~ or ://), then a quoted or bare value.
const ASSIGNMENT_AT =
  /(["']?)([A-Za-z_][A-Za-z0-9_.-]{0,80})\1[ \t]*(?::=|=>|(?<![=!<>])=(?![=>~])|:(?![:/\\]))[ \t]*(?:(["'`])((?:\\.|(?!\3)[^\\\r\n]){1,300})\3|([^\s"'`,;#]{1,300}))/y;
// Every secret-named key holds one of these: the scan starts from them, not from every identifier of the file.
const KEYWORDS = /pass|pwd|secret|token|key/gi;
const IDENTIFIER_CHAR = /[A-Za-z0-9_.-]/;
const SECRET_ENDING = /(?:pass(?:word|wd|phrase)|pwd|secret|token|key)$/i;

const SECRET_WORDS = new Set([
  "password",
  "passwd",
  "pwd",
  "passphrase",
  "secret",
  "token",
  "apikey",
  "apitoken",
  "authtoken",
  "accesstoken",
  "secretkey",
  "privatekey",
  "clientsecret",
]);
const SECRET_PAIRS = new Set([
  "api key",
  "access key",
  "secret key",
  "private key",
  "signing key",
  "encryption key",
  "master key",
  "account key",
]);
// A key naming a placeholder or a public value on purpose.
const HARMLESS_WORDS = new Set([
  "public",
  "publishable",
  "example",
  "sample",
  "dummy",
  "fake",
  "mock",
  "placeholder",
  "default",
]);

/** The words of an identifier: db_password → [db, password], dbPassword → [db, password], APIKey → [api, key]. */
export function identifierWords(identifier: string): string[] {
  return identifier
    .split(/[._-]+/)
    .flatMap((part) => part.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? [])
    .map((w) => w.toLowerCase());
}

/** Whether an identifier names a secret: its last word (password, token, secret, …) or last two (api key, …). */
export function namesSecret(identifier: string): boolean {
  const words = identifierWords(identifier);
  if (words.length === 0 || words.some((w) => HARMLESS_WORDS.has(w))) return false;
  const last = words.at(-1)!;
  return SECRET_WORDS.has(last) || (words.length > 1 && SECRET_PAIRS.has(`${words.at(-2)} ${last}`));
}

/** Why an assigned value is not reported (null: it looks like a real secret). */
export function assignedValueReason(
  value: string,
  quoted: boolean,
  fileClass: FileClass,
  key: string,
): string | null {
  if (fileClass === "code" && !quoted) return "not a literal";
  if (value.length < 8) return "too short";
  if (/\s/.test(value)) return "prose";
  if (/^[$!&*@%]/.test(value)) return "reference";
  if (/\(\?|\\[dwsb]|^\^.*\$$/.test(value)) return "regular expression";
  if (/^eyJ[\w-]+\.eyJ[\w-]+\./.test(value)) return "a JWT (the JWT rule judges it)";
  const placeholder = placeholderReason(value, 6);
  if (placeholder) return placeholder;
  const shape = publicShape(value);
  if (shape) return shape;
  const lower = value.toLowerCase();
  if (identifierWords(key).some((w) => w.length >= 5 && lower.includes(w))) return "names itself";
  if (shannonEntropy(value) < 3) return "low entropy";
  // Words joined by separators (session-buffer, order_item) are names: a secret mixes cases or digits in.
  const classes = [/[a-z]/, /[A-Z]/, /\d/].filter((c) => c.test(value)).length;
  if (classes < 2) return "one character class";
  return null;
}

function secretAssignments(text: string, fileClass: FileClass): RawDetection[] {
  const found: RawDetection[] = [];
  const keywords = new RegExp(KEYWORDS);
  const assignment = new RegExp(ASSIGNMENT_AT);
  for (let hit = keywords.exec(text); hit; hit = keywords.exec(text)) {
    let start = hit.index;
    while (start > 0 && IDENTIFIER_CHAR.test(text[start - 1]!)) start--;
    let end = hit.index + hit[0].length;
    while (end < text.length && IDENTIFIER_CHAR.test(text[end]!)) end++;
    keywords.lastIndex = end;
    const key = text.slice(start, end);
    // Cheap first: a secret-named key ends with one of the words (password, …Token, API_KEY).
    if (!SECRET_ENDING.test(key) || !namesSecret(key)) continue;
    const quote = text[start - 1];
    assignment.lastIndex = (quote === '"' || quote === "'") && text[end] === quote ? start - 1 : start;
    const match = assignment.exec(text);
    if (!match || match[2] !== key) continue;
    const quoted = match[4] !== undefined;
    const value = quoted ? match[4]! : match[5]!;
    keywords.lastIndex = match.index + match[0].length;
    if (assignedValueReason(value, quoted, fileClass, key)) continue;
    const valueStart = match.index + match[0].length - value.length - (quoted ? 1 : 0);
    found.push({
      ruleId: "gauntlet/secret-assignment",
      label: `secret assigned to ${key.length > 40 ? `${key.slice(0, 40)}…` : key}`,
      start: valueStart,
      end: valueStart + value.length,
      secret: value,
      redact: [value],
      severity: "fail",
      priority: PRIORITY.assignment,
    });
  }
  return found;
}
