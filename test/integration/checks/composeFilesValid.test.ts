// composeFilesValid end to end with the compose tools installed here (docker-compose 1.29, podman-compose): the
// verdict is Gauntlet's own, the tools' verdicts are in the evidence. RECORD_JUDGE_FIXTURES=1 records the
// observations as judge fixtures.
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/deployment/composeFilesValid.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { recordObservation } from "../../support/judgeFixtures.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures/compose");

async function run(compose: string[], record?: string) {
  const { ctx, readEvidence, logs } = makeCheckContext(
    { deployment: { compose } },
    { specDir: FIXTURES, env: { PATH: process.env.PATH }, checkId: "composeFilesValid" },
  );
  const observation = await check.observe(ctx);
  if (record) recordObservation("composeFilesValid", record, observation, { deployment: { compose } });
  return { observation, findings: check.judge(observation, ctx.spec), readEvidence, logs };
}

describe("composeFilesValid with referees", () => {
  it("passes real projects that docker-compose 1.29 refuses for the newer top-level name", async () => {
    const { findings, observation, readEvidence, logs } = await run(
      ["awesome-compose/react-rust-postgres/compose.yaml", "awesome-compose/gitea-postgres/compose.yaml"],
      "ok.awesome-compose",
    );
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["awesome-compose/react-rust-postgres/compose.yaml", "PASS", "valid"],
      ["awesome-compose/gitea-postgres/compose.yaml", "PASS", "valid"],
    ]);
    const legacy = observation.projects.map((p) => p.referees.find((r) => r.tool === "docker-compose"));
    // react-rust-postgres sets `name:` (and has build contexts the fixture lacks); gitea-postgres is plain images.
    expect(legacy.map((v) => v?.accepted)).toEqual([false, true]);
    expect(findings[0]!.data?.referees).toContain("docker-compose 1.29.2: rejected");
    const evidence = JSON.parse(readEvidence(findings[0]!.evidence![0]!));
    expect(evidence.projects[0].referees[0]).toMatchObject({ tool: "docker-compose", exitCode: 1 });
    expect(
      logs.some((l) => /docker-compose 1\.29\.2 config on 1 file\(s\): rejected \(evidence only\)/.test(l)),
    ).toBe(true);
  }, 60_000);

  it("fails the broken files at their lines whatever the referees say", async () => {
    const { findings, observation } = await run(["broken/*/compose.yaml"], "ng.broken-files");
    expect(findings.map((f) => [f.subject, f.status, f.messageId, f.location?.line])).toEqual([
      ["broken/bad-enum/compose.yaml", "FAIL", "badValue", 10],
      ["broken/bad-indentation/compose.yaml", "FAIL", "yamlError", 11],
      ["broken/unknown-depends-on/compose.yaml", "FAIL", "undefinedService", 9],
      ["broken/unknown-key/compose.yaml", "FAIL", "unknownKey", 24],
      ["broken/wrong-type/compose.yaml", "FAIL", "wrongType", 4],
    ]);
    // docker-compose 1.29 lets restart: sometimes through; the FAIL stands.
    expect(observation.projects[0]!.referees.find((r) => r.tool === "docker-compose")?.accepted).toBe(true);
  }, 60_000);

  it("passes the current spec's features", async () => {
    const { findings } = await run(
      ["current-spec/include-name/compose.yaml", "current-spec/develop-watch/compose.yaml"],
      "ok.current-spec",
    );
    expect(findings.map((f) => [f.subject, f.status])).toEqual([
      ["current-spec/include-name/compose.yaml", "PASS"],
      ["current-spec/include-name/db/compose.yaml", "PASS"],
      ["current-spec/develop-watch/compose.yaml", "PASS"],
    ]);
  }, 60_000);
});
