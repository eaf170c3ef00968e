// A GitHub Actions workflow, read for what guards main: its `on:` triggers in every form (a string, a list, a map
// with branch, tag and path filters), its jobs and steps, the `if:` conditions on them evaluated for a push to main
// and for a pull request to main, `continue-on-error`, and reusable workflows called from this repository
// (`uses: ./.github/workflows/test.yml`), whose test steps count under the caller's triggers.
import { isMap, isSeq, type LineCounter, type Node } from "yaml";
import { evaluateGithub, type GithubContext } from "./expressions.js";
import {
  both,
  child,
  type EventRun,
  entries,
  type Guard,
  has,
  isNullNode,
  keyNode,
  type PipelineAnalysis,
  type PipelineProblem,
  type PipelineSource,
  type Position,
  parseYaml,
  positionOf,
  type SourceLookup,
  strings,
  text,
} from "./pipeline.js";
import { findTestCommand } from "./testCommands.js";

/** Actions that run tests themselves, by the name before `@`. */
const TEST_ACTIONS: Record<string, string> = {
  "cypress-io/github-action": "Cypress",
  "julia-actions/julia-runtest": "Julia tests",
  "php-actions/phpunit": "PHPUnit",
  "mattallty/jest-github-action": "Jest",
  "dart-lang/setup-dart/test": "Dart tests",
  "robherley/go-test-action": "go test",
};
/** Inputs of actions that run a command for you (retry wrappers, emulators, xvfb, coverage uploaders). */
const COMMAND_INPUTS = ["run", "command", "script", "coverageCommand", "test-command", "arguments", "args"];

const MAX_CALL_DEPTH = 4;

interface Events {
  push: EventRun;
  pullRequest: EventRun;
  /** Only pull_request_target: the job must check the pull request's head out to test it. */
  prTargetOnly: boolean;
  at: Position;
}

export function analyzeGithubWorkflow(
  source: PipelineSource,
  mainBranches: string[],
  lookup: SourceLookup,
): PipelineAnalysis {
  const { root, lines, problems } = parseYaml(source.text);
  const analysis: PipelineAnalysis = {
    file: source.file,
    system: "github-actions",
    problems,
    guards: [],
    push: { runs: "no", why: "the file does not parse" },
    pullRequest: { runs: "no", why: "the file does not parse" },
    at: { line: 1, column: 1 },
    unread: [],
  };
  if (problems.length > 0) return analysis;
  if (!isMap(root)) {
    problems.push({ ...positionOf(root, lines), message: "a workflow must be a mapping with on: and jobs:" });
    return analysis;
  }
  const onKey = has(root, "on") ? "on" : has(root, "true") ? "true" : null;
  if (!onKey)
    problems.push({ line: 1, column: 1, message: "the workflow has no on: key, so nothing triggers it" });
  const jobs = child(root, "jobs");
  if (!isMap(jobs) || entries(jobs).length === 0)
    problems.push({ ...positionOf(jobs ?? root, lines), message: "the workflow has no jobs: mapping" });
  if (!onKey || problems.length > 0) return analysis;
  const events = readEvents(
    child(root, onKey),
    positionOf(keyNode(root, onKey), lines),
    mainBranches,
    lines,
    problems,
  );
  analysis.at = events.at;
  analysis.push = events.push;
  analysis.pullRequest = events.pullRequest;
  if (problems.length > 0) return analysis;
  analysis.guards = guardsOfJobs(
    source,
    jobs,
    lines,
    events,
    mainBranches,
    lookup,
    analysis.unread,
    0,
    new Set([source.repoPath]),
  );
  return analysis;
}

