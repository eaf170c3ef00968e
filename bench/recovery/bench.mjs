// The restore drill of restoreDrillSucceeds (src/engines/recovery/) against a bare pg_restore, per database size.
// A source PostgreSQL on a loopback port holds generated orders and invoices (generate_series) of about 10 MB, 100 MB
// and 1 GB; one real `pg_dump -Fc` of each is restored, in alternating rounds of the same run:
//  (a) bare: pg_restore --exit-on-error --no-owner --no-privileges (Gauntlet's flags) into a fresh empty database of a
//      separately started cluster, configured as Gauntlet's scratch is (the engine's own startScratchPostgres);
//  (b) Gauntlet: the check's observe() and judge() as a run calls them, which must PASS: scratch start-up (initdb +
//      start), the restore time the check reports, and the comparison (per-table counts and checksums of the source
//      and of the restored copy) reported apart; "drill" is their sum, "wall" the whole observe() with its clean-up.
// Medians go to stdout and to bench/recovery/RESULTS.md and results.json (--out elsewhere). Every cluster, folder and
// process is removed at the end, on failure and on Ctrl-C. --checksums also times cheaper checksum queries on the
// sources, and the two fingerprints run at once, for the comparison step's cost.
// Usage: npm run build && node bench/recovery/bench.mjs [--sizes 10MB,100MB,1GB] [--rounds 3] [--big-rounds 2]
//        [--checksums] [--out DIR]
import { execFileSync, spawn } from "node:child_process";
import { setMaxListeners } from "node:events";
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import check from "../../dist/checks/recovery/restoreDrillSucceeds.js";
import { createCheckContext } from "../../dist/core/context.js";
import { EvidenceStore } from "../../dist/core/evidence.js";
import { RollbackLedger } from "../../dist/core/rollbacks.js";
import { connect, fingerprintDatabase } from "../../dist/engines/recovery/postgresFingerprint.js";
import { findPostgresTools, serverArgv } from "../../dist/engines/recovery/postgresTools.js";
import { startScratchPostgres } from "../../dist/engines/recovery/scratchPostgres.js";
import { specSchema } from "../../dist/spec/schema.js";

const root = path.resolve(import.meta.dirname, "../..");
const usage = (message) => {
  console.error(
    `bench: ${message}\nUsage: node bench/recovery/bench.mjs [--sizes 10MB,100MB,1GB] [--rounds 3] [--big-rounds 2] [--checksums] [--out DIR]`,
  );
  process.exit(2);
};
const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "10MB,100MB,1GB" },
    rounds: { type: "string", default: "3" },
    "big-rounds": { type: "string", default: "2" },
    checksums: { type: "boolean", default: false },
    out: { type: "string", default: path.join(root, "bench/recovery") },
  },
});
const SIZES = args.sizes.split(",").map((text) => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(MB|GB)\s*$/i.exec(text);
  if (!m) usage(`--sizes: "${text}" is not a size like 10MB or 1GB`);
  return {
    label: `${m[1]} ${m[2].toUpperCase()}`,
    bytes: Number(m[1]) * (m[2].toUpperCase() === "GB" ? 1e9 : 1e6),
  };
});
const ROUNDS = Number(args.rounds);
const BIG_ROUNDS = Number(args["big-rounds"]);
for (const [flag, n] of [
  ["--rounds", ROUNDS],
  ["--big-rounds", BIG_ROUNDS],
]) {
  if (!Number.isInteger(n) || n < 1) usage(`${flag}: write a whole number of rounds, at least 1`);
}
// Measured on PostgreSQL 15: an order row with its primary key takes ~132 bytes, an invoice ~116; half as many invoices.
const BYTES_PER_ORDER = 132 + 58;
const CHUNK = 500_000;

