// Runbooks for real alert rules: the demos' rule files and runbooks, kube-prometheus's Alertmanager rules with their
// runbook_url links answered by a loopback server serving prometheus-operator/runbooks' pages (one of which does not
// exist upstream either), and written cases for every way a runbook can fail. No request leaves 127.0.0.1.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check, { untemplated } from "../../../src/checks/operations/runbooksCoverAlerts.js";
import type { FindingInput } from "../../../src/core/types.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { freePort, verdictsWithoutEvidence } from "../../support/monitoring.js";

const root = path.resolve(import.meta.dirname, "../../..");
const fixtures = path.join(root, "test/fixtures/runbooks");
const onCleanup = cleanupAfterEach();

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(handler: Handler): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-runbooks-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function run(spec: Parameters<typeof makeCheckContext>[0], specDir: string, record?: string) {
  const t = makeCheckContext(spec, { specDir, checkId: check.meta.id });
  expect(check.applies(t.ctx.spec, { allowDestructive: false })).toBe(true);
  const observation = await check.observe(t.ctx);
  const findings = check.judge(observation, t.ctx.spec);
  expect(verdictsWithoutEvidence(findings)).toEqual([]);
  if (record) recordObservation(check.meta.id, record, observation, spec);
  return { findings, observation, ...t };
}

const verdicts = (findings: FindingInput[]) => findings.map((f) => [f.subject, f.status, f.messageId]);

/** The page a Hugo "book" site serves for a markdown runbook: the site's menu, then the article. */
function hugoPage(markdown: string, menu: string[]): string {
  const body = markdown.replace(/^---\n[\s\S]*?\n---\n/, "");
  const html: string[] = [];
  let code: string[] | null = null;
  let list: string | null = null;
  const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const inline = (s: string) => escapeHtml(s).replace(/`([^`]+)`/g, "<code>$1</code>");
  for (const line of body.split("\n")) {
    if (code) {
      if (line.startsWith("```")) {
        html.push(`<pre><code>${code.map(escapeHtml).join("\n")}</code></pre>`);
        code = null;
      } else code.push(line);
      continue;
    }
    const item = /^\s*(?:[-*]|\d+\.)\s+(.*)$/.exec(line);
    if (list && !item) {
      html.push(`</${list}>`);
      list = null;
    }
    if (line.startsWith("```")) code = [];
    else if (/^#{1,6} /.test(line)) {
      const level = line.indexOf(" ");
      html.push(
        `<h${level} id="h">${inline(line.slice(level + 1))}<a class="anchor" href="#h">#</a></h${level}>`,
      );
    } else if (item) {
      if (!list) {
        list = /^\s*\d/.test(line) ? "ol" : "ul";
        html.push(`<${list}>`);
      }
      html.push(`<li>${inline(item[1]!)}</li>`);
    } else if (line.trim()) html.push(`<p>${inline(line)}</p>`);
  }
  const nav = menu
    .map((m) => `<li><a href="/runbooks/alertmanager/${m.toLowerCase()}/">${m}</a></li>`)
    .join("\n");
  return `<!DOCTYPE html><html><head><title>runbooks</title><script>var x = "<li>no</li>";</script></head>
<body><aside class="book-menu"><nav><ul>${nav}</ul></nav></aside>
<main><article class="markdown">${html.join("\n")}</article></main></body></html>`;
}

