// Is the system's code free of the patterns that turn input into an attack — code or shell commands built from
// strings, SQL concatenated with values, unsafe deserialization, TLS verification switched off, debug servers, a bind
// to every interface where the service is internal? A rule pack on ast-grep (src/engines/sast/rules.ts) reads the
// JavaScript, TypeScript and Python sources under security.scan.paths; bandit adds its Python tests when installed.
//
// How findings are judged (docs/checks.md, "codeFreeOfDangerousPatterns"):
// - a rule of severity high is a FAIL, medium a WARN, low only counted (listed in the evidence);
// - `bind-all-interfaces` is a WARN only where the code may serve an `exposure: internal` service (a public one must
//   listen beyond loopback); the file is mapped to a service by its `control.process` cwd and command;
// - test code (test/, tests/, __tests__/, *.test.*, *.spec.*, test_*.py, *_test.py, conftest.py) is scanned and its
//   matches kept in the evidence, but it is not judged: it does not run in production (as semgrep's and gosec's
//   defaults);
// - `// gauntlet-ignore: <rule>[,<rule>…] <reason>` (`#` in Python) on the line or alone on the line above silences
//   a rule there; one without a reason, or naming no rule of the pack, is a WARN of its own. Python's `# nosec`
//   (bandit's) is honoured as well;
// - bandit: a result of a test one of the pack's rules covers is merged into that rule's finding at the same line, or,
//   where the rule judged the code safe (a literal argument), kept in the evidence; other tests are findings:
//   HIGH severity with HIGH confidence = FAIL, at least MEDIUM of both = WARN, the rest counted. Not installed = said
//   so, never a failure: the pack's verdict stands on its own.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { type CheckContext, defineCheck, type FindingInput, type Measurement } from "../../core/types.js";
import { toPosix } from "../../engines/files/glob.js";
import { type BanditResult, type BanditRun, runBandit } from "../../engines/sast/bandit.js";
import { RULES_BY_ID, SAST_RULES, type SastLanguage, type Severity } from "../../engines/sast/rules.js";
import {
  coveringSuppression,
  type RuleMatch,
  type SuppressionComment,
  scanFiles,
  unknownRules,
} from "../../engines/sast/scan.js";
import {
  builtFromText,
  listSourceFiles,
  type SkipReason,
  type SourceFile,
} from "../../engines/sast/sourceFiles.js";
import { which } from "../../engines/shell/run.js";
import { isDatastoreKind } from "../../spec/kinds.js";
import type { Spec } from "../../spec/schema.js";

const MAX_FILE_BYTES = 1024 * 1024;
/** Files per ast-grep call: between two, the scan can be cancelled and what was found so far is kept. */
const BATCH_FILES = 400;
const READ_CONCURRENCY = 32;
const BANDIT_MAX_MS = 120_000;
/** Time kept for judging and writing evidence after bandit. */
const RESERVE_MS = 3_000;

export interface ObservedMatch extends RuleMatch {
  path: string;
  test: boolean;
}

export interface ObservedSuppression extends SuppressionComment {
  path: string;
  test: boolean;
}

export interface ObservedBandit extends Omit<BanditRun, "results"> {
  results: (BanditResult & { test: boolean })[];
}

export interface LanguageTally {
  files: number;
  lines: number;
  testFiles: number;
}

export interface DangerousPatternsObservation {
  /** system.repo relative to the spec's folder; finding paths are relative to it. */
  repo: string;
  /** The spec's folder relative to the repo, to place services' control.process cwd. */
  specDirInRepo: string;
  roots: { path: string; found: boolean }[];
  languages: Partial<Record<SastLanguage, LanguageTally>>;
  /** Source files in languages the pack has no rules for. */
  unsupported: Record<string, number>;
  skipped: Partial<Record<SkipReason, number>>;
  parseErrors: { files: number; first: { path: string; line: number; column: number }[] };
  matches: ObservedMatch[];
  suppressions: ObservedSuppression[];
  bandit: ObservedBandit;
  /** False when the scan was stopped before every file was read (a partial observation). */
  complete: boolean;
  durationMs: number;
  evidence: string[];
}

