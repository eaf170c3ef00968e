// security.scan.exclude, read the same way by every security scan (secrets, dependencies, SAST): one module, so the
// three can never disagree about what a user left out.
import { globToRegExp, isGlob, toPosix } from "./glob.js";

/**
 * A test on paths relative to the repository folder: a plain path leaves out that file or folder, a glob (`*`, `?`,
 * `**`) is anchored at the repository, and one that matches a folder (`fixtures/*`, `legacy/**`) leaves out what is
 * inside it too.
 */
export function excludeMatcher(patterns: readonly string[]): (relative: string) => boolean {
  const tests = patterns.map((raw) => {
    const pattern = toPosix(raw)
      .replace(/^(\.\/)+/, "")
      .replace(/\/+$/, "");
    if (!isGlob(pattern))
      return (relative: string) => relative === pattern || relative.startsWith(`${pattern}/`);
    const whole = globToRegExp(pattern);
    const folder = pattern.endsWith("/**") ? globToRegExp(pattern.slice(0, -3)) : undefined;
    return (relative: string) => {
      if (whole.test(relative) || folder?.test(relative)) return true;
      const segments = relative.split("/");
      for (let i = 1; i < segments.length; i++) if (whole.test(segments.slice(0, i).join("/"))) return true;
      return false;
    };
  });
  return (relative) => tests.some((test) => test(relative));
}
