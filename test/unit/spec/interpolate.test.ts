// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} references are the subject under test.
import { describe, expect, it } from "vitest";
import { interpolate, looksSecret, urlPasswords } from "../../../src/spec/interpolate.js";

describe("interpolate", () => {
  it("replaces ${VAR} and records where each value landed", () => {
    const result = interpolate("postgres://app:${DB_PASSWORD}@db/app", { DB_PASSWORD: "pw" });
    expect(result.value).toBe("postgres://app:pw@db/app");
    expect(result.problems).toEqual([]);
    expect(result.substitutions).toEqual([{ name: "DB_PASSWORD", value: "pw", start: 15, end: 17 }]);
  });

  it("uses the default when the variable is unset or empty", () => {
    expect(interpolate("${PORT:-8080}", {}).value).toBe("8080");
    expect(interpolate("${PORT:-8080}", { PORT: "" }).value).toBe("8080");
    expect(interpolate("${PORT:-8080}", { PORT: "9000" }).value).toBe("9000");
    expect(interpolate("${EMPTY:-}", {}).value).toBe("");
  });

  it("keeps $${ as a literal ${ and a lone $ as is", () => {
    expect(interpolate("$${HOME} and $HOME cost $5", { HOME: "/root" }).value).toBe(
      "${HOME} and $HOME cost $5",
    );
  });

  it("reports an unset variable with the fix", () => {
    const result = interpolate("${A}-${B}", { B: "b" });
    expect(result.value).toBe("-b");
    expect(result.problems).toEqual([
      { message: "environment variable A is not set", fix: "export A=… or write ${A:-default}" },
    ]);
  });

  it("reports malformed references", () => {
    expect(interpolate("x${OPEN", {}).problems[0]!.message).toContain("never closed");
    expect(interpolate("${1BAD}", {}).problems[0]!.message).toContain("not a variable reference");
    expect(interpolate("${}", {}).problems[0]!.fix).toContain("$${");
  });
});

describe("looksSecret", () => {
  it("matches secret-looking word parts in any case and style", () => {
    for (const name of [
      "DB_PASSWORD",
      "DB_PASS",
      "PGPASSWORD",
      "dbPassword",
      "API_KEY",
      "apiKey",
      "GITHUB_TOKEN",
      "SESSION_SECRET",
      "AWS_CREDENTIALS",
      "Authorization",
      "PRIVATE_KEY_PEM",
      "PASSWORD_SALT",
      "SENTRY_DSN",
      "DB_PWD",
    ]) {
      expect(looksSecret(name), name).toBe(true);
    }
  });

  it("leaves ordinary names alone, and the shell's PWD", () => {
    for (const name of [
      "PORT",
      "HOST",
      "LOG_LEVEL",
      "DATABASE_URL",
      "TEAM",
      "PWD",
      "OLDPWD",
      "SYSTEM_NAME",
    ]) {
      expect(looksSecret(name), name).toBe(false);
    }
  });
});

describe("urlPasswords", () => {
  it("finds the password span of every URL with userinfo in a text", () => {
    const text = "psql postgres://app:s3cret@db/app && redis-cli -u redis://:r3dis@cache:6379 http://plain/x";
    const found = urlPasswords(text);
    expect(found.map((p) => text.slice(p.start, p.end))).toEqual(["s3cret", "r3dis"]);
    expect(found[0]!.url).toBe("postgres://app:s3cret@");
  });

  it("ignores URLs with a user and no password", () => {
    expect(urlPasswords("postgres://app@db/app")).toEqual([]);
  });
});