const RULE_MESSAGES = Object.fromEntries(SAST_RULES.map((r) => [r.id, `${r.title} (${r.cwe})`]));

export default defineCheck<DangerousPatternsObservation>({
  meta: {
    id: "codeFreeOfDangerousPatterns",
    category: "security",
    risk: "medium",
    destructive: false,
    title: "Code is free of dangerous patterns",
    objective:
      "The JavaScript, TypeScript and Python sources hold no code or shell command built from strings, no SQL concatenated with values, no unsafe deserialization, no disabled TLS verification, no debug server and no bind to every interface for an internal service.",
    remediation: {
      effort: "medium",
      text: "At {{file}}:{{line}} ({{rule}}): {{fix}}. If the code is safe as written, say why on that line: `// gauntlet-ignore: {{rule}} <reason>` (`#` in Python).",
    },
    messages: {
      ...RULE_MESSAGES,
      banditFinding: "bandit reports a problem none of the pack's rules covers",
      suppressionWithoutReason: "a gauntlet-ignore comment gives no reason",
      suppressionUnknownRule: "a gauntlet-ignore comment names no rule of the pack (a typo silences nothing)",
      noDangerousPatterns: "the sources were scanned and no rule matched outside test code",
      unsupportedLanguagesOnly: "the sources are in languages the rule pack does not cover",
      noSourceCode: "the scanned paths hold no source code",
      scanPathMissing: "a security.scan.paths entry does not exist",
      scanIncomplete: "the scan stopped before every file was read",
    },
    timeoutMs: 180_000,
  },

  // DESIGN principle 8: a repository is always scanned; what it holds decides the verdict.
  applies: () => true,

  observe: observeDangerousPatterns,

  judge: judgeDangerousPatterns,
});

