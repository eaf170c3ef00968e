// The canary judge (analyse: percentiles, rollbackOn, Mann–Whitney U on latency and on 0/1 outcomes, Hodges–Lehmann
// shift on 1000 quantiles a side) on N long-tailed latencies a side, and Mann–Whitney U alone.
// Peer: SciPy's scipy.stats.mannwhitneyu (method="asymptotic", alternative="greater") on the same samples, when
// python3 has SciPy; its U and p-value are printed beside ours, so the bench also checks the agreement at size.
// Usage: npm run build && node bench/canary/bench.mjs [samplesPerSide]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { analyse } from "../../dist/engines/canary/judge.js";
import { mannWhitneyGreater } from "../../dist/engines/canary/mannWhitney.js";
import { parseThresholds } from "../../dist/spec/thresholds.js";

const N = Number(process.argv[2] ?? 100_000);

function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Latencies rounded to 0.1 ms, as a client timer gives them: many ties, the case the tie correction is for.
function side(seed, base, errorRate) {
  const random = prng(seed);
  const latenciesMs = [];
  let failures = 0;
  for (let i = 0; i < N; i++) {
    if (random() < errorRate) failures++;
    latenciesMs.push(Math.round((base - Math.log(1 - random()) * 5) * 10) / 10);
  }
  return { latenciesMs, attempts: N, failures };
}

function best(rounds, run) {
  const times = [];
  let result;
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    result = run();
    times.push(performance.now() - started);
  }
  return { best: Math.round(Math.min(...times)), times: times.map(Math.round), result };
}

const baseline = side(1, 20, 0.01);
const canary = side(2, 20.2, 0.012);
const input = {
  baseline,
  canary,
  rollbackOn: parseThresholds(["p(99)>300ms", "errors>5%"]),
  minSamples: 50,
  alpha: 0.05,
  tolerance: { latency: 20, errors: 1 },
};
const judged = best(5, () => analyse(input));
const mwu = best(5, () => mannWhitneyGreater(canary.latenciesMs, baseline.latenciesMs));
console.log(`samples a side: ${N}`);
console.log(`analyse: best ${judged.best} ms of ${judged.times.join("/")} → ${judged.result.verdict}`);
console.log(
  `mannWhitneyGreater: best ${mwu.best} ms of ${mwu.times.join("/")} → U=${mwu.result.u} p=${mwu.result.pValue}`,
);

const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-canary-bench-"));
try {
  const file = path.join(dir, "samples.json");
  writeFileSync(file, JSON.stringify({ x: canary.latenciesMs, y: baseline.latenciesMs }));
  const peer = spawnSync(
    "python3",
    [
      "-c",
      `import json, sys, time
from scipy.stats import mannwhitneyu
d = json.load(open(sys.argv[1])); times = []
for _ in range(5):
    t = time.perf_counter(); r = mannwhitneyu(d["x"], d["y"], alternative="greater", method="asymptotic"); times.append((time.perf_counter() - t) * 1000)
print(f"scipy mannwhitneyu: best {round(min(times))} ms of {'/'.join(str(round(t)) for t in times)} → U={r.statistic} p={r.pvalue}")`,
      file,
    ],
    { encoding: "utf8" },
  );
  console.log(
    peer.status === 0 ? peer.stdout.trim() : `peer not run: ${peer.stderr.trim().split("\n").at(-1)}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
