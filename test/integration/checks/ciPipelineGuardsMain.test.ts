// CI pipelines in real git repositories made for each test: public workflow files (actions/starter-workflows,
// expressjs/express, pallets/flask, prometheus/prometheus with its reusable workflow) and GitLab's own CI templates,
// plus broken ones (YAML errors, no test step, tests only on tags, if: false, a default branch the workflow forgets).
// The demos: the sturdy shop's pipeline passes, the fragile one's fails, and Gauntlet's own repository — with no
// .github/workflows — has no pipeline at all.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/operations/ciPipelineGuardsMain.js";
import type { FindingInput } from "../../../src/core/types.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { verdictsWithoutEvidence } from "../../support/monitoring.js";

const root = path.resolve(import.meta.dirname, "../../..");
const fixtures = path.join(root, "test/fixtures/ci");
const onCleanup = cleanupAfterEach();
const fixture = (relative: string) => readFileSync(path.join(fixtures, relative), "utf8");
/** A starter workflow as GitHub writes it into a repository: $default-branch replaced by the branch. */
const starter = (name: string, branch = "main") =>
  fixture(`starter-workflows/${name}.yml`).replaceAll("$default-branch", branch);

function git(dir: string, ...args: string[]): string {
  const result = spawnSync(
    "git",
    ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", ...args],
    {
      cwd: dir,
      encoding: "utf8",
    },
  );
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** A git repository on `branch` holding `files` (and a package.json), committed. */
function makeRepo(files: Record<string, string>, branch = "main"): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-ci-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  git(dir, "init", "-q", "-b", branch);
  for (const [name, text] of Object.entries({
    "package.json": '{"scripts":{"test":"node --test"}}\n',
    ...files,
  })) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "init");
  return dir;
}

async function run(specDir: string, spec: Parameters<typeof makeCheckContext>[0] = {}, record?: string) {
  const t = makeCheckContext(spec, { specDir, checkId: check.meta.id });
  expect(check.applies(t.ctx.spec, { allowDestructive: false })).toBe(true);
  const observation = await check.observe(t.ctx);
  const findings = check.judge(observation, t.ctx.spec);
  expect(verdictsWithoutEvidence(findings)).toEqual([]);
  if (record) recordObservation(check.meta.id, record, observation, spec);
  return { findings, observation, ...t };
}

const verdicts = (findings: FindingInput[]) => findings.map((f) => [f.subject, f.status, f.messageId]);

