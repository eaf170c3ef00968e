// The coverage report readers of testCoverageAtLeast, on large reports made by scaling the real ones in
// test/fixtures/coverage (each file record copied under N different file names): lcov, Istanbul coverage-final.json,
// Cobertura (coverage.py) and a Go coverprofile, read the way the check reads them (readCoverageReport: stat, read,
// detect, parse). No peer: `go tool cover -func` and lcov's genhtml need the source files, which a scaled report has not.
// Usage: npm run build && node bench/coverage/bench.mjs [files]
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { readCoverageReport } from "../../dist/engines/coverage/report.js";

const FILES = Number(process.argv[2] ?? 5_000);
const fixtures = path.resolve(import.meta.dirname, "../../test/fixtures/coverage");
const read = (f) => readFileSync(path.join(fixtures, f), "utf8");
const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-coverage-bench-"));

function lcov() {
  const record = read("nyc/lcov.info").replace(/^TN:.*\n/m, "");
  return Array.from({ length: FILES }, (_, i) => record.replace(/^SF:.*$/m, `SF:src/module${i}.js`)).join("");
}
function istanbulFinal() {
  const [[, data]] = Object.entries(JSON.parse(read("nyc/coverage-final.json")));
  const map = {};
  for (let i = 0; i < FILES; i++) map[`/src/module${i}.js`] = { ...data, path: `/src/module${i}.js` };
  return JSON.stringify(map);
}
function cobertura() {
  const xml = read("coveragepy/coverage.xml");
  const start = xml.indexOf("<class ");
  const end = xml.indexOf("</class>") + "</class>".length;
  const cls = xml.slice(start, end);
  const classes = Array.from({ length: FILES }, (_, i) => cls.replaceAll("pricing.py", `module${i}.py`)).join(
    "\n",
  );
  // Without the root's totals, so every <line> is counted.
  return (xml.slice(0, start) + classes + xml.slice(end)).replace(
    /\s(lines|branches)-(valid|covered)="\d+"/g,
    "",
  );
}
function goProfile() {
  const [mode, ...blocks] = read("go/coverage.out").trim().split("\n");
  const out = [mode];
  for (let i = 0; i < FILES / 2; i++)
    for (const b of blocks) out.push(b.replace("example.com/shop/", `example.com/shop${i}/`));
  return `${out.join("\n")}\n`;
}

async function measure(name, text, file) {
  const target = path.join(dir, file);
  writeFileSync(target, text);
  const bytes = statSync(target).size;
  const times = [];
  let result;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    result = await readCoverageReport(target);
    times.push(performance.now() - started);
  }
  if (result.state !== "ok") throw new Error(`${name}: ${result.state} ${result.reason}`);
  const best = Math.min(...times);
  const counts = result.report[result.report.primary];
  console.log(
    `${name}: ${(bytes / 1024 / 1024).toFixed(1)} MB, ${result.report.files.length} files, ${counts.valid} ${result.report.primary} — ` +
      `best ${best.toFixed(0)} ms of 3 (${(bytes / 1024 / 1024 / (best / 1000)).toFixed(0)} MB/s)`,
  );
  return target;
}

try {
  await measure("lcov", lcov(), "lcov.info");
  await measure("Istanbul coverage-final.json", istanbulFinal(), "coverage-final.json");
  await measure("Cobertura (coverage.py)", cobertura(), "coverage.xml");
  await measure("Go coverprofile", goProfile(), "coverage.out");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