async function observeDangerousPatterns(ctx: CheckContext): Promise<DangerousPatternsObservation> {
  const started = Date.now();
  const repoDir = path.resolve(ctx.specDir, ctx.spec.system.repo);
  const scan = ctx.spec.security?.scan;
  const inventory = await listSourceFiles({
    repoDir,
    paths: scan?.paths ?? ["."],
    exclude: scan?.exclude ?? [],
    maxFileBytes: MAX_FILE_BYTES,
    signal: ctx.signal,
  });
  const observation: DangerousPatternsObservation = {
    repo: toPosix(path.relative(ctx.specDir, repoDir)) || ".",
    specDirInRepo: toPosix(path.relative(repoDir, ctx.specDir)) || ".",
    roots: inventory.roots,
    languages: {},
    unsupported: inventory.unsupported,
    skipped: { ...inventory.skipped },
    parseErrors: { files: 0, first: [] },
    matches: [],
    suppressions: [],
    bandit: { status: "noPythonFiles", files: 0, results: [], errors: [], durationMs: 0, exitCodes: [] },
    complete: false,
    durationMs: 0,
    evidence: [],
  };
  ctx.keepPartial(observation);

  const scanned: SourceFile[] = [];
  const perFile: { path: string; language: SastLanguage; lines: number; test: boolean }[] = [];
  for (let i = 0; i < inventory.files.length; i += BATCH_FILES) {
    ctx.signal.throwIfAborted();
    const batch = await readBatch(inventory.files.slice(i, i + BATCH_FILES));
    const inputs = batch.filter((b) => {
      if (b.skip) observation.skipped[b.skip] = (observation.skipped[b.skip] ?? 0) + 1;
      return !b.skip;
    });
    const results = await scanFiles(inputs.map((b) => b.input!));
    for (const { file } of inputs) {
      const result = results.get(file.absolute)!;
      scanned.push(file);
      perFile.push({ path: file.path, language: file.language, lines: result.lines, test: file.test });
      const tally = observation.languages[file.language] ?? { files: 0, lines: 0, testFiles: 0 };
      observation.languages[file.language] = tally;
      tally.files += 1;
      tally.lines += result.lines;
      if (file.test) tally.testFiles += 1;
      for (const m of result.matches) observation.matches.push({ ...m, path: file.path, test: file.test });
      for (const s of result.suppressions)
        observation.suppressions.push({ ...s, path: file.path, test: file.test });
      if (result.parseErrorCount > 0) {
        observation.parseErrors.files += 1;
        if (observation.parseErrors.first.length < 10) {
          const first = result.parseErrors[0]!;
          observation.parseErrors.first.push({ path: file.path, ...first });
        }
      }
    }
    ctx.keepPartial(observation);
  }

  // Every file is read: if the check is stopped while bandit runs, what the pack found stands and bandit is missing.
  const python = scanned.filter((f) => f.language === "python" && !f.test).map((f) => f.path);
  observation.complete = true;
  observation.bandit = {
    ...observation.bandit,
    status: "timedOut",
    message: "the check was stopped while bandit ran",
    files: python.length,
  };
  observation.durationMs = Date.now() - started;
  ctx.keepPartial(observation);
  observation.bandit = await observeBandit(ctx, repoDir, python, scanned);
  observation.durationMs = Date.now() - started;

  const banditEvidence =
    observation.bandit.status === "ran" || observation.bandit.status === "timedOut"
      ? [await ctx.evidence.writeJson("bandit.json", observation.bandit)]
      : [];
  const scanEvidence = await ctx.evidence.writeJson("sast-scan.json", {
    note: "paths are relative to system.repo; matches in test code and suppressed ones are listed but not judged; no source text is recorded",
    repo: observation.repo,
    roots: observation.roots,
    rules: SAST_RULES.map((r) => ({ id: r.id, severity: r.severity, cwe: r.cwe, bandit: r.bandit ?? [] })),
    languages: observation.languages,
    unsupported: observation.unsupported,
    skipped: observation.skipped,
    skippedExamples: inventory.skippedExamples,
    parseErrors: observation.parseErrors,
    matches: observation.matches,
    suppressions: observation.suppressions,
    bandit: {
      status: observation.bandit.status,
      message: observation.bandit.message,
      version: observation.bandit.version,
    },
    durationMs: observation.durationMs,
    files: perFile,
  });
  observation.evidence = [scanEvidence, ...banditEvidence];
  const total = scanned.length;
  ctx.log.info(
    `scanned ${total} source file(s) in ${observation.durationMs} ms: ${observation.matches.length} match(es), bandit ${observation.bandit.status}`,
  );
  return observation;
}

interface ReadFile {
  file: SourceFile;
  skip?: SkipReason;
  input?: { absolute: string; language: SastLanguage; source: string; utf8: boolean };
}

async function readBatch(files: readonly SourceFile[]): Promise<ReadFile[]> {
  const out: ReadFile[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) {
      const file = files[i]!;
      const bytes = await readFile(file.absolute).catch(() => null);
      if (!bytes) {
        out[i] = { file, skip: "unreadable" };
        continue;
      }
      const source = bytes.toString("utf8");
      const built = builtFromText(source);
      out[i] = built
        ? { file, skip: built }
        : { file, input: { absolute: file.absolute, language: file.language, source, utf8: isUtf8(bytes) } };
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, files.length) }, worker));
  return out;
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

