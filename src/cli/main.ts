// Entry point. User errors (bad spec, bad flag, missing file) print sentences and exit 3; anything else is a bug:
// exit 4 with a one-line message, and the stack only when GAUNTLET_DEBUG=1.
// Every command is defined here (so --help lists them all), but a command module imports only light modules at its
// top and its engines inside the command, with import(): `gauntlet --version` or `validate` must not load the
// Kubernetes client, the database drivers, Docker, ast-grep, secretlint or the load engine.
// test/integration/cli/startupImports.test.ts checks what validate loads.
import { Command, CommanderError } from "commander";
import { SpecError } from "../spec/problems.js";
import { TOOL_VERSION } from "../version.js";
import { registerAssess } from "./assess.js";
import { registerChecks } from "./checks.js";
import { registerDiff } from "./diff.js";
import { registerHistory } from "./history.js";
import { registerInit } from "./init.js";
import { type CliIO, processIO, UserError } from "./io.js";
import { registerKeygen } from "./keygen.js";
import { registerLoad } from "./load.js";
import { registerProxy } from "./proxy.js";
import { registerSchema } from "./registerSchema.js";
import { registerReport } from "./report.js";
import { registerRollout } from "./rollout.js";
import { registerSecrets } from "./secrets.js";
import { registerSlo } from "./slo.js";
import { registerValidate } from "./validate.js";
import { registerVerify } from "./verify.js";
import { registerWorker } from "./worker.js";

export const EXIT_USAGE = 3;
export const EXIT_INTERNAL = 4;

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const program = new Command("gauntlet")
    .description(
      "Production-readiness verification and certification: real tests, honest scores, signed certificates",
    )
    .version(TOOL_VERSION)
    .showHelpAfterError("(run gauntlet --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  registerInit(program, io, setExit);
  registerAssess(program, io, setExit);
  registerValidate(program, io, setExit);
  registerSchema(program, io, setExit);
  registerChecks(program, io, setExit);
  registerLoad(program, io, setExit);
  registerWorker(program, io, setExit);
  registerProxy(program, io, setExit);
  registerKeygen(program, io, setExit);
  registerVerify(program, io, setExit);
  registerHistory(program, io, setExit);
  registerDiff(program, io, setExit);
  registerReport(program, io, setExit);
  registerSecrets(program, io, setExit);
  registerRollout(program, io, setExit);
  registerSlo(program, io, setExit);
  for (const command of program.commands) command.exitOverride();

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; anything else is a usage error already printed by commander.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof SpecError) {
      io.err(error.format());
      return EXIT_USAGE;
    }
    if (error instanceof UserError) {
      io.err(`error: ${error.message}`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.err(`internal error: ${message}`);
    if (process.env.GAUNTLET_DEBUG === "1" && error instanceof Error) io.err(error.stack ?? "");
    else
      io.err("this is a bug in gauntlet; run again with GAUNTLET_DEBUG=1 for the stack trace and report it");
    return EXIT_INTERNAL;
  }
}
