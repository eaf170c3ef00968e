// readCoverageReport tells the format by content (the real reports under misleading names), and says precisely why
// a report cannot be read: missing, a folder, empty, cut off part-way (each real report truncated), or unknown.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseGoCoverProfile } from "../../../../src/engines/coverage/goCoverProfile.js";
import { parseLcov } from "../../../../src/engines/coverage/lcov.js";
import { CoverageSyntaxError } from "../../../../src/engines/coverage/model.js";
import { parseCoverageText, readCoverageReport } from "../../../../src/engines/coverage/report.js";
import { XmlSyntaxError, xmlTags } from "../../../../src/engines/coverage/xmlTags.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../../fixtures/coverage");
const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-coverage-read-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const read = (file: string) => readFileSync(path.join(FIXTURES, file), "utf8");

const REAL = [
  ["node-test/lcov.info", "lcov"],
  ["nyc/lcov.info", "lcov"],
  ["nyc/cobertura-coverage.xml", "cobertura"],
  ["coveragepy/coverage.xml", "cobertura"],
  ["nyc/coverage-final.json", "istanbul-final"],
  ["nyc/coverage-summary.json", "istanbul-summary"],
  ["go/coverage.out", "go"],
  ["go/coverage-set.out", "go"],
  ["jacoco/jacoco.xml", "jacoco"],
] as const;

describe("readCoverageReport", () => {
  it.each(REAL)("tells %s is %s by its content, whatever it is called", async (fixture, format) => {
    const renamed = path.join(dir, `${path.basename(fixture).replace(/\W/g, "_")}.txt`);
    copyFileSync(path.join(FIXTURES, fixture), renamed);
    const result = await readCoverageReport(renamed);
    expect(result.state).toBe("ok");
    if (result.state !== "ok") return;
    expect(result.report.format).toBe(format);
    expect(result.bytes).toBe(readFileSync(renamed).length);
    expect(result.mtimeMs).toBeGreaterThan(0);
  });

  it.each(REAL)("says %s cut off half-way is broken or cut off, never a smaller valid report", (fixture) => {
    const text = read(fixture);
    const half = text.slice(0, Math.floor(text.length / 2));
    const result = parseCoverageText(half, path.basename(fixture));
    if (result.state === "ok") {
      // lcov and Go profiles are line-based: a cut at a line end is readable, but lcov says the record is open.
      expect(result.report.format).toBe("lcov");
      expect(result.report.notes.join(" ")).toMatch(/no end_of_record/);
    } else {
      expect(result.state).toBe("corrupt");
      expect(result.reason).toBeTruthy();
    }
  });

  it("names the line where a truncated XML report ends", () => {
    const text = read("coveragepy/coverage.xml");
    const cut = text.slice(0, text.indexOf("</class>"));
    const result = parseCoverageText(cut, "coverage.xml");
    expect(result).toMatchObject({ state: "corrupt", format: "cobertura" });
    if (result.state === "corrupt") {
      expect(result.reason).toMatch(/never closed/);
      expect(result.line).toBe(cut.split("\n").length);
    }
  });

  it("a truncated coverage-final.json is broken Istanbul JSON, with the line", () => {
    const result = parseCoverageText(read("nyc/coverage-final.json").slice(0, 500), "coverage-final.json");
    expect(result).toMatchObject({ state: "corrupt", format: "istanbul-final", line: 1 });
  });

  it("missing, a folder, empty and whitespace-only are told apart", async () => {
    mkdirSync(path.join(dir, "folder"));
    writeFileSync(path.join(dir, "empty.info"), "");
    writeFileSync(path.join(dir, "blank.info"), "\n  \n");
    expect(await readCoverageReport(path.join(dir, "nope/lcov.info"))).toMatchObject({ state: "missing" });
    expect(await readCoverageReport(path.join(dir, "folder"))).toMatchObject({ state: "notAFile" });
    expect(await readCoverageReport(path.join(dir, "empty.info"))).toMatchObject({
      state: "empty",
      bytes: 0,
    });
    expect(await readCoverageReport(path.join(dir, "blank.info"))).toMatchObject({ state: "empty" });
  });

  it("a format it does not read is unknown, not broken: Clover XML, other JSON, plain text", () => {
    const clover =
      '<?xml version="1.0"?>\n<coverage generated="1700000000" clover="4.4.1"><project/></coverage>';
    expect(parseCoverageText(clover)).toMatchObject({ state: "unknownFormat", reason: /Clover/ });
    expect(parseCoverageText('{"coverage": 93.1}', "coverage.json")).toMatchObject({
      state: "unknownFormat",
    });
    expect(parseCoverageText("Coverage: 93 %\n")).toMatchObject({ state: "unknownFormat" });
  });

  it("an empty coverage-final.json (nyc with nothing instrumented) is a report of no file", () => {
    const result = parseCoverageText("{}\n", "coverage-final.json");
    expect(result.state).toBe("ok");
    if (result.state === "ok") expect(result.report.lines).toEqual({ valid: 0, covered: 0 });
  });

  it("a Go profile without its mode line is broken, not unknown", () => {
    const blocks = read("go/coverage.out").replace(/^mode:.*\n/, "");
    expect(parseCoverageText(blocks, "coverage.out")).toMatchObject({ state: "corrupt", format: "go" });
  });
});