async function observeBandit(
  ctx: CheckContext,
  repoDir: string,
  python: string[],
  scanned: readonly SourceFile[],
): Promise<ObservedBandit> {
  const none = (status: BanditRun["status"], message: string): ObservedBandit => ({
    status,
    message,
    files: python.length,
    results: [],
    errors: [],
    durationMs: 0,
    exitCodes: [],
  });
  if (python.length === 0) return none("noPythonFiles", "no Python file outside test code to give bandit");
  const searchPath = ctx.env.PATH ?? process.env.PATH;
  const executable = await which("bandit", searchPath);
  if (!executable) return none("notInstalled", "bandit is not installed (not on PATH), so it was not run");
  const timeoutMs = Math.min(BANDIT_MAX_MS, ctx.deadline - Date.now() - RESERVE_MS);
  if (timeoutMs < 2_000) return none("noTime", "no time was left for bandit within the check's limit");
  const run = await runBandit({
    executable,
    cwd: repoDir,
    files: python,
    env: { PATH: searchPath ?? "", LC_ALL: "C.UTF-8", HOME: process.env.HOME ?? "/" },
    timeoutMs,
    signal: ctx.signal,
    addSecret: (value) => ctx.secrets.add(value),
  });
  const test = new Set(scanned.filter((f) => f.test).map((f) => f.path));
  return { ...run, results: run.results.map((r) => ({ ...r, test: test.has(r.path) })) };
}

// --- judge --------------------------------------------------------------------------------------------------------

interface Tally {
  suppressed: number;
  inTests: number;
  lowSeverity: number;
  bindAllPublic: number;
  banditCovered: number;
  banditLow: number;
}

export function judgeDangerousPatterns(
  observation: DangerousPatternsObservation,
  spec: Spec,
): FindingInput[] {
  const evidence = observation.evidence;
  const findings: FindingInput[] = [];
  const tally: Tally = {
    suppressed: 0,
    inTests: 0,
    lowSeverity: 0,
    bindAllPublic: 0,
    banditCovered: 0,
    banditLow: 0,
  };

  for (const root of observation.roots.filter((r) => !r.found)) {
    findings.push({
      status: "UNVERIFIED",
      messageId: "scanPathMissing",
      subject: root.path,
      message: `security.scan.paths names ${root.path}, which does not exist under system.repo (${observation.repo})`,
      data: { path: root.path, repo: observation.repo },
      evidence,
      toVerify: `fix security.scan.paths: ${root.path} is relative to system.repo (${observation.repo}, itself relative to the spec's folder)`,
    });
  }

  const bySite = new Map<string, FindingInput>();
  for (const m of observation.matches) {
    const rule = RULES_BY_ID.get(m.rule);
    if (!rule) throw new Error(`the observation names rule ${m.rule}, which the pack does not have (a bug)`);
    if (m.suppressed) {
      tally.suppressed += 1;
      continue;
    }
    if (m.test) {
      tally.inTests += 1;
      continue;
    }
    let status = statusOf(rule.severity);
    let scope = "";
    if (rule.id === "bind-all-interfaces") {
      const internal = internalCandidates(observation, spec, m.path);
      if (internal.services.length === 0) {
        tally.bindAllPublic += 1;
        continue;
      }
      status = "WARN";
      scope = internal.owned
        ? `; ${internal.services.join(", ")} is exposure: internal`
        : `; the spec declares internal services (${internal.services.join(", ")}): if this code serves one, it is reachable from everywhere`;
    }
    if (!status) {
      tally.lowSeverity += 1;
      continue;
    }
    const finding: FindingInput = {
      status,
      messageId: rule.id,
      subject: m.path,
      location: { path: m.path, line: m.line, column: m.column },
      message: `${m.path}:${m.line}:${m.column}: ${rule.title}${m.what ? ` — ${m.what}` : ""} [${rule.cwe}]${scope}`,
      data: {
        file: m.path,
        line: m.line,
        column: m.column,
        rule: rule.id,
        severity: rule.severity,
        cwe: rule.cwe,
        fix: rule.fix,
        ...(m.what ? { what: m.what } : {}),
      },
      evidence,
    };
    bySite.set(`${m.path}:${m.line}:${rule.id}`, finding);
    findings.push(finding);
  }

  findings.push(...judgeBandit(observation, bySite, tally, evidence));
  findings.push(...judgeSuppressions(observation, evidence));

  const scannedFiles = Object.values(observation.languages).reduce((sum, t) => sum + (t?.files ?? 0), 0);
  const issues = findings.filter((f) => f.status === "FAIL" || f.status === "WARN").length;
  const measurements = measurementsOf(observation, tally, issues);
  const summary = summaryOf(observation, tally);

  if (!observation.complete) {
    findings.push({
      status: "UNVERIFIED",
      messageId: "scanIncomplete",
      subject: observation.repo,
      message: `the scan stopped after ${scannedFiles} file(s), before every file was read: ${summary}`,
      data: { repo: observation.repo, scannedFiles },
      evidence,
      measurements,
      toVerify:
        "narrow security.scan.paths or add security.scan.exclude entries so the scan ends within the check's time",
    });
    return findings;
  }
  if (scannedFiles === 0 && observation.roots.some((r) => r.found)) {
    const unsupported = Object.entries(observation.unsupported);
    if (unsupported.length > 0) {
      const list = unsupported.map(([lang, n]) => `${n} ${lang}`).join(", ");
      findings.push({
        status: "UNVERIFIED",
        messageId: "unsupportedLanguagesOnly",
        subject: observation.repo,
        message: `no JavaScript, TypeScript or Python source to scan; the sources are ${list} file(s), which the rule pack does not cover`,
        data: { repo: observation.repo, unsupported: observation.unsupported },
        evidence,
        measurements,
        toVerify: `scan the ${unsupported.map(([l]) => l).join(", ")} sources with a SAST tool for them (semgrep, gosec, SpotBugs, brakeman) — Gauntlet's pack covers JavaScript, TypeScript and Python only`,
      });
    } else {
      findings.push({
        status: "NA",
        messageId: "noSourceCode",
        subject: observation.repo,
        message: `the scanned paths (${observation.roots.map((r) => r.path).join(", ")}) hold no source code, so no code can hold a dangerous pattern${skippedNote(observation)}`,
        data: { repo: observation.repo },
        evidence,
      });
    }
    return findings;
  }
  if (issues === 0 && scannedFiles > 0) {
    findings.push({
      status: "PASS",
      messageId: "noDangerousPatterns",
      subject: observation.repo,
      message: `no dangerous pattern: ${summary}`,
      data: { repo: observation.repo, languages: observation.languages, bandit: observation.bandit.status },
      evidence,
      measurements,
    });
  } else if (issues > 0) {
    // What was scanned rides on the first problem (reports show a finding's measurements beside it).
    const first = findings.find((f) => f.status === "FAIL" || f.status === "WARN")!;
    first.measurements = measurements;
  }
  return findings;
}

