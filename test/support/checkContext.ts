// A real CheckContext for tests: the spec goes through the real schema, evidence is written to a temp folder.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, onTestFinished } from "vitest";
import { createCheckContext } from "../../src/core/context.js";
import { EvidenceStore } from "../../src/core/evidence.js";
import { RollbackScope } from "../../src/core/rollbacks.js";
import type { CheckContext } from "../../src/core/types.js";
import type { TargetLookup } from "../../src/engines/faults/targets/target.js";
import { type SpecInput, specSchema } from "../../src/spec/schema.js";

const leftOver: string[] = [];
afterAll(() => {
  for (const dir of leftOver.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Removes `dir` when the current test ends (or, outside a test, when the file's tests end). */
function removeLater(dir: string): void {
  try {
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  } catch {
    leftOver.push(dir);
  }
}

export interface TestContext {
  ctx: CheckContext;
  evidenceDir: string;
  rollbacks: RollbackScope;
  logs: string[];
  /** Reads an evidence file by the relative name a finding returned. */
  readEvidence(relative: string): string;
}

export function makeCheckContext(
  specInput: Omit<SpecInput, "version" | "system"> & Partial<Pick<SpecInput, "system">>,
  options: {
    checkId?: string;
    specDir?: string;
    env?: NodeJS.ProcessEnv;
    signal?: AbortSignal;
    targets?: TargetLookup;
  } = {},
): TestContext {
  const spec = specSchema.parse({ version: 1, system: { name: "test-system" }, ...specInput });
  const specDir = options.specDir ?? mkdtempSync(path.join(tmpdir(), "gauntlet-spec-"));
  const evidenceDir = mkdtempSync(path.join(tmpdir(), "gauntlet-evidence-"));
  if (!options.specDir) removeLater(specDir);
  removeLater(evidenceDir);
  const rollbacks = new RollbackScope(options.checkId ?? "test");
  const logs: string[] = [];
  const ctx = createCheckContext({
    spec,
    specPath: path.join(specDir, "gauntlet.yaml"),
    checkId: options.checkId ?? "test",
    evidence: new EvidenceStore(evidenceDir),
    rollbacks,
    signal: options.signal ?? new AbortController().signal,
    env: options.env ?? {},
    ...(options.targets ? { targets: options.targets } : {}),
    onLog: (level, id, message) => logs.push(`${level} ${id} ${message}`),
  });
  return {
    ctx,
    evidenceDir,
    rollbacks,
    logs,
    readEvidence: (relative) => readFileSync(path.join(evidenceDir, relative), "utf8"),
  };
}
