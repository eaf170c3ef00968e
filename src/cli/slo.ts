// `gauntlet slo rules [spec]`: the spec's SLOs (or an OpenSLO v1 file's, with --openslo) as Prometheus recording and
// alert rules in the SRE workbook's multiwindow multi-burn-rate form, or as OpenSLO documents (--format openslo).
// Printed to stdout or written to --out. An SLO that cannot be turned into rules (no sli) is named on stderr with what
// to write; the exit code is 3 only when no SLO at all could be turned into rules.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { CHECK_IDS } from "../checks/ids.js";
import type { SloDefinition } from "../engines/slo/rules.js";
import { displayPath } from "../spec/problems.js";
import { type CliIO, UserError } from "./io.js";

export interface SloRulesFlags {
  format?: string;
  openslo?: string;
  out?: string;
}

const FORMATS = ["prometheus", "openslo"] as const;

export function registerSlo(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const slo = program.command("slo").description("service level objectives: burn-rate rules, OpenSLO");
  slo
    .command("rules")
    .description(
      "print Prometheus recording and multiwindow burn-rate alert rules for the SLOs (or OpenSLO documents)",
    )
    .argument("[spec]", "path to the spec file", "gauntlet.yaml")
    .option("--format <format>", "prometheus (rule file) or openslo (OpenSLO v1 documents)", "prometheus")
    .option("--openslo <file>", "read the SLOs from this OpenSLO v1 file instead of the spec")
    .option("--out <file>", "write to this file instead of stdout")
    .action(async (spec: string, flags: SloRulesFlags) => setExit(await sloRulesCommand(spec, flags, io)));
}

export async function sloRulesCommand(specPath: string, flags: SloRulesFlags, io: CliIO): Promise<number> {
  const format = flags.format ?? "prometheus";
  if (!(FORMATS as readonly string[]).includes(format))
    throw new UserError(`--format ${format} is not known: write --format prometheus or --format openslo`);
  const { slos, from, runbooks } = await readSlos(specPath, flags, io);
  let text: string;
  if (format === "openslo") {
    const { toOpenSlo } = await import("../engines/slo/openslo.js");
    text = toOpenSlo(slos);
  } else {
    const { renderRuleFile, sloRules } = await import("../engines/slo/rules.js");
    const rules = sloRules(slos, { runbooks, ...(flags.openslo ? { source: from } : {}) });
    for (const skipped of rules.skipped)
      io.err(`warning: no rules for SLO ${skipped.slo}: ${skipped.reason}`);
    for (const note of rules.notes) io.err(`note: ${note}`);
    if (rules.groups.length === 0) {
      io.err(`error: none of the ${slos.length} SLO(s) in ${from} can be turned into rules`);
      return 3;
    }
    text = renderRuleFile(rules, from);
  }
  if (flags.out) {
    await writeFile(path.resolve(flags.out), text);
    io.err(
      `wrote ${format === "openslo" ? "OpenSLO documents" : "rules"} for ${slos.length} SLO(s) to ${flags.out}`,
    );
  } else {
    io.out(text);
  }
  return 0;
}

async function readSlos(
  specPath: string,
  flags: SloRulesFlags,
  io: CliIO,
): Promise<{ slos: SloDefinition[]; from: string; runbooks?: string }> {
  if (flags.openslo) {
    const file = flags.openslo;
    let text: string;
    try {
      text = await readFile(path.resolve(file), "utf8");
    } catch (error) {
      throw new UserError(
        `cannot read the OpenSLO file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
    const { parseOpenSlo } = await import("../engines/slo/openslo.js");
    return { slos: parseOpenSlo(text, file), from: file };
  }
  const { loadSpec } = await import("../spec/loader.js");
  const { spec, path: file } = await loadSpec(specPath, {
    env: process.env,
    checkIds: CHECK_IDS,
    secrets: io.secrets,
  });
  const from = displayPath(file);
  if (!spec.slos?.length)
    throw new UserError(
      `${from} declares no SLO: add slos: [{ name, service, objective: 99.9%, window: 30d, sli: { errors, total } }] (see docs/spec.md), or read an OpenSLO file with --openslo`,
    );
  const runbooks = spec.operations?.runbooks;
  return { slos: spec.slos, from, ...(runbooks ? { runbooks } : {}) };
}