function statusOf(severity: Severity): "FAIL" | "WARN" | null {
  return severity === "high" ? "FAIL" : severity === "medium" ? "WARN" : null;
}

/**
 * The internal services (not datastores: their code is not in the repo) this file may belong to: the service whose
 * control.process command runs it, else those whose cwd holds it most closely, else — owner unknown — every internal
 * service of the spec.
 */
function internalCandidates(
  observation: DangerousPatternsObservation,
  spec: Spec,
  file: string,
): { services: string[]; owned: boolean } {
  const services = Object.entries(spec.services).filter(([, s]) => !isDatastoreKind(s.kind));
  const internal = (names: string[]) =>
    names.filter((n) => spec.services[n]?.exposure === "internal").sort((a, b) => a.localeCompare(b));
  const inRepo = (relativeToSpec: string) =>
    path.posix.normalize(path.posix.join(observation.specDirInRepo, relativeToSpec));
  const runs: string[] = [];
  let deepest = -1;
  let holders: string[] = [];
  for (const [name, service] of services) {
    const process = service.control?.process;
    if (!process) continue;
    const cwd = inRepo(process.cwd ?? ".");
    const tokens = process.command.split(/\s+/).filter(Boolean);
    if (tokens.some((t) => path.posix.normalize(path.posix.join(cwd, t)) === file)) runs.push(name);
    const inside = cwd === "." || file.startsWith(`${cwd}/`);
    if (!inside) continue;
    const depth = cwd === "." ? 0 : cwd.split("/").length;
    if (depth > deepest) {
      deepest = depth;
      holders = [name];
    } else if (depth === deepest) holders.push(name);
  }
  if (runs.length > 0) return { services: internal(runs), owned: true };
  if (holders.length > 0 && deepest > 0) return { services: internal(holders), owned: holders.length === 1 };
  return { services: internal(services.map(([n]) => n)), owned: false };
}

