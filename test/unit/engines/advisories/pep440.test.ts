import { describe, expect, it } from "vitest";
import { comparePep440, normalizePep440, parsePep440 } from "../../../../src/engines/advisories/pep440.js";

const cmp = (a: string, b: string) => {
  const x = parsePep440(a);
  const y = parsePep440(b);
  if (!x || !y) throw new Error(`not PEP 440: ${!x ? a : b}`);
  return Math.sign(comparePep440(x, y));
};

describe("PEP 440 versions", () => {
  // The order the PEP itself gives (section "Summary of permitted suffixes and relative ordering") and packaging's tests.
  const ordered = [
    "1.0.dev456",
    "1.0a1",
    "1.0a2.dev456",
    "1.0a12.dev456",
    "1.0a12",
    "1.0b1.dev456",
    "1.0b2",
    "1.0b2.post345.dev456",
    "1.0b2.post345",
    "1.0rc1.dev456",
    "1.0rc1",
    "1.0",
    "1.0+abc.5",
    "1.0+abc.7",
    "1.0+5",
    "1.0.post456.dev34",
    "1.0.post456",
    "1.0.15",
    "1.1.dev1",
    "1.1a1",
    "1.1",
    "1.2+123abc",
    "1.2+123abc456",
    "1.2+abc",
    "1.2+abc123",
    "1.2+abc123def",
    "1.2+1234.abc",
    "1.2+123456",
    "2.0",
    "2.10",
    "1!0.1",
    "1!1.0",
  ];

  it("sorts the PEP's own sequence in order, every pair both ways", () => {
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(cmp(ordered[i]!, ordered[j]!), `${ordered[i]} vs ${ordered[j]}`).toBe(Math.sign(i - j));
      }
    }
  });

  it("treats trailing zeros, leading zeros and alternative spellings as the same version", () => {
    const same: [string, string][] = [
      ["1.0", "1"],
      ["1.0.0", "1"],
      ["01.02", "1.2"],
      ["1.0a", "1.0a0"],
      ["1.0-alpha.1", "1.0a1"],
      ["1.0.beta1", "1.0b1"],
      ["1.0c1", "1.0rc1"],
      ["1.0pre1", "1.0rc1"],
      ["1.0preview-2", "1.0rc2"],
      ["1.0-1", "1.0.post1"],
      ["1.0.rev1", "1.0.post1"],
      ["1.0r", "1.0.post0"],
      ["1.0.post", "1.0.post0"],
      ["1.0-dev", "1.0.dev0"],
      ["v1.0", "1.0"],
      ["  1.0 ", "1.0"],
      ["0!1.0", "1.0"],
      ["1.0+Ubuntu-1", "1.0+ubuntu.1"],
      ["1.0RC1", "1.0rc1"],
    ];
    for (const [a, b] of same) expect(cmp(a, b), `${a} = ${b}`).toBe(0);
  });

  it("orders numbers numerically, however long", () => {
    expect(cmp("1.10", "1.9")).toBe(1);
    expect(cmp("5.4", "5.3.1")).toBe(1);
    expect(cmp("5.4b2", "5.4")).toBe(-1);
    expect(cmp("2023.1.1", "999.0")).toBe(1);
    expect(cmp("1.123456789012345678901234567890", "1.123456789012345678901234567891")).toBe(-1);
  });

  it("normalises to the canonical spelling", () => {
    expect(normalizePep440("1.0-Alpha-1")).toBe("1.0a1");
    expect(normalizePep440("2!01.02.post0-dev3")).toBe("2!1.2.post0.dev3");
    expect(normalizePep440("1.0-1")).toBe("1.0.post1");
    expect(normalizePep440("1.0+Ubuntu_1")).toBe("1.0+ubuntu.1");
    expect(normalizePep440("0!1.0")).toBe("1.0");
  });

  it("rejects what pip rejects", () => {
    for (const bad of [
      "",
      "1.0.",
      "a1.0",
      "1.0+",
      "1.0+a..b",
      "1.0 beta",
      "1.0-foo",
      "dev",
      "1..0",
      "1.0+-a",
    ]) {
      expect(parsePep440(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});
