// `gauntlet schema`: the spec's JSON Schema, for editor completion and validation. With the YAML extension
// (yaml-language-server), save it and put this first line in gauntlet.yaml:
//   # yaml-language-server: $schema=./gauntlet.schema.json
// e.g. `gauntlet schema > gauntlet.schema.json`.
import { specJsonSchema } from "../spec/schema.js";
import type { CliIO } from "./io.js";

export { registerSchema } from "./registerSchema.js";

export const SPEC_SCHEMA_ID = "urn:gauntlet:spec:v1";

export function schemaDocument(): Record<string, unknown> {
  const { $schema, ...rest } = specJsonSchema();
  return {
    $schema,
    $id: SPEC_SCHEMA_ID,
    title: "Gauntlet spec (gauntlet.yaml)",
    description:
      "The system Gauntlet assesses: services, deployment, monitoring, security, performance, SLOs, resilience, recovery and scoring.",
    ...rest,
  };
}

export function schemaCommand(io: CliIO): number {
  io.out(JSON.stringify(schemaDocument(), null, 2));
  return 0;
}
