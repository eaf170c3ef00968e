import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check, { exampleNames, placeholderRule } from "../../../src/checks/deployment/requiredEnvPresent.js";
import { specSchema } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";

describe("requiredEnvPresent meta", () => {
  it("is a high-risk deployment check named after its file", () => {
    expect(check.meta).toMatchObject({ id: "requiredEnvPresent", category: "deployment", risk: "high" });
  });

  it("applies only when a variable is required", () => {
    const opts = { allowDestructive: false };
    const spec = (deployment?: unknown) =>
      specSchema.parse({ version: 1, system: { name: "t" }, deployment });
    expect(check.applies(spec(), opts)).toMatchObject({ applies: false });
    expect(check.applies(spec({ env: { required: [] } }), opts)).toMatchObject({ applies: false });
    expect(check.applies(spec({ env: { required: ["DB_PASSWORD"] } }), opts)).toBe(true);
  });
});

describe("placeholderRule", () => {
  it.each([
    ["", "empty"],
    ["   ", "whitespace"],
    ["\t\n", "whitespace"],
    ["changeme", "change-me-word"],
    ["CHANGE-ME", "change-me-word"],
    ["change_me", "change-me-word"],
    ["TODO", "to-do-marker"],
    ["todo", "to-do-marker"],
    ["xxx", "run-of-x"],
    ["XXXXXXXX", "run-of-x"],
    ["<your database password>", "angle-brackets"],
    ["<>", "angle-brackets"],
    [`\${DB_PASSWORD}`, "unexpanded-variable"],
    ["placeholder", "placeholder-word"],
    ["Secret", "generic-secret-word"],
    ["PASSWORD", "generic-password-word"],
    [" example ", "example-word"],
    ["dummy", "dummy-word"],
    ["replace_me", "replace-me-word"],
    ["REPLACE-ME", "replace-me-word"],
    ["your-api-key", "your-prefix"],
    ["YOUR_TOKEN_HERE", "your-prefix"],
  ])("%j matches %s", (value, rule) => {
    expect(placeholderRule(value)).toBe(rule);
  });

  it.each([
    "s3cr3t-Value-XYZ-123",
    "postgres",
    "8080",
    "todolist",
    "xx",
    "secretary",
    "password123!Q",
    "example.com",
    "yourself",
    "a<b>c",
  ])("%j looks real", (value) => {
    expect(placeholderRule(value)).toBeNull();
  });
});

describe("exampleNames", () => {
  it("reads NAME= and export NAME= lines, not comments", () => {
    const names = exampleNames(
      "# Database\nDB_PASSWORD=\nexport API_KEY=your-key\n  SPACED = 1\n# OPTIONAL=1\nnot a line\nlower_case=x\r\n",
    );
    expect([...names].sort()).toEqual(["API_KEY", "DB_PASSWORD", "SPACED", "lower_case"]);
  });
});

describe("requiredEnvPresent run", () => {
  const required = ["DB_PASSWORD", "API_KEY", "REGION", "EMPTY"];

  it("passes real values, fails unset and placeholder ones, per variable", async () => {
    const { ctx } = makeCheckContext(
      { deployment: { env: { required } } },
      { env: { DB_PASSWORD: "correct-horse-battery", API_KEY: "changeme", EMPTY: "" } },
    );
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["DB_PASSWORD", "PASS", "set"],
      ["API_KEY", "FAIL", "placeholder"],
      ["REGION", "FAIL", "unset"],
      ["EMPTY", "FAIL", "placeholder"],
    ]);
    expect(findings.map((f) => f.data?.placeholderRule)).toEqual([null, "change-me-word", null, "empty"]);
    expect(findings.find((f) => f.subject === "REGION")?.data).toMatchObject({ set: false });
    expect(findings.find((f) => f.subject === "DB_PASSWORD")?.data).toMatchObject({ set: true, length: 21 });
  });

  it("warns about a value too short to be redacted or to be a real secret", async () => {
    const { ctx } = makeCheckContext({ deployment: { env: { required: ["PIN"] } } }, { env: { PIN: "a1b" } });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([["PIN", "WARN", "tooShort"]]);
    expect(findings[0]!.data).toMatchObject({ length: 3 });
  });

  it("counts a service's control.process.env as set for that service", async () => {
    const { ctx } = makeCheckContext({
      deployment: { env: { required: ["DB_PASSWORD", "API_KEY"] } },
      services: {
        api: {
          url: "http://127.0.0.1:1",
          control: { process: { command: "node x.js", env: { DB_PASSWORD: "pw-4-api" } } },
        },
        worker: { control: { process: { command: "node w.js", env: { API_KEY: "your-api-key" } } } },
      },
    });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["api", "PASS", "set"],
      ["worker", "FAIL", "placeholder"],
    ]);
    expect(findings.map((f) => f.data?.variable)).toEqual(["DB_PASSWORD", "API_KEY"]);
    expect(findings[1]!.data).toMatchObject({ placeholderRule: "your-prefix", service: "worker" });
  });

  it("warns for each required variable missing from the example file", async () => {
    const { ctx } = makeCheckContext(
      { deployment: { env: { required: ["DB_PASSWORD", "API_KEY"], example: ".env.example" } } },
      { env: { DB_PASSWORD: "correct-horse-battery", API_KEY: "k-123456" } },
    );
    writeFileSync(path.join(ctx.specDir, ".env.example"), "DB_PASSWORD=changeme\n# API_KEY=\n");
    const findings = await check.run(ctx);
    const drift = findings.filter((f) => f.subject === ".env.example");
    expect(drift.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      [".env.example", "WARN", "undocumented"],
    ]);
    expect(drift.map((f) => [f.data?.variable, f.location?.path])).toEqual([["API_KEY", ".env.example"]]);
  });

  it("passes the example file when it documents every variable, and warns when it is missing", async () => {
    const documented = makeCheckContext(
      { deployment: { env: { required: ["DB_PASSWORD"], example: ".env.example" } } },
      { env: { DB_PASSWORD: "correct-horse-battery" } },
    );
    writeFileSync(path.join(documented.ctx.specDir, ".env.example"), "export DB_PASSWORD=\n");
    const ok = await check.run(documented.ctx);
    expect(ok.find((f) => f.subject === ".env.example")).toMatchObject({
      status: "PASS",
      messageId: "exampleComplete",
    });

    const missing = makeCheckContext(
      { deployment: { env: { required: ["DB_PASSWORD"], example: "config/.env.example" } } },
      { env: { DB_PASSWORD: "correct-horse-battery" } },
    );
    const warned = await check.run(missing.ctx);
    expect(warned.find((f) => f.subject === "config/.env.example")).toMatchObject({
      status: "WARN",
      messageId: "exampleUnreadable",
    });
  });
});
