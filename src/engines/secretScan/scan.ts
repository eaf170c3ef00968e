// The secret scan of a repository: the working tree under security.scan.paths, then every blob of the git history
// that the working tree does not hold at the same content. Used by the noSecretsInRepository check and by
// `gauntlet secrets`. Every value found is registered with the caller's redactor the moment it is found; what this
// returns is masked (first characters and "…"), fingerprinted, and never the value.
//
// One finding per location in the working tree (each place must be edited); one per secret in history (history is
// not edited, the secret is rotated): its first commit and path, and how many blobs hold it. A secret still in the
// working tree is reported there and not again for its history.
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { SecretSink } from "../../secrets/redactor.js";
import { toPosix } from "../files/glob.js";
import { excludeMatcher } from "../files/scanExclude.js";
import { type BaselineRead, fingerprint, readBaseline } from "./baseline.js";
import type { Detection } from "./detect.js";
import { DetectPool, defaultPoolSize } from "./detectPool.js";
import {
  blobSizes,
  commitCount,
  gitRepositoryOf,
  type IntroducedBlob,
  listHistory,
  readBlobs,
} from "./gitHistory.js";
import { isKeyFileName } from "./privateKeys.js";
import type { Severity } from "./rules.js";
import { type ExclusionReason, folderNameReason, listWorktree } from "./worktree.js";

export const DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024;
/** Time kept after a scan stopped at the deadline, to write the evidence and judge. */
const DEADLINE_RESERVE_MS = 3_000;
const BINARY_SNIFF = 8000;
const SHORT_COMMIT = 12;
const LISTED_EXAMPLES = 20;
const KEY_STORE_EXTENSIONS = new Set([".p12", ".pfx"]);
const READ_AHEAD = 16;

export interface ScanOptions {
  /** Absolute: system.repo resolved against the spec's folder. Findings' paths are relative to it. */
  repoDir: string;
  /** security.scan.paths, relative to repoDir. */
  paths: readonly string[];
  exclude: readonly string[];
  history: boolean;
  maxFileSize: number;
  /** security.scan.baseline, absolute, and as written in the spec. */
  baseline?: { file: string; display: string };
  secrets: SecretSink;
  /** Epoch ms; the scan stops before it and says what it left. */
  deadline?: number;
  signal?: AbortSignal;
  /** Worker threads for detection (0: on this thread); default: the cores less one, 1 to 4. */
  threads?: number;
  /** Called once the working tree is scanned, with what is known so far (the check keeps it as its partial). */
  onFilesDone?: (partial: ScanResult) => Promise<void> | void;
}

export interface ScanFinding {
  ruleId: string;
  engine: "secretlint" | "gauntlet";
  label: string;
  severity: Severity;
  /** Relative to the repository folder, forward slashes; for history, the path in that commit. */
  path: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  masked: string;
  fingerprint: string;
  baselined: boolean;
  /** Set for a secret found only in history. */
  commit?: string;
  commitDate?: string;
  /** History: how many blobs (versions of files) hold this secret. */
  occurrences?: number;
  /** The file's name is a private key's (id_rsa, id_ed25519, *.ppk). */
  keyFile?: boolean;
  encrypted?: boolean | null;
}

export interface PathResult {
  path: string;
  state: "scanned" | "missing";
  /** How its files were listed: `git ls-files`, a walk with .gitignore rules, or the file itself. */
  listedBy?: "git" | "walk" | "file";
}

export type HistoryState = "scanned" | "disabled" | "notGit" | "unavailable";

export interface RepositoryHistory {
  /** The git top folder, relative to the repository folder ("." when they are the same). */
  top: string;
  shallow: boolean;
  commits: number;
  /** Unique blobs under the scanned paths. */
  blobs: number;
  scannedBlobs: number;
  bytes: number;
  skipped: Partial<Record<"inWorktree" | "binary" | "tooLarge" | "excluded", number>>;
}

