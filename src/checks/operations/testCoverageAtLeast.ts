// Do the tests cover at least the declared share of the code, according to a report a real test run wrote, and is
// that report newer than the code? The report (lcov, Cobertura, JaCoCo, Istanbul JSON, Go coverprofile) is read by
// src/engines/coverage/; its age is compared with the last commit of system.repo. 6 % against 80 % is a FAIL whatever
// else the report says, and a report older than the code it measures is a WARN.
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { defineCheck, type FindingInput, type Measurement } from "../../core/types.js";
import { type GitTimes, gitTimes } from "../../engines/coverage/gitTimes.js";
import {
  type Counts,
  type CoverageFormat,
  type CoverageReport,
  FORMAT_NAMES,
  percentOf,
} from "../../engines/coverage/model.js";
import { type ReadFailure, readCoverageReport } from "../../engines/coverage/report.js";
import { isDatastore } from "../../spec/kinds.js";

/** Files whose presence in system.repo (or one folder below it) says the system has code of its own. */
const MANIFESTS = new Set([
  "package.json",
  "deno.json",
  "go.mod",
  "pyproject.toml",
  "setup.py",
  "setup.cfg",
  "requirements.txt",
  "Pipfile",
  "Cargo.toml",
  "pom.xml",
  "build.gradle",
  "build.gradle.kts",
  "Gemfile",
  "composer.json",
  "mix.exs",
  "CMakeLists.txt",
]);
const MANIFEST_SUFFIXES = [".csproj", ".fsproj", ".sln", ".gemspec", ".cabal"];
/** Where the common tools write their reports: named when none is declared, so the fix is one line. */
const WELL_KNOWN_REPORTS = [
  "coverage/lcov.info",
  "coverage/cobertura-coverage.xml",
  "coverage/coverage-summary.json",
  "coverage/coverage-final.json",
  "coverage.xml",
  "coverage.out",
  "cover.out",
  "lcov.info",
  "target/site/jacoco/jacoco.xml",
  "build/reports/jacoco/test/jacocoTestReport.xml",
];
const LOWEST_FILES = 10;

export interface FileFigure {
  file: string;
  valid: number;
  covered: number;
  percent: number;
}

export interface ReportFacts {
  /** operations.coverage.report as the spec writes it (relative to the spec's folder). */
  path: string;
  state: "ok" | ReadFailure;
  reason?: string;
  format?: CoverageFormat;
  line?: number;
  code?: string;
  bytes?: number;
  mtimeMs?: number;
  summary?: Pick<
    CoverageReport,
    "format" | "primary" | "lines" | "statements" | "branches" | "timestamp" | "notes"
  > & {
    files: number;
  };
  /** The least-covered files (by the primary figure), lowest first: evidence, not findings. */
  lowest?: FileFigure[];
}

export interface CoverageObservation {
  /** system.repo as the spec writes it. */
  repo: string;
  /** Why the system has code of its own: services Gauntlet runs, and project manifests in the repository. */
  code: { services: string[]; manifests: string[] };
  /** null when operations.coverage is not declared. */
  report: ReportFacts | null;
  /** Reports found at well-known paths, named when none is declared. */
  candidates: string[];
  git: GitTimes | { state: "notChecked" };
  evidence: string[];
}