const ledger = new RollbackLedger();
const scope = ledger.open("bench/recovery");
const controller = new AbortController();
const signal = controller.signal;
// One signal for the whole bench: every connection and program of every round listens to it.
setMaxListeners(0, signal);
let cleaning;
const cleanup = () => {
  cleaning ??= ledger.closeAll();
  return cleaning;
};
for (const name of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(name, () => {
    console.error(`\n${name}: stopping; removing the bench's clusters and folders…`);
    controller.abort(new Error(`interrupted (${name})`));
    void cleanup().then((failures) => {
      for (const f of failures) console.error(`clean-up failed: ${f.name}: ${f.error}`);
      process.exit(130);
    });
  });
}

const found = await findPostgresTools();
if (!found.ok) {
  console.error(`bench: ${found.reason} (${found.fix})`);
  process.exit(3);
}
const tools = found.tools;

// Everything lives in one folder, the scratch clusters too (TMPDIR is where the engine makes them): removing it
// removes all, and nothing appears beside other runs' scratch folders in /tmp. The server user must cross it.
const work = await mkdtemp(path.join(os.tmpdir(), "gauntlet-bench-recovery-"));
scope.add("remove the bench folder", () => rm(work, { recursive: true, force: true }));
await chmod(work, 0o711);
process.env.TMPDIR = work;

const ms = (n) => `${Math.round(n).toLocaleString("en-US")} ms`;
const s = (n) => `${(n / 1000).toFixed(2)} s`;
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

function run(program, argv, options = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(program, argv, { stdio: ["ignore", "ignore", "pipe"], signal, ...options });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.once("error", reject);
    child.once("close", (code, sig) => {
      const durationMs = performance.now() - started;
      if (code === 0) resolve({ durationMs, stderr });
      else
        reject(new Error(`${path.basename(program)} exited ${code ?? sig}: ${stderr.trim().slice(-2000)}`));
    });
  });
}

async function query(connection, sql) {
  const client = connect(connection, signal);
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The source: the engine's scratch cluster, opened on a loopback port (a spec's url needs a host), restarted. */
async function startSource() {
  const cluster = await startScratchPostgres({ tools, rollbacks: scope, signal });
  const port = await freePort();
  await query(cluster.connection("postgres"), `ALTER SYSTEM SET listen_addresses TO '127.0.0.1'`);
  await query(cluster.connection("postgres"), `ALTER SYSTEM SET port TO ${port}`);
  const data = path.join(cluster.dir, "data");
  await run(
    ...serverArgv(tools, "pg_ctl", [
      "-D",
      data,
      "-w",
      "-t",
      "60",
      "-l",
      path.join(cluster.dir, "server.log"),
      "restart",
    ]),
  );
  return { url: (db) => `postgres://postgres@127.0.0.1:${port}/${db}` };
}

