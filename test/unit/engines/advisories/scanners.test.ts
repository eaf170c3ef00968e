// PARSING TESTS ONLY: none of osv-scanner, Trivy and Grype is installed here. The samples in
// test/fixtures/scanners/ are written by hand in each tool's documented JSON shape (osv-scanner docs/output.md,
// Trivy's integration goldens, Grype's presenter models); they show that the reduction to findings reads those
// shapes, not that the tools behave this way. What runs for real: locating the tools on a PATH, and the check's
// "not installed" path (test/integration/checks/dependenciesFreeOfKnownVulnerabilities.test.ts).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { locateScanners, parseScannerOutput } from "../../../../src/engines/advisories/scanners.js";

const SAMPLES = path.resolve(import.meta.dirname, "../../../fixtures/scanners");
const sample = (file: string) => readFileSync(path.join(SAMPLES, file), "utf8");

describe("scanner output (parsing only)", () => {
  it("osv-scanner: source and packageSource, PEP 503 names, fixes from the OSV records, groups' max severity", () => {
    const findings = parseScannerOutput("osv-scanner", sample("osv-scanner.json"), "/repo", "/repo");
    expect(findings).toEqual([
      {
        file: "web/package-lock.json",
        ecosystem: "npm",
        name: "lodash",
        version: "4.17.4",
        ids: ["GHSA-jf85-cpcp-j695", "CVE-2019-10744"],
        level: "critical",
        score: 9.1,
        fixed: ["4.17.12"],
      },
      {
        file: "web/package-lock.json",
        ecosystem: "npm",
        name: "lodash",
        version: "4.17.4",
        ids: ["GHSA-29mw-wpgm-hmr9", "CVE-2020-28500"],
        level: "moderate",
        score: 5.3,
        fixed: ["4.17.21"],
      },
      {
        file: "api/requirements.txt",
        ecosystem: "PyPI",
        name: "pyyaml",
        version: "5.3.1",
        ids: ["PYSEC-2021-142", "CVE-2020-14343", "GHSA-8q59-q68h-6hv4"],
        level: "unknown",
        fixed: ["5.4"],
      },
    ]);
  });

  it("trivy: targets relative to the scanned folder, vendor ids as aliases, types mapped to OSV ecosystems", () => {
    const findings = parseScannerOutput("trivy", sample("trivy.json"), "/repo", "/repo");
    expect(findings.map((f) => [f.file, f.ecosystem, f.name, f.version, f.ids, f.level, f.fixed])).toEqual([
      [
        "web/package-lock.json",
        "npm",
        "lodash",
        "4.17.4",
        ["CVE-2019-10744", "GHSA-jf85-cpcp-j695"],
        "critical",
        ["4.17.12"],
      ],
      [
        "web/package-lock.json",
        "npm",
        "lodash",
        "4.17.4",
        ["CVE-2021-23337", "GHSA-35jh-r3h4-6jhm"],
        "high",
        ["4.17.21"],
      ],
      [
        "api/Pipfile.lock",
        "PyPI",
        "requests",
        "2.28.1",
        ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
        "moderate",
        ["2.31.0"],
      ],
    ]);
    // Scanned from a sub-folder, targets are relative to it.
    expect(parseScannerOutput("trivy", sample("trivy.json"), "/repo", "/repo/svc")[0]?.file).toBe(
      "svc/web/package-lock.json",
    );
    // Before 0.20, the report was the bare list of results; `FixedVersion` could be a range.
    const old = JSON.stringify([
      {
        Target: "package-lock.json",
        Type: "npm",
        Vulnerabilities: [
          {
            VulnerabilityID: "CVE-2018-16487",
            PkgName: "lodash",
            InstalledVersion: "4.17.4",
            FixedVersion: ">=4.17.11",
            Severity: "HIGH",
          },
        ],
      },
    ]);
    expect(parseScannerOutput("trivy", old, "/repo", "/repo")[0]?.fixed).toEqual(["4.17.11"]);
  });

  it("grype: locations relative to the scanned folder, related CVEs as aliases, severities as one scale", () => {
    const findings = parseScannerOutput("grype", sample("grype.json"), "/repo", "/repo");
    expect(findings).toEqual([
      {
        file: "web/package-lock.json",
        ecosystem: "npm",
        name: "lodash",
        version: "4.17.4",
        ids: ["GHSA-jf85-cpcp-j695", "CVE-2019-10744"],
        level: "critical",
        fixed: ["4.17.12"],
      },
      {
        file: "Cargo.lock",
        ecosystem: "crates.io",
        name: "regex",
        version: "1.5.4",
        ids: ["GHSA-m5pq-gvj9-9vr8", "CVE-2022-24713"],
        level: "high",
        fixed: ["1.5.5"],
      },
    ]);
  });

  it("output that is not the tool's JSON is a located error", () => {
    expect(() => parseScannerOutput("grype", "[]", "/r", "/r")).toThrow(
      "Grype's output is not a JSON object",
    );
    expect(() => parseScannerOutput("osv-scanner", "Scanning dir .\n{", "/r", "/r")).toThrow(
      /^osv-scanner's JSON output is not valid JSON at line 1, column 1/,
    );
  });
});

describe("locating scanners", () => {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("finds an executable of that name on the PATH it is given, and not a file that cannot run", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-path-"));
    made.push(dir);
    writeFileSync(path.join(dir, "trivy"), "#!/bin/sh\n");
    chmodSync(path.join(dir, "trivy"), 0o755);
    writeFileSync(path.join(dir, "grype"), "not executable");
    const found = await locateScanners(dir);
    expect(found.get("trivy")).toBe(path.join(dir, "trivy"));
    expect(found.get("grype")).toBeNull();
    expect(found.get("osv-scanner")).toBeNull();
  });
});
