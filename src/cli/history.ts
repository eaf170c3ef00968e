// `gauntlet history`: the recorded runs, newest first, as a table or JSON. Each run is shown by a short id, unique in
// the history (git-style: the start of its id's random part), which report and diff accept. A run is recorded before
// its certificate is written, so a run killed between the two has no certificate: it is marked, never an error.
import { existsSync } from "node:fs";
import path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
// The one light copy of the name (assess.ts imports every check and engine).
import { CERTIFICATE_FILE } from "../engines/files/glob.js";
import type { Redactor, SecretSink } from "../secrets/redactor.js";
import {
  describeStoreLocation,
  type HistoryStore,
  openStore,
  type RunSummary,
  runFolder,
  shortRunIds,
} from "../store/store.js";
import { type CliIO, UserError } from "./io.js";

export interface HistoryOptions {
  /** SQLite file path or postgres:// URL; see resolveStoreOption. */
  store?: string;
  system?: string;
  limit?: number;
  json?: boolean;
  /** Folder the default store resolves against; process.cwd() when absent. */
  cwd?: string;
}

export const DEFAULT_HISTORY_LIMIT = 20;

/** The environment variable that names the history store when --store is not given. */
export const STORE_ENV = "GAUNTLET_STORE";

export const STORE_OPTION_HELP = `history database: a SQLite file path or a postgres:// URL (default: $${STORE_ENV}, else .gauntlet/history.db)`;

/**
 * The history store location for a `--store` value: the flag, else $GAUNTLET_STORE, else undefined (the default
 * SQLite file). Registers a URL's password with the redactor so it never reaches output.
 */
export function resolveStoreOption(
  store: string | undefined,
  secrets: SecretSink,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (store !== undefined && store.trim() === "") {
    throw new UserError("--store is empty: pass a SQLite file path or a postgres:// URL.");
  }
  const location = store ?? (env[STORE_ENV]?.trim() || undefined);
  secrets.addFromUrl(location);
  return location;
}

/** Opens the store named by a `--store` value, runs `use`, and always closes it. */
export async function withHistoryStore<T>(
  options: { store?: string; cwd?: string; secrets: Redactor },
  use: (store: HistoryStore, where: string) => Promise<T>,
): Promise<T> {
  const location = resolveStoreOption(options.store, options.secrets);
  const cwd = options.cwd === undefined ? {} : { cwd: options.cwd };
  const where = describeStoreLocation(location, cwd);
  const store = await openStore(location, { ...cwd, secrets: options.secrets });
  try {
    return await use(store, where);
  } finally {
    await store.close();
  }
}

export function registerHistory(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("history")
    .description("List recorded assessment runs, newest first")
    .option("--store <location>", STORE_OPTION_HELP)
    .option("--system <name>", "only runs of this system")
    .option("--limit <n>", `how many runs to show (default ${DEFAULT_HISTORY_LIMIT})`, parseLimit)
    .option("--json", "print the run summaries as JSON")
    .action(async (options: HistoryOptions) => {
      setExit(await historyCommand(options, io));
    });
}

export async function historyCommand(options: HistoryOptions, io: CliIO): Promise<number> {
  const limit = options.limit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UserError(`--limit must be a whole number ≥ 1, not ${limit}.`);
  }
  const filter = options.system === undefined ? { limit } : { system: options.system, limit };
  const { runs, short, where } = await withHistoryStore(
    { ...options, secrets: io.secrets },
    async (store, where) => ({
      runs: await store.list(filter),
      // Unique among every recorded run, not only the ones shown, so `report <short id>` finds exactly that run.
      short: shortRunIds(await store.runIds()),
      where,
    }),
  );
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const missing = new Set(runs.filter((r) => certificateMissing(cwd, r.runId)).map((r) => r.runId));

  if (options.json) {
    const listed = runs.map((r) => ({
      ...r,
      shortId: short.get(r.runId) ?? r.runId,
      ...(missing.has(r.runId) ? { certificate: "missing" } : {}),
    }));
    io.out(JSON.stringify(listed, null, 2));
    return 0;
  }
  if (runs.length === 0) {
    const of = options.system === undefined ? "" : ` for system "${options.system}"`;
    io.out(`No runs recorded${of} in ${where} yet. Run \`gauntlet assess\` to record one.`);
    return 0;
  }
  io.out(formatHistoryTable(runs, short, missing));
  for (const r of runs.filter((run) => missing.has(run.runId))) {
    io.out(`* ${short.get(r.runId) ?? r.runId}: ${missingCertificateNote(cwd, r.runId)}`);
  }
  if (runs.length === limit) io.out(`Showing the ${limit} newest runs; pass --limit to see more.`);
  return 0;
}

/**
 * A run recorded in the history whose run folder is here but holds no certificate: killed after its history row was
 * written (the row comes first) and before the certificate was. A run folder that is not here (another machine, a
 * shared PostgreSQL history, a deleted folder) says nothing either way.
 */
export function certificateMissing(cwd: string, runId: string): boolean {
  const folder = runFolder(cwd, runId);
  return existsSync(folder) && !existsSync(path.join(folder, CERTIFICATE_FILE));
}

export function missingCertificateNote(cwd: string, runId: string): string {
  const folder = path.relative(cwd, runFolder(cwd, runId));
  return (
    `no ${CERTIFICATE_FILE} in ${folder}/: the run stopped after it was recorded and before its certificate was ` +
    "written, so its verdict is not certified; run gauntlet assess again"
  );
}

/** Newest first, as the store returns them; short ids from shortRunIds, and runs whose certificate is missing. */
export function formatHistoryTable(
  runs: RunSummary[],
  short: Map<string, string> = shortRunIds(runs.map((r) => r.runId)),
  missing: Set<string> = new Set(),
): string {
  const header = ["RUN", "STARTED (UTC)", "SYSTEM", "VERDICT", "OVERALL", "COVERAGE", "FAILED", "UNVERIFIED"];
  const rows = runs.map((r) => [
    short.get(r.runId) ?? r.runId,
    formatDate(r.startedAt),
    r.system,
    missing.has(r.runId) ? `${r.verdict}*` : r.verdict,
    formatScore(r.overall),
    formatPercent(r.coverage),
    String(r.failed),
    String(r.unverified),
  ]);
  const numeric = new Set([4, 5, 6, 7]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows]
    .map((cells) =>
      cells
        .map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** `2025-06-01 10:00` from an ISO timestamp, in UTC. */
export function formatDate(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : new Date(time).toISOString().slice(0, 16).replace("T", " ");
}

export function formatScore(score: number | null): string {
  return score === null ? "-" : score.toFixed(1);
}

export function formatPercent(value: number): string {
  return `${Math.round(value)}%`;
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError("expected a whole number ≥ 1.");
  }
  return n;
}
