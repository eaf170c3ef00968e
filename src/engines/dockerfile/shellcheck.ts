// ShellCheck on each RUN's script (runScripts.ts), as hadolint runs it: the script on stdin with the shell SHELL
// names (sh by default), the stage's ARG and ENV names (and the proxy variables Docker predefines) exported first so
// that they count as set, and SC1090/SC1091 (sourcing a file that cannot be named here) and SC2187 (ash) left out.
// Comments come back at the Dockerfile's line and column.
import { runCommand, which } from "../shell/run.js";
import { chainInstructions, type DockerfileModel } from "./parse.js";
import { dockerfilePosition, type RunScript } from "./runScripts.js";

export type ShellcheckLevel = "error" | "warning" | "info" | "style";

export interface DockerShellcheckComment {
  /** Position in the Dockerfile (1-based). */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** The RUN's first line, for `# hadolint ignore=SC…` pragmas. */
  instructionLine: number;
  level: ShellcheckLevel;
  code: string;
  message: string;
}

export interface ScriptLint {
  instructionLine: number;
  shell: string;
  /** linted: ShellCheck read it; skipped: not a shell ShellCheck reads (pwsh, python…); failed: no report. */
  state: "linted" | "skipped" | "failed";
  reason?: string;
}

export interface ShellcheckTool {
  path: string;
  version: string | null;
}

export interface DockerfileLint {
  scripts: ScriptLint[];
  comments: DockerShellcheckComment[];
}

const DIALECTS: Record<string, string> = {
  sh: "sh",
  ash: "sh",
  dash: "dash",
  bash: "bash",
  ksh: "ksh",
  mksh: "ksh",
};
const DEFAULT_VARIABLES = [
  "HTTP_PROXY",
  "http_proxy",
  "HTTPS_PROXY",
  "https_proxy",
  "FTP_PROXY",
  "ftp_proxy",
  "NO_PROXY",
  "no_proxy",
  "ALL_PROXY",
  "all_proxy",
];
const EXCLUDED = "SC1090,SC1091,SC2187";
const CONCURRENCY = 4;

export async function findShellcheck(
  searchPath: string | undefined,
  options: { signal?: AbortSignal; timeoutMs: number },
): Promise<ShellcheckTool | null> {
  const found = await which("shellcheck", searchPath);
  if (!found) return null;
  const version = await runCommand(found, ["--version"], {
    env: { PATH: searchPath ?? "", LC_ALL: "C.UTF-8" },
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { path: found, version: /^version:\s*(\S+)/m.exec(version.stdout)?.[1] ?? null };
}

export async function shellcheckScripts(
  model: DockerfileModel,
  scripts: RunScript[],
  tool: ShellcheckTool,
  options: { env: NodeJS.ProcessEnv; signal?: AbortSignal; timeoutMs: () => number },
): Promise<DockerfileLint> {
  const results: { lint: ScriptLint; comments: DockerShellcheckComment[] }[] = new Array(scripts.length);
  let next = 0;
  const worker = async () => {
    while (next < scripts.length) {
      const index = next++;
      results[index] = await lintScript(model, scripts[index]!, tool, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, scripts.length) }, worker));
  return {
    scripts: results.map((r) => r.lint),
    comments: results.flatMap((r) => r.comments).sort((a, b) => a.line - b.line || a.column - b.column),
  };
}

async function lintScript(
  model: DockerfileModel,
  script: RunScript,
  tool: ShellcheckTool,
  options: { env: NodeJS.ProcessEnv; signal?: AbortSignal; timeoutMs: () => number },
): Promise<{ lint: ScriptLint; comments: DockerShellcheckComment[] }> {
  const base = { instructionLine: script.instructionLine, shell: script.shell };
  const dialect = DIALECTS[script.shell];
  if (!dialect) {
    return {
      lint: { ...base, state: "skipped", reason: `runs ${script.shell}, which ShellCheck does not read` },
      comments: [],
    };
  }
  // One line of exports before the script: its comments are dropped and every other line shifts by one.
  const input = `export ${
    knownVariables(model, script)
      .map((v) => `${v}=1`)
      .join(" ") || "PATH"
  }\n${script.text}`;
  const result = await runCommand(tool.path, ["-s", dialect, "-f", "json1", "-e", EXCLUDED, "-"], {
    input,
    env: options.env,
    timeoutMs: options.timeoutMs(),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let parsed: {
    comments: {
      line: number;
      column: number;
      endLine: number;
      endColumn: number;
      level: ShellcheckLevel;
      code: number;
      message: string;
    }[];
  } | null = null;
  if (result.exitCode === 0 || result.exitCode === 1) {
    try {
      parsed = JSON.parse(result.stdout);
    } catch {
      parsed = null;
    }
  }
  if (!parsed) {
    const why =
      result.spawnError?.code ?? (result.timedOut ? "timed out" : `exit ${result.exitCode ?? result.signal}`);
    return { lint: { ...base, state: "failed", reason: `shellcheck gave no report (${why})` }, comments: [] };
  }
  const comments = parsed.comments
    .filter((c) => c.line > 1)
    .map((c) => {
      const start = dockerfilePosition(script, c.line - 1, c.column);
      const end = dockerfilePosition(script, c.endLine - 1, c.endColumn);
      return {
        ...start,
        endLine: end.line,
        endColumn: end.column,
        instructionLine: script.instructionLine,
        level: c.level,
        code: `SC${c.code}`,
        message: c.message,
      };
    });
  return { lint: { ...base, state: "linted" }, comments };
}

/** The ARG and ENV names set before this RUN in its stage (and the stages it builds on), plus Docker's proxy ARGs. */
function knownVariables(model: DockerfileModel, script: RunScript): string[] {
  const names = new Set(DEFAULT_VARIABLES);
  for (const ins of chainInstructions(model, script.stage)) {
    if (ins.line >= script.instructionLine) break;
    if (ins.keyword === "ARG" || ins.keyword === "ENV") for (const p of ins.properties) names.add(p.name);
  }
  return [...names].filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
}
