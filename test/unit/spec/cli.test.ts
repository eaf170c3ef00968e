import { join, resolve } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { memoryIO } from "../../../src/cli/io.js";
import { registerSchema, SPEC_SCHEMA_ID, schemaCommand } from "../../../src/cli/schema.js";
import { registerValidate, validateCommand } from "../../../src/cli/validate.js";

const FIXTURES = resolve(import.meta.dirname, "../../fixtures/specs");
const CHECK_IDS = ["tlsModern"];

describe("gauntlet validate", () => {
  it("exits 0 with a one-line summary for a valid spec", async () => {
    const io = memoryIO();
    const code = await validateCommand(
      join(FIXTURES, "valid-full.yaml"),
      io,
      { DB_PASSWORD: "pw-1234" },
      CHECK_IDS,
    );
    expect(code).toBe(0);
    expect(io.stderr).toEqual([]);
    expect(io.stdout).toHaveLength(1);
    expect(io.stdout[0]).toMatch(/valid-full\.yaml is valid: 4 services, 3 requests, 2 stages, .*2 SLOs/);
  });

  it("exits 3 with every problem on stderr and no stack trace", async () => {
    const io = memoryIO();
    const code = await validateCommand(join(FIXTURES, "many-problems.yaml"), io, {}, CHECK_IDS);
    expect(code).toBe(3);
    expect(io.stdout).toEqual([]);
    const text = io.stderr.join("\n");
    expect(text).toMatch(/many-problems\.yaml:1:10: version: /);
    expect(text).toMatch(/\d+ problems found/);
    expect(text).not.toContain("    at ");
  });

  it("exits 3 for a missing file, in one sentence", async () => {
    const io = memoryIO();
    expect(await validateCommand(join(FIXTURES, "does-not-exist.yaml"), io, {}, CHECK_IDS)).toBe(3);
    expect(io.stderr[0]).toMatch(/does-not-exist\.yaml: spec file not found — /);
    expect(io.stderr.join("\n")).not.toContain("    at ");
  });

  it("registers a validate command that sets the exit code", async () => {
    const io = memoryIO();
    let exit = -1;
    const program = new Command().exitOverride();
    registerValidate(program, io, (code) => {
      exit = code;
    });
    await program.parseAsync(["validate", join(FIXTURES, "typo-key.yaml")], { from: "user" });
    expect(exit).toBe(3);
    expect(io.stderr.join("\n")).toContain('did you mean "health"?');
  });
});

describe("gauntlet schema", () => {
  it("prints the spec's JSON Schema with $id and title", () => {
    const io = memoryIO();
    expect(schemaCommand(io)).toBe(0);
    const schema = JSON.parse(io.stdout.join("")) as Record<string, unknown>;
    expect(schema.$id).toBe(SPEC_SCHEMA_ID);
    expect(schema.title).toMatch(/gauntlet/i);
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(Object.keys(schema.properties as object)).toEqual(
      expect.arrayContaining(["version", "services", "scoring"]),
    );
  });

  it("registers a schema command", async () => {
    const io = memoryIO();
    let exit = -1;
    const program = new Command().exitOverride();
    registerSchema(program, io, (code) => {
      exit = code;
    });
    await program.parseAsync(["schema"], { from: "user" });
    expect(exit).toBe(0);
    expect(io.stdout.join("")).toContain('"$id"');
  });
});
