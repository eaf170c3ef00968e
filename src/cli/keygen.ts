// `gauntlet keygen`: creates the Ed25519 key pair that signs certificates.
import path from "node:path";
import type { Command } from "commander";
import { DEFAULT_KEY_DIR, generateKeyPair } from "../attest/keys.js";
import { type CliIO, UserError } from "./io.js";

export interface KeygenOptions {
  out?: string;
  force?: boolean;
}

export function registerKeygen(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("keygen")
    .description("create an Ed25519 key pair for signing certificates (gauntlet.key, gauntlet.pub)")
    .option("--out <dir>", "folder for the key pair", DEFAULT_KEY_DIR)
    .option("--force", "replace an existing key pair", false)
    .action(async (options: KeygenOptions) => {
      setExit(await keygenCommand(options, io));
    });
}

/** Returns the exit code: 0 on success, 3 when the user must change something (existing key, unwritable folder). */
export async function keygenCommand(options: KeygenOptions, io: CliIO): Promise<number> {
  const out = options.out ?? DEFAULT_KEY_DIR;
  try {
    const keys = await generateKeyPair(path.resolve(out), { force: Boolean(options.force) });
    io.out(`private key  ${path.join(out, path.basename(keys.privateKeyPath))}  (mode 0600: keep it secret)`);
    io.out(
      `public key   ${path.join(out, path.basename(keys.publicKeyPath))}  (share it with whoever verifies)`,
    );
    io.out(`keyid        ${keys.keyid}`);
    return 0;
  } catch (error) {
    if (error instanceof UserError) {
      io.err(`error: ${error.message}`);
      return error.exitCode;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM" || code === "ENOTDIR" || code === "EROFS") {
      io.err(`error: cannot write keys to ${out} (${code}); choose another folder with --out DIR.`);
      return 3;
    }
    throw error;
  }
}
