// Redaction is linear in the text (issue "Hardening Gauntlet itself"): the former URL-password pattern took 5.8 s on
// 40 K letters and one `@` (over 30 s on 1 MB). Each 1 MB line here, built to make a backtracking pattern or a
// per-form scan blow up, is redacted well within a time budget.
import { describe, expect, it } from "vitest";
import { LineRedactor } from "../../../src/secrets/lineRedactor.js";
import { REDACTED, Redactor } from "../../../src/secrets/redactor.js";

const MB = 1024 * 1024;
// Linear redaction takes 20–60 ms per MB here, the quadratic patterns it replaced took over 30 s: a budget far
// above the first and far below the second tells them apart on a loaded CI machine too.
const BUDGET_MS = 1_500;

function redactor(): Redactor {
  const r = new Redactor();
  for (let i = 0; i < 20; i++) r.add(`secret-${i}-${"k".repeat(i)}-value`);
  r.add("a".repeat(60));
  r.addFromUrl("postgres://app:hunter2-db-password@db.internal/app");
  return r;
}

const fill = (unit: string, before = "", after = "") =>
  before + unit.repeat(Math.ceil((MB - before.length - after.length) / unit.length)) + after;

const LINES: Record<string, () => string> = {
  "letters and one @": () => fill("a", "", "@"),
  "letters, no special character": () => fill("a"),
  "a:// then letters and one @": () => fill("b", "a://", "@"),
  "a://u: then letters and one @": () => fill("b", "a://u:", "@"),
  '"a:" repeated and one @': () => fill("a:", "", "@"),
  '"a://" repeated and one @': () => fill("a://", "", "@"),
  '"x://u:" repeated and one @': () => fill("x://u:", "", "@"),
  '"x://u:p@" repeated': () => fill("x://u:p@"),
  '"?token=" repeated': () => fill("?token="),
  '"&" repeated and one =': () => fill("&", "", "="),
  '"=" repeated': () => fill("="),
  '"&key" repeated and one =': () => fill("&key", "", "="),
  "near misses of a registered form": () => fill("secret-1"),
  "near misses of a 60-letter form": () => fill(`${"a".repeat(59)}b`),
  "random base64": () =>
    Buffer.from(Array.from({ length: (MB * 3) / 4 }, (_, i) => (i * 131) % 251)).toString("base64"),
};

describe("redaction of 1 MB lines", () => {
  const r = redactor();
  r.redact("warm up the matcher: secret-1-k-value");

  for (const [name, line] of Object.entries(LINES)) {
    it(`${name}: under ${BUDGET_MS} ms`, () => {
      const text = line();
      const started = performance.now();
      r.redact(text);
      const elapsed = performance.now() - started;
      expect(elapsed, `${name}: ${elapsed.toFixed(1)} ms`).toBeLessThan(BUDGET_MS);
    });
  }

  it("a registered secret in the middle of a 1 MB line is still found", () => {
    const text = `${fill("a://b", "", "")} secret-3-kkk-value ${"@".repeat(10)}`;
    expect(r.redact(text)).toContain(` ${REDACTED} `);
  });

  it("1 MB with no newline, written 16 characters at a time through a LineRedactor: under 10 × the budget", () => {
    const stream = new LineRedactor(r);
    const text = fill("b", "a://u:", "@");
    const started = performance.now();
    let out = 0;
    for (let i = 0; i < text.length; i += 16) out += stream.push(text.slice(i, i + 16)).join("").length;
    out += stream.end().join("").length;
    const elapsed = performance.now() - started;
    expect(out).toBeGreaterThan(MB - 100);
    expect(elapsed, `${elapsed.toFixed(1)} ms`).toBeLessThan(10 * BUDGET_MS);
  });
});
