// The files that define a system outside git, for the revision digest: the spec's patterns, walked like expandPattern
// but leaving out what is not the system (what .gitignore and revision.exclude leave out, dependencies, Gauntlet's own
// output) and what changes by itself (datastore data, sockets, pid files), which would make a certificate false the
// moment the system ran. A folder left out is never read, however large.
import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { datastoreFile, datastoreFolder, isRuntimeState } from "./datastoreData.js";
import { GitignoreRules } from "./gitignore.js";
import { CERTIFICATE_FILE, globToRegExp, isGlob, splitGlob, toPosix } from "./glob.js";

/** Why an entry was left out of the walk (reported as counts in the revision's `omitted`). */
export type OmissionReason =
  | "gitignore"
  | "revisionExclude"
  | "datastoreData"
  | "runtimeState"
  | "specialFile"
  | "folderLink"
  | "gauntletOutput"
  | "dependencies"
  | "vcs";

export interface SystemFilesOptions {
  /** The spec file: always hashed, whatever a rule says, since it is what describes the system. */
  specFile: string;
  /** The folder the patterns and revision.exclude are relative to (the spec's). */
  baseDir: string;
  /** The folder whose .gitignore applies first, as a repository's top folder would. */
  gitignoreTop: string;
  /** revision.exclude: paths or globs relative to baseDir. */
  exclude: readonly string[];
}

export interface SystemFiles {
  /** Absolute paths, sorted. */
  files: string[];
  /** Entries left out, by reason: a folder counts once, and nothing inside a folder left out is counted again. */
  omitted: Partial<Record<OmissionReason, number>>;
}

const SNIFF_CONCURRENCY = 16;
const FOLDERS_BY_NAME: Record<string, OmissionReason> = {
  ".git": "vcs",
  node_modules: "dependencies",
  ".gauntlet": "gauntletOutput",
};

/**
 * The files the patterns name that define the system. Which rules apply where:
 * - a plain path naming a file is hashed even when a .gitignore ignores it: the spec names it, so it is part of what
 *   the certificate describes (a gitignored coverage/lcov.info is exactly what a coverage check reads). Only
 *   revision.exclude, or the file being runtime state or datastore data itself, leaves it out;
 * - a folder the spec names, or a glob, is a walk: everything found below is filtered by every rule. The named folder
 *   itself is walked even if a .gitignore above ignores it (see GitignoreRules.forWalk);
 * - datastore data is left out wherever it sits, and revision.exclude wins over everything.
 */
export async function systemFiles(
  patterns: readonly string[],
  options: SystemFilesOptions,
): Promise<SystemFiles> {
  const walk = new SystemWalk(options);
  for (const pattern of patterns) await walk.add(pattern);
  return walk.result();
}

class SystemWalk {
  private readonly candidates = new Set<string>();
  private readonly omitted = new Map<string, { reason: OmissionReason; folder: boolean }>();
  private readonly visited = new Set<string>();
  private readonly excluded: (file: string, isFolder: boolean) => boolean;

  constructor(private readonly options: SystemFilesOptions) {
    this.excluded = excludeMatcher(options.baseDir, options.exclude);
  }

  async add(pattern: string): Promise<void> {
    const glob = splitGlob(this.options.baseDir, pattern);
    if (glob) return this.walk(glob.root, glob.matcher);
    const target = path.resolve(this.options.baseDir, pattern);
    const info = await stat(target).catch(() => null);
    if (!info) return;
    if (info.isDirectory()) return this.walk(target);
    if (this.excluded(target, false)) return this.omit(target, "revisionExclude");
    if (!info.isFile()) return this.omit(target, "specialFile");
    if (isRuntimeState(path.basename(target))) return this.omit(target, "runtimeState");
    this.candidates.add(target);
  }

  private async walk(root: string, matcher?: RegExp): Promise<void> {
    if (this.excluded(root, true)) return this.omit(root, "revisionExclude", true);
    const rules = await GitignoreRules.forWalk(this.options.gitignoreTop, root);
    await this.visit(root, root, rules, matcher);
  }

