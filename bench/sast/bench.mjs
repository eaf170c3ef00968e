// The SAST engine of codeFreeOfDangerousPatterns: Gauntlet's own repository (src/, then everything), and a generated
// tree of N files (JavaScript, TypeScript and Python in equal parts, ~200 lines each, one planted pattern per ten
// files), walked, read and scanned the way the check does it. bandit, when installed, on the same Python files: the
// peer for that part (same files, same machine, one process as the check runs it).
// Usage: npm run build && node bench/sast/bench.mjs [files]
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { scanFiles } from "../../dist/engines/sast/scan.js";
import { listSourceFiles } from "../../dist/engines/sast/sourceFiles.js";

const FILES = Number(process.argv[2] ?? 3_000);
const root = path.resolve(import.meta.dirname, "../..");

async function measure(label, repoDir, paths) {
  const started = performance.now();
  const inventory = await listSourceFiles({ repoDir, paths, exclude: [], maxFileBytes: 1024 * 1024 });
  const walked = performance.now();
  const inputs = inventory.files.map((f) => ({
    absolute: f.absolute,
    language: f.language,
    source: readFileSync(f.absolute, "utf8"),
    utf8: true,
  }));
  const read = performance.now();
  const scans = await scanFiles(inputs);
  const done = performance.now();
  let lines = 0;
  let matches = 0;
  for (const scan of scans.values()) {
    lines += scan.lines;
    matches += scan.matches.length;
  }
  const seconds = (done - started) / 1000;
  console.log(
    `${label}: ${inputs.length} files, ${lines} lines, ${matches} matches in ${seconds.toFixed(2)} s ` +
      `(walk ${Math.round(walked - started)} ms, read ${Math.round(read - walked)} ms, scan ${Math.round(done - read)} ms) — ` +
      `${Math.round(inputs.length / seconds)} files/s, ${Math.round(lines / seconds)} lines/s`,
  );
  return inventory.files;
}

function body(i, language) {
  const lines = [];
  for (let n = 0; n < 40; n++) {
    if (language === "python") {
      lines.push(
        `def handler_${n}(request, db):`,
        `    value = request.args.get("k${n}")`,
        `    rows = db.execute("SELECT * FROM t WHERE id = %s", (value,))`,
        "    return [r for r in rows if r]",
        "",
      );
    } else {
      lines.push(
        `export async function handler${n}(req, db) {`,
        `  const value = req.query.k${n};`,
        "  const rows = await db.query('SELECT * FROM t WHERE id = $1', [value]);",
        "  return rows.filter((r) => r);",
        "}",
      );
    }
  }
  if (i % 10 === 0) {
    lines.push(language === "python" ? 'os.system("rm " + path)' : "eval(req.body.code);");
  }
  return `${lines.join("\n")}\n`;
}

await measure("gauntlet src/", root, ["src"]);
await measure("gauntlet repository", root, ["."]);

const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-bench-sast-"));
try {
  const kinds = [
    ["javascript", "js"],
    ["typescript", "ts"],
    ["python", "py"],
  ];
  for (let i = 0; i < FILES; i++) {
    const [language, ext] = kinds[i % 3];
    const folder = path.join(dir, `pkg${i % 50}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, `module${i}.${ext}`), body(i, language));
  }
  const files = await measure(`generated tree (${FILES} files)`, dir, ["."]);

  const python = files.filter((f) => f.language === "python");
  const sample = python.map((f) => ({
    absolute: f.absolute,
    language: f.language,
    source: readFileSync(f.absolute, "utf8"),
    utf8: true,
  }));
  let started = performance.now();
  await scanFiles(sample);
  const ours = (performance.now() - started) / 1000;
  let bandit = null;
  try {
    started = performance.now();
    execFileSync("bandit", ["-f", "json", "-q", "--", ...python.map((f) => path.relative(dir, f.absolute))], {
      cwd: dir,
      stdio: ["ignore", "ignore", "ignore"],
    });
  } catch (error) {
    // bandit exits 1 when it reports something; ENOENT when it is not installed.
    if (error.code === "ENOENT") bandit = "not installed";
  }
  if (bandit === null) bandit = `${((performance.now() - started) / 1000).toFixed(2)} s`;
  console.log(`Python part (${python.length} files): rule pack ${ours.toFixed(2)} s, bandit ${bandit}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