export default defineCheck<CoverageObservation>({
  meta: {
    id: "testCoverageAtLeast",
    category: "operations",
    risk: "high",
    destructive: false,
    title: "Test coverage meets its minimum",
    objective:
      "A coverage report written by a real test run (lcov, Cobertura, JaCoCo, Istanbul, Go coverprofile) shows line coverage (and branch coverage, when operations.coverage.branchMinimum is set) at or above operations.coverage.minimum, and is newer than the last commit.",
    remediation: {
      effort: "high",
      text: "Make {{subject}} come from a real test run of the current code (node --test --experimental-test-coverage --test-reporter=lcov, c8/nyc/Jest/Vitest, coverage.py, go test -coverprofile, JaCoCo) in the same pipeline that runs Gauntlet, declare it as operations.coverage { report, minimum }, and add tests for the least-covered files the evidence lists until the minimum is met.",
    },
    messages: {
      noCode:
        "the system has no code of its own (no service Gauntlet runs, no project manifest in system.repo)",
      notDeclared: "the system has code but operations.coverage declares no coverage report",
      reportMissing: "the declared coverage report does not exist (or is a folder)",
      reportUnreadable: "the declared coverage report exists but cannot be read (permissions, I/O, size)",
      reportEmpty: "the declared coverage report is empty",
      reportCorrupt: "the declared coverage report is in a known format but broken (truncated, malformed)",
      formatUnknown: "the declared coverage report is in a format Gauntlet does not read",
      noLines: "the report measures no line: it shows no test ran against any code",
      atLeastMinimum: "line coverage is at or above operations.coverage.minimum",
      belowMinimum: "line coverage is below operations.coverage.minimum",
      branchesAtLeastMinimum: "branch coverage is at or above operations.coverage.branchMinimum",
      branchesBelowMinimum: "branch coverage is below operations.coverage.branchMinimum",
      branchesNotMeasured: "branchMinimum is set but the report counts no branch",
      stale: "the report is older than the last commit: it measured older code",
    },
    timeoutMs: 60_000,
  },

  // Principle 8: whether a system is tested is a question about its code, not about the spec, so the check always
  // runs; observe() finds whether there is code (a service Gauntlet runs, a manifest in system.repo) and judge()
  // says N/A only when there is none — an undeclared report on a system with code is a FAIL.
  applies: () => true,

  async observe(ctx) {
    const repoDir = path.resolve(ctx.specDir, ctx.spec.system.repo);
    const declared = ctx.spec.operations?.coverage;
    const code = {
      // A datastore Gauntlet starts (redis-server, postgres) is someone else's code; an HTTP service it runs is ours.
      services: Object.entries(ctx.spec.services)
        .filter(([name, s]) => s.control?.process && !isDatastore(ctx.spec, name))
        .map(([name]) => name),
      manifests: await manifestsIn(repoDir),
    };
    const observation: CoverageObservation = {
      repo: ctx.spec.system.repo,
      code,
      report: null,
      candidates: [],
      git: { state: "notChecked" },
      evidence: [],
    };
    let reportFile: string | null = null;
    if (declared) {
      reportFile = path.resolve(ctx.specDir, declared.report);
      observation.report = await reportFacts(reportFile, declared.report);
    } else {
      observation.candidates = await candidatesIn(ctx.specDir, repoDir);
    }
    ctx.signal.throwIfAborted();
    if (observation.report?.state === "ok") {
      observation.git = await gitTimes(repoDir, reportFile, ctx.signal);
    }
    observation.evidence.push(await ctx.evidence.writeJson("coverage.json", observation));
    const summary = observation.report?.summary;
    ctx.log.info(
      summary
        ? `${observation.report!.path}: ${FORMAT_NAMES[summary.format]}, ${summary.files} file(s)`
        : `coverage report: ${observation.report ? observation.report.state : "not declared"}`,
    );
    return observation;
  },

  judge(observation, spec) {
    const { report } = observation;
    if (!report) return judgeUndeclared(observation);
    const evidence = observation.evidence;
    const subject = report.path;
    const base = { subject, location: { path: report.path }, evidence };
    const failure = judgeUnread(report, base);
    if (failure) return [failure];

    const summary = report.summary!;
    const counts = summary[summary.primary];
    const unit = summary.primary === "lines" ? "line" : "statement";
    const format = FORMAT_NAMES[summary.format];
    if (!counts || counts.valid === 0) {
      return [
        {
          ...base,
          status: "FAIL",
          messageId: "noLines",
          message: `${report.path} (${format}) measures no ${unit}${summary.files === 0 ? " and no file" : ` in its ${summary.files} file(s)`}: no test ran against any code, or the coverage settings leave all of it out`,
          data: { report: report.path, format: summary.format, files: summary.files },
          measurements: [{ name: "files", value: summary.files, unit: "count", evidence: evidence[0] }],
        },
      ];
    }
    const minimum = spec.operations?.coverage?.minimum ?? 80;
    const branchMinimum = spec.operations?.coverage?.branchMinimum;
    const measurements = measurementsOf(summary, unit, evidence[0]);
    const percent = percentOf(counts)!;
    const branchPercent = percentOf(summary.branches);
    const branchNote = branchPercent !== null ? `; branches ${branchPercent} %` : "";
    const made = reportTime(report, observation.git);
    const data = {
      report: report.path,
      format: summary.format,
      measured: summary.primary,
      percent,
      minimum,
      valid: counts.valid,
      covered: counts.covered,
      files: summary.files,
      branchPercent,
      // When the report was made, and what it was compared with (evidence only when there is no git history).
      reportAt: made ? iso(made.at) : null,
      reportTimeSource: made?.source ?? null,
      lastCommitAt: observation.git.state === "ok" ? iso(observation.git.lastCommitAt * 1000) : null,
      ageNotCompared: observation.git.state === "unavailable" ? observation.git.reason : null,
    };
    const findings: FindingInput[] = [];
    const met = counts.covered * 100 >= minimum * counts.valid;
    findings.push({
      ...base,
      status: met ? "PASS" : "FAIL",
      messageId: met ? "atLeastMinimum" : "belowMinimum",
      message: `${unit} coverage ${percent} % (${counts.covered} of ${counts.valid} ${unit}s, ${summary.files} file(s)${branchNote}) is ${met ? "at or above" : "below"} the ${minimum} % minimum (${format})${met ? "" : lowestNote(report.lowest)}${ageNote(observation.git)}`,
      data,
      measurements,
    });

    if (branchMinimum !== undefined)
      findings.push(judgeBranches(summary.branches, branchMinimum, base, format));
    const stale = staleness(observation, report);
    if (stale) findings.push({ ...base, ...stale, data: { ...stale.data, report: report.path } });
    return findings;
  },
});

