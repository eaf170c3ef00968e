// Dedicated, real datastores for one test: a redis-server or a PostgreSQL cluster on a free loopback port, with its
// data in a temp folder, stopped and removed by the cleanup it registers (also when the test fails). Tests that
// restart, kill or freeze a store use these, never the shared ones.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./ports.js";
import { requireTool } from "./services.js";

export type Cleanup = (undo: () => Promise<void> | void) => void;

export { freePort };

export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RedisOptions {
  password?: string;
  /** aof: every write fsynced to the append-only file; rdb: snapshots only; none: memory only (a cache). */
  persistence?: "aof" | "rdb" | "none";
  /** More arguments, after those (later ones win: `--appendfsync everysec`, `--save 900 1`); one word each. */
  args?: string[];
}

export interface RunningRedis {
  port: number;
  url: string;
  dir: string;
  /** The command line that starts it (for control.process or control.commands specs). */
  command: string;
  /** Commands for `control.commands` over a pid file: Gauntlet stands outside, as with a systemd unit. */
  commands: { start: string; stop: string; kill: string; restart: string; pid: string };
}

/** Arguments of a Redis for the given persistence; the `--dir` keeps its files in the test's folder. */
export function redisArgs(port: number, dir: string, options: RedisOptions = {}): string[] {
  const persistence = options.persistence ?? "none";
  return [
    "--bind",
    "127.0.0.1",
    "--port",
    String(port),
    "--dir",
    dir,
    "--save",
    persistence === "rdb" ? "3600 1" : "",
    "--appendonly",
    persistence === "aof" ? "yes" : "no",
    ...(persistence === "aof" ? ["--appendfsync", "always"] : []),
    ...(options.password ? ["--requirepass", options.password] : []),
    ...(options.args ?? []),
  ];
}

