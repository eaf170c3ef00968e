#!/usr/bin/env node
// Runs `gauntlet load` from the build even before the command is wired into the main CLI: the same loadCommand,
// registered on a bare commander program. Usage: node bench/load/gauntletLoad.mjs URL [flags…]
import { Command } from "commander";
import { processIO } from "../../dist/cli/io.js";
import { registerLoad } from "../../dist/cli/load.js";

const io = processIO();
let code = 0;
const program = new Command("gauntlet").exitOverride();
registerLoad(program, io, (c) => {
  code = c;
});
await program.parseAsync(["load", ...process.argv.slice(2)], { from: "user" });
process.exitCode = code;
