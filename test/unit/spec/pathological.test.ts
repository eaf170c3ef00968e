// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} references are part of the inputs under test.
// Specs that once crashed `validate` (exit 4, "Maximum call stack size exceeded") or never finished (quadratic
// regexes on long values): each now gets a located problem naming the limit and the fix, well within a time budget.
// The regexes that see spec text are run on 1 MB inputs under a budget.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { urlPasswords } from "../../../src/spec/interpolate.js";
import {
  MAX_DEPTH,
  MAX_NODES,
  MAX_SPEC_BYTES,
  MAX_TOKENS,
  MAX_VALUE_LENGTH,
} from "../../../src/spec/limits.js";
import { loadSpec, parseSpec } from "../../../src/spec/loader.js";
import { printable } from "../../../src/spec/printable.js";
import { type Problem, SpecError } from "../../../src/spec/problems.js";
import { editDistance, suggest } from "../../../src/spec/suggest.js";
import { parseDuration, parsePercent, parseRate, parseSize } from "../../../src/spec/units.js";
import { urlProblem } from "../../../src/spec/urls.js";

const FILE = "/tmp/gauntlet.yaml";
/** "Each pathological spec gets a located error in under 2 s." */
const BUDGET_MS = 2_000;
const MB = 1_000_000;
const base = "version: 1\nsystem: { name: s }\n";

function timed<T>(run: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = run();
  return { value, ms: performance.now() - start };
}

/** The problems of a spec that must be rejected, with how long parsing took. */
function rejected(text: string): { problems: Problem[]; ms: number } {
  const { value, ms } = timed(() => {
    try {
      parseSpec(text, FILE);
    } catch (error) {
      if (error instanceof SpecError) return error.problems;
      throw error;
    }
    throw new Error("the spec was accepted");
  });
  return { problems: value, ms };
}

/** Exactly one problem, at a real line and column, within the budget. */
function oneProblem(text: string): Problem {
  const { problems, ms } = rejected(text);
  expect(ms).toBeLessThan(BUDGET_MS);
  expect(problems).toHaveLength(1);
  expect(problems[0]!.line).toBeGreaterThan(0);
  expect(problems[0]!.column).toBeGreaterThan(0);
  return problems[0]!;
}

describe("aliases", () => {
  it("a self-referencing alias (x: &x [*x]) is reported at the alias, not a stack overflow", () => {
    const problem = oneProblem(`${base}x: &x [*x]\n`);
    expect(problem).toMatchObject({ line: 3, column: 8 });
    expect(problem.message).toMatch(/\*x is inside the node &x names/);
    expect(problem.fix).toMatch(/write the value out/);
  });

  it("a cycle deeper inside a section the schema walks into is reported too", () => {
    const problem = oneProblem(
      `${base}services:\n  api: &api\n    url: http://127.0.0.1:1\n    control: *api\n`,
    );
    expect(problem).toMatchObject({ line: 6, column: 14 });
  });

  it("an unresolved alias is reported at the alias with the anchor to define", () => {
    const problem = oneProblem(`${base}services:\n  api: *nope\n`);
    expect(problem).toMatchObject({
      line: 4,
      column: 8,
      message: "no anchor named nope above this line",
      fix: "define it with &nope first",
    });
  });

  it("an alias used before its anchor is unresolved, as YAML says", () => {
    const problem = oneProblem(`${base}a: *later\nb: &later 1\n`);
    expect(problem).toMatchObject({ line: 3, column: 4, message: "no anchor named later above this line" });
  });

  it("an alias bomb (billion laughs) stops at the alias that passes the bound", () => {
    const levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) {
      const refs = Array.from({ length: 10 }, () => `*a${i - 1}`).join(", ");
      levels.push(`a${i}: &a${i} [${refs}]`);
    }
    const problem = oneProblem(`${base}${levels.join("\n")}\n`);
    expect(problem.line).toBeGreaterThan(3);
    expect(problem.message).toMatch(
      new RegExp(`through \\*a\\d, the spec expands to more than ${MAX_NODES}`),
    );
    expect(problem.fix).toMatch(/fewer times/);
  });

  it("aliases that nest past the depth limit are reported at the alias", () => {
    const deep = `${"[".repeat(40)}1${"]".repeat(40)}`;
    const problem = oneProblem(
      `${base}a: &a ${deep}\nb: &b [[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]\n`,
    );
    expect(problem.line).toBe(4);
    expect(problem.message).toMatch(
      new RegExp(`through \\*a, mappings and lists nest more than ${MAX_DEPTH}`),
    );
  });

  it("more than a hundred uses of one small anchor are fine (yaml's own alias count said no)", () => {
    const uses = Array.from({ length: 150 }, (_, i) => `  s${i}: *svc`).join("\n");
    const text = `${base}x-defaults: &svc { url: "http://127.0.0.1:1" }\nservices:\n${uses}\n`;
    const { problems } = rejected(text);
    // x-defaults is an unknown key; the 150 services themselves are valid.
    expect(problems.map((p) => p.message)).toEqual(['unknown key "x-defaults" at the top level']);
  });
});

