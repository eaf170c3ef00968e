// `gauntlet verify CERT`: one line per check, then VALID or INVALID with the first reason.
// Exit codes: 0 valid, 2 invalid, 3 usage error (a file that does not exist, a key that is not an Ed25519 key),
// 5 valid but its verdict is below --require (a genuine NOT READY certificate must not pass a CI gate).
import type { Command } from "commander";
import type { VerifyOptions, VerifyResult } from "../attest/verify.js";
import { type CliIO, UserError } from "./io.js";

export interface VerifyCommandOptions {
  key?: string;
  /** Evidence folder, or false for --no-evidence. */
  evidence?: string | false;
  /** Spec whose current revision must match the certificate's subject. */
  spec?: string;
  json?: boolean;
  /** Lowest verdict that counts as a pass: CERTIFIED or CONDITIONAL. */
  require?: string;
  /** For tests: the clock and the folder that stands for the current directory. */
  now?: Date;
  cwd?: string;
}

export function registerVerify(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("verify")
    .description("verify a certificate: signature, validity window, evidence digests and revision")
    .argument("<cert>", "certificate file (DSSE envelope)")
    .option(
      "--key <pub>",
      "the issuer's public key (default: .gauntlet/keys/gauntlet.pub; a key beside CERT is never trusted)",
    )
    .option("--evidence <dir>", "evidence folder (default: evidence/ beside CERT)")
    .option("--no-evidence", "verify without the evidence folder (reported as not checked)")
    .option(
      "--spec <path>",
      "spec whose current revision must match the certificate (default: ./gauntlet.yaml)",
    )
    .option(
      "--require <verdict>",
      "also fail (exit 5) unless the verdict is at least CERTIFIED or CONDITIONAL",
    )
    .option("--json", "print the result as JSON")
    .action(async (cert: string, options: VerifyCommandOptions) => {
      setExit(await verifyCommand(cert, options, io));
    });
}

const VERDICT_RANK: Record<string, number> = { "NOT READY": 0, CONDITIONAL: 1, CERTIFIED: 2 };
export const EXIT_VERDICT_BELOW_REQUIRED = 5;

export async function verifyCommand(cert: string, options: VerifyCommandOptions, io: CliIO): Promise<number> {
  const required = options.require?.toUpperCase();
  if (required !== undefined && !(required in VERDICT_RANK && required !== "NOT READY")) {
    throw new UserError(`--require ${options.require}: write CERTIFIED or CONDITIONAL`);
  }
  const verifyOptions: VerifyOptions = { certPath: cert };
  if (options.key) verifyOptions.publicKeyPath = options.key;
  // commander sets evidence to true when neither --evidence DIR nor --no-evidence is given.
  if (typeof options.evidence === "string" || options.evidence === false)
    verifyOptions.evidenceDir = options.evidence;
  if (options.spec) verifyOptions.repoCheck = { specPath: options.spec };
  if (options.now) verifyOptions.now = options.now;
  if (options.cwd) verifyOptions.cwd = options.cwd;

  const { verifyCertificate } = await import("../attest/verify.js");
  let result: VerifyResult;
  try {
    result = await verifyCertificate(verifyOptions);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    if (options.json) io.out(JSON.stringify({ valid: false, error: error.message }, null, 2));
    else io.err(`error: ${error.message}`);
    return error.exitCode;
  }

  const summary = summarize(result);
  if (options.json) {
    const predicate = result.statement?.predicate;
    io.out(
      JSON.stringify(
        {
          valid: result.ok,
          summary,
          results: result.results,
          signatures: result.signatures ?? [],
          certificate: predicate
            ? {
                system: predicate.system,
                verdict: predicate.verdict,
                overall: predicate.overall,
                coverage: predicate.coverage,
                issuedAt: predicate.issuedAt,
                validUntil: predicate.validUntil,
                revision: predicate.revision,
                runId: predicate.runId,
              }
            : null,
        },
        null,
        2,
      ),
    );
  } else {
    const width = Math.max(...result.results.map((r) => r.check.length));
    for (const r of result.results) {
      const mark = r.skipped ? "–" : r.ok ? "✓" : "✗";
      io.out(`${mark} ${r.check.padEnd(width)}  ${r.detail}`);
      // With several signatures, each gets a line: a bogus extra one must be visible, not counted in silence.
      if (r.check === "signature" && (result.signatures?.length ?? 0) > 1) {
        for (const s of result.signatures!) {
          io.out(`    ${s.ok ? "✓" : "✗"} #${s.index} keyid ${shortKeyid(s.keyid)}  ${s.detail}`);
        }
      }
    }
    io.out(summary);
  }
  if (!result.ok) return 2;
  const verdict = result.statement!.predicate.verdict;
  if (required && VERDICT_RANK[verdict]! < VERDICT_RANK[required]!) {
    io.err(`verdict ${verdict} is below the required ${required}`);
    return EXIT_VERDICT_BELOW_REQUIRED;
  }
  return 0;
}

function summarize(result: VerifyResult): string {
  if (!result.ok) {
    const failed = result.results.find((r) => !r.ok)!;
    return `INVALID: ${failed.check}: ${failed.detail}`;
  }
  const predicate = result.statement!.predicate;
  const skipped = result.results.filter((r) => r.skipped).map((r) => r.check);
  const note = skipped.length ? ` (not checked: ${skipped.join(", ")})` : "";
  return `VALID: ${predicate.system.name} ${predicate.verdict}, valid until ${predicate.validUntil}${note}`;
}

function shortKeyid(keyid: string): string {
  return keyid.length > 16 ? `${keyid.slice(0, 16)}…` : keyid || "(empty)";
}
