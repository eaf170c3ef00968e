import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { judgePackage } from "../../../../src/engines/advisories/match.js";
import {
  type Advisory,
  type AffectedPackage,
  evaluateAffected,
  parseOsv,
  severityOf,
} from "../../../../src/engines/advisories/osv.js";
import type { Ecosystem } from "../../../../src/engines/advisories/packages.js";
import { compareVersions } from "../../../../src/engines/advisories/versions.js";

const OSV = path.resolve(import.meta.dirname, "../../../fixtures/osv");

function fixture(file: string): Advisory {
  const parsed = parseOsv(JSON.parse(readFileSync(path.join(OSV, file), "utf8")), file);
  if (parsed.kind !== "advisory") throw new Error(`${file}: ${parsed.kind}`);
  return parsed.advisory;
}

function advisory(osv: Record<string, unknown>): Advisory {
  const parsed = parseOsv({ id: "TEST-1", ...osv }, "inline");
  if (parsed.kind !== "advisory") throw new Error(JSON.stringify(parsed));
  return parsed.advisory;
}

function entry(
  ecosystem: Ecosystem,
  events: Record<string, string>[],
  type = "ECOSYSTEM",
  versions?: string[],
) {
  return advisory({
    affected: [
      { package: { ecosystem, name: "pkg" }, ranges: [{ type, events }], ...(versions ? { versions } : {}) },
    ],
  }).affected[0] as AffectedPackage;
}

const isAffected = (e: AffectedPackage, v: string) => {
  const verdict = evaluateAffected(e, v);
  if ("undecidable" in verdict) throw new Error(verdict.undecidable);
  return verdict.affected;
};

