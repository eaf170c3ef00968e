// Every temp folder a test (or a process it starts) makes goes under one folder per test run, removed at the end:
// a test that forgets its cleanup, or dies before it, still leaves nothing in the system temp dir.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export default function setup(): () => void {
  const root = mkdtempSync(path.join(tmpdir(), "gauntlet-test-run-"));
  // Servers that tests start as another user (PostgreSQL as postgres) must be able to reach their own folders.
  chmodSync(root, 0o755);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