export interface ScanResult {
  repoDir: string;
  paths: PathResult[];
  files: {
    scanned: number;
    bytes: number;
    skipped: Partial<Record<"binary" | "tooLarge" | "unreadable", number>>;
    excluded: Partial<Record<ExclusionReason, number>>;
    /** The first files skipped for size (they may hold a secret: they were not read). */
    tooLarge: string[];
  };
  history: { state: HistoryState; reason?: string; repositories: RepositoryHistory[] };
  baseline: {
    file?: string;
    state: "none" | "read" | "missing" | "invalid";
    error?: string;
    entries: number;
    matched: number;
    /** Entries no finding matched (only known when the scan is complete). */
    stale: { fingerprint: string; ruleId: string; path: string }[];
  };
  findings: ScanFinding[];
  /** Set when the scan stopped before the end (deadline or cancel): what was not scanned. */
  incomplete?: { phase: "files" | "history"; reason: string; filesLeft: number; blobsLeft: number };
  maxFileSize: number;
  durationMs: number;
}

export async function scanRepository(options: ScanOptions): Promise<ScanResult> {
  const started = Date.now();
  const deadline = (options.deadline ?? Number.POSITIVE_INFINITY) - DEADLINE_RESERVE_MS;
  const outOfTime = () => options.signal?.aborted === true || Date.now() > deadline;
  const stopReason = () => (options.signal?.aborted ? "cancelled" : "the check's time limit was reached");
  const excluded = excludeMatcher(options.exclude);
  const relative = (absolute: string) => toPosix(path.relative(options.repoDir, absolute)) || ".";

  const result: ScanResult = {
    repoDir: options.repoDir,
    paths: [],
    files: { scanned: 0, bytes: 0, skipped: {}, excluded: {}, tooLarge: [] },
    history: { state: options.history ? "notGit" : "disabled", repositories: [] },
    baseline: { state: "none", entries: 0, matched: 0, stale: [] },
    findings: [],
    maxFileSize: options.maxFileSize,
    durationMs: 0,
  };

  const accepted = new Set<string>();
  const matched = new Set<string>();
  let baseline: BaselineRead | undefined;
  if (options.baseline) {
    baseline = await readBaseline(options.baseline.file);
    result.baseline.file = options.baseline.display;
    result.baseline.state = baseline.state;
    if (baseline.state === "read") {
      for (const entry of baseline.entries) accepted.add(entry.fingerprint);
      result.baseline.entries = accepted.size;
    } else result.baseline.error = baseline.error;
  }
  const isAccepted = (print: string) => {
    if (!accepted.has(print)) return false;
    matched.add(print);
    return true;
  };
  const register = (d: Detection) => {
    for (const value of d.redact) options.secrets.add(value);
  };

  // The working tree, path by path; a file named by two paths is read once.
  const files = new Map<string, { size: number }>();
  const repositories = new Map<string, { shallow: boolean; targets: string[] }>();
  const outputFolders: string[] = [];
  let historyProblem: string | undefined;
  for (const entry of options.paths) {
    const target = path.resolve(options.repoDir, entry);
    const info = await stat(target).catch(() => null);
    if (!info) {
      result.paths.push({ path: entry, state: "missing" });
      continue;
    }
    // A folder is listed the way git would commit it; a named file is read as it is.
    const needsGit = options.history || info.isDirectory();
    const lookup = needsGit
      ? await gitRepositoryOf(info.isDirectory() ? target : path.dirname(target), options.signal)
      : undefined;
    const repository = lookup?.state === "repository" ? lookup.repository : null;
    if (options.history && lookup) {
      if (repository) {
        const known = repositories.get(repository.top) ?? { shallow: repository.shallow, targets: [] };
        known.targets.push(target);
        repositories.set(repository.top, known);
      } else if (lookup.state === "gitMissing" || lookup.state === "error") {
        // Without git, a .git folder above says there is a history that cannot be read.
        if (lookup.state === "error" || (await hasGitFolder(target))) historyProblem ??= lookup.error;
      }
    }
    if (!info.isDirectory()) {
      result.paths.push({ path: entry, state: "scanned", listedBy: "file" });
      files.set(target, { size: info.size });
      continue;
    }
    const listing = await listWorktree(target, {
      repoDir: options.repoDir,
      excluded,
      gitTop: repository?.top ?? null,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    result.paths.push({ path: entry, state: "scanned", listedBy: listing.listedBy });
    for (const [reason, n] of Object.entries(listing.excluded)) {
      const key = reason as ExclusionReason;
      result.files.excluded[key] = (result.files.excluded[key] ?? 0) + n;
    }
    for (const file of listing.files) files.set(file.absolute, { size: file.size });
    outputFolders.push(...listing.outputFolders);
  }

  const worktreeBlobs = new Set<string>();
  const worktreeSecrets = new Set<string>();
  const skip = (reason: keyof ScanResult["files"]["skipped"]) => {
    result.files.skipped[reason] = (result.files.skipped[reason] ?? 0) + 1;
  };
  const ordered = [...files.entries()].sort(([a], [b]) => a.localeCompare(b));
  const pool = new DetectPool(options.threads ?? defaultPoolSize());
  try {
    // Read in order, detect on the pool's threads, then take the results in order again.
    const scanned: { file: string; detections: Promise<Detection[]> }[] = [];
    // A few reads ahead of the one being handed over: one file at a time leaves the threads waiting on the disk.
    const reads = new Map<number, Promise<Buffer | null>>();
    const readAhead = (from: number) => {
      for (let i = from; i < Math.min(ordered.length, from + READ_AHEAD); i++) {
        const [absolute, { size }] = ordered[i]!;
        if (!reads.has(i) && size <= options.maxFileSize) {
          const read = readFile(absolute).catch(() => null);
          reads.set(i, read);
        }
      }
    };
    for (const [index, [absolute, { size }]] of ordered.entries()) {
      readAhead(index);
      if (outOfTime()) {
        result.incomplete = {
          phase: "files",
          reason: stopReason(),
          filesLeft: ordered.length - index,
          blobsLeft: 0,
        };
        break;
      }
      const file = relative(absolute);
      if (size > options.maxFileSize) {
        skip("tooLarge");
        if (result.files.tooLarge.length < LISTED_EXAMPLES) result.files.tooLarge.push(file);
        continue;
      }
      const bytes = await reads.get(index)!;
      reads.delete(index);
      if (!bytes) {
        skip("unreadable");
        continue;
      }
      worktreeBlobs.add(gitBlobId(bytes));
      const binary = isBinary(bytes);
      if (binary && !KEY_STORE_EXTENSIONS.has(path.extname(absolute).toLowerCase())) {
        skip("binary");
        continue;
      }
      result.files.scanned++;
      result.files.bytes += bytes.length;
      await pool.ready();
      const detections = pool.detect(
        binary ? { file, bytes, physicalPath: absolute, binary } : { file, bytes },
      );
      detections.catch(() => {}); // awaited below, in order
      scanned.push({ file, detections });
    }
    for (const { file, detections } of scanned) {
      for (const d of await detections) {
        register(d);
        worktreeSecrets.add(d.secretHash);
        const print = fingerprint(d.ruleId, file, d.secretHash);
        result.findings.push(findingOf(d, file, print, isAccepted(print)));
      }
    }

    if (options.history) {
      if (historyProblem) {
        result.history = { state: "unavailable", reason: historyProblem, repositories: [] };
      } else if (repositories.size > 0) {
        result.history.state = "scanned";
      }
    }
    const historyToScan = options.history && repositories.size > 0 && result.history.state === "scanned";
    if (!result.incomplete && options.onFilesDone) {
      const partial = finish(result, started, baseline, matched);
      if (historyToScan) {
        partial.incomplete = {
          phase: "history",
          reason: "stopped before the history was scanned",
          filesLeft: 0,
          blobsLeft: 0,
        };
        partial.baseline.stale = [];
      }
      await options.onFilesDone(partial);
    }

    if (historyToScan && !result.incomplete) {
      for (const [top, { shallow, targets }] of repositories) {
        const scannedHistory = await scanHistory({
          top,
          shallow,
          targets,
          options,
          pool,
          excluded,
          outputFolders,
          relative,
          worktreeBlobs,
          worktreeSecrets,
          outOfTime,
          stopReason,
          register,
          isAccepted,
          findings: result.findings,
        }).catch((error: Error) => ({ error: error.message.split("\n")[0]! }));
        if ("error" in scannedHistory) {
          result.history.state = "unavailable";
          result.history.reason = `git could not read the history of ${relative(top)}: ${scannedHistory.error}`;
          continue;
        }
        result.history.repositories.push(scannedHistory.history);
        if (scannedHistory.incomplete) {
          result.incomplete = scannedHistory.incomplete;
          break;
        }
      }
    }
  } finally {
    await pool.close();
  }
  return finish(result, started, baseline, matched);
}
function finish(
  result: ScanResult,
  started: number,
  baseline: BaselineRead | undefined,
  matched: ReadonlySet<string>,
): ScanResult {
  result.baseline.matched = matched.size;
  result.baseline.stale =
    baseline?.state === "read" && !result.incomplete
      ? baseline.entries
          .filter((e) => !matched.has(e.fingerprint))
          .map((e) => ({ fingerprint: e.fingerprint, ruleId: e.ruleId, path: e.path }))
      : [];
  result.durationMs = Date.now() - started;
  return structuredClone(result);
}

interface HistoryScan {
  top: string;
  shallow: boolean;
  targets: string[];
  options: ScanOptions;
  pool: DetectPool;
  excluded: (relativeToRepo: string) => boolean;
  /** Gauntlet output folders of the working tree (a run copied with --out and committed). */
  outputFolders: readonly string[];
  relative: (absolute: string) => string;
  worktreeBlobs: ReadonlySet<string>;
  worktreeSecrets: ReadonlySet<string>;
  outOfTime: () => boolean;
  stopReason: () => string;
  register: (d: Detection) => void;
  isAccepted: (print: string) => boolean;
  findings: ScanFinding[];
}

async function scanHistory(
  scan: HistoryScan,
): Promise<{ history: RepositoryHistory; incomplete?: ScanResult["incomplete"] }> {
  const { top, options } = scan;
  const signal = options.signal;
  const prefixes = scan.targets.map((t) => toPosix(path.relative(top, t)));
  const whole = prefixes.some((p) => p === "");
  const history: RepositoryHistory = {
    top: scan.relative(top),
    shallow: scan.shallow,
    commits: await commitCount(top, signal),
    blobs: 0,
    scannedBlobs: 0,
    bytes: 0,
    skipped: {},
  };
  const listing = await listHistory(top, whole ? [] : [...new Set(prefixes)], signal);
  history.blobs = listing.blobs.length;
  const skip = (reason: keyof RepositoryHistory["skipped"]) => {
    history.skipped[reason] = (history.skipped[reason] ?? 0) + 1;
  };
  const wanted = listing.blobs.filter((b) => {
    if (scan.worktreeBlobs.has(b.blob)) {
      skip("inWorktree");
      return false;
    }
    const absolute = path.join(top, b.path);
    const target = scan.targets.find((t) => absolute === t || absolute.startsWith(`${t}${path.sep}`)) ?? top;
    if (
      folderNameReason(toPosix(path.relative(target, absolute))) ||
      scan.excluded(scan.relative(absolute)) ||
      scan.outputFolders.some((dir) => absolute.startsWith(`${dir}${path.sep}`))
    ) {
      skip("excluded");
      return false;
    }
    return true;
  });
  const sizes = await blobSizes(
    top,
    wanted.map((b) => b.blob),
    signal,
  );
  const toRead = wanted.filter((b) => {
    if ((sizes.get(b.blob) ?? 0) <= options.maxFileSize) return true;
    skip("tooLarge");
    return false;
  });
  const introduced = new Map(toRead.map((b) => [b.blob, b]));
  let incomplete: ScanResult["incomplete"];
  let done = 0;
  // In the order git streams them (oldest introduction first), so the first occurrence of a secret is its origin.
  const scanned: { origin: IntroducedBlob; file: string; detections: Promise<Detection[]> }[] = [];
  const { stopped } = await readBlobs(
    top,
    toRead.map((b) => b.blob),
    async (blob, content) => {
      if (scan.outOfTime()) {
        incomplete = {
          phase: "history",
          reason: scan.stopReason(),
          filesLeft: 0,
          blobsLeft: toRead.length - done,
        };
        return false;
      }
      done++;
      if (isBinary(content)) {
        skip("binary");
        return true;
      }
      const origin = introduced.get(blob)!;
      const file = scan.relative(path.join(top, origin.path));
      history.scannedBlobs++;
      history.bytes += content.length;
      await scan.pool.ready();
      const detections = scan.pool.detect({ file, bytes: content });
      detections.catch(() => {}); // awaited below, in order
      scanned.push({ origin, file, detections });
      return true;
    },
    signal,
  );
  // One finding per secret (and rule): later blobs holding it count as occurrences of the first.
  const bySecret = new Map<string, ScanFinding>();
  for (const { origin, file, detections } of scanned) {
    for (const d of await detections) {
      scan.register(d);
      if (scan.worktreeSecrets.has(d.secretHash)) continue;
      const key = `${d.ruleId}\n${d.secretHash}`;
      const first = bySecret.get(key);
      if (first) {
        first.occurrences = (first.occurrences ?? 1) + 1;
        continue;
      }
      // Known by its first occurrence: that is the path a baseline written from this scan names.
      const print = fingerprint(d.ruleId, file, d.secretHash);
      const finding: ScanFinding = {
        ...findingOf(d, file, print, scan.isAccepted(print)),
        commit: origin.commit.slice(0, SHORT_COMMIT),
        commitDate: new Date(origin.time * 1000).toISOString(),
        occurrences: 1,
      };
      bySecret.set(key, finding);
      scan.findings.push(finding);
    }
  }
  if (stopped && !incomplete) {
    incomplete = {
      phase: "history",
      reason: scan.stopReason(),
      filesLeft: 0,
      blobsLeft: toRead.length - done,
    };
  }
  return { history, ...(incomplete ? { incomplete } : {}) };
}

function findingOf(d: Detection, file: string, print: string, baselined: boolean): ScanFinding {
  return {
    ruleId: d.ruleId,
    engine: d.engine,
    label: d.label,
    severity: d.severity,
    path: file,
    line: d.line,
    column: d.column,
    endLine: d.endLine,
    endColumn: d.endColumn,
    masked: d.masked,
    fingerprint: print,
    baselined,
    ...(isKeyFileName(path.posix.basename(file)) ? { keyFile: true } : {}),
    ...(d.encrypted !== undefined ? { encrypted: d.encrypted } : {}),
  };
}

/** git's heuristic: a NUL byte in the first 8000 bytes. */
function isBinary(bytes: Buffer): boolean {
  return bytes.subarray(0, BINARY_SNIFF).includes(0);
}

/** The id git gives this content as a blob, so history blobs equal to a working-tree file are not read twice. */
function gitBlobId(bytes: Buffer): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

async function hasGitFolder(dir: string): Promise<boolean> {
  for (let at = dir; ; at = path.dirname(at)) {
    if (await stat(path.join(at, ".git")).catch(() => null)) return true;
    if (path.dirname(at) === at) return false;
  }
}
