// Are the exact dependency versions the lockfiles pin free of known vulnerabilities? The lockfiles under
// security.scan.paths are read (npm, yarn, pnpm, pip, Poetry, Pipenv, Go, Cargo) and every pinned version is matched
// against the OSV advisories security.advisories names; osv-scanner, Trivy or Grype, when installed, also scan the
// repository and their verdicts are merged by advisory id. "Zero vulnerabilities" from a scan that did not run is
// the failure this check exists to prevent: without advisories for an ecosystem its lockfiles are UNVERIFIED.
//
// Judgement, after npm audit's severity levels and Scorecard's rule that any known vulnerability counts:
// - critical, high, or no severity given (unknown is not safe) → FAIL; moderate and low → WARN.
// - a dev-only dependency (the lockfile says so) is judged one level lower (critical → high, high → moderate, …):
//   it does not ship, but it runs on developers' and CI machines, so a critical one still fails.
// - one finding per vulnerable package and version in a lockfile, naming every advisory (ids, CVE aliases,
//   severity, the lowest fixed version above the installed one) and the version that clears them all.
import { stat } from "node:fs/promises";
import path from "node:path";
import {
  type CheckContext,
  defineCheck,
  type FindingInput,
  type Measurement,
  type Status,
} from "../../core/types.js";
import {
  type Discovery,
  discoverDependencies,
  type LockfileRead,
  leftOutByWalk,
  type ManifestSeen,
} from "../../engines/advisories/discover.js";
import {
  judgePackage,
  type PackageVerdict,
  type VulnerabilityGroup,
} from "../../engines/advisories/match.js";
import { compareLevels, type Level } from "../../engines/advisories/osv.js";
import {
  ECOSYSTEMS,
  type Ecosystem,
  type LockfileFormat,
  type UncheckedEntry,
} from "../../engines/advisories/packages.js";
import {
  locateScanners,
  runScanner,
  SCANNERS,
  type ScannerFinding,
  type ScannerRun,
} from "../../engines/advisories/scanners.js";
import { type AdvisorySource, loadAdvisories, packageKey } from "../../engines/advisories/sources.js";
import { compareVersions } from "../../engines/advisories/versions.js";
import { toPosix } from "../../engines/files/glob.js";

const ALL_ZIP = (ecosystem: Ecosystem | "<ecosystem>") =>
  `https://osv-vulnerabilities.storage.googleapis.com/${ecosystem}/all.zip`;
/** Kept in the observation per lockfile; the evidence has them all. */
const MAX_LISTED = 50;
/** Time kept back from the deadline for judging and writing evidence after the scanners. */
const SCANNER_MARGIN_MS = 5_000;
const MAX_SCANNER_MS = 240_000;

export interface LockfileSummary {
  path: string;
  format: LockfileFormat;
  ecosystem: Ecosystem;
  variant?: string;
  packages: number;
  devPackages: number;
  error?: { message: string; line?: number };
  includedBy?: string;
  /** Entries without an exact version (unpinned requirements, versions that are not versions), first MAX_LISTED. */
  uncheckable: UncheckedEntry[];
  uncheckableCount: number;
  /** Git, folder, tarball or other-registry entries: no registry advisory can name their version. */
  notFromRegistry: number;
}

export interface VulnerablePackage {
  lockfile: string;
  format: LockfileFormat;
  ecosystem: Ecosystem;
  name: string;
  version: string;
  line?: number;
  dev?: boolean;
  groups: VulnerabilityGroup[];
  upgradeTo?: string;
}

export interface UndecidablePackage {
  lockfile: string;
  ecosystem: Ecosystem;
  name: string;
  version: string;
  line?: number;
  advisories: PackageVerdict["undecidable"];
}

export interface DependencyObservation {
  /** system.repo, relative to the spec's folder. */
  repo: string;
  roots: Discovery["roots"];
  truncated?: boolean;
  lockfiles: LockfileSummary[];
  manifests: ManifestSeen[];
  advisories: {
    configured: string[];
    sources: AdvisorySource[];
    perEcosystem: Record<Ecosystem, number>;
  };
  vulnerable: VulnerablePackage[];
  undecidable: UndecidablePackage[];
  scanners: ScannerRun[];
  evidence: { dependencies: string; advisories?: string; vulnerabilities?: string };
}

export default defineCheck<DependencyObservation>({
  meta: {
    id: "dependenciesFreeOfKnownVulnerabilities",
    category: "security",
    risk: "high",
    destructive: false,
    title: "Dependencies are free of known vulnerabilities",
    objective:
      "Every exact version the lockfiles pin (npm, yarn, pnpm, pip, Poetry, Pipenv, Go, Cargo) is matched against OSV advisories, and against osv-scanner, Trivy or Grype when installed: none is known to be vulnerable.",
    remediation: {
      effort: "medium",
      text: "{{remedy}} Then regenerate the lockfile, commit it and run the assessment again. Where no fixed version is published, remove or replace the package, or waive the finding (subject {{subject}}) with its reason until a fix ships.",
    },
    messages: {
      noKnownVulnerabilities:
        "every package the lockfile pins was checked and none is known to be vulnerable",
      vulnerable: "a pinned package version is affected by known advisories",
      vulnerableByScanner:
        "an external scanner (osv-scanner, Trivy, Grype) reports a vulnerable package the built-in advisories do not",
      noAdvisorySource:
        "no advisory set is configured (security.advisories) and no scanner is installed: nothing to check against",
      advisorySourceUnreadable: "an advisory source security.advisories names cannot be read",
      advisoriesUnreadable: "some advisory files are not valid OSV: what they say is unknown",
      noAdvisoriesForEcosystem: "the advisories loaded hold none for this lockfile's ecosystem",
      undecidable: "an advisory about the package cannot be evaluated for its version",
      unpinned: "entries without an exact version (unpinned requirements) cannot be checked",
      lockfileUnreadable: "a lockfile cannot be read",
      noLockfile: "a manifest declares dependencies but no lockfile pins their versions",
      scannerFailed: "an installed scanner did not give a verdict (error, timeout, unreadable output)",
      scanPathMissing: "a security.scan.paths entry does not exist",
      walkTruncated: "the repository has more entries than the search reads, so a lockfile may be missed",
      emptyLockfile: "the lockfile pins no package",
      noDependencies: "no lockfile or manifest declaring dependencies was found",
    },
    timeoutMs: 300_000,
  },

  // A repository always has dependencies until it is shown to have none (DESIGN principle 8): judged from the files.
  applies: () => true,

  observe: observeDependencies,

  judge: judgeDependencies,
});

