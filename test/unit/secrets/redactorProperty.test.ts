// Property test of the redactor (issue "Hardening Gauntlet itself"): for random secrets — printable ASCII, UTF-8,
// binary-looking — registered and then printed inside random text in every encoding a service might use, no output
// holds the encoded form; and text that holds no secret comes out unchanged. The encodings are computed here from
// the blob a service would print, not from the redactor's own forms, so a wrong core offset there fails here.
// GAUNTLET_PROPERTY_SEED=<n> replays a run; every failure names its seed and secret.
import { describe, expect, it } from "vitest";
import { LineRedactor } from "../../../src/secrets/lineRedactor.js";
import { Redactor } from "../../../src/secrets/redactor.js";

const SEED = Number(process.env.GAUNTLET_PROPERTY_SEED ?? 20261201);
const GROUPS = 300;
const SECRETS_PER_GROUP = 10;

/** mulberry32: small, seeded, good enough to spread inputs. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Random = () => number;
const int = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const bytes = (random: Random, n: number) =>
  Buffer.from(Array.from({ length: n }, () => int(random, 0, 255)));

const UNICODE = ["é", "ß", "ø", "Ж", "λ", "中", "文", "€", "™", "😀", "🔑", "\u00a0", "\u2028"];

function secretOf(random: Random, kind: "ascii" | "utf8" | "binary"): string {
  const length = int(random, 4, 64);
  let out = "";
  while (out.length < length) {
    if (kind === "ascii") out += String.fromCharCode(int(random, 0x20, 0x7e));
    else if (kind === "utf8")
      out += random() < 0.5 ? pick(random, UNICODE) : String.fromCharCode(int(random, 0x21, 0x7e));
    else out += String.fromCharCode(int(random, 0x01, 0xff)); // as bytes read through latin1 would look
  }
  return out;
}

const WORDS = [
  "GET",
  "/api/items",
  "status",
  "200",
  "listening",
  "on",
  "port",
  "8080",
  "db",
  "ready",
  "ms",
  "ok",
];

function wordsOf(random: Random, n: number): string {
  return Array.from({ length: n }, () => pick(random, WORDS)).join(" ");
}

const b64 = (data: Buffer, alphabet: "base64" | "base64url", padded: boolean) => {
  const text = data.toString(alphabet).replace(/=+$/, "");
  return padded ? text + "=".repeat((4 - (text.length % 4)) % 4) : text;
};

/** The characters of base64(blob) that depend on blob[offset, offset + length) alone. */
function coreIn(blob: Buffer, offset: number, length: number, alphabet: "base64" | "base64url"): string {
  const text = blob.toString(alphabet);
  return text.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + length)) / 6));
}

interface Printed {
  encoding: string;
  line: string;
  /** What must not survive redaction. */
  forms: string[];
}

/** The secret as a service might print it, one line per encoding, each inside random text. */
function printings(random: Random, secret: string, user: string | null): Printed[] {
  const raw = Buffer.from(secret, "utf8");
  const around = () => wordsOf(random, int(random, 0, 4));
  const out: Printed[] = [];
  const add = (encoding: string, form: string, line = `${around()} ${form} ${around()}`) =>
    out.push({ encoding, line, forms: [form] });
  add("raw", secret);
  add("raw, no spaces around", secret, `${around()}x${secret}y${around()}`);
  try {
    add("url", encodeURIComponent(secret));
  } catch {
    // a lone surrogate has no URL encoding
  }
  const json = JSON.stringify({ message: `${around()}${secret}${around()}` });
  out.push({ encoding: "json", line: json, forms: [JSON.stringify(secret).slice(1, -1)] });
  add("hex lower", raw.toString("hex"));
  add("hex upper", raw.toString("hex").toUpperCase());
  const hexBlob = Buffer.concat([bytes(random, int(random, 0, 8)), raw, bytes(random, int(random, 0, 8))]);
  const hexStart = hexBlob.indexOf(raw);
  out.push({
    encoding: "hex inside a longer hex string",
    line: `digest ${hexBlob.toString("hex")}`,
    forms: [hexBlob.toString("hex").slice(2 * hexStart, 2 * (hexStart + raw.length))],
  });
  for (const alphabet of ["base64", "base64url"] as const) {
    for (const padded of [true, false]) {
      add(`${alphabet}${padded ? "" : " unpadded"}`, b64(raw, alphabet, padded));
      for (let offset = 0; offset < 3; offset++) {
        // offset mod 3 is what matters; a random whole number of groups before it must not.
        const before = bytes(random, offset + 3 * int(random, 0, 3));
        const blob = Buffer.concat([before, raw, bytes(random, int(random, 0, 7))]);
        out.push({
          encoding: `${alphabet}${padded ? "" : " unpadded"} inside a blob at offset ${before.length}`,
          line: `payload=${b64(blob, alphabet, padded)}.sig`,
          forms: [coreIn(blob, before.length, raw.length, alphabet)],
        });
      }
    }
  }
  // Basic auth: with the user known (learnt from a URL) the whole header value goes; without it, the secret's core.
  const name = user ?? "someone";
  const credentials = Buffer.from(`${name}:${secret}`, "utf8");
  const userLength = Buffer.byteLength(`${name}:`);
  out.push({
    encoding: `basic auth${user ? " (user known)" : ""}`,
    line: `Authorization: Basic ${credentials.toString("base64")}`,
    forms: [
      ...(user ? [credentials.toString("base64")] : []),
      coreIn(credentials, userLength, raw.length, "base64"),
    ],
  });
  return out;
}