  private async visit(root: string, dir: string, rules: GitignoreRules, matcher?: RegExp): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
    // A run copied with --out is written after the digest: hashing it would fail every later verification.
    if (dir !== root && entries.some((e) => e.isFile() && e.name === CERTIFICATE_FILE)) {
      return this.omit(dir, "gauntletOutput", true);
    }
    if (await datastoreFolder(dir, entries)) return this.omit(dir, "datastoreData", true);
    this.visited.add(dir);
    const inner = await rules.enter(
      dir,
      entries.some((e) => e.isFile() && e.name === ".gitignore"),
    );
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        const reason = this.folderReason(file, inner);
        if (reason) this.omit(file, reason, true);
        else await this.visit(root, file, inner, matcher);
        continue;
      }
      // Links are followed to files only: a folder link can loop or lead anywhere on the machine.
      const info = entry.isSymbolicLink() ? await stat(file).catch(() => null) : entry;
      if (!info) continue;
      if (info.isDirectory()) {
        this.omit(file, "folderLink", true);
        continue;
      }
      if (matcher && !matcher.test(toPosix(path.relative(root, file)))) continue;
      const reason = this.fileReason(file, inner, !info.isFile());
      if (reason) this.omit(file, reason);
      else this.candidates.add(file);
    }
  }

  /** Cheap checks first, none of which reads the folder: a folder left out here is never listed. */
  private folderReason(folder: string, rules: GitignoreRules): OmissionReason | undefined {
    const byName = FOLDERS_BY_NAME[path.basename(folder)];
    if (byName) return byName;
    if (this.excluded(folder, true)) return "revisionExclude";
    if (rules.ignores(folder, true)) return "gitignore";
    return undefined;
  }

  private fileReason(file: string, rules: GitignoreRules, special: boolean): OmissionReason | undefined {
    if (this.excluded(file, false)) return "revisionExclude";
    if (rules.ignores(file, false)) return "gitignore";
    if (special) return "specialFile";
    if (isRuntimeState(path.basename(file))) return "runtimeState";
    return undefined;
  }

  private omit(file: string, reason: OmissionReason, folder = false): void {
    if (!this.omitted.has(file)) this.omitted.set(file, { reason, folder });
  }

  async result(): Promise<SystemFiles> {
    this.candidates.delete(this.options.specFile);
    const candidates = [...this.candidates].sort();
    const isData = await mapLimit(
      candidates,
      SNIFF_CONCURRENCY,
      async (file) => (await datastoreFile(file)) !== undefined,
    );
    const files = candidates.filter((file, i) => {
      if (isData[i]) this.omit(file, "datastoreData");
      return !isData[i];
    });
    files.push(this.options.specFile);
    files.sort();
    return { files, omitted: this.countOmitted(new Set(files)) };
  }

  /** One count per entry left out: not what another pattern hashed or walked, nor what lies in a folder left out. */
  private countOmitted(hashed: ReadonlySet<string>): Partial<Record<OmissionReason, number>> {
    const left = [...this.omitted].filter(
      ([file, { folder }]) => !hashed.has(file) && !(folder && this.visited.has(file)),
    );
    const folders = new Set(left.filter(([, { folder }]) => folder).map(([file]) => file));
    const counts: Partial<Record<OmissionReason, number>> = {};
    for (const [file, { reason }] of left) {
      if (hasAncestorIn(file, folders)) continue;
      counts[reason] = (counts[reason] ?? 0) + 1;
    }
    return counts;
  }
}

function hasAncestorIn(file: string, folders: ReadonlySet<string>): boolean {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (folders.has(dir)) return true;
  }
  return false;
}

/** revision.exclude as a test on absolute paths: a plain path leaves out a file or folder, `dir/**` the folder too. */
function excludeMatcher(
  baseDir: string,
  patterns: readonly string[],
): (file: string, isFolder: boolean) => boolean {
  const tests = patterns.map((pattern) => {
    const normal = toPosix(path.relative(baseDir, path.resolve(baseDir, pattern)));
    if (!isGlob(normal))
      return (relative: string) => relative === normal || relative.startsWith(`${normal}/`);
    const whole = globToRegExp(normal);
    const folder = normal.endsWith("/**") ? globToRegExp(normal.slice(0, -3)) : undefined;
    return (relative: string, isFolder: boolean) =>
      whole.test(relative) || (isFolder && folder?.test(relative) === true);
  });
  return (file, isFolder) => {
    const relative = toPosix(path.relative(baseDir, file));
    return tests.some((test) => test(relative, isFolder));
  };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
