// observe() then judge() on temporary repositories built from the real-shaped lockfile fixtures, against the OSV
// fixture set (test/fixtures/osv) as a folder and as an osv.dev-style all.zip built here with fflate. No scanner is
// installed on this machine, and PATH is pointed at an empty folder so that none is found: the built-in verdict alone.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/security/dependenciesFreeOfKnownVulnerabilities.js";
import type { FindingInput } from "../../../src/core/types.js";
import type { SpecInput } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures");
const LOCKS = path.join(FIXTURES, "lockfiles");
const OSV = path.join(FIXTURES, "osv");

/** A spec folder holding a repo/ built from fixture folders (`to: from`), and an empty folder for PATH. */
function workspace(layout: Record<string, string>, files: Record<string, string> = {}) {
  const specDir = mkdtempSync(path.join(tmpdir(), "gauntlet-deps-spec-"));
  const repo = path.join(specDir, "repo");
  mkdirSync(repo);
  for (const [to, from] of Object.entries(layout))
    cpSync(path.join(LOCKS, from), path.join(repo, to), { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
    writeFileSync(path.join(repo, file), content);
  }
  const emptyPath = path.join(specDir, "bin");
  mkdirSync(emptyPath);
  return { specDir, repo, env: { PATH: emptyPath } };
}

async function run(
  ws: ReturnType<typeof workspace>,
  security: NonNullable<SpecInput["security"]> | undefined,
) {
  const { ctx, evidenceDir, logs, readEvidence } = makeCheckContext(
    { system: { name: "shop", repo: "repo" }, ...(security ? { security } : {}) },
    { specDir: ws.specDir, env: ws.env, checkId: check.meta.id },
  );
  const observation = await check.observe(ctx);
  const findings = check.judge(observation, ctx.spec);
  return { observation, findings, evidenceDir, logs, readEvidence };
}

const rows = (findings: FindingInput[]) => findings.map((f) => [f.subject ?? null, f.status, f.messageId]);

function allEvidence(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(path.join(e.parentPath, e.name), "utf8"))
    .join("\n");
}

