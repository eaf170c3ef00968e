#!/usr/bin/env node
// Prints the plain closing line CI reads: "N passed, N failed" (", N skipped" when any), from vitest's JSON results.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? ".tmp/test-results.json";
let results;
try {
  results = JSON.parse(readFileSync(file, "utf8"));
} catch (error) {
  console.error(`no test results at ${file}: ${error.message}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const passed = results.numPassedTests ?? 0;
// A file that failed outside its tests (import error, a failing beforeAll) may report its tests as skipped or none at
// all: count such a file as one failure so it can never read as a clean run.
const brokenFiles = (results.testResults ?? []).filter(
  (f) => f.status === "failed" && !f.assertionResults.some((t) => t.status === "failed"),
);
const failed = (results.numFailedTests ?? 0) + brokenFiles.length;
const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
