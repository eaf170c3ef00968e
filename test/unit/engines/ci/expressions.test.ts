// GitHub `if:` and GitLab `rules: if:` conditions, three-valued: true, false, or unknown (null).
import { describe, expect, it } from "vitest";
import { evaluateGithub, evaluateGitlab } from "../../../../src/engines/ci/expressions.js";

const push = { "github.event_name": "push", "github.ref": "refs/heads/main", "github.ref_name": "main" };
const pr = { "github.event_name": "pull_request", "github.base_ref": "main" };

describe("evaluateGithub", () => {
  it("decides conditions on the event and the branch", () => {
    expect(evaluateGithub("github.event_name == 'push'", push)).toBe(true);
    expect(evaluateGithub("github.event_name == 'push'", pr)).toBe(false);
    expect(evaluateGithub(`\${{ github.event_name != 'pull_request' && !cancelled() }}`, push)).toBe(true);
    expect(evaluateGithub("github.ref == 'refs/heads/main' || github.event_name == 'pull_request'", pr)).toBe(
      true,
    );
    expect(evaluateGithub("startsWith(github.ref, 'refs/tags/')", push)).toBe(false);
    expect(evaluateGithub("github.event_name == 'PUSH'", push)).toBe(true); // case-insensitive, as in GitHub
  });

  it("says false for a literal false, unknown for what only the run knows", () => {
    expect(evaluateGithub(false, {})).toBe(false);
    expect(evaluateGithub(`\${{ false }}`, {})).toBe(false);
    expect(evaluateGithub("matrix.experimental", push)).toBeNull();
    expect(evaluateGithub("github.event_name == 'push' && vars.RUN == 'yes'", push)).toBeNull();
    expect(evaluateGithub("github.event_name == 'pull_request' && vars.RUN == 'yes'", push)).toBe(false);
    expect(evaluateGithub("always()", {})).toBe(true);
    expect(evaluateGithub("this is ( not an expression", {})).toBeNull();
  });
});

describe("evaluateGitlab", () => {
  const mr = {
    CI_PIPELINE_SOURCE: "merge_request_event",
    CI_MERGE_REQUEST_IID: "1",
    CI_COMMIT_BRANCH: null,
    CI_DEFAULT_BRANCH: "main",
  };
  const main = {
    CI_PIPELINE_SOURCE: "push",
    CI_COMMIT_BRANCH: "main",
    CI_DEFAULT_BRANCH: "main",
    CI_COMMIT_TAG: null,
  };

  it("decides the common rules", () => {
    expect(evaluateGitlab('$CI_PIPELINE_SOURCE == "merge_request_event"', mr)).toBe(true);
    expect(evaluateGitlab("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", main)).toBe(true);
    expect(evaluateGitlab("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", mr)).toBe(false);
    expect(evaluateGitlab("$CI_MERGE_REQUEST_IID", mr)).toBe(true);
    expect(evaluateGitlab("$CI_COMMIT_TAG", main)).toBe(false);
    expect(evaluateGitlab("$CI_COMMIT_BRANCH =~ /^ma/", main)).toBe(true);
    expect(evaluateGitlab("$CI_COMMIT_BRANCH !~ /^release/ && ($CI_PIPELINE_SOURCE == 'push')", main)).toBe(
      true,
    );
    expect(evaluateGitlab("$CI_COMMIT_TAG == null", main)).toBe(true);
  });

  it("is unknown for a variable the project may set", () => {
    expect(evaluateGitlab('$RUN_TESTS == "true"', main)).toBeNull();
    expect(evaluateGitlab('$RUN_TESTS == "true" || $CI_COMMIT_BRANCH == "main"', main)).toBe(true);
    expect(evaluateGitlab('$RUN_TESTS == "true" && $CI_COMMIT_BRANCH == "dev"', main)).toBe(false);
  });
});