describe("ciPipelineGuardsMain on real workflow files", () => {
  it("passes the starter Node.js workflow, at the npm test line, with the branch git names", async () => {
    const dir = makeRepo({ ".github/workflows/node.js.yml": starter("node.js") });
    const { findings, observation } = await run(dir, {}, "ok.starter-node");
    expect(verdicts(findings)).toEqual([["main", "PASS", "guardsMain"]]);
    expect(findings[0]!.location).toEqual({ path: ".github/workflows/node.js.yml", line: 31, column: 12 });
    expect(observation.mainBranch).toEqual({ names: ["main"], source: "local branches" });
  });

  it("judges each starter workflow by what it runs: a test step, a build only, or tests on release only", async () => {
    const cases: [string, string][] = [
      ["go", "PASS"],
      ["rust", "PASS"],
      ["python-package", "PASS"],
      ["maven", "PASS"], // mvn package runs the test phase
      ["gradle", "PASS"], // gradle build runs check
      ["makefile", "PASS"], // make check
      ["docker-image", "FAIL noTestStep"],
      ["blank", "FAIL noTestStep"],
      ["npm-publish", "FAIL"],
    ];
    for (const [name, expected] of cases) {
      const dir = makeRepo({ [`.github/workflows/${name}.yml`]: starter(name) });
      const { findings } = await run(dir);
      const got = findings.some((f) => f.status === "FAIL")
        ? `FAIL${findings.some((f) => f.messageId === "noTestStep") ? " noTestStep" : ""}`
        : findings.map((f) => f.status).join(",");
      expect(got, name).toBe(expected);
    }
  });

  it("fails a starter workflow committed as the template: $default-branch matches no branch", async () => {
    const dir = makeRepo({ ".github/workflows/node.js.yml": fixture("starter-workflows/node.js.yml") });
    const { findings } = await run(dir, {}, "ng.starter-placeholder");
    expect(verdicts(findings)).toEqual([
      ["push to main", "FAIL", "pushUnguarded"],
      ["pull requests", "FAIL", "pullRequestsUnguarded"],
    ]);
    expect(findings[0]!.message).toContain("$default-branch is the starter template's placeholder");
  });

  it("fails tests that run only on release (npm-publish): named with the event that runs them", async () => {
    const dir = makeRepo({ ".github/workflows/npm-publish.yml": starter("npm-publish") });
    const { findings } = await run(dir);
    expect(verdicts(findings)).toEqual([
      ["push to main", "FAIL", "pushUnguarded"],
      ["pull requests", "FAIL", "pullRequestsUnguarded"],
    ]);
    expect(findings[0]!.message).toContain("not triggered by push (on: release)");
  });

  it("reads express's workflows: guarded on master, its default branch; a repository on main is not", async () => {
    const files = Object.fromEntries(
      ["ci", "legacy", "codeql", "scorecard"].map((n) => [
        `.github/workflows/${n}.yml`,
        fixture(`express/.github/workflows/${n}.yml`),
      ]),
    );
    const master = await run(makeRepo(files, "master"), {}, "ok.express");
    expect(verdicts(master.findings)).toEqual([["master", "PASS", "guardsMain"]]);
    expect(master.findings[0]!.message).toContain("npm run test-ci");
    // The same files where the default branch is main: pull requests are still tested, pushes to main are not.
    const main = await run(makeRepo(files, "main"));
    expect(verdicts(main.findings)).toEqual([["push to main", "FAIL", "pushUnguarded"]]);
    expect(main.findings[0]!.message).toContain(
      "push.branches [master, develop, 4.x, 5.x, 5.0] does not match main",
    );
  });

  it("takes the default branch from origin/HEAD when the clone has one", async () => {
    const dir = makeRepo({ ".github/workflows/node.js.yml": starter("node.js") });
    git(dir, "update-ref", "refs/remotes/origin/trunk", "HEAD");
    git(dir, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk");
    const { findings, observation } = await run(dir);
    expect(observation.mainBranch).toEqual({ names: ["trunk"], source: "origin/HEAD" });
    expect(verdicts(findings)).toEqual([
      ["push to trunk", "FAIL", "pushUnguarded"],
      ["pull requests", "FAIL", "pullRequestsUnguarded"],
    ]);
  });

  it("reads flask's workflows (tox through uv) and prometheus's, with its reusable fuzzing workflow", async () => {
    const flask = Object.fromEntries(
      ["lock", "pre-commit", "publish", "tests", "zizmor"].map((n) => [
        `.github/workflows/${n}.yaml`,
        fixture(`flask/.github/workflows/${n}.yaml`),
      ]),
    );
    const f = await run(makeRepo(flask), {}, "ok.flask");
    expect(verdicts(f.findings)).toEqual([["main", "PASS", "guardsMain"]]);
    const prometheus = Object.fromEntries(
      ["ci", "fuzzing", "codeql-analysis"].map((n) => [
        `.github/workflows/${n}.yml`,
        fixture(`prometheus/.github/workflows/${n}.yml`),
      ]),
    );
    // Only ci.yml is named: fuzzing.yml is read because ci.yml calls it.
    const p = await run(makeRepo(prometheus), { operations: { ci: [".github/workflows/ci.yml"] } });
    expect(verdicts(p.findings)).toEqual([["main", "PASS", "guardsMain"]]);
    expect(p.observation.referenced.map((r) => r.file).sort()).toEqual([
      ".github/workflows/codeql-analysis.yml",
      ".github/workflows/fuzzing.yml",
    ]);
    const guards = p.findings[0]!.data?.pullRequestGuards as string[];
    expect(guards.some((g) => g.includes("fuzzing.yml") && g.includes("via job fuzzing"))).toBe(true);
    const pushGuards = (p.findings[0]!.data?.pushGuards ?? []) as string[];
    expect(pushGuards.some((g) => g.includes("fuzzing.yml"))).toBe(false);
  });

  it("reads GitLab's CI templates: branch pipelines test every push; a local include adds merge request pipelines", async () => {
    for (const name of ["Python", "Go", "Rust", "Nodejs"]) {
      const { findings } = await run(
        makeRepo({ ".gitlab-ci.yml": fixture(`gitlab-templates/${name}.gitlab-ci.yml`) }),
      );
      expect(verdicts(findings), name).toEqual([["main", "PASS", "guardsMain"]]);
    }
    const project = {
      ".gitlab-ci.yml": `include:\n  - local: ci/merge-request-pipelines.yml\n\n${fixture("gitlab-templates/Python.gitlab-ci.yml")}`,
      "ci/merge-request-pipelines.yml": fixture(
        "gitlab-templates/Workflows/MergeRequest-Pipelines.gitlab-ci.yml",
      ),
    };
    const { findings, observation } = await run(makeRepo(project), {}, "ok.gitlab-merge-requests");
    expect(verdicts(findings)).toEqual([["main", "PASS", "guardsMain"]]);
    expect(observation.referenced.map((r) => r.repoPath)).toEqual(["ci/merge-request-pipelines.yml"]);
    // The template's workflow:rules keep only merge request, tag and default-branch pipelines: a job limited to
    // branches gets no merge request pipeline and no source-branch pipeline.
    const limited = {
      ...project,
      ".gitlab-ci.yml": `include:\n  - local: ci/merge-request-pipelines.yml\ntest:\n  only: [branches]\n  script:\n    - pytest\n`,
    };
    const l = await run(makeRepo(limited));
    expect(verdicts(l.findings)).toEqual([["pull requests", "FAIL", "pullRequestsUnguarded"]]);
  });
});

describe("ciPipelineGuardsMain on broken pipelines", () => {
  it("fails a workflow that does not parse, at its line and column", async () => {
    const dir = makeRepo({
      ".github/workflows/ci.yml":
        "on: [push]\njobs:\n  test:\n    steps:\n      - run: npm test\n     - run: oops\n",
    });
    const { findings } = await run(dir, {}, "ng.yaml-error");
    expect(new Set(verdicts(findings).map((v) => v.join(" ")))).toEqual(
      new Set([".github/workflows/ci.yml FAIL pipelineInvalid"]),
    );
    expect(findings[0]!.location).toMatchObject({ path: ".github/workflows/ci.yml", line: 6 });
    expect(findings[0]!.message).toMatch(/^\.github\/workflows\/ci\.yml:6:\d+: YAML: /);
  });

  it("fails a repository with code and no pipeline: silence is not N/A", async () => {
    const { findings } = await run(makeRepo({ "src/index.js": "export {};\n" }), {}, "ng.no-pipeline");
    expect(verdicts(findings)).toEqual([[".", "FAIL", "noPipeline"]]);
    expect(findings[0]!.data?.searched).toEqual([
      ".github/workflows/*.yml",
      ".github/workflows/*.yaml",
      ".gitlab-ci.yml",
    ]);
  });

  it("is N/A for a folder with no code and no git", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-ci-empty-"));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, "gauntlet.yaml"), "version: 1\n");
    const { findings } = await run(dir);
    expect(verdicts(findings)).toEqual([[".", "NA", "noRepository"]]);
  });

  it("fails a test job switched off with if: false, and warns about it beside a working one", async () => {
    const off = starter("node.js").replace("  build:\n", "  build:\n    if: false\n");
    const alone = await run(makeRepo({ ".github/workflows/ci.yml": off }), {}, "ng.if-false");
    expect(verdicts(alone.findings)).toEqual([
      ["push to main", "FAIL", "pushUnguarded"],
      ["pull requests", "FAIL", "pullRequestsUnguarded"],
    ]);
    expect(alone.findings[0]!.message).toContain("never runs (if: false)");
    const beside = await run(
      makeRepo({ ".github/workflows/ci.yml": off, ".github/workflows/go.yml": starter("go") }),
    );
    expect(verdicts(beside.findings)).toEqual([
      ["main", "PASS", "guardsMain"],
      [".github/workflows/ci.yml", "WARN", "guardCannotFail"],
    ]);
  });

  it("fails tests that cannot fail: continue-on-error, || true, allow_failure", async () => {
    const cases = {
      "continue-on-error": starter("node.js").replace(
        "    - run: npm test",
        "    - run: npm test\n      continue-on-error: true",
      ),
      "or-true": starter("node.js").replace("    - run: npm test", "    - run: npm test || true"),
    };
    for (const [name, text] of Object.entries(cases)) {
      const { findings } = await run(makeRepo({ ".github/workflows/ci.yml": text }));
      expect(verdicts(findings), name).toEqual([
        ["push to main", "FAIL", "pushUnguarded"],
        ["pull requests", "FAIL", "pullRequestsUnguarded"],
      ]);
      expect(findings[0]!.message, name).toContain("cannot fail");
    }
    const gitlab = await run(
      makeRepo({ ".gitlab-ci.yml": "test:\n  script: [pytest]\n  allow_failure: true\n" }),
    );
    expect(verdicts(gitlab.findings)).toEqual([
      ["push to main", "FAIL", "pushUnguarded"],
      ["pull requests", "FAIL", "pullRequestsUnguarded"],
    ]);
  });

  it("warns when tests run only when some paths change", async () => {
    const text = starter("go").replace(
      "  pull_request:\n    branches: [ main ]",
      "  pull_request:\n    branches: [ main ]\n    paths: ['src/**']",
    );
    const { findings } = await run(makeRepo({ ".github/workflows/go.yml": text }));
    expect(verdicts(findings)).toEqual([["pull requests", "WARN", "guardPartial"]]);
    expect(findings[0]!.message).toContain("only when files matching src/** change");
  });

  it("is unsure, not failing, when the only tests hang on a condition the event does not decide", async () => {
    const text = starter("go").replace("  build:\n", `  build:\n    if: \${{ vars.RUN_TESTS == 'yes' }}\n`);
    const { findings } = await run(makeRepo({ ".github/workflows/go.yml": text }));
    expect(verdicts(findings)).toEqual([
      ["push to main", "UNVERIFIED", "guardUncertain"],
      ["pull requests", "UNVERIFIED", "guardUncertain"],
    ]);
  });

  it("reads GitLab rules for merge requests and the default branch, and a child pipeline that is not waited for", async () => {
    const rules = [
      "unit:",
      "  stage: test",
      "  script:",
      "    - go test ./...",
      "  rules:",
      '    - if: $CI_PIPELINE_SOURCE == "merge_request_event"',
      "    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
      "",
    ].join("\n");
    const ok = await run(makeRepo({ ".gitlab-ci.yml": rules }));
    expect(verdicts(ok.findings)).toEqual([["main", "PASS", "guardsMain"]]);
    const tagsOnly = await run(
      makeRepo({ ".gitlab-ci.yml": "unit:\n  script: [go test ./...]\n  only: [tags]\n" }),
      {},
      "ng.gitlab-tags-only",
    );
    expect(verdicts(tagsOnly.findings)).toEqual([
      ["push to main", "FAIL", "pushUnguarded"],
      ["pull requests", "FAIL", "pullRequestsUnguarded"],
    ]);
    const parent = "tests:\n  trigger:\n    include: ci/tests.yml\n";
    const childFile = "unit:\n  script: [go test ./...]\n";
    const loose = await run(makeRepo({ ".gitlab-ci.yml": parent, "ci/tests.yml": childFile }));
    expect(loose.findings.map((f) => f.status)).toEqual(["FAIL", "FAIL"]);
    expect(loose.findings[0]!.message).toContain("without strategy: depend");
    const waited = await run(
      makeRepo({ ".gitlab-ci.yml": `${parent}    strategy: depend\n`, "ci/tests.yml": childFile }),
    );
    expect(verdicts(waited.findings)).toEqual([["main", "PASS", "guardsMain"]]);
  });

  it("does not guess about a remote include: UNVERIFIED, naming it", async () => {
    const dir = makeRepo({
      ".gitlab-ci.yml": "include:\n  - template: Auto-DevOps.gitlab-ci.yml\nlint:\n  script: [echo lint]\n",
    });
    const { findings } = await run(dir);
    expect(verdicts(findings)).toEqual([[".gitlab-ci.yml", "UNVERIFIED", "guardUncertain"]]);
    expect(findings[0]!.message).toContain("template Auto-DevOps.gitlab-ci.yml");
  });
});

