// Secrets never leak (DESIGN principle 4): registered secrets are masked in every format, and a URL password by its
// shape even when nobody registered it.
import { beforeAll, describe, expect, it } from "vitest";
import { REPORT_FILES, type ReportFormat, render } from "../../../src/report/index.js";
import { REDACTED, Redactor } from "../../../src/secrets/redactor.js";
import { FIXTURE_DB_PASSWORD, sampleAssessment } from "../../fixtures/assessment.js";

const TOKEN = "ghp_7Qx2mZk9Lw4Rt8Yv1Nb6";
const PASSWORD = `p&ss<w0rd>"42'`;

function leakyAssessment() {
  const assessment = sampleAssessment();
  const check = assessment.checks.find((c) => c.checkId === "dependencyFailureHandled")!;
  const finding = check.findings[0]!;
  finding.message = `api logged DATABASE_URL=postgres://app:${PASSWORD}@db/app and token ${TOKEN}`;
  finding.subject = `api-${TOKEN}`;
  finding.measurements![0]!.name = `errors for ${PASSWORD}`;
  check.reason = `reason with ${TOKEN}`;
  assessment.waivers[0]!.reason = `approved while ${TOKEN} was valid`;
  assessment.exclusions![0]!.reason = `excluded while ${TOKEN} was valid`;
  assessment.roadmap[0]!.items[0]!.action = `Rotate ${PASSWORD} and ${TOKEN}`;
  return assessment;
}

/** The forms a secret could take once a reporter has escaped it. */
function escapedForms(secret: string): string[] {
  const xml = secret.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    xml,
    xml.replace(/"/g, "&quot;").replace(/'/g, "&apos;"),
    secret.replace(/&/g, "&amp;").replace(/</g, "&lt;"),
    secret.replace(/</g, "&lt;"),
  ];
}

describe("redaction", () => {
  const secrets = new Redactor();
  beforeAll(() => {
    secrets.add(TOKEN);
    secrets.add(PASSWORD);
  });

  for (const format of Object.keys(REPORT_FILES) as ReportFormat[]) {
    it(`never writes a registered secret into ${REPORT_FILES[format]}`, () => {
      const output = render(format, leakyAssessment(), secrets);
      for (const secret of [TOKEN, PASSWORD]) {
        for (const form of escapedForms(secret)) expect(output).not.toContain(form);
      }
      expect(output).toContain(REDACTED);
    });
  }

  for (const format of Object.keys(REPORT_FILES) as ReportFormat[]) {
    it(`masks a URL password by its shape in ${REPORT_FILES[format]}, with no secret registered`, () => {
      const output = render(format, sampleAssessment());
      expect(output).not.toContain(FIXTURE_DB_PASSWORD);
      expect(output).toContain(`postgres://app:${REDACTED}@db:5432/app`);
    });
  }

  it("keeps report.json parseable after redaction", () => {
    const parsed = JSON.parse(render("json", leakyAssessment(), secrets));
    const check = parsed.checks.find((c: { checkId: string }) => c.checkId === "dependencyFailureHandled");
    expect(check.findings[0].subject).toBe(`api-${REDACTED}`);
  });
});
