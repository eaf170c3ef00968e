// datastoresRequireAuth against real servers spawned on free loopback ports: a Redis without a password fails and one
// with requirepass passes (an ACL user with nopass fails on a random password); PostgreSQL with trust fails naming the
// pg_hba.conf rule, with scram-sha-256 passes, and over its unix socket warns; PgBouncer with auth_type trust fails;
// MariaDB with grant tables off or an empty root password fails, with the Debian default (unix_socket) passes;
// memcached open on loopback warns and with an auth file passes. No URL password reaches a finding or evidence.
import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/security/datastoresRequireAuth.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import {
  type Cleanup,
  freePort,
  startPgbouncer,
  startPostgres,
  startRedis,
  waitForPort,
} from "../../support/datastores.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { requireTool } from "../../support/services.js";

const onCleanup = cleanupAfterEach();
const rows = (findings: { subject?: string; status: string; messageId: string }[]) =>
  findings.map((f) => [f.subject, f.status, f.messageId]);
const secret = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}X9`;

function allOutput(evidenceDir: string, findings: unknown): string {
  const files = readdirSync(evidenceDir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".json"));
  return [
    JSON.stringify(findings),
    ...files.map((f) => readFileSync(path.join(evidenceDir, f), "utf8")),
  ].join("\n");
}

describe("datastoresRequireAuth against real Redis", () => {
  it("fails a Redis without a password, passes one with requirepass, fails an ACL user with nopass", async () => {
    const password = secret("redis");
    const open = await startRedis(onCleanup);
    const locked = await startRedis(onCleanup, { password });
    const acl = await startAclRedis(onCleanup, password);
    const { ctx, evidenceDir, readEvidence } = makeCheckContext({
      services: {
        cache: { kind: "redis", url: open.url },
        sessions: { kind: "redis", url: locked.url },
        queue: { kind: "redis", url: `redis://app:${password}@127.0.0.1:${acl}` },
      },
    });
    const observation = await check.observe(ctx);
    const findings = check.judge(observation, ctx.spec);
    expect(rows(findings)).toEqual([
      ["cache", "FAIL", "acceptsNoPassword"],
      ["sessions", "PASS", "refusesUnauthenticated"],
      ["queue", "FAIL", "acceptsWrongPassword"],
    ]);
    expect(findings[0]!.message).toMatch(/PING without AUTH → \+PONG/);
    expect(findings[0]!.message).toMatch(/protected-mode (yes|no)/);
    expect(findings[1]!.message).toMatch(/NOAUTH/);
    expect(findings[1]!.message).toMatch(/WRONGPASS/);
    expect(findings[2]!.message).toMatch(/AUTH app <random wrong password> → \+OK/);
    expect(JSON.parse(readEvidence(findings[0]!.evidence![0]!)).details.version).toMatch(/^\d+\.\d+/);
    expect(allOutput(evidenceDir, findings)).not.toContain(password);
    recordObservation("datastoresRequireAuth", "ng.redis-open-and-nopass", observation, ctx.spec);
  });
});

describe("datastoresRequireAuth against real PostgreSQL and PgBouncer", () => {
  it("fails trust naming the pg_hba.conf rule, passes scram-sha-256, warns on a trusted unix socket", async () => {
    const password = secret("pg");
    const trust = await startPostgres(onCleanup, { auth: "trust" });
    const scram = await startPostgres(onCleanup, { auth: "scram", password });
    const bouncer = await startPgbouncer(onCleanup, trust, "postgres");
    const { ctx, evidenceDir } = makeCheckContext({
      services: {
        db: { kind: "postgres", url: `postgres://app:${password}@127.0.0.1:${trust.port}/postgres` },
        ledger: { kind: "postgres", url: `postgres://postgres:${password}@127.0.0.1:${scram.port}/postgres` },
        local: {
          kind: "postgres",
          url: `postgres://postgres@localhost:${trust.port}/postgres?host=${trust.socketDir}`,
        },
        pool: { kind: "pgbouncer", url: bouncer.url },
      },
    });
    const observation = await check.observe(ctx);
    const findings = check.judge(observation, ctx.spec);
    expect(rows(findings)).toEqual([
      ["db", "FAIL", "acceptsNoPassword"],
      ["ledger", "PASS", "refusesUnauthenticated"],
      ["local", "WARN", "openOverSocket"],
      ["pool", "FAIL", "acceptsNoPassword"],
    ]);
    // app does not exist in the trust cluster (refused); postgres gets in without a password.
    expect(findings[0]!.message).toMatch(
      /startup as postgres to database postgres, no password → AuthenticationOk/,
    );
    expect(findings[0]!.message).toMatch(
      /pg_hba\.conf trust rules: .*line \d+: host all all 127\.0\.0\.1\/32 trust/,
    );
    expect(findings[1]!.message).toMatch(/SCRAM-SHA-256/);
    expect(findings[1]!.message).toMatch(/random wrong password → password authentication failed/);
    expect(findings[2]!.message).toMatch(/socket mode 7\d\d/);
    expect(allOutput(evidenceDir, findings)).not.toContain(password);
    recordObservation("datastoresRequireAuth", "ng.postgres-trust", observation, ctx.spec);
  }, 90_000);
});

