import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffCommand, registerDiff } from "../../../src/cli/diff.js";
import { historyCommand, registerHistory, resolveStoreOption } from "../../../src/cli/history.js";
import { memoryIO, UserError } from "../../../src/cli/io.js";
import { Redactor } from "../../../src/secrets/redactor.js";
import type { RunSummary } from "../../../src/store/store.js";
import { openStore } from "../../../src/store/store.js";
import { makeAssessment } from "./assessments.js";

const root = mkdtempSync(path.join(tmpdir(), "gauntlet-history-cli-"));
const store = path.join(root, "history.db");
const emptyStore = path.join(root, "empty.db");

beforeAll(async () => {
  const s = await openStore(store);
  await s.save(
    makeAssessment({
      runId: "1a2b3c4d-0000-4000-8000-000000000001",
      startedAt: "2025-06-01T10:00:00Z",
      verdict: "CONDITIONAL",
      overall: 82.5,
      coverage: 90,
      categoryScores: { security: 90, recovery: 80 },
      checks: [
        {
          id: "tlsModern",
          status: "PASS",
          category: "security",
          risk: "high",
          title: "Is TLS 1.2+ enforced?",
        },
        {
          id: "backupsRecent",
          status: "PASS",
          category: "recovery",
          risk: "critical",
          title: "Are backups recent?",
        },
        {
          id: "secretsNotInRepo",
          status: "FAIL",
          category: "security",
          risk: "critical",
          title: "Is the repo free of secrets?",
        },
      ],
    }),
  );
  await s.save(
    makeAssessment({
      runId: "5e6f7a8b-0000-4000-8000-000000000002",
      startedAt: "2025-06-02T10:00:00Z",
      verdict: "NOT READY",
      overall: 76,
      coverage: 95,
      categoryScores: { security: 70, recovery: 80 },
      checks: [
        {
          id: "tlsModern",
          status: "FAIL",
          category: "security",
          risk: "high",
          title: "Is TLS 1.2+ enforced?",
        },
        {
          id: "backupsRecent",
          status: "UNVERIFIED",
          category: "recovery",
          risk: "critical",
          title: "Are backups recent?",
        },
        {
          id: "secretsNotInRepo",
          status: "PASS",
          category: "security",
          risk: "critical",
          title: "Is the repo free of secrets?",
        },
      ],
    }),
  );
  await s.save(
    makeAssessment({
      runId: "9c8d7e6f-0000-4000-8000-000000000003",
      system: "billing",
      startedAt: "2025-06-03T09:30:00Z",
      verdict: "CERTIFIED",
      overall: null,
      coverage: 0,
      checks: [],
    }),
  );
  await s.close();
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("gauntlet history", () => {
  it("prints a table newest first", async () => {
    const io = memoryIO();
    expect(await historyCommand({ store }, io)).toBe(0);
    expect(io.stdout.join("\n")).toBe(
      [
        "RUN       STARTED (UTC)     SYSTEM   VERDICT      OVERALL  COVERAGE  FAILED  UNVERIFIED",
        "9c8d7e6f  2025-06-03 09:30  billing  CERTIFIED          -        0%       0           0",
        "5e6f7a8b  2025-06-02 10:00  orders   NOT READY       76.0       95%       1           1",
        "1a2b3c4d  2025-06-01 10:00  orders   CONDITIONAL     82.5       90%       1           0",
      ].join("\n"),
    );
  });

  it("filters by system, limits, and says when more runs exist", async () => {
    const io = memoryIO();
    await historyCommand({ store, system: "orders", limit: 1 }, io);
    expect(io.stdout[0]).toContain("5e6f7a8b");
    expect(io.stdout[0]).not.toContain("1a2b3c4d");
    expect(io.stdout[1]).toBe("Showing the 1 newest runs; pass --limit to see more.");
  });

  it("prints summaries as JSON", async () => {
    const io = memoryIO();
    await historyCommand({ store, json: true, limit: 2 }, io);
    const runs = JSON.parse(io.stdout.join("")) as RunSummary[];
    expect(runs.map((r) => r.runId)).toEqual([
      "9c8d7e6f-0000-4000-8000-000000000003",
      "5e6f7a8b-0000-4000-8000-000000000002",
    ]);
    expect(runs[1]).toMatchObject({ verdict: "NOT READY", overall: 76, failed: 1, unverified: 1, checks: 3 });
  });

  it("says when there is no history yet", async () => {
    const io = memoryIO();
    expect(await historyCommand({ store: emptyStore }, io)).toBe(0);
    expect(io.stdout).toEqual([
      `No runs recorded in ${emptyStore} yet. Run \`gauntlet assess\` to record one.`,
    ]);
  });

  it("rejects a bad --limit from the command line", async () => {
    const io = memoryIO();
    const program = new Command().exitOverride().configureOutput({ writeErr: (s) => io.err(s) });
    registerHistory(program, io, () => {});
    for (const c of program.commands) c.exitOverride();
    await expect(program.parseAsync(["history", "--limit", "0"], { from: "user" })).rejects.toThrow(
      /whole number/,
    );
    await expect(historyCommand({ store, limit: 0 }, io)).rejects.toThrow(UserError);
  });

  it("runs through commander and reports the exit code", async () => {
    const io = memoryIO();
    const codes: number[] = [];
    const program = new Command();
    registerHistory(program, io, (code) => codes.push(code));
    await program.parseAsync(["history", "--store", store, "--limit", "2", "--system", "billing"], {
      from: "user",
    });
    expect(codes).toEqual([0]);
    expect(io.stdout[0]).toContain("9c8d7e6f  2025-06-03 09:30  billing");
  });
});

describe("resolveStoreOption", () => {
  it("prefers --store, then $GAUNTLET_STORE, else the default", () => {
    const secrets = new Redactor();
    expect(resolveStoreOption("a.db", secrets, { GAUNTLET_STORE: "b.db" })).toBe("a.db");
    expect(resolveStoreOption(undefined, secrets, { GAUNTLET_STORE: "b.db" })).toBe("b.db");
    expect(resolveStoreOption(undefined, secrets, { GAUNTLET_STORE: " " })).toBeUndefined();
    expect(resolveStoreOption(undefined, secrets, {})).toBeUndefined();
  });

  it("rejects an empty --store and registers a URL password for redaction", () => {
    const secrets = new Redactor();
    expect(() => resolveStoreOption("", secrets)).toThrow(UserError);
    resolveStoreOption("postgres://app:from-store-flag@db/history", secrets, {});
    expect(secrets.redact("x from-store-flag")).toBe("x [REDACTED]");
  });
});

describe("gauntlet diff", () => {
  it("compares the previous run with the latest by default", async () => {
    const io = memoryIO();
    expect(await diffCommand(undefined, undefined, { store, system: "orders" }, io)).toBe(0);
    expect(io.stdout.join("\n")).toBe(
      [
        "Comparing 1a2b3c4d (orders, 2025-06-01 10:00 UTC) → 5e6f7a8b (orders, 2025-06-02 10:00 UTC)",
        "Overall: 82.5 → 76.0 (-6.5)   Coverage: 90% → 95% (+5)",
        "Verdict: CONDITIONAL → NOT READY (worse)",
        "",
        "Categories:",
        "  security  90.0 → 70.0 (-20.0)",
        "",
        "Regressed (2):",
        "  backupsRecent  PASS → UNVERIFIED  [critical] Are backups recent?",
        "  tlsModern      PASS → FAIL        [high] Is TLS 1.2+ enforced?",
        "",
        "Improved (1):",
        "  secretsNotInRepo  FAIL → PASS  [critical] Is the repo free of secrets?",
        "",
        "Unchanged: 0 checks.",
      ].join("\n"),
    );
  });

  it("accepts run id prefixes and prints JSON", async () => {
    const io = memoryIO();
    expect(await diffCommand("1a2b", "5e6f7a8b-0000-4000-8000-000000000002", { store, json: true }, io)).toBe(
      0,
    );
    const diff = JSON.parse(io.stdout.join(""));
    expect(diff.overall).toEqual({ from: 82.5, to: 76, delta: -6.5 });
    expect(diff.counts).toMatchObject({ regressed: 2, improved: 1 });
  });

  it("without --system, latest spans every system and notes a system change", async () => {
    const io = memoryIO();
    await diffCommand(undefined, undefined, { store }, io);
    expect(io.stdout[0]).toContain("5e6f7a8b (orders, 2025-06-02 10:00 UTC) → 9c8d7e6f (billing");
    expect(io.stdout[0]).toContain("Note: the two runs assess different systems.");
    expect(io.stdout[0]).toContain("Overall: 76.0 → - (n/a)");
    expect(io.stdout[0]).toContain("Removed (3):");
  });

  it("names an unknown run id and suggests gauntlet history", async () => {
    const error = await diffCommand("deadbeef", "latest", { store }, memoryIO()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(3);
    expect((error as Error).message).toBe(
      `No run matches "deadbeef" in ${store}. Run \`gauntlet history\` to list the recorded runs and their ids.`,
    );
  });

  it("fails with a user error when there is no previous run", async () => {
    await expect(diffCommand(undefined, undefined, { store: emptyStore }, memoryIO())).rejects.toThrow(
      /No run matches "latest~1"/,
    );
    await expect(diffCommand("latest~5", "latest", { store, system: "billing" }, memoryIO())).rejects.toThrow(
      'No run of system "billing" matches "latest~5"',
    );
  });

  it("registers with commander using the defaults", async () => {
    const io = memoryIO();
    const codes: number[] = [];
    const program = new Command();
    registerDiff(program, io, (code) => codes.push(code));
    await program.parseAsync(["diff", "--store", store, "--system", "orders"], { from: "user" });
    expect(codes).toEqual([0]);
    expect(io.stdout[0]).toMatch(/^Comparing 1a2b3c4d/);
  });
});
