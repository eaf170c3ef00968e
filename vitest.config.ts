import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup/tmpdir.ts", "test/setup/build.ts", "test/setup/services.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The JSON results feed the plain "N passed, N failed" line that .ci/run prints last.
    reporters: ["default", ["json", { outputFile: ".tmp/test-results.json" }]],
  },
});
