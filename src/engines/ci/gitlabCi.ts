// A GitLab CI configuration, read for what guards main: its jobs (top-level keys that are not keywords or hidden
// `.templates`, with `extends:` and `!reference` resolved), local includes merged in, `workflow: rules`, and each
// job's `rules:` or `only:`/`except:` evaluated for three pipelines — a push to the default branch, a merge request
// pipeline, and the branch pipeline of a merge request's source branch (GitLab shows either on the merge request).
// Child pipelines from `trigger: include` count when the trigger waits for them (`strategy: depend`).
import { isMap, isScalar, isSeq, type LineCounter, type Node } from "yaml";
import { evaluateGitlab, type GitlabVariables } from "./expressions.js";
import {
  child,
  type EventRun,
  entries,
  type Guard,
  has,
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

/** Top-level keys that are keywords, not jobs. */
const KEYWORDS = new Set([
  "default",
  "include",
  "stages",
  "variables",
  "workflow",
  "image",
  "services",
  "cache",
  "before_script",
  "after_script",
  "types",
  "spec",
]);
const MAX_INCLUDE_DEPTH = 5;
const MAX_EXTENDS_DEPTH = 11;

type Context = "push" | "mergeRequest" | "sourceBranch";

interface Definition {
  name: string;
  node: Node;
  keyNode: Node;
  source: PipelineSource;
  lines: LineCounter;
}

interface Config {
  /** Later definitions (the including file) override earlier ones (the included), as GitLab merges them. */
  definitions: Map<string, Definition>;
  variables: Record<string, string>;
  workflow?: Definition;
  unread: string[];
  problems: { file: string; problem: PipelineProblem }[];
}

/** Local files a configuration includes (`include: local`, a bare path, `trigger: include`), to read them too. */
export function gitlabLocalIncludes(sourceText: string): string[] {
  const { root } = parseYaml(sourceText);
  const found: string[] = [];
  for (const entry of includeEntries(child(root, "include"))) if (entry.local) found.push(entry.local);
  for (const { value } of entries(root)) {
    const trigger = child(value, "trigger");
    for (const entry of includeEntries(isMap(trigger) ? child(trigger, "include") : undefined))
      if (entry.local) found.push(entry.local);
  }
  return found;
}

export function analyzeGitlabCi(
  source: PipelineSource,
  mainBranches: string[],
  lookup: SourceLookup,
): PipelineAnalysis {
  const analysis: PipelineAnalysis = {
    file: source.file,
    system: "gitlab-ci",
    problems: [],
    guards: [],
    push: { runs: "no", why: "the file does not parse" },
    pullRequest: { runs: "no", why: "the file does not parse" },
    at: { line: 1, column: 1 },
    unread: [],
  };
  const config: Config = { definitions: new Map(), variables: {}, unread: analysis.unread, problems: [] };
  load(source, lookup, config, 0, new Set());
  for (const p of config.problems) if (p.file === source.file) analysis.problems.push(p.problem);
  const foreign = config.problems.filter((p) => p.file !== source.file);
  for (const p of foreign)
    analysis.problems.push({
      line: 1,
      column: 1,
      message: `included ${p.file}:${p.problem.line}:${p.problem.column}: ${p.problem.message}`,
    });
  if (analysis.problems.length > 0) return analysis;
  const jobs = [...config.definitions.values()].filter(
    (d) => !d.name.startsWith(".") && !KEYWORDS.has(d.name),
  );
  if (jobs.length === 0) {
    analysis.problems.push({
      line: 1,
      column: 1,
      message: "no job: GitLab needs at least one job with a script",
    });
    return analysis;
  }
  const main = mainBranches[0] ?? "main";
  const contexts = contextVariables(main, config.variables);
  const workflow = (ctx: Context) => workflowRuns(config.workflow, contexts[ctx]);
  analysis.push = workflow("push");
  analysis.pullRequest = mergeRequestRun(workflow("mergeRequest"), workflow("sourceBranch"));
  if (config.workflow) analysis.at = positionOf(config.workflow.keyNode, config.workflow.lines);
  analysis.guards = guardsOf(jobs, config, contexts, workflow, lookup, 0);
  return analysis;
}

function guardsOf(
  jobs: Definition[],
  config: Config,
  contexts: Record<Context, GitlabVariables>,
  workflow: (ctx: Context) => EventRun,
  lookup: SourceLookup,
  depth: number,
  via?: string,
): Guard[] {
  const guards: Guard[] = [];
  for (const job of jobs) {
    if (!isMap(job.node)) continue;
    const lookupKey = (key: string) => resolveKey(job, key, config, 0);
    const jobVariables = variablesOf(lookupKey("variables")?.node);
    const runs = (ctx: Context): EventRun => {
      const w = workflow(ctx);
      if (w.runs === "no") return w;
      const variables = { ...contexts[ctx], ...jobVariables, ...pinned(contexts[ctx]) };
      const j = jobRuns(job, lookupKey, variables, ctx, isSeq(child(config.workflow?.node, "rules")));
      if (j.runs === "no") return j;
      if (w.runs === "maybe") return w;
      return { ...j, ...(w.partial && !j.partial ? { partial: w.partial } : {}) };
    };
    const push = runs("push");
    const pullRequest = mergeRequestRun(runs("mergeRequest"), runs("sourceBranch"));
    const when = text(lookupKey("when")?.node);
    const disabled = when === "manual" ? "when: manual" : when === "never" ? "when: never" : undefined;
    const allowFailure = text(lookupKey("allow_failure")?.node);
    const cannotFail =
      allowFailure === "true" || (when === "manual" && allowFailure !== "false")
        ? "allow_failure: true"
        : undefined;

    const trigger = lookupKey("trigger");
    if (trigger && isMap(trigger.node)) {
      guards.push(
        ...childPipelineGuards(
          job,
          trigger,
          config,
          contexts,
          lookup,
          depth,
          { push, pullRequest },
          disabled,
          via,
        ),
      );
      continue;
    }
    const script = lookupKey("script");
    if (!script) continue;
    const items = scriptItems(script.node, config);
    const found = findTestCommand(items.map((i) => i.text).join("\n"));
    let command: string | undefined;
    let runner: string | undefined;
    let at: Position = positionOf(script.node, script.lines);
    let lineCannotFail: string | undefined;
    if (found) {
      command = found.command;
      runner = found.runner;
      let line = found.line;
      const item = items.find((i) => {
        const count = i.text.split("\n").length;
        if (line < count) return true;
        line -= count;
        return false;
      });
      if (item?.node) at = positionOf(item.node, item.lines ?? script.lines);
      if (found.cannotFail) lineCannotFail = `\`${found.cannotFail}\` after the test command`;
    } else {
      const stage = text(lookupKey("stage")?.node);
      const active = items.find((i) => i.text.trim() && !/^\s*(?:#|echo\b|printf\b|true\b|:)/.test(i.text));
      if (stage && /test/i.test(stage) && active) {
        command = active.text.trim().split("\n")[0]!.slice(0, 160);
        runner = `a job in stage ${stage}`;
        if (active.node) at = positionOf(active.node, active.lines ?? script.lines);
      }
    }
    if (!command || !runner) continue;
    guards.push({
      file: (script.owner ?? job).source.file,
      job: job.name,
      command,
      runner,
      at,
      push,
      pullRequest,
      ...(disabled ? { disabled } : {}),
      ...((cannotFail ?? lineCannotFail) ? { cannotFail: cannotFail ?? lineCannotFail } : {}),
      ...(via ? { via } : {}),
    });
  }
  return guards;
}

function childPipelineGuards(
  job: Definition,
  trigger: Resolved,
  config: Config,
  contexts: Record<Context, GitlabVariables>,
  lookup: SourceLookup,
  depth: number,
  parentRuns: { push: EventRun; pullRequest: EventRun },
  disabled: string | undefined,
  via: string | undefined,
): Guard[] {
  const includes = includeEntries(child(trigger.node, "include"));
  if (includes.length === 0) {
    const project = text(child(trigger.node, "project")) ?? text(trigger.node);
    if (project) config.unread.push(`the pipeline of ${project} (triggered by job ${job.name})`);
    return [];
  }
  const strategy = text(child(trigger.node, "strategy"));
  const waits = strategy === "depend" || strategy === "mirror";
  const guards: Guard[] = [];
  for (const entry of includes) {
    if (!entry.local) {
      config.unread.push(`${entry.shown} (child pipeline of job ${job.name})`);
      continue;
    }
    const childConfig: Config = {
      definitions: new Map(),
      variables: { ...config.variables },
      unread: config.unread,
      problems: [],
    };
    const file = lookup.get(entry.local);
    if (!file || depth >= MAX_INCLUDE_DEPTH) {
      config.unread.push(`${entry.local} (child pipeline of job ${job.name}: not found in the repository)`);
      continue;
    }
    load(file, lookup, childConfig, depth + 1, new Set());
    config.problems.push(...childConfig.problems);
    const jobs = [...childConfig.definitions.values()].filter(
      (d) => !d.name.startsWith(".") && !KEYWORDS.has(d.name),
    );
    // A child pipeline's jobs see CI_PIPELINE_SOURCE=parent_pipeline; the parent's event decides whether it runs.
    const forChild = (ctx: Context): GitlabVariables => ({
      ...contexts[ctx],
      ...childConfig.variables,
      ...pinned(contexts[ctx]),
      CI_PIPELINE_SOURCE: "parent_pipeline",
    });
    const childContexts: Record<Context, GitlabVariables> = {
      push: forChild("push"),
      mergeRequest: forChild("mergeRequest"),
      sourceBranch: forChild("sourceBranch"),
    };
    const parent = (ctx: Context) => (ctx === "push" ? parentRuns.push : parentRuns.pullRequest);
    const inner = guardsOf(
      jobs,
      childConfig,
      childContexts,
      (ctx) => {
        const w = workflowRuns(childConfig.workflow, childContexts[ctx]);
        return parent(ctx).runs === "no" ? parent(ctx) : w;
      },
      lookup,
      depth + 1,
      `${via ? `${via} → ` : ""}child pipeline ${entry.local} of job ${job.name}`,
    );
    for (const g of inner) {
      if (disabled && !g.disabled) g.disabled = disabled;
      if (!waits && !g.cannotFail)
        g.cannotFail = `job ${job.name} triggers the child pipeline without strategy: depend, so its failure does not fail the pipeline`;
    }
    guards.push(...inner);
  }
  return guards;
}

interface Resolved {
  node: Node;
  lines: LineCounter;
  owner?: Definition;
}

/** A job's key, from the job itself or the templates it extends (the last extends wins, as in GitLab). */
function resolveKey(
  job: Definition,
  key: string,
  config: Config,
  depth: number,
): (Resolved & { owner: Definition }) | undefined {
  if (has(job.node, key)) return { node: child(job.node, key) as Node, lines: job.lines, owner: job };
  if (depth >= MAX_EXTENDS_DEPTH) return undefined;
  const parents = strings(child(job.node, "extends")).reverse();
  for (const name of parents) {
    const parent = config.definitions.get(name);
    if (!parent) continue;
    const found = resolveKey(parent, key, config, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Script lines with their nodes; `!reference [.job, script]` items are replaced by what they name. */
function scriptItems(
  node: Node,
  config: Config,
  depth = 0,
): { text: string; node?: Node; lines?: LineCounter }[] {
  if (isSeq(node)) {
    if ((node as { tag?: string }).tag === "!reference") {
      const [name, ...keys] = strings(node);
      const definition = name ? config.definitions.get(name) : undefined;
      if (!definition || depth > 5) return [];
      let target: Node | undefined = definition.node;
      for (const key of keys) target = child(target, key);
      return target
        ? scriptItems(target, config, depth + 1).map((i) => ({ ...i, lines: i.lines ?? definition.lines }))
        : [];
    }
    return node.items.flatMap((item) => scriptItems(item as Node, config, depth));
  }
  const value = text(node);
  return value === undefined ? [] : [{ text: value, node }];
}

function variablesOf(node: Node | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of entries(node)) {
    const v = isMap(value) ? text(child(value, "value")) : text(value);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** The predefined variables that define the event must not be overridden by a job's own variables. */
function pinned(context: GitlabVariables): GitlabVariables {
  return Object.fromEntries(Object.entries(context).filter(([k]) => k.startsWith("CI_")));
}

function contextVariables(main: string, variables: Record<string, string>): Record<Context, GitlabVariables> {
  const unset = {
    CI_COMMIT_TAG: null,
    CI_MERGE_REQUEST_ID: null,
    CI_MERGE_REQUEST_IID: null,
    CI_MERGE_REQUEST_TARGET_BRANCH_NAME: null,
    CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: null,
    CI_MERGE_REQUEST_EVENT_TYPE: null,
    CI_MERGE_REQUEST_LABELS: null,
    CI_OPEN_MERGE_REQUESTS: null,
    CI_EXTERNAL_PULL_REQUEST_IID: null,
    CI_PIPELINE_TRIGGERED: null,
  };
  const base = { ...variables, CI_DEFAULT_BRANCH: main, CI_COMMIT_REF_PROTECTED: "true" };
  return {
    push: {
      ...base,
      ...unset,
      CI_PIPELINE_SOURCE: "push",
      CI_COMMIT_BRANCH: main,
      CI_COMMIT_REF_NAME: main,
      CI_COMMIT_REF_SLUG: main,
    },
    mergeRequest: {
      ...base,
      ...unset,
      CI_PIPELINE_SOURCE: "merge_request_event",
      CI_COMMIT_BRANCH: null,
      CI_COMMIT_REF_NAME: "feature",
      CI_COMMIT_REF_SLUG: "feature",
      CI_COMMIT_REF_PROTECTED: "false",
      CI_MERGE_REQUEST_ID: "1",
      CI_MERGE_REQUEST_IID: "1",
      CI_MERGE_REQUEST_TARGET_BRANCH_NAME: main,
      CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: "feature",
      CI_MERGE_REQUEST_EVENT_TYPE: "detached",
    },
    sourceBranch: {
      ...base,
      ...unset,
      CI_PIPELINE_SOURCE: "push",
      CI_COMMIT_BRANCH: "feature",
      CI_COMMIT_REF_NAME: "feature",
      CI_COMMIT_REF_SLUG: "feature",
      CI_COMMIT_REF_PROTECTED: "false",
      CI_OPEN_MERGE_REQUESTS: "group/project!1",
    },
  };
}

/** A merge request is tested by a merge request pipeline or, failing that, by its source branch's pipeline. */
function mergeRequestRun(mergeRequest: EventRun, sourceBranch: EventRun): EventRun {
  if (mergeRequest.runs === "yes")
    return { ...mergeRequest, why: `merge request pipelines (${mergeRequest.why})` };
  if (sourceBranch.runs === "yes")
    return {
      ...sourceBranch,
      why: `branch pipelines on the merge request's source branch (${sourceBranch.why})`,
    };
  if (mergeRequest.runs === "maybe" || sourceBranch.runs === "maybe")
    return mergeRequest.runs === "maybe" ? mergeRequest : sourceBranch;
  return {
    runs: "no",
    why: `no merge request pipeline (${mergeRequest.why}) and no source-branch pipeline (${sourceBranch.why})`,
  };
}

function workflowRuns(workflow: Definition | undefined, variables: GitlabVariables): EventRun {
  const rules = workflow ? child(workflow.node, "rules") : undefined;
  if (!isSeq(rules)) return { runs: "yes", why: "no workflow:rules" };
  const result = evaluateRules(rules, variables, "workflow:rules");
  return result;
}

function jobRuns(
  job: Definition,
  lookupKey: (key: string) => Resolved | undefined,
  variables: GitlabVariables,
  ctx: Context,
  hasWorkflowRules: boolean,
): EventRun {
  const rules = lookupKey("rules");
  if (rules && isSeq(rules.node)) return evaluateRules(rules.node, variables, `job ${job.name} rules`);
  const only = lookupKey("only")?.node;
  const except = lookupKey("except")?.node;
  // The default only: [branches, tags] is dropped when workflow:rules exist (GitLab's Processable#compose!).
  if (only === undefined && except === undefined && hasWorkflowRules)
    return { runs: "yes", why: `job ${job.name} has no rules (workflow:rules decide)` };
  const onlyResult =
    only === undefined ? refsMatch(["branches", "tags"], variables, ctx) : onlyMatch(only, variables, ctx);
  if (onlyResult.runs === "no") return { runs: "no", why: `job ${job.name} only: ${onlyResult.why}` };
  if (except !== undefined) {
    const excluded = onlyMatch(except, variables, ctx);
    if (excluded.runs === "yes") return { runs: "no", why: `job ${job.name} except: ${excluded.why}` };
    if (excluded.runs === "maybe") return { runs: "maybe", why: `job ${job.name} except: ${excluded.why}` };
  }
  return onlyResult;
}

/** GitLab rules: the first that matches decides (when: never excludes); none matching excludes the job. */
function evaluateRules(rules: Node, variables: GitlabVariables, what: string): EventRun {
  if (!isSeq(rules)) return { runs: "yes", why: `${what}` };
  for (const [index, rule] of rules.items.entries()) {
    if (!isMap(rule)) continue;
    const condition = text(child(rule, "if"));
    const truth = condition === undefined ? true : evaluateGitlab(condition, variables);
    if (truth === false) continue;
    const label = `${what} #${index + 1}${condition ? ` (if: ${condition})` : ""}`;
    if (truth === null)
      return { runs: "maybe", why: `${label} depends on variables only the running pipeline knows` };
    const when = text(child(rule, "when"));
    if (when === "never") return { runs: "no", why: `${label} says when: never` };
    const changes = child(rule, "changes");
    const partial =
      changes !== undefined
        ? `only when files matching ${changePaths(changes).join(", ")} change`
        : undefined;
    return { runs: "yes", why: label, ...(partial ? { partial } : {}) };
  }
  return { runs: "no", why: `no rule of ${what} matches` };
}

function changePaths(node: Node): string[] {
  return isMap(node) ? strings(child(node, "paths")) : strings(node);
}

function onlyMatch(node: Node, variables: GitlabVariables, ctx: Context): EventRun {
  if (!isMap(node)) return refsMatch(strings(node), variables, ctx);
  const refs = child(node, "refs");
  let result: EventRun =
    refs !== undefined ? refsMatch(strings(refs), variables, ctx) : { runs: "yes", why: "any ref" };
  if (result.runs === "no") return result;
  const expressions = strings(child(node, "variables"));
  if (expressions.length > 0) {
    const truths = expressions.map((e) => evaluateGitlab(e, variables));
    if (truths.every((t) => t === false))
      return { runs: "no", why: `variables [${expressions.join(", ")}] are all false` };
    if (!truths.includes(true))
      result = { runs: "maybe", why: `variables [${expressions.join(", ")}] depend on the running pipeline` };
  }
  if (has(node, "changes"))
    result = {
      ...result,
      partial: `only when files matching ${changePaths(child(node, "changes")!).join(", ")} change`,
    };
  return result;
}

function refsMatch(refs: string[], variables: GitlabVariables, ctx: Context): EventRun {
  const ref = String(variables.CI_COMMIT_REF_NAME ?? "");
  for (const entry of refs) {
    const hit =
      (entry === "branches" && ctx !== "mergeRequest") ||
      (entry === "pushes" && ctx !== "mergeRequest") ||
      (entry === "merge_requests" && ctx === "mergeRequest") ||
      (ctx !== "mergeRequest" && refMatches(entry, ref));
    if (hit) return { runs: "yes", why: `[${refs.join(", ")}] includes ${entry}` };
  }
  return {
    runs: "no",
    why: `[${refs.join(", ")}] does not cover ${ctx === "mergeRequest" ? "merge request pipelines" : `a push to ${ref}`}`,
  };
}

const REF_KEYWORDS = new Set([
  "api",
  "branches",
  "chat",
  "external",
  "external_pull_requests",
  "merge_requests",
  "pipelines",
  "pushes",
  "schedules",
  "tags",
  "triggers",
  "web",
]);

function refMatches(entry: string, ref: string): boolean {
  if (REF_KEYWORDS.has(entry)) return false;
  const regex = /^\/(.*)\/([a-z]*)$/.exec(entry);
  if (regex) {
    try {
      return new RegExp(regex[1]!, regex[2]!.replace(/[^imsu]/g, "")).test(ref);
    } catch {
      return false;
    }
  }
  // A name with an @project suffix names a project as well: the branch part decides here.
  return entry.split("@")[0] === ref;
}

interface IncludeEntry {
  local?: string;
  shown: string;
}

function includeEntries(node: Node | undefined): IncludeEntry[] {
  if (node === undefined) return [];
  const items = isSeq(node) ? node.items : [node];
  const out: IncludeEntry[] = [];
  for (const item of items) {
    if (isScalar(item)) {
      const value = text(item) ?? "";
      if (/^https?:\/\//.test(value)) out.push({ shown: `remote ${value}` });
      else out.push({ local: value.replace(/^\//, ""), shown: value });
      continue;
    }
    if (!isMap(item)) continue;
    const local = text(child(item, "local"));
    if (local) out.push({ local: local.replace(/^\//, ""), shown: local });
    else {
      const kind = ["project", "remote", "template", "component"].find((k) => has(item, k)) ?? "include";
      const files = strings(child(item, "file"));
      out.push({
        shown:
          `${kind} ${text(child(item, kind)) ?? ""}${files.length ? ` (${files.join(", ")})` : ""}`.trim(),
      });
    }
  }
  return out;
}

/** Reads a file and its local includes into `config` (included first, so the including file overrides them). */
function load(
  source: PipelineSource,
  lookup: SourceLookup,
  config: Config,
  depth: number,
  visiting: Set<string>,
): void {
  const { root, lines, problems } = parseYaml(source.text);
  for (const problem of problems) config.problems.push({ file: source.file, problem });
  if (problems.length > 0) return;
  if (root === null) {
    config.problems.push({
      file: source.file,
      problem: { line: 1, column: 1, message: "the file is empty" },
    });
    return;
  }
  if (!isMap(root)) {
    config.problems.push({
      file: source.file,
      problem: {
        ...positionOf(root, lines),
        message: "a GitLab CI file must be a mapping of jobs and keywords",
      },
    });
    return;
  }
  visiting.add(source.repoPath);
  for (const entry of includeEntries(child(root, "include"))) {
    if (!entry.local) {
      config.unread.push(`${entry.shown} (included by ${source.file})`);
      continue;
    }
    const matches = /[*?]/.test(entry.local)
      ? lookup.paths().filter((p) => globMatches(entry.local!, p))
      : lookup.get(entry.local)
        ? [entry.local]
        : [];
    if (matches.length === 0) {
      config.problems.push({
        file: source.file,
        problem: {
          ...positionOf(keyNode(root, "include"), lines),
          message: `include: ${entry.local} names no file in the repository`,
        },
      });
      continue;
    }
    for (const path of matches) {
      const included = lookup.get(path);
      if (included && depth < MAX_INCLUDE_DEPTH && !visiting.has(path))
        load(included, lookup, config, depth + 1, visiting);
    }
  }
  for (const { key, keyNode: k, value } of entries(root)) {
    if (key === "variables") Object.assign(config.variables, variablesOf(value ?? undefined));
    else if (key === "workflow")
      config.workflow = { name: key, node: value as Node, keyNode: k, source, lines };
    else if (!KEYWORDS.has(key) && value && isMap(value))
      config.definitions.set(key, { name: key, node: value, keyNode: k, source, lines });
  }
}

function globMatches(pattern: string, candidate: string): boolean {
  const source = pattern
    .split("**")
    .map((part) =>
      part
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, "[^/]*")
        .replace(/\?/g, "[^/]"),
    )
    .join(".*");
  return new RegExp(`^${source}$`).test(candidate);
}
