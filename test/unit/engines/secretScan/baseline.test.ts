// Fingerprints and baseline files: a finding is known by rule, path and a hash of its value — not its line, never the
// value — and a baseline file that cannot be used says why.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { baselineFile, fingerprint, readBaseline } from "../../../../src/engines/secretScan/baseline.js";
import { detectSecrets, hashSecret } from "../../../../src/engines/secretScan/detect.js";
import { makeToken } from "../../../support/secretValues.js";

describe("fingerprints", () => {
  it("stay the same when lines move, and change with the rule, the path or the value", async () => {
    const token = makeToken.github();
    const [first] = await detectSecrets({ file: "src/a.ts", content: `const t = "${token}";\n` });
    const [moved] = await detectSecrets({
      file: "src/a.ts",
      content: `\n\n// moved\n  const t = '${token}'\n`,
    });
    expect(moved!.line).not.toBe(first!.line);
    const print = fingerprint(first!.ruleId, "src/a.ts", first!.secretHash);
    expect(fingerprint(moved!.ruleId, "src/a.ts", moved!.secretHash)).toBe(print);
    expect(print).toMatch(/^[0-9a-f]{32}$/);
    expect(fingerprint(first!.ruleId, "src/b.ts", first!.secretHash)).not.toBe(print);
    expect(fingerprint("gauntlet/jwt", "src/a.ts", first!.secretHash)).not.toBe(print);
    expect(fingerprint(first!.ruleId, "src/a.ts", hashSecret(makeToken.github()))).not.toBe(print);
  });

  it("never hold the value, nor does a baseline file", async () => {
    const token = makeToken.stripeLive();
    const [d] = await detectSecrets({ file: "pay.ts", content: `charge("${token}")` });
    const print = fingerprint(d!.ruleId, "pay.ts", d!.secretHash);
    const text = JSON.stringify(
      baselineFile([{ fingerprint: print, ruleId: d!.ruleId, path: "pay.ts", masked: d!.masked }]),
    );
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(4, 16));
    expect(text).toContain(print);
  });
});

describe("baseline files", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-baseline-"));
  const file = (name: string, text: string) => {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    return at;
  };

  it("read back what baselineFile wrote, one entry per fingerprint, sorted", async () => {
    const entries = [
      { fingerprint: "b".repeat(32), ruleId: "r2", path: "z.ts" },
      { fingerprint: "a".repeat(32), ruleId: "r1", path: "a.ts" },
      { fingerprint: "a".repeat(32), ruleId: "r1", path: "a.ts" },
    ];
    const read = await readBaseline(file("ok.json", JSON.stringify(baselineFile(entries))));
    expect(read).toEqual({
      state: "read",
      entries: [
        { fingerprint: "a".repeat(32), ruleId: "r1", path: "a.ts" },
        { fingerprint: "b".repeat(32), ruleId: "r2", path: "z.ts" },
      ],
    });
  });

  it("say why they cannot be used", async () => {
    expect(await readBaseline(path.join(dir, "absent.json"))).toEqual({ state: "missing", error: "ENOENT" });
    expect((await readBaseline(file("broken.json", "{ findings: [ }"))).state).toBe("invalid");
    expect(await readBaseline(file("other.json", '{"results": []}'))).toEqual({
      state: "invalid",
      error: 'no "findings" array',
    });
    expect(await readBaseline(file("entry.json", '{"findings": [{"fingerprint": "abc"}]}'))).toEqual({
      state: "invalid",
      error: 'findings[0] has no 32-hex-digit "fingerprint"',
    });
  });
});
