// The files of a project that say how it is built, deployed, monitored and operated, found by name and (for YAML) by a
// look at their first lines: compose files, Kubernetes manifests, deploy and rollback scripts, package.json, an env
// example, Prometheus rule files, coverage reports, runbook and backup folders, CI pipelines. A bounded walk that
// skips dependency, build-output, test-fixture and example folders (what is there is not what this system ships) and hidden
// folders other than .github. Used by `gauntlet init`; it reads, never writes.
import type { Dirent } from "node:fs";
import { open, readdir } from "node:fs/promises";
import path from "node:path";

const MAX_DEPTH = 5;
const MAX_ENTRIES = 20_000;
/** Bytes read from a YAML or XML file to decide what it is. */
const PEEK_BYTES = 64 * 1024;

const SKIPPED = new Set([
  "node_modules",
  "bower_components",
  "vendor",
  "dist",
  "build",
  "target",
  "out",
  ".venv",
  "venv",
  "__pycache__",
  "test",
  "tests",
  "__tests__",
  "fixtures",
  "__fixtures__",
  "testdata",
  "charts",
  "examples",
]);

const COMPOSE_NAME = /^(?:docker-)?compose(?:\.[\w-]+)?\.ya?ml$/i;
/** The files compose reads without -f, in its order of preference, and the override it adds to the first. */
const COMPOSE_DEFAULTS = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"];
const OVERRIDES = [
  "compose.override.yaml",
  "compose.override.yml",
  "docker-compose.override.yaml",
  "docker-compose.override.yml",
];
const ENV_EXAMPLES = [
  ".env.example",
  ".env.sample",
  ".env.template",
  ".env.dist",
  "env.example",
  "example.env",
];
const SCRIPT_FOLDERS = new Set(["scripts", "script", "bin", "deploy", "deployment", "ops", "tools", "ci"]);

export interface ComposeSet {
  /** Folder, relative to the project root ("" for the root). */
  folder: string;
  /** The files compose loads there without -f: the default file and its override. */
  files: string[];
}

export interface ProjectFiles {
  /** Every compose file found (variants such as compose.prod.yaml too), relative, sorted. */
  composeFiles: string[];
  /** Per folder, what `docker compose up` would load there. */
  composeSets: ComposeSet[];
  kubernetes: string[];
  deployScripts: string[];
  rollbackScripts: string[];
  packageJson?: string;
  envExample?: string;
  ruleFiles: string[];
  coverageReports: { path: string; format: "lcov" | "cobertura" | "jacoco" }[];
  runbooks?: string;
  backupFolders: string[];
  ci: string[];
  /** The walk stopped at its limit: something may be missing. */
  truncated: boolean;
}

/** Files under `root`, relative with forward slashes, down to MAX_DEPTH folders, without skipped folders. */
async function listFiles(root: string): Promise<{ files: string[]; folders: string[]; truncated: boolean }> {
  const files: string[] = [];
  const folders: string[] = [];
  let seen = 0;
  let truncated = false;
  const visit = async (relative: string, depth: number): Promise<void> => {
    const entries = await readdir(path.join(root, relative), { withFileTypes: true }).catch(
      () => [] as Dirent[],
    );
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (++seen > MAX_ENTRIES) {
        truncated = true;
        return;
      }
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        const hidden = entry.name.startsWith(".") && !(depth === 0 && entry.name === ".github");
        if (hidden || SKIPPED.has(entry.name) || depth >= MAX_DEPTH) continue;
        folders.push(child);
        await visit(child, depth + 1);
      } else if (entry.isFile()) {
        files.push(child);
      }
    }
  };
  await visit("", 0);
  return { files, folders, truncated };
}

