// What every command writes to, so commands can be tested by capturing their output instead of spawning a process.
import { redactor } from "../core/redact.js";

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
}

export const processIO: CliIO = {
  out: (text) => process.stdout.write(redactor.redact(text.endsWith("\n") ? text : `${text}\n`)),
  err: (text) => process.stderr.write(redactor.redact(text.endsWith("\n") ? text : `${text}\n`)),
  isTTY: Boolean(process.stdout.isTTY),
};

export { UserError } from "../core/errors.js";

/** Captures output in memory; for tests. */
export function memoryIO(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), isTTY: false };
}