function guardsOfJobs(
  source: PipelineSource,
  jobs: Node | undefined,
  lines: LineCounter,
  events: Events,
  mainBranches: string[],
  lookup: SourceLookup,
  unread: string[],
  depth: number,
  visiting: Set<string>,
  via?: string,
): Guard[] {
  const guards: Guard[] = [];
  const main = mainBranches[0] ?? "main";
  const pushContext: GithubContext = {
    "github.event_name": "push",
    "github.ref": `refs/heads/${main}`,
    "github.ref_name": main,
    "github.ref_type": "branch",
    "github.base_ref": "",
    "github.head_ref": "",
    "github.ref_protected": true,
  };
  const prContext: GithubContext = {
    "github.event_name": events.prTargetOnly ? "pull_request_target" : "pull_request",
    "github.ref": events.prTargetOnly ? `refs/heads/${main}` : "refs/pull/1/merge",
    "github.base_ref": main,
    "github.head_ref": "feature",
    "github.ref_type": "branch",
  };
  for (const { key: jobName, value: job } of entries(jobs)) {
    if (!isMap(job)) continue;
    const jobIf = conditionRuns(child(job, "if"), pushContext, prContext);
    const jobContinue = continueOnError(child(job, "continue-on-error"));
    const jobEvents = {
      push: both(events.push, jobIf.push),
      pullRequest: both(events.pullRequest, jobIf.pullRequest),
    };
    const uses = text(child(job, "uses"));
    if (uses) {
      // A reusable workflow: its jobs run under this workflow's triggers and this job's condition.
      const local = /^\.\/(.+\.ya?ml)$/.exec(uses.trim());
      const called = local ? lookup.get(local[1]!) : undefined;
      if (called && depth < MAX_CALL_DEPTH && !visiting.has(called.repoPath)) {
        const parsed = parseYaml(called.text);
        if (parsed.problems.length === 0 && isMap(parsed.root)) {
          const inner = guardsOfJobs(
            called,
            child(parsed.root, "jobs"),
            parsed.lines,
            { ...events, push: jobEvents.push, pullRequest: jobEvents.pullRequest },
            mainBranches,
            lookup,
            unread,
            depth + 1,
            new Set([...visiting, called.repoPath]),
            `${via ? `${via} → ` : ""}job ${jobName} of ${source.file} calls ${uses}`,
          );
          for (const g of inner) {
            if (jobIf.disabled && !g.disabled) g.disabled = jobIf.disabled;
            if (jobContinue && !g.cannotFail) g.cannotFail = jobContinue;
          }
          guards.push(...inner);
          continue;
        }
      }
      if (!local) {
        unread.push(`${uses} (called by job ${jobName})`);
        const name = uses.split("@")[0]!.split("/").pop() ?? "";
        if (/(?:^|[._-])(?:test|tests|ci|check|checks)(?:[._-]|$)/i.test(name)) {
          guards.push(
            guard(
              source,
              jobName,
              undefined,
              `uses: ${uses}`,
              "reusable workflow named test",
              positionOf(child(job, "uses"), lines),
              jobEvents,
              jobIf.disabled,
              jobContinue,
              via,
            ),
          );
        }
      } else unread.push(`${uses} (called by job ${jobName}: not found in the repository)`);
      continue;
    }
    const steps = child(job, "steps");
    if (!isSeq(steps)) continue;
    const checksOutHead = steps.items.some((step) => {
      const action = text(child(step, "uses")) ?? "";
      const ref = text(child(child(step, "with"), "ref")) ?? "";
      return (
        action.startsWith("actions/checkout") &&
        /head|pull_request|github\.event\.number|refs\/pull/.test(ref)
      );
    });
    for (const [index, step] of steps.items.entries()) {
      if (!isMap(step)) continue;
      const stepName = text(child(step, "name")) ?? text(child(step, "id")) ?? `step ${index + 1}`;
      const found = testOfStep(step, lines, source.text);
      if (!found) continue;
      const stepIf = conditionRuns(child(step, "if"), pushContext, prContext);
      let pullRequest = both(jobEvents.pullRequest, stepIf.pullRequest);
      if (events.prTargetOnly && pullRequest.runs !== "no" && !checksOutHead) {
        pullRequest = {
          runs: "no",
          why: "pull_request_target runs the base branch's code: the job does not check the pull request's head out",
        };
      }
      const cannotFail = jobContinue ?? continueOnError(child(step, "continue-on-error")) ?? found.cannotFail;
      guards.push(
        guard(
          source,
          jobName,
          stepName,
          found.command,
          found.runner,
          found.at,
          { push: both(jobEvents.push, stepIf.push), pullRequest },
          jobIf.disabled ?? stepIf.disabled,
          cannotFail,
          via,
        ),
      );
    }
  }
  return guards;
}

