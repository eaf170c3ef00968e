// Real log files in a temp folder: clean JSON, a few bad lines (WARN), mostly text (FAIL), logfmt, missing files.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/observability/logsStructured.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { verdictsWithoutEvidence } from "../../support/monitoring.js";

const json = (i: number) =>
  JSON.stringify({ ts: new Date(0).toISOString(), level: "info", msg: `request ${i}` });

function setup(
  files: Record<string, string>,
  logs: { files: string[]; format?: "json" | "logfmt" | "text" },
) {
  const test = makeCheckContext({ monitoring: { logs } });
  mkdirSync(path.join(test.ctx.specDir, "logs"), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(test.ctx.specDir, name), text);
  return test;
}

describe("logsStructured", () => {
  it("is N/A without log files", () => {
    const { ctx } = makeCheckContext({});
    expect(check.applies(ctx.spec, { allowDestructive: false })).toMatchObject({ applies: false });
  });

  it("passes clean JSON lines, warns on a few bad ones and fails mostly-text logs, with the first bad line", async () => {
    const clean = Array.from({ length: 50 }, (_, i) => json(i)).join("\n");
    const fewBad = [
      ...Array.from({ length: 40 }, (_, i) => json(i)),
      "    at Object.<anonymous> (server.js:1:1)",
      json(41),
    ].join("\n");
    const text = ["Server started", json(1), "GET /items 200", "GET /admin 401"].join("\n");
    const { ctx } = setup(
      { "logs/a.log": clean, "logs/b.log": fewBad, "logs/c.log": text },
      { files: ["logs/*.log"] },
    );
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId, f.location?.line])).toEqual([
      ["logs/a.log", "PASS", "structured", undefined],
      ["logs/b.log", "WARN", "fewUnstructured", 41],
      ["logs/c.log", "FAIL", "unstructured", 1],
    ]);
    expect(verdictsWithoutEvidence(findings)).toEqual([]);
    expect(findings[2]!.data).toMatchObject({ lines: 4, bad: 3, firstBadLines: [1, 3, 4] });
    expect(findings[2]!.measurements![0]).toMatchObject({ name: "unstructured lines", value: 75, unit: "%" });
  });

  it("checks logfmt when the spec says so, and is UNVERIFIED for a pattern that matches nothing", async () => {
    const { ctx } = setup(
      {
        "logs/app.log":
          'ts=2026-01-01T00:00:00Z level=info msg="started"\nts=2026-01-01T00:00:01Z level=warn msg=slow\n',
      },
      { files: ["logs/app.log", "logs/missing-*.log"], format: "logfmt" },
    );
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["logs/app.log", "PASS", "structured"],
      ["logs/missing-*.log", "UNVERIFIED", "noFileMatches"],
    ]);
  });

  it("fails logs declared as text", async () => {
    const { ctx } = setup({}, { files: ["logs/*.log"], format: "text" });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      [undefined, "FAIL", "declaredText"],
    ]);
    expect(verdictsWithoutEvidence(findings)).toEqual([]);
  });

  it("is UNVERIFIED for an empty file, and observes line numbers without the lines' text", async () => {
    const { ctx } = setup(
      { "logs/empty.log": "\n\n", "logs/secret.log": "password=hunter2 started\n" },
      { files: ["logs/*.log"] },
    );
    const observation = await check.observe(ctx);
    expect(JSON.stringify(observation)).not.toContain("hunter2");
    expect(check.judge(observation, ctx.spec).map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["logs/empty.log", "UNVERIFIED", "emptyFile"],
      ["logs/secret.log", "FAIL", "unstructured"],
    ]);
  });
});
