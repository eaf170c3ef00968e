// Where datastoresRequireAuth connects and as whom, from a store's URL: libpq's socket forms, Redis' TLS scheme and
// user, the users tried by default. The password is never part of what it returns.
import { describe, expect, it } from "vitest";
import { parseStoreUrl } from "../../../src/checks/security/datastoresRequireAuth.js";

describe("parseStoreUrl", () => {
  it("reads PostgreSQL host, port, database and users, and never the password", () => {
    const parsed = parseStoreUrl(
      "postgres",
      "postgres://app:s3cr%40t@db.internal:6543/orders?sslmode=require",
    );
    expect(parsed).toEqual({
      target: { host: "db.internal", port: 6543 },
      users: ["app", "postgres"],
      database: "orders",
      sslmode: "require",
    });
    expect(JSON.stringify(parsed)).not.toContain("s3cr");
  });

  it("defaults to port 5432, user postgres and a database named after the user", () => {
    expect(parseStoreUrl("pgbouncer", "postgres://127.0.0.1")).toEqual({
      target: { host: "127.0.0.1", port: 5432 },
      users: ["postgres"],
      database: "postgres",
    });
  });

  it("turns libpq's socket forms into the socket file .s.PGSQL.<port>", () => {
    expect(
      parseStoreUrl("postgres", "postgres://app@localhost:5433/app?host=/var/run/postgresql/"),
    ).toMatchObject({
      target: { socketPath: "/var/run/postgresql/.s.PGSQL.5433" },
    });
    expect(parseStoreUrl("postgres", "postgresql://%2Ftmp%2Fpg/app")).toMatchObject({
      target: { socketPath: "/tmp/pg/.s.PGSQL.5432" },
    });
    expect(parseStoreUrl("postgres", "postgres://app@localhost/app?host=10.1.2.3")).toMatchObject({
      target: { host: "10.1.2.3" },
    });
  });

  it("reads Redis' user and TLS scheme, MySQL's users and memcached's port", () => {
    expect(parseStoreUrl("redis", "rediss://app:pw@cache:6380/0")).toMatchObject({
      target: { host: "cache", port: 6380, tls: true },
      user: "app",
    });
    expect(parseStoreUrl("redis", "redis://:pw@cache")).toMatchObject({ target: { port: 6379 }, users: [] });
    expect(parseStoreUrl("mysql", "mysql://shop:pw@127.0.0.1/shop")).toMatchObject({
      target: { port: 3306 },
      users: ["shop", "root"],
    });
    expect(parseStoreUrl("mysql", "mysql://127.0.0.1")).toMatchObject({ users: ["root"] });
    expect(parseStoreUrl("memcached", "memcached://127.0.0.1")).toMatchObject({ target: { port: 11211 } });
  });
});