function guard(
  source: PipelineSource,
  job: string,
  step: string | undefined,
  command: string,
  runner: string,
  at: Position,
  runsOn: { push: EventRun; pullRequest: EventRun },
  disabled: string | undefined,
  cannotFail: string | undefined,
  via: string | undefined,
): Guard {
  return {
    file: source.file,
    job,
    ...(step ? { step } : {}),
    command,
    runner,
    at,
    push: runsOn.push,
    pullRequest: runsOn.pullRequest,
    ...(disabled ? { disabled } : {}),
    ...(cannotFail ? { cannotFail } : {}),
    ...(via ? { via } : {}),
  };
}

/** The test a step runs: its `run:` script, a test action, or a command handed to an action. */
function testOfStep(
  step: Node,
  lines: LineCounter,
  fileText: string,
): { command: string; runner: string; at: Position; cannotFail?: string } | null {
  const run = child(step, "run");
  const script = text(run);
  if (script !== undefined) {
    const found = findTestCommand(script);
    if (!found) return null;
    const start = positionOf(run, lines);
    // A block scalar's first line is the one after `run: |`.
    const type = (run as { type?: string } | undefined)?.type;
    const offset = type === "BLOCK_LITERAL" || type === "BLOCK_FOLDED" ? 1 : 0;
    const line = start.line + offset + found.line;
    const lineText = fileText.replace(/\r\n?/g, "\n").split("\n")[line - 1] ?? "";
    const column = offset + found.line > 0 ? lineText.length - lineText.trimStart().length + 1 : start.column;
    return {
      command: found.command,
      runner: found.runner,
      at: { line, column },
      ...(found.cannotFail ? { cannotFail: `\`${found.cannotFail}\` after the test command` } : {}),
    };
  }
  const uses = text(child(step, "uses"));
  if (!uses) return null;
  const action = uses.split("@")[0]!;
  const known = TEST_ACTIONS[action];
  if (known) return { command: `uses: ${uses}`, runner: known, at: positionOf(child(step, "uses"), lines) };
  const inputs = child(step, "with");
  for (const name of COMMAND_INPUTS) {
    const value = text(child(inputs, name));
    if (value === undefined) continue;
    const found = findTestCommand(value);
    if (found)
      return {
        command: `${uses} ${name}: ${found.command}`,
        runner: found.runner,
        at: positionOf(child(inputs, name), lines),
      };
  }
  return null;
}

function continueOnError(node: Node | undefined): string | undefined {
  const value = text(node);
  return value === "true" ? "continue-on-error: true" : undefined;
}

/** An `if:` evaluated for a push to main and a pull request; a literal false disables the job or step. */
function conditionRuns(
  node: Node | undefined,
  pushContext: GithubContext,
  prContext: GithubContext,
): { push: EventRun; pullRequest: EventRun; disabled?: string } {
  const yes: EventRun = { runs: "yes", why: "" };
  if (node === undefined || isNullNode(node)) return { push: yes, pullRequest: yes };
  const raw = (node as { value?: unknown }).value;
  const condition = typeof raw === "boolean" || typeof raw === "number" ? raw : (text(node) ?? "");
  const shown = `if: ${String(condition)}`;
  const constant = evaluateGithub(condition, {});
  if (constant === false) return { push: no(shown), pullRequest: no(shown), disabled: shown };
  const of = (context: GithubContext): EventRun => {
    const truth = evaluateGithub(condition, context);
    if (truth === true) return yes;
    if (truth === false) return no(`${shown} is false for this event`);
    return { runs: "maybe", why: `${shown} depends on what only the running workflow knows` };
  };
  return { push: of(pushContext), pullRequest: of(prContext) };
}

