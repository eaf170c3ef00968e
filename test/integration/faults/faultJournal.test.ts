// The fault journal against real faults: undos are on disk before the fault goes in and struck off once done; a run
// whose process is gone has its leftovers undone by the next one — a toxic on a real proxy removed, a frozen process
// tree resumed, a supervised service left running stopped — and what cannot be undone from outside is reported.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FaultJournal, reconcileLeftovers, startTicksOf } from "../../../src/core/faultJournal.js";
import { RollbackScope } from "../../../src/core/rollbacks.js";
import { startProxy } from "../../fixtures/services/system.js";
import { cleanupAfterEach } from "../../support/cleanups.js";

const onCleanup = cleanupAfterEach();

function stateOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2)[0]!;
}

function sleeper(): ChildProcess {
  const child = spawn("sleep", ["60"], { stdio: "ignore", detached: true });
  onCleanup(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone
    }
  });
  return child;
}

/** A journal as a killed run leaves it: its owner pid is a process that has exited. */
async function deadRunJournal(dir: string, runId: string, entries: unknown[]): Promise<void> {
  const gone = spawn("true");
  await new Promise((r) => gone.on("exit", r));
  mkdirFaults(dir);
  writeFileSync(
    path.join(dir, "faults", `${runId}.json`),
    JSON.stringify({ runId, pid: gone.pid, startTicks: "1", entries }),
  );
}

function mkdirFaults(dir: string): void {
  mkdirSync(path.join(dir, "faults"), { recursive: true });
}

describe("fault journal", () => {
  it("writes an undo before add() returns and strikes it off once it ran", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-journal-"));
    const journal = new FaultJournal(dir, "run-1");
    const scope = new RollbackScope("crashRecovered", 1_000, journal);
    const handle = scope.add("resume cache", () => {}, { kind: "resumeProcesses", pid: 1, service: "cache" });
    const written = JSON.parse(readFileSync(journal.file, "utf8"));
    expect(written.entries).toEqual([
      expect.objectContaining({
        check: "crashRecovered",
        name: "resume cache",
        undo: expect.objectContaining({ kind: "resumeProcesses" }),
      }),
    ]);
    expect(written.pid).toBe(process.pid);
    await handle.runNow();
    expect(existsSync(journal.file)).toBe(false);
    journal.close();
    expect(existsSync(path.join(dir, "faults"))).toBe(false); // nothing made that stays
  });

  it("a killed run's toxic, frozen process and unreachable start are undone or reported by the next run", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-journal-"));
    const proxy = await startProxy(1);
    onCleanup(() => proxy.close());
    await proxy.proxy.addToxic({
      name: "gauntlet-blackhole-up-abc",
      type: "timeout",
      stream: "upstream",
      attributes: { timeout: 0 },
    });
    const frozen = sleeper();
    process.kill(frozen.pid!, "SIGSTOP");
    await new Promise((r) => setTimeout(r, 50));
    expect(stateOf(frozen.pid!)).toBe("T");
    await deadRunJournal(dir, "20261201T000000Z-dead01", [
      {
        id: 1,
        check: "dependencyOutageDegradesGracefully",
        name: "remove toxics",
        at: "",
        undo: {
          kind: "removeToxics",
          api: proxy.apiUrl,
          token: proxy.token,
          names: ["gauntlet-blackhole-up-abc"],
        },
      },
      {
        id: 2,
        check: "dependencyOutageDegradesGracefully",
        name: "resume cache",
        at: "",
        undo: { kind: "resumeProcesses", pid: frozen.pid, service: "cache" },
      },
      {
        id: 3,
        check: "crashRecovered",
        name: "start db",
        at: "",
        undo: { kind: "mayBeDown", service: "db", fix: "run its start command: pg_ctl start" },
      },
    ]);
    const leftovers = await reconcileLeftovers(dir);
    expect(leftovers.map((l) => [l.check, l.outcome])).toEqual([
      ["crashRecovered", "manual"],
      ["dependencyOutageDegradesGracefully", "undone"],
      ["dependencyOutageDegradesGracefully", "undone"],
    ]);
    expect(proxy.proxy.toxics()).toEqual([]);
    expect(stateOf(frozen.pid!)).not.toBe("T");
    expect(JSON.stringify(leftovers)).not.toContain(proxy.token); // the journal keeps the token; reports never
    expect(readdirSync(path.join(dir, "faults"))).toEqual([]); // reconciled: the journal is gone
  });

  it("a supervised service orphaned by the killed run is stopped; one whose pid was reused is left alone", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-journal-"));
    const orphan = sleeper();
    const stranger = sleeper();
    await deadRunJournal(dir, "20261201T000000Z-dead02", [
      {
        id: 1,
        check: "_system",
        name: "stop api",
        at: "",
        undo: {
          kind: "stopProcessGroup",
          pgid: orphan.pid,
          startTicks: startTicksOf(orphan.pid!),
          service: "api",
          command: "sleep 60",
        },
      },
      {
        id: 2,
        check: "_system",
        name: "stop web",
        at: "",
        undo: {
          kind: "stopProcessGroup",
          pgid: stranger.pid,
          startTicks: "123",
          service: "web",
          command: "node web.js",
        },
      },
    ]);
    const exited = new Promise((r) => orphan.on("exit", r));
    const leftovers = await reconcileLeftovers(dir);
    expect(leftovers.map((l) => [l.what, l.outcome])).toEqual([
      ["stop web", "gone"],
      ["stop api", "undone"],
    ]);
    await exited;
    expect(stranger.exitCode).toBeNull(); // a different process under the same pid: not ours to stop
  });

  it("leaves the journal of a run that is still alive alone", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-journal-"));
    const journal = new FaultJournal(dir, "20261201T000000Z-alive1");
    journal.record("crashRecovered", "start api", { kind: "mayBeDown", service: "api", fix: "start it" });
    expect(await reconcileLeftovers(dir)).toEqual([]);
    expect(existsSync(journal.file)).toBe(true);
  });
});
