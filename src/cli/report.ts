// `gauntlet report RUN --format md|json|junit|sarif`: re-render a stored run from the history. A run recorded without
// its certificate (killed between the two) is rendered as uncertified, and said so on stderr.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { outputModes } from "../core/evidence.js";
import { isReportFormat, REPORT_FILES, type ReportFormat, render } from "../report/index.js";
import { certificateMissing, missingCertificateNote, withHistoryStore } from "./history.js";
import { type CliIO, UserError } from "./io.js";

export interface ReportFlags {
  format?: string;
  store?: string;
  output?: string;
  /** Folder holding .gauntlet/ (the default store and the run folders); process.cwd() when absent. */
  cwd?: string;
}

export async function reportCommand(run: string, flags: ReportFlags, io: CliIO): Promise<number> {
  const format = (flags.format ?? "md") as ReportFormat;
  if (!isReportFormat(format)) {
    throw new UserError(`unknown report format "${format}": use ${Object.keys(REPORT_FILES).join(", ")}`);
  }
  const found = await withHistoryStore(
    {
      ...(flags.store === undefined ? {} : { store: flags.store }),
      ...(flags.cwd === undefined ? {} : { cwd: flags.cwd }),
      secrets: io.secrets,
    },
    (store) => store.get(run),
  );
  if (!found) throw new UserError(`no run "${run}" in the history: gauntlet history lists the runs`);
  let assessment = found;
  const cwd = path.resolve(flags.cwd ?? process.cwd());
  if (assessment.certificate && certificateMissing(cwd, assessment.runId)) {
    io.err(`warning: run ${assessment.runId}: ${missingCertificateNote(cwd, assessment.runId)}`);
    assessment = { ...assessment, certificate: null };
  }
  const text = render(format, assessment, io.secrets);
  if (flags.output) {
    // A report holds what the evidence does: private like the run's own copy.
    await writeFile(flags.output, text, { mode: outputModes().file });
    io.err(`wrote ${flags.output}`);
  } else {
    io.out(text);
  }
  return 0;
}

export function registerReport(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("report")
    .description("re-render a stored run (by id, unique prefix, latest or latest~N)")
    .argument("[run]", "run id", "latest")
    .option("--format <format>", `one of ${Object.keys(REPORT_FILES).join(", ")}`, "md")
    .option("--store <location>", "history store: a SQLite path or postgres:// URL")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(async (run: string, flags: ReportFlags) => setExit(await reportCommand(run, flags, io)));
}
