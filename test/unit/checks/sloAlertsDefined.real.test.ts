// sloAlertsDefined on burn-rate rules nobody here wrote: kube-prometheus's API-server SLO alerts, Sloth's generated
// example and the rule group Pyrra's own test expects it to generate (test/fixtures/monitoring/slo/real/, each headed by
// its source and commit). Each is judged against a spec of the SLO it implements, then against twins that must not pass:
// the same file with its short windows deleted, and the same file under an objective its factors were not made for.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import check from "../../../src/checks/observability/sloAlertsDefined.js";
import type { SpecInput } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { verdictsWithoutEvidence } from "../../support/monitoring.js";

const real = path.resolve(import.meta.dirname, "../../fixtures/monitoring/slo/real");
const services = { api: { url: "http://127.0.0.1:1", metrics: "/metrics" } };
type Slo = NonNullable<SpecInput["slos"]>[number];

// The kube-apiserver mixin's SLI (recording rules apiserver_request:burnrate*): requests that errored (5xx) or were
// slower than their scope's limit (resource 1 s, namespace 5 s, cluster 30 s for reads; 1 s for writes), over all.
const apiserver = '{job="apiserver",subresource!~"proxy|attach|log|exec|portforward"}';
const kubeApiserver: Slo = {
  name: "kube-apiserver",
  service: "api",
  objective: "99%",
  window: "30d",
  sli: {
    errors: [
      'sum(rate(apiserver_request_total{job="apiserver",code=~"5.."}[{{window}}]))',
      `sum(rate(apiserver_request_sli_duration_seconds_count${apiserver}[{{window}}]))`,
      `- sum(rate(apiserver_request_sli_duration_seconds_bucket{job="apiserver",subresource!~"proxy|attach|log|exec|portforward",scope=~"resource|",le=~"1(\\\\.0)?"}[{{window}}]))`,
      `- sum(rate(apiserver_request_sli_duration_seconds_bucket{job="apiserver",verb=~"LIST|GET",subresource!~"proxy|attach|log|exec|portforward",scope="namespace",le=~"5(\\\\.0)?"}[{{window}}]))`,
      `- sum(rate(apiserver_request_sli_duration_seconds_bucket{job="apiserver",verb=~"LIST|GET",subresource!~"proxy|attach|log|exec|portforward",scope="cluster",le=~"30(\\\\.0)?"}[{{window}}]))`,
    ].join(" + "),
    total: 'sum(rate(apiserver_request_total{job="apiserver"}[{{window}}]))',
  },
};
// examples/getting-started.yml of Sloth: 99.9 % over Sloth's default 30 d, 5xx and 429 count as errors.
const slothRequests: Slo = {
  name: "requests-availability",
  service: "api",
  objective: "99.9%",
  window: "30d",
  sli: {
    errors: 'sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{window}}]))',
    total: 'sum(rate(http_request_duration_seconds_count{job="myservice"}[{{window}}]))',
  },
};
// Pyrra's objectiveHTTPRatio (slo/promql_test.go): 99 % over 28 d, 5xx of http_requests_total.
const pyrraHttp: Slo = {
  name: "monitoring-http-errors",
  service: "api",
  objective: "99%",
  window: "28d",
  sli: {
    errors: 'sum(rate(http_requests_total{job="thanos-receive-default",code=~"5.."}[{{window}}]))',
    total: 'sum(rate(http_requests_total{job="thanos-receive-default"}[{{window}}]))',
  },
};

