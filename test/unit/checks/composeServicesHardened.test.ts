// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} references are part of the inputs under test.
// composeServicesHardened through observe() and judge() on real compose files: docker/awesome-compose (CC0) and
// hand-written ones for each rule. Secret values are made at test time and must appear in no finding or evidence.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import check from "../../../src/checks/deployment/composeServicesHardened.js";
import exposureCheck from "../../../src/checks/security/internalServicesNotExposed.js";
import { specSchema } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { recordObservation } from "../../support/judgeFixtures.js";

const AWESOME = path.resolve(import.meta.dirname, "../../fixtures/compose/awesome-compose");
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function composeFolder(text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gauntlet-hardening-"));
  scratch.push(dir);
  writeFileSync(path.join(dir, "compose.yaml"), text);
  return dir;
}

type SpecPart = Parameters<typeof makeCheckContext>[0];

async function run(
  specDir: string,
  compose: string[],
  extra: SpecPart = {},
  env: NodeJS.ProcessEnv = {},
  record?: string,
) {
  const { ctx, readEvidence, evidenceDir } = makeCheckContext(
    { ...extra, deployment: { compose } },
    { specDir, env, checkId: "composeServicesHardened" },
  );
  const observation = await check.observe(ctx);
  if (record)
    recordObservation("composeServicesHardened", record, observation, { ...extra, deployment: { compose } });
  return { ctx, observation, findings: check.judge(observation, ctx.spec), readEvidence, evidenceDir };
}

const rows = (
  findings: { subject?: string; status: string; messageId: string; location?: { line?: number } }[],
) => findings.map((f) => [f.subject, f.status, f.messageId, f.location?.line ?? null]);

const HARDENED = [
  "services:",
  "  api:",
  "    image: ghcr.io/acme/api:1.4.2",
  "    user: '10001'",
  "    read_only: true",
  "    tmpfs: [/tmp]",
  "    restart: unless-stopped",
  "    healthcheck:",
  "      test: [CMD, /api, health]",
  "    deploy:",
  "      resources:",
  "        limits: {memory: 256m, cpus: '0.5'}",
  "    environment:",
  "      DB_PASSWORD: ${DB_PASSWORD}",
  "      DB_PASSWORD_FILE: /run/secrets/db",
  "      MYSQL_ALLOW_EMPTY_PASSWORD: 'no'",
  "      LOG_LEVEL: info",
  "",
].join("\n");

describe("composeServicesHardened meta", () => {
  it("is a medium-risk deployment check that always applies", () => {
    expect(check.meta).toMatchObject({
      id: "composeServicesHardened",
      category: "deployment",
      risk: "medium",
    });
    const spec = specSchema.parse({ version: 1, system: { name: "t" } });
    expect(check.applies(spec, { allowDestructive: false })).toBe(true);
  });
});

