import { readdirSync, readFileSync } from "node:fs";
import { it } from "vitest";
import { parseDockerfile } from "../../../../src/engines/dockerfile/parse.js";
import { lintDockerfile } from "../../../../src/engines/dockerfile/rules.js";
import { runScripts } from "../../../../src/engines/dockerfile/runScripts.js";
import { findBuildSecrets } from "../../../../src/engines/dockerfile/buildSecrets.js";
import { findShellcheck, shellcheckScripts } from "../../../../src/engines/dockerfile/shellcheck.js";

it("scratch", async () => {
  const tool = await findShellcheck(process.env.PATH, { timeoutMs: 5000 });
  const dir = "/tmp/realdf";
  const only = process.env.ONLY;
  for (const f of readdirSync(dir).sort()) {
    if (only && !f.includes(only)) continue;
    const model = parseDockerfile(readFileSync(`${dir}/${f}`, "utf8"));
    const hits = lintDockerfile(model);
    const secrets = await findBuildSecrets(model);
    const lint = await shellcheckScripts(model, runScripts(model), tool!, { env: { PATH: process.env.PATH }, timeoutMs: () => 10000 });
    const sc = lint.comments.filter((c) => c.level === "error" || c.level === "warning").map((c) => `${c.code}@${c.line}:${c.column}`);
    const failed = lint.scripts.filter((s) => s.state !== "linted").map((s) => `${s.instructionLine}:${s.state}:${s.reason}`);
    console.log(`${f}: ${hits.map((h) => `${h.rule}@${h.line}:${h.column}${Object.keys(h.detail).length ? JSON.stringify(h.detail) : ""}`).join(" ")} | secrets ${secrets.hits.map((h) => `${h.rule}:${h.kind}:${h.name}@${h.line}`).join(" ")} | sc ${sc.join(" ")} ${failed.join(" ")}`);
  }
}, 300000);
