// What every command writes to, so commands can be tested by capturing their output instead of spawning a process.
// It carries the invocation's secrets: whatever a command learns is secret (a store URL's password, a header value)
// is registered there and masked in everything it prints.
import { Redactor } from "../secrets/redactor.js";

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
  secrets: Redactor;
}

/** The terminal, for one invocation of the CLI. */
export function processIO(secrets: Redactor = new Redactor()): CliIO {
  return {
    out: (text) => process.stdout.write(secrets.redact(text.endsWith("\n") ? text : `${text}\n`)),
    err: (text) => process.stderr.write(secrets.redact(text.endsWith("\n") ? text : `${text}\n`)),
    isTTY: Boolean(process.stdout.isTTY),
    secrets,
  };
}

export { UserError } from "../errors.js";

/** Captures output in memory (redacted like the terminal's); for tests. */
export function memoryIO(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const secrets = new Redactor();
  return {
    stdout,
    stderr,
    out: (t) => stdout.push(secrets.redact(t)),
    err: (t) => stderr.push(secrets.redact(t)),
    isTTY: false,
    secrets,
  };
}
