// Does a CI pipeline keep the main branch green? Its files (operations.ci, else .github/workflows/*.y?ml and
// .gitlab-ci.yml in system.repo) must parse and, between them, run tests — a step that can fail — on every push to
// the main branch and on every pull or merge request to it. A repository with code and no pipeline fails: silence is
// not N/A. How each CI system is read is in src/engines/ci/ (GitHub Actions and GitLab CI).
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { type CheckContext, defineCheck, type FindingInput } from "../../core/types.js";
import { analyzePipeline, DEFAULT_PIPELINES, lookupOf, referencedFiles } from "../../engines/ci/analyze.js";
import type { Guard, PipelineAnalysis, PipelineSource } from "../../engines/ci/pipeline.js";
import { expandPattern, isGlob, toPosix } from "../../engines/files/glob.js";
import { runCommand } from "../../engines/shell/run.js";

const MAX_FILE_BYTES = 1024 * 1024;
const MAX_REFERENCE_DEPTH = 5;
const GIT_TIMEOUT_MS = 5_000;
/** What makes a folder hold code, besides being a git work tree. */
const CODE_FILE =
  /^(?:package\.json|go\.mod|Cargo\.toml|pyproject\.toml|setup\.py|requirements\.txt|pom\.xml|build\.gradle(?:\.kts)?|Gemfile|composer\.json|mix\.exs|Makefile|CMakeLists\.txt|Dockerfile|deno\.json)$|\.(?:[cm]?[jt]sx?|py|go|rs|java|kt|rb|php|cs|c|cc|cpp|h|swift|scala|ex|exs|sh)$/;

export interface MainBranch {
  names: string[];
  /** origin/HEAD, the local branches, or the convention (main or master) when git says nothing. */
  source: "origin/HEAD" | "local branches" | "convention";
}

export interface CiObservation {
  /** system.repo relative to the spec's folder. */
  repo: string;
  repoFound: boolean;
  /** The repository holds code (a git work tree, a build manifest or source files). */
  hasCode: boolean;
  /** operations.ci as written, or null for the defaults. */
  declared: string[] | null;
  /** The patterns searched, as a user would write them (relative to the spec's folder, or to system.repo). */
  searched: string[];
  mainBranch: MainBranch;
  /** The pipeline files found. */
  files: PipelineSource[];
  /** Files they call or include, read with them. */
  referenced: PipelineSource[];
  unreadable: { file: string; error: string }[];
  evidence: string;
}

