// The keyword filter in front of secretlint (only the preset rules that can match a text are run on it) must never
// change what secretlint finds: on a positive sample for every rule of the preset, and on this repository's own
// sources and fixtures, the filtered run and the run of every rule agree. A rule added by a later preset without a
// trigger here fails the first test.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { rules } from "@secretlint/secretlint-rule-preset-recommend";
import { describe, expect, it } from "vitest";
import {
  SECRETLINT_RULES,
  secretlintDetections,
  TRIGGERED_RULE_IDS,
} from "../../../../src/engines/secretScan/secretlint.js";
import { base62 } from "../../../support/secretValues.js";

const ROOT = path.resolve(import.meta.dirname, "../../../..");
const hex = (n: number) => randomBytes(n).toString("hex").slice(0, n);
const letters = (n: number) =>
  base62(n * 3)
    .replace(/\d/g, "")
    .padEnd(n, "q")
    .slice(0, n);
const digits = (n: number) => [...randomBytes(n)].map((b) => String(b % 10)).join("");

/** One text per preset rule that the rule reports (checked below), each made at test time. */
function samples(): [string, string, string][] {
  const key = generateKeyPairSync("rsa", {
    modulusLength: 1024,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  }).privateKey;
  return [
    ["aws", "config/aws.ini", `aws_secret_access_key = "${randomBytes(30).toString("base64")}"\n`],
    [
      "gcp",
      "keys/sa.json",
      JSON.stringify({ type: "service_account", private_key_id: hex(40), private_key: key }),
    ],
    ["privatekey", "keys/id.pem", key],
    ["npm", "src/publish.ts", `const token = "npm_${base62(36)}";\n`],
    ["npm", ".npmrc", `//registry.npmjs.org/:_authToken=${base62(36)}\n`],
    ["basicauth", "src/client.ts", `fetch("https://deploy:${base62(14)}@registry.example.com/v2/");\n`],
    ["slack", "config/slack.yml", `token: xoxb-${digits(11)}-${digits(12)}-${base62(24)}\n`],
    [
      "slack",
      "config/hook.yml",
      `url: https://hooks.slack.com/services/T${base62(10)}/B${base62(10)}/${base62(24)}\n`,
    ],
    ["sendgrid", "src/mail.ts", `const k = "SG.${base62(22)}.${base62(43)}";\n`],
    ["shopify", "src/shop.ts", `const k = "shpat_${hex(32)}";\n`],
    ["github", "src/gh.ts", `const a = "ghp_${base62(36)}";\nconst b = "github_pat_${base62(82)}";\n`],
    ["gitlab", "src/gl.ts", `const k = "glpat-${base62(20)}";\n`],
    ["grafana", "src/gf.ts", `const a = "glc_${base62(40)}";\nconst b = "glsa_${base62(32)}_${hex(8)}";\n`],
    ["openai", "src/ai.ts", `const k = "sk-proj-${base62(58)}T3BlbkFJ${base62(58)}";\n`],
    ["anthropic", "src/ai.ts", `const k = "sk-ant-api03-${base62(95)}AA";\n`],
    ["groq", "src/ai.ts", `const k = "gsk_${base62(52)}";\n`],
    ["huggingface", "src/ai.ts", `const k = "hf_${letters(34)}";\n`],
    ["linear", "src/ln.ts", `const k = "lin_api_${base62(40)}";\n`],
    ["notion", "src/nt.ts", `const k = "ntn_${digits(11)}${base62(35)}";\n`],
    ["1password", "src/op.ts", `const k = "ops_${onePasswordToken()}";\n`],
    [
      "database-connection-string",
      "config/db.env",
      `DATABASE_URL=postgres://app:${base62(14)}@db.internal:5432/app\n`,
    ],
    ["database-connection-string", "config/db.env", `MONGO=mongodb://app:${base62(14)}@mongo.internal/app\n`],
    ["database-connection-string", "config/db.env", `MYSQL=mysql://app:${base62(14)}@mysql.internal/app\n`],
    ["hashicorp-vault", "src/vault.ts", `const k = "hvs.${base62(95)}";\n`],
    ["vercel", "src/vc.ts", `const k = "vcp_${base62(30)}";\n`],
    ["databricks", "src/db.ts", `const k = "dapi${hex(32)}";\n`],
    ["docker", "src/dk.ts", `const k = "dckr_pat_${base62(27)}";\n`],
    ["figma", "src/fg.ts", `const k = "figd_${base62(45)}";\n`],
  ];
}

/** 1Password's service-account token: base64 of a JSON object, its last group the closing brace alone (fQ==). */
function onePasswordToken(): string {
  let json = JSON.stringify({
    email: `${base62(12)}@1passwordserviceaccounts.lcl`,
    secretKey: base62(40),
    k: "",
  });
  while (json.length % 3 !== 1) json = json.replace('"k":"', '"k":"x');
  return Buffer.from(json).toString("base64");
}

const spans = (found: { ruleId: string; start: number; end: number }[]) =>
  found.map((d) => `${d.ruleId}@${d.start}-${d.end}`).sort();

describe("secretlint's keyword filter", () => {
  it("has a trigger for every rule of the preset Gauntlet runs", () => {
    expect([...TRIGGERED_RULE_IDS].sort()).toEqual([...SECRETLINT_RULES].sort());
    expect(SECRETLINT_RULES.length).toBe(rules.length - 1); // all but filter-comments
  });

  it("keeps every finding on a positive sample of each rule", async () => {
    const covered = new Set<string>();
    for (const [rule, file, content] of samples()) {
      const all = await secretlintDetections({ file, content }, { allRules: true });
      expect(
        all.some((d) => d.ruleId === `@secretlint/secretlint-rule-${rule}`),
        `the ${rule} sample is reported by its rule`,
      ).toBe(true);
      expect(spans(await secretlintDetections({ file, content })), rule).toEqual(spans(all));
      covered.add(`@secretlint/secretlint-rule-${rule}`);
    }
    expect([...covered].sort()).toEqual([...SECRETLINT_RULES].sort());
  });

  it("agrees with the unfiltered run on this repository's sources and fixtures", async () => {
    const files = ["src", "test/fixtures", "docs", "examples"].flatMap((dir) =>
      readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name)),
    );
    let compared = 0;
    for (const absolute of files) {
      const bytes = readFileSync(absolute);
      if (bytes.includes(0) || bytes.length > 2_000_000) continue;
      const file = path.relative(ROOT, absolute).split(path.sep).join("/");
      const content = bytes.toString("utf8");
      const filtered = await secretlintDetections({ file, content });
      expect(spans(filtered), file).toEqual(
        spans(await secretlintDetections({ file, content }, { allRules: true })),
      );
      compared++;
    }
    expect(compared).toBeGreaterThan(200);
  }, 120_000);
});
