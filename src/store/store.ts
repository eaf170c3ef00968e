// Assessment history: every run is kept whole (the Assessment JSON) plus the columns that history listings, diffs
// and the dashboard filter on. SQLite in <cwd>/.gauntlet/history.db by default; PostgreSQL for teams.
import { closeSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Assessment, Revision, Verdict } from "../core/assessment.js";
import { type OutputModes, outputModes } from "../core/evidence.js";
import { UserError } from "../errors.js";
import { Redactor } from "../secrets/redactor.js";

export interface RunSummary {
  runId: string;
  system: string;
  verdict: Verdict;
  overall: number | null;
  coverage: number;
  /** ISO 8601, UTC. */
  startedAt: string;
  durationMs: number;
  revision: { kind: Revision["kind"]; digest: string };
  /** Number of checks in the run, N/A included. */
  checks: number;
  failed: number;
  /** UNVERIFIED and ERROR checks. */
  unverified: number;
}

export interface RunFilter {
  system?: string;
  /** Newest runs first; all runs when absent. */
  limit?: number;
}

export interface HistoryStore {
  /** Saves a run; saving a run id again replaces it. */
  save(a: Assessment): Promise<void>;
  /**
   * A run by full id, unique id prefix, `latest` or `latest~N` (N runs before the latest).
   * Undefined when nothing matches; throws AmbiguousRunIdError when a prefix matches several runs.
   */
  get(runIdOrPrefix: string): Promise<Assessment | undefined>;
  /** Newest first. */
  list(filter?: RunFilter): Promise<RunSummary[]>;
  /** Every run id, newest first: what short ids must be unique among. */
  runIds(): Promise<string[]>;
  /** The newest run (of one system, when given); offset 1 is the one before it, and so on. */
  latest(system?: string, offset?: number): Promise<Assessment | undefined>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Folder the default store and relative paths resolve against; process.cwd() when absent. */
  cwd?: string;
  /** Where a postgres:// URL's password is registered so no message shows it. */
  secrets?: Redactor;
  /** What a new SQLite file and its folder are created with; outputModes() (0600, 0700) when absent. */
  modes?: OutputModes;
}

export const DEFAULT_STORE_PATH = path.join(".gauntlet", "history.db");

/** A run reference that matches more than one run. */
export class AmbiguousRunIdError extends UserError {
  readonly prefix: string;
  /** The matching run ids, newest first. */
  readonly matches: string[];
  constructor(prefix: string, matches: string[], allRunIds: string[] = matches) {
    const short = shortRunIds(allRunIds);
    const listed = matches.slice(0, MAX_LISTED_MATCHES).map((id) => {
      const name = short.get(id) ?? id;
      return name === id ? id : `${name} (${id})`;
    });
    const more = matches.length > MAX_LISTED_MATCHES ? ", …" : "";
    super(
      `Run id "${prefix}" is ambiguous: it matches ${matches.length} runs: ${listed.join(", ")}${more}. ` +
        "Pass one of their short ids (gauntlet history shows them) or more characters of the run id.",
    );
    this.name = "AmbiguousRunIdError";
    this.prefix = prefix;
    this.matches = matches;
  }
}

/** How many matches an ambiguity error lists. */
export const MAX_LISTED_MATCHES = 10;

/** Run ids as assess makes them: 20261201T223045Z-3f9a1c, the UTC start time and a random part. */
const GAUNTLET_RUN_ID = /^\d{8}T\d{6}Z-([0-9a-z]+)$/;
/** Git-style: a short id is at least this long, and grows until it names one run. */
export const MIN_SHORT_ID = 4;
/** Ids of another form (imported, older) are shortened from their start, to at least this many characters. */
const MIN_SHORT_OTHER_ID = 8;

/** The random part of a Gauntlet run id (20261201T223045Z-3f9a1c → 3f9a1c); undefined for ids of another form. */
export function runIdSuffix(runId: string): string | undefined {
  return GAUNTLET_RUN_ID.exec(runId)?.[1];
}

/** Whether a reference names this run: a prefix of its id, or of its random part (what short ids are made of). */
export function matchesRunRef(runId: string, ref: string): boolean {
  return runId.startsWith(ref) || (runIdSuffix(runId)?.startsWith(ref) ?? false);
}

/**
 * The shortest reference that names each run and no other among runIds (git-style): the start of its random part,
 * at least MIN_SHORT_ID characters (3f9a); for ids of another form, the start of the id, at least 8 characters; the
 * full id when nothing shorter is unique (two runs with the same random part).
 */
export function shortRunIds(runIds: string[]): Map<string, string> {
  const ids = [...new Set(runIds)];
  const candidates = new Map(ids.map((id) => [id, candidatesOf(id)]));
  const lengths = new Set([...candidates.values()].flat().map((c) => c.length));
  // How many runs each possible short id would match, by either rule; a run counted once per reference.
  const matches = new Map<string, number>();
  for (const id of ids) {
    const suffix = runIdSuffix(id);
    const refs = new Set<string>();
    for (const n of lengths) {
      if (id.length >= n) refs.add(id.slice(0, n));
      if (suffix && suffix.length >= n) refs.add(suffix.slice(0, n));
    }
    for (const ref of refs) matches.set(ref, (matches.get(ref) ?? 0) + 1);
  }
  const short = new Map<string, string>();
  for (const id of ids) {
    short.set(id, candidatesOf(id).find((c) => matches.get(c) === 1) ?? id);
  }
  return short;
}

function candidatesOf(runId: string): string[] {
  const suffix = runIdSuffix(runId);
  const base = suffix ?? runId;
  const from = Math.min(suffix ? MIN_SHORT_ID : MIN_SHORT_OTHER_ID, base.length);
  const out: string[] = [];
  for (let n = from; n <= base.length; n++) out.push(base.slice(0, n));
  return out;
}

