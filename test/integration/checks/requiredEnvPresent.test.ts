// A real secret in the environment: after the check, it appears in no observation, evidence file, finding or log line,
// and the run's secrets know it.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/deployment/requiredEnvPresent.js";
import { REDACTED } from "../../../src/secrets/redactor.js";
import { makeCheckContext } from "../../support/checkContext.js";

const SECRET = "pg-Sup3r-S3cret-7d1f0a";
const SERVICE_SECRET = "svc-only-T0ken-99f2";
const PLACEHOLDER = "<set me>";

function allEvidence(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(path.join(e.parentPath, e.name), "utf8"))
    .join("\n");
}

describe("requiredEnvPresent keeps values secret", () => {
  it("writes names, set flags, lengths and rules, never values", async () => {
    const { ctx, evidenceDir, logs } = makeCheckContext(
      {
        deployment: {
          env: { required: ["DB_PASSWORD", "API_TOKEN", "SIGNING_KEY"], example: ".env.example" },
        },
        services: {
          api: {
            url: "http://127.0.0.1:1",
            control: { process: { command: "node server.js", env: { API_TOKEN: SERVICE_SECRET } } },
          },
        },
      },
      { env: { DB_PASSWORD: SECRET, SIGNING_KEY: PLACEHOLDER, PATH: process.env.PATH } },
    );
    writeFileSync(path.join(ctx.specDir, ".env.example"), "DB_PASSWORD=\nSIGNING_KEY=\n");

    const observation = await check.observe(ctx);
    const findings = check.judge(observation, ctx.spec);

    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["DB_PASSWORD", "PASS", "set"],
      ["api", "PASS", "set"],
      ["SIGNING_KEY", "FAIL", "placeholder"],
      [".env.example", "WARN", "undocumented"],
    ]);
    expect(findings[2]!.data).toMatchObject({
      set: true,
      length: PLACEHOLDER.length,
      placeholderRule: "angle-brackets",
    });

    const evidence = allEvidence(evidenceDir);
    const output = [JSON.stringify(observation), JSON.stringify(findings), evidence, logs.join("\n")].join(
      "\n",
    );
    for (const value of [SECRET, SERVICE_SECRET, PLACEHOLDER]) {
      expect(output).not.toContain(value);
    }
    // Nothing had to be redacted: the check never tried to write a value in the first place.
    expect(evidence).not.toContain(REDACTED);
    expect(evidence).toContain("DB_PASSWORD");
    expect(findings.every((f) => f.evidence?.length)).toBe(true);

    expect(ctx.secrets.redact(`password=${SECRET}`)).toBe(`password=${REDACTED}`);
    expect(ctx.secrets.redact(SERVICE_SECRET)).toBe(REDACTED);
  });
});