describe("lcov edge cases", () => {
  it("BRDA '-' (the line never ran) counts as not taken; LF/LH are used when a record has no DA", () => {
    const report = parseLcov("SF:a.js\nBRDA:3,0,0,-\nBRDA:3,0,1,2\nLF:10\nLH:4\nend_of_record\n");
    expect(report.lines).toEqual({ valid: 10, covered: 4 });
    expect(report.branches).toEqual({ valid: 2, covered: 1 });
  });

  it("a report without branch records has no branch figure (not 0 of 0)", () => {
    expect(parseLcov("SF:a.js\nDA:1,1\nDA:2,0\nend_of_record\n").branches).toBeUndefined();
  });

  it("a malformed count names its line", () => {
    expect(() => parseLcov("TN:\nSF:a.js\nDA:1,many\nend_of_record\n")).toThrow(
      expect.objectContaining({ line: 3, format: "lcov" }),
    );
  });
});

describe("Go coverprofile edge cases", () => {
  it("refuses a block listed with two statement counts, as go tool cover does", () => {
    const text = "mode: set\na.go:1.1,2.2 3 1\na.go:1.1,2.2 4 0\n";
    expect(() => parseGoCoverProfile(text)).toThrow(CoverageSyntaxError);
  });

  it("accepts joined profiles that repeat the same mode line, and notes it", () => {
    const text = "mode: set\na.go:1.1,2.2 3 0\nmode: set\na.go:1.1,2.2 3 1\n";
    const report = parseGoCoverProfile(text);
    expect(report.statements).toEqual({ valid: 3, covered: 3 });
    expect(report.notes).toEqual(["repeated mode line (joined profiles)"]);
  });
});

describe("xmlTags", () => {
  it("skips the declaration, DOCTYPE with an internal subset, comments and CDATA; decodes entities", () => {
    const xml = `<?xml version="1.0"?>
<!DOCTYPE report [ <!ELEMENT report ANY> ]>
<!-- <fake attr="x"/> -->
<report name="a &amp; b &#x41;"><![CDATA[ <notATag> ]]><counter type='LINE' missed="1" covered="2"/></report>`;
    const tags = [...xmlTags(xml)].map((t) => [t.name, t.kind, { ...t.attributes }, t.line]);
    expect(tags).toEqual([
      ["report", "open", { name: "a & b A" }, 4],
      ["counter", "empty", { type: "LINE", missed: "1", covered: "2" }, 4],
      ["report", "close", {}, 4],
    ]);
  });

  it("an attribute value may hold '>' and '/'", () => {
    const [tag] = [...xmlTags('<source path="/a/b>c"/>')];
    expect(tag!.attributes.path).toBe("/a/b>c");
  });

  it("refuses a mismatched end tag and an unclosed element, naming the line", () => {
    expect(() => [...xmlTags("<a>\n<b>\n</a>")]).toThrow(expect.objectContaining({ line: 3 }));
    expect(() => [...xmlTags("<a>\n<b/>\n")]).toThrow(XmlSyntaxError);
    expect(() => [...xmlTags('<a x="1')]).toThrow(/cut off/);
  });
});
