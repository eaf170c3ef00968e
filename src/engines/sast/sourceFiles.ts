// The source files the SAST rule pack reads: security.scan.paths (relative to system.repo), walked without following
// folder links, leaving out what is not the system's own code — .gitignore'd paths, security.scan.exclude
// (paths or globs relative to the repo), dependencies (node_modules, vendor, virtualenvs), build output,
// declaration files and files over the size cap — each counted by reason. Files of languages the pack does not cover
// (Go, Java, …) are counted too, so a repository of them is never taken for one without code.

import type { Dirent } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { GitignoreRules } from "../files/gitignore.js";
import { CERTIFICATE_FILE, isInside, splitGlob, toPosix } from "../files/glob.js";
import { excludeMatcher } from "../files/scanExclude.js";
import type { SastLanguage } from "./rules.js";

export type SkipReason =
  | "gitignore"
  | "excluded"
  | "dependencies"
  | "buildOutput"
  | "vcs"
  | "gauntletOutput"
  | "declarations"
  | "minified"
  | "generated"
  | "tooLarge"
  | "folderLink"
  | "unreadable";

export interface SourceFile {
  /** Relative to the repo, forward slashes (what findings and SARIF show). */
  path: string;
  absolute: string;
  language: SastLanguage;
  bytes: number;
  /** Test code (test/, tests/, __tests__/, *.test.*, *.spec.*, test_*.py, *_test.py, conftest.py). */
  test: boolean;
}

export interface SourceInventory {
  roots: { path: string; found: boolean }[];
  files: SourceFile[];
  /** Source files of languages the pack has no rules for, by language. */
  unsupported: Record<string, number>;
  skipped: Partial<Record<SkipReason, number>>;
  /** Up to five paths per reason, so a surprising count can be looked into. */
  skippedExamples: Partial<Record<SkipReason, string[]>>;
}

export interface SourceWalkOptions {
  /** system.repo, absolute. */
  repoDir: string;
  /** security.scan.paths: folders, files or globs relative to the repo. */
  paths: readonly string[];
  /** security.scan.exclude: paths or globs relative to the repo (as the other security checks read them). */
  exclude: readonly string[];
  maxFileBytes: number;
  signal?: AbortSignal;
}

const BY_EXTENSION: Record<string, SastLanguage> = {
  ".js": "javascript",
  ".mjs": "javascript",
  ".cjs": "javascript",
  ".jsx": "javascript",
  ".ts": "typescript",
  ".mts": "typescript",
  ".cts": "typescript",
  ".tsx": "tsx",
  ".py": "python",
  ".pyw": "python",
};

/** Application code the pack cannot read; shell, config and markup are not counted. */
const UNSUPPORTED: Record<string, string> = {
  ".go": "go",
  ".java": "java",
  ".kt": "kotlin",
  ".kts": "kotlin",
  ".scala": "scala",
  ".groovy": "groovy",
  ".rb": "ruby",
  ".php": "php",
  ".cs": "csharp",
  ".fs": "fsharp",
  ".vb": "visualbasic",
  ".rs": "rust",
  ".c": "c",
  ".h": "c",
  ".cc": "cpp",
  ".cpp": "cpp",
  ".cxx": "cpp",
  ".hpp": "cpp",
  ".m": "objective-c",
  ".swift": "swift",
  ".dart": "dart",
  ".ex": "elixir",
  ".exs": "elixir",
  ".erl": "erlang",
  ".clj": "clojure",
  ".lua": "lua",
  ".pl": "perl",
  ".pm": "perl",
  ".r": "r",
  ".jl": "julia",
  ".vue": "vue",
  ".svelte": "svelte",
  ".astro": "astro",
};

const FOLDERS: Record<string, SkipReason> = {
  ".git": "vcs",
  ".hg": "vcs",
  ".svn": "vcs",
  node_modules: "dependencies",
  bower_components: "dependencies",
  jspm_packages: "dependencies",
  vendor: "dependencies",
  ".venv": "dependencies",
  venv: "dependencies",
  "site-packages": "dependencies",
  __pycache__: "dependencies",
  ".tox": "dependencies",
  ".nox": "dependencies",
  ".eggs": "dependencies",
  ".yarn": "dependencies",
  ".pnpm-store": "dependencies",
  dist: "buildOutput",
  build: "buildOutput",
  coverage: "buildOutput",
  ".next": "buildOutput",
  ".nuxt": "buildOutput",
  ".svelte-kit": "buildOutput",
  ".output": "buildOutput",
  ".turbo": "buildOutput",
  ".parcel-cache": "buildOutput",
  ".gauntlet": "gauntletOutput",
};

