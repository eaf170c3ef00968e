// Does every alert have a runbook that an on-call engineer can open and act on? The runbook is the alert's
// runbook_url (or runbook) annotation when it has one — an http(s) link is fetched for real, a path or file: URL is
// read from disk — else a file named after the alert under operations.runbooks (ApiDown.md, api-down.md, …). What it
// holds is measured (src/engines/runbooks/content.ts) and judged against the criteria below: a page that answers 404,
// an empty file or an untouched template leaves on-call with nothing.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { toPosix } from "../../engines/files/glob.js";
import { withoutCredentials } from "../../engines/metrics/scrape.js";
import { allRules, loadRuleSet } from "../../engines/prometheus/ruleFiles.js";
import { measureRunbook, type RunbookContent, type RunbookFormat } from "../../engines/runbooks/content.js";
import { fetchRunbook } from "../../engines/runbooks/fetch.js";
import { locateRunbook } from "../../engines/runbooks/locate.js";

/** What "real content" means, stated in every finding about content. */
export const CRITERIA = {
  /** Words of text outside headings and code blocks, placeholders left out. */
  minWords: 25,
  /** Actionable steps: list items of two words or more, fenced code blocks, or commands written inline with arguments. */
  minSteps: 1,
} as const;
/** The same, short, for each finding about content. */
const CRITERIA_SHORT = `≥ ${CRITERIA.minWords} words outside headings and code, ≥ ${CRITERIA.minSteps} step (a list item, a code block or an inline command), fewer placeholder lines than real ones`;
const CRITERIA_TEXT = `at least ${CRITERIA.minWords} words of text outside headings and code, at least ${CRITERIA.minSteps} actionable step (a list item, a fenced code block, or a command with its arguments in backticks), and more real lines than placeholder lines (TODO, TBD, FIXME, <fill in>, lorem ipsum)`;

const FETCH_TIMEOUT_MS = 5_000;
const FETCH_CONCURRENCY = 6;
/** Time kept after the fetches for writing evidence and judging. */
const RESERVE_MS = 1_500;
const MAX_FILE_BYTES = 1024 * 1024;

export interface RuleAt {
  file: string;
  line: number;
  column: number;
  group: string;
}

/** Where the runbook was looked for: the annotation's link or path, or the files tried under operations.runbooks. */
export interface RunbookRef {
  via: "annotation" | "folder";
  /** runbook_url or runbook, for via: annotation. */
  annotation?: string;
  /** The URL (without credentials) or the file found (relative to the spec's folder). */
  target?: string;
  /** Paths tried, relative to the spec's folder. */
  tried: string[];
}

export type RunbookState =
  /** No annotation, and no file for the alert under operations.runbooks (or none declared). */
  | { state: "none" }
  /** The annotation names a path that is no file. */
  | { state: "fileMissing" }
  /** The URL's host or path depends on the firing series' labels: it cannot be opened before the alert fires. */
  | { state: "templated" }
  | { state: "unreachable"; why: string }
  | { state: "protected"; status: number; finalUrl: string }
  | { state: "httpError"; status: number; finalUrl: string; why?: string }
  | { state: "unjudged"; contentType: string; finalUrl: string }
  | {
      state: "read";
      content: RunbookContent;
      bytes: number;
      truncated: boolean;
      /** For a link: what answered. */
      status?: number;
      finalUrl?: string;
      /** A templated query or fragment left out to fetch the page. */
      dropped?: "query" | "fragment";
    };

export interface ObservedAlert {
  alert: string;
  /** Every rule with this name and this runbook reference (the same alert at several severities, say). */
  rules: RuleAt[];
  ref: RunbookRef | null;
  runbook: RunbookState;
}

export interface RunbooksObservation {
  patterns: string[];
  /** Rule files read, relative to the spec's folder; a file that does not parse says where. */
  files: { file: string; alerts: number; unreadable?: { line: number; column: number; message: string } }[];
  /** operations.runbooks relative to the spec's folder, or null. */
  runbookDir: string | null;
  alerts: ObservedAlert[];
  evidence: string;
}