export async function observeDependencies(ctx: CheckContext): Promise<DependencyObservation> {
  const repoDir = path.resolve(ctx.specDir, ctx.spec.system.repo);
  const scan = ctx.spec.security?.scan;
  const discovery = await discoverDependencies({
    repoDir,
    paths: scan?.paths ?? ["."],
    exclude: scan?.exclude ?? [],
    signal: ctx.signal,
  });
  // A registry URL in a lockfile can carry a token (https://user:token@npm.corp/…): masked before anything is written.
  for (const lockfile of discovery.lockfiles) {
    for (const entry of lockfile.unchecked)
      if (/^[a-z+]+:\/\//i.test(entry.spec)) ctx.secrets.addFromUrl(entry.spec);
  }
  const dependencies = await ctx.evidence.writeJson("dependencies.json", {
    repo: repoDir,
    ...discovery,
  });
  const configured = advisorySources(ctx.spec.security?.advisories);
  const observation: DependencyObservation = {
    repo: toPosix(path.relative(ctx.specDir, repoDir)) || ".",
    roots: discovery.roots,
    ...(discovery.truncated ? { truncated: true } : {}),
    lockfiles: discovery.lockfiles.map(summarize),
    manifests: discovery.manifests,
    advisories: {
      configured,
      sources: [],
      perEcosystem: { npm: 0, PyPI: 0, Go: 0, "crates.io": 0 },
    },
    vulnerable: [],
    undecidable: [],
    scanners: [],
    evidence: { dependencies },
  };
  ctx.log.info(
    `${discovery.lockfiles.length} lockfile(s), ${discovery.lockfiles.reduce((n, l) => n + l.packages.length, 0)} pinned package version(s)`,
  );

  if (configured.length > 0) {
    const wanted = new Set(
      discovery.lockfiles.flatMap((l) => l.packages.map((p) => packageKey(p.ecosystem, p.name))),
    );
    const loaded = await loadAdvisories(configured, ctx.specDir, wanted, ctx.signal);
    observation.advisories.sources = loaded.sources;
    observation.advisories.perEcosystem = loaded.perEcosystem;
    observation.evidence.advisories = await ctx.evidence.writeJson("advisories.json", {
      sources: loaded.sources,
      perEcosystem: loaded.perEcosystem,
      relevant: [...loaded.relevant.entries()].map(([key, list]) => ({ package: key, advisories: list })),
    });
    for (const lockfile of discovery.lockfiles) {
      for (const pkg of lockfile.packages) {
        const advisories = loaded.relevant.get(packageKey(pkg.ecosystem, pkg.name));
        if (!advisories) continue;
        const verdict = judgePackage(pkg, advisories);
        const where = {
          lockfile: lockfile.path,
          ecosystem: pkg.ecosystem,
          name: pkg.name,
          version: pkg.version,
          ...(pkg.line ? { line: pkg.line } : {}),
        };
        if (verdict.groups.length > 0) {
          observation.vulnerable.push({
            ...where,
            format: lockfile.format,
            ...(pkg.dev ? { dev: true } : {}),
            groups: verdict.groups,
            ...(verdict.upgradeTo ? { upgradeTo: verdict.upgradeTo } : {}),
          });
        }
        if (verdict.undecidable.length > 0)
          observation.undecidable.push({ ...where, advisories: verdict.undecidable });
      }
    }
    observation.evidence.vulnerabilities = await ctx.evidence.writeJson("vulnerabilities.json", {
      vulnerable: observation.vulnerable,
      undecidable: observation.undecidable,
    });
    ctx.log.info(
      `advisories: ${Object.entries(loaded.perEcosystem)
        .map(([e, n]) => `${e} ${n}`)
        .join(", ")}; ${observation.vulnerable.length} vulnerable package version(s)`,
    );
  }
  // The built-in verdict is complete here: a scanner that overruns the deadline must not lose it.
  ctx.keepPartial(observation);
  await runScanners(ctx, repoDir, discovery, scan?.exclude ?? [], observation);
  return observation;
}

async function runScanners(
  ctx: CheckContext,
  repoDir: string,
  discovery: Discovery,
  exclude: readonly string[],
  observation: DependencyObservation,
): Promise<void> {
  const located = await locateScanners(ctx.env.PATH ?? process.env.PATH);
  const dirs: string[] = [];
  for (const root of discovery.roots.filter((r) => r.exists)) {
    const dir = path.resolve(repoDir, root.path);
    if ((await stat(dir).catch(() => null))?.isDirectory()) dirs.push(dir);
  }
  const env = scannerEnv(ctx.env);
  // A proxy URL can carry a password, and a tool may print it.
  for (const [key, value] of Object.entries(env)) if (/proxy/i.test(key)) ctx.secrets.addFromUrl(value);
  const runs = observation.scanners;
  // The dev flag comes from the lockfiles as read here; a tool's report does not say.
  const devOnly = new Set<string>();
  for (const lockfile of discovery.lockfiles) {
    for (const p of lockfile.packages)
      if (p.dev) devOnly.add(`${lockfile.path}|${p.ecosystem}|${p.name}|${p.version}`);
  }
  const planned = [...located.entries()].filter(([, exe]) => exe).length * dirs.length;
  let left = planned;
  for (const tool of SCANNERS) {
    const executable = located.get(tool);
    if (!executable) {
      runs.push({ tool, root: ".", status: "missing", findings: [] });
      continue;
    }
    for (const [index, dir] of dirs.entries()) {
      ctx.signal.throwIfAborted();
      const budget = Math.min(
        MAX_SCANNER_MS,
        (ctx.deadline - Date.now() - SCANNER_MARGIN_MS) / Math.max(1, left--),
      );
      const root = toPosix(path.relative(repoDir, dir)) || ".";
      if (!(budget >= 1_000)) {
        runs.push({
          tool,
          root,
          status: "failed",
          executable,
          error: "not run: the check's time was used up",
          findings: [],
        });
        continue;
      }
      // Kept as cut off until it ends: if the check's time runs out during the run, that is what is judged.
      const pending: ScannerRun = {
        tool,
        root,
        status: "failed",
        executable,
        error: `${tool} was still running when the check's time ran out`,
        findings: [],
      };
      runs.push(pending);
      ctx.keepPartial(observation);
      const { run, raw } = await runScanner(tool, executable, {
        repoDir,
        dir,
        timeoutMs: budget,
        env,
        signal: ctx.signal,
      });
      // What the walk leaves out (dependency folders, security.scan.exclude, .gitignore) is left out of the tool's
      // report too; how much is recorded.
      const kept: ScannerFinding[] = [];
      const leftOut = new Map<string, boolean>();
      for (const finding of run.findings) {
        if (finding.file && !leftOut.has(finding.file)) {
          leftOut.set(finding.file, await leftOutByWalk(repoDir, finding.file, exclude));
        }
        if (finding.file && leftOut.get(finding.file)) run.leftOut = (run.leftOut ?? 0) + 1;
        else kept.push(finding);
      }
      run.findings = kept;
      run.evidence = await ctx.evidence.writeJson(`${tool}${dirs.length > 1 ? `-${index + 1}` : ""}.json`, {
        ...run,
        stderr: raw.stderr.slice(-20_000),
        stdout: parseOrText(raw.stdout),
      });
      for (const finding of run.findings) {
        if (
          finding.file &&
          devOnly.has(`${finding.file}|${finding.ecosystem}|${finding.name}|${finding.version}`)
        ) {
          finding.dev = true;
        }
      }
      runs[runs.indexOf(pending)] = run;
      ctx.keepPartial(observation);
      ctx.log.info(
        `${tool} on ${root}: ${run.status}${run.error ? ` (${run.error})` : ""}, ${run.findings.length} finding(s)`,
      );
    }
  }
}

/** What a scanner needs from the environment (its cache, proxy and own settings), and nothing else. */
function scannerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const keep =
    /^(PATH|HOME|USER|TMPDIR|LANG|LC_ALL|XDG_[A-Z_]+|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy|SSL_CERT_(FILE|DIR)|DOCKER_HOST|TRIVY_[A-Z0-9_]+|GRYPE_[A-Z0-9_]+|OSV_SCANNER_[A-Z0-9_]+)$/;
  const out: NodeJS.ProcessEnv = {
    PATH: env.PATH ?? process.env.PATH ?? "",
    HOME: env.HOME ?? process.env.HOME ?? "/",
  };
  for (const [key, value] of Object.entries(env)) if (keep.test(key) && value !== undefined) out[key] = value;
  return out;
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text.slice(0, 200_000);
  }
}

