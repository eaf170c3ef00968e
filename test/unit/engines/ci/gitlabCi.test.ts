// GitLab CI jobs, extends, !reference, rules and only/except, for a push to main and for merge requests.
import { describe, expect, it } from "vitest";
import { lookupOf } from "../../../../src/engines/ci/analyze.js";
import { analyzeGitlabCi } from "../../../../src/engines/ci/gitlabCi.js";
import type { PipelineSource } from "../../../../src/engines/ci/pipeline.js";

const source = (text: string, repoPath = ".gitlab-ci.yml"): PipelineSource => ({
  file: repoPath,
  repoPath,
  text,
});
const analyze = (text: string, others: PipelineSource[] = []) =>
  analyzeGitlabCi(source(text), ["main"], lookupOf(others));
const runs = (text: string, others?: PipelineSource[]) =>
  analyze(text, others).guards.map((g) => [
    g.job,
    g.push.runs,
    g.pullRequest.runs,
    g.disabled ?? g.cannotFail ?? null,
  ]);

describe("analyzeGitlabCi", () => {
  it("finds test jobs by their script, through extends and !reference, but not hidden templates", () => {
    const text = [
      ".tests:",
      "  script: [pytest]",
      ".setup:",
      "  script:",
      "    - go test ./...",
      "unit:",
      "  extends: .tests",
      "integration:",
      "  script:",
      "    - !reference [.setup, script]",
      "build:",
      "  script: [go build ./...]",
      "",
    ].join("\n");
    expect(runs(text)).toEqual([
      ["unit", "yes", "yes", null],
      ["integration", "yes", "yes", null],
    ]);
    expect(analyze(text).guards[1]!.at.line).toBe(5);
  });

  it("counts a job in stage test as a test, by its stage", () => {
    expect(analyze("check:\n  stage: test\n  script: [./run-suite]\n").guards[0]).toMatchObject({
      runner: "a job in stage test",
    });
    expect(analyze("check:\n  script: [./run-suite]\n").guards).toEqual([]);
  });

  it("evaluates rules, only/except and workflow:rules for each pipeline", () => {
    const mrOnly =
      'unit:\n  script: [pytest]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n';
    expect(runs(mrOnly)).toEqual([["unit", "no", "yes", null]]);
    expect(runs("unit:\n  script: [pytest]\n  only: [main]\n")).toEqual([["unit", "yes", "no", null]]);
    expect(runs("unit:\n  script: [pytest]\n  except: [main]\n")).toEqual([["unit", "no", "yes", null]]);
    expect(runs("unit:\n  script: [pytest]\n  only: [merge_requests]\n")).toEqual([
      ["unit", "no", "yes", null],
    ]);
    const never =
      "unit:\n  script: [pytest]\n  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n      when: never\n    - when: always\n";
    expect(runs(never)).toEqual([["unit", "no", "yes", null]]);
    const workflow = "workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\nunit:\n  script: [pytest]\n";
    expect(runs(workflow)).toEqual([["unit", "no", "no", null]]);
    expect(runs("unit:\n  script: [pytest]\n  when: manual\n")).toEqual([
      ["unit", "yes", "yes", "when: manual"],
    ]);
    const changes = "unit:\n  script: [pytest]\n  rules:\n    - changes: [src/**]\n";
    expect(analyze(changes).guards[0]!.push.partial).toBe("only when files matching src/** change");
  });

  it("merges local includes and reports what it cannot read", () => {
    const included = source("unit:\n  script: [cargo test]\n", "ci/test.yml");
    expect(runs("include: ci/test.yml\n", [included])).toEqual([["unit", "yes", "yes", null]]);
    expect(runs("include:\n  - local: '/ci/*.yml'\n", [included])).toEqual([["unit", "yes", "yes", null]]);
    const missing = analyze("include: ci/nothing.yml\nlint:\n  script: [echo]\n");
    expect(missing.problems[0]?.message).toContain("names no file");
    const remote = analyze("include:\n  - project: group/ci\n    file: test.yml\nlint:\n  script: [echo]\n");
    expect(remote.unread).toEqual(["project group/ci (test.yml) (included by .gitlab-ci.yml)"]);
  });

  it("reports YAML errors at their position", () => {
    const a = analyze("unit:\n  script: [pytest\n");
    expect(a.problems[0]).toMatchObject({ line: 3 });
    expect(a.problems[0]!.message).toMatch(/^YAML: /);
  });
});
