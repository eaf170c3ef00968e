// Secret scan throughput on a large repository with history, against `git secrets --scan-history` on the same tree in
// the same run. Builds the repository in a temp folder with `git fast-import` (FILES files of ~MB/FILES bytes of
// code-like text, COMMITS commits each rewriting CHANGED files), plants random tokens (in the working tree and in
// history only), then times `gauntlet secrets --json` (working tree + every history blob; secretlint's preset +
// Gauntlet's rules) and `git secrets --scan-history` (git log -G over every commit, then git grep of the matching
// revisions; AWS patterns + the same token shapes added), ROUNDS times each, alternating.
// Usage: npm run build && node bench/secretScan/bench.mjs [files] [megabytes] [commits]
// Needs: git, git-secrets (Debian: apt-get install -y git-secrets), /usr/bin/time for peak memory.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const FILES = Number(process.argv[2] ?? 5000);
const MEGABYTES = Number(process.argv[3] ?? 50);
const COMMITS = Number(process.argv[4] ?? 200);
const CHANGED = Number(process.env.CHANGED ?? 25);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const root = path.resolve(import.meta.dirname, "../..");
const bin = path.join(root, "dist/cli/bin.js");

for (const [tool, args] of [
  ["git", ["--version"]],
  ["git-secrets", ["--list"]],
]) {
  const probe = spawnSync(tool, args, { stdio: "ignore" });
  if (probe.error) {
    console.error(
      `bench: ${tool} is not installed${tool === "git-secrets" ? " (apt-get install -y git-secrets)" : ""}`,
    );
    process.exit(3);
  }
}
if (spawnSync(process.execPath, [bin, "--version"], { stdio: "ignore" }).status !== 0) {
  console.error("bench: run npm run build first");
  process.exit(3);
}

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const random62 = (n) => [...randomBytes(n)].map((b) => BASE62[b % 62]).join("");
const WORDS =
  "order item price total user session cache retry queue worker config value count index status error result request response handler stream buffer limit offset token".split(
    " ",
  );
const word = () => WORDS[Math.floor(Math.random() * WORDS.length)];

/** ~size bytes of TypeScript-like lines, different every call. */
function codeText(size, seed) {
  const lines = [`// module ${seed}`];
  let length = 0;
  while (length < size) {
    const name = `${word()}${word().replace(/^./, (c) => c.toUpperCase())}${Math.floor(Math.random() * 1000)}`;
    const line =
      Math.random() < 0.3
        ? `export const ${name} = { ${word()}: ${Math.floor(Math.random() * 1e6)}, ${word()}: "${word()}-${word()}" };`
        : `function ${name}(${word()}: number, ${word()}: string): string { return \`\${${word()}}\` + "${word()} ${word()}"; }`;
    lines.push(line);
    length += line.length + 1;
  }
  return `${lines.join("\n")}\n`;
}

const tokens = {
  // An AWS secret access key: 40 characters of base64 (both tools know its assignment shape).
  aws: () => randomBytes(30).toString("base64").replace(/[+/]/g, "A"),
  github: () => `ghp_${random62(36)}`,
  stripe: () => `${"sk"}_live_${random62(24)}`,
};

function buildRepository(dir) {
  execFileSync("git", ["init", "-q", "-b", "main", dir]);
  const fileSize = Math.round((MEGABYTES * 1024 * 1024) / FILES);
  const paths = Array.from({ length: FILES }, (_, i) => `src/m${Math.floor(i / 100)}/f${i}.ts`);
  const chunks = [];
  const push = (text) => chunks.push(typeof text === "string" ? Buffer.from(text) : text);
  const data = (content) => {
    const bytes = Buffer.from(content);
    push(`data ${bytes.length}\n`);
    push(bytes);
    push("\n");
  };
  const planted = { worktree: [], historyOnly: [] };
  let time = 1_700_000_000;
  for (let c = 1; c <= COMMITS; c++) {
    push(`commit refs/heads/main\nmark :${c}\ncommitter bench <bench@example.invalid> ${time++} +0000\n`);
    data(`commit ${c}`);
    if (c > 1) push(`from :${c - 1}\n`);
    const touched =
      c === 1 ? paths : Array.from({ length: CHANGED }, () => paths[Math.floor(Math.random() * FILES)]);
    for (const file of touched) {
      push(`M 100644 inline ${file}\n`);
      data(codeText(fileSize, `${file}@${c}`));
    }
    // Every 40th commit adds a file with a token and the next commit deletes it: a secret in history only.
    if (c % 40 === 10) {
      const [stripe, aws] = [tokens.stripe(), tokens.aws()];
      planted.historyOnly.push(`config/leak-${c}.env`, `config/leak-${c}.env`);
      push(`M 100644 inline config/leak-${c}.env\n`);
      data(`STRIPE_KEY=${stripe}\nAWS_SECRET_ACCESS_KEY=${aws}\n`);
    }
    if (c % 40 === 11) push(`D config/leak-${c - 1}.env\n`);
  }
  execFileSync("git", ["-C", dir, "fast-import", "--quiet"], {
    input: Buffer.concat(chunks),
    maxBuffer: 1 << 30,
  });
  execFileSync("git", ["-C", dir, "checkout", "-q", "-f", "main"]);
  // Tokens in the working tree, committed.
  for (let i = 0; i < 5; i++) {
    const token = i % 2 === 0 ? tokens.github() : tokens.aws();
    planted.worktree.push(`src/m0/secret${i}.ts`);
    const line = i % 2 === 0 ? `export const key = "${token}";` : `const aws_secret_access_key = "${token}";`;
    writeFileSync(path.join(dir, `src/m0/secret${i}.ts`), `${line}\n`);
  }
  execFileSync("git", ["-C", dir, "add", "-A"]);
  execFileSync("git", [
    "-C",
    dir,
    "-c",
    "user.name=bench",
    "-c",
    "user.email=b@example.invalid",
    "commit",
    "-q",
    "-m",
    "keys",
  ]);
  writeFileSync(path.join(dir, "gauntlet.yaml"), "version: 1\nsystem: { name: bench, repo: . }\n");
  // git-secrets' patterns: its AWS set plus the token shapes Gauntlet finds.
  for (const args of [
    ["--register-aws"],
    ["--add", "ghp_[A-Za-z0-9]{36}"],
    ["--add", "sk_live_[A-Za-z0-9]{24,}"],
    ["--add", "xox[baprs]-[A-Za-z0-9-]{10,}"],
    ["--add", "BEGIN[A-Z ]*PRIVATE KEY"],
  ]) {
    execFileSync("git", ["-C", dir, "secrets", ...args]);
  }
  return planted;
}