describe("datastoresRequireAuth against real MariaDB", () => {
  it("fails grant tables off and an empty root password, passes the Debian default root", async () => {
    const skipGrants = await startMariadb(onCleanup, { authRoot: "socket", skipGrantTables: true });
    const emptyRoot = await startMariadb(onCleanup, { authRoot: "normal" });
    const debian = await startMariadb(onCleanup, { authRoot: "socket" });
    const password = secret("my");
    const { ctx, evidenceDir } = makeCheckContext({
      services: {
        legacy: { kind: "mysql", url: `mysql://shop:${password}@127.0.0.1:${skipGrants}/shop` },
        old: { kind: "mysql", url: `mysql://127.0.0.1:${emptyRoot}` },
        orders: { kind: "mysql", url: `mysql://shop:${password}@127.0.0.1:${debian}/shop` },
      },
    });
    const observation = await check.observe(ctx);
    const findings = check.judge(observation, ctx.spec);
    expect(rows(findings)).toEqual([
      ["legacy", "FAIL", "acceptsNoPassword"],
      ["old", "FAIL", "acceptsNoPassword"],
      ["orders", "PASS", "refusesUnauthenticated"],
    ]);
    expect(findings[0]!.message).toMatch(/made up\), random password → OK/);
    expect(findings[1]!.message).toMatch(/login as root, empty password → OK/);
    // 1045 access denied, 1698 access denied without a password: MariaDB answers either, for every user tried.
    expect(findings[2]!.message.match(/ERR (1045|1698) during the login/g)).toHaveLength(3);
    expect(allOutput(evidenceDir, findings)).not.toContain(password);
    recordObservation(
      "datastoresRequireAuth",
      "ok.mariadb-debian-default",
      { stores: [observation.stores[2]] },
      {
        services: { orders: ctx.spec.services.orders },
      },
    );
  }, 90_000);
});

