// Where PostgreSQL's programs are and who may run its server: Debian keeps initdb and pg_ctl out of PATH, under
// /usr/lib/postgresql/<major>/bin, and the server refuses to run as root, so a root Gauntlet runs it as `postgres`.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { runCommand, which } from "../shell/run.js";

export interface PostgresTools {
  /** Folder holding initdb, pg_ctl, postgres, pg_restore, psql. */
  bin: string;
  /** The server's major version (from `postgres --version`). */
  major: number | null;
  /** Set when running as root: the server runs as this user through runuser. */
  runAs: { user: string; uid: number; gid: number } | null;
}

export type ToolsFound = { ok: true; tools: PostgresTools } | { ok: false; reason: string; fix: string };

const INSTALL = "apt-get install postgresql (Debian/Ubuntu) or put PostgreSQL's bin folder on PATH";

export async function findPostgresTools(searchPath = process.env.PATH): Promise<ToolsFound> {
  const candidates: string[] = [];
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    for (const version of readdirSync(root).sort((a, b) => Number(b) - Number(a))) {
      candidates.push(path.join(root, version, "bin"));
    }
  }
  const initdb = await which("initdb", searchPath);
  if (initdb) candidates.unshift(path.dirname(initdb));
  const bin = candidates.find((dir) =>
    ["initdb", "pg_ctl", "pg_restore", "psql"].every((p) => existsSync(path.join(dir, p))),
  );
  if (!bin)
    return {
      ok: false,
      reason: "PostgreSQL's server programs (initdb, pg_ctl) are not installed",
      fix: INSTALL,
    };
  const version = await runCommand(path.join(bin, "postgres"), ["--version"], { timeoutMs: 10_000 });
  const major = Number(/(\d+)(?:\.\d+)?/.exec(version.stdout)?.[1] ?? Number.NaN);
  let runAs: PostgresTools["runAs"] = null;
  if (process.getuid?.() === 0) {
    const id = await runCommand("id", ["postgres"], { timeoutMs: 5_000 });
    const uid = Number(/uid=(\d+)/.exec(id.stdout)?.[1]);
    const gid = Number(/gid=(\d+)/.exec(id.stdout)?.[1]);
    if (id.exitCode !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
      return {
        ok: false,
        reason: "Gauntlet runs as root, PostgreSQL refuses to, and there is no postgres user to run it as",
        fix: "run Gauntlet as an ordinary user, or create the user: useradd --system postgres",
      };
    }
    runAs = { user: "postgres", uid, gid };
  }
  return { ok: true, tools: { bin, major: Number.isFinite(major) ? major : null, runAs } };
}

/** argv for a server-side program (initdb, pg_ctl): through runuser when root. */
export function serverArgv(tools: PostgresTools, program: string, args: string[]): [string, string[]] {
  const file = path.join(tools.bin, program);
  if (!tools.runAs) return [file, args];
  return ["runuser", ["-u", tools.runAs.user, "--", file, ...args]];
}
