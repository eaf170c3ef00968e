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
});