const TEST_FOLDERS = new Set(["test", "tests", "__tests__", "__mocks__", "testdata"]);

export function isTestPath(relative: string): boolean {
  const segments = relative.split("/");
  const name = segments.at(-1) ?? "";
  if (segments.slice(0, -1).some((s) => TEST_FOLDERS.has(s))) return true;
  return (
    /\.(test|spec)\.[cm]?[jt]sx?$/.test(name) ||
    /^test_.*\.py$/.test(name) ||
    /_test\.py$/.test(name) ||
    name === "conftest.py"
  );
}

/** The language of a file by its name; null for what the pack does not read. */
export function languageOf(name: string): SastLanguage | null {
  return BY_EXTENSION[path.extname(name).toLowerCase()] ?? null;
}

function unsupportedLanguageOf(name: string): string | null {
  return UNSUPPORTED[path.extname(name).toLowerCase()] ?? null;
}

function isExtensionless(name: string): boolean {
  return !name.startsWith(".") && path.extname(name) === "";
}

/** An extensionless script's language from its `#!` line (bin/server → node), if the pack reads it. */
async function shebangLanguage(file: string): Promise<SastLanguage | undefined> {
  const handle = await open(file, "r").catch(() => null);
  if (!handle) return undefined;
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(128), 0, 128, 0);
    const first = buffer.toString("utf8", 0, bytesRead).split("\n", 1)[0] ?? "";
    if (!first.startsWith("#!")) return undefined;
    if (/\b(node|nodejs|bun|deno)\b/.test(first)) return "javascript";
    if (/\b(ts-node|tsx)\b/.test(first)) return "typescript";
    if (/\bpython[0-9.]*\b/.test(first)) return "python";
    return undefined;
  } finally {
    await handle.close();
  }
}

function isDeclaration(name: string): boolean {
  return /\.d\.[cm]?ts$/.test(name);
}

/** `*.min.js`, `*-min.js`, `*.bundle.js`: shipped built, not written. */
function isMinifiedName(name: string): boolean {
  return /[.-]min\.[cm]?js$/.test(name) || /\.bundle\.[cm]?js$/.test(name);
}

/**
 * Whether a file's text says it was built rather than written: a source map reference (compiled or bundled output,
 * whose source is scanned where it lives) or minified lines (more than 500 characters a line on average).
 */
