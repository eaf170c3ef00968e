import { describe, expect, it } from "vitest";
import type { Assessment } from "../../../src/core/assessment.js";
import { render } from "../../../src/report/index.js";
import { legacySampleAssessment, sampleAssessment } from "../../fixtures/assessment.js";

// ── a tiny strict XML 1.0 parser: enough to prove well-formedness without a dependency ───────────────────────────

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

function parseXml(xml: string): XmlElement {
  for (const char of xml) {
    if (!isXmlChar(char.codePointAt(0)!))
      throw new Error(`character U+${char.codePointAt(0)!.toString(16)} is not allowed`);
  }
  let pos = 0;
  const fail = (message: string): never => {
    throw new Error(`${message} at offset ${pos}: ${JSON.stringify(xml.slice(pos, pos + 40))}`);
  };
  const skipSpace = () => {
    while (/[ \t\r\n]/.test(xml[pos] ?? "")) pos++;
  };
  const name = (): string => {
    NAME.lastIndex = pos;
    const match = NAME.exec(xml);
    if (!match) return fail("expected a name");
    pos += match[0].length;
    return match[0];
  };
  const decode = (raw: string): string =>
    raw.replace(/&([^;]*);/g, (_, ref: string) => {
      const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
      if (named[ref]) return named[ref];
      const numeric = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ref);
      if (!numeric) return fail(`unknown entity &${ref};`);
      const code = numeric[1] ? Number.parseInt(numeric[1], 16) : Number(numeric[2]);
      if (!isXmlChar(code)) return fail(`character reference &${ref}; is not allowed`);
      return String.fromCodePoint(code);
    });
  const checkRaw = (raw: string, forbidden: RegExp) => {
    if (forbidden.test(raw)) fail(`forbidden character in ${JSON.stringify(raw.slice(0, 40))}`);
    if (/&(?![A-Za-z]+;|#[0-9]+;|#x[0-9a-fA-F]+;)/.test(raw)) fail("bare &");
  };
  const element = (): XmlElement => {
    if (xml[pos] !== "<") fail("expected <");
    pos++;
    const el: XmlElement = { name: name(), attributes: {}, children: [], text: "" };
    for (;;) {
      const before = pos;
      skipSpace();
      if (xml.startsWith("/>", pos)) {
        pos += 2;
        return el;
      }
      if (xml[pos] === ">") {
        pos++;
        break;
      }
      if (pos === before) fail("expected whitespace before an attribute");
      const attribute = name();
      skipSpace();
      if (xml[pos] !== "=") fail("expected =");
      pos++;
      skipSpace();
      const quote = xml[pos];
      if (quote !== '"' && quote !== "'") fail("expected a quoted value");
      const end = xml.indexOf(quote!, pos + 1);
      if (end < 0) fail("unterminated attribute");
      const raw = xml.slice(pos + 1, end);
      checkRaw(raw, /</);
      if (attribute in el.attributes) fail(`duplicate attribute ${attribute}`);
      el.attributes[attribute] = decode(raw);
      pos = end + 1;
    }
    for (;;) {
      const next = xml.indexOf("<", pos);
      if (next < 0) fail(`unclosed <${el.name}>`);
      const raw = xml.slice(pos, next);
      checkRaw(raw, /]]>/);
      el.text += decode(raw);
      pos = next;
      if (xml.startsWith("</", pos)) {
        pos += 2;
        if (name() !== el.name) fail(`mismatched </…> for <${el.name}>`);
        skipSpace();
        if (xml[pos] !== ">") fail("expected >");
        pos++;
        return el;
      }
      if (xml.startsWith("<!", pos) || xml.startsWith("<?", pos)) fail("unexpected markup");
      el.children.push(element());
    }
  };
  const declaration = /^<\?xml version="1\.0" encoding="UTF-8"\?>/.exec(xml);
  if (declaration) pos = declaration[0].length;
  skipSpace();
  const root = element();
  skipSpace();
  if (pos !== xml.length) fail("content after the root element");
  return root;
}

function all(el: XmlElement, name: string): XmlElement[] {
  return [...(el.name === name ? [el] : []), ...el.children.flatMap((child) => all(child, name))];
}

