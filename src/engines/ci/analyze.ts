// Which CI system a pipeline file belongs to (by its path, else by its shape), and the files it names that must be
// read with it. Pure: files come in as text, with a lookup for the others.
import path from "node:path";
import { isMap } from "yaml";
import { analyzeGithubWorkflow, calledWorkflows } from "./githubActions.js";
import { analyzeGitlabCi, gitlabLocalIncludes } from "./gitlabCi.js";
import {
  entries,
  has,
  type PipelineAnalysis,
  type PipelineSource,
  parseYaml,
  type SourceLookup,
} from "./pipeline.js";

/** Where CI systems look for their pipelines, relative to the repository root. */
export const DEFAULT_PIPELINES = [".github/workflows/*.yml", ".github/workflows/*.yaml", ".gitlab-ci.yml"];

export type CiSystem = PipelineAnalysis["system"];

export function systemOf(source: PipelineSource): CiSystem {
  const repoPath = source.repoPath;
  if (/(?:^|\/)\.github\/workflows\/[^/]+\.ya?ml$/.test(repoPath)) return "github-actions";
  if (
    /(?:^|[/.])gitlab-ci\.ya?ml$/.test(path.posix.basename(repoPath)) ||
    /(?:^|\/)\.gitlab\//.test(repoPath)
  )
    return "gitlab-ci";
  const { root } = parseYaml(source.text);
  if (!isMap(root)) return "unknown";
  if (has(root, "jobs") && (has(root, "on") || has(root, "true"))) return "github-actions";
  if (
    has(root, "stages") ||
    entries(root).some((e) => isMap(e.value) && ["script", "extends", "trigger"].some((k) => has(e.value, k)))
  )
    return "gitlab-ci";
  return "unknown";
}

export function analyzePipeline(
  source: PipelineSource,
  mainBranches: string[],
  lookup: SourceLookup,
): PipelineAnalysis {
  const system = systemOf(source);
  if (system === "github-actions") return analyzeGithubWorkflow(source, mainBranches, lookup);
  if (system === "gitlab-ci") return analyzeGitlabCi(source, mainBranches, lookup);
  const { problems } = parseYaml(source.text);
  return {
    file: source.file,
    system,
    problems:
      problems.length > 0
        ? problems
        : [
            {
              line: 1,
              column: 1,
              message:
                "neither a GitHub Actions workflow (on: and jobs:) nor a GitLab CI file (jobs with script:): Gauntlet reads these two",
            },
          ],
    guards: [],
    push: { runs: "no", why: "not a pipeline Gauntlet can read" },
    pullRequest: { runs: "no", why: "not a pipeline Gauntlet can read" },
    at: { line: 1, column: 1 },
    unread: [],
  };
}

/** Repository paths (or globs) the file makes part of the pipeline: called workflows, local includes. */
export function referencedFiles(source: PipelineSource): string[] {
  const system = systemOf(source);
  if (system === "github-actions") return calledWorkflows(source.text);
  if (system === "gitlab-ci") return gitlabLocalIncludes(source.text);
  return [];
}

/** A lookup over the files read. */
export function lookupOf(files: PipelineSource[]): SourceLookup {
  const byPath = new Map(files.map((f) => [f.repoPath, f]));
  return { get: (p) => byPath.get(p.replace(/^\.\//, "")), paths: () => [...byPath.keys()] };
}