async function peek(file: string): Promise<string> {
  const handle = await open(file, "r").catch(() => null);
  if (!handle) return "";
  try {
    const buffer = Buffer.alloc(PEEK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, PEEK_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

const base = (file: string) => file.slice(file.lastIndexOf("/") + 1);
const folderOf = (file: string) => (file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : "");
const depthOf = (file: string) => file.split("/").length - 1;

export async function findProjectFiles(root: string): Promise<ProjectFiles> {
  const { files, folders, truncated } = await listFiles(root);
  const found: ProjectFiles = {
    composeFiles: [],
    composeSets: [],
    kubernetes: [],
    deployScripts: [],
    rollbackScripts: [],
    ruleFiles: [],
    coverageReports: [],
    backupFolders: [],
    ci: [],
    truncated,
  };
  for (const file of files) {
    const name = base(file);
    const lower = name.toLowerCase();
    const folder = folderOf(file);
    const topFolder = file.split("/")[0]!;
    if (COMPOSE_NAME.test(name)) {
      found.composeFiles.push(file);
      continue;
    }
    if (file === "package.json") found.packageJson = file;
    if (!found.envExample && folder === "" && ENV_EXAMPLES.includes(name)) found.envExample = file;
    if (folder === ".github/workflows" && /\.ya?ml$/.test(lower)) found.ci.push(file);
    if (file === ".gitlab-ci.yml") found.ci.push(file);
    const script =
      /\.(?:sh|bash)$/.test(lower) ||
      (folder.split("/").some((f) => SCRIPT_FOLDERS.has(f)) && !lower.includes("."));
    const inScriptPlace = folder === "" || folder.split("/").some((f) => SCRIPT_FOLDERS.has(f));
    if (script && inScriptPlace && /^deploy/.test(lower)) found.deployScripts.push(file);
    else if (script && inScriptPlace && /^rollback/.test(lower)) found.rollbackScripts.push(file);
    else if (script && (topFolder === "deploy" || topFolder === "deployment") && depthOf(file) === 1) {
      found.deployScripts.push(file);
    }
    if (lower === "lcov.info" || lower.endsWith(".lcov"))
      found.coverageReports.push({ path: file, format: "lcov" });
    if (/\.xml$/.test(lower) && /(?:coverage|cobertura|jacoco)/.test(lower)) {
      const head = (await peek(path.join(root, file))).slice(0, 4096);
      if (/<coverage[\s>]/.test(head)) found.coverageReports.push({ path: file, format: "cobertura" });
      else if (/<report[\s>]/.test(head) && /jacoco/i.test(head))
        found.coverageReports.push({ path: file, format: "jacoco" });
    }
    if (/\.ya?ml$/.test(lower) && !found.ci.includes(file)) {
      const text = await peek(path.join(root, file));
      if (/^groups:\s*$/m.test(text) && /^\s+(?:-\s+)?rules:\s*$/m.test(text)) found.ruleFiles.push(file);
      else if (/^apiVersion:\s*\S/m.test(text) && /^kind:\s*\S/m.test(text) && !text.includes("{{")) {
        found.kubernetes.push(file);
      }
    }
  }
  for (const folder of folders) {
    const name = base(folder).toLowerCase();
    if (
      !found.runbooks &&
      (name === "runbooks" || name === "runbook") &&
      // Documents, not code: a source folder named runbooks (a runbook parser, say) is not one.
      files.some((f) => f.startsWith(`${folder}/`) && /\.(?:md|markdown|adoc|rst|txt)$/i.test(f))
    ) {
      found.runbooks = folder;
    }
    if ((name === "backups" || name === "backup") && depthOf(folder) <= 1) found.backupFolders.push(folder);
  }
  // The shallowest report first (coverage/lcov.info before a package's own).
  found.coverageReports.sort((a, b) => depthOf(a.path) - depthOf(b.path) || a.path.localeCompare(b.path));
  found.composeSets = composeSets(found.composeFiles);
  return found;
}

/** What compose loads in each folder that has a default compose file: it, then its override when there is one. */
function composeSets(composeFiles: readonly string[]): ComposeSet[] {
  const byFolder = new Map<string, string[]>();
  for (const file of composeFiles) {
    const folder = folderOf(file);
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), base(file)]);
  }
  const sets: ComposeSet[] = [];
  for (const [folder, names] of [...byFolder].sort(
    (a, b) => depthOf(a[0] || ".") - depthOf(b[0] || ".") || a[0].localeCompare(b[0]),
  )) {
    const main = COMPOSE_DEFAULTS.find((n) => names.includes(n)) ?? names.find((n) => !OVERRIDES.includes(n));
    if (!main) continue;
    const override = COMPOSE_DEFAULTS.includes(main) ? OVERRIDES.find((n) => names.includes(n)) : undefined;
    const join = (n: string) => (folder ? `${folder}/${n}` : n);
    sets.push({ folder, files: [join(main), ...(override ? [join(override)] : [])] });
  }
  return sets;
}
