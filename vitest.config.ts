import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers on fixed loopback ports; files run in parallel, tests within a file in order.
    pool: "forks",
  },
});