describe("ciPipelineGuardsMain on the demos", () => {
  it("passes the sturdy shop's pipeline (operations.ci names it)", async () => {
    const specDir = path.join(root, "examples/sturdy");
    const { findings } = await run(
      specDir,
      { system: { name: "demo-shop", repo: "../.." }, operations: { ci: [".github/workflows/ci.yml"] } },
      "ok.sturdy-demo",
    );
    expect(verdicts(findings)).toEqual([["main", "PASS", "guardsMain"]]);
    expect(findings[0]!.message).toContain("node --test examples/sturdy/services/services.test.mjs");
  });

  it("fails the fragile shop's pipeline: tests only on tags, and allowed to fail", async () => {
    const specDir = path.join(root, "examples/fragile");
    const { findings } = await run(
      specDir,
      { system: { name: "shop", repo: "../.." }, operations: { ci: [".github/workflows/release.yml"] } },
      "ng.fragile-demo",
    );
    expect(verdicts(findings)).toEqual([
      ["push to main", "FAIL", "pushUnguarded"],
      ["pull requests", "FAIL", "pullRequestsUnguarded"],
    ]);
    expect(findings[0]!.message).toContain("runs for tags, never for pushes to a branch");
  });

  it("finds no pipeline in Gauntlet's own repository by the defaults (it has .ci/run, no .github/workflows)", async () => {
    const specDir = path.join(root, "examples/sturdy");
    const { findings } = await run(specDir, { system: { name: "demo-shop", repo: "../.." } });
    expect(verdicts(findings)).toEqual([["../..", "FAIL", "noPipeline"]]);
  });
});