function judgeBandit(
  observation: DangerousPatternsObservation,
  bySite: Map<string, FindingInput>,
  tally: Tally,
  evidence: string[],
): FindingInput[] {
  const findings: FindingInput[] = [];
  const coveredBy = new Map<string, string>();
  for (const rule of SAST_RULES) for (const id of rule.bandit ?? []) coveredBy.set(id, rule.id);
  const suppressions = new Map<string, ObservedSuppression[]>();
  for (const s of observation.suppressions)
    suppressions.set(s.path, [...(suppressions.get(s.path) ?? []), s]);

  for (const r of observation.bandit.results) {
    if (r.test) continue;
    const lines = r.lineRange.length > 0 ? r.lineRange : [r.line];
    const [first, last] = [Math.min(r.line, ...lines), Math.max(r.line, ...lines)];
    const rule = coveredBy.get(r.testId);
    if (rule) {
      const merged = [...bySite.entries()].find(([, f]) => {
        const data = f.data as { file: string; line: number; rule: string };
        return data.file === r.path && data.rule === rule && data.line >= first && data.line <= last;
      });
      if (merged) {
        const data = merged[1].data as Record<string, unknown>;
        data.bandit = [...((data.bandit as string[] | undefined) ?? []), r.testId];
      } else tally.banditCovered += 1;
      continue;
    }
    if (coveringSuppression(suppressions.get(r.path) ?? [], r.testId, first, last)) {
      tally.suppressed += 1;
      continue;
    }
    const rank = { HIGH: 3, MEDIUM: 2, LOW: 1, UNDEFINED: 0 } as const;
    const status =
      r.severity === "HIGH" && r.confidence === "HIGH"
        ? "FAIL"
        : rank[r.severity] >= 2 && rank[r.confidence] >= 2
          ? "WARN"
          : null;
    if (!status) {
      tally.banditLow += 1;
      continue;
    }
    const fix = r.moreInfo ? `see ${r.moreInfo}` : `see bandit's documentation of ${r.testId}`;
    findings.push({
      status,
      messageId: "banditFinding",
      subject: r.path,
      location: { path: r.path, line: r.line, ...(r.column ? { column: r.column } : {}) },
      message: `${r.path}:${r.line}: bandit ${r.testId} (${r.testName}, severity ${r.severity}, confidence ${r.confidence}): ${r.text}`,
      data: {
        file: r.path,
        line: r.line,
        rule: r.testId,
        severity: r.severity,
        confidence: r.confidence,
        fix,
        ...(r.cwe ? { cwe: r.cwe } : {}),
      },
      evidence,
    });
  }
  return findings;
}

function judgeSuppressions(observation: DangerousPatternsObservation, evidence: string[]): FindingInput[] {
  const findings: FindingInput[] = [];
  for (const s of observation.suppressions) {
    if (s.by !== "gauntlet-ignore" || s.test) continue;
    const where = `${s.path}:${s.line}:${s.column}`;
    const common = {
      status: "WARN" as const,
      subject: s.path,
      location: { path: s.path, line: s.line, column: s.column },
      evidence,
    };
    const unknown = unknownRules(s);
    if (s.rules.length === 0 || unknown.length > 0) {
      findings.push({
        ...common,
        messageId: "suppressionUnknownRule",
        message: `${where}: gauntlet-ignore names ${unknown.length > 0 ? unknown.join(", ") : "no rule"}, which is no rule of the pack: it silences nothing`,
        data: {
          file: s.path,
          line: s.line,
          rule: unknown.join(",") || "(none)",
          fix: `name one of the pack's rules (${SAST_RULES.map((r) => r.id).join(", ")}) or a bandit test id, then the reason`,
        },
      });
      continue;
    }
    if (!s.reason) {
      findings.push({
        ...common,
        messageId: "suppressionWithoutReason",
        message: `${where}: gauntlet-ignore: ${s.rules.join(",")} gives no reason`,
        data: {
          file: s.path,
          line: s.line,
          rule: s.rules.join(","),
          fix: "write why the code is safe after the rule id, so the next reader can judge it",
        },
      });
    }
  }
  return findings;
}