function no(why: string): EventRun {
  return { runs: "no", why };
}

/** `on:` as a string, a list or a map, with each event's filters judged for the main branch. */
function readEvents(
  on: Node | undefined,
  at: Position,
  mainBranches: string[],
  lines: LineCounter,
  problems: PipelineProblem[],
): Events {
  const names = new Map<string, Node | null>();
  if (isSeq(on)) for (const item of on.items) names.set(text(item) ?? "", null);
  else if (isMap(on)) for (const e of entries(on)) names.set(e.key, e.value);
  else {
    for (const name of (text(on) ?? "").split(",").map((s) => s.trim())) if (name) names.set(name, null);
  }
  const listed = [...names.keys()].join(", ") || "nothing";
  const push = names.has("push")
    ? pushRun(names.get("push") ?? null, mainBranches, lines, problems)
    : no(`not triggered by push (on: ${listed})`);
  const pr = names.has("pull_request")
    ? pullRequestRun("pull_request", names.get("pull_request") ?? null, mainBranches, lines, problems)
    : undefined;
  const target = names.has("pull_request_target")
    ? pullRequestRun(
        "pull_request_target",
        names.get("pull_request_target") ?? null,
        mainBranches,
        lines,
        problems,
      )
    : undefined;
  // pull_request tests the pull request's code; pull_request_target only when the job checks its head out.
  if (pr?.runs === "yes" || !target || (pr && target.runs !== "yes"))
    return {
      push,
      pullRequest: pr ?? no(`not triggered by pull requests (on: ${listed})`),
      prTargetOnly: false,
      at,
    };
  return { push, pullRequest: target, prTargetOnly: true, at };
}

function pushRun(
  config: Node | null,
  mainBranches: string[],
  lines: LineCounter,
  problems: PipelineProblem[],
): EventRun {
  if (config === null || isNullNode(config)) return { runs: "yes", why: "on: push (every branch)" };
  if (!isMap(config)) {
    problems.push({
      ...positionOf(config, lines),
      message: "on.push must be a mapping of filters (branches, tags, paths)",
    });
    return no("on.push is not a mapping");
  }
  const branches = child(config, "branches");
  const ignore = child(config, "branches-ignore");
  const partial = pathsFilter(config);
  if (branches !== undefined && ignore !== undefined) {
    problems.push({
      ...positionOf(keyNode(config, "branches-ignore"), lines),
      message:
        "on.push has both branches and branches-ignore, which GitHub rejects: use branches with !negations",
    });
    return no("on.push has both branches and branches-ignore");
  }
  const main = mainBranches.join(" or ");
  if (branches !== undefined) {
    const patterns = strings(branches);
    if (!filterMatches(patterns, mainBranches))
      return no(`push.branches [${patterns.join(", ")}] does not match ${main}${placeholderNote(patterns)}`);
    return {
      runs: "yes",
      why: `push.branches [${patterns.join(", ")}] matches ${main}`,
      ...(partial ? { partial } : {}),
    };
  }
  if (ignore !== undefined) {
    const patterns = strings(ignore);
    if (filterMatches(patterns, mainBranches))
      return no(`push.branches-ignore [${patterns.join(", ")}] leaves out ${main}`);
    return {
      runs: "yes",
      why: `push.branches-ignore [${patterns.join(", ")}] keeps ${main}`,
      ...(partial ? { partial } : {}),
    };
  }
  if (has(config, "tags") || has(config, "tags-ignore")) {
    const tags = strings(child(config, "tags") ?? child(config, "tags-ignore"));
    return no(
      `on.push filters only tags (${tags.join(", ") || "any"}), so it runs for tags, never for pushes to a branch`,
    );
  }
  return { runs: "yes", why: "on: push (every branch)", ...(partial ? { partial } : {}) };
}

