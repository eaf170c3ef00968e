// `gauntlet report RUN --format md|json|junit|sarif`: re-render a stored run from the history.
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { isReportFormat, REPORT_FILES, type ReportFormat, render } from "../report/index.js";
import { openStore } from "../store/store.js";
import { resolveStoreOption } from "./history.js";
import { type CliIO, UserError } from "./io.js";

export interface ReportFlags {
  format?: string;
  store?: string;
  output?: string;
}

export async function reportCommand(run: string, flags: ReportFlags, io: CliIO): Promise<number> {
  const format = (flags.format ?? "md") as ReportFormat;
  if (!isReportFormat(format)) {
    throw new UserError(`unknown report format "${format}": use ${Object.keys(REPORT_FILES).join(", ")}`);
  }
  const store = await openStore(resolveStoreOption(flags.store, io.secrets), { secrets: io.secrets });
  try {
    const assessment = await store.get(run);
    if (!assessment) throw new UserError(`no run "${run}" in the history: gauntlet history lists the runs`);
    const text = render(format, assessment, io.secrets);
    if (flags.output) {
      await writeFile(flags.output, text);
      io.err(`wrote ${flags.output}`);
    } else {
      io.out(text);
    }
    return 0;
  } finally {
    await store.close();
  }
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