/** A redis-server daemonised with a pid file, controlled from outside the way an init system would. */
export async function startRedis(onCleanup: Cleanup, options: RedisOptions = {}): Promise<RunningRedis> {
  const server = requireTool("redis-server", "redis-server");
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-redis-"));
  const pidFile = path.join(dir, "redis.pid");
  const args = [
    ...redisArgs(port, dir, options),
    "--pidfile",
    pidFile,
    "--logfile",
    path.join(dir, "redis.log"),
  ];
  const quoted = args.map((a) => (a === "" ? "''" : a)).join(" ");
  const start = `${server} ${quoted} --daemonize yes`;
  const pid = `cat ${pidFile} 2>/dev/null`;
  const kill = `kill -9 $(cat ${pidFile}) && rm -f ${pidFile}`;
  const stop = `kill $(cat ${pidFile}); while kill -0 $(cat ${pidFile} 2>/dev/null) 2>/dev/null; do sleep 0.05; done; true`;
  const commands = { start, stop, kill, pid, restart: `${stop}; ${start}` };
  execFileSync("/bin/sh", ["-c", start]);
  onCleanup(() => {
    try {
      execFileSync("/bin/sh", ["-c", `${stop}`], { timeout: 10_000 });
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForPort(port);
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  return { port, url: `redis://${auth}127.0.0.1:${port}`, dir, command: `${server} ${quoted}`, commands };
}

export interface PostgresOptions {
  /** trust: no password; scram: password required (the superuser's is `password`). */
  auth?: "trust" | "scram";
  password?: string;
  /**
   * Server settings appended to postgresql.conf after initdb (e.g. archive_mode), given the cluster's own folder
   * (owned by the server's user, removed by the cleanup) for the files they name.
   */
  settings?: (dir: string) => Record<string, string>;
}

export interface RunningPostgres {
  port: number;
  /** The superuser's URL (with the password under scram). */
  url: string;
  dir: string;
  socketDir: string;
  bin: string;
  /** Commands for `control.commands` (pg_ctl), run as the postgres user when the tests run as root. */
  commands: { start: string; stop: string; kill: string; restart: string; pid: string };
}

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.map((v) => path.join(root, v, "bin")).find((b) => existsSync(path.join(b, "initdb")));
  if (!bin)
    throw new Error("PostgreSQL is not installed: apt-get install postgresql (scripts/install-test-deps.sh)");
  return bin;
}

/** A PostgreSQL cluster of its own (initdb + pg_ctl), as the postgres user when running as root. */
export async function startPostgres(
  onCleanup: Cleanup,
  options: PostgresOptions = {},
): Promise<RunningPostgres> {
  const bin = postgresBin();
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-pg-"));
  const data = path.join(dir, "data");
  const socketDir = path.join(dir, "sock");
  mkdirSync(socketDir);
  const root = process.getuid?.() === 0;
  const as = (command: string) =>
    root ? `runuser -u postgres -- sh -c '${command.replace(/'/g, "'\\''")}'` : command;
  if (root) {
    execFileSync("/bin/sh", ["-c", "id postgres >/dev/null 2>&1 || useradd --system postgres"]);
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
    chownSync(socketDir, uid, gid);
  }
  onCleanup(() => {
    try {
      execFileSync("/bin/sh", ["-c", as(`${bin}/pg_ctl -D ${data} -m immediate -w stop`)], {
        timeout: 20_000,
        stdio: "ignore",
      });
    } catch {
      // not running
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const password = options.password ?? "pg-test-password";
  const auth = options.auth ?? "trust";
  const pwfile = path.join(dir, "pw");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
  execFileSync(
    "/bin/sh",
    [
      "-c",
      as(
        `${bin}/initdb -D ${data} -U postgres -A ${auth === "scram" ? "scram-sha-256" : "trust"} ${auth === "scram" ? `--pwfile=${pwfile}` : ""} >${dir}/initdb.log 2>&1`,
      ),
    ],
    { timeout: 60_000 },
  );
  rmSync(pwfile);
  const settings = options.settings?.(dir) ?? {};
  const lines = Object.entries(settings).map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'\n`);
  if (lines.length > 0) appendFileSync(path.join(data, "postgresql.conf"), lines.join(""));
  const start = as(
    `${bin}/pg_ctl -D ${data} -w -t 30 -l ${dir}/server.log start -o "-c listen_addresses=127.0.0.1 -p ${port} -k ${socketDir}"`,
  );
  const stop = as(`${bin}/pg_ctl -D ${data} -w -m fast stop`);
  const commands = {
    start,
    stop,
    // A crash: SIGKILL to the postmaster; PostgreSQL recovers from its WAL at the next start.
    kill: `kill -9 $(head -1 ${data}/postmaster.pid)`,
    restart: as(`${bin}/pg_ctl -D ${data} -w -m fast restart`),
    pid: `head -1 ${data}/postmaster.pid 2>/dev/null`,
  };
  execFileSync("/bin/sh", ["-c", start], { timeout: 60_000, stdio: "ignore" });
  const credentials = auth === "scram" ? `postgres:${encodeURIComponent(password)}` : "postgres";
  return { port, url: `postgres://${credentials}@127.0.0.1:${port}/postgres`, dir, socketDir, bin, commands };
}

/** A process started for a test, killed (with its group) by the cleanup. */
export function spawnForTest(
  onCleanup: Cleanup,
  command: string,
  args: string[],
  cwd?: string,
): ChildProcess {
  const child = spawn(command, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.resume();
  child.stderr?.resume();
  onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }, 3_000);
    await exited;
    clearTimeout(timer);
  });
  return child;
}

export interface RunningPgbouncer {
  port: number;
  /** A client URL through the pooler to `database`. */
  url: string;
  dir: string;
  commands: { start: string; stop: string; kill: string; restart: string; pid: string };
}

/**
 * PgBouncer in front of `postgres`, pooling `database` in transaction mode; daemonised with a pid file and run as the
 * postgres user when the tests run as root (it refuses to run as root).
 */
export async function startPgbouncer(
  onCleanup: Cleanup,
  postgres: RunningPostgres,
  database: string,
  settings: Record<string, string | number> = {},
): Promise<RunningPgbouncer> {
  const bin = requireTool("pgbouncer", "pgbouncer");
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-pgbouncer-"));
  const root = process.getuid?.() === 0;
  const as = (command: string) => (root ? `runuser -u postgres -- ${command}` : command);
  const config = [
    "[databases]",
    `${database} = host=127.0.0.1 port=${postgres.port} dbname=${database} user=postgres`,
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = trust",
    `auth_file = ${dir}/userlist.txt`,
    "pool_mode = transaction",
    `pidfile = ${dir}/pgbouncer.pid`,
    `logfile = ${dir}/pgbouncer.log`,
    "admin_users = postgres",
    "ignore_startup_parameters = extra_float_digits",
    ...Object.entries(settings).map(([k, v]) => `${k} = ${v}`),
    "",
  ].join("\n");
  writeFileSync(path.join(dir, "pgbouncer.ini"), config);
  writeFileSync(path.join(dir, "userlist.txt"), '"postgres" ""\n');
  if (root) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    for (const f of ["", "pgbouncer.ini", "userlist.txt"]) chownSync(path.join(dir, f), uid, gid);
  }
  const pidFile = path.join(dir, "pgbouncer.pid");
  const start = as(`${bin} -d ${dir}/pgbouncer.ini`);
  const stop = `kill -INT $(cat ${pidFile}); while kill -0 $(cat ${pidFile} 2>/dev/null) 2>/dev/null; do sleep 0.05; done; true`;
  const commands = {
    start,
    stop,
    kill: `kill -9 $(cat ${pidFile})`,
    restart: `${stop}; ${start}`,
    pid: `cat ${pidFile} 2>/dev/null`,
  };
  execFileSync("/bin/sh", ["-c", start], { stdio: "ignore" });
  onCleanup(() => {
    try {
      execFileSync("/bin/sh", ["-c", stop], { timeout: 10_000, stdio: "ignore" });
    } catch {
      // gone
    }
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForPort(port);
  return { port, url: `postgres://postgres@127.0.0.1:${port}/${database}`, dir, commands };
}

/** Runs SQL as the superuser of a test cluster (through its URL). */
export function psql(postgres: RunningPostgres, sql: string, database = "postgres"): string {
  return execFileSync(
    path.join(postgres.bin, "psql"),
    [
      "-X",
      "-q",
      "-At",
      "-h",
      "127.0.0.1",
      "-p",
      String(postgres.port),
      "-U",
      "postgres",
      "-d",
      database,
      "-c",
      sql,
    ],
    { encoding: "utf8", env: { ...process.env, PGPASSWORD: "pg-test-password" } },
  );
}