describe("datastoresRequireAuth against real memcached, and what it cannot probe", () => {
  it("warns on memcached open on loopback, passes one with an auth file", async () => {
    const open = await startMemcached(onCleanup);
    const locked = await startMemcached(onCleanup, true);
    const { ctx } = makeCheckContext({
      services: {
        fragments: { kind: "memcached", url: `memcached://127.0.0.1:${open}` },
        pages: { kind: "memcached", url: `memcached://127.0.0.1:${locked}` },
      },
    });
    const findings = await check.run(ctx);
    expect(rows(findings)).toEqual([
      ["fragments", "WARN", "openOnLoopbackOnly"],
      ["pages", "PASS", "refusesUnauthenticated"],
    ]);
    expect(findings[0]!.message).toMatch(/VERSION \d/);
    expect(findings[1]!.message).toMatch(/CLIENT_ERROR unauthenticated/);
  });

  it("is UNVERIFIED when unreachable, for mongodb, without a url; N/A without datastores", async () => {
    const port = await freePort();
    const { ctx } = makeCheckContext({
      services: {
        cache: { kind: "redis", url: `redis://127.0.0.1:${port}` },
        db: { kind: "postgres", url: `postgres://app@127.0.0.1:${port}/app` },
        docs: { kind: "mongodb", url: `mongodb://127.0.0.1:${port}` },
        sql: { kind: "mysql" },
      },
    });
    const findings = await check.run(ctx);
    expect(rows(findings)).toEqual([
      ["cache", "UNVERIFIED", "unreachable"],
      ["db", "UNVERIFIED", "unreachable"],
      ["docs", "UNVERIFIED", "noProbe"],
      ["sql", "UNVERIFIED", "noUrl"],
    ]);
    expect(findings[0]!.data?.code).toBe("ECONNREFUSED");
    const spec = makeCheckContext({ services: { api: { url: "http://127.0.0.1:9" } } }).ctx.spec;
    expect(check.applies(spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });
});

/** A Redis whose default user has a password and whose ACL user `app` has nopass: any password logs app in. */
async function startAclRedis(cleanup: Cleanup, password: string): Promise<number> {
  const server = requireTool("redis-server", "redis-server");
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-redis-acl-"));
  writeFileSync(
    path.join(dir, "redis.conf"),
    [
      "bind 127.0.0.1",
      `port ${port}`,
      `dir ${dir}`,
      'save ""',
      "appendonly no",
      `user default on >${password} ~* &* +@all`,
      "user app on nopass ~* &* +@all",
      "",
    ].join("\n"),
  );
  const child = spawn(server, [path.join(dir, "redis.conf")], { stdio: "ignore" });
  cleanup(() => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForPort(port);
  return port;
}

/** A memcached on loopback; with `auth`, an auth file (-Y) so every command needs a login first. */
async function startMemcached(cleanup: Cleanup, auth = false): Promise<number> {
  const server = requireTool("memcached", "memcached");
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-memcached-"));
  chmodSync(dir, 0o755); // memcached reads its auth file after dropping to nobody
  const authFile = path.join(dir, "auth");
  writeFileSync(authFile, `app:${secret("mc")}\n`, { mode: 0o644 });
  const root = process.getuid?.() === 0;
  const args = ["-l", "127.0.0.1", "-p", String(port), "-U", "0", ...(root ? ["-u", "nobody"] : [])];
  const child = spawn(server, [...args, ...(auth ? ["-Y", authFile] : [])], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  cleanup(() => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForPort(port, 5_000).catch((error: Error) => {
    throw new Error(`${error.message}; memcached said: ${stderr || "nothing"} (exit ${child.exitCode})`);
  });
  return port;
}

/** A MariaDB of its own on a free port (mariadb-install-db, then mariadbd), as the mysql user when root. */
async function startMariadb(
  cleanup: Cleanup,
  options: { authRoot: "socket" | "normal"; skipGrantTables?: boolean },
): Promise<number> {
  const install = requireTool("mariadb-install-db", "mariadb-server");
  const server = ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"].find((f) => {
    try {
      execFileSync(f, ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  });
  if (!server) throw new Error("mariadbd is not installed: apt-get install mariadb-server");
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-mariadb-"));
  const data = path.join(dir, "data");
  mkdirSync(data);
  const root = process.getuid?.() === 0;
  if (root) {
    const uid = Number(execFileSync("id", ["-u", "mysql"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "mysql"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
    chownSync(data, uid, gid);
  }
  const user = root ? ["--user=mysql"] : [];
  execFileSync(
    install,
    [
      "--no-defaults",
      `--datadir=${data}`,
      ...user,
      `--auth-root-authentication-method=${options.authRoot}`,
      "--skip-test-db",
      `--tmpdir=${dir}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 },
  );
  const child = spawn(
    server,
    [
      "--no-defaults",
      `--datadir=${data}`,
      ...user,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      `--socket=${dir}/mysqld.sock`,
      `--pid-file=${dir}/mysqld.pid`,
      `--tmpdir=${dir}`,
      "--skip-log-error",
      ...(options.skipGrantTables ? ["--skip-grant-tables"] : []),
    ],
    { stdio: "ignore" },
  );
  cleanup(async () => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  await waitForPort(port, 30_000);
  return port;
}
