// Burn-rate alerts recognised in real rule files: `gauntlet slo rules` output, hand-written ones in Sloth's shape, the
// workbook's 30-day factors copied onto a 28-day SLO, single-window alerts, a page tier alone, and none. Each case's
// observation is recorded (RECORD_JUDGE_FIXTURES=1) for the judge fixtures under test/fixtures/judge/sloAlertsDefined.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import check from "../../../src/checks/observability/sloAlertsDefined.js";
import { renderRuleFile, sloRules } from "../../../src/engines/slo/rules.js";
import type { SpecInput } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { verdictsWithoutEvidence } from "../../support/monitoring.js";

const fixtures = path.resolve(import.meta.dirname, "../../fixtures/monitoring");
const services = { api: { url: "http://127.0.0.1:1", metrics: "/metrics" } };
const availability = (window: string) => ({
  name: "api-availability",
  service: "api",
  objective: "99.9%",
  window,
  sli: {
    errors: 'sum(rate(http_requests_total{job="api",code=~"5.."}[{{window}}]))',
    total: 'sum(rate(http_requests_total{job="api"}[{{window}}]))',
  },
});
const latency = {
  name: "api-latency",
  service: "api",
  objective: "99%",
  window: "28d",
  sli: { histogram: 'http_request_duration_seconds{job="api"}', threshold: "300ms" },
};

type Input = Omit<SpecInput, "version" | "system">;

async function judged(name: string, input: Input, specDir = fixtures) {
  const { ctx } = makeCheckContext(input, { specDir });
  const observation = await check.observe(ctx);
  recordObservation("sloAlertsDefined", name, observation, input);
  const findings = check.judge(observation, ctx.spec);
  expect(verdictsWithoutEvidence(findings)).toEqual([]);
  return { findings, observation, rows: findings.map((f) => [f.subject, f.status, f.messageId]) };
}

const scratch = mkdtempSync(path.join(tmpdir(), "gauntlet-slo-rules-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("sloAlertsDefined", () => {
  it("is N/A without SLOs", () => {
    const { ctx } = makeCheckContext({ services });
    expect(check.applies(ctx.spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });

  it("passes the generated rules of each SLO, and does not lend one SLO's alerts to another", async () => {
    const { ctx } = makeCheckContext({ services, slos: [availability("30d"), latency] });
    const generated = sloRules([ctx.spec.slos![0]!, ctx.spec.slos![1]!]);
    writeFileSync(path.join(scratch, "slo.rules.yml"), renderRuleFile(generated, "gauntlet.yaml"));
    const { rows, findings } = await judged(
      "ok.generated",
      { services, slos: [availability("30d"), latency], monitoring: { rules: ["slo.rules.yml"] } },
      scratch,
    );
    expect(rows).toEqual([
      ["api-availability", "PASS", "multiwindowComplete"],
      ["api-latency", "PASS", "multiwindowComplete"],
    ]);
    expect(findings[0]!.location).toMatchObject({ path: "slo.rules.yml" });
    expect(findings[0]!.message).toContain("14.4×");
    expect(findings[1]!.message).toContain("13.44×");

    const onlyFirst = sloRules([ctx.spec.slos![0]!]);
    writeFileSync(path.join(scratch, "one.rules.yml"), renderRuleFile(onlyFirst, "gauntlet.yaml"));
    const { ctx: other } = makeCheckContext(
      { services, slos: [availability("30d"), latency], monitoring: { rules: ["one.rules.yml"] } },
      { specDir: scratch },
    );
    const second = check.judge(await check.observe(other), other.spec);
    expect(second.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["api-availability", "PASS", "multiwindowComplete"],
      ["api-latency", "FAIL", "noBurnAlerts"],
    ]);
  });

  it("recognises hand-written alerts in Sloth's shape (recording rules, max(…) without, or-ed pairs)", async () => {
    const { rows, observation } = await judged("ok.sloth-style", {
      services,
      slos: [availability("30d")],
      monitoring: { rules: ["slo/sloth-style.yml"] },
    });
    expect(rows).toEqual([["api-availability", "PASS", "multiwindowComplete"]]);
    const windows = observation.slos[0]!.alerts.flatMap((a) =>
      a.conditions.map((c) => [c.longMs / 60_000, c.shortMs! / 60_000]),
    );
    expect(windows).toEqual([
      [60, 5],
      [360, 30],
      [1440, 120],
    ]);
  });

  it("accepts the workbook's inline form on a 30-day SLO and warns when its factors are copied onto a 28-day one", async () => {
    const thirty = await judged("ok.inline-30d", {
      services,
      slos: [availability("30d")],
      monitoring: { rules: ["slo/inline-30d-factors.yml"] },
    });
    expect(thirty.rows).toEqual([["api-availability", "PASS", "multiwindowComplete"]]);
    const { rows, findings } = await judged("ng.copied-30d-factors", {
      services,
      slos: [availability("28d")],
      monitoring: { rules: ["slo/inline-30d-factors.yml"] },
    });
    expect(rows).toEqual([["api-availability", "WARN", "factorsDoNotMatchWindow"]]);
    expect(findings[0]!.message).toContain("workbook 13.44×");
    expect(findings[0]!.message).toContain("as if made for a 99.89% objective or a 30d window");
    expect(findings[0]!.location).toMatchObject({ path: "slo/inline-30d-factors.yml", line: 6 });
  });

  it("warns about single-window burn alerts (through a recording rule too)", async () => {
    const { rows } = await judged("ng.single-window", {
      services,
      slos: [availability("30d")],
      monitoring: { rules: ["slo/single-window.yml"] },
    });
    expect(rows).toEqual([["api-availability", "WARN", "singleWindowOnly"]]);
  });

  it("warns when only the page tier exists (burn rates recorded as ratio / budget)", async () => {
    const { rows } = await judged("ng.page-only", {
      services,
      slos: [availability("30d")],
      monitoring: { rules: ["slo/page-only.yml"] },
    });
    expect(rows).toEqual([["api-availability", "WARN", "pageTierOnly"]]);
  });

  it("fails when the rule files hold only error-rate alerts, and when no rule file is listed", async () => {
    const none = await judged("ng.none", {
      services,
      slos: [availability("30d")],
      monitoring: { rules: ["rules/golden-signals.yml"] },
    });
    expect(none.rows).toEqual([["api-availability", "FAIL", "noBurnAlerts"]]);
    const empty = await judged("ng.no-rule-files", { services, slos: [availability("30d")] });
    expect(empty.rows).toEqual([["api-availability", "FAIL", "noRuleFiles"]]);
    expect(empty.findings[0]!.message).toContain("gauntlet slo rules > monitoring/slo.rules.yml");
  });
});
