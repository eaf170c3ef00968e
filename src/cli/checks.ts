// `gauntlet checks`: the registered checks with their category, risk and whether they are destructive.
import type { Command } from "commander";
import type { CliIO } from "./io.js";

export async function checksCommand(flags: { json?: boolean }, io: CliIO): Promise<number> {
  const { allChecks } = await import("../checks/index.js");
  const checks = allChecks().map((c) => c.meta);
  if (flags.json) {
    io.out(JSON.stringify(checks, null, 2));
    return 0;
  }
  const idWidth = Math.max(...checks.map((c) => c.id.length));
  for (const c of checks) {
    const flag = c.destructive ? " destructive" : "";
    io.out(`${c.id.padEnd(idWidth)}  ${c.category.padEnd(13)} ${c.risk.padEnd(8)} ${c.title}${flag}`);
  }
  return 0;
}

export function registerChecks(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("checks")
    .description("list the checks Gauntlet runs")
    .option("--json", "print check metadata as JSON")
    .action(async (flags: { json?: boolean }) => setExit(await checksCommand(flags, io)));
}