export default defineCheck<RunbooksObservation>({
  meta: {
    id: "runbooksCoverAlerts",
    category: "operations",
    risk: "medium",
    destructive: false,
    title: "Every alert has a runbook with real steps",
    objective: `Every alerting rule links a runbook (runbook_url that answers, or operations.runbooks/<AlertName>.md) holding ${CRITERIA_TEXT}.`,
    remediation: {
      effort: "medium",
      text: "Alert {{alert}} ({{where}}): {{fix}}. A runbook says what the alert means, its impact, how to diagnose it (commands) and how to mitigate it, as steps.",
    },
    messages: {
      runbooksReady: `every alert counted has a runbook with ${CRITERIA_TEXT}`,
      noRunbook:
        "the alert has no runbook_url annotation and no file named after it under operations.runbooks",
      runbookNotFound: "the alert's runbook annotation names a file that does not exist",
      runbookBroken:
        "the alert's runbook URL answers with an error (4xx, or a redirect that cannot be followed)",
      runbookEmpty: "the runbook has no text and no step outside its headings",
      runbookTemplate:
        "the runbook is an unfilled template: placeholders (TODO, TBD, <fill in>, lorem ipsum) are its bulk",
      runbookThin: `the runbook has some content but falls short of ${CRITERIA.minWords} words of text or of an actionable step (a list item, a code block or an inline command)`,
      runbookUnreachable:
        "the runbook URL could not be fetched (connection refused, DNS, timeout, TLS, server error) or read, so its content is unknown",
      runbookProtected:
        "the runbook URL asks for a sign-in (401/403 or a redirect to a login page): its content is unknown",
      runbookTemplated:
        "the runbook URL's host or path is built from the firing series' labels ({{ $labels.x }}): it cannot be opened before the alert fires",
      runbookUnjudged:
        "the runbook URL answers with content that is not text (e.g. a PDF): what it holds was not judged",
      ruleFileUnreadable: "a rule file does not parse, so its alerts (and their runbooks) are unknown",
      noRuleFiles: "monitoring.rules matches no rule file, so which alerts need a runbook is unknown",
      noAlerts: "the rule files hold no alerting rule: nothing needs a runbook",
    },
    timeoutMs: 60_000,
  },

  applies(spec) {
    // Whether alerting exists at all is judged by the observability checks; with no rule files there is nothing to cover.
    return spec.monitoring?.rules?.length
      ? true
      : notApplicable("monitoring.rules lists no rule file: no alerts, nothing to cover");
  },

  observe: observeRunbooks,

  judge(observation) {
    const evidence = [observation.evidence];
    const findings: FindingInput[] = [];
    if (observation.files.length === 0) {
      return [
        {
          status: "UNVERIFIED",
          messageId: "noRuleFiles",
          subject: "monitoring.rules",
          message: `monitoring.rules (${observation.patterns.join(", ")}) matches no rule file, so no alert's runbook could be judged`,
          data: { patterns: observation.patterns },
          evidence,
          toVerify:
            "correct monitoring.rules (globs relative to the spec file) so it names the alert rule files",
        },
      ];
    }
    for (const file of observation.files.filter((f) => f.unreadable)) {
      const at = file.unreadable!;
      findings.push({
        status: "UNVERIFIED",
        messageId: "ruleFileUnreadable",
        subject: file.file,
        location: { path: file.file, line: at.line, column: at.column },
        message: `${file.file}:${at.line}:${at.column} does not parse (${at.message}), so its alerts and their runbooks are unknown`,
        data: { file: file.file, line: at.line, problem: at.message },
        evidence,
        toVerify: `fix ${file.file} at line ${at.line} so it parses (alertRulesValid names every problem)`,
      });
    }
    if (observation.alerts.length === 0) {
      if (findings.length > 0) return findings;
      return [
        {
          status: "NA",
          messageId: "noAlerts",
          subject: "monitoring.rules",
          message: `the rule files (${observation.files.map((f) => f.file).join(", ")}) hold no alerting rule: no alerts, nothing to cover`,
          data: { files: observation.files.map((f) => f.file) },
          evidence,
        },
      ];
    }
    const ready: ObservedAlert[] = [];
    for (const alert of observation.alerts) {
      const finding = judgeAlert(alert, observation, evidence);
      if (finding) findings.push(finding);
      else ready.push(alert);
    }
    if (ready.length > 0) {
      const names = ready.map((a) => a.alert);
      const listed =
        names.length > 12
          ? `${names.slice(0, 12).join(", ")} and ${names.length - 12} more`
          : names.join(", ");
      findings.unshift({
        status: "PASS",
        messageId: "runbooksReady",
        subject: "alerts",
        message: `${ready.length} of ${observation.alerts.length} alert${observation.alerts.length === 1 ? "" : "s"} ha${ready.length === 1 ? "s" : "ve"} a runbook with ${CRITERIA_TEXT}: ${listed}`,
        data: { alerts: names, criteria: CRITERIA },
        evidence,
        measurements: [
          {
            name: "alerts with a ready runbook",
            value: ready.length,
            unit: `of ${observation.alerts.length}`,
            evidence: observation.evidence,
          },
        ],
      });
    }
    return findings;
  },
});

