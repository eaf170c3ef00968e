// GitHub Actions triggers in every form, branch filters as GitHub matches them, and job/step conditions.
import { describe, expect, it } from "vitest";
import { lookupOf } from "../../../../src/engines/ci/analyze.js";
import { analyzeGithubWorkflow, filterMatches } from "../../../../src/engines/ci/githubActions.js";

const analyze = (text: string, main = ["main"]) =>
  analyzeGithubWorkflow({ file: "ci.yml", repoPath: ".github/workflows/ci.yml", text }, main, lookupOf([]));
const jobs = "jobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n";

describe("analyzeGithubWorkflow triggers", () => {
  it("reads on: as a string, a list and a map", () => {
    expect(analyze(`on: push\n${jobs}`)).toMatchObject({
      push: { runs: "yes" },
      pullRequest: { runs: "no" },
    });
    expect(analyze(`on: [push, pull_request]\n${jobs}`)).toMatchObject({
      push: { runs: "yes" },
      pullRequest: { runs: "yes" },
    });
    expect(analyze(`on:\n  pull_request:\n  push:\n    branches: [main]\n${jobs}`)).toMatchObject({
      push: { runs: "yes" },
      pullRequest: { runs: "yes" },
    });
  });

  it("applies branch, tag, path and type filters for the main branch", () => {
    expect(analyze(`on:\n  push:\n    tags: ['v*']\n${jobs}`).push.runs).toBe("no");
    expect(analyze(`on:\n  push:\n    branches-ignore: [main]\n${jobs}`).push.runs).toBe("no");
    expect(analyze(`on:\n  push:\n    branches: ['release/**']\n${jobs}`).push.runs).toBe("no");
    expect(analyze(`on:\n  push:\n    branches: ['**', '!main']\n${jobs}`).push.runs).toBe("no");
    expect(analyze(`on:\n  push:\n    paths: ['src/**']\n${jobs}`).push).toMatchObject({
      runs: "yes",
      partial: "only when files matching src/** change",
    });
    expect(analyze(`on:\n  pull_request:\n    types: [closed]\n${jobs}`).pullRequest.runs).toBe("no");
    expect(
      analyze(`on:\n  pull_request:\n    branches: [master]\n${jobs}`, ["master"]).pullRequest.runs,
    ).toBe("yes");
    const both = analyze(`on:\n  push:\n    branches: [main]\n    branches-ignore: [dev]\n${jobs}`);
    expect(both.problems[0]?.message).toContain("both branches and branches-ignore");
  });

  it("counts pull_request_target only when the job checks the pull request's head out", () => {
    const base = analyze(`on: pull_request_target\n${jobs}`);
    expect(base.guards[0]!.pullRequest.runs).toBe("no");
    const head = analyze(
      `on: pull_request_target\njobs:\n  t:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: \${{ github.event.pull_request.head.sha }}\n      - run: npm test\n`,
    );
    expect(head.guards[0]!.pullRequest.runs).toBe("yes");
  });

  it("evaluates job and step conditions per event, and notices continue-on-error", () => {
    const a = analyze(
      "on: [push, pull_request]\njobs:\n  t:\n    if: github.event_name == 'push'\n    steps:\n      - run: go test ./...\n  u:\n    continue-on-error: true\n    steps:\n      - run: pytest\n",
    );
    expect(a.guards.map((g) => [g.job, g.push.runs, g.pullRequest.runs, g.cannotFail ?? null])).toEqual([
      ["t", "yes", "no", null],
      ["u", "yes", "yes", "continue-on-error: true"],
    ]);
  });

  it("places a test line inside a block scalar at its own line and column", () => {
    const a = analyze(
      "on: push\njobs:\n  t:\n    steps:\n      - run: |\n          npm ci\n          npm test\n",
    );
    expect(a.guards[0]!.at).toEqual({ line: 7, column: 11 });
  });

  it("rejects a workflow without on: or jobs:", () => {
    expect(analyze(jobs).problems[0]?.message).toContain("no on: key");
    expect(analyze("on: push\n").problems[0]?.message).toContain("no jobs:");
  });
});

describe("filterMatches", () => {
  it("matches GitHub's filter patterns, the last match deciding", () => {
    expect(filterMatches(["main"], ["main"])).toBe(true);
    expect(filterMatches(["ma*"], ["main"])).toBe(true);
    expect(filterMatches(["release/*"], ["release/1/2"])).toBe(false);
    expect(filterMatches(["release/**"], ["release/1/2"])).toBe(true);
    expect(filterMatches(["*", "!main"], ["main"])).toBe(false);
    expect(filterMatches(["!main", "*"], ["main"])).toBe(true);
    expect(filterMatches(["$default-branch"], ["main"])).toBe(false);
    expect(filterMatches(["main", "master"], ["master"])).toBe(true);
  });
});
