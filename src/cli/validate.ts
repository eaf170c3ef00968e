// `gauntlet validate [spec]`: load the spec as `assess` would (YAML, ${ENV}, schema, cross references, waiver ids)
// and report every problem at once as `file:line:col: what is wrong — how to fix it`. Exit 0 when valid, 3 when not.
import type { Command } from "commander";
import { CHECK_IDS } from "../checks/ids.js";
import { displayPath, SpecError } from "../spec/problems.js";
import type { Spec } from "../spec/schema.js";
import type { CliIO } from "./io.js";
import { terminalText } from "./terminal.js";

export const EXIT_VALID = 0;
export const EXIT_INVALID = 3;

export async function validateCommand(
  specPath: string,
  io: CliIO,
  env: NodeJS.ProcessEnv = process.env,
  knownCheckIds: readonly string[] = CHECK_IDS,
): Promise<number> {
  const { loadSpec } = await import("../spec/loader.js");
  try {
    const { spec, path } = await loadSpec(specPath, { env, checkIds: knownCheckIds });
    io.out(`${terminalText(displayPath(path))} is valid: ${summary(spec)}`);
    return EXIT_VALID;
  } catch (error) {
    if (!(error instanceof SpecError)) throw error; // a bug, not a user error: main reports it
    io.err(error.format());
    const count = error.problems.length;
    io.err(`${count} problem${count === 1 ? "" : "s"} found`);
    return EXIT_INVALID;
  }
}

/** "3 services, 2 stages, 1 SLO, …": what the spec declares, so a user sees it was read as intended. */
function summary(spec: Spec): string {
  const counts: [number, string, string][] = [
    [Object.keys(spec.services).length, "service", "services"],
    [spec.performance?.requests?.length ?? 0, "request", "requests"],
    [spec.performance?.stages?.length ?? 0, "stage", "stages"],
    [spec.performance?.thresholds?.length ?? 0, "threshold", "thresholds"],
    [spec.slos?.length ?? 0, "SLO", "SLOs"],
    [spec.resilience?.experiments.length ?? 0, "experiment", "experiments"],
    [spec.recovery?.backups?.length ?? 0, "backup", "backups"],
    [spec.scoring.waivers.length, "waiver", "waivers"],
  ];
  const parts = counts.filter(([n]) => n > 0).map(([n, one, many]) => `${n} ${n === 1 ? one : many}`);
  parts.push(spec.destructive ? "destructive checks allowed" : "non-destructive");
  return parts.join(", ");
}

export function registerValidate(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("validate")
    .description("check a spec file and report every problem with its line and column")
    .argument("[spec]", "path to the spec file", "gauntlet.yaml")
    .action(async (spec: string) => setExit(await validateCommand(spec, io)));
}
