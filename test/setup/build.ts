// End-to-end tests run the real binary: build it once per test run so they never test stale output. Type errors do
// not stop the build here (tsc still emits, and `npm test` has already type-checked in pretest); they are printed.
import { spawnSync } from "node:child_process";
import path from "node:path";

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, "../..");
  const result = spawnSync(
    process.execPath,
    [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    { cwd: root, encoding: "utf8" },
  );
  if (result.status !== 0) {
    if (!/error TS\d+/.test(`${result.stdout}${result.stderr}`)) {
      throw new Error(`building dist/ failed:\n${result.stdout}${result.stderr}`);
    }
    process.stderr.write(`warning: dist/ built with type errors:\n${result.stdout}`);
  }
}
