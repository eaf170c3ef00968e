// `gauntlet verify CERT`: one line per check, then VALID or INVALID with the first reason.
// Exit codes: 0 valid, 2 invalid, 3 usage error (a file that does not exist, a key that is not an Ed25519 key).
import type { Command } from "commander";
import { type VerifyOptions, type VerifyResult, verifyCertificate } from "../attest/verify.js";
import { type CliIO, UserError } from "./io.js";

export interface VerifyCommandOptions {
  key?: string;
  /** Evidence folder, or false for --no-evidence. */
  evidence?: string | false;
  /** Spec whose current revision must match the certificate's subject. */
  spec?: string;
  json?: boolean;
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
      "public key to verify with (default: gauntlet.pub beside CERT, then .gauntlet/keys)",
    )
    .option("--evidence <dir>", "evidence folder (default: evidence/ beside CERT)")
    .option("--no-evidence", "verify without the evidence folder (reported as not checked)")
    .option(
      "--spec <path>",
      "spec whose current revision must match the certificate (default: ./gauntlet.yaml)",
    )
    .option("--json", "print the result as JSON")
    .action(async (cert: string, options: VerifyCommandOptions) => {
      setExit(await verifyCommand(cert, options, io));
    });
}

export async function verifyCommand(cert: string, options: VerifyCommandOptions, io: CliIO): Promise<number> {
  const verifyOptions: VerifyOptions = { certPath: cert };
  if (options.key) verifyOptions.publicKeyPath = options.key;
  // commander sets evidence to true when neither --evidence DIR nor --no-evidence is given.
  if (typeof options.evidence === "string" || options.evidence === false)
    verifyOptions.evidenceDir = options.evidence;
  if (options.spec) verifyOptions.repoCheck = { specPath: options.spec };
  if (options.now) verifyOptions.now = options.now;
  if (options.cwd) verifyOptions.cwd = options.cwd;

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
    }
    io.out(summary);
  }
  return result.ok ? 0 : 2;
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
