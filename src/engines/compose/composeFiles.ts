// Which compose projects a spec deploys. deployment.compose entries (paths, folders or globs, relative to the spec's
// folder) that sit in the same folder form one project, in the order listed (`docker compose -f a -f b`); a project
// of one default-named file also gets its `.override` file when there is one, as `docker compose` picks it up by
// itself. Without deployment.compose, the compose file `docker compose` would find in system.repo (or the spec's
// folder) is the project: a stack in the repository is deployed whether the spec mentions it or not.
import { stat } from "node:fs/promises";
import path from "node:path";
import type { Spec } from "../../spec/schema.js";
import { expandPattern } from "../files/glob.js";

/** compose's own search order for a project folder. */
export const DEFAULT_COMPOSE_FILES = [
  "compose.yaml",
  "compose.yml",
  "docker-compose.yaml",
  "docker-compose.yml",
];

export interface ComposeProjects {
  /** Whether deployment.compose names the files (false: found in the repository by compose's own rule). */
  declared: boolean;
  /** deployment.compose entries that match no file. */
  missing: string[];
  /** Absolute file paths of each project, base file first. */
  projects: string[][];
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isFile() ?? false;
}

async function isFolder(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isDirectory() ?? false;
}

/** The file `docker compose` would pick in a folder, or undefined. */
export async function defaultComposeFile(folder: string): Promise<string | undefined> {
  for (const name of DEFAULT_COMPOSE_FILES) {
    const file = path.join(folder, name);
    if (await isFile(file)) return file;
  }
  return undefined;
}

/** compose.yaml → compose.override.yaml (same extension), when it exists. */
async function overrideOf(file: string): Promise<string | undefined> {
  const name = path.basename(file);
  if (!DEFAULT_COMPOSE_FILES.includes(name)) return undefined;
  const extension = path.extname(name);
  const candidate = path.join(path.dirname(file), `${name.slice(0, -extension.length)}.override${extension}`);
  return (await isFile(candidate)) ? candidate : undefined;
}

export async function composeProjectsOf(spec: Spec, specDir: string): Promise<ComposeProjects> {
  const entries = spec.deployment?.compose ?? [];
  if (entries.length === 0) {
    const repo = path.resolve(specDir, spec.system.repo ?? ".");
    const found = (await defaultComposeFile(repo)) ?? (await defaultComposeFile(specDir));
    if (!found) return { declared: false, missing: [], projects: [] };
    const override = await overrideOf(found);
    return { declared: false, missing: [], projects: [override ? [found, override] : [found]] };
  }
  const missing: string[] = [];
  const byFolder = new Map<string, string[]>();
  for (const entry of entries) {
    const absolute = path.resolve(specDir, entry);
    let files: string[];
    if (await isFolder(absolute)) {
      const found = await defaultComposeFile(absolute);
      files = found ? [found] : [];
    } else {
      files = await expandPattern(specDir, entry);
    }
    if (files.length === 0) missing.push(entry);
    for (const file of files) {
      const folder = path.dirname(file);
      const list = byFolder.get(folder) ?? [];
      if (!list.includes(file)) list.push(file);
      byFolder.set(folder, list);
    }
  }
  const projects: string[][] = [];
  for (const files of byFolder.values()) {
    if (files.length === 1) {
      const override = await overrideOf(files[0]!);
      if (override) files.push(override);
    }
    projects.push(files);
  }
  return { declared: true, missing, projects };
}
