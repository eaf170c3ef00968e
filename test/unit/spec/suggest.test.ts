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
