// `gauntlet assess [spec]`: run every applicable check, score, sign, write the reports. Exit code = verdict
// (0 certified, 1 conditional, 2 not ready); 3 for a spec or usage error; 130/143 when interrupted.
import type { Command } from "commander";
import { CHECK_IDS } from "../checks/ids.js";
import { isReportFormat, REPORT_FILES, type ReportFormat } from "../report/index.js";
import { parseDuration } from "../spec/units.js";
import { resolveStoreOption } from "./history.js";
import { type CliIO, UserError } from "./io.js";
import { createProgress } from "./progress.js";
import { renderSummary } from "./summary.js";

export interface AssessFlags {
  only?: string[];
  skip?: string[];
  allowDestructive?: boolean;
  out?: string;
  format?: string[];
  key?: string;
  insecureKeyPermissions?: boolean;
  json?: boolean;
  store?: string | false;
  validFor?: string;
  verbose?: boolean;
}

export async function assessCommand(specPath: string, flags: AssessFlags, io: CliIO): Promise<number> {
  const known: readonly string[] = CHECK_IDS;
  for (const id of [...(flags.only ?? []), ...(flags.skip ?? [])]) {
    if (!known.includes(id)) {
      const { suggest } = await import("../spec/suggest.js");
      const hint = suggest(id, known);
      throw new UserError(
        `unknown check "${id}"${hint ? ` — did you mean "${hint}"?` : ""} (gauntlet checks lists them)`,
      );
    }
  }
  const formats = (flags.format ?? Object.keys(REPORT_FILES)) as ReportFormat[];
  for (const format of formats) {
    // Object.hasOwn, not `in`: "constructor" is in every object and would pass, then fail after the whole run.
    if (!isReportFormat(format)) {
      throw new UserError(`unknown report format "${format}": use ${Object.keys(REPORT_FILES).join(", ")}`);
    }
  }
  let validForMs: number | undefined;
  if (flags.validFor) {
    const parsed = parseDuration(flags.validFor);
    if (!parsed.ok) throw new UserError(`--valid-for: ${parsed.error}`);
    if (parsed.value <= 0 || parsed.value > 3650 * 86_400_000) {
      throw new UserError(`--valid-for ${flags.validFor}: write a duration between 1s and 3650d, e.g. 30d`);
    }
    validForMs = parsed.value;
  }
  const { assess } = await import("../assess/assess.js");

  const controller = new AbortController();
  let interruptedBy: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interruptedBy) {
      io.err(`\n${signal} again: still undoing faults and stopping services, please wait`);
      return;
    }
    interruptedBy = signal;
    io.err(`\n${signal}: cancelling; undoing faults and stopping services…`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  // With --json, stdout carries the assessment only; progress goes to stderr.
  const stream = flags.json ? process.stderr : process.stdout;
  const progress = createProgress(
    (text) => stream.write(io.secrets.redact(text)),
    io.isTTY && !flags.json,
    flags.verbose,
  );
  try {
    const outcome = await assess({
      specPath,
      ...(flags.only ? { only: flags.only } : {}),
      ...(flags.skip ? { skip: flags.skip } : {}),
      ...(flags.allowDestructive ? { allowDestructive: true } : {}),
      ...(flags.out ? { outDir: flags.out } : {}),
      ...(flags.key ? { keyPath: flags.key } : {}),
      ...(flags.insecureKeyPermissions ? { insecureKeyPermissions: true } : {}),
      ...(validForMs !== undefined ? { validForMs } : {}),
      // --no-store gives false; otherwise --store, then $GAUNTLET_STORE, then the default SQLite file.
      ...(flags.store === false
        ? { store: false }
        : { store: resolveStoreOption(flags.store, io.secrets) ?? "" }),
      formats,
      secrets: io.secrets,
      signal: controller.signal,
      onEvent: (e) => progress.onEvent(e),
    });
    progress.stop();
    if (outcome.storeWarning) io.err(`warning: ${outcome.storeWarning}`);
    if (outcome.cancelled) {
      io.err(
        `Cancelled by ${interruptedBy ?? "signal"}: faults undone, services stopped. Partial report (not certified) in ${outcome.outDir}`,
      );
      return interruptedBy === "SIGTERM" ? 143 : 130;
    }
    if (flags.json) io.out(JSON.stringify(outcome.assessment, null, 2));
    else io.out(renderSummary(outcome.assessment, outcome.outDir, outcome.files));
    return outcome.assessment.verdict.exitCode;
  } finally {
    progress.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

const list = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
];

export function registerAssess(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("assess")
    .description("run every applicable check against the system in the spec, score it and write reports")
    .argument("[spec]", "spec file", "gauntlet.yaml")
    .option("--only <ids>", "run only these checks (comma separated); the others count as UNVERIFIED", list)
    .option("--skip <ids>", "leave these checks out (they count as UNVERIFIED)", list)
    .option(
      "--allow-destructive",
      "allow load and fault injection even if the spec does not say destructive: true",
    )
    .option("--out <dir>", "also copy reports, certificate and evidence to this folder")
    .option("--format <formats>", `report formats (${Object.keys(REPORT_FILES).join(",")})`, list)
    .option("--key <file>", "Ed25519 private key (gauntlet keygen) to sign the certificate")
    .option(
      "--insecure-key-permissions",
      "sign even if group or others can read the private key (warns; otherwise such a key is refused)",
    )
    .option(
      "--valid-for <duration>",
      "certificate validity, e.g. 30d (default: spec certificate.validFor or 90d)",
    )
    .option(
      "--store <location>",
      "history store: a SQLite path or postgres:// URL (default .gauntlet/history.db)",
    )
    .option("--no-store", "keep no history of this run")
    .option("--json", "print the assessment JSON only")
    .option("-v, --verbose", "show every check's log lines")
    .action(async (spec: string, flags: AssessFlags) => {
      setExit(await assessCommand(spec, flags, io));
    });
}
