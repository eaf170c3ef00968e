// Per-test cleanups for tests that start servers: every one runs after each test, newest first, even if one fails,
// so a broken test never leaves a server behind.
import { afterEach } from "vitest";

export function cleanupAfterEach(): (cleanup: () => Promise<void> | void) => void {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    let firstError: unknown;
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError) throw firstError;
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}
