import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { UserError } from "../../../src/cli/io.js";
import { describeStoreLocation, openStore, parseRunRef } from "../../../src/store/store.js";
import { makeAssessment } from "./assessments.js";
import { describeHistoryStoreContract } from "./historyStoreContract.js";

const root = mkdtempSync(path.join(tmpdir(), "gauntlet-store-"));
let counter = 0;
const freshFile = () => path.join(root, `history-${++counter}.db`);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describeHistoryStoreContract("sqlite", {
  freshLocation: async () => freshFile(),
  sql: async (location, text) => {
    const db = new Database(location);
    try {
      db.pragma("foreign_keys = ON");
      const statement = db.prepare(text);
      if (statement.reader) return statement.all() as Record<string, unknown>[];
      statement.run();
      return [];
    } finally {
      db.close();
    }
  },
});

describe("SQLite history store", () => {
  it("defaults to <cwd>/.gauntlet/history.db, creating the folder", async () => {
    const cwd = mkdtempSync(path.join(root, "cwd-"));
    const store = await openStore(undefined, { cwd });
    await store.save(makeAssessment({ runId: "in-default" }));
    await store.close();
    expect(existsSync(path.join(cwd, ".gauntlet", "history.db"))).toBe(true);
    expect(describeStoreLocation(undefined, { cwd })).toBe(path.join(cwd, ".gauntlet", "history.db"));
  });

  it("resolves a relative path against cwd and accepts file: URLs", async () => {
    const cwd = mkdtempSync(path.join(root, "cwd-"));
    const store = await openStore("nested/dir/runs.db", { cwd });
    await store.save(makeAssessment({ runId: "relative" }));
    await store.close();
    const file = path.join(cwd, "nested", "dir", "runs.db");
    expect(existsSync(file)).toBe(true);
    const byUrl = await openStore(pathToFileURL(file).href);
    expect((await byUrl.get("relative"))?.runId).toBe("relative");
    await byUrl.close();
  });

  it("turns on WAL, foreign keys and a busy timeout", async () => {
    const file = freshFile();
    await (await openStore(file)).close();
    const db = new Database(file);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
    // foreign_keys and busy_timeout are per connection: observe them through the store's own behaviour instead.
    const store = await openStore(file);
    await store.save(makeAssessment({ runId: "fk" }));
    await store.close();
    const raw = new Database(file);
    raw.pragma("foreign_keys = ON");
    expect(() =>
      raw
        .prepare(
          "INSERT INTO check_results (run_id, check_id, category, risk, status, duration_ms) VALUES ('missing', 'x', 'security', 'low', 'PASS', 1)",
        )
        .run(),
    ).toThrow(/FOREIGN KEY/);
    raw.close();
  });

  it("creates the (system, started_at) index", async () => {
    const file = freshFile();
    await (await openStore(file)).close();
    const db = new Database(file, { readonly: true });
    const columns = db.prepare("SELECT name FROM pragma_index_info('runs_system_started_at')").pluck().all();
    db.close();
    expect(columns).toEqual(["system", "started_at"]);
  });

  it("lets two stores on one file read each other's runs", async () => {
    const file = freshFile();
    const [a, b] = await Promise.all([openStore(file), openStore(file)]);
    await a!.save(makeAssessment({ runId: "from-a" }));
    expect((await b!.get("from-a"))?.runId).toBe("from-a");
    await Promise.all([a!.close(), b!.close()]);
  });

  it("works in memory", async () => {
    const store = await openStore(":memory:");
    await store.save(makeAssessment({ runId: "mem" }));
    expect((await store.latest())?.runId).toBe("mem");
    await store.close();
  });

  it("reports a file that is not a database as a user error", async () => {
    const file = path.join(root, "not-a-db.db");
    writeFileSync(file, "this is not sqlite, just text that is long enough to have a header ".repeat(20));
    const error = await openStore(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(file);
  });

  it("reports a store folder it cannot create as a user error", async () => {
    const file = path.join(root, "a-file");
    writeFileSync(file, "");
    await expect(openStore(path.join(file, "history.db"))).rejects.toThrow(UserError);
  });

  it("refuses URL schemes it does not support", async () => {
    await expect(openStore("mysql://root@localhost/db")).rejects.toThrow(
      /Unsupported history store "mysql:\/\/…"/,
    );
  });
});

describe("parseRunRef", () => {
  it.each([
    ["latest", { kind: "latest", offset: 0 }],
    ["latest~0", { kind: "latest", offset: 0 }],
    ["latest~1", { kind: "latest", offset: 1 }],
    ["LATEST~12", { kind: "latest", offset: 12 }],
    [" 0f3a ", { kind: "id", prefix: "0f3a" }],
    ["latest~x", { kind: "id", prefix: "latest~x" }],
  ])("%j → %j", (input, expected) => {
    expect(parseRunRef(input)).toEqual(expected);
  });

  it("rejects an empty reference", () => {
    expect(() => parseRunRef("  ")).toThrow(UserError);
  });
});
