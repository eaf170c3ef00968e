// Where an alert's runbook is: its runbook_url (or runbook) annotation when it has one — an http(s) link, a file: URL
// or a path — else a file named after the alert under operations.runbooks. Shared by the checks that ask whether an
// alert has a runbook (alertRulesCoverGoldenSignals) and what that runbook holds (runbooksCoverAlerts).
import { stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** File names tried under operations.runbooks, for an alert `ApiHighErrorRate`. */
export const RUNBOOK_EXTENSIONS = [".md", ".markdown", ".txt", ".adoc", ".rst"] as const;

export type RunbookLocation =
  /** An http(s) link from the annotation, as written. */
  | { kind: "url"; annotation: string; url: string }
  /** A file that exists: from the annotation (a path or file: URL) or found under operations.runbooks. */
  | { kind: "file"; annotation?: string; file: string; tried: string[] }
  /** Nothing found; `tried` lists every path looked at (absolute), `annotation` the annotation that named none. */
  | { kind: "missing"; annotation?: string; url?: string; tried: string[] };

/** The names an alert's runbook file may have: as written, lower case, kebab-case and snake_case. */
export function runbookFileNames(alert: string): string[] {
  const kebab = alert.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
  const names = [...new Set([alert, alert.toLowerCase(), kebab, kebab.replace(/-/g, "_")])];
  return names.flatMap((name) => RUNBOOK_EXTENSIONS.map((ext) => `${name}${ext}`));
}

/**
 * Finds the runbook of one alert. The annotation wins when present (it is what the notification links to): a path
 * is resolved against operations.runbooks, then the spec's folder; nothing else is tried for it.
 */
export async function locateRunbook(
  alert: string,
  annotations: Record<string, string>,
  specDir: string,
  runbookDir: string | null,
): Promise<RunbookLocation> {
  const annotationName = annotations.runbook_url !== undefined ? "runbook_url" : "runbook";
  const value = (annotations.runbook_url ?? annotations.runbook ?? "").trim();
  if (value) {
    if (/^https?:\/\//i.test(value)) return { kind: "url", annotation: annotationName, url: value };
    const candidates = localCandidates(value, specDir, runbookDir);
    for (const file of candidates) {
      if (await isFile(file)) return { kind: "file", annotation: annotationName, file, tried: candidates };
    }
    return {
      kind: "missing",
      annotation: annotationName,
      ...(/^[a-z][a-z0-9+.-]*:/i.test(value) && !value.startsWith("file:") ? { url: value } : {}),
      tried: candidates,
    };
  }
  if (!runbookDir) return { kind: "missing", tried: [] };
  const tried = runbookFileNames(alert).map((name) => path.join(runbookDir, name));
  for (const file of tried) if (await isFile(file)) return { kind: "file", file, tried };
  return { kind: "missing", tried };
}

function localCandidates(value: string, specDir: string, runbookDir: string | null): string[] {
  if (value.startsWith("file:")) {
    try {
      return [fileURLToPath(value)];
    } catch {
      return [new URL(value).pathname];
    }
  }
  // Something like "wiki:ApiDown" or "mailto:" is no file; it is reported as not found where it was looked for.
  const bare = value.split("#")[0]!;
  return [...new Set([path.resolve(runbookDir ?? specDir, bare), path.resolve(specDir, bare)])];
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isFile() ?? false;
}
