// The dependency-advisory engine on an osv.dev-sized archive: N advisories shaped like GHSA's (one per entry, ~2 KB of
// JSON each, half of them over packages a lockfile holds), zipped as osv.dev's all.zip is, then loaded and matched
// the way dependenciesFreeOfKnownVulnerabilities does it. Also Gauntlet's own package-lock.json, read and matched.
// Usage: npm run build && node bench/advisories/bench.mjs [advisories] [lockfilePackages]
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { zipSync } from "fflate";
import { readLockfile } from "../../dist/engines/advisories/discover.js";
import { judgePackage } from "../../dist/engines/advisories/match.js";
import { loadAdvisories, packageKey } from "../../dist/engines/advisories/sources.js";

const ADVISORIES = Number(process.argv[2] ?? 100_000);
const PACKAGES = Number(process.argv[3] ?? 2_000);
const root = path.resolve(import.meta.dirname, "../..");
const template = JSON.parse(
  readFileSync(path.join(root, "test/fixtures/osv/npm/GHSA-jf85-cpcp-j695.json"), "utf8"),
);
const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-bench-osv-"));

try {
  const files = {};
  const encoder = new TextEncoder();
  let bytes = 0;
  for (let i = 0; i < ADVISORIES; i++) {
    const id = `GHSA-bench-${String(i).padStart(7, "0")}`;
    const advisory = structuredClone(template);
    advisory.id = id;
    advisory.aliases = [`CVE-2099-${i}`];
    advisory.affected[0].package.name = `package-${i % (PACKAGES * 2)}`;
    advisory.affected[0].ranges[0].events = [{ introduced: "0" }, { fixed: `${1 + (i % 7)}.${i % 13}.0` }];
    const text = encoder.encode(JSON.stringify(advisory, null, 2));
    bytes += text.length;
    files[`${id}.json`] = text;
  }
  const zip = path.join(dir, "all.zip");
  writeFileSync(zip, zipSync(files, { level: 6 }));
  const lockfile = Array.from({ length: PACKAGES }, (_, i) => ({
    ecosystem: "npm",
    name: `package-${i}`,
    version: `${1 + (i % 9)}.0.0`,
  }));
  const wanted = new Set(lockfile.map((p) => packageKey(p.ecosystem, p.name)));

  let started = performance.now();
  const loaded = await loadAdvisories([zip], dir, wanted);
  const loadMs = performance.now() - started;
  started = performance.now();
  let vulnerable = 0;
  for (const pkg of lockfile) {
    const verdict = judgePackage(pkg, loaded.relevant.get(packageKey(pkg.ecosystem, pkg.name)) ?? []);
    if (verdict.groups.length > 0) vulnerable++;
  }
  const matchMs = performance.now() - started;

  started = performance.now();
  const own = await readLockfile(root, "package-lock.json", "package-lock");
  const ownMs = performance.now() - started;

  const mb = bytes / 1e6;
  console.log(
    `archive: ${ADVISORIES} advisories, ${mb.toFixed(1)} MB of JSON, ${(statSync(zip).size / 1e6).toFixed(1)} MB zipped`,
  );
  console.log(
    `load: ${(loadMs / 1000).toFixed(2)} s — ${Math.round(ADVISORIES / (loadMs / 1000))} advisories/s, ${(mb / (loadMs / 1000)).toFixed(1)} MB/s unpacked; kept ${[...loaded.relevant.values()].reduce((n, l) => n + l.length, 0)} relevant`,
  );
  console.log(`match: ${PACKAGES} packages in ${matchMs.toFixed(0)} ms (${vulnerable} vulnerable)`);
  console.log(`own package-lock.json: ${own.packages.length} packages read in ${ownMs.toFixed(1)} ms`);
  console.log(`rss: ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