async function manifestsIn(repoDir: string): Promise<string[]> {
  const found: string[] = [];
  const isManifest = (name: string) => MANIFESTS.has(name) || MANIFEST_SUFFIXES.some((s) => name.endsWith(s));
  const top = await readdir(repoDir, { withFileTypes: true }).catch(() => []);
  for (const entry of top) if (entry.isFile() && isManifest(entry.name)) found.push(entry.name);
  // One folder down covers monorepos (services/api/package.json) without walking a whole tree.
  for (const entry of top) {
    if (!entry.isDirectory() || entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const below = await readdir(path.join(repoDir, entry.name), { withFileTypes: true }).catch(() => []);
    for (const inner of below) {
      if (inner.isFile() && isManifest(inner.name)) found.push(`${entry.name}/${inner.name}`);
    }
  }
  return found.sort();
}

async function candidatesIn(specDir: string, repoDir: string): Promise<string[]> {
  const found = new Set<string>();
  for (const dir of new Set([specDir, repoDir])) {
    for (const candidate of WELL_KNOWN_REPORTS) {
      const file = path.join(dir, candidate);
      const info = await stat(file).catch(() => null);
      if (info?.isFile() && info.size > 0) found.add(path.relative(specDir, file).split(path.sep).join("/"));
    }
  }
  return [...found].sort();
}

async function reportFacts(file: string, display: string): Promise<ReportFacts> {
  const read = await readCoverageReport(file);
  if (read.state !== "ok") {
    const { state, reason, format, line, code, bytes, mtimeMs } = read;
    return {
      path: display,
      state,
      reason,
      ...(format ? { format } : {}),
      ...(line !== undefined ? { line } : {}),
      ...(code ? { code } : {}),
      ...(bytes !== undefined ? { bytes } : {}),
      ...(mtimeMs !== undefined ? { mtimeMs: Math.round(mtimeMs) } : {}),
    };
  }
  const { report } = read;
  const lowest = report.files
    .map((f) => ({ file: f.file, counts: f[report.primary] }))
    .filter((f): f is { file: string; counts: Counts } => (f.counts?.valid ?? 0) > 0)
    .map(({ file, counts }) => ({ file, ...counts, percent: percentOf(counts)! }))
    .sort(
      (a, b) =>
        a.percent - b.percent || b.valid - b.covered - (a.valid - a.covered) || a.file.localeCompare(b.file),
    )
    .slice(0, LOWEST_FILES);
  return {
    path: display,
    state: "ok",
    format: report.format,
    bytes: read.bytes,
    mtimeMs: Math.round(read.mtimeMs),
    summary: {
      format: report.format,
      primary: report.primary,
      ...(report.lines ? { lines: report.lines } : {}),
      ...(report.statements ? { statements: report.statements } : {}),
      ...(report.branches ? { branches: report.branches } : {}),
      ...(report.timestamp !== undefined ? { timestamp: report.timestamp } : {}),
      notes: report.notes,
      files: report.files.length,
    },
    lowest,
  };
}

function judgeUndeclared(observation: CoverageObservation): FindingInput[] {
  const { code, evidence } = observation;
  if (code.services.length === 0 && code.manifests.length === 0) {
    return [
      {
        status: "NA",
        messageId: "noCode",
        subject: "operations.coverage",
        message: `no service runs under Gauntlet's control.process and ${observation.repo} holds no project manifest (package.json, go.mod, pyproject.toml, pom.xml, …): no code of this system to cover`,
        data: { repo: observation.repo },
        evidence,
      },
    ];
  }
  const why = [
    ...(code.services.length > 0 ? [`service(s) ${code.services.join(", ")} run from code`] : []),
    ...(code.manifests.length > 0
      ? [`system.repo (${observation.repo}) has ${code.manifests.slice(0, 3).join(", ")}`]
      : []),
  ].join(" and ");
  const found =
    observation.candidates.length > 0
      ? `; ${observation.candidates.join(", ")} exists: declare it as operations.coverage`
      : "";
  return [
    {
      status: "FAIL",
      messageId: "notDeclared",
      subject: "operations.coverage",
      message: `no coverage report declared (operations.coverage) although ${why}: nothing shows the code is tested${found}`,
      data: {
        repo: observation.repo,
        services: code.services,
        manifests: code.manifests,
        candidates: observation.candidates,
      },
      evidence,
    },
  ];
}

function judgeUnread(
  report: ReportFacts,
  base: Pick<FindingInput, "subject" | "location" | "evidence">,
): FindingInput | null {
  const data = { report: report.path, reason: report.reason, ...(report.code ? { code: report.code } : {}) };
  switch (report.state) {
    case "ok":
      return null;
    case "missing":
    case "notAFile":
      return {
        ...base,
        status: "FAIL",
        messageId: "reportMissing",
        message: `operations.coverage.report names ${report.path}, which ${report.state === "missing" ? "does not exist" : "is a folder, not a report file"}: no test run wrote it`,
        data,
      };
    case "unreadable":
    case "tooLarge":
      return {
        ...base,
        status: "UNVERIFIED",
        messageId: "reportUnreadable",
        message: `${report.path} ${report.reason}`,
        data,
        toVerify:
          report.state === "tooLarge"
            ? `give Gauntlet a summary report instead (Istanbul's json-summary reporter writes coverage-summary.json; lcov.info is smaller than coverage-final.json)`
            : `let the user running Gauntlet read ${report.path} (chmod a+r, or run Gauntlet as the user that wrote it)`,
      };
    case "empty":
      return {
        ...base,
        status: "FAIL",
        messageId: "reportEmpty",
        message: `${report.path} is empty: the test run that should write it wrote nothing (it may have crashed first)`,
        data,
      };
    case "unknownFormat":
      return {
        ...base,
        status: "UNVERIFIED",
        messageId: "formatUnknown",
        message: `${report.path} ${report.reason}`,
        data,
        toVerify:
          "write the report as lcov, Cobertura XML, JaCoCo XML, Istanbul coverage-summary.json / coverage-final.json or a Go coverprofile (most tools have one of these reporters) and point operations.coverage.report at it",
      };
    case "corrupt":
      return {
        ...base,
        ...(report.line !== undefined ? { location: { path: report.path, line: report.line } } : {}),
        status: "FAIL",
        messageId: "reportCorrupt",
        message: `${report.path}${report.line !== undefined ? `:${report.line}` : ""} is ${report.format ? `a broken ${FORMAT_NAMES[report.format]}` : "broken"}: ${(report.reason ?? "").replace(/^is /, "")} — run the tests again and let the coverage tool finish writing it`,
        data: { ...data, format: report.format, line: report.line },
      };
  }
}

function judgeBranches(
  branches: Counts | undefined,
  branchMinimum: number,
  base: Pick<FindingInput, "subject" | "location" | "evidence">,
  format: string,
): FindingInput {
  if (!branches || branches.valid === 0) {
    return {
      ...base,
      status: "UNVERIFIED",
      messageId: "branchesNotMeasured",
      message: `operations.coverage.branchMinimum is ${branchMinimum} % but ${base.subject} (${format}) counts no branch`,
      data: { report: base.subject, branchMinimum },
      toVerify:
        "write branch coverage into the report (coverage.py --branch, lcov --rc branch_coverage=1, Istanbul/c8/JaCoCo count branches by default; a Go coverprofile has none), or remove branchMinimum",
    };
  }
  const percent = percentOf(branches)!;
  const met = branches.covered * 100 >= branchMinimum * branches.valid;
  return {
    ...base,
    status: met ? "PASS" : "FAIL",
    messageId: met ? "branchesAtLeastMinimum" : "branchesBelowMinimum",
    message: `branch coverage ${percent} % (${branches.covered} of ${branches.valid} branches) is ${met ? "at or above" : "below"} the ${branchMinimum} % branch minimum`,
    data: {
      report: base.subject,
      branchPercent: percent,
      branchMinimum,
      valid: branches.valid,
      covered: branches.covered,
    },
    measurements: [
      {
        name: "branch coverage",
        value: percent,
        unit: "%",
        ...(base.evidence?.[0] ? { evidence: base.evidence[0] } : {}),
      },
    ],
  };
}

/** When the report was made, and from what: its own timestamp, the commit that last changed it, or its mtime. */
export function reportTime(
  report: ReportFacts,
  git: CoverageObservation["git"],
): { at: number; source: "timestamp" | "commit" | "mtime" } | null {
  if (report.summary?.timestamp !== undefined) return { at: report.summary.timestamp, source: "timestamp" };
  if (report.mtimeMs === undefined) return null;
  // A committed, unchanged report's mtime is when it was checked out; it was made no later than its commit.
  if (git.state === "ok" && git.report.tracked && !git.report.modified) {
    const committed = git.report.committedAt * 1000;
    return committed < report.mtimeMs
      ? { at: committed, source: "commit" }
      : { at: report.mtimeMs, source: "mtime" };
  }
  return { at: report.mtimeMs, source: "mtime" };
}

function staleness(
  observation: CoverageObservation,
  report: ReportFacts,
): Pick<FindingInput, "status" | "messageId" | "message" | "data"> | null {
  const { git } = observation;
  const made = reportTime(report, git);
  if (git.state !== "ok" || !made) return null;
  // Commit times are whole seconds: a report written in the same second as the commit is not older than it.
  if (Math.floor(made.at / 1000) >= git.lastCommitAt) return null;
  const source = {
    timestamp: "its own timestamp",
    commit: "the commit that last changed it",
    mtime: "its mtime",
  }[made.source];
  const hours = (git.lastCommitAt * 1000 - made.at) / 3_600_000;
  const gap =
    hours >= 48
      ? `${Math.round(hours / 24)} days`
      : hours >= 1
        ? `${Math.round(hours)} h`
        : hours * 60 >= 1
          ? `${Math.round(hours * 60)} min`
          : `${Math.max(1, Math.round(hours * 3600))} s`;
  return {
    status: "WARN",
    messageId: "stale",
    message: `${report.path} is stale: made ${iso(made.at)} (${source}), ${gap} before the last commit ${git.commit.slice(0, 12)} at ${iso(git.lastCommitAt * 1000)} — it measured older code; regenerate it from a test run of this revision`,
    data: {
      reportAt: iso(made.at),
      reportTimeSource: made.source,
      lastCommitAt: iso(git.lastCommitAt * 1000),
      commit: git.commit,
    },
  };
}

function measurementsOf(
  summary: NonNullable<ReportFacts["summary"]>,
  unit: string,
  evidence: string | undefined,
): Measurement[] {
  const ev = evidence ? { evidence } : {};
  const counts = summary[summary.primary]!;
  const measurements: Measurement[] = [
    { name: `${unit} coverage`, value: percentOf(counts)!, unit: "%", ...ev },
    { name: `${unit}s valid`, value: counts.valid, unit: "count", ...ev },
    { name: `${unit}s covered`, value: counts.covered, unit: "count", ...ev },
    { name: "files", value: summary.files, unit: "count", ...ev },
  ];
  const branchPercent = percentOf(summary.branches);
  if (branchPercent !== null) {
    measurements.push({ name: "branch coverage", value: branchPercent, unit: "%", ...ev });
  }
  return measurements;
}

// The files themselves are evidence (coverage.json), not findings: one finding per file would drown the verdict.
function lowestNote(lowest: FileFigure[] | undefined): string {
  return lowest && lowest.length > 0 ? `; the evidence lists the ${lowest.length} least-covered file(s)` : "";
}

function ageNote(git: CoverageObservation["git"]): string {
  return git.state === "unavailable" ? `; its age was not compared with the code (${git.reason})` : "";
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
