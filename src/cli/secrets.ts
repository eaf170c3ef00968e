// `gauntlet secrets [--spec FILE | --repo DIR] [--write-baseline FILE] [--json]`: the noSecretsInRepository scan on
// its own, for a developer or a pre-commit hook. Prints each finding masked (file:line:column, rule, the first
// characters of the value), accepted ones counted; --write-baseline writes every current finding as accepted, for
// review and commit. --repo scans a folder with the defaults and no spec (no environment variable needed).
// Exit 0 when nothing is reported, 1 when a finding is, 3 for a usage or spec error.
import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { baselineFile } from "../engines/secretScan/baseline.js";
import type { ScanFinding, ScanResult } from "../engines/secretScan/scan.js";
import { displayPath } from "../spec/problems.js";
import type { Spec } from "../spec/schema.js";
import { type CliIO, UserError } from "./io.js";
import { terminalText } from "./terminal.js";

export interface SecretsFlags {
  spec: string;
  repo?: string;
  writeBaseline?: string;
  json?: boolean;
}

type SecretScanSettings = NonNullable<NonNullable<Spec["security"]>["scan"]>;

export const EXIT_CLEAN = 0;
export const EXIT_FOUND = 1;

export async function secretsCommand(
  flags: SecretsFlags,
  io: CliIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { repoDir, scan, dir } = await target(flags, io, env);
  const { DEFAULT_MAX_FILE_SIZE, scanRepository } = await import("../engines/secretScan/scan.js");
  const result = await scanRepository({
    repoDir,
    paths: scan?.paths ?? ["."],
    exclude: scan?.exclude ?? [],
    history: scan?.history ?? true,
    maxFileSize: scan?.maxFileSize ?? DEFAULT_MAX_FILE_SIZE,
    ...(scan?.baseline
      ? { baseline: { file: path.resolve(dir, scan.baseline), display: scan.baseline } }
      : {}),
    // Every value found is registered before anything is printed: the terminal output is redacted with these too.
    secrets: io.secrets,
  });
  const reported = result.findings.filter((f) => !f.baselined);

  if (flags.writeBaseline) {
    const target = path.resolve(flags.writeBaseline);
    const entries = result.findings.map((f) => ({
      fingerprint: f.fingerprint,
      ruleId: f.ruleId,
      path: f.path,
      masked: f.masked,
      ...(f.commit ? { commit: f.commit } : {}),
    }));
    try {
      await writeFile(target, `${JSON.stringify(baselineFile(entries), null, 2)}\n`);
    } catch (error) {
      throw new UserError(
        `cannot write the baseline to ${flags.writeBaseline} (${(error as NodeJS.ErrnoException).code ?? error}): choose a writable path`,
      );
    }
    const named = scan?.baseline ? path.resolve(dir, scan.baseline) === target : false;
    io.out(
      `wrote ${entries.length} accepted finding(s) to ${terminalText(displayPath(target))}: review each before committing it`,
    );
    if (!named) {
      io.out(
        `add to the spec: security: { scan: { baseline: ${terminalText(toPosix(path.relative(dir, target)))} } }`,
      );
    }
    return EXIT_CLEAN;
  }

  if (flags.json) {
    const { repoDir: _absolute, ...rest } = result;
    io.out(JSON.stringify(rest, null, 2));
    return reported.length > 0 ? EXIT_FOUND : EXIT_CLEAN;
  }
  for (const f of reported) io.out(line(f));
  for (const note of notes(result)) io.err(`note: ${note}`);
  io.out(summary(result, reported.length));
  return reported.length > 0 ? EXIT_FOUND : EXIT_CLEAN;
}

/** The folder to scan and its security.scan settings: from the spec, or a folder with the defaults. */
async function target(
  flags: SecretsFlags,
  io: CliIO,
  env: NodeJS.ProcessEnv,
): Promise<{ repoDir: string; scan: SecretScanSettings | undefined; dir: string }> {
  if (flags.repo) {
    const repoDir = path.resolve(flags.repo);
    const info = await stat(repoDir).catch(() => null);
    if (!info?.isDirectory())
      throw new UserError(`--repo ${flags.repo} is not a folder: name the repository's folder`);
    return { repoDir, scan: undefined, dir: process.cwd() };
  }
  const { loadSpec } = await import("../spec/loader.js");
  const { spec, dir } = await loadSpec(flags.spec, { env, secrets: io.secrets });
  return { repoDir: path.resolve(dir, spec.system.repo), scan: spec.security?.scan, dir };
}

function line(f: ScanFinding): string {
  const level = f.severity === "warn" ? "WARN" : "FAIL";
  const where = terminalText(`${f.path}:${f.line}:${f.column}`);
  const history = f.commit
    ? `  in history only (commit ${f.commit}, ${f.commitDate?.slice(0, 10)}): rotate it`
    : "";
  return `${level}  ${where}  ${f.label} ${f.masked}  [${f.ruleId}]${history}`;
}

function notes(result: ScanResult): string[] {
  const out: string[] = [];
  for (const p of result.paths)
    if (p.state === "missing") out.push(`security.scan.paths: ${terminalText(p.path)} does not exist`);
  if (result.history.state === "unavailable")
    out.push(`history not scanned: ${terminalText(result.history.reason ?? "")}`);
  for (const r of result.history.repositories) {
    if (r.shallow)
      out.push(`${terminalText(r.top)} is a shallow clone: the history before its cut was not scanned`);
  }
  if (result.baseline.state === "missing" || result.baseline.state === "invalid") {
    out.push(`baseline ${terminalText(result.baseline.file ?? "")} not used: ${result.baseline.error}`);
  }
  for (const s of result.baseline.stale) {
    out.push(
      `baseline entry ${s.fingerprint} (${terminalText(s.path)}, ${s.ruleId}) matches nothing: remove it`,
    );
  }
  const skipped = result.files.skipped;
  if (skipped.tooLarge)
    out.push(
      `${skipped.tooLarge} file(s) over the size limit were not read: ${result.files.tooLarge.map(terminalText).join(", ")}`,
    );
  return out;
}

function summary(result: ScanResult, reported: number): string {
  const blobs = result.history.repositories.reduce((n, r) => n + r.scannedBlobs, 0);
  const commits = result.history.repositories.reduce((n, r) => n + r.commits, 0);
  const accepted = result.findings.length - reported;
  const history =
    result.history.state === "scanned" ? ` and ${blobs} history blob(s) of ${commits} commit(s)` : "";
  const baseline = accepted > 0 ? `, ${accepted} accepted by the baseline` : "";
  return `${reported} finding(s) in ${result.files.scanned} file(s)${history}${baseline} (${(result.durationMs / 1000).toFixed(1)} s)`;
}

function toPosix(file: string): string {
  return file.split(path.sep).join("/");
}

export function registerSecrets(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("secrets")
    .description(
      "scan the repository and its git history for secrets, as the noSecretsInRepository check does",
    )
    .option("--spec <file>", "the spec file (system.repo and security.scan)", "gauntlet.yaml")
    .option("--repo <dir>", "scan this folder with the default settings, without a spec")
    .option("--write-baseline <file>", "write every current finding to this file as accepted, and exit 0")
    .option("--json", "print the scan result as JSON (masked values only)")
    .action(async (flags: SecretsFlags) => setExit(await secretsCommand(flags, io)));
}