function junit(assessment: Assessment = sampleAssessment()): XmlElement {
  return parseXml(render("junit", assessment));
}

function testcase(root: XmlElement, name: string): XmlElement {
  const found = all(root, "testcase").find((t) => t.attributes.name === name);
  if (!found) throw new Error(`no testcase ${name}`);
  return found;
}

// ── tests ────────────────────────────────────────────────────────────────────────────────────────────────────────

describe("the XML checker itself", () => {
  it("rejects what is not well-formed", () => {
    expect(() => parseXml("<a><b></a>")).toThrow();
    expect(() => parseXml('<a x="1" x="2"/>')).toThrow();
    expect(() => parseXml("<a>fish & chips</a>")).toThrow();
    expect(() => parseXml('<a x="<"/>')).toThrow();
    expect(() => parseXml("<a>\u0007</a>")).toThrow();
    expect(() => parseXml("<a>&#1;</a>")).toThrow();
    expect(() => parseXml("<a/><b/>")).toThrow();
    expect(parseXml('<a x="1 &amp; 2">t&lt;</a>').attributes.x).toBe("1 & 2");
  });
});

describe("JUnit report", () => {
  it("is well-formed XML with a testsuites root named gauntlet", () => {
    const root = junit();
    expect(root.name).toBe("testsuites");
    expect(root.attributes.name).toBe("gauntlet");
    expect(root.attributes.time).toBe("458.495");
  });

  it("counts tests, failures (FAIL and UNVERIFIED), errors and skipped", () => {
    const root = junit();
    // 18 checks, two of them split by subject (internalServicesNotExposed, networkLatencyTolerated): 20 testcases.
    // Skipped: the four N/A checks and the subject resilience.exclude left out.
    expect(root.attributes).toMatchObject({ tests: "20", failures: "3", errors: "1", skipped: "5" });
    const suites = all(root, "testsuite");
    expect(suites.map((s) => s.attributes.name)).toEqual([
      "deployment",
      "observability",
      "resilience",
      "security",
      "performance",
      "recovery",
    ]);
    for (const suite of suites) {
      const cases = all(suite, "testcase");
      expect(suite.attributes.tests).toBe(String(cases.length));
      expect(suite.attributes.failures).toBe(String(all(suite, "failure").length));
      expect(suite.attributes.errors).toBe(String(all(suite, "error").length));
      expect(suite.attributes.skipped).toBe(String(all(suite, "skipped").length));
    }
  });

  it("has one testcase per check and subject, named checkId[subject]", () => {
    const root = junit();
    const names = all(root, "testcase").map((t) => t.attributes.name);
    expect(names).toContain("internalServicesNotExposed[db]");
    expect(names).toContain("internalServicesNotExposed[cache]");
    expect(names).toContain("noSecretsInRepo");
    expect(names.filter((n) => n?.startsWith("dockerfileHardened"))).toEqual([
      "dockerfileHardened[Dockerfile]",
    ]);
    expect(testcase(root, "healthEndpointsRespond[api]").attributes.classname).toBe(
      "gauntlet.observability.healthEndpointsRespond",
    );
  });

  it("maps statuses: FAIL and UNVERIFIED fail, ERROR errors, N/A skips, WARN passes with output", () => {
    const root = junit();
    const only = (name: string) => testcase(root, name).children.map((c) => c.name);
    expect(testcase(root, "dependencyFailureHandled[api]").children[0]?.attributes.type).toBe("FAIL");
    const unverified = testcase(root, "prometheusScrapesTargets[prometheus]").children[0]!;
    expect(unverified.name).toBe("failure");
    expect(unverified.attributes.type).toBe("UNVERIFIED");
    expect(unverified.text).toContain("to verify: Start Prometheus");
    expect(only("processRestartRecovers")).toEqual(["error"]);
    expect(testcase(root, "tlsModern").children[0]).toMatchObject({
      name: "skipped",
      attributes: {
        message: "No TLS endpoint to test: security.tls is empty and no service URL uses https.",
      },
    });
    const waived = testcase(root, "internalServicesNotExposed[cache]");
    expect(only("internalServicesNotExposed[cache]")).toEqual(["system-out"]);
    expect(waived.children[0]!.text).toContain("waived until 2026-09-30");
    expect(only("alertRulesValid[monitoring/alerts/api.yml]")).toEqual(["system-out"]);
  });

  it("skips an excluded subject with the spec's reason and lists every exclusion on the resilience suite", () => {
    const assessment = sampleAssessment();
    const root = junit(assessment);
    const skipped = testcase(root, "networkLatencyTolerated[cache]").children[0]!;
    expect(skipped.name).toBe("skipped");
    const reason = assessment.exclusions![0]!.reason;
    expect(skipped.attributes.message).toBe(`cache: excluded by resilience.exclude: ${reason}`);
    // A message that does not name the reason (an older or another check's wording) gets it added, once.
    const finding = assessment.checks
      .find((c) => c.checkId === "networkLatencyTolerated")!
      .findings.find((f) => f.subject === "cache")!;
    finding.message = "cache: left out.";
    const reworded = testcase(junit(assessment), "networkLatencyTolerated[cache]").children[0]!;
    expect(reworded.attributes.message).toBe(`cache: left out. Excluded by the spec: ${reason}`);
    expect(testcase(root, "networkLatencyTolerated[db]").children.map((c) => c.name)).toEqual(["system-out"]);

    const properties = (suite: string) =>
      Object.fromEntries(
        all(all(root, "testsuite").find((s) => s.attributes.name === suite)!, "property").map((p) => [
          p.attributes.name,
          p.attributes.value,
        ]),
      );
    expect(properties("resilience")).toMatchObject({
      exclusions: "1 applied, 1 unused",
      "exclusion.networkLatencyTolerated[cache]": `applied, left out 1 experiment: ${assessment.exclusions![0]!.reason}`,
      "exclusion.overloadShedGracefully[db]": `unused, matched no planned experiment: ${assessment.exclusions![1]!.reason}`,
    });
    expect(Object.keys(properties("security")).filter((name) => name.startsWith("exclusion"))).toEqual([]);
  });

  it("keeps a resilience suite to carry exclusions when no resilience check is in the run", () => {
    const assessment = sampleAssessment();
    assessment.checks = assessment.checks.filter((c) => c.category !== "resilience");
    const suite = all(junit(assessment), "testsuite").find((s) => s.attributes.name === "resilience")!;
    expect(suite.attributes).toMatchObject({ tests: "0", failures: "0", errors: "0", skipped: "0" });
    expect(all(suite, "property").map((p) => p.attributes.name)).toContain(
      "exclusion.networkLatencyTolerated[cache]",
    );
  });

  it("says exclusions were not recorded for a run stored before them", () => {
    const suite = all(junit(legacySampleAssessment()), "testsuite").find(
      (s) => s.attributes.name === "resilience",
    )!;
    const exclusions = all(suite, "property").filter((p) => p.attributes.name?.startsWith("exclusion"));
    expect(exclusions.map((p) => p.attributes)).toEqual([
      { name: "exclusions", value: "not recorded (a run stored before exclusions were kept)" },
    ]);
  });

  it("keeps messages with markup characters and newlines intact", () => {
    const root = junit();
    const out = testcase(root, "alertRulesValid[monitoring/alerts/api.yml]").children[0]!.text;
    expect(out).toContain('code=~"5..|429" & fires when errors > 5% for < 1m');
    expect(out).toContain("runbook_url.\nAdd annotations");
  });

  it("stays well-formed with control characters XML 1.0 forbids and lone surrogates", () => {
    const assessment = sampleAssessment();
    const finding = assessment.checks.find((c) => c.checkId === "dependencyFailureHandled")!.findings[0]!;
    finding.message =
      "bell\u0007 nul\u0000 esc\u001b lone\ud800 pair\ud83d\ude00 tab\tcr\r\"quoted\" 'apos' ]]>";
    const xml = render("junit", assessment);
    const failure = testcase(parseXml(xml), "dependencyFailureHandled[api]").children[0]!;
    expect(failure.attributes.message).toBe(
      "bell\\u0007 nul\\u0000 esc\\u001b lone\ufffd pair\ud83d\ude00 tab\tcr\r\"quoted\" 'apos' ]]>",
    );
  });

  it("writes times in seconds", () => {
    expect(testcase(junit(), "dependencyFailureHandled[api]").attributes.time).toBe("41.877");
  });
});