function leaks(output: string, printed: Printed[]): string[] {
  return printed.flatMap((p) => p.forms.filter((f) => output.includes(f)).map((f) => `${p.encoding}: ${f}`));
}

describe(`redactor property (seed ${SEED})`, () => {
  it(`${GROUPS * SECRETS_PER_GROUP} random secrets in every encoding: no output holds the encoded form`, () => {
    const random = prng(SEED);
    const kinds = ["ascii", "utf8", "binary"] as const;
    let lines = 0;
    for (let group = 0; group < GROUPS; group++) {
      const redactor = new Redactor();
      const all: { secret: string; printed: Printed[] }[] = [];
      for (let i = 0; i < SECRETS_PER_GROUP; i++) {
        const secret = secretOf(random, kinds[(group * SECRETS_PER_GROUP + i) % 3]!);
        const user = random() < 0.5 ? `u${int(random, 0, 99)}` : null;
        if (user) redactor.addFromUrl(`postgres://${user}:${encodeURIComponent(secret)}@db.internal/app`);
        else redactor.add(secret);
        all.push({ secret, printed: printings(random, secret, user) });
      }
      // Each line alone, and all of the group's lines in one text (secrets side by side, in any order).
      for (const { secret, printed } of all) {
        for (const p of printed) {
          lines += 1;
          expect(
            leaks(redactor.redact(p.line), [p]),
            `seed ${SEED}, secret ${JSON.stringify(secret)}`,
          ).toEqual([]);
        }
      }
      const mixed = all.flatMap((a) => a.printed).sort(() => random() - 0.5);
      const text = mixed.map((p) => p.line).join(random() < 0.5 ? "\n" : " ");
      expect(leaks(redactor.redact(text), mixed), `seed ${SEED}, group ${group}`).toEqual([]);
    }
    expect(lines).toBe(GROUPS * SECRETS_PER_GROUP * 24);
  });

  it("the same text cut into random chunks, through a LineRedactor with a short max line: nothing leaks", () => {
    const random = prng(SEED + 1);
    for (let group = 0; group < 100; group++) {
      const redactor = new Redactor();
      const printed: Printed[] = [];
      for (let i = 0; i < 5; i++) {
        const secret = secretOf(random, pick(random, ["ascii", "utf8", "binary"] as const));
        redactor.add(secret);
        printed.push(...printings(random, secret, null));
      }
      // Most lines run together with no newline, so the over-long path (settled pieces) is taken too; the short max
      // line is still longer than the longest form (≈ 600 characters), as the 64 KiB one is in ProcessTarget. In a
      // third of the groups there is no whitespace either, so no cut can fall after some: it must avoid the forms.
      const dense = group % 3 === 0;
      const text = printed
        .map(
          (p) => (dense ? p.line.replace(/\s/g, "_") : p.line) + (random() < 0.3 ? "\n" : dense ? "_" : " "),
        )
        .join("");
      const stream = new LineRedactor(redactor, int(random, 1024, 4096));
      let output = "";
      for (let at = 0; at < text.length; ) {
        const size = int(random, 1, 97);
        output += stream.push(text.slice(at, at + size)).join("");
        at += size;
      }
      output += stream.end().join("");
      expect(leaks(output, printed), `seed ${SEED + 1}, group ${group}`).toEqual([]);
    }
  });

  it("text that holds no secret comes out unchanged", () => {
    const random = prng(SEED + 2);
    let checked = 0;
    let skipped = 0;
    for (let group = 0; group < 200; group++) {
      const redactor = new Redactor();
      const forms: string[] = [];
      for (let i = 0; i < 10; i++) {
        const secret = secretOf(random, pick(random, ["ascii", "utf8", "binary"] as const));
        redactor.add(secret);
        forms.push(...printings(random, secret, null).flatMap((p) => p.forms));
      }
      for (let i = 0; i < 20; i++) {
        const text = ordinaryLine(random);
        // A random line may hold a form by chance; then redacting it is right, and this property says nothing.
        if (forms.some((f) => text.includes(f))) {
          skipped += 1;
          continue;
        }
        checked += 1;
        expect(redactor.redact(text), `seed ${SEED + 2}`).toBe(text);
      }
    }
    expect(checked).toBeGreaterThan(3900);
    expect(skipped).toBeLessThan(10);
  });
});

/** Log-like text with URLs, e-mail addresses, key=value pairs and blobs, but no credential in any of them. */
function ordinaryLine(random: Random): string {
  const parts = [
    () => new Date(1_700_000_000_000 + int(random, 0, 1e9)).toISOString(),
    () => wordsOf(random, int(random, 1, 6)),
    () => `http://127.0.0.1:${int(random, 1024, 65535)}/api/items?page=${int(random, 1, 9)}&sort=name`,
    () => `postgres://app@db.internal:5432/app`,
    () => `ops@example.com user@host`,
    () => JSON.stringify({ level: "info", msg: wordsOf(random, 3), ms: int(random, 0, 999) }),
    () => `id=${bytes(random, int(random, 4, 24)).toString("hex")}`,
    () => `blob ${bytes(random, int(random, 4, 48)).toString("base64")}`,
    () => `a://b c:d e@f`,
  ];
  return Array.from({ length: int(random, 1, 6) }, () => pick(random, parts)()).join(" ");
}
