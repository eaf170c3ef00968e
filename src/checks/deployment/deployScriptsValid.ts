// Are the deploy scripts present, executable, syntactically valid and free of ShellCheck errors? A script that fails
// to parse only fails on the day of the deploy; this finds it first. Lint without shellcheck is UNVERIFIED, not clean.
// The rollback script `operations.rollback.command` names is linted the same way: it runs on the worst day of all.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import {
  type CheckContext,
  defineCheck,
  type FindingInput,
  type Measurement,
  notApplicable,
} from "../../core/types.js";
import { scriptOfCommand } from "../../engines/shell/commandScript.js";
import { type RunResult, runCommand, which } from "../../engines/shell/run.js";
import type { Spec } from "../../spec/schema.js";

const TOOL_TIMEOUT_MS = 20_000;
const SHELLS = new Set(["sh", "bash", "dash", "ksh", "ash"]);
const LINT_LEVELS = ["error", "warning", "info", "style"] as const;
type LintLevel = (typeof LINT_LEVELS)[number];

interface ShellcheckComment {
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  level: LintLevel;
  code: number;
  message: string;
}

interface Tools {
  bash: string | null;
  shellcheck: string | null;
  shellcheckVersion: string | null;
  env: NodeJS.ProcessEnv;
}

/** How one run of a tool ended. */
interface ToolRun {
  command: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  spawnError?: { code: string; message: string };
}

type NotFound = { found: false; reason: string };

/** `bash -n` on the script; stderr names the script by its spec path. */
export type SyntaxRun = NotFound | (ToolRun & { found: true; stderr: string });

/** `shellcheck -f json1` on the script: its comments when it produced a report, else its stderr. */
export type LintRun =
  | NotFound
  | (ToolRun & {
      found: true;
      path: string;
      version: string | null;
      stderr?: string;
      counts?: Record<LintLevel, number>;
      comments?: ShellcheckComment[];
    });

/** What was found of one script; also its evidence file's content. */
export interface ScriptObservation {
  /** The path as the spec names it, relative to the spec folder. */
  file: string;
  /** Where the spec names it; a script named in both is listed once, as a deployment script. */
  from?: "deployment.scripts" | "operations.rollback";
  evidence: string;
  exists: boolean;
  /** Why the script could not be inspected: ENOENT, ENOTFILE (a folder…) or another errno code. */
  error?: string;
  /** Permission bits, octal ("0755"). */
  mode?: string;
  executable?: boolean;
  /** The shebang's interpreter, null without a shebang. */
  interpreter?: string | null;
  syntax?: SyntaxRun;
  shellcheck?: LintRun;
}

export interface DeployScriptsObservation {
  scripts: ScriptObservation[];
}

export default defineCheck<DeployScriptsObservation>({
  meta: {
    id: "deployScriptsValid",
    category: "deployment",
    risk: "high",
    destructive: false,
    title: "Deploy scripts are valid",
    objective:
      "Every deployment script, and the rollback script operations.rollback runs, exists, is executable, parses with bash -n and has no ShellCheck errors or warnings.",
    remediation: {
      effort: "low",
      text: "Fix {{file}}: make it executable (chmod +x), correct the syntax error bash -n reports, and resolve the ShellCheck findings (see https://www.shellcheck.net/wiki/ for each SC code).",
    },
    messages: {
      missing: "the script does not exist",
      notAFile: "the path exists but is not a regular file",
      unreadable: "the script cannot be inspected (permissions or an I/O error)",
      notExecutable: "the script lacks the executable bit",
      notShell: "the shebang names another interpreter: only sh and bash scripts are checked",
      parses: "bash -n parses the script",
      syntaxError: "bash -n rejects the script",
      syntaxNotChecked: "bash -n did not complete (could not start, timed out or was killed)",
      bashMissing: "bash is not on PATH, so the syntax was not checked",
      lintClean: "ShellCheck reports no errors or warnings (info and style notes are in the evidence)",
      lintError: "a ShellCheck error, one finding per issue with line, column and SC code",
      lintWarning: "a ShellCheck warning, one finding per issue with line, column and SC code",
      lintNoReport: "shellcheck ran but produced no report",
      shellcheckMissing: "shellcheck is not installed, so the script was not linted",
    },
    timeoutMs: 60_000,
  },

  applies(spec) {
    return scriptsOf(spec, ".").length > 0
      ? true
      : notApplicable("deployment.scripts lists no script and operations.rollback runs none");
  },

  async observe(ctx) {
    const tools = await findTools(ctx);
    const observation: DeployScriptsObservation = { scripts: [] };
    for (const { script, from } of scriptsOf(ctx.spec, ctx.specDir)) {
      ctx.signal.throwIfAborted();
      observation.scripts.push({ ...(await inspectScript(ctx, script, tools)), from });
      ctx.keepPartial(observation);
    }
    return observation;
  },

  judge(observation) {
    return observation.scripts.flatMap(judgeScript);
  },
});

