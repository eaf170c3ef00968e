// What the CLI prints that it did not write itself — paths, names, reasons and conditions that come from a spec or a
// stored run — goes through here, escaped like spec problems are (see spec/printable.ts). Data a command emits on
// purpose (`report` to stdout) is not text for a person and stays byte-exact.
import { printable } from "../spec/printable.js";

/** One field of spec-derived text, safe to print inside a line on a terminal. */
export function terminalText(text: string): string {
  return printable(text);
}