describe("OSV ranges", () => {
  it("introduced/fixed: lodash's range holds every version below 4.17.12", () => {
    const lodash = fixture("npm/GHSA-jf85-cpcp-j695.json").affected[0]!;
    expect(["0.1.0", "4.17.4", "4.17.11", "4.17.12-pre"].map((v) => isAffected(lodash, v))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(["4.17.12", "4.17.21", "5.0.0"].map((v) => isAffected(lodash, v))).toEqual([false, false, false]);
    expect(evaluateAffected(lodash, "4.17.4")).toEqual({ affected: true, fixed: "4.17.12" });
  });

  it("several intervals in one range, given out of order", () => {
    const e = entry(
      "npm",
      [{ fixed: "1.2.6" }, { introduced: "1.0.0" }, { fixed: "0.2.4" }, { introduced: "0" }],
      "SEMVER",
    );
    expect(evaluateAffected(e, "0.0.8")).toEqual({ affected: true, fixed: "0.2.4" });
    expect(isAffected(e, "0.2.4")).toBe(false);
    expect(isAffected(e, "0.9.0")).toBe(false);
    expect(evaluateAffected(e, "1.2.5")).toEqual({ affected: true, fixed: "1.2.6" });
    expect(isAffected(e, "1.2.6")).toBe(false);
  });

  it("last_affected includes its own version; limit excludes its own", () => {
    const last = entry("PyPI", [{ introduced: "1.0" }, { last_affected: "1.4.2" }]);
    expect(isAffected(last, "0.9")).toBe(false);
    expect(evaluateAffected(last, "1.4.2")).toEqual({ affected: true, lastAffected: "1.4.2" });
    expect(isAffected(last, "1.4.2rc1")).toBe(true);
    expect(isAffected(last, "1.4.2.post1")).toBe(false);
    expect(isAffected(last, "1.4.3")).toBe(false);
    const limited = entry("npm", [{ introduced: "0" }, { limit: "2.0.0" }], "SEMVER");
    expect(isAffected(limited, "1.9.9")).toBe(true);
    expect(isAffected(limited, "2.0.0")).toBe(false);
  });

  it("PyPI ranges order by PEP 440: pre-releases of the fix are affected, post-releases of it are not", () => {
    const pyyaml = fixture("PyPI/GHSA-8q59-q68h-6hv4.json").affected[0]!;
    expect(pyyaml.name).toBe("pyyaml");
    expect(["5.3.1", "5.4b2", "5.4rc1", "5.4.dev0"].every((v) => isAffected(pyyaml, v))).toBe(true);
    expect(["5.4", "5.4.0", "5.4.post1", "5.4.1", "6.0"].some((v) => isAffected(pyyaml, v))).toBe(false);
  });

  it("Go versions carry a v, advisories do not; pseudo-versions and +incompatible order as SemVer", () => {
    const text = fixture("Go/GO-2020-0015.json").affected[0]!;
    expect(evaluateAffected(text, "v0.3.2")).toEqual({ affected: true, fixed: "0.3.3" });
    expect(isAffected(text, "v0.3.3")).toBe(false);
    expect(isAffected(text, "v0.0.0-20200226121028-0de0cce0169b")).toBe(true);
    expect(compareVersions("Go", "v0.3.3-0.20200625175939-a3f0b3ec4fa7", "v0.3.3")).toBe(-1);
    expect(compareVersions("Go", "v20.10.7+incompatible", "v20.10.7")).toBe(0);
  });

  it("a listed version is affected whatever the ranges say", () => {
    const e = entry("PyPI", [{ introduced: "0" }, { fixed: "1.0" }], "ECOSYSTEM", ["2.0.1"]);
    expect(isAffected(e, "2.0.1")).toBe(true);
    expect(isAffected(e, "2.0.1.0")).toBe(true);
    expect(isAffected(e, "2.0.2")).toBe(false);
  });

  it("an event that is not a version of the ecosystem makes the range undecidable, not clean", () => {
    const e = entry("npm", [{ introduced: "0" }, { fixed: "four" }], "SEMVER");
    expect(evaluateAffected(e, "1.0.0")).toEqual({
      undecidable: 'ranges[0]: fixed "four" is not a SemVer version',
    });
  });
});

describe("OSV parsing", () => {
  it("skips withdrawn advisories and keeps only the ecosystems lockfiles are read for", () => {
    expect(parseOsv({ id: "GHSA-x", withdrawn: "2023-01-01T00:00:00Z", affected: [] }, "f")).toEqual({
      kind: "withdrawn",
      id: "GHSA-x",
    });
    const parsed = parseOsv(
      {
        id: "GHSA-mixed",
        affected: [
          { package: { ecosystem: "Maven", name: "org.example:lib" }, ranges: [] },
          {
            package: { ecosystem: "pypi", name: "Foo_Bar" },
            ranges: [{ type: "GIT", repo: "r", events: [] }],
          },
        ],
      },
      "f",
    );
    expect(parsed).toMatchObject({
      kind: "advisory",
      ecosystems: ["PyPI"],
      otherEcosystems: 1,
      gitRanges: 1,
    });
    if (parsed.kind === "advisory") expect(parsed.advisory.affected[0]?.name).toBe("foo-bar");
  });

  it("says where an advisory is malformed", () => {
    const bad = (osv: unknown) => {
      const parsed = parseOsv(osv, "f");
      return parsed.kind === "invalid" ? parsed.message : parsed.kind;
    };
    expect(bad([])).toBe("an OSV advisory is a JSON object");
    expect(bad({ summary: "x" })).toMatch(/"id" is missing/);
    expect(bad({ id: "A", affected: {} })).toBe('A: "affected" is not a list');
    expect(bad({ id: "A", affected: [{ package: { name: "x" } }] })).toMatch(/affected\[0\]\.package needs/);
    expect(
      bad({
        id: "A",
        affected: [{ package: { ecosystem: "npm", name: "x" }, ranges: [{ type: "RANGE", events: [] }] }],
      }),
    ).toMatch(/affected\[0\]\.ranges\[0\]\.type is "RANGE"/);
    expect(
      bad({
        id: "A",
        affected: [
          {
            package: { ecosystem: "npm", name: "x" },
            ranges: [{ type: "SEMVER", events: [{ introduced: "0", fixed: "1" }] }],
          },
        ],
      }),
    ).toMatch(/events\[0\] needs exactly one of/);
  });

  it("severity: a CVSS v3 vector first, then the database's label, then v2, else unknown", () => {
    expect(
      severityOf(JSON.parse(readFileSync(path.join(OSV, "npm/GHSA-jf85-cpcp-j695.json"), "utf8"))),
    ).toEqual({
      level: "critical",
      score: 9.1,
      vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H",
      label: "critical",
      from: "cvss-v3",
    });
    expect(severityOf({ database_specific: { severity: "MODERATE" } })).toEqual({
      level: "moderate",
      label: "moderate",
      from: "label",
    });
    expect(
      severityOf({
        severity: [
          { type: "CVSS_V4", score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N" },
          { type: "CVSS_V2", score: "AV:N/AC:L/Au:N/C:P/I:P/A:P" },
        ],
      }),
    ).toMatchObject({ level: "high", score: 7.5, from: "cvss-v2" });
    expect(severityOf({})).toEqual({ level: "unknown", from: "none" });
  });
});

describe("judgePackage", () => {
  const npm = (name: string, version: string) => ({ ecosystem: "npm" as const, name, version });

  it("names each advisory's next fix and the lowest version that clears them all", () => {
    const lodash = [
      "npm/GHSA-jf85-cpcp-j695.json",
      "npm/GHSA-p6mc-m468-83gw.json",
      "npm/GHSA-35jh-r3h4-6jhm.json",
    ].map(fixture);
    const verdict = judgePackage(npm("lodash", "4.17.4"), lodash);
    expect(verdict.groups.map((g) => [g.ids[0], g.severity.level, g.fixed])).toEqual([
      ["GHSA-jf85-cpcp-j695", "critical", "4.17.12"],
      ["GHSA-p6mc-m468-83gw", "high", "4.17.19"],
      ["GHSA-35jh-r3h4-6jhm", "high", "4.17.21"],
    ]);
    expect(verdict.upgradeTo).toBe("4.17.21");
    expect(judgePackage(npm("lodash", "4.17.19"), lodash).groups.map((g) => g.ids[0])).toEqual([
      "GHSA-35jh-r3h4-6jhm",
    ]);
    expect(judgePackage(npm("lodash", "4.17.21"), lodash).groups).toEqual([]);
    // 3.6.0 is below GHSA-p6mc's introduced 3.7.0.
    expect(judgePackage(npm("lodash", "3.6.0"), lodash).groups.map((g) => g.ids[0])).toEqual([
      "GHSA-jf85-cpcp-j695",
      "GHSA-35jh-r3h4-6jhm",
    ]);
  });

  it("picks the fix above the installed version from several intervals", () => {
    const minimist = ["npm/GHSA-xvch-5gv4-984h.json", "npm/GHSA-vh95-rmgr-6w4m.json"].map(fixture);
    const old = judgePackage(npm("minimist", "0.0.8"), minimist);
    expect(old.groups.map((g) => [g.ids[0], g.fixed])).toEqual([
      ["GHSA-xvch-5gv4-984h", "0.2.4"],
      ["GHSA-vh95-rmgr-6w4m", "0.2.1"],
    ]);
    expect(old.upgradeTo).toBe("0.2.4");
    const newer = judgePackage(npm("minimist", "1.2.5"), minimist);
    expect(newer.groups.map((g) => [g.ids[0], g.fixed])).toEqual([["GHSA-xvch-5gv4-984h", "1.2.6"]]);
    expect(newer.upgradeTo).toBe("1.2.6");
  });

  it("groups advisories that alias each other, as bad as the worst", () => {
    const go = ["Go/GO-2020-0015.json", "Go/GHSA-5rcv-m4m3-hfh7.json"].map(fixture);
    const verdict = judgePackage({ ecosystem: "Go", name: "golang.org/x/text", version: "v0.3.2" }, go);
    expect(verdict.groups).toHaveLength(1);
    expect(verdict.groups[0]).toMatchObject({
      ids: ["GHSA-5rcv-m4m3-hfh7", "GO-2020-0015"],
      aliases: ["CVE-2020-14040"],
      severity: { level: "high", score: 7.5 },
      fixed: "0.3.3",
    });
    const py = ["PyPI/GHSA-8q59-q68h-6hv4.json", "PyPI/PYSEC-2021-142.json"].map(fixture);
    const yaml = judgePackage({ ecosystem: "PyPI", name: "pyyaml", version: "5.4b2" }, py);
    expect(yaml.groups.map((g) => [g.ids, g.severity.level, g.fixed])).toEqual([
      [["GHSA-8q59-q68h-6hv4", "PYSEC-2021-142"], "critical", "5.4"],
    ]);
  });

  it("reports no fix when none is published, and undecidable advisories apart", () => {
    const noFix = advisory({
      id: "MAL-2024-1",
      affected: [{ package: { ecosystem: "npm", name: "evil" }, versions: ["1.0.0"] }],
    });
    const broken = advisory({
      id: "GHSA-bad",
      affected: [
        {
          package: { ecosystem: "npm", name: "evil" },
          ranges: [{ type: "SEMVER", events: [{ introduced: "x" }] }],
        },
      ],
    });
    const verdict = judgePackage(npm("evil", "1.0.0"), [noFix, broken]);
    expect(verdict.groups.map((g) => [g.ids[0], g.severity.level, g.fixed])).toEqual([
      ["MAL-2024-1", "unknown", undefined],
    ]);
    expect(verdict.upgradeTo).toBeUndefined();
    expect(verdict.undecidable).toEqual([
      { id: "GHSA-bad", reason: 'ranges[0]: introduced "x" is not a SemVer version', source: "inline" },
    ]);
  });
});