/** Wall time and peak RSS of a command (through /usr/bin/time when present). */
function timed(command, args, cwd) {
  const useTime = spawnSync("/usr/bin/time", ["--version"], { stdio: "ignore" }).status === 0;
  const started = process.hrtime.bigint();
  const result = useTime
    ? spawnSync("/usr/bin/time", ["-f", "%M", command, ...args], {
        cwd,
        encoding: "utf8",
        maxBuffer: 1 << 28,
      })
    : spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rssKb = useTime ? Number(result.stderr.trim().split("\n").at(-1)) : Number.NaN;
  return {
    seconds,
    rssMb: rssKb / 1024,
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), "gauntlet-secret-bench-"));
try {
  const built = process.hrtime.bigint();
  const planted = buildRepository(dir);
  const buildSeconds = Number(process.hrtime.bigint() - built) / 1e9;
  const rounds = { gauntlet: [], gitSecrets: [] };
  let scan;
  let gitSecretsHits = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const g = timed(process.execPath, [bin, "secrets", "--spec", "gauntlet.yaml", "--json"], dir);
    if (g.status !== 1) throw new Error(`gauntlet secrets exited with ${g.status}: ${g.stderr}`);
    scan = JSON.parse(g.stdout);
    rounds.gauntlet.push({ ...g, scanMs: scan.durationMs });
    const s = timed("git", ["secrets", "--scan-history"], dir);
    if (s.status !== 1)
      throw new Error(`git secrets --scan-history exited with ${s.status}: ${s.stderr.slice(0, 500)}`);
    gitSecretsHits = s.stderr.split("\n").filter((l) => /^[0-9a-f]{40}:/.test(l)).length;
    rounds.gitSecrets.push(s);
  }
  const median = (list) => [...list].sort((a, b) => a.seconds - b.seconds)[Math.floor(list.length / 2)];
  const g = median(rounds.gauntlet);
  const s = median(rounds.gitSecrets);
  const history = scan.history.repositories[0];
  const files = scan.files.scanned + history.scannedBlobs;
  const bytes = scan.files.bytes + history.bytes;
  // Each planted secret is one finding at its file (history ones with a commit); anything else is a false positive.
  const plantedPaths = [...planted.worktree, ...planted.historyOnly];
  const atPlanted = scan.findings.filter((f) => plantedPaths.includes(f.path)).length;
  const result = {
    node: process.version,
    cpus: `${os.cpus()[0]?.model} × ${os.cpus().length}`,
    repository: {
      files: FILES,
      megabytes: MEGABYTES,
      commits: history.commits,
      historyBlobs: history.blobs,
      buildSeconds: Number(buildSeconds.toFixed(1)),
    },
    gauntlet: {
      seconds: Number(g.seconds.toFixed(2)),
      rounds: rounds.gauntlet.map((r) => Number(r.seconds.toFixed(2))),
      peakRssMb: Math.round(g.rssMb),
      worktree: { files: scan.files.scanned, megabytes: Number((scan.files.bytes / 1e6).toFixed(1)) },
      history: { blobs: history.scannedBlobs, megabytes: Number((history.bytes / 1e6).toFixed(1)) },
      filesPerSecond: Math.round(files / g.seconds),
      megabytesPerSecond: Number((bytes / 1e6 / g.seconds).toFixed(1)),
      note: "seconds, files/s and MB/s are the whole process (Node start, spec, listing, history, scan); scanSeconds the scan alone",
      scanSeconds: Number(
        median(rounds.gauntlet.map((r) => ({ seconds: r.scanMs / 1000 }))).seconds.toFixed(2),
      ),
      findings: scan.findings.length,
      planted: plantedPaths.length,
      plantedFound: atPlanted,
      historyOnly: scan.findings.filter((f) => f.commit).length,
    },
    gitSecrets: {
      seconds: Number(s.seconds.toFixed(2)),
      rounds: rounds.gitSecrets.map((r) => Number(r.seconds.toFixed(2))),
      peakRssMb: Math.round(s.rssMb),
      matchLines: gitSecretsHits,
    },
    ratio: `gauntlet is ${(s.seconds / g.seconds).toFixed(2)}× the speed of git secrets --scan-history (time ratio)`,
  };
  console.log(JSON.stringify(result, null, 2));
  if (process.env.BENCH_DEBUG) console.log(JSON.stringify(scan.findings, null, 1), planted);
} finally {
  if (process.env.BENCH_KEEP) console.error(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
