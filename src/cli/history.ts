// `gauntlet history`: the recorded runs, newest first, as a table or JSON.
import { type Command, InvalidArgumentError } from "commander";
import type { Redactor, SecretSink } from "../secrets/redactor.js";
import { describeStoreLocation, type HistoryStore, openStore, type RunSummary } from "../store/store.js";
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
  const { runs, where } = await withHistoryStore(
    { ...options, secrets: io.secrets },
    async (store, where) => ({
      runs: await store.list(filter),
      where,
    }),
  );

  if (options.json) {
    io.out(JSON.stringify(runs, null, 2));
    return 0;
  }
  if (runs.length === 0) {
    const of = options.system === undefined ? "" : ` for system "${options.system}"`;
    io.out(`No runs recorded${of} in ${where} yet. Run \`gauntlet assess\` to record one.`);
    return 0;
  }
  io.out(formatHistoryTable(runs));
  if (runs.length === limit) io.out(`Showing the ${limit} newest runs; pass --limit to see more.`);
  return 0;
}

/** Newest first, as the store returns them. */
export function formatHistoryTable(runs: RunSummary[]): string {
  const header = ["RUN", "STARTED (UTC)", "SYSTEM", "VERDICT", "OVERALL", "COVERAGE", "FAILED", "UNVERIFIED"];
  const rows = runs.map((r) => [
    shortRunId(r.runId),
    formatDate(r.startedAt),
    r.system,
    r.verdict,
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

export function shortRunId(runId: string): string {
  return runId.slice(0, 8);
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