/** deployment.scripts, then the rollback's script unless it is one of them (the same file, however it is written). */
function scriptsOf(
  spec: Spec,
  specDir: string,
): { script: string; from: NonNullable<ScriptObservation["from"]> }[] {
  const scripts: { script: string; from: NonNullable<ScriptObservation["from"]> }[] = (
    spec.deployment?.scripts ?? []
  ).map((script) => ({ script, from: "deployment.scripts" }));
  const rollback = spec.operations?.rollback ? scriptOfCommand(spec.operations.rollback.command) : null;
  const same = (a: string, b: string) => path.resolve(specDir, a) === path.resolve(specDir, b);
  if (rollback && !scripts.some(({ script }) => same(script, rollback))) {
    scripts.push({ script: rollback, from: "operations.rollback" });
  }
  return scripts;
}

/** A tool's time limit: its own bound, or what is left before the check's deadline when that is sooner. */
function toolTimeout(ctx: CheckContext): number {
  return Math.min(TOOL_TIMEOUT_MS, Math.max(1_000, ctx.deadline - Date.now()));
}

async function findTools(ctx: CheckContext): Promise<Tools> {
  // The run's PATH decides which tools exist; an empty test environment falls back to Gauntlet's own.
  const searchPath = ctx.env.PATH ?? process.env.PATH;
  const env: NodeJS.ProcessEnv = { PATH: searchPath ?? "", LC_ALL: "C.UTF-8", HOME: process.env.HOME ?? "/" };
  const bash = await which("bash", searchPath);
  const shellcheck = await which("shellcheck", searchPath);
  let shellcheckVersion: string | null = null;
  if (shellcheck) {
    const version = await runCommand(shellcheck, ["--version"], {
      env,
      timeoutMs: toolTimeout(ctx),
      signal: ctx.signal,
    });
    shellcheckVersion = /^version:\s*(\S+)/m.exec(version.stdout)?.[1] ?? null;
  }
  ctx.log.debug(
    `bash: ${bash ?? "missing"}; shellcheck: ${shellcheck ?? "missing"} ${shellcheckVersion ?? ""}`,
  );
  return { bash, shellcheck, shellcheckVersion, env };
}

async function inspectScript(ctx: CheckContext, script: string, tools: Tools): Promise<ScriptObservation> {
  const absolute = path.resolve(ctx.specDir, script);
  const file = path.relative(ctx.specDir, absolute).split(path.sep).join("/") || script;
  const seen: Omit<ScriptObservation, "evidence"> = { file, exists: false };
  const write = async (): Promise<ScriptObservation> => ({
    ...seen,
    evidence: await ctx.evidence.writeJson(`${file}.json`, { ...seen, path: absolute }),
  });

  let mode: number;
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw Object.assign(new Error("not a regular file"), { code: "ENOTFILE" });
    mode = info.mode;
  } catch (error) {
    seen.error = (error as NodeJS.ErrnoException).code ?? "ERROR";
    return write();
  }
  seen.exists = true;
  seen.mode = (mode & 0o7777).toString(8).padStart(4, "0");
  seen.executable = (mode & 0o111) !== 0;
  seen.interpreter = shebangInterpreter(await readFile(absolute, "utf8").catch(() => ""));
  if (!seen.interpreter || SHELLS.has(seen.interpreter)) {
    seen.syntax = await checkSyntax(ctx, absolute, file, tools);
    seen.shellcheck = await lint(ctx, absolute, file, tools);
  }
  return write();
}