export default defineCheck<CiObservation>({
  meta: {
    id: "ciPipelineGuardsMain",
    category: "operations",
    risk: "medium",
    destructive: false,
    title: "A CI pipeline tests every change to main",
    objective:
      "The repository's CI pipelines (GitHub Actions, GitLab CI) parse, and run a test step that can fail on every push to the main branch and on every pull or merge request to it.",
    remediation: {
      effort: "low",
      text: "{{fix}} ({{file}}). A pipeline guards {{branch}} when a job that runs the tests, and can fail, runs on every push to {{branch}} and on every pull or merge request to it.",
    },
    messages: {
      guardsMain: "tests that can fail run on pushes to main and on pull/merge requests",
      noPipeline: "the repository has no CI pipeline file",
      pipelineInvalid: "a pipeline file does not parse, or its CI system would reject it",
      pipelineUnreadable: "a pipeline file cannot be read",
      noTestStep: "no job of any pipeline runs tests",
      pushUnguarded: "no test step that can fail runs on a push to the main branch",
      pullRequestsUnguarded: "no test step that can fail runs on pull or merge requests to the main branch",
      guardPartial: "tests run for that event only when some files change (paths:, changes:)",
      guardCannotFail:
        "a test step is disabled or cannot fail (if: false, continue-on-error, allow_failure, || true)",
      guardUncertain:
        "whether the tests run depends on conditions only the running pipeline knows, or on configuration Gauntlet could not read",
      noRepository: "system.repo holds no code, so there is nothing for a pipeline to test",
      repoMissing: "system.repo is not a folder",
    },
    timeoutMs: 30_000,
  },

  // Principle 8: every system with a repository is judged; the observation says when there is none.
  applies: () => true,

  observe: observeCi,

  judge(observation) {
    const evidence = [observation.evidence];
    const branch = observation.mainBranch.names.join(" or ");
    if (!observation.repoFound) {
      return [
        {
          status: "UNVERIFIED",
          messageId: "repoMissing",
          subject: observation.repo,
          message: `system.repo (${observation.repo}) is not a folder, so its CI pipelines cannot be looked for`,
          data: { repo: observation.repo },
          evidence,
          toVerify: "point system.repo (relative to the spec file) at the repository's folder",
        },
      ];
    }
    if (!observation.hasCode) {
      return [
        {
          status: "NA",
          messageId: "noRepository",
          subject: observation.repo,
          message: `${observation.repo} is not a git repository and holds no source file or build manifest: nothing for a pipeline to test`,
          data: { repo: observation.repo },
          evidence,
        },
      ];
    }
    const findings: FindingInput[] = [];
    for (const u of observation.unreadable) {
      findings.push({
        status: "UNVERIFIED",
        messageId: "pipelineUnreadable",
        subject: u.file,
        location: { path: u.file },
        message: `${u.file} cannot be read: ${u.error}`,
        data: { file: u.file, error: u.error },
        evidence,
        toVerify: `make ${u.file} readable by the user running Gauntlet`,
      });
    }
    if (observation.files.length === 0) {
      if (findings.length > 0) return findings;
      const sturdy = observation.declared ? "" : "; or name your pipeline files in operations.ci";
      return [
        {
          status: "FAIL",
          messageId: "noPipeline",
          subject: observation.repo,
          message: `no CI pipeline found: ${observation.searched.join(", ")} match${observation.searched.length === 1 ? "es" : ""} no file, so nothing tests a change before it reaches ${branch}`,
          data: {
            file: observation.searched.join(", "),
            branch,
            fix: `add a pipeline that runs the tests on pushes to ${branch} and on pull requests, e.g. .github/workflows/ci.yml or .gitlab-ci.yml${sturdy}`,
            searched: observation.searched,
          },
          evidence,
        },
      ];
    }
    const lookup = lookupOf([...observation.files, ...observation.referenced]);
    const analyses = observation.files.map((f) => analyzePipeline(f, observation.mainBranch.names, lookup));
    for (const a of analyses) {
      for (const p of a.problems.slice(0, 5)) {
        findings.push({
          status: "FAIL",
          messageId: "pipelineInvalid",
          subject: a.file,
          location: { path: a.file, line: p.line, column: p.column },
          message: `${a.file}:${p.line}:${p.column}: ${p.message}${a.problems.length > 5 && p === a.problems[4] ? ` (and ${a.problems.length - 5} more)` : ""}`,
          data: {
            file: a.file,
            branch,
            fix: `fix ${a.file} at line ${p.line}: ${p.message}`,
            system: a.system,
          },
          evidence,
        });
      }
    }
    const valid = analyses.filter((a) => a.problems.length === 0);
    const guards = valid.flatMap((a) => a.guards);
    const unread = valid.flatMap((a) => a.unread);
    if (valid.length === 0) return findings;
    const first = valid[0]!;
    if (guards.length === 0) {
      const why = valid.map((a) => `${a.file} (${a.system})`).join(", ");
      const extra = unread.length ? `; not read: ${unread.join(", ")}` : "";
      findings.push({
        status: unread.length ? "UNVERIFIED" : "FAIL",
        messageId: unread.length ? "guardUncertain" : "noTestStep",
        subject: first.file,
        location: { path: first.file, line: first.at.line, column: first.at.column },
        message: `no job in ${why} runs tests (a run: or script: line with npm test, pytest, go test, cargo test, mvn verify, gradle check, make test, a script named test/ci/check, …)${extra}`,
        data: { file: first.file, branch, fix: "add a job that runs the test suite", unread },
        evidence,
        ...(unread.length
          ? {
              toVerify: `put the test job in a file Gauntlet can read (it does not fetch ${unread.join(", ")})`,
            }
          : {}),
      });
      return findings;
    }
    const covered: Record<"push" | "pullRequest", Guard[]> = { push: [], pullRequest: [] };
    for (const event of ["push", "pullRequest"] as const) {
      const label = event === "push" ? `pushes to ${branch}` : `pull/merge requests to ${branch}`;
      const working = guards.filter((g) => g[event].runs === "yes" && !g.disabled && !g.cannotFail);
      const full = working.filter((g) => !g[event].partial);
      covered[event] = full;
      const subject = event === "push" ? `push to ${observation.mainBranch.names[0]}` : "pull requests";
      if (full.length > 0) continue;
      const reasons = explain(event, guards, valid);
      if (working.length > 0) {
        const g = working[0]!;
        findings.push({
          status: "WARN",
          messageId: "guardPartial",
          subject,
          location: { path: g.file, line: g.at.line, column: g.at.column },
          message: `tests run on ${label} ${g[event].partial} (${describe(g)}); a change elsewhere reaches ${branch} untested`,
          data: {
            file: g.file,
            branch,
            fix: `run the tests on every ${event === "push" ? "push" : "pull request"}: drop the paths/changes filter from the test job`,
            guards: working.map(describe),
          },
          evidence,
        });
        continue;
      }
      const maybe = guards.filter((g) => g[event].runs === "maybe" && !g.disabled && !g.cannotFail);
      if (maybe.length > 0 || unread.length > 0) {
        const g = maybe[0];
        findings.push({
          status: "UNVERIFIED",
          messageId: "guardUncertain",
          subject,
          location: g
            ? { path: g.file, line: g.at.line, column: g.at.column }
            : { path: first.file, line: first.at.line, column: first.at.column },
          message: `whether tests run on ${label} is unknown: ${g ? `${describe(g)}: ${g[event].why}` : `the pipeline uses ${unread.join(", ")}, which Gauntlet does not fetch`}; otherwise ${reasons}`,
          data: { file: g?.file ?? first.file, branch, unread },
          evidence,
          toVerify: g
            ? `make the condition of job ${g.job} decidable from the event (github.event_name, $CI_PIPELINE_SOURCE, the branch), or run the tests unconditionally`
            : "keep the test job in a file of this repository, or name the included files in operations.ci",
        });
        continue;
      }
      const at = guards[0]!;
      findings.push({
        status: "FAIL",
        messageId: event === "push" ? "pushUnguarded" : "pullRequestsUnguarded",
        subject,
        location: { path: at.file, line: at.at.line, column: at.at.column },
        message: `no test step that can fail runs on ${label}: ${reasons}`,
        data: {
          file: at.file,
          branch,
          fix:
            event === "push"
              ? `run the test job on push to ${branch} (GitHub: on: push: branches: [${observation.mainBranch.names[0]}]; GitLab: a job without rules, or a rule for $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH)`
              : `run the test job on pull requests (GitHub: on: pull_request; GitLab: a rule for $CI_PIPELINE_SOURCE == "merge_request_event", or branch pipelines)`,
          guards: guards.map(describe),
        },
        evidence,
      });
    }
    // A disabled or unfailing test step beside working ones still deceives whoever reads the pipeline.
    for (const g of guards.filter((x) => x.disabled || x.cannotFail)) {
      const events = (["push", "pullRequest"] as const).filter((e) => g[e].runs !== "no" || g.disabled);
      if (events.length === 0) continue;
      if (!events.every((e) => covered[e].length > 0)) continue; // already explained by the event's FAIL
      findings.push({
        status: "WARN",
        messageId: "guardCannotFail",
        subject: g.file,
        location: { path: g.file, line: g.at.line, column: g.at.column },
        message: `${describe(g)} ${g.disabled ? `never runs (${g.disabled})` : `cannot fail (${g.cannotFail})`}; other test steps guard ${branch}`,
        data: {
          file: g.file,
          branch,
          fix: `remove ${g.disabled ?? g.cannotFail} from job ${g.job}, or remove the step`,
        },
        evidence,
      });
    }
    if (covered.push.length > 0 && covered.pullRequest.length > 0) {
      const p = covered.push[0]!;
      const r = covered.pullRequest[0]!;
      findings.unshift({
        status: "PASS",
        messageId: "guardsMain",
        subject: observation.mainBranch.names[0]!,
        location: { path: p.file, line: p.at.line, column: p.at.column },
        message: `tests that can fail run on pushes to ${branch} (${describe(p)}: ${p.push.why}) and on pull/merge requests (${p === r ? "the same step" : describe(r)}: ${r.pullRequest.why})${observation.mainBranch.source === "convention" ? `; main branch taken as ${branch} (git names none)` : ""}`,
        data: {
          branch,
          mainBranchSource: observation.mainBranch.source,
          pushGuards: covered.push.map(describe),
          pullRequestGuards: covered.pullRequest.map(describe),
        },
        evidence,
        measurements: [
          {
            name: "test steps guarding main",
            value: new Set([...covered.push, ...covered.pullRequest]).size,
            unit: "steps",
            evidence: observation.evidence,
          },
        ],
      });
    }
    return findings;
  },
});