describe("runbooksCoverAlerts", () => {
  it("is N/A without rule files: no alerts, nothing to cover", () => {
    const { ctx } = makeCheckContext({ services: {} });
    expect(check.applies(ctx.spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });

  it("passes the sturdy demo: every alert has a runbook file with real steps", async () => {
    const specDir = path.join(root, "examples/sturdy");
    const spec = {
      monitoring: { rules: ["monitoring/alerts/*.yml"] },
      operations: { runbooks: "monitoring/runbooks" },
    };
    const { findings, observation, readEvidence } = await run(spec, specDir, "ok.sturdy-demo");
    expect(verdicts(findings)).toEqual([["alerts", "PASS", "runbooksReady"]]);
    // Ten alerts of its own, six burn-rate alerts of its two SLOs (generated by `gauntlet slo rules`).
    expect(observation.alerts.map((a) => a.alert)).toHaveLength(16);
    expect(findings[0]!.measurements?.[0]).toMatchObject({ value: 16, unit: "of 16" });
    const evidence = JSON.parse(readEvidence(findings[0]!.evidence![0]!));
    expect(evidence.alerts[0]).toMatchObject({
      alert: "ApiDown",
      ref: { via: "folder", target: "monitoring/runbooks/ApiDown.md" },
      runbook: { state: "read" },
    });
  });

  it("fails the fragile demo at each alert's line: no runbook_url and no operations.runbooks", async () => {
    const specDir = path.join(root, "examples/fragile");
    const spec = { monitoring: { rules: ["monitoring/alerts/*.yml"] } };
    const { findings } = await run(spec, specDir, "ng.fragile-demo");
    expect(verdicts(findings)).toEqual([
      ["ApiDown", "FAIL", "noRunbook"],
      ["ApiErrors", "FAIL", "noRunbook"],
    ]);
    expect(findings.map((f) => f.location)).toEqual([
      { path: "monitoring/alerts/shop.yml", line: 6, column: 9 },
      { path: "monitoring/alerts/shop.yml", line: 12, column: 9 },
    ]);
  });

  it("fails every alert of a public rule file without runbooks (awesome-prometheus-alerts, Redis)", async () => {
    const specDir = path.join(root, "test/fixtures/monitoring");
    const spec = {
      monitoring: { rules: ["awesome-prometheus-alerts/oliver006-redis-exporter.yml"] },
      operations: { runbooks: "runbooks" },
    };
    const { findings } = await run(spec, specDir);
    expect(findings.length).toBeGreaterThan(5);
    expect(new Set(findings.map((f) => `${f.status} ${f.messageId}`))).toEqual(new Set(["FAIL noRunbook"]));
    expect(findings[0]!.data?.tried).toContain("runbooks/RedisDown.md");
    expect(findings[0]!.data?.tried).toContain("runbooks/redis-down.md");
  });

  it("fetches kube-prometheus's runbook_url links (served from loopback) and fails the one page that does not exist", async () => {
    const pages = path.join(fixtures, "prometheus-operator-runbooks");
    const names = readFileSync(path.join(fixtures, "kube-prometheus/alertmanager-rules.yml"), "utf8")
      .match(/alert: \w+/g)!
      .map((m) => m.slice(7));
    const files = new Map(
      names.flatMap((n) => {
        try {
          return [[n.toLowerCase(), readFileSync(path.join(pages, `${n}.md`), "utf8")] as const];
        } catch {
          return [];
        }
      }),
    );
    const requests: string[] = [];
    const base = await serve((req, res) => {
      requests.push(req.url!);
      const match = /^\/runbooks\/alertmanager\/([a-z]+)(\/?)$/.exec(req.url!);
      const page = match && files.get(match[1]!);
      if (!page) {
        res
          .writeHead(404, { "content-type": "text/html" })
          .end("<html><body><h1>404 Page not found</h1></body></html>");
      } else if (!match[2]) {
        // Hugo serves a page at its folder: the link without a slash is redirected, as the real site does.
        res.writeHead(301, { location: `${req.url}/` }).end();
      } else {
        res
          .writeHead(200, { "content-type": "text/html; charset=utf-8" })
          .end(hugoPage(page, [...files.keys()]));
      }
    });
    const specDir = tempDir();
    const rules = readFileSync(path.join(fixtures, "kube-prometheus/alertmanager-rules.yml"), "utf8");
    writeFileSync(
      path.join(specDir, "alertmanager.yml"),
      rules.replaceAll("https://runbooks.prometheus-operator.dev", base),
    );
    const spec = { monitoring: { rules: ["alertmanager.yml"] } };
    const { findings, observation } = await run(spec, specDir, "ng.kube-prometheus");
    // Two upstream pages explain the alert but give no step to take (no list, no command): thin, not missing.
    expect(verdicts(findings)).toEqual([
      ["alerts", "PASS", "runbooksReady"],
      ["AlertmanagerClusterFailedToSendAlerts", "WARN", "runbookThin"],
      ["AlertmanagerConfigInconsistent", "WARN", "runbookThin"],
      ["AlertmanagerClusterFailedPeers", "FAIL", "runbookBroken"],
    ]);
    expect(findings[0]!.measurements?.[0]).toMatchObject({ value: 5, unit: "of 8" });
    expect(findings[1]!.message).toContain("no actionable step");
    expect(findings[3]).toMatchObject({
      location: { path: "alertmanager.yml", line: 128 },
      data: { status: 404, runbook: `${base}/runbooks/alertmanager/alertmanagerclusterfailedpeers` },
    });
    // The alert defined twice (warning and critical) links one page: one finding, fetched once.
    const twice = observation.alerts.find((a) => a.alert === "AlertmanagerClusterFailedToSendAlerts")!;
    expect(twice.rules.map((r) => r.line)).toHaveLength(2);
    expect(requests.filter((r) => r.includes("alertmanagerclusterfailedtosendalerts"))).toHaveLength(2); // + redirect
    // The site's menu lists every runbook as a link: none of it counts as a step of a page.
    const reload = observation.alerts.find((a) => a.alert === "AlertmanagerFailedReload")!.runbook;
    expect(reload).toMatchObject({
      state: "read",
      content: { htmlPart: "article", listSteps: 0, codeBlocks: 1 },
    });
  });

  it("judges each way a runbook can fall short, with the paths and URLs it tried", async () => {
    const dead = await freePort(); // nothing listens there: connection refused
    const complete = readFileSync(path.join(fixtures, "local/complete.md"));
    const routes: [(url: string) => boolean, number, Record<string, string>, string | Buffer][] = [
      [(u) => u.startsWith("/login"), 200, { "content-type": "text/html" }, "<form>sign in</form>"],
      [(u) => u.startsWith("/wiki/"), 302, { location: "/login?next=x" }, ""],
      [(u) => u === "/private", 401, { "www-authenticate": "Basic" }, ""],
      [(u) => u === "/broken", 500, {}, "oops"],
      [(u) => u === "/pdf", 200, { "content-type": "application/pdf" }, "%PDF-1.4"],
      [(u) => u === "/ok.md" || u.startsWith("/ok.md?"), 200, { "content-type": "text/markdown" }, complete],
      [(u) => u === "/loop", 302, { location: "/loop" }, ""],
    ];
    const base = await serve((req, res) => {
      const route = routes.find(([matches]) => matches(req.url!));
      if (route) res.writeHead(route[1], route[2]).end(route[3]);
      else res.writeHead(404).end();
    });
    const specDir = tempDir();
    mkdirSync(path.join(specDir, "runbooks"));
    for (const name of ["complete", "thin", "empty", "template"])
      writeFileSync(
        path.join(specDir, "runbooks", `orders-${name}.md`),
        readFileSync(path.join(fixtures, `local/${name}.md`)),
      );
    writeFileSync(
      path.join(specDir, "runbooks", "ViaFileUrl.md"),
      readFileSync(path.join(fixtures, "local/complete.md")),
    );
    const password = `pw-${Math.random().toString(36).slice(2, 12)}`;
    const alerts: [string, string | undefined][] = [
      ["OrdersComplete", undefined],
      ["OrdersThin", undefined],
      ["OrdersEmpty", undefined],
      ["OrdersTemplate", undefined],
      ["OrdersNothing", undefined],
      ["RelativePath", "runbooks/orders-complete.md"],
      ["MissingPath", "docs/missing.md"],
      ["ViaFileUrl", `file://${path.join(specDir, "runbooks", "ViaFileUrl.md")}`],
      ["Fetched", `http://ops:${password}@${base.slice(7)}/ok.md`],
      ["TemplatedQuery", `${base}/ok.md?alert={{ $labels.alertname }}`],
      ["TemplatedPath", `${base}/{{ $labels.service }}/runbook`],
      ["Missing404", `${base}/gone`],
      ["Refused", `http://127.0.0.1:${dead}/runbook`],
      ["BehindLogin", `${base}/wiki/orders`],
      ["Private", `${base}/private`],
      ["ServerError", `${base}/broken`],
      ["Pdf", `${base}/pdf`],
      ["Loop", `${base}/loop`],
    ];
    const rules = ["groups:", "  - name: orders", "    rules:"];
    for (const [name, url] of alerts) {
      rules.push(`      - alert: ${name}`, "        expr: vector(1)");
      if (url) rules.push("        annotations:", `          runbook_url: "${url}"`);
    }
    writeFileSync(path.join(specDir, "orders.yml"), `${rules.join("\n")}\n`);
    // Runbook files named after the alert: OrdersThin → orders-thin.md (kebab-case).
    const spec = { monitoring: { rules: ["orders.yml"] }, operations: { runbooks: "runbooks" } };
    const { findings, readEvidence, evidenceDir } = await run(spec, specDir, "ng.every-gap");
    const bySubject = Object.fromEntries(findings.map((f) => [f.subject, f]));
    expect(verdicts(findings)).toEqual([
      ["alerts", "PASS", "runbooksReady"],
      ["OrdersThin", "WARN", "runbookThin"],
      ["OrdersEmpty", "FAIL", "runbookEmpty"],
      ["OrdersTemplate", "FAIL", "runbookTemplate"],
      ["OrdersNothing", "FAIL", "noRunbook"],
      ["MissingPath", "FAIL", "runbookNotFound"],
      ["TemplatedPath", "UNVERIFIED", "runbookTemplated"],
      ["Missing404", "FAIL", "runbookBroken"],
      ["Refused", "UNVERIFIED", "runbookUnreachable"],
      ["BehindLogin", "UNVERIFIED", "runbookProtected"],
      ["Private", "UNVERIFIED", "runbookProtected"],
      ["ServerError", "UNVERIFIED", "runbookUnreachable"],
      ["Pdf", "UNVERIFIED", "runbookUnjudged"],
      ["Loop", "FAIL", "runbookBroken"],
    ]);
    expect(bySubject.alerts!.data?.alerts).toEqual([
      "OrdersComplete",
      "RelativePath",
      "ViaFileUrl",
      "Fetched",
      "TemplatedQuery",
    ]);
    expect(bySubject.OrdersNothing!.data?.tried).toContain("runbooks/orders-nothing.md");
    expect(bySubject.OrdersNothing!.location).toEqual({ path: "orders.yml", line: 12, column: 9 });
    expect(bySubject.MissingPath!.data?.tried).toEqual(["runbooks/docs/missing.md", "docs/missing.md"]);
    expect(bySubject.OrdersThin!.message).toContain("3 of 25 words");
    expect(bySubject.OrdersTemplate!.message).toContain("TODO: describe what the alert means.");
    expect(bySubject.Refused!.toVerify).toBeTruthy();
    expect(bySubject.Loop!.message).toContain("redirect loop");
    // The link's password never reaches a finding or the evidence.
    const everything = JSON.stringify(findings) + readEvidence(findings[0]!.evidence![0]!);
    expect(everything).not.toContain(password);
    expect(everything).toContain(`http://${base.slice(7)}/ok.md`);
    expect(evidenceDir).toBeTruthy();
  });

  it("is UNVERIFIED when the rules cannot be read, N/A when they hold no alert", async () => {
    const specDir = tempDir();
    writeFileSync(path.join(specDir, "broken.yml"), "groups:\n  - name: x\n    rules: [\n");
    writeFileSync(
      path.join(specDir, "records.yml"),
      "groups:\n  - name: r\n    rules:\n      - record: a:b\n        expr: vector(1)\n",
    );
    const broken = await run({ monitoring: { rules: ["broken.yml"] } }, specDir);
    expect(verdicts(broken.findings)).toEqual([["broken.yml", "UNVERIFIED", "ruleFileUnreadable"]]);
    expect(broken.findings[0]!.location).toMatchObject({ path: "broken.yml", line: 4 });
    const none = await run({ monitoring: { rules: ["nothing/*.yml"] } }, specDir);
    expect(verdicts(none.findings)).toEqual([["monitoring.rules", "UNVERIFIED", "noRuleFiles"]]);
    const records = await run({ monitoring: { rules: ["records.yml"] } }, specDir);
    expect(verdicts(records.findings)).toEqual([["monitoring.rules", "NA", "noAlerts"]]);
  });
});

describe("untemplated", () => {
  it("drops a templated query or fragment and refuses a templated host or path", () => {
    expect(untemplated("https://w/r/ApiDown#steps")).toEqual({ url: "https://w/r/ApiDown" });
    expect(untemplated("https://w/r?alert={{ $labels.alertname }}")).toEqual({
      url: "https://w/r",
      dropped: "query",
    });
    expect(untemplated("https://w/r#{{ $labels.x }}")).toEqual({ url: "https://w/r", dropped: "fragment" });
    expect(untemplated("https://w/{{ $labels.service }}/r")).toBeNull();
    expect(untemplated("https://{{ $externalLabels.cluster }}.w/r")).toBeNull();
  });
});