function advisorySources(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function summarize(lockfile: LockfileRead): LockfileSummary {
  const uncheckable = lockfile.unchecked.filter((u) => u.reason !== "not-from-registry");
  return {
    path: lockfile.path,
    format: lockfile.format,
    ecosystem: lockfile.ecosystem,
    ...(lockfile.variant ? { variant: lockfile.variant } : {}),
    packages: lockfile.packages.length,
    devPackages: lockfile.packages.filter((p) => p.dev).length,
    ...(lockfile.error ? { error: lockfile.error } : {}),
    ...(lockfile.includedBy ? { includedBy: lockfile.includedBy } : {}),
    uncheckable: uncheckable.slice(0, MAX_LISTED),
    uncheckableCount: uncheckable.length,
    notFromRegistry: lockfile.unchecked.length - uncheckable.length,
  };
}

// ---------------------------------------------------------------------------------------------------- judge

/** One vulnerability of a package as the finding lists it: ours (with the tools that confirm it) or a tool's alone. */
interface ListedVulnerability {
  ids: string[];
  aliases: string[];
  summary?: string;
  level: Level;
  score?: number;
  fixed?: string;
  lastAffected?: string;
  /** "built-in" for the OSV set, else the tools that reported it. */
  reportedBy: string[];
}

interface PackageRecord {
  file: string;
  format?: LockfileFormat;
  ecosystem: string;
  name: string;
  version: string;
  line?: number;
  dev?: boolean;
  upgradeTo?: string;
  vulnerabilities: ListedVulnerability[];
  /** Tools that scanned this file, and the built-in set's vulnerabilities (first id) each did not report. */
  notReportedBy: Record<string, string[]>;
}

export function judgeDependencies(observation: DependencyObservation): FindingInput[] {
  const findings: FindingInput[] = [];
  const evidence = [observation.evidence.dependencies];
  const withEvidence = (...more: (string | undefined)[]) => [
    ...evidence,
    ...more.filter((e): e is string => !!e),
  ];

  for (const root of observation.roots.filter((r) => !r.exists)) {
    findings.push({
      status: "UNVERIFIED",
      messageId: "scanPathMissing",
      subject: root.path,
      message: `security.scan.paths names ${root.path}, which does not exist in ${observation.repo}`,
      data: { path: root.path, repo: observation.repo },
      evidence,
      toVerify: `correct security.scan.paths (relative to system.repo, ${observation.repo}) or create ${root.path}`,
    });
  }
  if (observation.truncated) {
    findings.push({
      status: "UNVERIFIED",
      messageId: "walkTruncated",
      message: `the search for lockfiles stopped early: ${observation.repo} has more entries than it reads`,
      data: { repo: observation.repo },
      evidence,
      toVerify:
        "narrow security.scan.paths to the folders that hold the lockfiles, or add large folders to security.scan.exclude",
    });
  }
  for (const manifest of observation.manifests.filter((m) => m.declaresDependencies && !m.lockedBy)) {
    findings.push({
      status: "UNVERIFIED",
      messageId: "noLockfile",
      subject: manifest.path,
      location: { path: manifest.path },
      message: `${manifest.path} declares ${manifest.ecosystem} dependencies, but no lockfile in its folder or above pins their versions: which versions run cannot be checked${manifest.error ? ` (${manifest.error})` : ""}`,
      data: { file: manifest.path, ecosystem: manifest.ecosystem },
      evidence,
      toVerify: `commit a lockfile beside ${manifest.path}: ${LOCK_COMMAND[manifest.ecosystem]}`,
    });
  }

  const readable = observation.lockfiles.filter((l) => !l.error);
  for (const lockfile of observation.lockfiles.filter((l) => l.error)) {
    const line = lockfile.error!.line;
    findings.push({
      status: "UNVERIFIED",
      messageId: "lockfileUnreadable",
      subject: lockfile.path,
      location: { path: lockfile.path, ...(line ? { line } : {}) },
      message: lockfile.error!.message,
      data: { file: lockfile.path, format: lockfile.format },
      evidence,
      toVerify: `fix or regenerate ${lockfile.path} (${REGENERATE[lockfile.format]})`,
    });
  }
  const scannable =
    observation.lockfiles.length > 0 || observation.manifests.some((m) => m.declaresDependencies);
  if (!scannable) {
    if (findings.length > 0) return findings;
    const where = observation.roots.map((r) => r.path).join(", ") || ".";
    return [
      {
        status: "NA",
        messageId: "noDependencies",
        message: `no lockfile and no manifest declaring dependencies under ${where} (in ${observation.repo})`,
        data: { repo: observation.repo, paths: observation.roots.map((r) => r.path) },
        evidence,
      },
    ];
  }

  // Advisory sources: what was configured and what could be read.
  const { advisories } = observation;
  for (const source of advisories.sources) {
    if (source.error) {
      findings.push({
        status: "UNVERIFIED",
        messageId: "advisorySourceUnreadable",
        subject: source.configured,
        message: `security.advisories: ${source.error} (paths are relative to the spec's folder)`,
        data: { source: source.configured, kind: source.kind },
        evidence: withEvidence(observation.evidence.advisories),
        toVerify: `point security.advisories at a folder of OSV JSON files or an osv.dev all.zip (e.g. ${ALL_ZIP("npm")})`,
      });
    } else if (source.invalid > 0) {
      const first = source.problems.slice(0, 5).map(describeProblem);
      findings.push({
        status: "UNVERIFIED",
        messageId: "advisoriesUnreadable",
        subject: source.configured,
        ...(source.problems[0] ? { location: locationOf(source.problems[0]) } : {}),
        message: `${source.invalid} of ${source.files} advisory file(s) in ${source.path} are not valid OSV, so what they say is unknown (the other ${source.files - source.invalid} are used): ${first.join("; ")}${source.invalid > first.length ? "; …" : ""}`,
        data: {
          source: source.configured,
          invalid: source.invalid,
          files: source.files,
          problems: source.problems,
        },
        evidence: withEvidence(observation.evidence.advisories),
        toVerify: `fix or remove the files named in ${observation.evidence.advisories ?? "the advisories evidence"}, or download the archive again from osv.dev (${ALL_ZIP("<ecosystem>")})`,
      });
    }
  }

  const okScanners = observation.scanners.filter((s) => s.status === "ok" && !isNoPackages(s));
  for (const failed of observation.scanners.filter((s) => s.status === "failed")) {
    findings.push({
      status: "UNVERIFIED",
      messageId: "scannerFailed",
      subject: failed.tool,
      message: `${failed.tool} is installed but gave no verdict on ${failed.root}: ${failed.error ?? "unknown error"} (the built-in verdict stands)`,
      data: {
        tool: failed.tool,
        root: failed.root,
        exitCode: failed.exitCode ?? null,
        timedOut: failed.timedOut ?? false,
      },
      evidence: withEvidence(failed.evidence),
      toVerify: `run \`${failed.command ?? failed.tool}\` by hand to see why it fails, or remove ${failed.tool} from PATH`,
    });
  }

  const builtInLoaded = advisories.sources.some((s) => !s.error && s.files > 0);
  if (!builtInLoaded && okScanners.length === 0 && readable.length > 0) {
    const ecosystems = [...new Set(readable.map((l) => l.ecosystem))];
    const configured = advisories.configured.length > 0;
    const installed = observation.scanners.filter((s) => s.status !== "missing").map((s) => s.tool);
    const names = readable.slice(0, 10).map((l) => l.path);
    findings.push({
      status: "UNVERIFIED",
      messageId: "noAdvisorySource",
      message: `${readable.length} lockfile(s) (${names.join(", ")}${readable.length > names.length ? ", …" : ""}) could not be checked: ${configured ? "no advisory source named in security.advisories could be read" : "security.advisories names no advisory set"} and ${installed.length > 0 ? `no installed scanner (${[...new Set(installed)].join(", ")}) gave a verdict` : "no scanner (osv-scanner, trivy, grype) is installed"}`,
      data: { lockfiles: readable.map((l) => l.path), ecosystems, configured: advisories.configured },
      evidence,
      toVerify: `download osv.dev's advisories for ${ecosystems.join(", ")} (${ecosystems.map(ALL_ZIP).join(", ")}) and name the file(s) in security.advisories, or install osv-scanner, trivy or grype`,
    });
    return findings.concat(unpinnedFindings(readable, evidence));
  }

  const records = mergeRecords(observation, okScanners);
  const vulnerableFiles = new Set<string>();
  for (const record of records.values()) {
    vulnerableFiles.add(record.file);
    findings.push(vulnerableFinding(record, observation));
  }

  for (const entry of observation.undecidable) {
    // A lockfile holding a package some advisory cannot be evaluated for is not cleared either.
    vulnerableFiles.add(entry.lockfile);
    const subject = `${entry.lockfile}#${entry.name}@${entry.version}`;
    const first = entry.advisories[0]!;
    findings.push({
      status: "UNVERIFIED",
      messageId: "undecidable",
      subject,
      location: { path: entry.lockfile, ...(entry.line ? { line: entry.line } : {}) },
      message: `${entry.name} ${entry.version}: ${entry.advisories.length} advisory(ies) about it cannot be evaluated for this version (${first.id} in ${first.source}: ${first.reason})`,
      data: {
        file: entry.lockfile,
        package: entry.name,
        version: entry.version,
        advisories: entry.advisories,
      },
      evidence: withEvidence(observation.evidence.vulnerabilities),
      toVerify: `correct the range of ${first.id} in ${first.source}, or replace the advisory set with a fresh download`,
    });
  }

  for (const lockfile of readable) {
    const builtIn = advisories.perEcosystem[lockfile.ecosystem] ?? 0;
    const scanners = okScanners.filter((s) => covers(s, lockfile.path)).map((s) => s.tool);
    if (builtIn === 0 && scanners.length === 0) {
      const held = Object.entries(advisories.perEcosystem)
        .filter(([, n]) => n > 0)
        .map(([e, n]) => `${e}: ${n}`);
      findings.push({
        status: "UNVERIFIED",
        messageId: "noAdvisoriesForEcosystem",
        subject: lockfile.path,
        location: { path: lockfile.path },
        message: `${lockfile.path} pins ${lockfile.packages} ${lockfile.ecosystem} package(s), but the advisories loaded hold no ${lockfile.ecosystem} advisory (${held.join(", ") || "none at all"}): it cannot be cleared`,
        data: { file: lockfile.path, ecosystem: lockfile.ecosystem, perEcosystem: advisories.perEcosystem },
        evidence: withEvidence(observation.evidence.advisories),
        toVerify: `add ${ALL_ZIP(lockfile.ecosystem)} (osv.dev's ${lockfile.ecosystem} advisories) to security.advisories, or install osv-scanner, trivy or grype`,
      });
      continue;
    }
    if (vulnerableFiles.has(lockfile.path)) continue;
    if (lockfile.packages === 0) {
      if (lockfile.uncheckableCount === 0) {
        findings.push({
          status: "NA",
          messageId: "emptyLockfile",
          subject: lockfile.path,
          location: { path: lockfile.path },
          message: `${lockfile.path} pins no package${lockfile.notFromRegistry ? ` from a registry (${lockfile.notFromRegistry} from git, folders or tarballs)` : ""}`,
          data: { file: lockfile.path },
          evidence,
        });
      }
      continue;
    }
    const against = [
      ...(builtIn > 0 ? [`${builtIn} ${lockfile.ecosystem} advisories (security.advisories)`] : []),
      ...scanners,
    ].join(" and ");
    const skipped = lockfile.notFromRegistry
      ? `; ${lockfile.notFromRegistry} entr${lockfile.notFromRegistry === 1 ? "y" : "ies"} from git, folders or other registries not checked`
      : "";
    const ev = observation.evidence.vulnerabilities ? { evidence: observation.evidence.vulnerabilities } : {};
    const measurements: Measurement[] = [
      {
        name: "packagesChecked",
        value: lockfile.packages,
        unit: "packages",
        evidence: observation.evidence.dependencies,
      },
      { name: "advisories", value: builtIn, unit: "advisories", ...ev },
    ];
    findings.push({
      status: "PASS",
      messageId: "noKnownVulnerabilities",
      subject: lockfile.path,
      location: { path: lockfile.path },
      message: `${lockfile.path}: ${lockfile.packages} package version(s)${lockfile.devPackages ? ` (${lockfile.devPackages} dev-only)` : ""} checked against ${against}: none is known to be vulnerable${skipped}`,
      data: {
        file: lockfile.path,
        ecosystem: lockfile.ecosystem,
        packages: lockfile.packages,
        advisories: builtIn,
        scanners,
      },
      evidence: withEvidence(
        observation.evidence.advisories,
        observation.evidence.vulnerabilities,
        ...okScanners.filter((s) => scanners.includes(s.tool)).map((s) => s.evidence),
      ),
      measurements,
    });
  }
  return findings.concat(unpinnedFindings(readable, evidence));
}

function unpinnedFindings(lockfiles: LockfileSummary[], evidence: string[]): FindingInput[] {
  return lockfiles
    .filter((l) => l.uncheckableCount > 0)
    .map((l) => {
      const names = l.uncheckable.slice(0, 10).map((u) => `${u.name} ${u.spec}`);
      const first = l.uncheckable[0];
      return {
        status: "UNVERIFIED" as Status,
        messageId: "unpinned",
        subject: l.path,
        location: { path: l.path, ...(first?.line ? { line: first.line } : {}) },
        message: `${l.path}: ${l.uncheckableCount} entr${l.uncheckableCount === 1 ? "y has" : "ies have"} no exact version, so no advisory can be matched: ${names.join(", ")}${l.uncheckableCount > names.length ? ", …" : ""}`,
        data: { file: l.path, entries: l.uncheckable, count: l.uncheckableCount },
        evidence,
        toVerify:
          l.ecosystem === "PyPI"
            ? `pin every requirement with == (pip-compile or pip freeze > ${l.path}), or commit a poetry.lock / Pipfile.lock`
            : `regenerate ${l.path} (${REGENERATE[l.format]}) so that every entry has an exact version`,
      };
    });
}

/** Ours and the scanners', one record per (file, package, version); a scanner's advisory joins ours by id or alias. */
function mergeRecords(
  observation: DependencyObservation,
  okScanners: ScannerRun[],
): Map<string, PackageRecord> {
  const records = new Map<string, PackageRecord>();
  const key = (file: string, ecosystem: string, name: string, version: string) =>
    `${file}|${ecosystem}|${name}|${version}`;
  for (const v of observation.vulnerable) {
    records.set(key(v.lockfile, v.ecosystem, v.name, v.version), {
      file: v.lockfile,
      format: v.format,
      ecosystem: v.ecosystem,
      name: v.name,
      version: v.version,
      ...(v.line ? { line: v.line } : {}),
      ...(v.dev ? { dev: true } : {}),
      ...(v.upgradeTo ? { upgradeTo: v.upgradeTo } : {}),
      vulnerabilities: v.groups.map(listed),
      notReportedBy: {},
    });
  }
  const lockfiles = new Map(observation.lockfiles.map((l) => [l.path, l]));
  for (const scanner of okScanners) {
    for (const finding of scanner.findings) {
      for (const record of recordsFor(finding, records, lockfiles, key)) {
        const same = record.vulnerabilities.find((v) =>
          v.ids.concat(v.aliases).some((id) => finding.ids.includes(id)),
        );
        if (same) {
          if (!same.reportedBy.includes(scanner.tool)) same.reportedBy.push(scanner.tool);
          continue;
        }
        record.vulnerabilities.push({
          ids: [finding.ids[0]!],
          aliases: finding.ids.slice(1),
          level: finding.level,
          ...(finding.score !== undefined ? { score: finding.score } : {}),
          ...(lowestAbove(record.ecosystem, record.version, finding.fixed)
            ? { fixed: lowestAbove(record.ecosystem, record.version, finding.fixed)! }
            : {}),
          reportedBy: [scanner.tool],
        });
      }
    }
    // A vulnerability of ours in a file the tool scanned but did not report: the disagreement is written down.
    for (const record of records.values()) {
      if (!covers(scanner, record.file)) continue;
      const missed = record.vulnerabilities
        .filter((v) => v.reportedBy.includes("built-in") && !v.reportedBy.includes(scanner.tool))
        .map((v) => v.ids[0]!);
      if (missed.length > 0) {
        record.notReportedBy[scanner.tool] = [
          ...new Set([...(record.notReportedBy[scanner.tool] ?? []), ...missed]),
        ];
      }
    }
  }
  return records;
}

/** The records a scanner's finding belongs to: its file's package, else the same package in any lockfile, else new. */
function recordsFor(
  finding: ScannerFinding,
  records: Map<string, PackageRecord>,
  lockfiles: Map<string, LockfileSummary>,
  key: (file: string, ecosystem: string, name: string, version: string) => string,
): PackageRecord[] {
  const exact = finding.file
    ? records.get(key(finding.file, finding.ecosystem, finding.name, finding.version))
    : undefined;
  if (exact) return [exact];
  const elsewhere = [...records.values()].filter(
    (r) => r.ecosystem === finding.ecosystem && r.name === finding.name && sameVersion(r, finding.version),
  );
  if (elsewhere.length > 0 && (!finding.file || !lockfiles.has(finding.file))) return elsewhere;
  const file = finding.file ?? "(unknown file)";
  const lockfile = lockfiles.get(file);
  const record: PackageRecord = {
    file,
    ...(lockfile ? { format: lockfile.format } : {}),
    ecosystem: finding.ecosystem,
    name: finding.name,
    version: finding.version,
    ...(finding.dev ? { dev: true } : {}),
    vulnerabilities: [],
    notReportedBy: {},
  };
  records.set(key(file, finding.ecosystem, finding.name, finding.version), record);
  return [record];
}

function sameVersion(record: PackageRecord, version: string): boolean {
  if (record.version === version) return true;
  const ecosystem = record.ecosystem as Ecosystem;
  return isEcosystem(ecosystem) && compareVersions(ecosystem, record.version, version) === 0;
}

function listed(group: VulnerabilityGroup): ListedVulnerability {
  return {
    ids: group.ids,
    aliases: group.aliases,
    ...(group.summary ? { summary: group.summary } : {}),
    level: group.severity.level,
    ...(group.severity.score !== undefined ? { score: group.severity.score } : {}),
    ...(group.fixed ? { fixed: group.fixed } : {}),
    ...(group.lastAffected ? { lastAffected: group.lastAffected } : {}),
    reportedBy: ["built-in"],
  };
}

function vulnerableFinding(record: PackageRecord, observation: DependencyObservation): FindingInput {
  const vulnerabilities = [...record.vulnerabilities].sort(
    (a, b) =>
      compareLevels(b.level, a.level) ||
      (b.score ?? 0) - (a.score ?? 0) ||
      a.ids[0]!.localeCompare(b.ids[0]!),
  );
  const worst = vulnerabilities[0]!.level;
  const judged = record.dev ? LOWER[worst] : worst;
  const status: Status = judged === "critical" || judged === "high" || judged === "unknown" ? "FAIL" : "WARN";
  const builtIn = vulnerabilities.some((v) => v.reportedBy.includes("built-in"));
  const subject = `${record.file}#${record.name}@${record.version}`;
  const show = (v: string) => (record.ecosystem === "Go" && !v.startsWith("v") ? `v${v}` : v);
  const upgradeTo = upgradeFor(record, vulnerabilities);
  const described = vulnerabilities.slice(0, 5).map((v) => {
    const names = [v.ids.join(", "), ...v.aliases.filter((a) => a.startsWith("CVE-"))].join(" / ");
    const severity = `${v.level}${v.score !== undefined ? ` ${v.score}` : ""}`;
    const fix = v.fixed
      ? `fixed in ${show(v.fixed)}`
      : v.lastAffected
        ? `no fix; last affected ${show(v.lastAffected)}`
        : "no fixed version";
    const by = v.reportedBy.includes("built-in") ? "" : `; reported by ${v.reportedBy.join(", ")} only`;
    return `${names} (${severity}; ${fix}${by})${v.summary ? ` "${v.summary}"` : ""}`;
  });
  const where = `${record.file}${record.line ? `:${record.line}` : ""}`;
  const notes: string[] = [];
  if (record.dev) notes.push(`dev-only, judged one level lower: ${worst} → ${judged}`);
  const confirmedBy = SCANNERS.filter((tool) =>
    vulnerabilities.some((v) => v.reportedBy.includes("built-in") && v.reportedBy.includes(tool)),
  );
  if (confirmedBy.length > 0) notes.push(`also reported by ${confirmedBy.join(", ")}`);
  for (const [tool, ids] of Object.entries(record.notReportedBy))
    notes.push(`${tool} did not report ${ids.join(", ")}`);
  const upgrade = upgradeTo
    ? `upgrade to ${show(upgradeTo)}`
    : vulnerabilities.some((v) => v.fixed)
      ? "no single listed fix clears every advisory: see each one's fixed version"
      : "no fixed version is published";
  const count = vulnerabilities.length;
  const fixedVersion = upgradeTo ? show(upgradeTo) : null;
  const data: Record<string, unknown> = {
    file: record.file,
    ecosystem: record.ecosystem,
    package: record.name,
    version: record.version,
    dev: record.dev ?? false,
    severity: worst,
    judgedAs: judged,
    fixedVersion,
    remedy: remedy(record, fixedVersion),
    advisories: vulnerabilities,
    notReportedBy: record.notReportedBy,
  };
  return {
    status,
    messageId: builtIn ? "vulnerable" : "vulnerableByScanner",
    subject,
    location: { path: record.file, ...(record.line ? { line: record.line } : {}) },
    message: `${record.name} ${show(record.version)} (${where}) has ${count} known vulnerabilit${count === 1 ? "y" : "ies"}: ${described.join("; ")}${count > described.length ? `; and ${count - described.length} more` : ""}; ${upgrade}${notes.length ? ` (${notes.join("; ")})` : ""}`,
    data,
    evidence: [
      observation.evidence.dependencies,
      ...(observation.evidence.vulnerabilities ? [observation.evidence.vulnerabilities] : []),
      ...observation.scanners
        .filter((s) => s.evidence && vulnerabilities.some((v) => v.reportedBy.includes(s.tool)))
        .map((s) => s.evidence!),
    ],
    measurements: [
      {
        name: "advisories",
        value: count,
        unit: "advisories",
        ...(observation.evidence.vulnerabilities ? { evidence: observation.evidence.vulnerabilities } : {}),
      },
    ],
  };
}

/** A dev-only dependency is judged one level lower; unknown counts as high, so it becomes moderate. */
const LOWER: Record<Level, Level> = {
  critical: "high",
  high: "moderate",
  moderate: "low",
  low: "low",
  unknown: "moderate",
};

/**
 * The version that clears every listed vulnerability: the built-in set's own answer, raised to the fix of each
 * vulnerability only a scanner reported; none when one of them has no fix.
 */
function upgradeFor(record: PackageRecord, vulnerabilities: ListedVulnerability[]): string | undefined {
  const extras = vulnerabilities.filter((v) => !v.reportedBy.includes("built-in"));
  const builtIn = extras.length < vulnerabilities.length;
  if (builtIn && !record.upgradeTo) return undefined;
  if (extras.some((v) => !v.fixed)) return undefined;
  const candidates = [...(record.upgradeTo ? [record.upgradeTo] : []), ...extras.map((v) => v.fixed!)];
  const ecosystem = record.ecosystem as Ecosystem;
  if (!isEcosystem(ecosystem)) return candidates.length === 1 ? candidates[0] : undefined;
  return candidates.sort((a, b) => compareVersions(ecosystem, a, b) ?? 0).at(-1);
}

function lowestAbove(ecosystem: string, installed: string, fixes: string[]): string | undefined {
  if (!isEcosystem(ecosystem)) return fixes[0];
  const e = ecosystem as Ecosystem;
  return fixes
    .filter((f) => (compareVersions(e, f, installed) ?? 1) > 0)
    .sort((a, b) => compareVersions(e, a, b) ?? 0)[0];
}

/** The command that upgrades the package, by lockfile format. */
function remedy(record: PackageRecord, fixed: string | null): string {
  const { name, file } = record;
  if (!fixed)
    return `In ${file}, no published version of ${name} clears every advisory listed: remove or replace ${name}, or upgrade to the fixed version each advisory names.`;
  const commands: Partial<Record<LockfileFormat, string>> = {
    "package-lock": `npm install ${name}@${fixed} (for a transitive dependency, an "overrides" entry in package.json)`,
    "npm-shrinkwrap": `npm install ${name}@${fixed} (for a transitive dependency, an "overrides" entry in package.json)`,
    "yarn-classic": `yarn upgrade ${name}@${fixed} (for a transitive dependency, a "resolutions" entry in package.json)`,
    "yarn-berry": `yarn up ${name}@${fixed} (for a transitive dependency, yarn up -R ${name} or a "resolutions" entry)`,
    "pnpm-lock": `pnpm update ${name}@${fixed} (for a transitive dependency, a pnpm.overrides entry)`,
    requirements: `change the pin to ${name}==${fixed}`,
    "poetry-lock": `poetry add ${name}@^${fixed} (or poetry update ${name} when the constraint already allows it)`,
    "pipfile-lock": `pipenv install ${name}==${fixed}`,
    "go-mod": `go get ${name}@${fixed} && go mod tidy`,
    "go-sum": `go get ${name}@${fixed} && go mod tidy`,
    "cargo-lock": `cargo update -p ${name} --precise ${fixed}`,
  };
  const command = record.format ? commands[record.format] : undefined;
  return `In ${file}, upgrade ${name} from ${record.version} to ${fixed}${command ? `: ${command}.` : "."}`;
}

function covers(scanner: ScannerRun, file: string): boolean {
  return scanner.root === "." || file === scanner.root || file.startsWith(`${scanner.root}/`);
}

function isNoPackages(scanner: ScannerRun): boolean {
  return scanner.tool === "osv-scanner" && scanner.exitCode === 128;
}

function describeProblem(problem: AdvisorySource["problems"][number]): string {
  return problem.message.startsWith(problem.file) ? problem.message : `${problem.file}: ${problem.message}`;
}

function locationOf(problem: AdvisorySource["problems"][number]) {
  // An entry of a zip has no path of its own: the location is the archive.
  const file = problem.file.includes(".zip:")
    ? problem.file.slice(0, problem.file.indexOf(".zip:") + 4)
    : problem.file.replace(/\[\d+\]$/, "");
  return {
    path: file,
    ...(problem.line ? { line: problem.line } : {}),
    ...(problem.column ? { column: problem.column } : {}),
  };
}

const LOCK_COMMAND: Record<Ecosystem, string> = {
  npm: "npm install --package-lock-only (or yarn install / pnpm install)",
  PyPI: "poetry lock, pipenv lock, or pip-compile / pip freeze > requirements.txt with == pins",
  Go: "go mod tidy",
  "crates.io": "cargo generate-lockfile",
};

const REGENERATE: Record<LockfileFormat, string> = {
  "package-lock": "npm install --package-lock-only",
  "npm-shrinkwrap": "npm shrinkwrap",
  "yarn-classic": "yarn install",
  "yarn-berry": "yarn install",
  "pnpm-lock": "pnpm install --lockfile-only",
  requirements: "pip-compile, or pip freeze",
  "poetry-lock": "poetry lock",
  "pipfile-lock": "pipenv lock",
  "go-mod": "go mod tidy",
  "go-sum": "go mod tidy",
  "cargo-lock": "cargo generate-lockfile",
};

function isEcosystem(name: string): name is Ecosystem {
  return (ECOSYSTEMS as readonly string[]).includes(name);
}
