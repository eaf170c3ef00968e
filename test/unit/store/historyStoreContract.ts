// The behaviour every HistoryStore backend must share; run by the SQLite unit tests and the PostgreSQL integration
// tests against a real server.
import { describe, expect, it } from "vitest";
import { AmbiguousRunIdError, type HistoryStore, openStore } from "../../../src/store/store.js";
import { sampleAssessment } from "../../fixtures/assessment.js";
import { makeAssessment } from "./assessments.js";

export interface StoreHarness {
  /** A location (path or URL) whose database holds no tables yet. */
  freshLocation(): Promise<string>;
  /** Runs one statement against the database at a location, bypassing the store; returns the rows. */
  sql(location: string, text: string): Promise<Record<string, unknown>[]>;
}

export function describeHistoryStoreContract(backend: string, harness: StoreHarness): void {
  async function withStore<T>(use: (store: HistoryStore, location: string) => Promise<T>): Promise<T> {
    const location = await harness.freshLocation();
    const store = await openStore(location);
    try {
      return await use(store, location);
    } finally {
      await store.close();
    }
  }

  describe(`HistoryStore contract (${backend})`, () => {
    it("returns a saved run whole by its full id", async () => {
      await withStore(async (store) => {
        const run = makeAssessment({ runId: "0f3a9c1e-0000-4000-8000-000000000001" });
        await store.save(run);
        expect(await store.get(run.runId)).toEqual(run);
      });
    });

    it("round-trips the realistic sample run (waivers, measurements, locations, newlines)", async () => {
      await withStore(async (store) => {
        const sample = sampleAssessment();
        await store.save(sample);
        expect(await store.get(sample.runId)).toEqual(sample);
        expect((await store.list())[0]).toMatchObject({
          runId: sample.runId,
          verdict: "NOT READY",
          overall: 61.71,
          coverage: 85.71,
          startedAt: "2026-03-14T09:12:03.412Z",
          durationMs: 458_495,
          checks: 18,
          failed: 2,
          unverified: 2,
        });
      });
    });

    it("returns undefined for an unknown id, and when empty for latest", async () => {
      await withStore(async (store) => {
        expect(await store.get("nope")).toBeUndefined();
        expect(await store.get("latest")).toBeUndefined();
        expect(await store.latest()).toBeUndefined();
        expect(await store.list()).toEqual([]);
      });
    });

    it("finds a run by a unique prefix, and rejects an ambiguous one listing the matches", async () => {
      await withStore(async (store) => {
        await store.save(makeAssessment({ runId: "aaaa1111", startedAt: "2025-06-01T10:00:00Z" }));
        await store.save(makeAssessment({ runId: "aaaa2222", startedAt: "2025-06-02T10:00:00Z" }));
        await store.save(makeAssessment({ runId: "bbbb3333", startedAt: "2025-06-03T10:00:00Z" }));
        expect((await store.get("aaaa1"))?.runId).toBe("aaaa1111");
        expect((await store.get("b"))?.runId).toBe("bbbb3333");
        const error = await store.get("aaaa").catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AmbiguousRunIdError);
        expect((error as AmbiguousRunIdError).matches).toEqual(["aaaa2222", "aaaa1111"]);
        expect((error as Error).message).toContain("aaaa1111");
        expect((error as Error).message).toContain("aaaa2222");
        expect((error as AmbiguousRunIdError).exitCode).toBe(3);
      });
    });

    it("prefers an exact id over a longer id it prefixes, and treats LIKE wildcards literally", async () => {
      await withStore(async (store) => {
        await store.save(makeAssessment({ runId: "abc" }));
        await store.save(makeAssessment({ runId: "abcdef" }));
        expect((await store.get("abc"))?.runId).toBe("abc");
        expect(await store.get("%")).toBeUndefined();
        expect(await store.get("a_c")).toBeUndefined();
      });
    });

    it("finds a run by the start of its id's random part (its short id), and lists every id newest first", async () => {
      await withStore(async (store) => {
        await store.save(
          makeAssessment({ runId: "20261201T080000Z-3f9b00", startedAt: "2026-12-01T08:00:00Z" }),
        );
        await store.save(
          makeAssessment({ runId: "20261201T223045Z-3f9a1c", startedAt: "2026-12-01T22:30:45Z" }),
        );
        expect(await store.runIds()).toEqual(["20261201T223045Z-3f9a1c", "20261201T080000Z-3f9b00"]);
        expect((await store.get("3f9a"))?.runId).toBe("20261201T223045Z-3f9a1c");
        expect((await store.get("20261201T08"))?.runId).toBe("20261201T080000Z-3f9b00");
        const error = await store.get("20261201").catch((e: unknown) => e);
        expect((error as AmbiguousRunIdError).matches).toEqual([
          "20261201T223045Z-3f9a1c",
          "20261201T080000Z-3f9b00",
        ]);
        expect((error as Error).message).toMatch(/3f9a \(20261201T223045Z-3f9a1c\), 3f9b \(/);
        expect(await store.get("3f9c")).toBeUndefined();
      });
    });

    it("lists summaries newest first, with counts, limit and system filter", async () => {
      await withStore(async (store) => {
        await store.save(makeAssessment({ runId: "run-1", startedAt: "2025-06-01T10:00:00.000Z" }));
        await store.save(
          makeAssessment({
            runId: "run-2",
            system: "billing",
            startedAt: "2025-06-02T10:00:00.000Z",
            verdict: "CERTIFIED",
            overall: 95.25,
            coverage: 100,
            checks: [{ id: "healthEndpointsRespond", status: "PASS" }],
          }),
        );
        await store.save(makeAssessment({ runId: "run-3", startedAt: "2025-06-03T10:00:00.000Z" }));

        const all = await store.list();
        expect(all.map((r) => r.runId)).toEqual(["run-3", "run-2", "run-1"]);
        expect(all[1]).toEqual({
          runId: "run-2",
          system: "billing",
          verdict: "CERTIFIED",
          overall: 95.25,
          coverage: 100,
          startedAt: "2025-06-02T10:00:00.000Z",
          durationMs: 61_500,
          revision: { kind: "git", digest: "0123456789abcdef0123456789abcdef01234567" },
          checks: 1,
          failed: 0,
          unverified: 0,
        });
        expect(all[0]).toMatchObject({
          checks: 6,
          failed: 1,
          unverified: 2,
          verdict: "NOT READY",
          overall: 72.5,
        });

        expect((await store.list({ limit: 2 })).map((r) => r.runId)).toEqual(["run-3", "run-2"]);
        expect((await store.list({ system: "orders" })).map((r) => r.runId)).toEqual(["run-3", "run-1"]);
        expect((await store.list({ system: "orders", limit: 1 })).map((r) => r.runId)).toEqual(["run-3"]);
        expect(await store.list({ system: "unknown" })).toEqual([]);
        await expect(store.list({ limit: 0 })).rejects.toThrow(/--limit/);
      });
    });

    it("resolves latest, latest~N and latest per system", async () => {
      await withStore(async (store) => {
        await store.save(makeAssessment({ runId: "r1", startedAt: "2025-06-01T10:00:00Z" }));
        await store.save(
          makeAssessment({ runId: "r2", system: "billing", startedAt: "2025-06-02T10:00:00Z" }),
        );
        await store.save(makeAssessment({ runId: "r3", startedAt: "2025-06-03T10:00:00Z" }));

        expect((await store.latest())?.runId).toBe("r3");
        expect((await store.latest(undefined, 1))?.runId).toBe("r2");
        expect((await store.latest("orders", 1))?.runId).toBe("r1");
        expect((await store.latest("billing"))?.runId).toBe("r2");
        expect(await store.latest("billing", 1)).toBeUndefined();
        expect((await store.get("latest"))?.runId).toBe("r3");
        expect((await store.get("latest~2"))?.runId).toBe("r1");
        expect(await store.get("latest~3")).toBeUndefined();
        await expect(store.latest(undefined, -1)).rejects.toThrow(/offset/);
      });
    });

    it("orders runs by instant even when start times carry different UTC offsets", async () => {
      await withStore(async (store) => {
        await store.save(makeAssessment({ runId: "later", startedAt: "2025-06-01T10:30:00Z" }));
        await store.save(makeAssessment({ runId: "earlier", startedAt: "2025-06-01T12:00:00+02:00" }));
        expect((await store.latest())?.runId).toBe("later");
        const [first] = await store.list();
        expect(first?.startedAt).toBe("2025-06-01T10:30:00.000Z");
      });
    });

    it("replaces a run saved twice under the same id, check results included", async () => {
      await withStore(async (store, location) => {
        await store.save(makeAssessment({ runId: "same" }));
        const again = makeAssessment({
          runId: "same",
          verdict: "CERTIFIED",
          overall: 99,
          checks: [{ id: "onlyCheck", status: "PASS" }],
        });
        await store.save(again);
        expect(await store.get("same")).toEqual(again);
        expect(await store.list()).toHaveLength(1);
        const rows = await harness.sql(location, "SELECT check_id FROM check_results WHERE run_id = 'same'");
        expect(rows.map((r) => r.check_id)).toEqual(["onlyCheck"]);
      });
    });

    it("keeps a null overall score", async () => {
      await withStore(async (store) => {
        const run = makeAssessment({ runId: "no-score", overall: null, checks: [] });
        await store.save(run);
        expect((await store.get("no-score"))?.scores.overall).toBeNull();
        expect((await store.list())[0]).toMatchObject({ overall: null, checks: 0, failed: 0, unverified: 0 });
      });
    });

    it("stores text that evidence excerpts may hold (NUL, unpaired surrogates, quotes, emoji)", async () => {
      await withStore(async (store) => {
        const run = makeAssessment({ runId: "odd-text" });
        run.checks[0]!.findings[0]!.message = `before\u0000after \uD800 "quoted" \\u0000 ✓ 🚀`;
        await store.save(run);
        const message = (await store.get("odd-text"))?.checks[0]?.findings[0]?.message;
        expect(message).toMatch(/^before.after . "quoted" \\u0000 ✓ 🚀$/u);
      });
    });

    it("creates the documented tables and deletes check results with their run", async () => {
      await withStore(async (store, location) => {
        await store.save(makeAssessment({ runId: "cascade" }));
        const [run] = await harness.sql(
          location,
          `SELECT run_id, system, system_version, verdict, overall, coverage, started_at, finished_at, duration_ms,
             revision_kind, revision_digest, spec_path, tool_version, assessment FROM runs`,
        );
        expect(run).toMatchObject({
          run_id: "cascade",
          system: "orders",
          system_version: "1.4.2",
          verdict: "NOT READY",
        });
        const checks = await harness.sql(
          location,
          "SELECT check_id, category, risk, status, duration_ms FROM check_results ORDER BY check_id",
        );
        expect(checks).toHaveLength(6);
        expect(checks[0]).toMatchObject({
          check_id: "alertRulesValid",
          category: "observability",
          risk: "high",
        });
        await harness.sql(location, "DELETE FROM runs WHERE run_id = 'cascade'");
        expect(await harness.sql(location, "SELECT check_id FROM check_results")).toEqual([]);
      });
    });

    it("migrates once: reopening a migrated database changes nothing and keeps the runs", async () => {
      const location = await harness.freshLocation();
      const first = await openStore(location);
      await first.save(makeAssessment({ runId: "kept" }));
      await first.close();
      for (let i = 0; i < 2; i++) {
        const again = await openStore(location);
        expect((await again.get("kept"))?.runId).toBe("kept");
        await again.close();
      }
      const versions = await harness.sql(location, "SELECT version FROM schema_migrations ORDER BY version");
      expect(versions.map((v) => Number(v.version))).toEqual([1]);
    });

    it("refuses a database written by a newer Gauntlet", async () => {
      const location = await harness.freshLocation();
      await (await openStore(location)).close();
      await harness.sql(
        location,
        "INSERT INTO schema_migrations (version, applied_at) VALUES (999, CURRENT_TIMESTAMP)",
      );
      const error = await openStore(location).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(
        /newer Gauntlet \(schema version 999; this Gauntlet knows up to 1\)/,
      );
      expect((error as { exitCode?: number }).exitCode).toBe(3);
    });

    it("closes twice without error", async () => {
      const store = await openStore(await harness.freshLocation());
      await store.close();
      await store.close();
    });
  });
}