/**
 * The one run id among runIds (newest first) that a reference names; undefined when none does.
 * Throws AmbiguousRunIdError, listing the candidates, when several do.
 */
export function resolveRunRef(runIds: string[], ref: string): string | undefined {
  if (runIds.includes(ref)) return ref;
  const matches = runIds.filter((id) => matchesRunRef(id, ref));
  if (matches.length > 1) throw new AmbiguousRunIdError(ref, matches, runIds);
  return matches[0];
}

export const RUNS_DIR = path.join(".gauntlet", "runs");

/** Where assess keeps a run's reports, certificate and evidence when it keeps history. */
export function runFolder(cwd: string, runId: string): string {
  return path.join(cwd, RUNS_DIR, runId);
}

export type RunRef = { kind: "latest"; offset: number } | { kind: "id"; prefix: string };

/** Parses `latest`, `latest~N` or a run id (prefix). */
export function parseRunRef(ref: string): RunRef {
  const text = ref.trim();
  const latest = /^latest(?:~(\d+))?$/i.exec(text);
  if (latest) return { kind: "latest", offset: latest[1] === undefined ? 0 : Number(latest[1]) };
  if (text === "")
    throw new UserError("A run id cannot be empty: pass a run id, a prefix of one, or latest~N.");
  return { kind: "id", prefix: text };
}

/** Opens (creating and migrating when needed) the history store at a location; see HistoryStore. */
export async function openStore(location?: string, options: OpenStoreOptions = {}): Promise<HistoryStore> {
  const target = storeTarget(location, options);
  if (target.kind === "postgres") {
    const { openPostgresStore } = await import("./postgresStore.js");
    return openPostgresStore(target.url, options.secrets ?? new Redactor());
  }
  if (target.file !== ":memory:") {
    const modes = options.modes ?? outputModes();
    try {
      mkdirSync(path.dirname(target.file), { recursive: true, mode: modes.dir });
      createPrivately(target.file, modes.file);
    } catch (error) {
      throw new UserError(
        `Cannot create the history database ${target.file}: ${(error as Error).message}. ` +
          "Pass --store with a writable path or a postgres:// URL.",
      );
    }
  }
  const { openSqliteStore } = await import("./sqliteStore.js");
  return openSqliteStore(target.file);
}

/**
 * Creates an empty database file with mode before SQLite does (it would use 0644): SQLite opens an empty file as a new
 * database and gives its -wal and -shm files the database file's mode. An existing file is left as it is.
 */
function createPrivately(file: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(file, "wx", mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return;
    throw error;
  }
  closeSync(fd);
}

/** Where a store location points, without opening it; for messages ("runs recorded in …"). */
export function describeStoreLocation(location?: string, options: OpenStoreOptions = {}): string {
  const target = storeTarget(location, options);
  return target.kind === "postgres" ? displayUrl(target.url) : target.file;
}

type StoreTarget = { kind: "postgres"; url: string } | { kind: "sqlite"; file: string };

function storeTarget(location: string | undefined, options: OpenStoreOptions): StoreTarget {
  const cwd = options.cwd ?? process.cwd();
  if (location === undefined || location.trim() === "") {
    return { kind: "sqlite", file: path.join(cwd, DEFAULT_STORE_PATH) };
  }
  if (/^postgres(?:ql)?:\/\//i.test(location)) return { kind: "postgres", url: location };
  if (/^file:/i.test(location)) return { kind: "sqlite", file: fileURLToPath(location) };
  const scheme = /^([a-z][a-z0-9+.-]+):\/\//i.exec(location);
  if (scheme) {
    throw new UserError(
      `Unsupported history store "${scheme[1]}://…": use a postgres:// URL or the path of a SQLite file.`,
    );
  }
  if (location === ":memory:") return { kind: "sqlite", file: location };
  return { kind: "sqlite", file: path.resolve(cwd, location) };
}

/** A connection URL with its password replaced, safe to print. */
export function displayUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@\s:]*):[^/@\s]*@/i, "$1:[REDACTED]@")
    .replace(/([?&]password=)[^&#]*/gi, "$1[REDACTED]");
}

// ---- shared by the backends ----

/** The columns of the runs row derived from an Assessment; times normalised to UTC ISO so text sorts by time. */
export function runColumns(a: Assessment) {
  return {
    runId: a.runId,
    system: a.system.name,
    systemVersion: a.system.version ?? null,
    verdict: a.verdict.verdict,
    overall: a.scores.overall,
    coverage: a.scores.coverage,
    startedAt: isoUtc(a.startedAt, "startedAt"),
    finishedAt: isoUtc(a.finishedAt, "finishedAt"),
    durationMs: Math.round(a.durationMs),
    revisionKind: a.revision.kind,
    revisionDigest: a.revision.digest,
    specPath: a.specPath,
    toolVersion: a.tool.version,
  };
}

export function checkColumns(a: Assessment) {
  return a.checks.map((c) => ({
    checkId: c.checkId,
    category: c.category,
    risk: c.risk,
    status: c.status,
    durationMs: Math.round(c.durationMs),
  }));
}

function isoUtc(value: string, field: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new Error(`Assessment ${field} is not a date: ${JSON.stringify(value)}`);
  return new Date(time).toISOString();
}

export function normaliseOffset(offset: number | undefined): number {
  const n = offset ?? 0;
  if (!Number.isInteger(n) || n < 0)
    throw new UserError(`A run offset must be a whole number ≥ 0, not ${n}.`);
  return n;
}

export function normaliseLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 1)
    throw new UserError(`--limit must be a whole number ≥ 1, not ${limit}.`);
  return limit;
}
