// The script a spec command runs, when it names one: `./scripts/rollback.sh --fast` or `bash scripts/rollback.sh`.
// A first word with a slash is a path (sh does not search PATH for it); a bare word (`kubectl`, `make`) is a program
// found on PATH, not a file of the repository. Pure: whether the file exists is for the caller to find out.

const SHELLS = new Set(["sh", "bash", "dash", "ksh", "ash", "zsh"]);
/** Words that are plainly one path: no quoting, expansion or operator to interpret. */
const PLAIN_WORD = /^[\w./@+,:~-]+$/;

/** The path (as written, relative to the command's folder or absolute) of the script `command` runs, or null. */
export function scriptOfCommand(command: string): string | null {
  const words = command.trim().split(/\s+/);
  const first = words[0] ?? "";
  if (!PLAIN_WORD.test(first)) return null;
  if (first.includes("/") && !isShell(first)) return first;
  if (!isShell(first)) return null;
  // `bash -e -o pipefail scripts/x.sh`: options first; `bash -c '…'` runs a string, not a file.
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (/^-[a-zA-Z]*c[a-zA-Z]*$/.test(word)) return null;
    if (/^[-+][oO]$/.test(word)) i++;
    else if (!/^[-+]/.test(word)) return PLAIN_WORD.test(word) ? word : null;
  }
  return null;
}

function isShell(word: string): boolean {
  return SHELLS.has(word.slice(word.lastIndexOf("/") + 1));
}
