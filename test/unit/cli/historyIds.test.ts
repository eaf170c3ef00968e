// Run ids are `<UTC time>-<random hex>`; their first 8 characters are the date, the same for every run of a day
// (issue "Hardening Gauntlet itself", item 8). `history` shows a unique short id taken from the random part,
// git-style, and `report`/`diff` accept it; an ambiguous one lists the candidates.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffCommand } from "../../../src/cli/diff.js";
import { historyCommand } from "../../../src/cli/history.js";
import { memoryIO } from "../../../src/cli/io.js";
import { reportCommand } from "../../../src/cli/report.js";
import { AmbiguousRunIdError, openStore, shortRunIds } from "../../../src/store/store.js";
import { makeAssessment } from "../store/assessments.js";

const root = mkdtempSync(path.join(tmpdir(), "gauntlet-history-ids-"));
const store = path.join(root, "history.db");
const RUNS = [
  { runId: "20261201T080000Z-3f9b00", startedAt: "2026-12-01T08:00:00Z" },
  { runId: "20261201T101500Z-77ab02", startedAt: "2026-12-01T10:15:00Z" },
  { runId: "20261201T223045Z-3f9a1c", startedAt: "2026-12-01T22:30:45Z" },
  // A suffix made of digits could be read as the start of every run id of 2026.
  { runId: "20261202T090000Z-202655", startedAt: "2026-12-02T09:00:00Z" },
];

beforeAll(async () => {
  const s = await openStore(store);
  for (const run of RUNS) await s.save(makeAssessment(run));
  await s.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("short run ids", () => {
  it("are the shortest unique start (at least 4 characters) of the random part", () => {
    const ids = RUNS.map((r) => r.runId);
    expect(Object.fromEntries(shortRunIds(ids))).toEqual({
      "20261201T080000Z-3f9b00": "3f9b",
      "20261201T101500Z-77ab02": "77ab",
      "20261201T223045Z-3f9a1c": "3f9a",
      "20261202T090000Z-202655": "20265",
    });
  });

  it("grow as long as needed, and fall back to the full id when the random parts are the same", () => {
    const ids = ["20261201T080000Z-3f9a1c", "20261203T080000Z-3f9a1d", "20261204T080000Z-3f9a1c"];
    expect(Object.fromEntries(shortRunIds(ids))).toEqual({
      "20261201T080000Z-3f9a1c": "20261201T080000Z-3f9a1c",
      "20261203T080000Z-3f9a1d": "3f9a1d",
      "20261204T080000Z-3f9a1c": "20261204T080000Z-3f9a1c",
    });
  });

  it("of ids of another form are their shortest unique prefix of at least 8 characters, as before", () => {
    const ids = ["1a2b3c4d-0000-4000-8000-000000000001", "1a2b3c4d-1111-4000-8000-000000000002", "ffff0000"];
    expect(Object.fromEntries(shortRunIds(ids))).toEqual({
      "1a2b3c4d-0000-4000-8000-000000000001": "1a2b3c4d-0",
      "1a2b3c4d-1111-4000-8000-000000000002": "1a2b3c4d-1",
      ffff0000: "ffff0000",
    });
  });
});

describe("gauntlet history, report and diff with short ids", () => {
  it("history shows a different id for every run of the same day", async () => {
    const io = memoryIO();
    expect(await historyCommand({ store }, io)).toBe(0);
    const ids = io.stdout
      .join("\n")
      .split("\n")
      .slice(1)
      .map((line) => line.split(/\s+/)[0]);
    expect(ids).toEqual(["20265", "3f9a", "77ab", "3f9b"]);

    const json = memoryIO();
    await historyCommand({ store, json: true }, json);
    expect(JSON.parse(json.stdout.join("")).map((r: { shortId: string }) => r.shortId)).toEqual(ids);
  });

  it("report accepts the short id, the full id, a prefix of either, and latest~N", async () => {
    for (const ref of ["3f9a", "3f9a1c", "20261201T223045Z-3f9a1c", "20261201T22", "latest~1"]) {
      const io = memoryIO();
      expect(await reportCommand(ref, { store, format: "json" }, io), ref).toBe(0);
      expect(JSON.parse(io.stdout.join("")).runId, ref).toBe("20261201T223045Z-3f9a1c");
    }
  });

  it("an ambiguous reference lists the candidates with their short ids", async () => {
    const error = await reportCommand("20261201", { store }, memoryIO()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AmbiguousRunIdError);
    expect((error as AmbiguousRunIdError).matches).toEqual([
      "20261201T223045Z-3f9a1c",
      "20261201T101500Z-77ab02",
      "20261201T080000Z-3f9b00",
    ]);
    expect((error as Error).message).toMatch(
      /"20261201" is ambiguous: it matches 3 runs: 3f9a \(20261201T223045Z-3f9a1c\), 77ab \(20261201T101500Z-77ab02\), 3f9b \(20261201T080000Z-3f9b00\)/,
    );
    const prefix = await reportCommand("3f9", { store }, memoryIO()).catch((e: unknown) => e);
    expect((prefix as AmbiguousRunIdError).matches).toEqual([
      "20261201T223045Z-3f9a1c",
      "20261201T080000Z-3f9b00",
    ]);
  });

  it("diff accepts short ids and shows them", async () => {
    const io = memoryIO();
    expect(await diffCommand("3f9b", "77ab", { store }, io)).toBe(0);
    expect(io.stdout[0]).toMatch(/^Comparing 3f9b \(orders, 2026-12-01 08:00 UTC\) → 77ab \(orders/);
  });
});
