// The `gauntlet schema` command's definition, apart from schema.ts: schemaCommand is synchronous, so schema.ts must
// import the spec schema (zod) at its top, and main.ts, which defines every command at start-up, would load zod for
// `--version` and every other command that reads no spec. schema.ts re-exports registerSchema.
import type { Command } from "commander";
import type { CliIO } from "./io.js";

export function registerSchema(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("schema")
    .description("print the JSON Schema of gauntlet.yaml (for editors: # yaml-language-server: $schema=…)")
    .action(async () => {
      const { schemaCommand } = await import("./schema.js");
      setExit(schemaCommand(io));
    });
}
