// Are the deploy scripts present, executable, syntactically valid and free of ShellCheck errors? A script that fails
// to parse only fails on the day of the deploy; this finds it first. Lint without shellcheck is UNVERIFIED, not clean.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import {
  type CheckContext,
  defineCheck,
  type FindingInput,
  type Measurement,
  notApplicable,
} from "../../core/types.js";
import { type RunResult, runCommand, which } from "../../engines/shell/run.js";

const TOOL_TIMEOUT_MS = 20_000;
const SHELLS = new Set(["sh", "bash", "dash", "ksh", "ash"]);
const LINT_LEVELS = ["error", "warning", "info", "style"] as const;

interface ShellcheckComment {
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  level: "error" | "warning" | "info" | "style";
  code: number;
  message: string;
}

interface Tools {
  bash: string | null;
  shellcheck: string | null;
  shellcheckVersion: string | null;
  env: NodeJS.ProcessEnv;
}

export default defineCheck({
  meta: {
    id: "deployScriptsValid",
    category: "deployment",
    risk: "high",
    destructive: false,
    title: "Deploy scripts are valid",
    objective:
      "Every deployment script exists, is executable, parses with bash -n and has no ShellCheck errors or warnings.",
    remediation: {
      effort: "low",
      text: "Fix {{file}}: make it executable (chmod +x), correct the syntax error bash -n reports, and resolve the ShellCheck findings (see https://www.shellcheck.net/wiki/ for each SC code).",
    },
    timeoutMs: 60_000,
  },

  applies(spec) {
    return spec.deployment?.scripts?.length ? true : notApplicable("deployment.scripts lists no script");
  },

  async run(ctx) {
    const tools = await findTools(ctx);
    const findings: FindingInput[] = [];
    for (const script of ctx.spec.deployment?.scripts ?? []) {
      ctx.signal.throwIfAborted();
      findings.push(...(await inspectScript(ctx, script, tools)));
    }
    return findings;
  },
});

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
      timeoutMs: TOOL_TIMEOUT_MS,
      signal: ctx.signal,
    });
    shellcheckVersion = /^version:\s*(\S+)/m.exec(version.stdout)?.[1] ?? null;
  }
  ctx.log.debug(
    `bash: ${bash ?? "missing"}; shellcheck: ${shellcheck ?? "missing"} ${shellcheckVersion ?? ""}`,
  );
  return { bash, shellcheck, shellcheckVersion, env };
}

async function inspectScript(ctx: CheckContext, script: string, tools: Tools): Promise<FindingInput[]> {
  const absolute = path.resolve(ctx.specDir, script);
  const file = path.relative(ctx.specDir, absolute).split(path.sep).join("/") || script;
  const data = { file, part: "file" };
  const location = { path: file };
  const record: Record<string, unknown> = { file, path: absolute };
  const write = () => ctx.evidence.writeJson(`${file}.json`, record);

  let mode: number;
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw Object.assign(new Error("not a regular file"), { code: "ENOTFILE" });
    mode = info.mode;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "ERROR";
    record.exists = false;
    record.error = code;
    const evidence = await write();
    const what =
      code === "ENOENT"
        ? "does not exist"
        : code === "ENOTFILE"
          ? "is not a file"
          : `cannot be read (${code})`;
    return [
      { status: "FAIL", subject: file, location, data, evidence: [evidence], message: `${file} ${what}` },
    ];
  }

  const pending: FindingInput[] = [];
  record.exists = true;
  record.mode = (mode & 0o7777).toString(8).padStart(4, "0");
  const executable = (mode & 0o111) !== 0;
  record.executable = executable;
  if (!executable) {
    pending.push({
      status: "FAIL",
      subject: file,
      location,
      data,
      message: `${file} is not executable (mode ${record.mode})`,
    });
  }

  const interpreter = shebangInterpreter(await readFile(absolute, "utf8").catch(() => ""));
  record.interpreter = interpreter;
  if (interpreter && !SHELLS.has(interpreter)) {
    pending.push({
      status: "UNVERIFIED",
      subject: file,
      location,
      data,
      message: `${file} is a ${interpreter} script; only sh and bash scripts are checked`,
      toVerify: `validate ${file} with ${interpreter}'s own tools, or list only shell scripts in deployment.scripts`,
    });
  } else {
    pending.push(...(await syntaxFindings(ctx, absolute, file, tools, record)));
    pending.push(...(await lintFindings(ctx, absolute, file, tools, record)));
  }

  const evidence = await write();
  const counts = (record.shellcheck as { counts?: Record<string, number> } | undefined)?.counts;
  const measurements: Measurement[] | undefined = counts
    ? LINT_LEVELS.map((level) => ({
        name: `shellcheck.${level}`,
        value: counts[level] ?? 0,
        unit: "findings",
        evidence,
      }))
    : undefined;
  return pending.map((finding) => ({
    ...finding,
    evidence: [evidence],
    ...(measurements && finding.data?.part === "lint" ? { measurements } : {}),
  }));
}

