import { describe, expect, it } from "vitest";
import { cvss2BaseScore, cvss3BaseScore, levelOfV3 } from "../../../../src/engines/advisories/cvss.js";

describe("CVSS base scores", () => {
  // Scores as NVD and FIRST's calculator publish them for these vectors.
  const v3: [string, number][] = [
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H", 9.1],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1],
    ["CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L", 5.6],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10],
    ["CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9],
    ["CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8],
    ["CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8],
    ["CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 6.5],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3],
    ["CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2],
    ["CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H", 7.4],
    ["CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N", 6.1],
    ["CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0],
    // Temporal metrics after the base ones do not change the base score.
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", 9.8],
  ];
  for (const [vector, score] of v3) {
    it(`${vector} = ${score}`, () => {
      expect(cvss3BaseScore(vector)?.score).toBe(score);
    });
  }

  it("rates v3 scores as the specification does", () => {
    expect([0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(levelOfV3)).toEqual([
      "none",
      "low",
      "low",
      "moderate",
      "moderate",
      "high",
      "high",
      "critical",
      "critical",
    ]);
    expect(cvss3BaseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H")?.level).toBe("critical");
  });

  it("rejects incomplete or malformed vectors instead of guessing", () => {
    for (const bad of [
      "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
      "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
      "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
      "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
      "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
      "",
    ]) {
      expect(cvss3BaseScore(bad), bad).toBeNull();
    }
  });

  it("scores v2 vectors", () => {
    expect(cvss2BaseScore("AV:N/AC:L/Au:N/C:P/I:P/A:P")).toEqual({
      version: "2.0",
      score: 7.5,
      level: "high",
    });
    expect(cvss2BaseScore("AV:N/AC:M/Au:N/C:N/I:P/A:N")?.score).toBe(4.3);
    expect(cvss2BaseScore("(AV:N/AC:L/Au:N/C:C/I:C/A:C)")?.score).toBe(10);
    expect(cvss2BaseScore("AV:L/AC:H/Au:M/C:N/I:N/A:N")?.score).toBe(0);
    expect(cvss2BaseScore("AV:N/AC:L/Au:N/C:P/I:P")).toBeNull();
  });
});