const LANGUAGE_NAMES: Record<SastLanguage, string> = {
  javascript: "JavaScript",
  typescript: "TypeScript",
  tsx: "TSX",
  python: "Python",
};

function summaryOf(observation: DangerousPatternsObservation, tally: Tally): string {
  const languages = Object.entries(observation.languages)
    .map(([lang, t]) => `${t!.files} ${LANGUAGE_NAMES[lang as SastLanguage]} file(s), ${t!.lines} lines`)
    .join("; ");
  const parts = [languages || "no file scanned"];
  const notes: string[] = [];
  if (tally.suppressed > 0) notes.push(`${tally.suppressed} suppressed`);
  if (tally.inTests > 0) notes.push(`${tally.inTests} in test code`);
  if (tally.bindAllPublic > 0)
    notes.push(`${tally.bindAllPublic} bind(s) to every interface in public services' code`);
  if (tally.lowSeverity + tally.banditLow > 0)
    notes.push(`${tally.lowSeverity + tally.banditLow} low severity`);
  if (tally.banditCovered > 0) notes.push(`${tally.banditCovered} bandit result(s) the pack judged safe`);
  if (notes.length > 0) parts.push(`not judged (listed in the evidence): ${notes.join(", ")}`);
  if (observation.parseErrors.files > 0)
    parts.push(`${observation.parseErrors.files} file(s) with syntax the parser had to recover from`);
  const unsupported = Object.entries(observation.unsupported);
  if (unsupported.length > 0)
    parts.push(
      `not covered by the pack: ${unsupported.map(([lang, n]) => `${n} ${lang} file(s)`).join(", ")}`,
    );
  parts.push(banditNote(observation.bandit));
  return parts.join("; ") + skippedNote(observation);
}

function banditNote(bandit: ObservedBandit): string {
  switch (bandit.status) {
    case "ran":
      return `bandit ${bandit.version ?? ""} ran on ${bandit.files} Python file(s): ${bandit.results.length} result(s)`.replace(
        "  ",
        " ",
      );
    case "noPythonFiles":
      return "bandit: no Python file to run it on";
    default:
      return `bandit was not run: ${bandit.message ?? bandit.status}`;
  }
}

function skippedNote(observation: DangerousPatternsObservation): string {
  const skipped = Object.entries(observation.skipped).filter(([, n]) => (n ?? 0) > 0);
  if (skipped.length === 0) return "";
  return ` (left out: ${skipped.map(([reason, n]) => `${reason} ${n}`).join(", ")})`;
}

function measurementsOf(
  observation: DangerousPatternsObservation,
  tally: Tally,
  issues: number,
): Measurement[] {
  const ev = observation.evidence[0] ? { evidence: observation.evidence[0] } : {};
  const files = Object.values(observation.languages).reduce((sum, t) => sum + (t?.files ?? 0), 0);
  const lines = Object.values(observation.languages).reduce((sum, t) => sum + (t?.lines ?? 0), 0);
  return [
    { name: "filesScanned", value: files, unit: "files", ...ev },
    { name: "linesScanned", value: lines, unit: "lines", ...ev },
    { name: "findings", value: issues, unit: "findings", ...ev },
    { name: "suppressed", value: tally.suppressed, unit: "matches", ...ev },
    { name: "scanDuration", value: observation.durationMs, unit: "ms", ...ev },
  ];
}