async function syntaxFindings(
  ctx: CheckContext,
  absolute: string,
  file: string,
  tools: Tools,
  record: Record<string, unknown>,
): Promise<FindingInput[]> {
  const data = { file, part: "syntax" };
  if (!tools.bash) {
    record.syntax = { checked: false, reason: "bash not found on PATH" };
    return [
      {
        status: "UNVERIFIED",
        subject: file,
        location: { path: file },
        data,
        message: `${file}: bash is not on PATH, so its syntax was not checked`,
        toVerify: "install bash (apt-get install bash) or put it on PATH",
      },
    ];
  }
  const result = await runCommand(tools.bash, ["-n", absolute], {
    env: tools.env,
    timeoutMs: TOOL_TIMEOUT_MS,
    signal: ctx.signal,
    maxOutputBytes: 64 * 1024,
  });
  const stderr = result.stderr.split(absolute).join(file);
  record.syntax = { command: `bash -n ${file}`, ...outcome(result), stderr };
  if (result.exitCode === 0) {
    return [
      { status: "PASS", subject: file, location: { path: file }, data, message: `${file} parses (bash -n)` },
    ];
  }
  if (result.spawnError || result.timedOut || result.exitCode === null) {
    return [
      {
        status: "UNVERIFIED",
        subject: file,
        location: { path: file },
        data,
        message: `${file}: bash -n did not complete (${result.spawnError?.code ?? (result.timedOut ? "timed out" : `signal ${result.signal}`)})`,
        toVerify: "make bash runnable from Gauntlet's PATH",
      },
    ];
  }
  const errorLine = stderr.split("\n").find((l) => /line \d+:/.test(l)) ?? stderr.split("\n")[0] ?? "";
  const line = Number(/line (\d+):/.exec(errorLine)?.[1]);
  const location = Number.isFinite(line) && line > 0 ? { path: file, line } : { path: file };
  return [
    {
      status: "FAIL",
      subject: file,
      location,
      data: { ...data, line: location.line, error: errorLine.trim() },
      message: `${file}: bash -n: ${errorLine.trim() || `exit code ${result.exitCode}`}`,
    },
  ];
}

async function lintFindings(
  ctx: CheckContext,
  absolute: string,
  file: string,
  tools: Tools,
  record: Record<string, unknown>,
): Promise<FindingInput[]> {
  const data = { file, part: "lint" };
  if (!tools.shellcheck) {
    record.shellcheck = { checked: false, reason: "shellcheck not found on PATH" };
    return [
      {
        status: "UNVERIFIED",
        subject: file,
        location: { path: file },
        data,
        message: `${file}: shellcheck is not installed, so the script was not linted`,
        toVerify: "shellcheck is not installed: apt-get install shellcheck (or brew install shellcheck)",
      },
    ];
  }
  const result = await runCommand(tools.shellcheck, ["-f", "json1", absolute], {
    cwd: path.dirname(absolute),
    env: tools.env,
    timeoutMs: TOOL_TIMEOUT_MS,
    signal: ctx.signal,
  });
  let comments: ShellcheckComment[] | null = null;
  if (result.exitCode === 0 || result.exitCode === 1) {
    try {
      comments = (JSON.parse(result.stdout) as { comments: ShellcheckComment[] }).comments;
    } catch {
      comments = null;
    }
  }
  const base = {
    path: tools.shellcheck,
    version: tools.shellcheckVersion,
    command: `shellcheck -f json1 ${file}`,
    ...outcome(result),
  };
  if (!comments) {
    record.shellcheck = { ...base, checked: false, stderr: result.stderr.split(absolute).join(file) };
    return [
      {
        status: "UNVERIFIED",
        subject: file,
        location: { path: file },
        data,
        message: `${file}: shellcheck did not produce a report (exit ${result.exitCode ?? result.spawnError?.code ?? result.signal})`,
        toVerify: "run shellcheck -f json1 on the script by hand and fix what stops it",
      },
    ];
  }
  const counts: Record<string, number> = { error: 0, warning: 0, info: 0, style: 0 };
  for (const c of comments) counts[c.level] = (counts[c.level] ?? 0) + 1;
  record.shellcheck = {
    ...base,
    checked: true,
    counts,
    comments: comments.map((c) => ({ ...c, file })),
  };
  const findings: FindingInput[] = comments
    .filter((c) => c.level === "error" || c.level === "warning")
    .map((c) => ({
      status: c.level === "error" ? "FAIL" : "WARN",
      subject: file,
      location: { path: file, line: c.line, column: c.column },
      data: { ...data, line: c.line, column: c.column, code: `SC${c.code}`, level: c.level },
      message: `${file}:${c.line}:${c.column}: SC${c.code} (${c.level}): ${c.message}`,
    }));
  if (findings.length === 0) {
    const minor = counts.info! + counts.style!;
    findings.push({
      status: "PASS",
      subject: file,
      location: { path: file },
      data,
      message: `${file}: no ShellCheck errors or warnings${minor ? ` (${minor} info/style notes in evidence)` : ""}`,
    });
  }
  return findings;
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

function outcome(result: RunResult) {
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    durationMs: Math.round(result.durationMs),
    ...(result.spawnError ? { spawnError: result.spawnError } : {}),
  };
}
