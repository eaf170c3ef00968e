// The "done when", end to end with the real binary: the demo systems are started by Gauntlet itself, assessed
// by real checks, certified, verified, and a one-byte edit is caught. No secret reaches any file.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../support/cli.js";

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

// The order databases keep their clusters in temp folders between restarts; gone when every test here has ended
// (each describe below starts the demo services).
afterAll(() => {
  for (const port of ["18085", "18185"]) {
    execFileSync("bash", [path.join(ROOT, "examples/sturdy/scripts/orders-db.sh"), "--remove"], {
      env: { ...process.env, ORDERS_DB_PORT: port },
    });
  }
  rmSync(path.join(ROOT, "examples/sturdy/backups"), { recursive: true, force: true });
  rmSync(path.join(ROOT, "examples/fragile/backups"), { recursive: true, force: true });
  for (const variant of ["sturdy", "fragile"]) {
    rmSync(path.join(ROOT, `examples/${variant}/coverage`), { recursive: true, force: true });
  }
});

describe("demo systems, assessed for real", () => {
  const work = mkdtempSync(path.join(tmpdir(), "gauntlet-e2e-demo-"));
  const keys = path.join(work, "keys");
  const token = `tok-${randomBytes(16).toString("hex")}`;
  const env = {
    DEMO_API_TOKEN: token,
    DEMO_PROXY_TOKEN: `proxy-${randomBytes(16).toString("hex")}`,
    DEMO_REDIS_PASSWORD: `redis-${randomBytes(16).toString("hex")}`,
    DEMO_PG_PASSWORD: `pg-${randomBytes(16).toString("hex")}`,
    PAYMENTS_API_KEY: "",
  };

  beforeAll(async () => {
    const keygen = await runCli(["keygen", "--out", keys], { cwd: work });
    expect(keygen.code).toBe(0);
    // The coverage reports come from really running each shop's tests, as demo.sh does before assessing.
    for (const variant of ["sturdy", "fragile"]) {
      execFileSync("bash", [path.join(ROOT, `examples/${variant}/scripts/coverage.sh`)], { stdio: "ignore" });
    }
  });

  it("sturdy, no Prometheus: what can run passes, the rest is UNVERIFIED (CONDITIONAL); edits are caught", async () => {
    const out = path.join(work, "sturdy");
    const result = await runCli(
      [
        "assess",
        path.join(ROOT, "examples/sturdy/gauntlet.yaml"),
        "--key",
        path.join(keys, "gauntlet.key"),
        "--out",
        out,
      ],
      { cwd: work, env },
    );
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    const report = JSON.parse(readFileSync(path.join(out, "report.json"), "utf8"));
    const status = Object.fromEntries(
      report.checks.map((c: { checkId: string; status: string }) => [c.checkId, c.status]),
    );
    expect(status).toMatchObject({
      healthEndpointsRespond: "PASS",
      internalServicesNotExposed: "PASS",
      deployScriptsValid: "PASS",
      requiredEnvPresent: "PASS",
      metricsExposed: "PASS",
      alertRulesValid: "PASS",
      alertRulesCoverGoldenSignals: "PASS",
      // Nothing listens on the demo's Prometheus/Alertmanager ports in this test: honest UNVERIFIED, never PASS.
      metricsScraped: "UNVERIFIED",
      alertRulesLoaded: "UNVERIFIED",
      alertsDelivered: "UNVERIFIED",
      // The demo consents to destructive checks: real load and real faults against its own supervised services.
      loadStagesWithinThresholds: "PASS",
      latencySloMet: "PASS",
      capacityFound: "PASS",
      noMemoryGrowthUnderLoad: "PASS",
      crashRecovered: "PASS",
      dependencyBlinkSurvived: "PASS",
      dependencyOutageDegradesGracefully: "PASS",
      overloadShedGracefully: "PASS",
      // The order database keeps its canary through a SIGKILL (crash recovery from its WAL); the session cache is a
      // cache: losing its canary is reported, not failed.
      writesSurviveCrash: "PASS",
      noSecretsInRepository: "PASS",
      codeFreeOfDangerousPatterns: "PASS",
      protectedEndpointsRequireAuth: "PASS",
      datastoresRequireAuth: "PASS",
      // A public API on plain http: HSTS cannot apply (a WARN the sturdy shop carries honestly).
      securityHeadersPresent: "WARN",
      // Only services on loopback and no https URL: nothing to judge.
      tlsModern: "NA",
      // The order database: a backup taken now, restored in a scratch cluster with equal counts and checksums, and
      // WAL archived every minute (RPO 60 s against 5 min).
      backupsFresh: "PASS",
      restoreDrillSucceeds: "PASS",
      recoveryPointObjectiveMet: "PASS",
      // Operations: a rollback drilled in a scratch copy of the repository, tests that cover the code, a runbook
      // with steps for every alert.
      rollbackWithinTarget: "PASS",
      testCoverageAtLeast: "PASS",
      runbooksCoverAlerts: "PASS",
      ciPipelineGuardsMain: "PASS",
      // Deployment: a deploy drilled twice in a scratch copy, a multi-stage non-root Dockerfile, sound manifests.
      deploymentRepeatable: "PASS",
      dockerfilesFollowBestPractice: "PASS",
      kubernetesManifestsSound: "PASS",
      composeFilesValid: "PASS",
      composeServicesHardened: "PASS",
      // SLOs: burn-rate alerts generated by `gauntlet slo rules`; the outages the fault experiments measured are
      // within the SLOs' MTTR; no Prometheus here to say how much error budget is left.
      sloAlertsDefined: "PASS",
      mttrWithinObjective: "PASS",
      errorBudgetRemaining: "UNVERIFIED",
      rolloutAbortsOnRegression: "NA",
    });
    expect(report.verdict.verdict).toBe("CONDITIONAL");
    expect(report.verdict.gates.find((g: { id: string }) => g.id === "no-critical-unverified").passed).toBe(
      false,
    );
    expect(result.code).toBe(1);
    for (const file of [
      "report.md",
      "report.json",
      "report.junit.xml",
      "report.sarif",
      "certificate.dsse.json",
    ]) {
      expect(statSync(path.join(out, file)).size).toBeGreaterThan(0);
    }

    const cert = path.join(out, "certificate.dsse.json");
    const pub = path.join(keys, "gauntlet.pub");
    expect((await runCli(["verify", cert, "--key", pub], { cwd: work })).code).toBe(0);

    const original = readFileSync(cert);
    const tampered = Buffer.from(original);
    const at = original.indexOf('"payload"') + 40; // inside the base64 payload
    tampered[at] = tampered[at] === 0x41 ? 0x42 : 0x41;
    writeFileSync(cert, tampered);
    const rejected = await runCli(["verify", cert, "--key", pub], { cwd: work });
    expect(rejected.code).toBe(2);
    writeFileSync(cert, original);

    // The reports are bound too: an edited figure in report.md fails verification.
    const reportMd = path.join(out, "report.md");
    const reportOriginal = readFileSync(reportMd, "utf8");
    writeFileSync(reportMd, reportOriginal.replace("CONDITIONAL", "CERTIFIED"));
    const editedReport = await runCli(["verify", cert, "--key", pub], { cwd: work });
    expect(editedReport.code).toBe(2);
    expect(editedReport.stdout).toMatch(/report\.md was changed/);
    writeFileSync(reportMd, reportOriginal);

    // A public key dropped beside the certificate is never trusted: only --key or the verifier's own key store.
    writeFileSync(path.join(out, "gauntlet.pub"), readFileSync(pub));
    expect((await runCli(["verify", cert], { cwd: work })).code).toBe(2);

    const evidenceFile = allFiles(path.join(out, "evidence")).find((f) => !f.endsWith("manifest.json"))!;
    const evidenceOriginal = readFileSync(evidenceFile);
    writeFileSync(evidenceFile, Buffer.concat([evidenceOriginal, Buffer.from(" ")]));
    expect((await runCli(["verify", cert, "--key", pub], { cwd: work })).code).toBe(2);
    writeFileSync(evidenceFile, evidenceOriginal);
    expect((await runCli(["verify", cert, "--key", pub], { cwd: work })).code).toBe(0);
  }, 240_000);

  it("fragile: the exposed internal service, the open admin route and the open cache fail critical checks: NOT READY", async () => {
    const out = path.join(work, "fragile");
    const result = await runCli(
      [
        "assess",
        path.join(ROOT, "examples/fragile/gauntlet.yaml"),
        "--key",
        path.join(keys, "gauntlet.key"),
        "--out",
        out,
      ],
      { cwd: work, env },
    );
    expect(result.code).toBe(2);
    const report = JSON.parse(readFileSync(path.join(out, "report.json"), "utf8"));
    const byId = (id: string) => report.checks.find((c: { checkId: string }) => c.checkId === id);
    expect(byId("internalServicesNotExposed").status).toBe("FAIL");
    expect(JSON.stringify(byId("internalServicesNotExposed").findings)).toContain("0.0.0.0:18181");
    expect(byId("deployScriptsValid").status).toBe("FAIL");
    expect(byId("requiredEnvPresent").status).toBe("FAIL");
    // An admin route anyone can open, and a session cache that lets anyone in.
    expect(byId("protectedEndpointsRequireAuth").findings).toContainEqual(
      expect.objectContaining({ subject: "api", status: "FAIL", messageId: "openToAnonymous" }),
    );
    expect(byId("datastoresRequireAuth").findings).toContainEqual(
      expect.objectContaining({ subject: "sessions", status: "FAIL", messageId: "acceptsNoPassword" }),
    );
    // Killed for real, and its supervisor has no restart policy: it stays down. (The fault proxy is excluded, N/A.)
    const crash = byId("crashRecovered");
    expect(crash.status).toBe("FAIL");
    const api = crash.findings.find((f: { subject: string }) => f.subject === "api");
    expect(api).toMatchObject({ status: "FAIL", messageId: "notRecovered" });
    expect(api.measurements.map((m: { name: string }) => m.name)).toContain("time_to_detect");
    expect(crash.findings.find((f: { subject: string }) => f.subject === "inventory-proxy")).toMatchObject({
      status: "NA",
      messageId: "excluded",
    });
    // A backup script that exits 0 over a truncated dump: only the restore drill shows it is useless.
    expect(byId("restoreDrillSucceeds").findings).toContainEqual(
      expect.objectContaining({ subject: "orders-db", status: "FAIL", messageId: "restoreFailed" }),
    );
    // A rollback slower than its timeout, tests that cover a sliver of the code, alerts without a runbook.
    expect(byId("rollbackWithinTarget").status).toBe("FAIL");
    expect(byId("testCoverageAtLeast").status).toBe("FAIL");
    expect(byId("runbooksCoverAlerts").status).toBe("FAIL");
    expect(byId("ciPipelineGuardsMain").status).toBe("FAIL");
    // A deploy whose second run fails, FROM …:latest as root, manifests without probes or limits.
    expect(byId("deploymentRepeatable").findings).toContainEqual(
      expect.objectContaining({ status: "FAIL", messageId: "notRepeatable" }),
    );
    expect(byId("dockerfilesFollowBestPractice").status).toBe("FAIL");
    expect(byId("kubernetesManifestsSound").status).toBe("FAIL");
    // A typo'd key and a depends_on naming no service; a privileged container.
    expect(byId("composeFilesValid").status).toBe("FAIL");
    expect(byId("composeServicesHardened").status).toBe("FAIL");
    // An SLO nobody alerts on, and an api that never comes back after a crash (so far above its MTTR).
    expect(byId("sloAlertsDefined").findings).toContainEqual(
      expect.objectContaining({ subject: "api-availability", status: "FAIL", messageId: "noBurnAlerts" }),
    );
    expect(byId("mttrWithinObjective").status).toBe("FAIL");
    expect(report.verdict.verdict).toBe("NOT READY");
    // A genuine NOT READY certificate verifies, but fails a gate that requires CERTIFIED.
    const cert = path.join(out, "certificate.dsse.json");
    const pub = path.join(keys, "gauntlet.pub");
    expect((await runCli(["verify", cert, "--key", pub], { cwd: work })).code).toBe(0);
    expect((await runCli(["verify", cert, "--key", pub, "--require", "CERTIFIED"], { cwd: work })).code).toBe(
      5,
    );
  }, 240_000);

  it("no secret value appears in any file under .gauntlet/ or the output folders", () => {
    const files = [
      ...allFiles(path.join(work, ".gauntlet")),
      ...allFiles(path.join(work, "sturdy")),
      ...allFiles(path.join(work, "fragile")),
    ];
    expect(files.length).toBeGreaterThan(10);
    const secrets = [token, env.DEMO_PROXY_TOKEN, env.DEMO_REDIS_PASSWORD, env.DEMO_PG_PASSWORD];
    const leaks = files.filter((f) => {
      const bytes = readFileSync(f);
      return secrets.some((s) => bytes.includes(s) || bytes.includes(Buffer.from(s).toString("base64")));
    });
    expect(leaks).toEqual([]);
  });

  it("keeps every run in the history", async () => {
    const history = await runCli(["history", "--json"], { cwd: work });
    expect(history.code).toBe(0);
    const runs = JSON.parse(history.stdout);
    expect(runs.map((r: { system: string }) => r.system).sort()).toEqual(["demo-shop", "demo-shop-fragile"]);
  });
});

