// The shared servers the test run starts (scripts/services.sh via test/setup/services.ts). A test that needs one and
// finds it missing fails with the reason and the fix: integration tests are never skipped in silence.
import { accessSync, constants } from "node:fs";

const HOW = "run the suite with `npm test` (it starts them), after `bash scripts/install-test-deps.sh`";

export function sharedPostgresUrl(): string {
  const url = process.env.GAUNTLET_TEST_PG_URL;
  if (!url) throw new Error(`no test PostgreSQL (GAUNTLET_TEST_PG_URL is unset): ${HOW}`);
  return url;
}

export function sharedRedisUrl(): string {
  const url = process.env.GAUNTLET_TEST_REDIS_URL;
  if (!url) throw new Error(`no test Redis (GAUNTLET_TEST_REDIS_URL is unset): ${HOW}`);
  return url;
}

/** The absolute path of a tool the test needs, or an error saying how to install it. */
export function requireTool(name: string, pkg = name): string {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = `${dir}/${name}`;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error(
    `${name} is not installed: apt-get install ${pkg} (scripts/install-test-deps.sh installs it)`,
  );
}