describe("keys", () => {
  it("a list or mapping used as a key is reported at the key, not at the top of the file", () => {
    const problem = oneProblem(`${base}services:\n  ? [api, web]\n  : { url: "http://127.0.0.1:1" }\n`);
    expect(problem).toMatchObject({
      line: 4,
      column: 5,
      message: "this key is a list or a mapping; a spec's keys are names",
    });
  });

  it("__proto__ is a problem, not a service that silently disappears", () => {
    const problem = oneProblem(`${base}services:\n  __proto__: { url: "http://127.0.0.1:1" }\n`);
    expect(problem).toMatchObject({ line: 4, column: 3 });
    expect(problem.message).toMatch(/^__proto__ cannot be a key/);
  });

  it("a top level that is an alias says so", () => {
    expect(oneProblem("*a\n").message).toMatch(/found the alias \*a$/);
  });
});

describe("nesting", () => {
  it.each([
    ["flow lists", `x: ${"[".repeat(3000)}${"]".repeat(3000)}`],
    ["flow mappings", `x: ${"{a: ".repeat(3000)}1${"}".repeat(3000)}`],
    ["block lists on one line", `x:\n  ${"- ".repeat(3000)}1`],
    ["unclosed brackets", `x: ${"[".repeat(500_000)}`],
  ])("3,000-deep %s get a located error at the first node past the limit", (_, body) => {
    const problem = oneProblem(`${base}${body}\n`);
    expect(problem.line).toBeGreaterThanOrEqual(3);
    expect(problem.message).toMatch(new RegExp(`nest more than ${MAX_DEPTH} levels deep here`));
    expect(problem.fix).toMatch(/flatten/);
  });

  it("block mappings nested by indentation stop at the first one past the limit", () => {
    const lines = Array.from({ length: 200 }, (_, i) => `${" ".repeat(i)}k${i}:`);
    const problem = oneProblem(`${base}${lines.join("\n")} 1\n`);
    // Line 3 holds k0 in the top-level mapping (depth 1), so line 3 + n holds a mapping at depth n + 1.
    expect(problem.line).toBe(3 + MAX_DEPTH);
  });

  it("64 levels are allowed", () => {
    const { problems } = rejected(`${base}x: ${"[".repeat(MAX_DEPTH - 1)}${"]".repeat(MAX_DEPTH - 1)}\n`);
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/^unknown key "x"/)]);
  });
});

