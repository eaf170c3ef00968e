// Does the repository hold a secret — in its files or anywhere in its git history? Every system has a repository, so
// this check always applies (DESIGN principle 8), with or without a security section. The scan (secretlint's
// recommended preset plus Gauntlet's rules, src/engines/secretScan/) registers every value it finds with the run's
// redactor before anything is written; the observation, the evidence and the findings carry masks and fingerprints.
import path from "node:path";
import { defineCheck, type FindingInput, type Measurement } from "../../core/types.js";
import { scanSarif } from "../../engines/secretScan/sarif.js";
import {
  DEFAULT_MAX_FILE_SIZE,
  type ScanFinding,
  type ScanResult,
  scanRepository,
} from "../../engines/secretScan/scan.js";
import { SECRETLINT_RULES } from "../../engines/secretScan/secretlint.js";

export interface SecretsObservation {
  /** system.repo as the spec writes it; finding paths are relative to it. */
  repo: string;
  scan: Omit<ScanResult, "repoDir">;
  evidence: string[];
}

const GAUNTLET_RULES = [
  "gauntlet/private-key",
  "gauntlet/stripe-live-key",
  "gauntlet/google-api-key",
  "gauntlet/slack-legacy-token",
  "gauntlet/jwt",
  "gauntlet/secret-assignment",
];

