import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check, {
  type DeployScriptsObservation,
  shebangInterpreter,
} from "../../../src/checks/deployment/deployScriptsValid.js";
import { specSchema } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";

describe("deployScriptsValid meta", () => {
  it("is a high-risk deployment check named after its file", () => {
    expect(check.meta).toMatchObject({ id: "deployScriptsValid", category: "deployment", risk: "high" });
    expect(check.meta.remediation.text).toContain("{{file}}");
  });

  it("applies only when deployment.scripts lists a script", () => {
    const opts = { allowDestructive: false };
    const spec = (deployment?: unknown) =>
      specSchema.parse({ version: 1, system: { name: "t" }, deployment });
    expect(check.applies(spec(), opts)).toMatchObject({ applies: false });
    expect(check.applies(spec({ scripts: [] }), opts)).toMatchObject({ applies: false });
    expect(check.applies(spec({ scripts: ["deploy.sh"] }), opts)).toBe(true);
  });
});

describe("shebangInterpreter", () => {
  it.each([
    ["#!/bin/bash\n", "bash"],
    ["#!/usr/bin/env bash\nset -e\n", "bash"],
    ["#! /bin/sh -e\n", "sh"],
    ["#!/usr/bin/env -S bash -euo pipefail\n", "bash"],
    ["#!/usr/bin/env python3\n", "python3"],
    ["#!/usr/bin/node\n", "node"],
    ["echo no shebang\n", null],
    ["", null],
  ])("%j → %s", (text, interpreter) => {
    expect(shebangInterpreter(text)).toBe(interpreter);
  });
});

describe("deployScriptsValid run", () => {
  it("fails a script that does not exist and one that is a folder, naming each file", async () => {
    const {
      ctx,
      ctx: c,
      readEvidence,
    } = makeCheckContext({
      deployment: { scripts: ["scripts/missing.sh", "scripts/folder"] },
    });
    mkdirSync(path.join(c.specDir, "scripts/folder"), { recursive: true });
    const findings = await check.run(ctx);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["scripts/missing.sh", "FAIL", "missing"],
      ["scripts/folder", "FAIL", "notAFile"],
    ]);
    expect(findings.map((f) => f.location?.path)).toEqual(["scripts/missing.sh", "scripts/folder"]);
    expect(JSON.parse(readEvidence(findings[0]!.evidence![0]!))).toMatchObject({
      exists: false,
      error: "ENOENT",
    });
  });

  it("resolves script paths against the spec folder, not the working directory", async () => {
    const { ctx } = makeCheckContext({ deployment: { scripts: ["./deploy.sh"] } });
    writeFileSync(path.join(ctx.specDir, "deploy.sh"), "#!/bin/sh\necho ok\n", { mode: 0o755 });
    const findings = await check.run(ctx);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.subject === "deploy.sh")).toBe(true);
    expect(findings.find((f) => f.data?.part === "syntax")).toMatchObject({
      status: "PASS",
      messageId: "parses",
    });
  });

  it("keeps what it saw of each script, so a timeout still judges the scripts already inspected", async () => {
    const { ctx } = makeCheckContext({ deployment: { scripts: ["one.sh", "two.sh"] } });
    const kept: DeployScriptsObservation[] = [];
    ctx.keepPartial = (observation) => kept.push(structuredClone(observation as DeployScriptsObservation));
    await check.observe(ctx);
    expect(kept.map((o) => o.scripts.length)).toEqual([1, 2]);
    expect(check.judge(kept[0]!, ctx.spec).map((f) => [f.subject, f.messageId])).toEqual([
      ["one.sh", "missing"],
    ]);
  });

  it("stops when the run is cancelled", async () => {
    const { ctx } = makeCheckContext(
      { deployment: { scripts: ["deploy.sh"] } },
      { signal: AbortSignal.abort(new Error("cancelled")) },
    );
    await expect(check.run(ctx)).rejects.toThrow("cancelled");
  });
});
