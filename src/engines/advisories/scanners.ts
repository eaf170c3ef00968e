// osv-scanner, Trivy and Grype, when installed: each is run once per scanned folder with JSON output, within the
// time the check has left, and its report is reduced to (file, package, version, advisory ids, severity, fixes) so
// that the check can merge it with its own verdict by advisory id. The JSON shapes read here are the tools'
// documented ones: osv-scanner `--format json` (results[].source|packageSource, packages[].package, vulnerabilities[]
// as full OSV, groups[].max_severity), Trivy `--format json` (SchemaVersion 2: Results[].Target/Type,
// Vulnerabilities[].VulnerabilityID/VendorIDs/PkgName/InstalledVersion/FixedVersion/Severity) and Grype `-o json`
// (matches[].vulnerability{id,severity,fix.versions}, relatedVulnerabilities[].id, artifact{name,version,type,
// locations[].path}).
import path from "node:path";
import { toPosix } from "../files/glob.js";
import { type RunResult, runCommand, which } from "../shell/run.js";
import { levelOfV3 } from "./cvss.js";
import { parseJson, TextError } from "./jsonText.js";
import { evaluateAffected, type Level, labelLevel, parseOsv, severityOf } from "./osv.js";
import { ECOSYSTEMS, type Ecosystem, normalizePypiName } from "./packages.js";

export const SCANNERS = ["osv-scanner", "trivy", "grype"] as const;
export type ScannerTool = (typeof SCANNERS)[number];

export interface ScannerFinding {
  /** The lockfile, relative to the repository, when the tool names it. */
  file?: string;
  /** OSV's name when the tool's package type maps to one, else the tool's own (`gem`, `maven`). */
  ecosystem: Ecosystem | string;
  name: string;
  version: string;
  /** The advisory id first, then its aliases and related ids. */
  ids: string[];
  level: Level;
  score?: number;
  /** Versions the tool says fix it. */
  fixed: string[];
  /** Set by the check when the lockfile, as Gauntlet read it, says the package is only for development. */
  dev?: boolean;
}

export interface ScannerRun {
  tool: ScannerTool;
  /** The scanned folder, relative to the repository. */
  root: string;
  status: "missing" | "ok" | "failed";
  executable?: string;
  version?: string;
  command?: string;
  exitCode?: number | null;
  timedOut?: boolean;
  durationMs?: number;
  /** Why the run did not give a verdict. */
  error?: string;
  findings: ScannerFinding[];
  /** Findings about files the walk leaves out (dependency folders, security.scan.exclude, .gitignore), dropped. */
  leftOut?: number;
  /** Evidence file holding the raw output. */
  evidence?: string;
}

const COMMANDS: Record<ScannerTool, (dir: string) => string[]> = {
  // -r: every lockfile below; the default (no subcommand) is `scan source` in osv-scanner 2.x and 1.x alike.
  "osv-scanner": (dir) => ["--format", "json", "-r", dir],
  trivy: (dir) => ["fs", "--scanners", "vuln", "--format", "json", "--quiet", dir],
  grype: (dir) => [`dir:${dir}`, "-o", "json", "-q"],
};
const VERSION_ARGS: Record<ScannerTool, string[]> = {
  "osv-scanner": ["--version"],
  trivy: ["--version"],
  grype: ["version"],
};
/** osv-scanner: 0 nothing found, 1 vulnerabilities found, 128 no packages found; the others always exit 0. */
const OK_EXIT: Record<ScannerTool, number[]> = { "osv-scanner": [0, 1, 128], trivy: [0], grype: [0] };
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export async function locateScanners(
  searchPath: string | undefined,
): Promise<Map<ScannerTool, string | null>> {
  const found = new Map<ScannerTool, string | null>();
  for (const tool of SCANNERS) found.set(tool, await which(tool, searchPath));
  return found;
}

