// Accepted findings (gitleaks' baseline idea): a finding is known by a fingerprint of its rule, its path and a hash of
// its secret — never the secret, and not its line, so an accepted test fixture stays accepted when lines move above
// it. `gauntlet secrets --write-baseline FILE` writes one; security.scan.baseline names it. Accepted findings are
// counted, not reported; an entry that matches nothing any more is stale and said so.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

export const BASELINE_VERSION = 1;

export function fingerprint(ruleId: string, path: string, secretHash: string): string {
  return createHash("sha256")
    .update(`gauntlet-secret/v1\n${ruleId}\n${path}\n${secretHash}`)
    .digest("hex")
    .slice(0, 32);
}

export interface BaselineEntry {
  fingerprint: string;
  ruleId: string;
  path: string;
  /** The mask shown when it was accepted, so a reviewer can tell the entries apart. */
  masked?: string;
  /** The commit where it was first seen, for a finding in history only. */
  commit?: string;
  /** Why it was accepted, for the reviewer. */
  reason?: string;
}

export interface BaselineFile {
  version: typeof BASELINE_VERSION;
  description: string;
  findings: BaselineEntry[];
}

export type BaselineRead =
  | { state: "read"; entries: BaselineEntry[] }
  | { state: "missing" | "invalid"; error: string };

export async function readBaseline(file: string): Promise<BaselineRead> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    return { state: "missing", error: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { state: "invalid", error: `not JSON: ${(error as Error).message}` };
  }
  const findings = (value as { findings?: unknown } | null)?.findings;
  if (!Array.isArray(findings)) return { state: "invalid", error: 'no "findings" array' };
  const entries: BaselineEntry[] = [];
  for (const [index, entry] of findings.entries()) {
    const e = entry as Partial<BaselineEntry> | null;
    if (!e || typeof e.fingerprint !== "string" || !/^[0-9a-f]{32}$/.test(e.fingerprint)) {
      return { state: "invalid", error: `findings[${index}] has no 32-hex-digit "fingerprint"` };
    }
    entries.push({ fingerprint: e.fingerprint, ruleId: String(e.ruleId ?? ""), path: String(e.path ?? "") });
  }
  return { state: "read", entries };
}

export function baselineFile(entries: BaselineEntry[]): BaselineFile {
  const unique = new Map(entries.map((e) => [e.fingerprint, e]));
  return {
    version: BASELINE_VERSION,
    description:
      "Secrets accepted by `gauntlet secrets --write-baseline`: each is a fingerprint of rule, path and a hash of the value (never the value). Review every entry: a real secret here is still leaked, only no longer reported.",
    findings: [...unique.values()].sort(
      (a, b) =>
        a.path.localeCompare(b.path) ||
        a.ruleId.localeCompare(b.ruleId) ||
        a.fingerprint.localeCompare(b.fingerprint),
    ),
  };
}
