// Meta-test: a registered check without a test file, a docs/checks.md line, or whose file name is not its id fails
// the build (STYLE.md, from ESLint).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { allChecks, CHECKS } from "../../../src/checks/index.js";
import { CATEGORIES } from "../../../src/core/types.js";

const root = path.resolve(import.meta.dirname, "../../..");
const docs = readFileSync(path.join(root, "docs/checks.md"), "utf8");
const testFiles = readdirSync(path.join(root, "test"), { recursive: true }).map(String);

describe("check registry", () => {
  it("is sorted by id", () => {
    const ids = [...CHECKS.keys()];
    expect(ids).toEqual([...ids].sort((a, b) => a.localeCompare(b)));
  });

  it("registers every check file under src/checks/<category>/", () => {
    const files = CATEGORIES.flatMap((category) => {
      const dir = path.join(root, "src/checks", category);
      return existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => f.endsWith(".ts"))
            .map((f) => f.replace(/\.ts$/, ""))
        : [];
    });
    expect(files.sort()).toEqual([...CHECKS.keys()].sort());
  });

  for (const check of allChecks()) {
    const { id, category } = check.meta;
    describe(id, () => {
      it("lives in src/checks/<category>/<id>.ts", () => {
        expect(existsSync(path.join(root, "src/checks", category, `${id}.ts`))).toBe(true);
      });
      it("is a camelCase id with a title, objective and remediation", () => {
        expect(id).toMatch(/^[a-z][A-Za-z0-9]+$/);
        expect(check.meta.title.length).toBeGreaterThan(5);
        expect(check.meta.objective.length).toBeGreaterThan(5);
        expect(check.meta.remediation.text.length).toBeGreaterThan(5);
      });
      it("has a test file", () => {
        expect(testFiles.some((f) => path.basename(f).startsWith(`${id}.`) && f.endsWith(".test.ts"))).toBe(
          true,
        );
      });
      it("has a line in docs/checks.md", () => {
        expect(docs).toMatch(new RegExp(`\\b${id}\\b`));
      });
    });
  }
});