export interface ScanOptions {
  repoDir: string;
  /** The folder to scan, absolute. */
  dir: string;
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Runs one installed tool on one folder; the raw result is returned for the evidence, the findings parsed. */
export async function runScanner(
  tool: ScannerTool,
  executable: string,
  options: ScanOptions,
): Promise<{ run: ScannerRun; raw: RunResult }> {
  const root = toPosix(path.relative(options.repoDir, options.dir)) || ".";
  const common = { env: options.env, ...(options.signal ? { signal: options.signal } : {}) };
  const version = await runCommand(executable, VERSION_ARGS[tool], { ...common, timeoutMs: 10_000 }).catch(
    () => null,
  );
  const args = COMMANDS[tool](options.dir);
  const raw = await runCommand(executable, args, {
    ...common,
    cwd: options.dir,
    timeoutMs: Math.max(1_000, options.timeoutMs),
    maxOutputBytes: MAX_OUTPUT_BYTES,
  });
  const run: ScannerRun = {
    tool,
    root,
    status: "failed",
    executable,
    ...(version?.stdout.trim() ? { version: version.stdout.trim().split("\n")[0]!.slice(0, 120) } : {}),
    command: [tool, ...args].join(" "),
    exitCode: raw.exitCode,
    timedOut: raw.timedOut,
    durationMs: Math.round(raw.durationMs),
    findings: [],
  };
  if (raw.spawnError) run.error = `${tool} could not start: ${raw.spawnError.message}`;
  else if (raw.timedOut)
    run.error = `${tool} did not finish within ${Math.round(options.timeoutMs / 1000)} s`;
  else if (raw.truncated) run.error = `${tool} wrote more than ${MAX_OUTPUT_BYTES / 1048576} MiB of output`;
  else if (raw.exitCode === null || !OK_EXIT[tool].includes(raw.exitCode)) {
    run.error = `${tool} exited with ${raw.exitCode ?? raw.signal}: ${lastLine(raw.stderr) || "no message"}`;
  } else if (tool === "osv-scanner" && raw.exitCode === 128) {
    run.status = "ok"; // no packages found: a verdict (nothing to scan), not a failure
  } else {
    try {
      run.findings = parseScannerOutput(tool, raw.stdout, options.repoDir, options.dir);
      run.status = "ok";
    } catch (error) {
      run.error =
        error instanceof TextError
          ? error.message
          : `${tool}'s output cannot be read: ${(error as Error).message}`;
    }
  }
  return { run, raw };
}

export function parseScannerOutput(
  tool: ScannerTool,
  text: string,
  repoDir: string,
  dir: string,
): ScannerFinding[] {
  const data = parseJson(text, `${tool}'s JSON output`);
  switch (tool) {
    case "osv-scanner":
      return parseOsvScanner(data, repoDir);
    case "trivy":
      return parseTrivy(data, repoDir, dir);
    case "grype":
      return parseGrype(data, repoDir, dir);
  }
}

/** osv-scanner `--format json`: each vulnerability is a full OSV record, so the fix is read the way ours are. */
export function parseOsvScanner(data: unknown, repoDir: string): ScannerFinding[] {
  if (!isDict(data)) throw new TextError("osv-scanner's output is not a JSON object");
  const findings: ScannerFinding[] = [];
  for (const result of list(data.results)) {
    const source = isDict(result.source)
      ? result.source
      : isDict(result.packageSource)
        ? result.packageSource
        : {};
    const file = typeof source.path === "string" ? relativeTo(repoDir, source.path) : undefined;
    for (const entry of list(result.packages)) {
      const pkg = isDict(entry.package) ? entry.package : {};
      if (typeof pkg.name !== "string" || typeof pkg.version !== "string") continue;
      const ecosystem = typeof pkg.ecosystem === "string" ? osvEcosystem(pkg.ecosystem) : "unknown";
      const name = ecosystem === "PyPI" ? normalizePypiName(pkg.name) : pkg.name;
      const groups = list(entry.groups);
      for (const vulnerability of list(entry.vulnerabilities)) {
        if (typeof vulnerability.id !== "string") continue;
        const group = groups.find((g) => Array.isArray(g.ids) && g.ids.includes(vulnerability.id));
        const maxSeverity = Number.parseFloat(String(group?.max_severity ?? ""));
        const own = severityOf(vulnerability);
        const level = Number.isFinite(maxSeverity) && maxSeverity > 0 ? levelOfV3(maxSeverity) : own.level;
        const parsed = parseOsv(vulnerability, `osv-scanner:${vulnerability.id}`);
        const fixed = new Set<string>();
        if (parsed.kind === "advisory") {
          for (const affected of parsed.advisory.affected) {
            if (affected.name !== name) continue;
            const verdict = evaluateAffected(affected, pkg.version);
            if ("affected" in verdict && verdict.affected && verdict.fixed) fixed.add(verdict.fixed);
          }
        }
        const aliases = Array.isArray(vulnerability.aliases) ? vulnerability.aliases.filter(isString) : [];
        findings.push({
          ...(file ? { file } : {}),
          ecosystem,
          name,
          version: pkg.version,
          ids: unique([vulnerability.id, ...aliases]),
          level: level === "none" ? "low" : level,
          ...(Number.isFinite(maxSeverity) && maxSeverity > 0
            ? { score: maxSeverity }
            : own.score !== undefined
              ? { score: own.score }
              : {}),
          fixed: [...fixed],
        });
      }
    }
  }
  return findings;
}

const TRIVY_TYPES: Record<string, Ecosystem> = {
  npm: "npm",
  yarn: "npm",
  pnpm: "npm",
  bun: "npm",
  "node-pkg": "npm",
  pip: "PyPI",
  pipenv: "PyPI",
  poetry: "PyPI",
  uv: "PyPI",
  "python-pkg": "PyPI",
  gomod: "Go",
  gobinary: "Go",
  cargo: "crates.io",
  "rust-binary": "crates.io",
};

/** Trivy `--format json` (SchemaVersion 2; the bare list of results of versions before 0.20 is read too). */
export function parseTrivy(data: unknown, repoDir: string, dir: string): ScannerFinding[] {
  const results = Array.isArray(data) ? data.filter(isDict) : isDict(data) ? list(data.Results) : null;
  if (!results) throw new TextError("Trivy's output is neither a report object nor a list of results");
  const findings: ScannerFinding[] = [];
  for (const result of results) {
    const type = typeof result.Type === "string" ? result.Type : "";
    const ecosystem = TRIVY_TYPES[type] ?? (type || "unknown");
    const file =
      typeof result.Target === "string" ? relativeTo(repoDir, path.resolve(dir, result.Target)) : undefined;
    for (const v of list(result.Vulnerabilities)) {
      if (typeof v.VulnerabilityID !== "string" || typeof v.PkgName !== "string") continue;
      const name = ecosystem === "PyPI" ? normalizePypiName(v.PkgName) : v.PkgName;
      const vendorIds = Array.isArray(v.VendorIDs) ? v.VendorIDs.filter(isString) : [];
      const fixed =
        typeof v.FixedVersion === "string"
          ? v.FixedVersion.split(",")
              .map((f) => f.trim().replace(/^[<>=~^ ]+/, ""))
              .filter(Boolean)
          : [];
      findings.push({
        ...(file ? { file } : {}),
        ecosystem,
        name,
        version: typeof v.InstalledVersion === "string" ? v.InstalledVersion : "",
        ids: unique([v.VulnerabilityID, ...vendorIds]),
        level: labelLevel(typeof v.Severity === "string" ? v.Severity : undefined) ?? "unknown",
        fixed,
      });
    }
  }
  return findings;
}

const GRYPE_TYPES: Record<string, Ecosystem> = {
  npm: "npm",
  python: "PyPI",
  "go-module": "Go",
  "rust-crate": "crates.io",
};

/** Grype `-o json`: a location path is relative to the scanned folder (written with a leading `/`). */
export function parseGrype(data: unknown, repoDir: string, dir: string): ScannerFinding[] {
  if (!isDict(data)) throw new TextError("Grype's output is not a JSON object");
  const findings: ScannerFinding[] = [];
  for (const match of list(data.matches)) {
    const vulnerability = isDict(match.vulnerability) ? match.vulnerability : {};
    const artifact = isDict(match.artifact) ? match.artifact : {};
    if (typeof vulnerability.id !== "string" || typeof artifact.name !== "string") continue;
    const type = typeof artifact.type === "string" ? artifact.type : "";
    const ecosystem = GRYPE_TYPES[type] ?? (type || "unknown");
    const location = list(artifact.locations).find((l) => typeof l.path === "string");
    const file = location
      ? relativeTo(repoDir, path.join(dir, String(location.path).replace(/^\/+/, "")))
      : undefined;
    const related = list(match.relatedVulnerabilities).flatMap((r) =>
      typeof r.id === "string" ? [r.id] : [],
    );
    const fix = isDict(vulnerability.fix) ? vulnerability.fix : {};
    findings.push({
      ...(file ? { file } : {}),
      ecosystem,
      name: ecosystem === "PyPI" ? normalizePypiName(artifact.name) : artifact.name,
      version: typeof artifact.version === "string" ? artifact.version : "",
      ids: unique([vulnerability.id, ...related]),
      level:
        labelLevel(typeof vulnerability.severity === "string" ? vulnerability.severity : undefined) ??
        "unknown",
      fixed: Array.isArray(fix.versions) ? fix.versions.filter(isString) : [],
    });
  }
  return findings;
}

function osvEcosystem(name: string): Ecosystem | string {
  const known = ECOSYSTEMS.find((e) => e.toLowerCase() === name.toLowerCase());
  return known ?? name;
}

function relativeTo(repoDir: string, file: string): string {
  return toPosix(path.relative(repoDir, path.resolve(repoDir, file)));
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1)?.slice(0, 300) ?? "";
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isDict) : [];
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
