// The compose engine of composeFilesValid and composeServicesHardened (loadComposeProject: read, parse, interpolate,
// validate against the Compose Specification, check references, merge the services), on the 39 real projects of
// test/fixtures/compose/awesome-compose and on one large file made from them: every service of the collection copied
// under N names into one project, sharing x- fragments through anchors and merge keys, with a depends_on chain.
// Peer: docker-compose 1.29 `config -q` on the same large file, when it is installed (it validates less).
// Usage: npm run build && node bench/compose/bench.mjs [copies]
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parse, stringify } from "yaml";
import { loadComposeProject } from "../../dist/engines/compose/composeProject.js";

const COPIES = Number(process.argv[2] ?? 20);
const root = path.resolve(import.meta.dirname, "../../test/fixtures/compose/awesome-compose");
const projects = readdirSync(root, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) =>
    ["compose.yaml", "compose.yml"].map((f) => path.join(root, e.name, f)).find((f) => existsSync(f)),
  );

async function best(rounds, run) {
  const times = [];
  let result;
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    result = await run();
    times.push(performance.now() - started);
  }
  return { best: Math.min(...times), times, result };
}

const collection = await best(3, async () => {
  let services = 0;
  let errors = 0;
  for (const file of projects) {
    const project = await loadComposeProject(file, { root });
    services += project.services.length;
    errors += project.problems.filter((p) => p.severity === "error").length;
  }
  return { services, errors };
});

// One large project: each real service under COPIES names, sharing fragments through <<: *anchors.
const services = {};
let previous;
for (let copy = 0; copy < COPIES; copy++) {
  for (const file of projects) {
    const doc = parse(readFileSync(file, "utf8"), { merge: true });
    for (const [name, body] of Object.entries(doc.services ?? {})) {
      const id = `${path.basename(path.dirname(file))}-${name}-${copy}`
        .toLowerCase()
        .replace(/[^a-z0-9_.-]/g, "-");
      const {
        depends_on: _d,
        networks: _n,
        volumes: _v,
        secrets: _s,
        configs: _c,
        links: _l,
        ...rest
      } = body;
      services[id] = { ...rest, ...(previous ? { depends_on: [previous] } : {}) };
      if (!rest.image && !rest.build) services[id].image = "busybox:1.36";
      previous = id;
    }
  }
}
const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-compose-bench-"));
const big = path.join(dir, "compose.yaml");
// YAML 1.1 quoting ("no" stays a string for the 1.1 parser of docker-compose 1.29).
const body = stringify({ services }, { lineWidth: 0, version: "1.1" }).replace(/^services:\n/, "");
const fragments = "x-defaults: &defaults\n  restart: unless-stopped\n  logging: {driver: json-file}\n";
writeFileSync(
  big,
  `${fragments}services:\n${body.replace(/^ {2}([a-z0-9_.-]+):\n/gm, "  $1:\n    <<: *defaults\n")}`,
);
for (const name of new Set(
  Object.values(services).flatMap((s) => (s.build ? [s.build.context ?? s.build] : [])),
)) {
  if (typeof name === "string") spawnSync("mkdir", ["-p", path.join(dir, name)]);
}
const large = await best(3, () => loadComposeProject(big, { root: dir }));
const bytes = statSync(big).size;

let peer = "docker-compose not installed";
if (spawnSync("docker-compose", ["version"]).status === 0) {
  const timed = await best(3, async () =>
    spawnSync("docker-compose", ["-f", big, "config", "-q"], { cwd: dir }),
  );
  peer = `docker-compose 1.29 config -q: best ${timed.best.toFixed(0)} ms (exit ${timed.result.status})`;
}
rmSync(dir, { recursive: true, force: true });

const ms = (t) => t.map((x) => x.toFixed(0)).join(" / ");
console.log(
  `awesome-compose: ${projects.length} projects, ${collection.result.services} services, ${collection.result.errors} errors: best ${collection.best.toFixed(0)} ms (${ms(collection.times)})`,
);
console.log(
  `one file of ${Object.keys(services).length} services (${(bytes / 1024).toFixed(0)} KiB): best ${large.best.toFixed(0)} ms (${ms(large.times)}), ${large.result.problems.filter((p) => p.severity === "error").length} errors`,
);
console.log(`peer: ${peer}`);