async function checkSyntax(
  ctx: CheckContext,
  absolute: string,
  file: string,
  tools: Tools,
): Promise<SyntaxRun> {
  if (!tools.bash) return { found: false, reason: "bash not found on PATH" };
  const result = await runCommand(tools.bash, ["-n", absolute], {
    env: tools.env,
    timeoutMs: toolTimeout(ctx),
    signal: ctx.signal,
    maxOutputBytes: 64 * 1024,
  });
  return {
    found: true,
    ...outcome(`bash -n ${file}`, result),
    stderr: result.stderr.split(absolute).join(file),
  };
}

async function lint(ctx: CheckContext, absolute: string, file: string, tools: Tools): Promise<LintRun> {
  if (!tools.shellcheck) return { found: false, reason: "shellcheck not found on PATH" };
  const result = await runCommand(tools.shellcheck, ["-f", "json1", absolute], {
    cwd: path.dirname(absolute),
    env: tools.env,
    timeoutMs: toolTimeout(ctx),
    signal: ctx.signal,
  });
  const base = {
    found: true as const,
    path: tools.shellcheck,
    version: tools.shellcheckVersion,
    ...outcome(`shellcheck -f json1 ${file}`, result),
  };
  let comments: ShellcheckComment[] | null = null;
  if (result.exitCode === 0 || result.exitCode === 1) {
    try {
      comments = (JSON.parse(result.stdout) as { comments: ShellcheckComment[] }).comments;
    } catch {
      comments = null;
    }
  }
  if (!comments) return { ...base, stderr: result.stderr.split(absolute).join(file) };
  const counts: Record<LintLevel, number> = { error: 0, warning: 0, info: 0, style: 0 };
  for (const c of comments) counts[c.level] = (counts[c.level] ?? 0) + 1;
  return { ...base, counts, comments: comments.map((c) => ({ ...c, file })) };
}

function judgeScript(script: ScriptObservation): FindingInput[] {
  const { file } = script;
  const finding = (
    part: "file" | "syntax" | "lint",
    status: FindingInput["status"],
    messageId: string,
    message: string,
    extra: Partial<FindingInput> = {},
  ): FindingInput => ({
    status,
    messageId,
    subject: file,
    location: { path: file },
    data: { file, part },
    evidence: [script.evidence],
    message,
    ...extra,
  });
  if (!script.exists) {
    const [messageId, what] =
      script.error === "ENOENT"
        ? ["missing", "does not exist"]
        : script.error === "ENOTFILE"
          ? ["notAFile", "is not a file"]
          : ["unreadable", `cannot be read (${script.error})`];
    return [finding("file", "FAIL", messageId, `${file} ${what}`)];
  }
  const findings: FindingInput[] = [];
  if (!script.executable) {
    findings.push(
      finding("file", "FAIL", "notExecutable", `${file} is not executable (mode ${script.mode})`),
    );
  }
  if (script.interpreter && !SHELLS.has(script.interpreter)) {
    findings.push(
      finding(
        "file",
        "UNVERIFIED",
        "notShell",
        `${file} is a ${script.interpreter} script; only sh and bash scripts are checked`,
        {
          toVerify: `validate ${file} with ${script.interpreter}'s own tools${script.from === "operations.rollback" ? "" : ", or list only shell scripts in deployment.scripts"}`,
        },
      ),
    );
    return findings;
  }
  if (script.syntax) findings.push(judgeSyntax(script.syntax, file, finding));
  if (script.shellcheck) findings.push(...judgeLint(script.shellcheck, file, script.evidence, finding));
  return findings;
}

type MakeFinding = (
  part: "file" | "syntax" | "lint",
  status: FindingInput["status"],
  messageId: string,
  message: string,
  extra?: Partial<FindingInput>,
) => FindingInput;

