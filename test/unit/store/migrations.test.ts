import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/cli/io.js";
import {
  MIGRATIONS,
  type Migration,
  pendingMigrations,
  SCHEMA_VERSION,
} from "../../../src/store/migrations.js";

const step = (version: number): Migration => ({
  version,
  name: `step ${version}`,
  sql: { sqlite: [], postgres: [] },
});

describe("pendingMigrations", () => {
  const steps = [step(3), step(1), step(2)];

  it.each([
    [[], [1, 2, 3]],
    [[1], [2, 3]],
    [[1, 2, 3], []],
    [[2], [1, 3]],
  ])("applied %j → pending %j in order", (applied, pending) => {
    expect(pendingMigrations(applied, "db", steps).map((m) => m.version)).toEqual(pending);
  });

  it("refuses versions it does not know, naming them and the database", () => {
    expect(() => pendingMigrations([1, 2, 3, 5, 4], "/tmp/h.db", steps)).toThrow(UserError);
    expect(() => pendingMigrations([1, 5, 4], "/tmp/h.db", steps)).toThrow(
      "The history database /tmp/h.db was written by a newer Gauntlet (schema version 4, 5; this Gauntlet knows up to 3).",
    );
  });
});

describe("MIGRATIONS", () => {
  it("are numbered 1..n without gaps, each with SQL for both backends", () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    for (const m of MIGRATIONS) {
      expect(m.sql.sqlite.length).toBeGreaterThan(0);
      expect(m.sql.postgres.length).toBe(m.sql.sqlite.length);
    }
  });
});
