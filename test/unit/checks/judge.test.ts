// Every check's judge, from fixture folders the secretlint way (STYLE.md): test/fixtures/judge/<checkId>/<ok|ng>.<case>/
// holds an observation.json (what observe() saw, recorded or written by hand), an optional spec.yaml (merged into a
// minimal spec) and expected.json, the [subject, status, messageId] of every finding. ok.* cases must judge to PASS or
// N/A only, ng.* cases to at least one finding that is neither. UPDATE_SNAPSHOT=1 rewrites expected.json of every
// case; UPDATE_SNAPSHOT=<checkId>[,<checkId>…] only those checks' (review what it writes: it is the judgement).
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CHECKS } from "../../../src/checks/index.js";
import { CORE_MESSAGES, type FindingInput } from "../../../src/core/types.js";
import { specSchema } from "../../../src/spec/schema.js";

const ROOT = path.resolve(import.meta.dirname, "../../fixtures/judge");
const updating = process.env.UPDATE_SNAPSHOT ?? "";
const update = (checkId: string) => updating === "1" || updating.split(",").includes(checkId);

function specFor(dir: string) {
  const file = path.join(dir, "spec.yaml");
  const partial = existsSync(file) ? (parse(readFileSync(file, "utf8")) ?? {}) : {};
  return specSchema.parse({ version: 1, system: { name: "fixture" }, ...partial });
}

/** The remediation text is filled from a FAIL/WARN finding's data (subject for service/file/subject). */
function unfilledPlaceholders(template: string, finding: FindingInput): string[] {
  return [...template.matchAll(/\{\{\s*(\w+)\s*\}\}/g)]
    .map((m) => m[1]!)
    .filter((key) => {
      const value = finding.data?.[key];
      if (value !== undefined && value !== null && value !== "") return false;
      return !(["service", "file", "subject"].includes(key) && finding.subject);
    });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

const cases = existsSync(ROOT)
  ? readdirSync(ROOT, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((checkDir) =>
        readdirSync(path.join(ROOT, checkDir.name), { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => ({
            checkId: checkDir.name,
            name: e.name,
            dir: path.join(ROOT, checkDir.name, e.name),
          })),
      )
  : [];

describe("judge fixtures", () => {
  it("every fixture folder names a registered check and is ok.* or ng.*", () => {
    for (const c of cases) {
      expect(CHECKS.has(c.checkId), `${c.checkId} is not a check id`).toBe(true);
      expect(c.name, `${c.checkId}/${c.name}`).toMatch(/^(ok|ng)\.[a-z0-9-]+$/);
    }
  });

  it("every check has at least one ok.* and one ng.* case", () => {
    const missing = [...CHECKS.keys()].filter(
      (id) =>
        !["ok", "ng"].every((kind) => cases.some((c) => c.checkId === id && c.name.startsWith(`${kind}.`))),
    );
    expect(missing).toEqual([]);
  });

  for (const c of cases) {
    it(`${c.checkId}/${c.name}`, () => {
      const check = CHECKS.get(c.checkId)!;
      const observation = deepFreeze(JSON.parse(readFileSync(path.join(c.dir, "observation.json"), "utf8")));
      const spec = specFor(c.dir);
      // Pure: it must not write to what it judges (frozen), and the same inputs give the same findings.
      const findings = check.judge(observation, spec);
      expect(check.judge(observation, spec)).toEqual(findings);
      expect(findings.length).toBeGreaterThan(0);
      for (const f of findings) {
        const where = `${c.checkId}/${c.name}: ${f.subject ?? "-"} ${f.status} ${f.messageId}`;
        expect(f.messageId, where).toBeDefined();
        expect(
          Object.hasOwn(check.meta.messages, f.messageId!) || Object.hasOwn(CORE_MESSAGES, f.messageId!),
          `${where}: messageId not declared in meta.messages`,
        ).toBe(true);
        if (f.status === "FAIL" || f.status === "WARN") {
          expect(
            unfilledPlaceholders(check.meta.remediation.text, f),
            `${where}: remediation placeholders`,
          ).toEqual([]);
          expect(f.evidence?.length ?? 0, `${where}: a verdict cites evidence`).toBeGreaterThan(0);
        }
        if (f.status === "PASS")
          expect(f.evidence?.length ?? 0, `${where}: a verdict cites evidence`).toBeGreaterThan(0);
        if (f.status === "UNVERIFIED")
          expect(f.toVerify, `${where}: says what would make it verifiable`).toBeTruthy();
      }
      const good = findings.every((f) => f.status === "PASS" || f.status === "NA");
      expect(good, `${c.name}: ok.* judges to PASS/N/A only, ng.* to something else`).toBe(
        c.name.startsWith("ok."),
      );
      const actual = findings.map((f) => [f.subject ?? null, f.status, f.messageId]);
      const expectedFile = path.join(c.dir, "expected.json");
      if (update(c.checkId) || !existsSync(expectedFile)) {
        writeFileSync(expectedFile, `[\n${actual.map((row) => `  ${JSON.stringify(row)}`).join(",\n")}\n]\n`);
        if (!update(c.checkId)) throw new Error(`wrote ${expectedFile}: review it and run again`);
      }
      expect(actual).toEqual(JSON.parse(readFileSync(expectedFile, "utf8")));
    });
  }
});
