import { describe, expect, it } from "vitest";
import { specSchema } from "../../../src/spec/schema.js";
import { allowedKeys, descriptionAt, editDistance, suggest } from "../../../src/spec/suggest.js";

describe("editDistance", () => {
  it("counts insertions, deletions, substitutions and swaps of neighbours", () => {
    expect(editDistance("health", "health")).toBe(0);
    expect(editDistance("helth", "health")).toBe(1);
    expect(editDistance("haelth", "health")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });
});

describe("editDistance with a limit", () => {
  it("is the distance up to the limit and limit + 1 beyond it (random strings against the full table)", () => {
    let seed = 11;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const word = () =>
      Array.from({ length: Math.floor(random() * 9) }, () => "abc"[Math.floor(random() * 3)]).join("");
    for (let i = 0; i < 2_000; i++) {
      const [a, b, limit] = [word(), word(), Math.floor(random() * 4)];
      expect(editDistance(a, b, limit), `${a} ${b} ${limit}`).toBe(Math.min(editDistance(a, b), limit + 1));
    }
  });

  it("costs the length times the limit: two 1 MB strings are compared at once", () => {
    const start = performance.now();
    expect(editDistance("a".repeat(1_000_000), `${"a".repeat(999_999)}b`, 2)).toBe(1);
    expect(suggest("x".repeat(1_000_000), ["y".repeat(1_000_000), "x".repeat(999_999)])).toBe(
      "x".repeat(999_999),
    );
    expect(performance.now() - start).toBeLessThan(2_000);
  });
});

describe("suggest", () => {
  it("finds a close candidate, ignoring case, - and _", () => {
    expect(suggest("helth", ["url", "health", "metrics"])).toBe("health");
    expect(suggest("depends_on", ["dependsOn", "control"])).toBe("dependsOn");
    expect(suggest("GET", ["get", "post"])).toBe("get");
  });

  it("suggests nothing when no candidate is close", () => {
    expect(suggest("colour", ["name", "version", "owner", "repo"])).toBeUndefined();
    expect(suggest("x", ["url"])).toBeUndefined();
  });
});

describe("schema introspection", () => {
  it("lists the keys allowed at a path, through records, arrays, optionals and defaults", () => {
    expect(allowedKeys(specSchema, [])).toContain("services");
    expect(allowedKeys(specSchema, ["services", "api"])).toEqual(
      expect.arrayContaining(["kind", "url", "health", "dependsOn", "control"]),
    );
    expect(allowedKeys(specSchema, ["services", "api", "control", "process"])).toContain("startTimeout");
    expect(allowedKeys(specSchema, ["performance", "stages", 0])).toEqual(
      expect.arrayContaining(["name", "connections", "rate", "duration"]),
    );
    expect(allowedKeys(specSchema, ["scoring", "waivers", 0])).toContain("approvedBy");
    expect(allowedKeys(specSchema, ["services"])).toEqual([]);
  });

  it("finds the description of a unit through its transform", () => {
    expect(descriptionAt(specSchema, ["slos", 0, "window"])).toMatch(/^duration/);
    expect(descriptionAt(specSchema, ["performance", "endurance", "maxMemoryGrowth"])).toMatch(/^size/);
    expect(descriptionAt(specSchema, ["system", "name"])).toBeUndefined();
  });
});
