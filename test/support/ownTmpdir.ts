// A temp folder of this test file's own, made the process's TMPDIR: what the code under test creates with
// os.tmpdir() (scratch clusters, copies) can then be counted without seeing other test files' running in parallel.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

export function ownTmpdir(name: string): string {
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  // Servers the tests start as another user (PostgreSQL as postgres) must reach their folders.
  chmodSync(dir, 0o755);
  process.env.TMPDIR = dir;
  afterAll(() => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
