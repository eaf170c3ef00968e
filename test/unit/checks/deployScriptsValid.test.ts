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

  it("applies when deployment.scripts lists a script or operations.rollback runs one", () => {
    const opts = { allowDestructive: false };
    const spec = (deployment?: unknown, rollback?: string) =>
      specSchema.parse({
        version: 1,
        system: { name: "t" },
        deployment,
        ...(rollback ? { operations: { rollback: { command: rollback } } } : {}),
      });
    expect(check.applies(spec(), opts)).toMatchObject({ applies: false });
    expect(check.applies(spec({ scripts: [] }), opts)).toMatchObject({ applies: false });
    expect(check.applies(spec({ scripts: ["deploy.sh"] }), opts)).toBe(true);
    expect(check.applies(spec(undefined, "./scripts/rollback.sh"), opts)).toBe(true);
    expect(check.applies(spec(undefined, "bash scripts/rollback.sh --to previous"), opts)).toBe(true);
    // A program found on PATH is not a file of the repository.
    expect(check.applies(spec(undefined, "kubectl rollout undo deployment/api"), opts)).toMatchObject({
      applies: false,
    });
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

  it("lints the rollback script operations.rollback runs, once when deployment.scripts lists it too", async () => {
    const { ctx } = makeCheckContext({
      deployment: { scripts: ["scripts/deploy.sh", "scripts/../scripts/rollback.sh"] },
      operations: { rollback: { command: "./scripts/rollback.sh", timeout: "60s" } },
    });
    mkdirSync(path.join(ctx.specDir, "scripts"));
    for (const name of ["deploy.sh", "rollback.sh"]) {
      writeFileSync(path.join(ctx.specDir, "scripts", name), "#!/bin/sh\necho ok\n", { mode: 0o755 });
    }
    const seen = await check.observe(ctx);
    expect(seen.scripts.map((s) => [s.file, s.from])).toEqual([
      ["scripts/deploy.sh", "deployment.scripts"],
      ["scripts/rollback.sh", "deployment.scripts"],
    ]);

    const only = makeCheckContext({
      operations: { rollback: { command: "bash -e scripts/undo.sh previous", timeout: "60s" } },
    });
    mkdirSync(path.join(only.ctx.specDir, "scripts"));
    writeFileSync(path.join(only.ctx.specDir, "scripts/undo.sh"), "#!/bin/bash\nif [ 1; then\n", {
      mode: 0o755,
    });
    const findings = await check.run(only.ctx);
    expect(findings.find((f) => f.data?.part === "syntax")).toMatchObject({
      subject: "scripts/undo.sh",
      status: "FAIL",
      messageId: "syntaxError",
    });
    const observed = await check.observe(only.ctx);
    expect(observed.scripts.map((s) => [s.file, s.from])).toEqual([
      ["scripts/undo.sh", "operations.rollback"],
    ]);
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