function describe(g: Guard): string {
  return `${g.file}:${g.at.line} job ${g.job}${g.step ? ` step "${g.step}"` : ""} (${g.command})${g.via ? ` via ${g.via}` : ""}`;
}

/** Why no test step covers the event: each test step's reason, and each pipeline that does not run for it. */
function explain(event: "push" | "pullRequest", guards: Guard[], analyses: PipelineAnalysis[]): string {
  const parts = guards.map((g) => {
    if (g.disabled) return `${describe(g)} never runs (${g.disabled})`;
    if (g[event].runs !== "no" && g.cannotFail) return `${describe(g)} cannot fail (${g.cannotFail})`;
    return `${describe(g)} does not run: ${g[event].why}`;
  });
  for (const a of analyses.filter((x) => x.guards.length === 0)) {
    parts.push(`${a.file} ${a[event].runs === "no" ? `does not run: ${a[event].why}` : "runs no tests"}`);
  }
  return parts.slice(0, 6).join("; ") + (parts.length > 6 ? `; and ${parts.length - 6} more` : "");
}

async function observeCi(ctx: CheckContext): Promise<CiObservation> {
  const repoDir = path.resolve(ctx.specDir, ctx.spec.system.repo);
  const repo = toPosix(path.relative(ctx.specDir, repoDir)) || ".";
  const repoFound = (await stat(repoDir).catch(() => null))?.isDirectory() ?? false;
  const declared = ctx.spec.operations?.ci ?? null;
  const mainBranch = repoFound ? await mainBranchOf(repoDir, ctx.signal) : conventional();
  const observation: CiObservation = {
    repo,
    repoFound,
    hasCode: false,
    declared,
    searched: declared ?? DEFAULT_PIPELINES.map((p) => (repo === "." ? p : `${repo}/${p}`)),
    mainBranch,
    files: [],
    referenced: [],
    unreadable: [],
    evidence: "",
  };
  if (repoFound) {
    observation.hasCode = await holdsCode(repoDir, ctx.signal);
    const found = new Set<string>();
    for (const pattern of declared ?? DEFAULT_PIPELINES) {
      for (const file of await expandPattern(declared ? ctx.specDir : repoDir, pattern)) found.add(file);
    }
    const read = async (file: string, into: PipelineSource[]) => {
      const shown = toPosix(path.relative(ctx.specDir, file));
      try {
        const info = await stat(file);
        if (info.size > MAX_FILE_BYTES)
          throw new Error(`${info.size} bytes, over the ${MAX_FILE_BYTES}-byte limit for a pipeline file`);
        const text = await readFile(file, "utf8");
        into.push({ file: shown, repoPath: toPosix(path.relative(repoDir, file)), text });
      } catch (error) {
        observation.unreadable.push({
          file: shown,
          error: (error as NodeJS.ErrnoException).code ?? (error as Error).message,
        });
      }
    };
    for (const file of [...found].sort()) await read(file, observation.files);
    // Called workflows and local includes are part of the pipeline: read them too (a few levels deep).
    const seen = new Set([...found]);
    let frontier = [...observation.files];
    for (let depth = 0; depth < MAX_REFERENCE_DEPTH && frontier.length > 0; depth++) {
      const next: PipelineSource[] = [];
      for (const source of frontier) {
        for (const reference of referencedFiles(source)) {
          const matches = isGlob(reference)
            ? await expandPattern(repoDir, reference)
            : [path.resolve(repoDir, reference.replace(/^\//, ""))];
          for (const file of matches) {
            if (seen.has(file) || !(await stat(file).catch(() => null))?.isFile()) continue;
            seen.add(file);
            await read(file, next);
          }
        }
      }
      observation.referenced.push(...next);
      frontier = next;
    }
  }
  const lookup = lookupOf([...observation.files, ...observation.referenced]);
  observation.evidence = await ctx.evidence.writeJson("ci-pipelines.json", {
    repo,
    hasCode: observation.hasCode,
    searched: observation.searched,
    mainBranch,
    files: [...observation.files, ...observation.referenced].map((f) => ({
      file: f.file,
      repoPath: f.repoPath,
      bytes: Buffer.byteLength(f.text),
      sha256: createHash("sha256").update(f.text).digest("hex"),
    })),
    unreadable: observation.unreadable,
    // What the judge reads from each file, for a reviewer: triggers, test steps and when they run.
    analyses: observation.files.map((f) => analyzePipeline(f, mainBranch.names, lookup)),
  });
  ctx.log.info(
    `${observation.files.length} pipeline file(s), ${observation.referenced.length} referenced; main branch ${mainBranch.names.join("/")} (${mainBranch.source})`,
  );
  return observation;
}

function conventional(): MainBranch {
  return { names: ["main", "master"], source: "convention" };
}

/** The default branch: origin/HEAD when the clone knows it, else main or master among the local branches. */
async function mainBranchOf(repoDir: string, signal: AbortSignal): Promise<MainBranch> {
  const git = (args: string[]) =>
    runCommand("git", ["-C", repoDir, ...args], { timeoutMs: GIT_TIMEOUT_MS, signal });
  const origin = await git(["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"]);
  if (origin.exitCode === 0) {
    const name = origin.stdout.trim().replace(/^origin\//, "");
    if (name) return { names: [name], source: "origin/HEAD" };
  }
  const local = await git([
    "for-each-ref",
    "--format=%(refname:short)",
    "refs/heads/main",
    "refs/heads/master",
  ]);
  if (local.exitCode === 0) {
    const names = local.stdout
      .split("\n")
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length > 0) return { names: names.sort(), source: "local branches" };
  }
  return conventional();
}

async function holdsCode(repoDir: string, signal: AbortSignal): Promise<boolean> {
  const work = await runCommand("git", ["-C", repoDir, "rev-parse", "--is-inside-work-tree"], {
    timeoutMs: GIT_TIMEOUT_MS,
    signal,
  });
  if (work.exitCode === 0 && work.stdout.trim() === "true") return true;
  // Not in git: any build manifest or source file in the top two levels.
  const look = async (dir: string, depth: number): Promise<boolean> => {
    const items = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const item of items) if (item.isFile() && CODE_FILE.test(item.name)) return true;
    if (depth === 0) return false;
    for (const item of items) {
      if (
        item.isDirectory() &&
        !item.name.startsWith(".") &&
        item.name !== "node_modules" &&
        (await look(path.join(dir, item.name), depth - 1))
      )
        return true;
    }
    return false;
  };
  return look(repoDir, 1);
}