/** The finding for one alert's runbook, or null when it meets the criteria. */
function judgeAlert(
  alert: ObservedAlert,
  observation: RunbooksObservation,
  evidence: string[],
): FindingInput | null {
  const rule = alert.rules[0]!;
  const where = `${rule.file}:${rule.line}`;
  const also =
    alert.rules.length > 1
      ? ` (and ${alert.rules
          .slice(1)
          .map((r) => `${r.file}:${r.line}`)
          .join(", ")})`
      : "";
  const ref = alert.ref;
  const target = ref?.target ?? ref?.tried[0] ?? "";
  const link = ref?.via === "annotation" ? `${ref.annotation} ${target}` : `runbook file ${target}`;
  const base = {
    subject: alert.alert,
    location: { path: rule.file, line: rule.line, column: rule.column },
    evidence,
  };
  const data = (fix: string, extra: Record<string, unknown> = {}) => ({
    alert: alert.alert,
    where,
    fix,
    rules: alert.rules,
    ...(ref ? { runbook: ref.target ?? null, via: ref.via, tried: ref.tried } : { tried: [] }),
    ...extra,
  });
  const state = alert.runbook;
  switch (state.state) {
    case "none": {
      const folder = observation.runbookDir;
      const tried = ref?.tried ?? [];
      const fix = folder
        ? `write ${folder}/${alert.alert}.md or add an annotations.runbook_url to the rule`
        : "add an annotations.runbook_url to the rule, or set operations.runbooks to a folder holding a file named after it";
      return {
        ...base,
        status: "FAIL",
        messageId: "noRunbook",
        message: `alert ${alert.alert} (${where}${also}) has no runbook: no runbook_url annotation, ${folder ? `and no file for it under ${folder} (tried ${shortList(tried)})` : "and operations.runbooks is not set"}`,
        data: data(fix),
      };
    }
    case "fileMissing":
      return {
        ...base,
        status: "FAIL",
        messageId: "runbookNotFound",
        message: `alert ${alert.alert} (${where}${also}): its ${ref?.annotation ?? "runbook"} names no file (tried ${shortList(ref?.tried ?? [])})`,
        data: data(
          `create the runbook at ${ref?.tried[0] ?? "the annotated path"} or correct the ${ref?.annotation ?? "runbook_url"} annotation`,
        ),
      };
    case "httpError":
      return {
        ...base,
        status: "FAIL",
        messageId: "runbookBroken",
        message: `alert ${alert.alert} (${where}${also}): ${link} answers ${state.why ? `${state.status} with ${state.why}` : state.status}${state.finalUrl !== target ? ` (at ${state.finalUrl})` : ""}`,
        data: data(`publish the runbook at ${target} or point the annotation at where it lives`, {
          status: state.status,
          finalUrl: state.finalUrl,
        }),
      };
    case "unreachable":
      return {
        ...base,
        status: "UNVERIFIED",
        messageId: "runbookUnreachable",
        message: `alert ${alert.alert} (${where}${also}): ${link} could not be read: ${state.why}`,
        data: data("make the runbook reachable", { why: state.why }),
        toVerify: `run Gauntlet where ${target} can be reached (or keep the runbook as a file under operations.runbooks)`,
      };
    case "protected":
      return {
        ...base,
        status: "UNVERIFIED",
        messageId: "runbookProtected",
        message: `alert ${alert.alert} (${where}${also}): ${link} asks for a sign-in (${state.status}${state.finalUrl !== target ? ` at ${state.finalUrl}` : ""}), so what it holds is unknown`,
        data: data("make the runbook readable without a sign-in", {
          status: state.status,
          finalUrl: state.finalUrl,
        }),
        toVerify: `keep a copy of the runbook as ${observation.runbookDir ?? "<operations.runbooks>"}/${alert.alert}.md, or serve ${target} without a sign-in from where Gauntlet runs`,
      };
    case "templated":
      return {
        ...base,
        status: "UNVERIFIED",
        messageId: "runbookTemplated",
        message: `alert ${alert.alert} (${where}${also}): ${link} builds its host or path from the firing series' labels, so no page can be fetched before the alert fires`,
        data: data("use a runbook URL without templates in its host or path"),
        toVerify: `give ${alert.alert} a runbook_url without {{ }} in its host or path (a templated query string is fine), or a runbook file under operations.runbooks`,
      };
    case "unjudged":
      return {
        ...base,
        status: "UNVERIFIED",
        messageId: "runbookUnjudged",
        message: `alert ${alert.alert} (${where}${also}): ${link} answers with ${state.contentType || "no content type"}, not text, so what it holds was not judged`,
        data: data("serve the runbook as HTML, markdown or plain text", { contentType: state.contentType }),
        toVerify: `serve ${target} as text/html, text/markdown or text/plain`,
      };
    case "read":
      return judgeContent(alert, state, { ...base, where: `${where}${also}`, link, data });
  }
}