describe("sizes", () => {
  it.each([
    ["60 KB", 60_000],
    ["1 MB", MB],
  ])("a %s value gets a located error naming the limit", (_, length) => {
    const problem = oneProblem(`${base}services:\n  api: { url: "http://${"a".repeat(length)}" }\n`);
    expect(problem).toMatchObject({ line: 4, column: 15 });
    expect(problem.message).toContain(`at most ${MAX_VALUE_LENGTH} characters (16 KiB)`);
    expect(problem.fix).toMatch(/shorten it/);
  });

  it("40 K characters and an @ in a value (the quadratic URL password search) is fast", () => {
    const { problems, ms } = rejected(`${base}x: "${"a".repeat(40_000)}@"\n`);
    expect(ms).toBeLessThan(BUDGET_MS);
    expect(problems[0]!.message).toMatch(/at most/);
  });

  it("a value made long by interpolation is reported at the value", () => {
    const text = `${base}services:\n  api: { url: "http://127.0.0.1:1/\${BIG}" }\n`;
    try {
      parseSpec(text, FILE, { env: { BIG: "b".repeat(MAX_VALUE_LENGTH) } });
      expect.unreachable();
    } catch (error) {
      expect((error as SpecError).problems[0]).toMatchObject({ line: 4, column: 15 });
      expect((error as SpecError).problems[0]!.message).toMatch(/characters long/);
    }
  });

  it("a spec larger than the file limit is reported where it passes the limit", () => {
    const filler = `# ${"-".repeat(97)}\n`.repeat(Math.ceil((MAX_SPEC_BYTES * 3) / 100));
    const problem = oneProblem(`${base}${filler}`);
    expect(problem.line).toBe(Math.floor((MAX_SPEC_BYTES - base.length) / 100) + 3);
    expect(problem.message).toMatch(/^the file is 3(\.0)? MiB, over the 1 MiB a spec file may be/);
  });

  it.each([
    ["a list of values", `x: [${"1,".repeat(MAX_TOKENS)}1]`, 3],
    ["blank lines", "\n".repeat(MAX_TOKENS + 10), MAX_TOKENS - 1],
    ["stray commas", `x: [${",".repeat(MAX_TOKENS)}]`, 3],
    ["anchors on one node", `x: [${"&a ".repeat(MAX_TOKENS)}1]`, 3],
  ])("more YAML tokens than a spec may hold (%s) stop where the count passes the limit", (_, body, line) => {
    const problem = oneProblem(`${base}${body}\n`);
    // Within a few lines of where it passes: the spec's first lines hold some tokens too.
    expect(Math.abs(problem.line - line)).toBeLessThan(30);
    expect(problem.message).toMatch(new RegExp(`more than ${MAX_TOKENS} YAML tokens`));
  });

  it("tens of thousands of unknown keys are each located, in bounded time", () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${i}: ${i}`).join("\n");
    const { problems, ms } = rejected(`${base}${keys}\n`);
    expect(ms).toBeLessThan(3 * BUDGET_MS);
    expect(problems).toHaveLength(20_000);
    expect(problems[19_999]).toMatchObject({ line: 20_002, column: 1 });
  });

  it("a file of invalid YAML lists the first lines and sums up the rest", () => {
    const { problems, ms } = rejected(`${base}x: [\n${"]\n".repeat(50_000)}`);
    expect(ms).toBeLessThan(BUDGET_MS);
    expect(problems).toHaveLength(51);
    expect(problems[50]!.message).toMatch(/^more lines of invalid YAML from here on \(50 are listed above\)/);
  });

  describe("files", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "gauntlet-pathological-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("a 5 MB file is read no further than the limit and reported at a line", async () => {
      const file = join(dir, "huge.yaml");
      await writeFile(file, `${base}${`# ${"x".repeat(97)}\n`.repeat(50_000)}`);
      const start = performance.now();
      const error = (await loadSpec(file).catch((e: unknown) => e)) as SpecError;
      expect(performance.now() - start).toBeLessThan(BUDGET_MS);
      expect(error).toBeInstanceOf(SpecError);
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]!.line).toBeGreaterThan(10_000);
      expect(error.problems[0]!.message).toMatch(/^the file is 4\.8 MiB, over the 1 MiB/);
    });
  });
});

describe("line ends", () => {
  const crlf = (text: string, end: string) => text.replace(/\n/g, end);
  const spec = `# orders\n${base}services:\n  api: { url: "http://127.0.0.1:8080" }\n`;

  it("a CR-only file (old Mac line ends) is read as lines, as YAML 1.2 says, not as one empty comment", () => {
    const loaded = parseSpec(crlf(spec, "\r"), FILE);
    expect(loaded.services.api!.url).toBe("http://127.0.0.1:8080");
  });

  it("its problems are at the right lines", () => {
    const problem = oneProblem(crlf(`${spec}  db: { url: "postgres://[::1" }\n`, "\r"));
    expect(problem).toMatchObject({ line: 6, column: 14 });
  });

  it("CRLF and mixed line ends are read the same way", () => {
    expect(parseSpec(crlf(spec, "\r\n"), FILE).system.name).toBe("s");
    const mixed = `# orders\r${base.replace("\n", "\r\n")}services:\r  api: { url: "http://127.0.0.1:8080" }\n`;
    expect(parseSpec(mixed, FILE).services.api).toBeDefined();
  });
});

describe("the regexes that see spec text are linear (1 MB inputs)", () => {
  const within = (name: string, run: () => unknown) => {
    const { ms } = timed(run);
    expect(ms, name).toBeLessThan(BUDGET_MS / 2);
  };

  it("urlPasswords", () => {
    within("letters then @", () => urlPasswords(`${"a".repeat(MB)}@`));
    within("a long userinfo without @", () => urlPasswords(`http://${"a".repeat(MB)}`));
    within("many schemes", () => urlPasswords("a://".repeat(MB / 4)));
    within("many colons", () => urlPasswords(`x://${":".repeat(MB)}`));
    within("many matches", () => urlPasswords("a://b:c@".repeat(MB / 8)));
    within("40 K letters and an @ in a log line", () =>
      urlPasswords(`${"x".repeat(40_000)}@ GET /`.repeat(25)),
    );
  });

  it("urlPasswords finds what the regex it replaces found", () => {
    const old = (text: string) =>
      [...text.matchAll(/[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/gi)].flatMap((m) => {
        const colon = m[1]!.indexOf(":");
        if (colon < 0) return [];
        const start = m.index + m[0].length - 1 - m[1]!.length + colon + 1;
        return [{ url: m[0], start, end: m.index + m[0].length - 1 }];
      });
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = ["a", "Z", "9", "+", ".", "-", ":", "/", "@", " ", "://", "x:y@", "\n", "é"];
    for (let i = 0; i < 3_000; i++) {
      const text = Array.from(
        { length: Math.floor(random() * 30) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join("");
      expect(urlPasswords(text), JSON.stringify(text)).toEqual(old(text));
    }
  });

  it("the unit parsers", () => {
    within("duration digits", () => parseDuration("1".repeat(MB)));
    within("duration digits and spaces", () => parseDuration(`${"1 ".repeat(MB / 2)}x`));
    within("size", () => parseSize(`1${" ".repeat(MB)}1`));
    within("rate", () => parseRate(`1${" ".repeat(MB)}/x`));
    within("percent", () => parsePercent(`1.${"1".repeat(MB)}x`));
    expect(parseDuration("1".repeat(MB))).toMatchObject({ ok: false });
    expect(parseDuration("1m 30s")).toEqual({ ok: true, value: 90_000 });
  });

  it("URL checks, escaping and suggestions", () => {
    within("urlProblem", () => urlProblem(`http://${"[".repeat(MB)}`, ["http"], "http://x:1"));
    within("urlProblem with @", () => urlProblem(`http://${"a@".repeat(MB / 2)}`, undefined, "x://y"));
    within("printable", () => printable("\u202e\u001b".repeat(MB / 2)));
    within("editDistance with a limit", () => editDistance("a".repeat(MB), "b".repeat(MB), 2));
    within("suggest", () => suggest("a".repeat(MB), ["a".repeat(MB - 1), "b".repeat(MB)]));
    expect(editDistance("a".repeat(MB), "b".repeat(MB), 2)).toBe(3);
  });

  it("the syntax error hint for an unquoted ${…} on a very long line", () => {
    const { problems, ms } = rejected(`${base}services: { api: { url: ${"${".repeat(200_000)} } }\n`);
    expect(ms).toBeLessThan(BUDGET_MS);
    expect(problems.length).toBeGreaterThan(0);
  });

  it("a long threshold is rejected before the threshold parser sees it", () => {
    const text = `${base}services:\n  api: { url: "http://127.0.0.1:1" }\nperformance:\n  target: api\n  thresholds: ["p(${" ".repeat(15_000)}x"]\n`;
    const { problems, ms } = rejected(text);
    expect(ms).toBeLessThan(BUDGET_MS / 2);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 7, column: 16 });
    expect(problems[0]!.message).toMatch(/this threshold is 15003 characters long/);
  });
});