function judgeSyntax(syntax: SyntaxRun, file: string, finding: MakeFinding): FindingInput {
  if (!syntax.found) {
    return finding(
      "syntax",
      "UNVERIFIED",
      "bashMissing",
      `${file}: bash is not on PATH, so its syntax was not checked`,
      {
        toVerify: "install bash (apt-get install bash) or put it on PATH",
      },
    );
  }
  if (syntax.exitCode === 0) return finding("syntax", "PASS", "parses", `${file} parses (bash -n)`);
  if (syntax.spawnError || syntax.timedOut || syntax.exitCode === null) {
    const why = syntax.spawnError?.code ?? (syntax.timedOut ? "timed out" : `signal ${syntax.signal}`);
    return finding("syntax", "UNVERIFIED", "syntaxNotChecked", `${file}: bash -n did not complete (${why})`, {
      toVerify: "make bash runnable from Gauntlet's PATH",
    });
  }
  const lines = syntax.stderr.split("\n");
  const errorLine = (lines.find((l) => /line \d+:/.test(l)) ?? lines[0] ?? "").trim();
  const line = Number(/line (\d+):/.exec(errorLine)?.[1]);
  const location = Number.isFinite(line) && line > 0 ? { path: file, line } : { path: file };
  return finding(
    "syntax",
    "FAIL",
    "syntaxError",
    `${file}: bash -n: ${errorLine || `exit code ${syntax.exitCode}`}`,
    { location, data: { file, part: "syntax", line: location.line, error: errorLine } },
  );
}

function judgeLint(lintRun: LintRun, file: string, evidence: string, finding: MakeFinding): FindingInput[] {
  if (!lintRun.found) {
    return [
      finding(
        "lint",
        "UNVERIFIED",
        "shellcheckMissing",
        `${file}: shellcheck is not installed, so the script was not linted`,
        {
          toVerify: "shellcheck is not installed: apt-get install shellcheck (or brew install shellcheck)",
        },
      ),
    ];
  }
  if (!lintRun.comments) {
    const exit = lintRun.exitCode ?? lintRun.spawnError?.code ?? lintRun.signal;
    return [
      finding(
        "lint",
        "UNVERIFIED",
        "lintNoReport",
        `${file}: shellcheck did not produce a report (exit ${exit})`,
        {
          toVerify: "run shellcheck -f json1 on the script by hand and fix what stops it",
        },
      ),
    ];
  }
  const counts = lintRun.counts ?? { error: 0, warning: 0, info: 0, style: 0 };
  const measurements: Measurement[] = LINT_LEVELS.map((level) => ({
    name: `shellcheck.${level}`,
    value: counts[level] ?? 0,
    unit: "findings",
    evidence,
  }));
  const findings = lintRun.comments
    .filter((c) => c.level === "error" || c.level === "warning")
    .map((c) =>
      finding(
        "lint",
        c.level === "error" ? "FAIL" : "WARN",
        c.level === "error" ? "lintError" : "lintWarning",
        `${file}:${c.line}:${c.column}: SC${c.code} (${c.level}): ${c.message}`,
        {
          location: { path: file, line: c.line, column: c.column },
          data: { file, part: "lint", line: c.line, column: c.column, code: `SC${c.code}`, level: c.level },
          measurements,
        },
      ),
    );
  if (findings.length > 0) return findings;
  const minor = counts.info + counts.style;
  return [
    finding(
      "lint",
      "PASS",
      "lintClean",
      `${file}: no ShellCheck errors or warnings${minor ? ` (${minor} info/style notes in evidence)` : ""}`,
      { measurements },
    ),
  ];
}

/** The interpreter a shebang names ("bash" for #!/usr/bin/env bash), or null without a shebang. */
export function shebangInterpreter(text: string): string | null {
  const match = /^#!\s*(\S+)(?:[ \t]+(\S+))?/.exec(text);
  if (!match) return null;
  const program = path.posix.basename(match[1]!);
  if (program === "env") {
    const next = match[2] === "-S" ? /^#!\s*\S+\s+-S\s+(\S+)/.exec(text)?.[1] : match[2];
    return next ? path.posix.basename(next) : null;
  }
  return program;
}

function outcome(command: string, result: RunResult): ToolRun {
  return {
    command,
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    durationMs: Math.round(result.durationMs),
    ...(result.spawnError ? { spawnError: result.spawnError } : {}),
  };
}