function judgeContent(
  alert: ObservedAlert,
  state: Extract<RunbookState, { state: "read" }>,
  at: {
    subject: string;
    location: { path: string; line: number; column: number };
    evidence: string[];
    where: string;
    link: string;
    data: (fix: string, extra?: Record<string, unknown>) => Record<string, unknown>;
  },
): FindingInput | null {
  const c = state.content;
  const steps = c.listSteps + c.codeBlocks + c.inlineCommands;
  const measured = `${c.words} words, ${c.listSteps} list step${c.listSteps === 1 ? "" : "s"}, ${c.codeBlocks} code block${c.codeBlocks === 1 ? "" : "s"}, ${c.inlineCommands} inline command${c.inlineCommands === 1 ? "" : "s"}, ${c.placeholderLines} placeholder line${c.placeholderLines === 1 ? "" : "s"}`;
  const measurements = [
    { name: "words", value: c.words, unit: "words", evidence: at.evidence[0] },
    { name: "steps", value: steps, unit: "steps", evidence: at.evidence[0] },
  ];
  const excerpt = c.placeholders.length
    ? `; e.g. line ${c.placeholders[0]!.line}: "${c.placeholders[0]!.text}"`
    : "";
  const extra = {
    words: c.words,
    steps,
    placeholderLines: c.placeholderLines,
    criteria: CRITERIA,
    ...(state.dropped ? { dropped: state.dropped } : {}),
  };
  const note = state.dropped ? ` (judged without its templated ${state.dropped})` : "";
  const { subject, location, evidence } = at;
  if (c.words === 0 && steps === 0) {
    const template = c.placeholderLines > 0;
    return {
      subject,
      location,
      evidence,
      status: "FAIL",
      messageId: template ? "runbookTemplate" : "runbookEmpty",
      message: `alert ${alert.alert} (${at.where}): ${at.link}${note} holds ${template ? "only placeholders" : "nothing but headings"} (${measured}${excerpt}); a runbook needs ${CRITERIA_SHORT}`,
      data: at.data(`write the runbook's steps in ${at.link.replace(/^runbook file /, "")}`, extra),
      measurements,
    };
  }
  if (c.placeholderLines >= c.contentLines) {
    return {
      subject,
      location,
      evidence,
      status: "FAIL",
      messageId: "runbookTemplate",
      message: `alert ${alert.alert} (${at.where}): ${at.link}${note} is mostly unfilled placeholders (${measured}${excerpt}); a runbook needs ${CRITERIA_SHORT}`,
      data: at.data(`fill in the placeholders of ${at.link.replace(/^runbook file /, "")}`, extra),
      measurements,
    };
  }
  if (c.words < CRITERIA.minWords || steps < CRITERIA.minSteps) {
    const short = [
      c.words < CRITERIA.minWords ? `${c.words} of ${CRITERIA.minWords} words` : "",
      steps < CRITERIA.minSteps ? "no actionable step (a list item, a code block or an inline command)" : "",
    ].filter(Boolean);
    return {
      subject,
      location,
      evidence,
      status: "WARN",
      messageId: "runbookThin",
      message: `alert ${alert.alert} (${at.where}): ${at.link}${note} is thin: ${short.join(" and ")} (${measured}); a runbook needs ${CRITERIA_SHORT}`,
      data: at.data(`add ${short.join(" and ")} to ${at.link.replace(/^runbook file /, "")}`, extra),
      measurements,
    };
  }
  return null;
}

