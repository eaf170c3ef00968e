// `gauntlet diff A B`: what changed between two recorded runs (default: the previous run and the latest).
import type { Command } from "commander";
import type { Assessment } from "../core/assessment.js";
import { type AssessmentDiff, type CheckChange, diffAssessments } from "../store/diff.js";
import { type HistoryStore, parseRunRef, shortRunIds } from "../store/store.js";
import { formatDate, formatPercent, formatScore, STORE_OPTION_HELP, withHistoryStore } from "./history.js";
import { type CliIO, UserError } from "./io.js";

export interface DiffOptions {
  store?: string;
  /** Resolve `latest` and `latest~N` among this system's runs only. */
  system?: string;
  json?: boolean;
  cwd?: string;
}

export const DEFAULT_DIFF_FROM = "latest~1";
export const DEFAULT_DIFF_TO = "latest";

export function registerDiff(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("diff")
    .description("Show what changed between two recorded runs")
    .argument(
      "[from]",
      "older run: its short id (gauntlet history), a run id or a unique prefix of one, or latest~N",
      DEFAULT_DIFF_FROM,
    )
    .argument("[to]", "newer run", DEFAULT_DIFF_TO)
    .option("--store <location>", STORE_OPTION_HELP)
    .option("--system <name>", "resolve latest and latest~N among this system's runs")
    .option("--json", "print the diff as JSON")
    .action(async (from: string, to: string, options: DiffOptions) => {
      setExit(await diffCommand(from, to, options, io));
    });
}

export async function diffCommand(
  a: string = DEFAULT_DIFF_FROM,
  b: string = DEFAULT_DIFF_TO,
  options: DiffOptions,
  io: CliIO,
): Promise<number> {
  const { diff, short } = await withHistoryStore(
    { ...options, secrets: io.secrets },
    async (store, where) => {
      const older = await findRun(store, a, options.system, where);
      const newer = await findRun(store, b, options.system, where);
      return { diff: diffAssessments(older, newer), short: shortRunIds(await store.runIds()) };
    },
  );
  io.out(options.json ? JSON.stringify(diff, null, 2) : formatDiff(diff, short));
  return 0;
}

async function findRun(
  store: HistoryStore,
  ref: string,
  system: string | undefined,
  where: string,
): Promise<Assessment> {
  const parsed = parseRunRef(ref);
  const run =
    parsed.kind === "latest" ? await store.latest(system, parsed.offset) : await store.get(parsed.prefix);
  if (run) return run;
  const of = system === undefined || parsed.kind === "id" ? "" : ` of system "${system}"`;
  throw new UserError(
    `No run${of} matches "${ref}" in ${where}. Run \`gauntlet history\` to list the recorded runs and their ids.`,
  );
}

/** short: the runs' short ids among the whole history (shortRunIds); among these two runs when absent. */
export function formatDiff(
  diff: AssessmentDiff,
  short: Map<string, string> = shortRunIds([diff.from.runId, diff.to.runId]),
): string {
  const lines: string[] = [];
  const side = (r: AssessmentDiff["from"]) =>
    `${short.get(r.runId) ?? r.runId} (${r.system}, ${formatDate(r.startedAt)} UTC)`;
  lines.push(`Comparing ${side(diff.from)} → ${side(diff.to)}`);
  if (!diff.sameSystem) lines.push("Note: the two runs assess different systems.");
  lines.push(
    `Overall: ${formatScore(diff.overall.from)} → ${formatScore(diff.overall.to)} (${signed(diff.overall.delta, 1)})` +
      `   Coverage: ${formatPercent(diff.coverage.from ?? 0)} → ${formatPercent(diff.coverage.to ?? 0)}` +
      ` (${signed(diff.coverage.delta, 0)})`,
  );
  lines.push(
    diff.verdict.change === "same"
      ? `Verdict: ${diff.verdict.to} (unchanged)`
      : `Verdict: ${diff.verdict.from} → ${diff.verdict.to} (${diff.verdict.change})`,
  );

  const moved = diff.categories.filter((c) => c.delta !== 0 && (c.from !== null || c.to !== null));
  if (moved.length > 0) {
    lines.push("", "Categories:");
    const width = Math.max(...moved.map((c) => c.category.length));
    for (const c of moved) {
      const delta = c.delta === null ? "" : ` (${signed(c.delta, 1)})`;
      lines.push(`  ${c.category.padEnd(width)}  ${formatScore(c.from)} → ${formatScore(c.to)}${delta}`);
    }
  }

  const sections: [CheckChange["kind"], string][] = [
    ["regressed", "Regressed"],
    ["improved", "Improved"],
    ["applicability", "Changed applicability"],
    ["added", "Added"],
    ["removed", "Removed"],
  ];
  for (const [kind, heading] of sections) {
    const changes = diff.checks.filter((c) => c.kind === kind);
    if (changes.length === 0 && kind !== "regressed" && kind !== "improved") continue;
    lines.push("", `${heading} (${changes.length})${changes.length === 0 ? ": none" : ":"}`);
    const idWidth = Math.max(0, ...changes.map((c) => c.checkId.length));
    const statusWidth = Math.max(0, ...changes.map((c) => transition(c).length));
    for (const c of changes) {
      lines.push(
        `  ${c.checkId.padEnd(idWidth)}  ${transition(c).padEnd(statusWidth)}  [${c.risk}] ${c.title}`.trimEnd(),
      );
    }
  }
  lines.push("", `Unchanged: ${diff.counts.unchanged} check${diff.counts.unchanged === 1 ? "" : "s"}.`);
  return lines.join("\n");
}

function transition(c: CheckChange): string {
  return `${c.from ?? "(none)"} → ${c.to ?? "(none)"}`;
}

function signed(value: number | null, digits: number): string {
  if (value === null) return "n/a";
  const text = value.toFixed(digits);
  return value > 0 ? `+${text}` : text === `-${(0).toFixed(digits)}` ? (0).toFixed(digits) : text;
}
