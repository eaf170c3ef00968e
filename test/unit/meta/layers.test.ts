// The wiring is a layer of its own (STYLE.md): each folder of src/ may import only the layers below it, so an engine
// never reaches into a check and core never into scoring, reports or the store. The table is the architecture.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(import.meta.dirname, "../../../src");

/** folder → the folders it may import from (besides itself). "" is src/*.ts (errors, version). */
const ALLOWED: Record<string, string[]> = {
  "": [],
  secrets: [""],
  spec: ["", "secrets"],
  engines: ["", "secrets", "spec"],
  core: ["", "secrets", "spec", "engines"],
  checks: ["", "secrets", "spec", "engines", "core"],
  scoring: ["", "secrets", "spec", "core"],
  report: ["", "secrets", "spec", "core", "scoring"],
  attest: ["", "secrets", "spec", "core", "engines"],
  store: ["", "secrets", "spec", "core", "scoring"],
  assess: ["", "secrets", "spec", "engines", "core", "checks", "scoring", "report", "attest", "store"],
  cli: ["", "secrets", "spec", "engines", "core", "checks", "scoring", "report", "attest", "store", "assess"],
};

function layerOf(file: string): string {
  const relative = path.relative(SRC, file).split(path.sep);
  return relative.length === 1 ? "" : relative[0]!;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.join(e.parentPath, e.name));
}

describe("layers", () => {
  it("every folder of src/ is in the table", () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !(f in ALLOWED))).toEqual([]);
  });

  it("no module imports a layer above its own", () => {
    const violations: string[] = [];
    for (const file of sources(SRC)) {
      const from = layerOf(file);
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(/^\s*(?:import|export)[^;]*?from\s+"(\.{1,2}\/[^"]+)"/gms)) {
        const target = layerOf(path.resolve(path.dirname(file), match[1]!));
        if (target === from || ALLOWED[from]?.includes(target)) continue;
        violations.push(
          `${path.relative(SRC, file)} imports ${match[1]} (${from || "src"} → ${target || "src"})`,
        );
      }
      for (const match of text.matchAll(/import\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g)) {
        const target = layerOf(path.resolve(path.dirname(file), match[1]!));
        if (target === from || ALLOWED[from]?.includes(target)) continue;
        violations.push(
          `${path.relative(SRC, file)} imports ${match[1]} (${from || "src"} → ${target || "src"})`,
        );
      }
    }
    expect(violations).toEqual([]);
  });
});