function shortList(items: string[]): string {
  if (items.length === 0) return "nothing";
  return items.length > 4 ? `${items.slice(0, 4).join(", ")}, … ${items.length} paths` : items.join(", ");
}

async function observeRunbooks(ctx: CheckContext): Promise<RunbooksObservation> {
  const patterns = ctx.spec.monitoring?.rules ?? [];
  const set = await loadRuleSet(ctx.specDir, patterns);
  const runbookDirAbs = ctx.spec.operations?.runbooks
    ? path.resolve(ctx.specDir, ctx.spec.operations.runbooks)
    : null;
  const rel = (file: string) => toPosix(path.relative(ctx.specDir, file)) || ".";
  const rules = allRules(set).filter((r) => r.kind === "alert" && r.name.trim() !== "");
  const files = set.files.map((f) => {
    const yamlError = f.groups.length === 0 ? f.problems.find((p) => p.kind === "yaml") : undefined;
    return {
      file: f.file,
      alerts: f.groups.reduce((n, g) => n + g.rules.filter((r) => r.kind === "alert").length, 0),
      ...(yamlError
        ? { unreadable: { line: yamlError.line, column: yamlError.column, message: yamlError.message } }
        : {}),
    };
  });
  // One runbook per alert name and annotation: the same alert at two severities shares it.
  const groups = new Map<string, { alert: string; annotations: Record<string, string>; rules: RuleAt[] }>();
  for (const rule of rules) {
    const key = `${rule.name}\0${rule.annotations.runbook_url ?? rule.annotations.runbook ?? ""}`;
    const at = { file: rule.file, line: rule.position.line, column: rule.position.column, group: rule.group };
    const entry = groups.get(key);
    if (entry) entry.rules.push(at);
    else groups.set(key, { alert: rule.name, annotations: rule.annotations, rules: [at] });
  }

  const alerts: ObservedAlert[] = [];
  const fetches = new Map<string, Promise<RunbookState>>();
  const queue = limiter(FETCH_CONCURRENCY);
  const pending: Promise<void>[] = [];
  for (const { alert, annotations, rules: at } of groups.values()) {
    const location = await locateRunbook(alert, annotations, ctx.specDir, runbookDirAbs);
    const entry: ObservedAlert = { alert, rules: at, ref: null, runbook: { state: "none" } };
    alerts.push(entry);
    if (location.kind === "missing") {
      const tried = location.tried.map(rel);
      if (location.annotation) {
        entry.ref = {
          via: "annotation",
          annotation: location.annotation,
          ...(location.url ? { target: location.url } : {}),
          tried,
        };
        entry.runbook = { state: "fileMissing" };
      } else if (tried.length > 0) {
        entry.ref = { via: "folder", tried };
      }
      continue;
    }
    if (location.kind === "file") {
      entry.ref = {
        via: location.annotation ? "annotation" : "folder",
        ...(location.annotation ? { annotation: location.annotation } : {}),
        target: rel(location.file),
        tried: location.tried.map(rel),
      };
      entry.runbook = await readRunbookFile(location.file);
      continue;
    }
    registerUrlSecrets(ctx, location.url);
    const shown = withoutCredentials(location.url);
    entry.ref = { via: "annotation", annotation: location.annotation, target: shown, tried: [shown] };
    const fetchable = untemplated(location.url);
    if (!fetchable) {
      entry.runbook = { state: "templated" };
      continue;
    }
    let job = fetches.get(fetchable.url);
    if (!job) {
      job = queue(() => fetchState(ctx, fetchable.url));
      fetches.set(fetchable.url, job);
    }
    pending.push(
      job.then((state) => {
        entry.runbook =
          state.state === "read" && fetchable.dropped ? { ...state, dropped: fetchable.dropped } : state;
      }),
    );
  }
  await Promise.all(pending);
  const observation: RunbooksObservation = {
    patterns,
    files,
    runbookDir: runbookDirAbs ? rel(runbookDirAbs) : null,
    alerts,
    evidence: "",
  };
  observation.evidence = await ctx.evidence.writeJson("runbooks.json", {
    criteria: CRITERIA,
    unmatchedPatterns: set.unmatched,
    ...observation,
    evidence: undefined,
  });
  const ready = alerts.filter((a) => a.runbook.state === "read").length;
  ctx.log.info(
    `${alerts.length} alert(s) in ${files.length} rule file(s); ${ready} runbook(s) read, ${fetches.size} URL(s) fetched`,
  );
  return observation;
}