describe("re-rendering, re-running and the editor schema", () => {
  const work = mkdtempSync(path.join(tmpdir(), "gauntlet-e2e-rerun-"));
  const env = {
    DEMO_API_TOKEN: `tok-${randomBytes(12).toString("hex")}`,
    DEMO_PROXY_TOKEN: `proxy-${randomBytes(16).toString("hex")}`,
    DEMO_REDIS_PASSWORD: `redis-${randomBytes(16).toString("hex")}`,
    DEMO_PG_PASSWORD: `pg-${randomBytes(16).toString("hex")}`,
  };
  const spec = path.join(ROOT, "examples/sturdy/gauntlet.yaml");

  it("assessing twice into the same --out leaves only the latest run's files, which verify", async () => {
    const out = path.join(work, "out");
    expect((await runCli(["keygen", "--out", path.join(work, "keys")], { cwd: work })).code).toBe(0);
    const key = path.join(work, "keys/gauntlet.key");
    for (let i = 0; i < 2; i++) {
      const run = await runCli(
        ["assess", spec, "--key", key, "--out", out, "--only", "healthEndpointsRespond"],
        {
          cwd: work,
          env,
        },
      );
      expect(run.stderr).not.toMatch(/internal error/);
    }
    const manifest = JSON.parse(readFileSync(path.join(out, "evidence/manifest.json"), "utf8"));
    const onDisk = allFiles(path.join(out, "evidence"))
      .map((f) => path.relative(path.join(out, "evidence"), f))
      .filter((f) => f !== "manifest.json")
      .sort();
    expect(onDisk).toEqual(Object.keys(manifest.files).sort());
    const verify = await runCli(
      ["verify", path.join(out, "certificate.dsse.json"), "--key", path.join(work, "keys/gauntlet.pub")],
      { cwd: work },
    );
    expect(verify.code).toBe(0);
  }, 60_000);

  it("gauntlet report re-renders a stored run in every format", async () => {
    const sarif = await runCli(["report", "latest", "--format", "sarif"], { cwd: work });
    expect(sarif.code).toBe(0);
    expect(JSON.parse(sarif.stdout).version).toBe("2.1.0");
    const junit = await runCli(["report", "latest", "--format", "junit"], { cwd: work });
    expect(junit.stdout).toContain("<testsuites");
    const md = await runCli(["report", "latest", "--format", "md"], { cwd: work });
    expect(md.stdout).toMatch(/^# /);
    const json = await runCli(["report", "latest", "--format", "json"], { cwd: work });
    expect(JSON.parse(json.stdout).system.name).toBe("demo-shop");
    const missing = await runCli(["report", "nosuchrun"], { cwd: work });
    expect(missing.code).toBe(3);
  });

  it("the committed gauntlet.schema.json is what `gauntlet schema` prints", async () => {
    const printed = await runCli(["schema"]);
    expect(JSON.parse(printed.stdout)).toEqual(
      JSON.parse(readFileSync(path.join(ROOT, "gauntlet.schema.json"), "utf8")),
    );
  });
});