export function builtFromText(text: string): "minified" | "generated" | null {
  const tail = text.slice(-512);
  if (/^\/\/[#@] sourceMappingURL=/m.test(tail) || /\/\*[#@] sourceMappingURL=/.test(tail))
    return "generated";
  if (text.length > 5_000) {
    let lines = 1;
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
    if (text.length / lines > 500) return "minified";
  }
  return null;
}

export async function listSourceFiles(options: SourceWalkOptions): Promise<SourceInventory> {
  const walk = new SourceWalk(options);
  for (const entry of options.paths) await walk.add(entry);
  return walk.result();
}

class SourceWalk {
  private readonly files = new Map<string, SourceFile>();
  private readonly unsupported = new Map<string, Set<string>>();
  private readonly skipped = new Map<string, SkipReason>();
  private readonly roots: { path: string; found: boolean }[] = [];
  private readonly excludes: (relative: string) => boolean;

  constructor(private readonly options: SourceWalkOptions) {
    this.excludes = excludeMatcher(options.exclude);
  }

  async add(entry: string): Promise<void> {
    const { repoDir } = this.options;
    const glob = splitGlob(repoDir, entry);
    if (glob) {
      const info = await stat(glob.root).catch(() => null);
      this.roots.push({ path: entry, found: Boolean(info?.isDirectory()) });
      if (info?.isDirectory()) await this.walk(glob.root, glob.matcher);
      return;
    }
    const target = path.resolve(repoDir, entry);
    const info = await stat(target).catch(() => null);
    this.roots.push({ path: entry, found: info !== null });
    if (!info) return;
    if (info.isDirectory()) return this.walk(target);
    // A file the spec names is read even if .gitignore'd: the spec says it is part of the system.
    if (info.isFile()) this.consider(target, info.size, GitignoreRules.none, true);
  }

  private async walk(root: string, matcher?: RegExp): Promise<void> {
    const reason = this.folderReason(root, GitignoreRules.none, true);
    if (reason) return this.skip(root, reason);
    const rules = await GitignoreRules.forWalk(this.options.repoDir, root);
    await this.visit(root, root, rules, matcher);
  }

  private async visit(root: string, dir: string, rules: GitignoreRules, matcher?: RegExp): Promise<void> {
    this.options.signal?.throwIfAborted();
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => null);
    if (!entries) return this.skip(dir, "unreadable");
    // A run copied with --out holds Gauntlet's own evidence, never the system's code.
    if (dir !== root && entries.some((e) => e.isFile() && e.name === CERTIFICATE_FILE)) {
      return this.skip(dir, "gauntletOutput");
    }
    const inner = await rules.enter(
      dir,
      entries.some((e) => e.isFile() && e.name === ".gitignore"),
    );
    for (const entry of entries.sort(byName)) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        const reason = this.folderReason(file, inner, false);
        if (reason) this.skip(file, reason);
        else await this.visit(root, file, inner, matcher);
        continue;
      }
      if (matcher && !matcher.test(toPosix(path.relative(root, file)))) continue;
      // Only a file the pack reads or counts needs its size; a link needs to be told from a folder link.
      const counted = languageOf(entry.name) !== null || unsupportedLanguageOf(entry.name) !== null;
      const script = !counted && isExtensionless(entry.name);
      if (!counted && !script && !entry.isSymbolicLink()) continue;
      const info = await stat(file).catch(() => null);
      if (!info) continue;
      if (info.isDirectory()) {
        this.skip(file, "folderLink");
        continue;
      }
      if (!info.isFile()) continue;
      const language = script ? await shebangLanguage(file) : undefined;
      if (!script || language) this.consider(file, info.size, inner, false, language);
    }
  }

  private consider(
    file: string,
    bytes: number,
    rules: GitignoreRules,
    named: boolean,
    byShebang?: SastLanguage,
  ): void {
    const name = path.basename(file);
    const language = byShebang ?? languageOf(name);
    const relative = this.relative(file);
    if (!language) {
      const other = unsupportedLanguageOf(name);
      if (other && !this.isLeftOut(file, rules, named)) {
        const seen = this.unsupported.get(other) ?? new Set<string>();
        seen.add(relative);
        this.unsupported.set(other, seen);
      }
      return;
    }
    const reason = this.fileReason(file, name, bytes, rules, named);
    if (reason) this.skip(file, reason);
    else
      this.files.set(file, { path: relative, absolute: file, language, bytes, test: isTestPath(relative) });
  }

  private fileReason(
    file: string,
    name: string,
    bytes: number,
    rules: GitignoreRules,
    named: boolean,
  ): SkipReason | undefined {
    if (!named && rules.ignores(file, false)) return "gitignore";
    if (this.excluded(file)) return "excluded";
    if (isDeclaration(name)) return "declarations";
    if (isMinifiedName(name)) return "minified";
    if (bytes > this.options.maxFileBytes) return "tooLarge";
    return undefined;
  }

  private isLeftOut(file: string, rules: GitignoreRules, named: boolean): boolean {
    return (!named && rules.ignores(file, false)) || this.excluded(file);
  }

  private folderReason(folder: string, rules: GitignoreRules, isRoot: boolean): SkipReason | undefined {
    if (!isRoot) {
      const byName = FOLDERS[path.basename(folder)];
      if (byName) return byName;
    }
    if (this.excluded(folder)) return "excluded";
    if (!isRoot && rules.ignores(folder, true)) return "gitignore";
    return undefined;
  }

  private excluded(file: string): boolean {
    const { repoDir } = this.options;
    if (!isInside(repoDir, file) || file === repoDir) return false;
    return this.excludes(toPosix(path.relative(repoDir, file)));
  }

  private relative(file: string): string {
    return toPosix(path.relative(this.options.repoDir, file)) || path.basename(file);
  }

  private skip(file: string, reason: SkipReason): void {
    if (!this.skipped.has(file)) this.skipped.set(file, reason);
  }

  result(): SourceInventory {
    const skipped: Partial<Record<SkipReason, number>> = {};
    const skippedExamples: Partial<Record<SkipReason, string[]>> = {};
    for (const [file, reason] of [...this.skipped].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      // A file another root scanned was not left out.
      if (this.files.has(file)) continue;
      skipped[reason] = (skipped[reason] ?? 0) + 1;
      const examples = skippedExamples[reason] ?? [];
      if (examples.length < 5) examples.push(this.relative(file));
      skippedExamples[reason] = examples;
    }
    const files = [...this.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const unsupported = Object.fromEntries(
      [...this.unsupported].sort(([a], [b]) => a.localeCompare(b)).map(([lang, set]) => [lang, set.size]),
    );
    return { roots: this.roots, files, unsupported, skipped, skippedExamples };
  }
}

function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
