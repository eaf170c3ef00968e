import { describe, expect, it } from "vitest";
import { REDACTED, Redactor } from "../../../src/secrets/redactor.js";

describe("Redactor", () => {
  it("redacts a secret and its URL-encoded, JSON-escaped and base64 forms", () => {
    const r = new Redactor();
    const secret = 'p@ss w/"quote"';
    r.add(secret);
    const text = [
      secret,
      encodeURIComponent(secret),
      JSON.stringify(secret),
      Buffer.from(secret).toString("base64"),
    ].join(" | ");
    const out = r.redact(text);
    expect(out).not.toContain("p@ss");
    expect(out).not.toContain(Buffer.from(secret).toString("base64"));
    expect(out.split(REDACTED).length - 1).toBeGreaterThanOrEqual(4);
  });

  it("takes the password from a URL, but not the user or host", () => {
    const r = new Redactor();
    r.addFromUrl("postgres://app:s3cr%2Ft@db.internal:5432/app");
    expect(r.redact("postgres://app:s3cr/t@db.internal:5432/app")).toBe(
      `postgres://app:${REDACTED}@db.internal:5432/app`,
    );
    expect(r.redact("s3cr%2Ft")).toBe(REDACTED);
  });

  it("ignores values too short to be told from ordinary text", () => {
    const r = new Redactor();
    r.add("abc");
    r.add("");
    expect(r.size).toBe(0);
    expect(r.redact("abc")).toBe("abc");
  });

  it("replaces the longest secret first and redacts inside JSON values", () => {
    const r = new Redactor();
    r.add("token");
    r.add("token-extended");
    expect(r.redact("token-extended")).toBe(REDACTED);
    expect(r.redactValue({ nested: ["a token-extended b"] })).toEqual({ nested: [`a ${REDACTED} b`] });
  });

  it("masks URL passwords and secret query parameters by shape, however short", () => {
    const r = new Redactor();
    expect(r.redact("connect to http://u:abc@db:5432/x failed")).toBe(
      `connect to http://u:${REDACTED}@db:5432/x failed`,
    );
    expect(r.redact("GET /healthz?sig=s1&name=api&access_token=xy")).toBe(
      `GET /healthz?sig=${REDACTED}&name=api&access_token=${REDACTED}`,
    );
    expect(r.redact("mailto:ops@example.com and user@host")).toBe("mailto:ops@example.com and user@host");
  });

  it("keeps structure when redacting values: numbers stay numbers, kept keys are not rewritten", () => {
    const r = new Redactor();
    r.add("18999");
    r.add("FAIL");
    const value = { port: 18999, status: "FAIL", message: "port 18999 FAIL", nested: [{ ok: true }] };
    expect(r.redactValue(value, new Set(["status"]))).toEqual({
      port: 18999,
      status: "FAIL",
      message: `port ${REDACTED} ${REDACTED}`,
      nested: [{ ok: true }],
    });
  });

  it("redacts hex (lower and upper) and base64 (both alphabets, with and without padding)", () => {
    const r = new Redactor();
    const secret = "s3cr3t>?~value";
    r.add(secret);
    const raw = Buffer.from(secret);
    for (const form of [
      raw.toString("hex"),
      raw.toString("hex").toUpperCase(),
      raw.toString("base64"),
      raw.toString("base64").replace(/=+$/, ""),
      raw.toString("base64url"),
    ]) {
      expect(r.redact(`value ${form} end`)).toBe(`value ${REDACTED} end`);
    }
  });

  it("finds a secret inside a longer base64 blob whatever its alignment, leaving at most the edge characters", () => {
    const r = new Redactor();
    const secret = "correct-horse-battery";
    r.add(secret);
    for (const prefix of ["", "a", "ab", "abc", '{"sub":"x","key":"']) {
      const blob = Buffer.from(`${prefix}${secret}","exp":1}`).toString("base64url");
      const out = r.redact(`token ${blob}`);
      expect(out).toContain(REDACTED);
      // What is left of the blob is the prefix's and suffix's characters plus at most two edge characters each side.
      const kept = out.replace(`token `, "").split(REDACTED).join("");
      expect(kept.length).toBeLessThanOrEqual(blob.length - Math.floor((secret.length * 4) / 3) + 4);
    }
  });

  it("redacts the basic-auth form of URL credentials whole, however short the password", () => {
    const r = new Redactor();
    r.addFromUrl("https://deploy:s3cr%2Ft-pw@git.internal/repo.git");
    r.addFromUrl("redis://cache:abc@127.0.0.1:6379");
    const header = (userpass: string) => `Authorization: Basic ${Buffer.from(userpass).toString("base64")}`;
    expect(r.redact(header("deploy:s3cr/t-pw"))).toBe(`Authorization: Basic ${REDACTED}`);
    expect(r.redact(header("cache:abc"))).toBe(`Authorization: Basic ${REDACTED}`);
    expect(r.redact("abc")).toBe("abc");
  });

  it("replaces overlapping secrets as one span, so no part of either is left", () => {
    const r = new Redactor();
    r.add("abcdef");
    r.add("defghi");
    expect(r.redact("x abcdefghi y")).toBe(`x ${REDACTED} y`);
    r.add("zzzz");
    expect(r.redact("zzzzzz")).toBe(REDACTED);
  });

  it("redacts each line of a multi-line secret, as output shows it line by line", () => {
    const r = new Redactor();
    r.add("-----BEGIN KEY-----\nMIIBVwIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----");
    expect(r.redact("key line: MIIBVwIBADANBgkqhkiG9w0BAQEFAASC")).toBe(`key line: ${REDACTED}`);
  });

  it("redacts a UTF-8 secret in binary evidence read through latin1", () => {
    const r = new Redactor();
    r.add("pässwörd-€");
    const asLatin1 = Buffer.from("x pässwörd-€ y", "utf8").toString("latin1");
    expect(r.redact(asLatin1)).toBe(`x ${REDACTED} y`);
  });

  it("masks URL passwords as the former pattern did, and is idempotent", () => {
    const r = new Redactor();
    const cases: [string, string][] = [
      ["a://b://c:d@e", `a://b://c:${REDACTED}@e`],
      ["x http://u:p@h and https://v:q:r@h2/p", `x http://u:${REDACTED}@h and https://v:${REDACTED}@h2/p`],
      ["1ftp://u:p@h", `1ftp://u:${REDACTED}@h`],
      ["://u:p@h", "://u:p@h"],
      ["http://u:@h http://u:p /x@y", "http://u:@h http://u:p /x@y"],
      ['"postgres://app:pw"@host', '"postgres://app:pw"@host'],
    ];
    for (const [input, expected] of cases) {
      expect(r.redact(input)).toBe(expected);
      expect(r.redact(r.redact(input))).toBe(expected);
    }
  });

  it("settles a stream's pending text without cutting through a secret or keeping one's start", () => {
    const r = new Redactor();
    const secret = "tok_9f8e7d6c5b4a";
    r.add(secret);
    const pending = `${"x".repeat(100)}${secret}${"y".repeat(3)}`;
    for (let end = 100; end <= pending.length; end++) {
      const { redacted, rest } = r.redactSettled(pending.slice(0, end));
      expect(redacted + rest).not.toBe("");
      expect(redacted).not.toContain(secret.slice(0, 3));
      // Whatever comes next, the rest and the next text together still show the whole secret to redact.
      expect(r.redact(rest + pending.slice(end))).not.toContain("tok_");
    }
  });
});