async function readRunbookFile(file: string): Promise<RunbookState> {
  try {
    const buffer = await readFile(file);
    const text = buffer.subarray(0, MAX_FILE_BYTES).toString("utf8");
    const format: RunbookFormat = /\.x?html?$/i.test(file) ? "html" : "markdown";
    return {
      state: "read",
      content: measureRunbook(text, format),
      bytes: buffer.length,
      truncated: buffer.length > MAX_FILE_BYTES,
    };
  } catch (error) {
    return {
      state: "unreachable",
      why: `the file cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    };
  }
}

async function fetchState(ctx: CheckContext, url: string): Promise<RunbookState> {
  const left = ctx.deadline - Date.now() - RESERVE_MS;
  if (left < 500)
    return { state: "unreachable", why: "not fetched: the check ran out of time before this URL" };
  const result = await fetchRunbook(url, { timeoutMs: Math.min(FETCH_TIMEOUT_MS, left), signal: ctx.signal });
  const finalUrl = "finalUrl" in result ? withoutCredentials(result.finalUrl) : withoutCredentials(url);
  switch (result.outcome) {
    case "network":
      return {
        state: "unreachable",
        why: `${result.kind === "other" ? "" : `${result.kind}: `}${result.message}`,
      };
    case "login":
      return { state: "protected", status: result.status, finalUrl };
    case "status":
      // A server error may pass; a 4xx or a broken redirect is what on-call would get too.
      if (result.status >= 500 || result.status === 429)
        return { state: "unreachable", why: `the server answered ${result.status}` };
      return {
        state: "httpError",
        status: result.status,
        finalUrl,
        ...(result.why ? { why: result.why } : {}),
      };
    case "ok":
      if (!result.format) return { state: "unjudged", contentType: result.contentType, finalUrl };
      return {
        state: "read",
        content: measureRunbook(result.body, result.format),
        bytes: Buffer.byteLength(result.body),
        truncated: result.truncated,
        status: result.status,
        finalUrl,
      };
  }
}

/**
 * The URL to fetch for a runbook_url that may hold {{ }} templates: as written without its fragment, or without its
 * query when only the query is templated; null when the host or path is templated.
 */
export function untemplated(url: string): { url: string; dropped?: "query" | "fragment" } | null {
  const hash = url.indexOf("#");
  const beforeHash = hash >= 0 ? url.slice(0, hash) : url;
  const fragmentTemplated = hash >= 0 && url.indexOf("{{", hash) >= 0;
  const at = beforeHash.indexOf("{{");
  if (at < 0) return { url: beforeHash, ...(fragmentTemplated ? { dropped: "fragment" as const } : {}) };
  const query = beforeHash.indexOf("?");
  if (query >= 0 && at > query) return { url: beforeHash.slice(0, query), dropped: "query" };
  return null;
}

/** A link's password and any query value named like a credential are secrets for this run. */
function registerUrlSecrets(ctx: CheckContext, url: string): void {
  ctx.secrets.addFromUrl(url);
  try {
    for (const [name, value] of new URL(url).searchParams) {
      if (/token|key|secret|sig|password|passwd|auth|credential/i.test(name)) ctx.secrets.add(value);
    }
  } catch {
    // Not a URL Node can parse: fetching it fails and says so.
  }
}

/** Runs at most `size` of the given tasks at once. */
function limiter(size: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    while (running >= size) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