describe("dependenciesFreeOfKnownVulnerabilities", () => {
  it("without an advisory source: UNVERIFIED with the reason and where to get one, never PASS", async () => {
    const ws = workspace({ ".": "npm-v3" });
    const { findings, observation } = await run(ws, undefined);
    expect(rows(findings)).toEqual([[null, "UNVERIFIED", "noAdvisorySource"]]);
    expect(findings[0]!.message).toContain("security.advisories names no advisory set");
    expect(findings[0]!.toVerify).toContain("https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip");
    expect(findings[0]!.toVerify).toMatch(/osv-scanner, trivy or grype/);
    // Each scanner was looked for and is not on PATH.
    expect(observation.scanners.map((s) => [s.tool, s.status])).toEqual([
      ["osv-scanner", "missing"],
      ["trivy", "missing"],
      ["grype", "missing"],
    ]);
    expect(observation.lockfiles.map((l) => [l.path, l.packages])).toEqual([["package-lock.json", 10]]);
  });

  it("with the fixture set: a known vulnerable version FAILs, naming the advisory, its CVE, the lockfile line and the fix", async () => {
    const ws = workspace({ ".": "npm-v3" });
    const { findings, readEvidence } = await run(ws, { advisories: path.relative(ws.specDir, OSV) });
    expect(rows(findings)).toEqual([
      ["package-lock.json#lodash@4.17.4", "FAIL", "vulnerable"],
      ["package-lock.json#minimist@1.2.5", "FAIL", "vulnerable"],
      ["package-lock.json#minimist@0.0.8", "FAIL", "vulnerable"],
    ]);
    const [lodash, devMinimist, nested] = findings;
    expect(lodash!.location).toEqual({ path: "package-lock.json", line: 46 });
    expect(lodash!.message).toContain(
      "GHSA-jf85-cpcp-j695 / CVE-2019-10744 (critical 9.1; fixed in 4.17.12)",
    );
    expect(lodash!.message).toContain("upgrade to 4.17.21");
    expect(lodash!.data).toMatchObject({
      package: "lodash",
      version: "4.17.4",
      severity: "critical",
      judgedAs: "critical",
      fixedVersion: "4.17.21",
      remedy: expect.stringContaining("npm install lodash@4.17.21"),
    });
    expect(
      (lodash!.data!.advisories as { ids: string[]; fixed: string }[]).map((a) => [a.ids[0], a.fixed]),
    ).toEqual([
      ["GHSA-jf85-cpcp-j695", "4.17.12"],
      ["GHSA-p6mc-m468-83gw", "4.17.19"],
      ["GHSA-35jh-r3h4-6jhm", "4.17.21"],
    ]);
    // minimist 1.2.5 is dev-only: critical judged as high, still a FAIL; the nested 0.0.8 needs 0.2.4.
    expect(devMinimist!.data).toMatchObject({
      dev: true,
      severity: "critical",
      judgedAs: "high",
      fixedVersion: "1.2.6",
    });
    expect(devMinimist!.message).toContain("dev-only, judged one level lower: critical → high");
    expect(nested!.data).toMatchObject({ dev: false, fixedVersion: "0.2.4" });
    expect(lodash!.evidence).toEqual([
      "dependenciesFreeOfKnownVulnerabilities/dependencies.json",
      "dependenciesFreeOfKnownVulnerabilities/vulnerabilities.json",
    ]);
    const recorded = JSON.parse(readEvidence("dependenciesFreeOfKnownVulnerabilities/vulnerabilities.json"));
    expect(recorded.vulnerable).toHaveLength(3);
  });

  it("reads the advisories from an all.zip, and every npm lockfile format gives the same verdict", async () => {
    const ws = workspace({
      v1: "npm-v1",
      v2: "npm-v2",
      yarn: "yarn-classic",
      berry: "yarn-berry",
      pnpm5: "pnpm-v5",
      pnpm6: "pnpm-v6",
      pnpm9: "pnpm-v9",
    });
    const files: Record<string, Uint8Array> = {};
    for (const file of readdirSync(path.join(OSV, "npm")))
      files[file] = readFileSync(path.join(OSV, "npm", file));
    writeFileSync(path.join(ws.specDir, "npm-all.zip"), zipSync(files));
    const { findings, observation } = await run(ws, { advisories: "npm-all.zip" });
    expect(observation.advisories.sources[0]).toMatchObject({
      kind: "zip",
      files: 5,
      perEcosystem: { npm: 5 },
    });
    const byFile = new Map<string, string[]>();
    for (const f of findings) {
      const [file, pkg] = f.subject!.split("#");
      byFile.set(file!, [...(byFile.get(file!) ?? []), `${pkg} ${f.status}`]);
    }
    const expected = ["lodash@4.17.4 FAIL", "minimist@1.2.5 FAIL", "minimist@0.0.8 FAIL"];
    for (const file of [
      "v1/package-lock.json",
      "v2/package-lock.json",
      "pnpm5/pnpm-lock.yaml",
      "pnpm6/pnpm-lock.yaml",
      "pnpm9/pnpm-lock.yaml",
    ]) {
      expect(byFile.get(file)?.sort(), file).toEqual([...expected].sort());
    }
    // yarn.lock does not say which packages are dev-only: minimist 1.2.5 is judged as a production dependency.
    for (const file of ["yarn/yarn.lock", "berry/yarn.lock"]) {
      expect(byFile.get(file)?.sort(), file).toEqual([
        "lodash@4.17.4 FAIL",
        "minimist@0.0.8 FAIL",
        "minimist@1.2.5 FAIL",
      ]);
    }
  });

  it("each ecosystem needs advisories of its own: an npm-only set cannot clear PyPI, Go or Cargo lockfiles", async () => {
    const ws = workspace(
      { web: "npm-v3", api: "poetry-v1", svc: "go-mod", rust: "cargo" },
      {
        "web/package-lock.json": JSON.stringify({
          lockfileVersion: 3,
          packages: { "node_modules/lodash": { version: "4.17.21" } },
        }),
      },
    );
    const npmOnly = await run(ws, { advisories: path.join(OSV, "npm") });
    expect(rows(npmOnly.findings)).toEqual([
      ["api/poetry.lock", "UNVERIFIED", "noAdvisoriesForEcosystem"],
      ["rust/Cargo.lock", "UNVERIFIED", "noAdvisoriesForEcosystem"],
      ["svc/go.mod", "UNVERIFIED", "noAdvisoriesForEcosystem"],
      ["web/package-lock.json", "PASS", "noKnownVulnerabilities"],
    ]);
    expect(npmOnly.findings[0]!.toVerify).toContain(
      "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip",
    );
    expect(npmOnly.findings[3]!.message).toBe(
      "web/package-lock.json: 1 package version(s) checked against 5 npm advisories (security.advisories): none is known to be vulnerable",
    );

    const all = await run(ws, { advisories: path.relative(ws.specDir, OSV) });
    expect(rows(all.findings)).toEqual([
      ["api/poetry.lock#pyyaml@5.3.1", "FAIL", "vulnerable"],
      ["api/poetry.lock#requests@2.28.1", "WARN", "vulnerable"],
      ["rust/Cargo.lock#regex@1.5.4", "FAIL", "vulnerable"],
      ["svc/go.mod#golang.org/x/text@v0.3.2", "FAIL", "vulnerable"],
      ["web/package-lock.json", "PASS", "noKnownVulnerabilities"],
    ]);
    const [pyyaml, requests, regex, text] = all.findings;
    expect(pyyaml!.message).toMatch(
      /^pyyaml 5\.3\.1 \(api\/poetry\.lock:23\) has 1 known vulnerability: GHSA-8q59-q68h-6hv4, PYSEC-2021-142 \/ CVE-2020-14343 \(critical 9\.8; fixed in 5\.4\)/,
    );
    // Moderate, and dev-only: WARN.
    expect(requests!.data).toMatchObject({
      dev: true,
      severity: "moderate",
      judgedAs: "low",
      fixedVersion: "2.31.0",
    });
    expect(text!.data).toMatchObject({
      fixedVersion: "v0.3.3",
      remedy: expect.stringContaining("go get golang.org/x/text@v0.3.3"),
    });
    expect(text!.message).toContain(
      "GHSA-5rcv-m4m3-hfh7, GO-2020-0015 / CVE-2020-14040 (high 7.5; fixed in v0.3.3)",
    );
    expect(regex!.data).toMatchObject({
      remedy: expect.stringContaining("cargo update -p regex --precise 1.5.5"),
    });
  });

  it("requirements: pinned versions are checked, unpinned ones are UNVERIFIED, included files are read", async () => {
    const ws = workspace({ api: "requirements" });
    const { findings } = await run(ws, { advisories: path.relative(ws.specDir, OSV) });
    expect(rows(findings)).toEqual([
      ["api/requirements.txt#pyyaml@5.3.1", "FAIL", "vulnerable"],
      ["api/requirements.txt#requests@2.28.1", "WARN", "vulnerable"],
      ["api/requirements-base.txt", "PASS", "noKnownVulnerabilities"],
      ["api/requirements.txt", "UNVERIFIED", "unpinned"],
    ]);
    expect(findings[3]!.message).toBe(
      "api/requirements.txt: 3 entries have no exact version, so no advisory can be matched: urllib3 >=1.26.0,<2, flask (no version), django ~=4.2",
    );
    expect(findings[3]!.location).toEqual({ path: "api/requirements.txt", line: 14 });
  });

  it("no manifest at all is N/A; a manifest without a lockfile is UNVERIFIED", async () => {
    const empty = workspace(
      {},
      { "README.md": "# nothing here\n", "tools/package.json": '{ "name": "no-deps" }' },
    );
    expect(rows((await run(empty, { advisories: path.join(OSV, "npm") })).findings)).toEqual([
      [null, "NA", "noDependencies"],
    ]);
    const unpinned = workspace(
      {},
      { "package.json": JSON.stringify({ dependencies: { express: "^4.18.0" } }) },
    );
    const { findings } = await run(unpinned, { advisories: path.join(OSV, "npm") });
    expect(rows(findings)).toEqual([["package.json", "UNVERIFIED", "noLockfile"]]);
    expect(findings[0]!.toVerify).toContain("npm install --package-lock-only");
  });

  it("a broken advisory file and a broken lockfile are located; everything else is still judged", async () => {
    const ws = workspace(
      { ".": "npm-v3" },
      { "pnpm/pnpm-lock.yaml": "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: {\n" },
    );
    const db = path.join(ws.specDir, "osv-db");
    cpSync(path.join(OSV, "npm"), db, { recursive: true });
    writeFileSync(path.join(db, "GHSA-broken.json"), '{ "id": "GHSA-broken", "affected": [ }');
    const { findings } = await run(ws, { advisories: ["osv-db"] });
    expect(rows(findings)).toEqual([
      ["pnpm/pnpm-lock.yaml", "UNVERIFIED", "lockfileUnreadable"],
      ["osv-db", "UNVERIFIED", "advisoriesUnreadable"],
      ["package-lock.json#lodash@4.17.4", "FAIL", "vulnerable"],
      ["package-lock.json#minimist@1.2.5", "FAIL", "vulnerable"],
      ["package-lock.json#minimist@0.0.8", "FAIL", "vulnerable"],
    ]);
    expect(findings[0]!.message).toMatch(/^pnpm\/pnpm-lock.yaml is not valid YAML at line \d/);
    expect(findings[1]!.message).toContain(
      'osv-db/GHSA-broken.json is not valid JSON at line 1, column 38: unexpected "}": expected a value',
    );
    expect(findings[1]!.location).toEqual({ path: "osv-db/GHSA-broken.json", line: 1, column: 38 });
    const missing = await run(ws, { advisories: ["osv-db", "no-such.zip"] });
    expect(rows(missing.findings).slice(1, 3)).toEqual([
      ["osv-db", "UNVERIFIED", "advisoriesUnreadable"],
      ["no-such.zip", "UNVERIFIED", "advisorySourceUnreadable"],
    ]);
  });

  it("a credential in a lockfile URL never reaches the evidence or the findings", async () => {
    const token = ["ghp", "_", "x".repeat(12), Math.random().toString(36).slice(2, 14)].join("");
    const ws = workspace(
      {},
      {
        "package.json": JSON.stringify({ dependencies: { tool: "github:u/tool" } }),
        "package-lock.json": JSON.stringify({
          lockfileVersion: 3,
          packages: {
            "node_modules/tool": {
              version: "1.0.0",
              resolved: `git+https://u:${token}@github.com/u/tool.git#0f1e2d3c`,
            },
            "node_modules/lodash": { version: "4.17.21" },
          },
        }),
      },
    );
    const { findings, observation, evidenceDir, logs } = await run(ws, { advisories: path.join(OSV, "npm") });
    expect(rows(findings)).toEqual([["package-lock.json", "PASS", "noKnownVulnerabilities"]]);
    expect(findings[0]!.message).toContain("1 entry from git, folders or other registries not checked");
    const output = [allEvidence(evidenceDir), JSON.stringify(findings), logs.join("\n")].join("\n");
    expect(output).not.toContain(token);
    // The observation keeps no unchecked git entry (only the count), so nothing to redact there.
    expect(JSON.stringify(observation)).not.toContain(token);
  });
});
