// A run killed between recording its history row and writing its certificate (issue "Hardening Gauntlet itself",
// item 4). The history row is written first, so a certificate never exists that the history does not know about;
// the row left without a certificate is explained by `history` and `report`, never an error.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { assess, CERTIFICATE_FILE } from "../../../src/assess/assess.js";
import * as statement from "../../../src/attest/statement.js";
import { historyCommand } from "../../../src/cli/history.js";
import { memoryIO } from "../../../src/cli/io.js";
import { reportCommand } from "../../../src/cli/report.js";
import { openStore } from "../../../src/store/store.js";

vi.mock("../../../src/attest/statement.js", async (importOriginal) => {
  const original = await importOriginal<typeof statement>();
  return { ...original, writeCertificate: vi.fn(original.writeCertificate) };
});

const dirs: string[] = [];
afterEach(() => {
  vi.mocked(statement.writeCertificate).mockClear();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function system(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-store-first-"));
  dirs.push(dir);
  writeFileSync(path.join(dir, "gauntlet.yaml"), "version: 1\nsystem: { name: killed }\n");
  return dir;
}

/** Dies where a SIGKILL between the two writes would leave the run: the certificate is never written. */
function killBeforeTheCertificate(): void {
  vi.mocked(statement.writeCertificate).mockImplementationOnce(async () => {
    throw new Error("killed before the certificate was written");
  });
}

describe("store first, then the certificate", () => {
  it("a run killed before its certificate is already in the history", async () => {
    const dir = system();
    killBeforeTheCertificate();
    await expect(assess({ specPath: path.join(dir, "gauntlet.yaml"), cwd: dir, checks: [] })).rejects.toThrow(
      /killed/,
    );
    const store = await openStore(undefined, { cwd: dir });
    try {
      const run = await store.latest();
      expect(run?.system.name).toBe("killed");
      expect(existsSync(path.join(dir, ".gauntlet", "runs", run!.runId, CERTIFICATE_FILE))).toBe(false);
    } finally {
      await store.close();
    }
  });

  it("history and report say the certificate is missing instead of failing", async () => {
    const dir = system();
    killBeforeTheCertificate();
    await assess({ specPath: path.join(dir, "gauntlet.yaml"), cwd: dir, checks: [] }).catch(() => undefined);

    const history = memoryIO();
    expect(await historyCommand({ cwd: dir }, history)).toBe(0);
    const table = history.stdout.join("\n");
    expect(table).toMatch(/NOT READY\*/);
    expect(table).toMatch(/\* .*: no certificate\.dsse\.json in \.gauntlet\/runs\/.*: the run stopped after/);

    const json = memoryIO();
    await historyCommand({ cwd: dir, json: true }, json);
    expect(JSON.parse(json.stdout.join(""))[0]).toMatchObject({ certificate: "missing" });

    const report = memoryIO();
    expect(await reportCommand("latest", { cwd: dir }, report)).toBe(0);
    expect(report.stderr.join("\n")).toMatch(/warning: .*no certificate\.dsse\.json.*not certified/);
    expect(report.stdout.join("\n")).toMatch(/UNSIGNED.*no certificate was issued/);
  });

  it("a complete run has its certificate and no note", async () => {
    const dir = system();
    const outcome = await assess({ specPath: path.join(dir, "gauntlet.yaml"), cwd: dir, checks: [] });
    expect(existsSync(path.join(outcome.runDir, CERTIFICATE_FILE))).toBe(true);
    const history = memoryIO();
    await historyCommand({ cwd: dir }, history);
    expect(history.stdout.join("\n")).not.toMatch(/no certificate/);
    const report = memoryIO();
    await reportCommand("latest", { cwd: dir }, report);
    expect(report.stderr).toEqual([]);
  });
});
