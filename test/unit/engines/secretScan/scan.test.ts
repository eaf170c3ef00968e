// scanRepository outside git (a walk applying .gitignore as git would), with its exclusions counted, the values handed
// to the redactor, a baseline applied, a missing path reported, and a deadline that stops the scan and says so.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { baselineFile } from "../../../../src/engines/secretScan/baseline.js";
import {
  DEFAULT_MAX_FILE_SIZE,
  type ScanOptions,
  scanRepository,
} from "../../../../src/engines/secretScan/scan.js";
import { REDACTED, Redactor } from "../../../../src/secrets/redactor.js";
import { makeToken } from "../../../support/secretValues.js";

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-scan-"));
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

function options(repoDir: string, more: Partial<ScanOptions> = {}): ScanOptions {
  return {
    repoDir,
    paths: ["."],
    exclude: [],
    history: true,
    maxFileSize: DEFAULT_MAX_FILE_SIZE,
    secrets: new Redactor(),
    threads: 0,
    ...more,
  };
}

describe("scanRepository outside git", () => {
  const github = makeToken.github();
  const files = {
    ".gitignore": "secrets.env\nbuild/\n",
    "secrets.env": `TOKEN=${makeToken.github()}\n`,
    "build/app.js": `const t = "${makeToken.github()}";\n`,
    "node_modules/pkg/index.js": `const t = "${makeToken.github()}";\n`,
    "env/pyvenv.cfg": "home = /usr/bin\n",
    "env/lib/site.py": `TOKEN = "${makeToken.github()}"\n`,
    "fixtures/generated.ts": `const t = "${makeToken.github()}";\n`,
    "src/app.ts": `// client\nexport const token = "${github}";\n`,
  };

  it("walks with .gitignore rules, leaves out and counts vendored and excluded folders, registers the value", async () => {
    const secrets = new Redactor();
    const result = await scanRepository(options(tree(files), { secrets, exclude: ["fixtures/**"] }));
    expect(result.paths).toEqual([{ path: ".", state: "scanned", listedBy: "walk" }]);
    expect(result.history).toEqual({ state: "notGit", repositories: [] });
    expect(result.findings.map((f) => [f.path, f.line, f.column, f.ruleId, f.masked])).toEqual([
      ["src/app.ts", 2, 23, "@secretlint/secretlint-rule-github", "ghp_…"],
    ]);
    expect(result.files.excluded).toEqual({ gitignore: 2, vendored: 2, exclude: 1 });
    expect(result.files.scanned).toBe(2); // .gitignore and src/app.ts
    expect(secrets.redact(`x ${github} y`)).toBe(`x ${REDACTED} y`);
    expect(JSON.stringify(result)).not.toContain(github);
  });

  it("applies a baseline: the accepted finding is counted, a stale entry named", async () => {
    const dir = tree(files);
    const first = await scanRepository(options(dir, { exclude: ["fixtures/**"] }));
    const accepted = first.findings.map((f) => ({
      fingerprint: f.fingerprint,
      ruleId: f.ruleId,
      path: f.path,
    }));
    const stale = { fingerprint: "f".repeat(32), ruleId: "gauntlet/jwt", path: "gone.ts" };
    writeFileSync(path.join(dir, "baseline.json"), JSON.stringify(baselineFile([...accepted, stale])));
    const result = await scanRepository(
      options(dir, {
        exclude: ["fixtures/**"],
        baseline: { file: path.join(dir, "baseline.json"), display: "baseline.json" },
      }),
    );
    expect(result.findings.map((f) => [f.path, f.baselined])).toEqual([["src/app.ts", true]]);
    expect(result.baseline).toMatchObject({ state: "read", entries: 2, matched: 1, stale: [stale] });
  });

  it("reports a missing path, and stops at the deadline saying how much was left", async () => {
    const dir = tree(files);
    const missing = await scanRepository(options(dir, { paths: ["src", "services"] }));
    expect(missing.paths).toEqual([
      { path: "src", state: "scanned", listedBy: "walk" },
      { path: "services", state: "missing" },
    ]);
    const late = await scanRepository(options(dir, { deadline: Date.now(), exclude: ["fixtures"] }));
    expect(late.incomplete).toEqual({
      phase: "files",
      reason: "the check's time limit was reached",
      filesLeft: 2,
      blobsLeft: 0,
    });
    expect(late.files.scanned).toBe(0);
  });

  it("skips files over the size limit and binary files, and counts them", async () => {
    const dir = tree({
      "big.txt": `${"a".repeat(5000)}\n${makeToken.github()}\n`,
      "logo.png": `\u0000PNG${makeToken.github()}`,
      "ok.txt": "nothing here\n",
    });
    const result = await scanRepository(options(dir, { maxFileSize: 4096 }));
    expect(result.findings).toEqual([]);
    expect(result.files.skipped).toEqual({ tooLarge: 1, binary: 1 });
    expect(result.files.tooLarge).toEqual(["big.txt"]);
  });
});
