// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} references are part of the inputs under test.
// Seeded fuzzing of the spec loader: a few hundred mutations of the real specs (examples/*/gauntlet.yaml and
// test/fixtures/specs/*) plus the pathological specs that once crashed or hung `validate`, in-process and through the
// built CLI. Whatever the input: exit 0 or 3 (never 4), no stack trace, every problem at file:line:col, nothing raw
// for the terminal to act on, each input within a time budget and the heap bounded. GAUNTLET_FUZZ_SEED=<n> explores
// another seed; a failure names the seed and the case so it can be replayed.
import { readdirSync, statSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpec, parseSpec } from "../../../src/spec/loader.js";
import { SpecError } from "../../../src/spec/problems.js";
import buildDist from "../../setup/build.js";
import { BIN, ROOT, runCli } from "../../support/cli.js";
import { mulberry32, type Random } from "../../support/prng.js";

const SEED = Number(process.env.GAUNTLET_FUZZ_SEED ?? 20_260_314);
const MUTATED_CASES = 300;
const CLI_SAMPLE = 12;
const CASE_BUDGET_MS = 2_000;
const CLI_BUDGET_MS = 15_000;
const HEAP_GROWTH_LIMIT = 512 * 1024 * 1024;
const CHECK_IDS = ["tlsModern", "internalServicesNotExposed", "crashRecovered", "overloadShedGracefully"];
const ENV: NodeJS.ProcessEnv = {
  DB_PASSWORD: "fuzz-db-password",
  DB_PW: "fuzz-db-pw",
  CACHE_PASSWORD: "fuzz-cache-password",
  API_TOKEN: "fuzz-api-token",
  DEMO_API_TOKEN: "fuzz-demo-token",
  DEMO_PROXY_TOKEN: "fuzz-proxy-token",
  PAYMENTS_API_KEY: "fuzz-payments-key",
  SESSION_SECRET: "fuzz-session-secret",
  PORT: "8080",
  CONNECTIONS: "10",
  DURATION: "5s",
  HEALTH_PATH: "/healthz",
  LOG_LEVEL: "info",
  SYSTEM_NAME: "fuzzed",
  TEAM: "team-fuzz",
  DB_COMMAND: "true",
};
/** Anything a terminal would act on or hide: C0/C1 controls, DEL, bidi and zero-width characters, BOM. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;
const PROBLEM_LINE = /^\S.*:\d+:\d+: \S/;

// ── the mutations (random draws from test/support/prng.ts) ────────────────────────────────────────────────────────────────────

const int = (random: Random, below: number) => Math.floor(random() * below);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)]!;
const insertAt = (text: string, at: number, piece: string) => text.slice(0, at) + piece + text.slice(at);
const lineStarts = (text: string) => [0, ...[...text.matchAll(/\n/g)].map((m) => m.index + 1)];

type Mutation = (text: string, random: Random, others: readonly string[]) => string;

const CONTROLS = [
  "\u0000",
  "\u0001",
  "\u0007",
  "\b",
  "\t",
  "\u000b",
  "\f",
  "\r",
  "\u001b",
  "\u001b[2J",
  "\u001b]0;x\u0007",
  "\u007f",
  "\u0085",
  "\u009b",
  "\u200b",
  "\u200e",
  "\u202e",
  "\u2066",
  "\u2028",
  "\ufeff",
];
const PUNCTUATION = [..."{}[]:,-?&*!|>'\"%@`#", ": ", "- ", "? ", "---\n", "...\n", "<<: "];
const REFERENCES = ["${", "${X", "${DB_PASSWORD", "$${", "${A:-${B}}", "${UNSET}", "${PORT:-}", "${1}", "}"];

const MUTATIONS: Record<string, Mutation> = {
  flipBits(text, random) {
    const bytes = Buffer.from(text, "utf8");
    if (bytes.length === 0) return text;
    for (let i = 1 + int(random, 8); i > 0; i--) bytes[int(random, bytes.length)]! ^= 1 << int(random, 8);
    return bytes.toString("utf8");
  },
  truncate: (text, random) => text.slice(0, int(random, text.length + 1)),
  duplicateLine(text, random) {
    const lines = text.split("\n");
    const at = int(random, lines.length);
    lines.splice(at, 0, lines[at]!);
    return lines.join("\n");
  },
  deleteLine(text, random) {
    const lines = text.split("\n");
    lines.splice(int(random, lines.length), 1 + int(random, 3));
    return lines.join("\n");
  },
  swapLines(text, random) {
    const lines = text.split("\n");
    const [a, b] = [int(random, lines.length), int(random, lines.length)];
    [lines[a], lines[b]] = [lines[b]!, lines[a]!];
    return lines.join("\n");
  },
  reindent(text, random) {
    const lines = text.split("\n");
    const at = int(random, lines.length);
    lines[at] = pick(random, ["", " ", "   ", "\t", "    "]) + lines[at]!.replace(/^ {0,2}/, "");
    return lines.join("\n");
  },
  deepNesting(text, random) {
    const depth = pick(random, [60, 65, 200, 3_000, 20_000]);
    const open = pick(random, ["[", "{a: ", "- ", "? "]);
    const close = open === "[" ? "]" : open === "{a: " ? "}" : "";
    const body = open.repeat(depth) + "1" + (random() < 0.5 ? close.repeat(depth) : "");
    return insertAt(text, pick(random, lineStarts(text)), `deep${int(random, 9)}: ${body}\n`);
  },
  hugeValue(text, random) {
    const length = pick(random, [17_000, 60_000, 300_000, 1_100_000]);
    const value = pick(random, ["a", "1", " ", "a://", "@", "${"])
      .repeat(Math.ceil(length / 4))
      .slice(0, length);
    const quoted = random() < 0.5 ? `"${value}@"` : value;
    return insertAt(text, pick(random, lineStarts(text)), `huge: ${quoted}\n`);
  },
  aliases(text, random) {
    const shapes = [
      "self: &x [*x]\n",
      "cycle: &c { a: { b: *c } }\n",
      "dangling: *nope\n",
      "later: *l\nanchor: &l 1\n",
      aliasBomb(6),
      "merge: &m { a: 1 }\nmerged: { <<: *m }\n",
      "&anchored-key k: v\n",
      "*k2 : v\n",
    ];
    if (random() < 0.5) return insertAt(text, pick(random, lineStarts(text)), pick(random, shapes));
    // An anchor on one value and an alias in place of another.
    const values = [...text.matchAll(/: (?=\S)/g)].map((m) => m.index + 2);
    if (values.length < 2) return text;
    const [from, to] = [pick(random, values), pick(random, values)];
    const name = pick(random, ["a", "b", "svc"]);
    const withAnchor = insertAt(text, from, `&${name} `);
    const target = to > from ? to + name.length + 2 : to;
    const end = withAnchor.indexOf("\n", target);
    return withAnchor.slice(0, target) + `*${name}` + (end < 0 ? "" : withAnchor.slice(end));
  },
  controlChars(text, random) {
    let out = text;
    for (let i = 1 + int(random, 4); i > 0; i--)
      out = insertAt(out, int(random, out.length + 1), pick(random, CONTROLS));
    return out;
  },
  randomUnicode(text, random) {
    let out = text;
    for (let i = 1 + int(random, 6); i > 0; i--) {
      const code = pick(random, [0x80, 0x800, 0x10000, 0xd800, 0xfff0]) + int(random, 0x7ff);
      out = insertAt(out, int(random, out.length + 1), String.fromCodePoint(Math.min(code, 0x10ffff)));
    }
    return out;
  },
  lineEnds: (text, random) => text.replace(/\n/g, pick(random, ["\r", "\r\n", "\n\r", "\u2028"])),
  punctuation(text, random) {
    let out = text;
    for (let i = 1 + int(random, 5); i > 0; i--)
      out = insertAt(out, int(random, out.length + 1), pick(random, PUNCTUATION));
    return out;
  },
  references: (text, random) => insertAt(text, int(random, text.length + 1), pick(random, REFERENCES)),
  splice(text, random, others) {
    const other = pick(random, others);
    const start = int(random, other.length + 1);
    return insertAt(text, int(random, text.length + 1), other.slice(start, start + int(random, 400)));
  },
};

/** A "billion laughs": each level is ten aliases of the one before. */
function aliasBomb(levels: number): string {
  const lines = ["bomb0: &b0 [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < levels; i++)
    lines.push(
      `bomb${i}: &b${i} [${Array(10)
        .fill(`*b${i - 1}`)
        .join(", ")}]`,
    );
  return `${lines.join("\n")}\n`;
}

// ── the pathological specs, by name ─────────────────────────────────────────────────────────────────────────────────

const BASE = "version: 1\nsystem: { name: s }\n";
const PATHOLOGICAL: Record<string, () => string> = {
  "self-referencing alias": () => `${BASE}x: &x [*x]\n`,
  "cycle through services": () =>
    `${BASE}services:\n  api: &api\n    url: http://127.0.0.1:1\n    control: *api\n`,
  "unresolved alias": () => `${BASE}services: *nope\n`,
  "alias bomb": () => `${BASE}${aliasBomb(9)}`,
  "3000-deep flow nesting": () => `${BASE}x: ${"[".repeat(3_000)}${"]".repeat(3_000)}\n`,
  "3000-deep block nesting": () => `${BASE}x:\n  ${"- ".repeat(3_000)}1\n`,
  "60 KB value": () => `${BASE}services:\n  api: { url: "http://${"a".repeat(60_000)}" }\n`,
  "1 MB value": () => `${BASE}services:\n  api: { url: "http://${"a".repeat(1_000_000)}" }\n`,
  "40 K characters and an @": () => `${BASE}x: "${"a".repeat(40_000)}@"\n`,
  "CR-only line ends": () =>
    `# orders\r${BASE.replace(/\n/g, "\r")}services:\r  api: { url: "http://127.0.0.1:8080" }\r`,
  "thresholds that cannot run": () =>
    `${BASE}services:\n  api: { url: "http://127.0.0.1:8080" }\nperformance:\n  target: api\n  thresholds: ["(((", "p(95)<", "p(200)<1"]\n`,
  "URLs that cannot be parsed": () =>
    `${BASE}services:\n  a: { url: "http://[::1" }\n  b: { url: "http://127.0.0.1:.inf" }\n`,
  "2 MB file": () => `${BASE}${`# ${"-".repeat(97)}\n`.repeat(20_000)}`,
  "a million blank lines": () => `${BASE}${"\n".repeat(1_000_000)}`,
  "a line of stray commas": () => `${BASE}x: [${",".repeat(300_000)}]\n`,
  "lists, mappings and __proto__ as keys": () =>
    `${BASE}? [a, b]\n: 1\n{c: 1}: 2\nservices:\n  __proto__: { url: "http://127.0.0.1:1" }\n`,
  "tags, directives and YAML 1.1 merge keys": () =>
    `%YAML 1.1\n---\n${BASE}d: &d { url: "http://127.0.0.1:1" }\nservices:\n  a: { <<: *d }\nx: !!binary aGk=\ny: !!set { a }\nz: !custom 1\n`,
  "escape sequences and bidi controls in keys": () =>
    `${BASE}"\u001b[2J\u001b]0;owned\u0007": 1\n"gnp.\u202eexe": 2\n"\u200bversion": 3\n`,
};

// ── the run ─────────────────────────────────────────────────────────────────────────────────────────────────────────

interface FuzzCase {
  name: string;
  text: string;
}

interface Outcome {
  valid: boolean;
  lines: string[];
}

async function seedSpecs(): Promise<{ name: string; text: string }[]> {
  const files = [
    ...(await readdir(path.join(ROOT, "examples"), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => path.join(ROOT, "examples", d.name, "gauntlet.yaml")),
    ...(await readdir(path.join(ROOT, "test/fixtures/specs")))
      .filter((f) => /\.yaml(\.txt)?$/.test(f))
      .map((f) => path.join(ROOT, "test/fixtures/specs", f)),
  ];
  const specs = [];
  for (const file of files.sort()) {
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text !== undefined) specs.push({ name: path.relative(ROOT, file), text });
  }
  return specs;
}

function mutatedCases(seeds: { name: string; text: string }[], seed: number): FuzzCase[] {
  const random = mulberry32(seed);
  const names = Object.keys(MUTATIONS);
  const texts = seeds.map((s) => s.text);
  return Array.from({ length: MUTATED_CASES }, (_, i) => {
    const source = pick(random, seeds);
    const applied = Array.from({ length: 1 + int(random, 3) }, () => pick(random, names));
    let text = source.text;
    for (const name of applied) text = MUTATIONS[name]!(text, random, texts);
    return { name: `seed ${seed} case ${i}: ${source.name} + ${applied.join(", ")}`, text };
  });
}

/** Problems as `validate` prints them; a thrown non-SpecError is a failure (what exit 4 was). */
function parseInProcess(fuzzCase: FuzzCase, file: string): Outcome {
  try {
    parseSpec(fuzzCase.text, file, { env: ENV, checkIds: CHECK_IDS });
    return { valid: true, lines: [] };
  } catch (error) {
    if (!(error instanceof SpecError)) {
      const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
      throw new Error(`not a SpecError: ${stack.split("\n").slice(0, 4).join(" | ")}`);
    }
    for (const problem of error.problems) {
      if (!(problem.line >= 1 && problem.column >= 1))
        throw new Error(`unlocated: ${JSON.stringify(problem)}`);
    }
    return { valid: false, lines: error.format(path.dirname(file)).split("\n") };
  }
}

function outputFailures(lines: readonly string[]): string[] {
  const failures: string[] = [];
  for (const line of lines) {
    if (line.includes("    at ")) failures.push(`stack frame: ${line.slice(0, 120)}`);
    if (UNSAFE.test(line))
      failures.push(`raw control or bidi character: ${JSON.stringify(line.slice(0, 120))}`);
  }
  return failures;
}

describe(`spec fuzzing (seed ${SEED})`, () => {
  let dir: string;
  let cases: FuzzCase[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "gauntlet-fuzz-"));
    const seeds = await seedSpecs();
    expect(seeds.length).toBeGreaterThan(10);
    cases = [
      ...Object.entries(PATHOLOGICAL).map(([name, make]) => ({ name, text: make() })),
      ...mutatedCases(seeds, SEED),
    ];
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("parseSpec and loadSpec: only SpecErrors, located, printable, each within its budget, heap bounded", async () => {
    const failures: string[] = [];
    const heapAtStart = process.memoryUsage().heapUsed;
    let heapPeak = heapAtStart;
    let slowest = { name: "", ms: 0 };
    for (const [index, fuzzCase] of cases.entries()) {
      const file = path.join(dir, `case-${index}.yaml`);
      const start = performance.now();
      try {
        const outcome = parseInProcess(fuzzCase, file);
        for (const line of outcome.lines) {
          if (!PROBLEM_LINE.test(line))
            failures.push(`${fuzzCase.name}: not file:line:col: ${line.slice(0, 120)}`);
        }
        for (const failure of outputFailures(outcome.lines)) failures.push(`${fuzzCase.name}: ${failure}`);
      } catch (error) {
        failures.push(`${fuzzCase.name}: ${(error as Error).message}`);
      }
      const ms = performance.now() - start;
      if (ms > slowest.ms) slowest = { name: fuzzCase.name, ms };
      if (ms > CASE_BUDGET_MS) failures.push(`${fuzzCase.name}: took ${Math.round(ms)} ms`);
      // The pathological ones and every tenth through the file reader too (size cap, encoding, as read from disk).
      if (index < Object.keys(PATHOLOGICAL).length || index % 10 === 0) {
        await writeFile(file, fuzzCase.text);
        const error = await loadSpec(file, { env: ENV, checkIds: CHECK_IDS }).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (error !== undefined && !(error instanceof SpecError))
          failures.push(`${fuzzCase.name}: loadSpec threw ${(error as Error).message}`);
      }
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }
    expect(failures).toEqual([]);
    expect(heapPeak - heapAtStart).toBeLessThan(HEAP_GROWTH_LIMIT);
    expect(slowest.ms, slowest.name).toBeLessThan(CASE_BUDGET_MS);
  }, 60_000);

  describe("the built CLI", () => {
    beforeAll(() => {
      // The default test config has just built dist/; the unit config does not build, so build when dist/ is stale.
      if (distIsStale()) buildDist();
    }, 120_000);

    it("gauntlet validate: exit 0 or 3, no stack trace, every problem at file:line:col", async () => {
      const pathological = cases.slice(0, Object.keys(PATHOLOGICAL).length);
      const mutated = cases.slice(pathological.length);
      const step = Math.floor(mutated.length / CLI_SAMPLE);
      const sample = [...pathological, ...mutated.filter((_, i) => i % step === 0).slice(0, CLI_SAMPLE)];
      const failures: string[] = [];
      const queue = sample.entries();
      const worker = async () => {
        for (const [index, fuzzCase] of queue) {
          const file = path.join(dir, `cli-${index}.yaml`);
          await writeFile(file, fuzzCase.text);
          const start = performance.now();
          const result = await runCli(["validate", file], {
            cwd: dir,
            // A spec that made the loader allocate without bound would end here, not in swap.
            env: { ...ENV, NODE_OPTIONS: "--max-old-space-size=512" },
          });
          const ms = performance.now() - start;
          const name = fuzzCase.name;
          if (result.code !== 0 && result.code !== 3)
            failures.push(
              `${name}: exit ${result.code} ${result.signal ?? ""} ${result.stderr.slice(0, 200)}`,
            );
          if (ms > CLI_BUDGET_MS) failures.push(`${name}: took ${Math.round(ms)} ms`);
          const stdout = result.stdout.split("\n").filter(Boolean);
          const stderr = result.stderr.split("\n").filter(Boolean);
          for (const failure of outputFailures([...stdout, ...stderr])) failures.push(`${name}: ${failure}`);
          if (result.code === 0 && !/ is valid: /.test(stdout.join("\n")))
            failures.push(`${name}: exit 0 without "is valid"`);
          if (result.code === 3) {
            const summary = stderr.pop() ?? "";
            if (!/^\d+ problems? found$/.test(summary))
              failures.push(`${name}: last line ${summary.slice(0, 120)}`);
            for (const line of stderr) {
              if (!PROBLEM_LINE.test(line))
                failures.push(`${name}: not file:line:col: ${line.slice(0, 120)}`);
            }
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(4, availableParallelism()) }, worker));
      expect(failures).toEqual([]);
    }, 90_000);
  });
});

/** dist/cli/bin.js missing, or older than a source file. */
function distIsStale(): boolean {
  let built: number;
  try {
    built = statSync(BIN).mtimeMs;
  } catch {
    return true;
  }
  const newest = (dirPath: string): number => {
    let latest = 0;
    for (const entry of readdirSync(dirPath, { withFileTypes: true })) {
      const full = path.join(dirPath, entry.name);
      latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
    }
    return latest;
  };
  return newest(path.join(ROOT, "src")) > built;
}