const scratch = mkdtempSync(path.join(tmpdir(), "gauntlet-slo-real-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function judge(name: string, slo: Slo, file: string, dir = real) {
  const input = { services, slos: [slo], monitoring: { rules: [file] } };
  const { ctx } = makeCheckContext(input, { specDir: dir });
  const observation = await check.observe(ctx);
  if (name) recordObservation("sloAlertsDefined", name, observation, input);
  const findings = check.judge(observation, ctx.spec);
  expect(verdictsWithoutEvidence(findings)).toEqual([]);
  const pairs = observation.slos[0]!.alerts.flatMap((a) =>
    a.conditions.map((c) => `${c.longMs / 60_000}/${c.shortMs === undefined ? "-" : c.shortMs / 60_000}`),
  );
  return { finding: findings[0]!, row: [findings[0]!.status, findings[0]!.messageId], pairs };
}

/** The real file with `edit` applied, written to the scratch folder; the edit must change it. */
function twin(file: string, edit: (text: string) => string): string {
  const original = readFileSync(path.join(real, file), "utf8");
  const edited = edit(original);
  expect(edited).not.toBe(original);
  writeFileSync(path.join(scratch, file), edited);
  return file;
}

describe("sloAlertsDefined on real burn-rate rules", () => {
  it("passes kube-prometheus's KubeAPIErrorBudgetBurn (30 d, 99 %: 1h/5m, 6h/30m, 1d/2h, 3d/6h)", async () => {
    const { row, pairs, finding } = await judge(
      "ok.real-kube-apiserver",
      kubeApiserver,
      "kube-apiserver-slos.yml",
    );
    expect(row).toEqual(["PASS", "multiwindowComplete"]);
    expect(pairs).toEqual(["60/5", "360/30", "1440/120", "4320/360"]);
    expect(finding.message).toContain("1h/5m, 14.4×, workbook 14.4×");
    expect(finding.message).toContain("1d/2h, 3×, workbook 3×");
  });

  it("takes kube-apiserver's 3d/6h at 1× as its ticket without the 1d/2h alert, and warns with neither", async () => {
    const withoutTier = (longs: string[]) => (text: string) => {
      const file = parse(text) as { groups: { rules: { labels?: { long?: string } }[] }[] };
      for (const group of file.groups)
        group.rules = group.rules.filter((r) => !longs.includes(r.labels?.long ?? ""));
      return stringify(file);
    };
    const threeDays = await judge(
      "",
      kubeApiserver,
      twin("kube-apiserver-slos.yml", withoutTier(["1d"])),
      scratch,
    );
    expect(threeDays.row).toEqual(["PASS", "multiwindowComplete"]);
    expect(threeDays.finding.message).toContain("3d/6h, 1×, workbook 1×");
    const pageOnly = await judge(
      "",
      kubeApiserver,
      twin("kube-apiserver-slos.yml", withoutTier(["1d", "3d"])),
      scratch,
    );
    expect(pageOnly.row).toEqual(["WARN", "pageTierOnly"]);
  });

  it("does not lend kube-apiserver's alerts to an SLO on other metrics", async () => {
    const { row } = await judge("ng.real-kube-apiserver-other-sli", slothRequests, "kube-apiserver-slos.yml");
    expect(row).toEqual(["FAIL", "noBurnAlerts"]);
  });

  it("warns on kube-apiserver's alerts with the short windows deleted, and under a 99.9 % objective", async () => {
    // Each alert is `long > f and on(cluster) short > f`: drop the `and` and the short window.
    const single = twin("kube-apiserver-slos.yml", (t) => t.replace(/\n\s*and on\(cluster\)\n[^\n]*/g, ""));
    const alone = await judge("", kubeApiserver, single, scratch);
    expect(alone.row).toEqual(["WARN", "singleWindowOnly"]);
    expect(alone.pairs).toEqual(["60/-", "360/-", "1440/-", "4320/-"]);
    const stricter = await judge(
      "ng.real-kube-apiserver-999",
      { ...kubeApiserver, objective: "99.9%" },
      "kube-apiserver-slos.yml",
    );
    expect(stricter.row).toEqual(["WARN", "factorsDoNotMatchWindow"]);
    expect(stricter.finding.message).toContain("144×, workbook 14.4×");
    expect(stricter.finding.message).toContain("each 10× the workbook's, as if made for a 99% objective");
  });

  it("passes Sloth's generated getting-started output (30 d, 99.9 %) named as its sloth_slo or its sloth_id", async () => {
    const { row, pairs } = await judge("ok.real-sloth", slothRequests, "sloth-getting-started.yml");
    expect(row).toEqual(["PASS", "multiwindowComplete"]);
    expect(pairs).toEqual(["60/5", "360/30", "1440/120", "4320/360"]);
    const byId = { ...slothRequests, name: "myservice-requests-availability" };
    expect((await judge("", byId, "sloth-getting-started.yml")).row).toEqual(["PASS", "multiwindowComplete"]);
    // Series that name another SLO are that SLO's, even over the same metrics: they are not lent.
    const other = { ...slothRequests, name: "myservice-latency" };
    expect((await judge("", other, "sloth-getting-started.yml")).row).toEqual(["FAIL", "noBurnAlerts"]);
  });

  it("warns on Sloth's output with the short windows deleted, and under a 99 % objective", async () => {
    // Each pair is `(max(short > f) without (sloth_window) and max(long > f) without (sloth_window))`, short first.
    const single = twin("sloth-getting-started.yml", (t) =>
      t.replace(/max\([^\n]*\n\s*and\n\s*(?=max\()/g, ""),
    );
    const alone = await judge("", slothRequests, single, scratch);
    expect(alone.row).toEqual(["WARN", "singleWindowOnly"]);
    expect(alone.pairs).toEqual(["60/-", "360/-", "1440/-", "4320/-"]);
    const looser = await judge("", { ...slothRequests, objective: "99%" }, "sloth-getting-started.yml");
    expect(looser.row).toEqual(["WARN", "factorsDoNotMatchWindow"]);
  });

  it("warns on Pyrra's 28-day rules: the page pairs fit, its ticket pairs (2× over 1d/2h, 1× over 4d/6h) are not the workbook's", async () => {
    // Pyrra keeps 14/7/2/1 for 28 d: 1h/5m at 14× is the workbook's 13.44× (within 5 %), 6h/30m at 7× is not 5.6×,
    // 1d/2h at 2× spends 7 % of the budget where the workbook's ticket spends 10 % (2.8×), and 4d has no workbook row.
    const { row, pairs, finding } = await judge("ng.real-pyrra", pyrraHttp, "pyrra-http-ratio.yml");
    expect(pairs).toEqual(["60/5", "360/30", "1440/120", "5760/360"]);
    expect(row).toEqual(["WARN", "factorsDoNotMatchWindow"]);
    expect(finding.message).toContain("1d/2h, 2×, workbook 2.8×");
    expect(finding.message).not.toContain("as if made for");
  });
});
