import { defineConfig } from "vitest/config";

// `npm run test:unit`: the pure tests (judges from fixtures, parsers, scoring, reporters), with no server started and
// no build; fast enough to run on every save. The full suite (vitest.config.ts) adds integration and end-to-end.
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    globalSetup: ["test/setup/tmpdir.ts"],
    testTimeout: 30_000,
    pool: "forks",
  },
});