export default defineCheck<SecretsObservation>({
  meta: {
    id: "noSecretsInRepository",
    category: "security",
    risk: "critical",
    destructive: false,
    title: "No secrets in the repository or its history",
    objective:
      "No credential, token or private key is in the files of security.scan.paths (default the whole repository) or in any blob of its git history.",
    remediation: {
      effort: "medium",
      text: "Rotate the secret in {{file}} at its issuer first: everyone who can read the repository, or any clone of it, has it. Then load it from the environment or a secret manager instead of the code; a secret only in history stays in every clone until the history is rewritten (git filter-repo), so rotation is what makes it harmless. A finding that is not a secret (a test fixture) is accepted with `gauntlet secrets --write-baseline` and security.scan.baseline.",
    },
    messages: {
      secretInFile: "a secret in a file of the working tree",
      secretInHistory:
        "a secret in the git history only (committed, then removed or changed): still in every clone",
      encryptedKeyInFile: "a passphrase-protected private key in a file: a lesser leak, still worth removing",
      encryptedKeyInHistory: "a passphrase-protected private key in the git history only",
      clean: "no secret in the files and history scanned",
      nothingScanned: "nothing could be scanned: no readable text file and no history",
      pathMissing: "a security.scan.paths entry does not exist",
      historyUnavailable:
        "the repository has a git history that could not be read (git missing or refusing it)",
      historyShallow: "the clone is shallow: the history before its cut was not scanned",
      incomplete: "the scan stopped before the end (time limit or cancel): what was left is named",
      baselineUnreadable: "security.scan.baseline names a file that is missing or not a Gauntlet baseline",
    },
    timeoutMs: 600_000,
  },

  applies: () => true,

  async observe(ctx) {
    const scan = ctx.spec.security?.scan;
    const repoDir = path.resolve(ctx.specDir, ctx.spec.system.repo);
    const repo = ctx.spec.system.repo;
    const observationOf = (result: ScanResult, evidence: string[]): SecretsObservation => {
      const { repoDir: _absolute, ...rest } = result;
      return { repo, scan: rest, evidence };
    };
    const result = await scanRepository({
      repoDir,
      paths: scan?.paths ?? ["."],
      exclude: scan?.exclude ?? [],
      history: scan?.history ?? true,
      maxFileSize: scan?.maxFileSize ?? DEFAULT_MAX_FILE_SIZE,
      ...(scan?.baseline
        ? { baseline: { file: path.resolve(ctx.specDir, scan.baseline), display: scan.baseline } }
        : {}),
      secrets: ctx.secrets,
      deadline: ctx.deadline,
      signal: ctx.signal,
      onFilesDone: async (partial) => {
        const file = await ctx.evidence.writeJson("scan-files.json", evidenceOf(observationOf(partial, [])));
        ctx.keepPartial(observationOf(partial, [file]));
      },
    });
    const observation = observationOf(result, []);
    observation.evidence.push(
      await ctx.evidence.writeJson("secret-scan.json", evidenceOf(observation)),
      await ctx.evidence.writeJson("secret-scan.sarif.json", scanSarif(result)),
    );
    const reported = result.findings.filter((f) => !f.baselined).length;
    ctx.log.info(
      `scanned ${result.files.scanned} file(s) and ${result.history.repositories.reduce((n, r) => n + r.scannedBlobs, 0)} history blob(s): ${reported} finding(s)`,
    );
    return observation;
  },

  judge(observation) {
    const { scan } = observation;
    const evidence = observation.evidence;
    const findings: FindingInput[] = [];
    const unverified = (
      messageId: string,
      subject: string,
      message: string,
      toVerify: string,
      data: Record<string, unknown> = {},
    ): FindingInput => ({ status: "UNVERIFIED", messageId, subject, message, toVerify, data, evidence });

    for (const p of scan.paths.filter((p) => p.state === "missing")) {
      findings.push(
        unverified(
          "pathMissing",
          p.path,
          `security.scan.paths names ${p.path}, which does not exist under ${observation.repo}`,
          `fix security.scan.paths (relative to system.repo, ${observation.repo}) so that it names a folder or file of the repository`,
          { path: p.path },
        ),
      );
    }
    for (const f of scan.findings) if (!f.baselined) findings.push(secretFinding(f, evidence));

    const { baseline } = scan;
    if (baseline.state === "missing" || baseline.state === "invalid") {
      const file = baseline.file ?? "";
      findings.push({
        status: "WARN",
        messageId: "baselineUnreadable",
        subject: file,
        location: { path: file },
        message:
          baseline.state === "missing"
            ? `security.scan.baseline names ${file}, which cannot be read (${baseline.error}): no finding is accepted`
            : `security.scan.baseline ${file} is not a Gauntlet baseline (${baseline.error}): no finding is accepted`,
        data: { file, error: baseline.error },
        evidence,
      });
    }

    const history = scan.history;
    if (history.state === "unavailable") {
      findings.push(
        unverified(
          "historyUnavailable",
          observation.repo,
          `the git history of ${observation.repo} was not scanned: ${history.reason}`,
          "run gauntlet where git is installed and may read the repository (git config --global --add safe.directory <path> if it refuses an owner), or set security.scan.history: false to scan the files only",
          { reason: history.reason },
        ),
      );
    }
    for (const r of history.repositories.filter((r) => r.shallow)) {
      findings.push(
        unverified(
          "historyShallow",
          r.top,
          `${r.top} is a shallow clone: the ${r.commits} commit(s) it has were scanned, the history before its cut was not`,
          "scan a full clone: git fetch --unshallow (in CI, e.g. actions/checkout with fetch-depth: 0)",
          { commits: r.commits },
        ),
      );
    }
    if (scan.incomplete) {
      const i = scan.incomplete;
      const left =
        i.phase === "files"
          ? `${i.filesLeft} file(s) and the whole history were not scanned`
          : i.blobsLeft > 0
            ? `${i.blobsLeft} history blob(s) were not scanned`
            : "the history was not scanned";
      findings.push(
        unverified(
          "incomplete",
          observation.repo,
          `the secret scan stopped (${i.reason}): ${left}`,
          "give the check more time (it has 10 minutes), narrow security.scan.paths, or exclude generated folders with security.scan.exclude",
          { ...i },
        ),
      );
    }

    const blobs = history.repositories.reduce((n, r) => n + r.scannedBlobs, 0);
    if (scan.files.scanned === 0 && blobs === 0) {
      findings.push(
        unverified(
          "nothingScanned",
          observation.repo,
          `nothing was scanned under ${observation.repo}: ${notRead(scan) || "no file"}`,
          "point system.repo and security.scan.paths at the repository's folder (relative to the spec file)",
        ),
      );
      return findings;
    }
    const reported = findings.some(
      (f) => f.messageId !== "baselineUnreadable" && (f.status === "FAIL" || f.status === "WARN"),
    );
    if (!reported && !scan.incomplete) findings.push(cleanFinding(observation, blobs));
    return findings;
  },
});