describe("composeServicesHardened run", () => {
  it("passes a service that follows every rule", async () => {
    const { findings } = await run(composeFolder(HARDENED), ["compose.yaml"], {}, {}, "ok.hardened");
    expect(rows(findings)).toEqual([["api", "PASS", "hardened", 2]]);
  });

  it("fails privileged and literal secrets (masked, never in a finding or the evidence)", async () => {
    const password = `pw-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
    const urlPassword = `u${Math.random().toString(36).slice(2, 12)}`;
    const text = HARDENED.replace("    user: '10001'\n", "    user: '10001'\n    privileged: true\n").replace(
      "      LOG_LEVEL: info\n",
      `      LOG_LEVEL: info\n      ADMIN_PASSWORD: "${password}"\n      DATABASE_URL: postgres://app:${urlPassword}@db:5432/app\n`,
    );
    const { findings, readEvidence } = await run(
      composeFolder(text),
      ["compose.yaml"],
      {},
      {},
      "ng.privileged-secrets",
    );
    expect(rows(findings)).toEqual([
      ["api", "FAIL", "privileged", 5],
      ["api", "FAIL", "literalSecret", 19],
      ["api", "FAIL", "literalSecret", 20],
    ]);
    // At most 4 characters, one per 8 of the secret's length.
    const masked = (secret: string) => `${secret.slice(0, Math.min(4, Math.floor(secret.length / 8)))}…`;
    expect(findings[1]!.data).toMatchObject({ variable: "ADMIN_PASSWORD", masked: masked(password) });
    expect(findings[2]!.data).toMatchObject({ variable: "DATABASE_URL", masked: masked(urlPassword) });
    const everything = JSON.stringify(findings) + readEvidence(findings[0]!.evidence![0]!);
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(urlPassword);
  });

  it("warns for each missing safeguard, at the line to change", async () => {
    const dir = composeFolder(
      "services:\n  web:\n    image: nginx\n    user: root\n    healthcheck:\n      disable: true\n",
    );
    const { findings } = await run(dir, ["compose.yaml"]);
    expect(rows(findings)).toEqual([
      ["web", "WARN", "imageUnpinned", 3],
      ["web", "WARN", "healthcheckDisabled", 5],
      ["web", "WARN", "noRestartPolicy", 2],
      ["web", "WARN", "noResourceLimits", 2],
      ["web", "WARN", "writableRoot", 2],
      ["web", "WARN", "rootUser", 4],
    ]);
  });

  it("exempts built images from pinning and one-shot jobs from healthcheck and restart", async () => {
    const dir = composeFolder(
      [
        "services:",
        "  migrate:",
        "    build: .",
        "    image: acme/migrate",
        "    restart: 'no'",
        "  api:",
        "    image: acme/api:2.0.0",
        "    depends_on: {migrate: {condition: service_completed_successfully}}",
        "",
      ].join("\n"),
    );
    const ids = (await run(dir, ["compose.yaml"])).findings
      .filter((f) => f.subject === "migrate")
      .map((f) => f.messageId);
    expect(ids).toEqual(["noResourceLimits", "writableRoot", "noUser"]);
  });

  it("judges an image by its interpolated value, and not when a variable decides the tag", async () => {
    const dir = composeFolder(
      "services:\n  a:\n    image: acme/a:${TAG:-latest}\n  b:\n    image: acme/b:${TAG}\n  c:\n    image: acme/c@sha256:${DIGEST}\n",
    );
    const unpinned = (env: NodeJS.ProcessEnv) =>
      run(dir, ["compose.yaml"], {}, env).then((r) =>
        r.findings.filter((f) => f.messageId === "imageUnpinned").map((f) => f.subject),
      );
    expect(await unpinned({})).toEqual(["a"]);
    expect(await unpinned({ TAG: "3.1.0" })).toEqual([]);
    expect(await unpinned({ TAG: "latest" })).toEqual(["a", "b"]);
  });

  it("leaves published datastore ports and their host networking to internalServicesNotExposed", async () => {
    const dir = composeFolder(
      [
        "services:",
        "  db:",
        "    image: postgres:16",
        "    ports: ['5432:5432']",
        "  cache:",
        "    image: redis:7",
        "    network_mode: host",
        "  worker:",
        "    image: acme/worker:1.0.0",
        "    network_mode: host",
        "",
      ].join("\n"),
    );
    const hardening = await run(dir, ["compose.yaml"], {}, {}, "ng.host-network");
    expect(hardening.findings.filter((f) => f.messageId === "hostNetwork").map((f) => f.subject)).toEqual([
      "worker",
    ]);
    expect(hardening.findings.some((f) => f.subject === "db" && /5432/.test(f.message))).toBe(false);

    const { ctx } = makeCheckContext({ deployment: { compose: ["compose.yaml"] } }, { specDir: dir });
    const exposure = exposureCheck.judge(await exposureCheck.observe(ctx), ctx.spec);
    expect(exposure.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["db", "FAIL", "composePublishedEverywhere"],
      ["cache", "WARN", "composeHostNetwork"],
    ]);
  });

  it("a service the spec marks public may use host networking", async () => {
    const dir = composeFolder("services:\n  edge:\n    image: acme/edge:1.0.0\n    network_mode: host\n");
    const spec = { services: { edge: { url: "http://127.0.0.1:8080", exposure: "public" as const } } };
    const { findings } = await run(dir, ["compose.yaml"], spec);
    expect(findings.some((f) => f.messageId === "hostNetwork")).toBe(false);
  });

  it("judges the real docker/awesome-compose wordpress-mysql: literal passwords FAIL, the rest WARN", async () => {
    const { findings, readEvidence } = await run(
      AWESOME,
      ["wordpress-mysql/compose.yaml"],
      {},
      {},
      "ng.awesome-compose",
    );
    const failed = findings.filter((f) => f.status === "FAIL");
    expect(failed.map((f) => [f.subject, f.data?.variable])).toEqual([
      ["db", "MYSQL_ROOT_PASSWORD"],
      ["db", "MYSQL_PASSWORD"],
      ["wordpress", "WORDPRESS_DB_PASSWORD"],
    ]);
    expect(findings.filter((f) => f.status !== "FAIL").every((f) => f.status === "WARN")).toBe(true);
    expect(findings.find((f) => f.subject === "wordpress" && f.messageId === "imageUnpinned")).toBeDefined();
    const evidence = readEvidence(findings[0]!.evidence![0]!);
    expect(evidence).not.toContain("somewordpress");
  });

  it("says which compose file could not be read instead of judging nothing", async () => {
    const dir = composeFolder("services:\n  web:\n    image: a:1\n   ports: []\n");
    const { findings } = await run(dir, ["compose.yaml", "missing.yaml"]);
    expect(rows(findings)).toEqual([
      ["missing.yaml", "UNVERIFIED", "composeUnreadable", null],
      ["compose.yaml", "UNVERIFIED", "composeUnreadable", null],
    ]);
  });
});