function pullRequestRun(
  event: string,
  config: Node | null,
  mainBranches: string[],
  lines: LineCounter,
  problems: PipelineProblem[],
): EventRun {
  if (config === null || isNullNode(config)) return { runs: "yes", why: `on: ${event} (every base branch)` };
  if (!isMap(config)) {
    problems.push({ ...positionOf(config, lines), message: `on.${event} must be a mapping of filters` });
    return no(`on.${event} is not a mapping`);
  }
  const types = strings(child(config, "types"));
  if (types.length > 0 && !types.some((t) => ["opened", "synchronize", "reopened"].includes(t)))
    return no(
      `${event}.types [${types.join(", ")}] never includes opened or synchronize, so new commits are not tested`,
    );
  const branches = child(config, "branches");
  const ignore = child(config, "branches-ignore");
  const partial = pathsFilter(config);
  const main = mainBranches.join(" or ");
  if (branches !== undefined && ignore !== undefined) {
    problems.push({
      ...positionOf(keyNode(config, "branches-ignore"), lines),
      message: `on.${event} has both branches and branches-ignore, which GitHub rejects`,
    });
    return no(`on.${event} has both branches and branches-ignore`);
  }
  if (branches !== undefined) {
    const patterns = strings(branches);
    if (!filterMatches(patterns, mainBranches))
      return no(
        `${event}.branches [${patterns.join(", ")}] does not match ${main}${placeholderNote(patterns)}`,
      );
  }
  if (ignore !== undefined && filterMatches(strings(ignore), mainBranches))
    return no(`${event}.branches-ignore leaves out pull requests to ${main}`);
  return { runs: "yes", why: `on: ${event} to ${main}`, ...(partial ? { partial } : {}) };
}

function pathsFilter(config: Node): string | undefined {
  const paths = strings(child(config, "paths"));
  if (paths.length === 0 || paths.some((p) => p === "**" || p === "**/*")) return undefined;
  return `only when files matching ${paths.join(", ")} change`;
}

function placeholderNote(patterns: string[]): string {
  return patterns.includes("$default-branch")
    ? " ($default-branch is the starter template's placeholder, replaced only when GitHub creates the workflow from its UI)"
    : "";
}

/**
 * GitHub's filter patterns, in order, `!` negating: `*` any characters but `/`, `**` any, `?` zero or one of the
 * character before, `+` one or more of it, `[…]` a class. The last pattern that matches decides.
 */
export function filterMatches(patterns: string[], names: string[]): boolean {
  return names.some((name) => {
    let matched = false;
    for (const pattern of patterns) {
      const negated = pattern.startsWith("!");
      if (filterRegExp(negated ? pattern.slice(1) : pattern).test(name)) matched = !negated;
    }
    return matched;
  });
}

function filterRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      source += ".*";
      i++;
    } else if (c === "*") source += "[^/]*";
    else if (c === "?" || c === "+") source += c;
    else if (c === "[") {
      const end = pattern.indexOf("]", i);
      if (end < 0) source += "\\[";
      else {
        source += pattern.slice(i, end + 1);
        i = end;
      }
    } else if (c === "\\" && i + 1 < pattern.length) source += `\\${pattern[++i]}`;
    else source += c.replace(/[.^${}()|\]\\/]/g, "\\$&");
  }
  try {
    return new RegExp(`^${source}$`);
  } catch {
    return /$^/;
  }
}

/** Workflow files this one calls from the same repository (`uses: ./.github/workflows/x.yml`), to read them too. */
export function calledWorkflows(sourceText: string): string[] {
  return [...sourceText.matchAll(/^\s*(?:-\s+)?uses:\s*["']?\.\/([^\s"'#]+\.ya?ml)/gm)].map((m) => m[1]!);
}