function secretFinding(f: ScanFinding, evidence: string[]): FindingInput {
  const at = `${f.path}:${f.line}:${f.column}`;
  const keyFile = f.keyFile ? " (a key file)" : "";
  const data: Record<string, unknown> = {
    file: f.path,
    rule: f.ruleId,
    label: f.label,
    masked: f.masked,
    fingerprint: f.fingerprint,
    line: f.line,
    column: f.column,
    ...(f.commit ? { commit: f.commit, commitDate: f.commitDate, occurrences: f.occurrences } : {}),
    ...(f.encrypted !== undefined ? { encrypted: f.encrypted } : {}),
    ...(f.keyFile ? { keyFile: true } : {}),
  };
  const warn = f.severity === "warn";
  const common = {
    status: warn ? ("WARN" as const) : ("FAIL" as const),
    subject: f.path,
    location: { path: f.path, line: f.line, column: f.column },
    data,
    evidence,
  };
  if (f.commit) {
    const versions = (f.occurrences ?? 1) > 1 ? `; ${f.occurrences} versions of files hold it` : "";
    return {
      ...common,
      messageId: warn ? "encryptedKeyInHistory" : "secretInHistory",
      message: `${f.label} ${f.masked}${keyFile} in history only: committed in ${f.commit} (${f.commitDate?.slice(0, 10)}) at ${at} and removed or changed since${versions}. Removing it from HEAD is not enough: ${warn ? "treat the key as exposed and replace it" : "rotate it"} [${f.ruleId}]`,
    };
  }
  return {
    ...common,
    messageId: warn ? "encryptedKeyInFile" : "secretInFile",
    message: `${f.label} ${f.masked}${keyFile} at ${at} [${f.ruleId}]`,
  };
}

function cleanFinding(observation: SecretsObservation, blobs: number): FindingInput {
  const { scan } = observation;
  const ev = observation.evidence[0] ? { evidence: observation.evidence[0] } : {};
  const commits = scan.history.repositories.reduce((n, r) => n + r.commits, 0);
  const historyBytes = scan.history.repositories.reduce((n, r) => n + r.bytes, 0);
  const measurements: Measurement[] = [
    { name: "filesScanned", value: scan.files.scanned, unit: "files", ...ev },
    { name: "bytesScanned", value: scan.files.bytes, unit: "bytes", ...ev },
    { name: "commits", value: commits, unit: "commits", ...ev },
    { name: "blobsScanned", value: blobs, unit: "blobs", ...ev },
    { name: "scanDuration", value: scan.durationMs, unit: "ms", ...ev },
  ];
  const parts = [`no secret in ${scan.files.scanned} file(s) (${mb(scan.files.bytes)})`];
  if (scan.history.state === "scanned") {
    parts[0] += ` and ${blobs} blob(s) (${mb(historyBytes)}) of ${commits} commit(s) of history`;
  } else if (scan.history.state === "disabled")
    parts.push("history not scanned (security.scan.history: false)");
  else if (scan.history.state === "notGit") parts.push("not a git repository: no history");
  const accepted = scan.findings.filter((f) => f.baselined).length;
  if (accepted > 0) parts.push(`${accepted} finding(s) accepted by ${scan.baseline.file}`);
  if (scan.baseline.stale.length > 0) {
    const stale = scan.baseline.stale.length;
    parts.push(
      `${stale} baseline ${stale === 1 ? "entry matches" : "entries match"} nothing any more: remove ${stale === 1 ? "it" : "them"}`,
    );
  }
  const skipped = notRead(scan);
  if (skipped) parts.push(`not read: ${skipped}`);
  return {
    status: "PASS",
    messageId: "clean",
    subject: observation.repo,
    message: parts.join("; "),
    data: {
      files: scan.files.scanned,
      bytes: scan.files.bytes,
      commits,
      blobs,
      baselined: accepted,
      staleBaseline: scan.baseline.stale,
      skipped: scan.files.skipped,
      excluded: scan.files.excluded,
    },
    measurements,
    evidence: observation.evidence,
  };
}

/** "3 file(s) over 2 MB, 12 binary file(s)": what was not read, never left out in silence. */
function notRead(scan: SecretsObservation["scan"]): string {
  const s = scan.files.skipped;
  const parts: string[] = [];
  if (s.tooLarge)
    parts.push(
      `${s.tooLarge} file(s) over ${mb(scan.maxFileSize)} (${scan.files.tooLarge.slice(0, 3).join(", ")}${s.tooLarge > 3 ? ", …" : ""})`,
    );
  if (s.binary) parts.push(`${s.binary} binary file(s)`);
  if (s.unreadable) parts.push(`${s.unreadable} unreadable file(s)`);
  const large = scan.history.repositories.reduce((n, r) => n + (r.skipped.tooLarge ?? 0), 0);
  if (large > 0) parts.push(`${large} history blob(s) over ${mb(scan.maxFileSize)}`);
  return parts.join(", ");
}

function mb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}

/** The evidence: the whole observation plus the rules that ran; masks and fingerprints only, never a value. */
function evidenceOf(observation: SecretsObservation): unknown {
  return {
    ...observation,
    rules: { secretlint: SECRETLINT_RULES, gauntlet: GAUNTLET_RULES },
    note: "values are never recorded: each finding has a mask (at most its first 4 characters) and a fingerprint (sha256 of rule, path and a hash of the value)",
  };
}
