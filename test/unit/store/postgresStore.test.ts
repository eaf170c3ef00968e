// PostgreSQL store behaviour that needs no server; the rest runs against a real one in test/integration/store.
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/cli/io.js";
import { Redactor } from "../../../src/secrets/redactor.js";
import { describeStoreLocation, displayUrl, openStore } from "../../../src/store/store.js";

describe("PostgreSQL store location", () => {
  it("never prints the password of a store URL", () => {
    expect(displayUrl("postgres://app:s3cr%40t@db.internal:5432/history")).toBe(
      "postgres://app:[REDACTED]@db.internal:5432/history",
    );
    expect(displayUrl("postgresql://app@db/history?sslmode=require&password=hunter22")).toBe(
      "postgresql://app@db/history?sslmode=require&password=[REDACTED]",
    );
    expect(describeStoreLocation("postgres://u:pw-9911@h/db")).toBe("postgres://u:[REDACTED]@h/db");
  });

  it("fails to connect with a user error that hides the password, and registers it with the redactor", async () => {
    // Port 1 on loopback refuses connections at once.
    const secrets = new Redactor();
    const error = await openStore("postgres://gauntlet:Very-Secret-77@127.0.0.1:1/history", {
      secrets,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    const message = (error as Error).message;
    expect(message).toContain(
      "Cannot open the history database postgres://gauntlet:[REDACTED]@127.0.0.1:1/history",
    );
    expect(message).not.toContain("Very-Secret-77");
    expect(secrets.redact("password Very-Secret-77")).toBe("password [REDACTED]");
  });
});