/** Orders (text, int, timestamptz, jsonb) and invoices (numeric, boolean, text) of about `bytes`. */
async function generate(source, db, bytes) {
  await query(source.url("postgres"), `CREATE DATABASE ${db}`);
  const orders = Math.round(bytes / BYTES_PER_ORDER);
  const client = connect(source.url(db), signal);
  await client.connect();
  try {
    await client.query(`
      CREATE TABLE orders (id bigserial PRIMARY KEY, sku text NOT NULL, qty int NOT NULL, placed timestamptz NOT NULL, note jsonb);
      CREATE SCHEMA billing;
      CREATE TABLE billing.invoices (id bigint PRIMARY KEY, order_id bigint NOT NULL, amount numeric(12,2) NOT NULL, paid boolean NOT NULL, memo text)`);
    for (let from = 1; from <= orders; from += CHUNK) {
      signal.throwIfAborted();
      const to = Math.min(orders, from + CHUNK - 1);
      await client.query(`
        INSERT INTO orders (sku, qty, placed, note)
        SELECT 'SKU-' || (g % 9973), g % 7 + 1, timestamptz '2026-01-01' + g * interval '17 seconds',
               jsonb_build_object('g', g, 'channel', (ARRAY['web', 'app', 'store'])[g % 3 + 1])
        FROM generate_series(${from}, ${to}) g`);
      await client.query(`
        INSERT INTO billing.invoices
        SELECT g, g * 2, (g % 100000) * 1.25, g % 2 = 0, md5(g::text)
        FROM generate_series(${Math.ceil(from / 2)}, ${Math.floor(to / 2)}) g`);
    }
    await client.query("VACUUM ANALYZE");
    const [row] = (
      await client.query(`
        SELECT pg_database_size(current_database())::text AS db,
               (pg_total_relation_size('orders') + pg_total_relation_size('billing.invoices'))::text AS tables,
               (SELECT count(*) FROM orders)::text AS orders, (SELECT count(*) FROM billing.invoices)::text AS invoices`)
    ).rows;
    return {
      databaseBytes: Number(row.db),
      tableBytes: Number(row.tables),
      rows: Number(row.orders) + Number(row.invoices),
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/** (a) The peer: pg_restore into a new empty database of the baseline cluster, then dropped and checkpointed. */
async function bareRestore(baseline, dump, name, expectedRows) {
  await query(baseline.connection("postgres"), `CREATE DATABASE ${name}`);
  try {
    const c = baseline.connection(name);
    const { durationMs } = await run(path.join(tools.bin, "pg_restore"), [
      ...["-h", c.host, "-p", String(c.port), "-U", c.user, "-d", name],
      ...["--exit-on-error", "--no-owner", "--no-privileges", dump],
    ]);
    const [row] = await query(
      c,
      "SELECT ((SELECT count(*) FROM orders) + (SELECT count(*) FROM billing.invoices))::text AS n",
    );
    if (Number(row.n) !== expectedRows)
      throw new Error(`bare restore holds ${row.n} rows, not ${expectedRows}`);
    return durationMs;
  } finally {
    await query(baseline.connection("postgres"), `DROP DATABASE IF EXISTS ${name}`);
    await query(baseline.connection("postgres"), "CHECKPOINT");
  }
}

/** (b) Gauntlet: the check as a run calls it, in its own rollback scope; its verdict must be the PASS. */
async function gauntletDrill(specDir, spec, round) {
  let drillFailures = [];
  const drillScope = ledger.open(`restoreDrillSucceeds round ${round}`);
  const evidence = new EvidenceStore(path.join(specDir, `evidence-${round}`));
  const ctx = createCheckContext({
    spec,
    specPath: path.join(specDir, "gauntlet.yaml"),
    checkId: check.meta.id,
    evidence,
    rollbacks: drillScope,
    signal,
    env: process.env,
  });
  const started = performance.now();
  let observation;
  let wallMs;
  try {
    observation = await check.observe(ctx);
    wallMs = performance.now() - started;
  } finally {
    // The drill removes its scratch itself; what is left here ran on failure or Ctrl-C.
    drillFailures = await ledger.close(drillScope);
  }
  if (drillFailures.length > 0) throw new Error(`drill clean-up failed: ${JSON.stringify(drillFailures)}`);
  const findings = check.judge(observation, ctx.spec);
  const verdict = findings.map((f) => `${f.subject} ${f.status} ${f.messageId}`).join("; ");
  const o = observation.drills[0]?.outcome;
  if (verdict !== "db PASS restored" || !o?.cleanedUp || !o.postgres?.tables?.every((t) => t.match)) {
    throw new Error(`the drill did not PASS: ${verdict}\n${findings.map((f) => f.message).join("\n")}`);
  }
  const compareMs = o.postgres.source.durationMs + o.postgres.restored.durationMs;
  return {
    startMs: o.scratchStartMs,
    restoreMs: o.restore.durationMs,
    sourceFingerprintMs: o.postgres.source.durationMs,
    restoredFingerprintMs: o.postgres.restored.durationMs,
    compareMs,
    drillMs: o.scratchStartMs + o.restore.durationMs + compareMs,
    wallMs,
  };
}

/** Cheaper checksums over the same source rows, each timed on a warm cache, for the comparison step. */
const CHECKSUMS = {
  "md5(t::text) → numeric sum (today)":
    "coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint::numeric), 0)::text",
  "hashtextextended(t::text, 0) → numeric sum":
    "coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text",
  "hashtextextended(t::text, 0) → bigint sum": "coalesce(sum(hashtextextended(t::text, 0)), 0)::text",
  "hash_record_extended(t, 0) → bigint sum (PG 14+)": "coalesce(sum(hash_record_extended(t, 0)), 0)::text",
  "count(*) only (floor)": "count(*)::text",
};

async function checksumVariants(url) {
  const out = {};
  for (const [label, expr] of Object.entries(CHECKSUMS)) {
    let total = 0;
    for (const table of ["public.orders", "billing.invoices"]) {
      await query(url, `SELECT ${expr} FROM ONLY ${table} t`); // warm
      const started = performance.now();
      await query(url, `SELECT ${expr} FROM ONLY ${table} t`);
      total += performance.now() - started;
    }
    out[label] = total;
  }
  return out;
}

const machine = () => {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim()} × ${cpus.length}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Linux ${os.release()}, Node ${process.version}`;
};

const results = { date: new Date().toISOString(), machine: machine(), postgres: "", sizes: [] };
let exitCode = 0;
try {
  results.postgres = execFileSync(path.join(tools.bin, "postgres"), ["--version"], {
    encoding: "utf8",
  }).trim();
  console.log(`${results.machine}; ${results.postgres}; work folder ${work}`);
  const source = await startSource();
  const baseline = await startScratchPostgres({ tools, rollbacks: scope, signal });
  for (const size of SIZES) {
    const rounds = size.bytes >= 1e9 ? BIG_ROUNDS : ROUNDS;
    const db = `bench_${size.label.replace(/\W/g, "").toLowerCase()}`;
    const specDir = path.join(work, db);
    await mkdir(path.join(specDir, "backups"), { recursive: true });
    let started = performance.now();
    const generated = await generate(source, db, size.bytes);
    const generateMs = performance.now() - started;
    const dump = path.join(specDir, "backups", `${db}.dump`);
    const { durationMs: dumpMs } = await run(path.join(tools.bin, "pg_dump"), [
      "-Fc",
      "-d",
      source.url(db),
      "-f",
      dump,
    ]);
    const dumpBytes = (await stat(dump)).size;
    console.log(
      `${size.label}: ${generated.rows.toLocaleString("en-US")} rows, tables ${mb(generated.tableBytes)}, database ${mb(generated.databaseBytes)} (generated in ${s(generateMs)}); pg_dump -Fc ${mb(dumpBytes)} in ${s(dumpMs)}; load ${load()}`,
    );
    const spec = specSchema.parse({
      version: 1,
      system: { name: "bench-recovery" },
      services: { db: { kind: "postgres", url: source.url(db) } },
      recovery: {
        backups: [{ service: "db", path: "backups/*.dump", maxAge: "1d" }],
        restoreDrill: { service: "db", maxDuration: "2h" },
      },
    });
    await writeFile(path.join(specDir, "gauntlet.yaml"), "# the spec is built in bench/recovery/bench.mjs\n");
    const bare = [];
    const drills = [];
    const loads = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so neither always meets the other's dirty pages or a neighbour's burst.
      const order = round % 2 === 0 ? ["bare", "gauntlet"] : ["gauntlet", "bare"];
      for (const which of order) {
        if (which === "bare")
          bare.push(await bareRestore(baseline, dump, `bare_${db}_${round}`, generated.rows));
        else drills.push(await gauntletDrill(specDir, spec, round));
      }
      const d = drills.at(-1);
      loads.push(load());
      console.log(
        `  round ${round + 1}/${rounds}: bare pg_restore ${ms(bare.at(-1))} | Gauntlet start ${ms(d.startMs)}, restore ${ms(d.restoreMs)}, compare ${ms(d.compareMs)} (source ${ms(d.sourceFingerprintMs)}, restored ${ms(d.restoredFingerprintMs)}), wall ${ms(d.wallMs)}; load ${loads.at(-1)}`,
      );
    }
    const med = (key) => median(drills.map((d) => d[key]));
    const entry = {
      label: size.label,
      rows: generated.rows,
      tableBytes: generated.tableBytes,
      databaseBytes: generated.databaseBytes,
      dumpBytes,
      generateMs: Math.round(generateMs),
      dumpMs: Math.round(dumpMs),
      rounds,
      loads,
      bare: bare.map(Math.round),
      drills: drills.map((d) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Math.round(v)]))),
      median: {
        bareMs: Math.round(median(bare)),
        startMs: Math.round(med("startMs")),
        restoreMs: Math.round(med("restoreMs")),
        compareMs: Math.round(med("compareMs")),
        drillMs: Math.round(med("drillMs")),
        wallMs: Math.round(med("wallMs")),
      },
    };
    entry.restoreRatio = entry.median.restoreMs / entry.median.bareMs;
    // Each round's two restores ran minutes apart at most: their ratio drifts less with a neighbour's load.
    entry.roundRatios = drills.map((d, i) => Number((d.restoreMs / bare[i]).toFixed(3)));
    entry.pairedRestoreRatio = median(entry.roundRatios);
    entry.drillRatio = entry.median.drillMs / entry.median.bareMs;
    entry.wallRatio = entry.median.wallMs / entry.median.bareMs;
    entry.compareShare = entry.median.compareMs / entry.median.drillMs;
    console.log(
      `  median: bare ${ms(entry.median.bareMs)}; Gauntlet restore ${ms(entry.median.restoreMs)} = ${entry.restoreRatio.toFixed(3)}× (goal ≤ 1.10; round by round ${entry.roundRatios.join(", ")}, median ${entry.pairedRestoreRatio.toFixed(3)}×); drill ${ms(entry.median.drillMs)} = ${entry.drillRatio.toFixed(2)}× (compare ${Math.round(entry.compareShare * 100)} % of it); wall ${entry.wallRatio.toFixed(2)}×`,
    );
    if (args.checksums) {
      entry.checksums = await checksumVariants(source.url(db));
      started = performance.now();
      await Promise.all([
        fingerprintDatabase(source.url(db), signal),
        fingerprintDatabase(source.url(db), signal),
      ]);
      entry.twoFingerprintsAtOnceMs = Math.round(performance.now() - started);
      started = performance.now();
      await fingerprintDatabase(source.url(db), signal);
      await fingerprintDatabase(source.url(db), signal);
      entry.twoFingerprintsInTurnMs = Math.round(performance.now() - started);
      for (const [label, t] of Object.entries(entry.checksums)) console.log(`  checksum ${label}: ${ms(t)}`);
      console.log(
        `  two fingerprints of the source: one after the other ${ms(entry.twoFingerprintsInTurnMs)}, at once ${ms(entry.twoFingerprintsAtOnceMs)}`,
      );
    }
    results.sizes.push(entry);
    // The next size needs the disk more than this one's copy.
    await query(source.url("postgres"), `DROP DATABASE ${db}`);
    await rm(specDir, { recursive: true, force: true });
  }
} catch (error) {
  if (!signal.aborted) {
    console.error(`bench failed: ${error instanceof Error ? error.message : error}`);
    exitCode = 1;
  }
} finally {
  const failures = await cleanup();
  for (const f of failures) console.error(`clean-up failed: ${f.name}: ${f.error}`);
  if (failures.length > 0) exitCode = 1;
}
if (signal.aborted) await new Promise(() => {}); // the signal handler exits
if (exitCode !== 0 || results.sizes.length === 0) process.exit(exitCode || 1);

const command = `node bench/recovery/bench.mjs --sizes ${SIZES.map((z) => z.label.replace(" ", "")).join(",")} --rounds ${ROUNDS} --big-rounds ${BIG_ROUNDS}${args.checksums ? " --checksums" : ""}`;
const row = (e) =>
  `| ${e.label} | ${e.rows.toLocaleString("en-US")} | ${mb(e.tableBytes)} | ${mb(e.dumpBytes)} | ${e.rounds} | ${s(e.median.bareMs)} | ${s(e.median.startMs)} | ${s(e.median.restoreMs)} | **${e.restoreRatio.toFixed(3)}×** ${e.restoreRatio <= 1.1 ? "✓" : "✗"} | ${s(e.median.compareMs)} | ${s(e.median.drillMs)} | **${e.drillRatio.toFixed(2)}×** | ${s(e.median.wallMs)} |`;
const rounds = (e) =>
  `- ${e.label} (load ${e.loads.join(" / ")}): bare ${e.bare.map(s).join(", ")}; Gauntlet restore ${e.drills.map((d) => s(d.restoreMs)).join(", ")} (÷ bare round by round ${e.roundRatios.map((r) => `${r.toFixed(2)}×`).join(", ")}, median **${e.pairedRestoreRatio.toFixed(2)}×**), start ${e.drills.map((d) => s(d.startMs)).join(", ")}, compare ${e.drills.map((d) => `${s(d.compareMs)} (${s(d.sourceFingerprintMs)} + ${s(d.restoredFingerprintMs)})`).join(", ")}`;
const measured = results.sizes.filter((e) => e.checksums);
const cells = (f) => measured.map((e) => s(f(e))).join(" | ");
const checksumTable =
  measured.length === 0
    ? ""
    : `
## The comparison step: cheaper checksums (source only, warm cache, both tables)

| checksum | ${measured.map((e) => e.label).join(" | ")} |
|---|${measured.map(() => "---:").join("|")}|
${Object.keys(CHECKSUMS)
  .map((label) => `| ${label} | ${cells((e) => e.checksums[label])} |`)
  .join("\n")}
| two fingerprints (today's), one after the other | ${cells((e) => e.twoFingerprintsInTurnMs)} |
| the same two at once (Promise.all) | ${cells((e) => e.twoFingerprintsAtOnceMs)} |
`;
const md = `# Restore drill benchmark (restoreDrillSucceeds)

Date: ${results.date}
Machine: ${results.machine}
PostgreSQL: ${results.postgres} (${tools.bin}), every cluster with the defaults the engine's scratch cluster has
Command: \`npm run build && ${command}\`

Per size, one real \`pg_dump -Fc\` of generated orders and invoices (\`generate_series\`; text, int, timestamptz, jsonb,
numeric, boolean, two primary keys) restored in alternating rounds: **bare** is \`pg_restore --exit-on-error --no-owner
--no-privileges\` into a new empty database of a separately started cluster; **Gauntlet** is restoreDrillSucceeds'
\`observe()\` + \`judge()\` (PASS every round), with its scratch start-up (initdb + start), the restore time it reports
(what it judges as the RTO), and the comparison (per-table counts and checksums, source then restored copy) apart.
*drill* = start + restore + compare; *wall* = the whole \`observe()\` including removing the scratch cluster. Medians.

| size | rows | tables | dump | rounds | bare pg_restore | scratch start | Gauntlet restore | restore ÷ bare (goal ≤ 1.10) | compare | drill | drill ÷ bare | wall |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${results.sizes.map(row).join("\n")}

Both sides run the same pg_restore with the same flags; what differs is the cluster (started seconds before the
drill's restore, long-lived for the bare one) and the neighbours' load, so on a shared machine read the rounds below,
and the round-by-round ratio (the two restores of a round ran back to back), before the ratio of the medians.

Every round:
${results.sizes.map(rounds).join("\n")}
${checksumTable}`;
await mkdir(args.out, { recursive: true });
await writeFile(path.join(args.out, "RESULTS.md"), md);
// Arrays of plain values on one line, as the repository's formatter (Biome) writes them.
const json = JSON.stringify({ command, ...results }, null, 2).replace(
  /\[\n\s*([^[\]{}]*?)\n\s*\]/g,
  (_, items) => `[${items.split(/,\n\s*/).join(", ")}]`,
);
await writeFile(path.join(args.out, "results.json"), `${json}\n`);
console.log(`wrote ${path.relative(process.cwd(), path.join(args.out, "RESULTS.md"))} and results.json`);
