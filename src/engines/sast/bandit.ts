// bandit (PyCQA's Python SAST), run when it is installed: all its tests at every severity, JSON out, on the Python
// files the scan chose (never a recursive walk of its own, which would read what the scan leaves out). Its results
// are kept without the source excerpts bandit adds (`code`), which could hold a secret, and a hard-coded password it
// quotes is masked and handed to the run's redactor.
import { runCommand } from "../shell/run.js";

export type BanditLevel = "LOW" | "MEDIUM" | "HIGH" | "UNDEFINED";

export interface BanditResult {
  testId: string;
  testName: string;
  /** Relative to the repo, as given to bandit. */
  path: string;
  line: number;
  lineRange: number[];
  column?: number;
  severity: BanditLevel;
  confidence: BanditLevel;
  /** bandit's text, quoted values of password tests masked. */
  text: string;
  moreInfo?: string;
  cwe?: string;
}

export interface BanditRun {
  status: "ran" | "notInstalled" | "noPythonFiles" | "failed" | "timedOut" | "noTime";
  /** Why it did not run or what went wrong, in a sentence. */
  message?: string;
  version?: string;
  files: number;
  results: BanditResult[];
  /** Files bandit could not parse (Python 2, syntax errors). */
  errors: { path: string; reason: string }[];
  /** `# nosec` comments bandit honoured. */
  nosec?: number;
  durationMs: number;
  exitCodes: (number | null)[];
}

/** bandit's tests that report a hard-coded password, quoting it in the text. */
const PASSWORD_TESTS = new Set(["B105", "B106", "B107"]);
const BATCH = 1_000;

export interface BanditOptions {
  executable: string;
  cwd: string;
  /** Paths relative to cwd. */
  files: readonly string[];
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal: AbortSignal;
  /** Where a quoted password is registered before anything is kept. */
  addSecret: (value: string) => void;
}

export async function runBandit(options: BanditOptions): Promise<BanditRun> {
  const started = Date.now();
  const run: BanditRun = {
    status: "ran",
    files: options.files.length,
    results: [],
    errors: [],
    durationMs: 0,
    exitCodes: [],
  };
  const version = await runCommand(options.executable, ["--version"], {
    env: options.env,
    timeoutMs: Math.min(10_000, options.timeoutMs),
    signal: options.signal,
  });
  const versionLine = /^bandit\s+(\S+)/m.exec(version.stdout)?.[1];
  if (versionLine) run.version = versionLine;
  let nosec = 0;
  for (let i = 0; i < options.files.length; i += BATCH) {
    const left = options.timeoutMs - (Date.now() - started);
    if (left < 1_000)
      return finish(
        run,
        started,
        "timedOut",
        `bandit ran out of time after ${i} of ${options.files.length} files`,
      );
    const batch = options.files.slice(i, i + BATCH);
    // `--` so a file named like an option stays a file.
    const result = await runCommand(options.executable, ["-f", "json", "-q", "--", ...batch], {
      cwd: options.cwd,
      env: options.env,
      timeoutMs: left,
      signal: options.signal,
      maxOutputBytes: 64 * 1024 * 1024,
    });
    run.exitCodes.push(result.exitCode);
    if (result.timedOut) {
      return finish(run, started, "timedOut", `bandit did not finish within ${Math.round(left / 1000)} s`);
    }
    if (result.spawnError)
      return finish(run, started, "failed", `bandit could not start: ${result.spawnError.message}`);
    const parsed = parseBanditJson(result.stdout, options.addSecret);
    if (!parsed) {
      const why = result.stderr.trim().split("\n").at(-1) ?? "";
      return finish(
        run,
        started,
        "failed",
        `bandit exited ${result.exitCode} without a JSON report${why ? `: ${why}` : ""}`,
      );
    }
    run.results.push(...parsed.results);
    run.errors.push(...parsed.errors);
    nosec += parsed.nosec;
  }
  run.nosec = nosec;
  return finish(run, started, "ran");
}

function finish(run: BanditRun, started: number, status: BanditRun["status"], message?: string): BanditRun {
  run.status = status;
  if (message) run.message = message;
  run.durationMs = Date.now() - started;
  return run;
}

/** bandit's JSON report, or null when the text is not one. */
export function parseBanditJson(
  text: string,
  addSecret: (value: string) => void,
): { results: BanditResult[]; errors: { path: string; reason: string }[]; nosec: number } | null {
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch {
    return null;
  }
  if (!report || typeof report !== "object" || !Array.isArray((report as { results?: unknown }).results))
    return null;
  const {
    results = [],
    errors = [],
    metrics,
  } = report as {
    results?: Record<string, unknown>[];
    errors?: Record<string, unknown>[];
    metrics?: { _totals?: { nosec?: number } };
  };
  return {
    results: results.map((r) => resultOf(r, addSecret)),
    errors: errors.map((e) => ({ path: String(e.filename ?? ""), reason: String(e.reason ?? "") })),
    nosec: Number(metrics?._totals?.nosec ?? 0),
  };
}

function resultOf(r: Record<string, unknown>, addSecret: (value: string) => void): BanditResult {
  const testId = String(r.test_id ?? "");
  const line = Number(r.line_number ?? 0);
  const lineRange = Array.isArray(r.line_range) ? r.line_range.map(Number).filter(Number.isFinite) : [line];
  const cwe = (r.issue_cwe as { id?: number } | undefined)?.id;
  return {
    testId,
    testName: String(r.test_name ?? ""),
    path: String(r.filename ?? "").replace(/^\.\//, ""),
    line,
    lineRange: lineRange.length > 0 ? lineRange : [line],
    ...(typeof r.col_offset === "number" ? { column: r.col_offset + 1 } : {}),
    severity: level(r.issue_severity),
    confidence: level(r.issue_confidence),
    text: PASSWORD_TESTS.has(testId)
      ? maskQuoted(String(r.issue_text ?? ""), addSecret)
      : String(r.issue_text ?? ""),
    ...(typeof r.more_info === "string" ? { moreInfo: r.more_info } : {}),
    ...(cwe ? { cwe: `CWE-${cwe}` } : {}),
  };
}

function level(value: unknown): BanditLevel {
  return value === "LOW" || value === "MEDIUM" || value === "HIGH" ? value : "UNDEFINED";
}

/** 'hunter2' → '…' and a long value → '…abcd': at most four characters of a quoted secret are shown. */
export function maskQuoted(text: string, addSecret: (value: string) => void): string {
  return text.replace(/'([^'\n]{1,512})'/g, (_, value: string) => {
    addSecret(value);
    return `'${value.length >= 16 ? `…${value.slice(-4)}` : "…"}'`;
  });
}
