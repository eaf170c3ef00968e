// gauntlet.yaml → validated Spec. YAML is parsed into nodes that keep their offsets, `${ENV}` references are replaced
// inside those nodes (so positions survive), secrets are registered with the run's redactor, and every zod issue is mapped
// back to the line and column of the key or value it is about. All problems are reported at once.
import { open, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import {
  type Alias,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  type Scalar,
  type YAMLMap,
  type Document as YamlDocument,
} from "yaml";
import { z } from "zod";
import { Redactor } from "../secrets/redactor.js";
import { parseBoundedYaml } from "./boundedYaml.js";
import { interpolate, looksSecret, urlPasswords } from "./interpolate.js";
import { formatBytes, MAX_SPEC_BYTES } from "./limits.js";
import { displayPath, type Problem, SpecError } from "./problems.js";
import { type Spec, specSchema } from "./schema.js";
import { checkStructure } from "./structure.js";
import { allowedKeys, descriptionAt, suggest } from "./suggest.js";

export interface LoadedSpec {
  spec: Spec;
  /** Absolute path of the spec file. */
  path: string;
  /** Its directory: relative paths in the spec are relative to it. */
  dir: string;
  /** The file's text as read. */
  text: string;
  /** The secrets found while loading (interpolated values, URL passwords, secret-named keys and variables). */
  secrets: Redactor;
}

export interface LoadOptions {
  /** Where `${VAR}` references are looked up; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Known check ids; when given, a waiver for an unknown check is a problem. */
  checkIds?: readonly string[];
  /** Where found secrets are registered (the run's redactor); a new one when omitted. */
  secrets?: Redactor;
}

/** Reads, interpolates and validates a spec file. Throws SpecError (never anything else for a user mistake). */
export async function loadSpec(file: string, options: LoadOptions = {}): Promise<LoadedSpec> {
  const path = resolve(file);
  const secrets = options.secrets ?? new Redactor();
  const text = await readSpecFile(path, secrets);
  const spec = parseSpec(text, path, { ...options, secrets });
  registerEnvironmentSecrets(spec, options.env ?? process.env, secrets);
  return { spec, path, dir: dirname(path), text, secrets };
}

/**
 * Values that must never be printed, known before any check runs: the required deployment variables (whatever their
 * names) and every variable of the environment whose name looks secret — supervised services inherit them and may
 * echo them into logs that become evidence.
 */
function registerEnvironmentSecrets(spec: Spec, env: NodeJS.ProcessEnv, secrets: Redactor): void {
  for (const name of spec.deployment?.env?.required ?? []) secrets.add(env[name]);
  for (const [name, value] of Object.entries(env)) if (looksSecret(name)) secrets.add(value);
}

async function readSpecFile(path: string, secrets: Redactor): Promise<string> {
  const fail = (message: string, fix: string): never => {
    throw new SpecError([{ file: path, line: 0, column: 0, message, fix }], secrets);
  };
  try {
    if ((await stat(path)).isDirectory()) {
      const inside = join(path, "gauntlet.yaml");
      const exists = await stat(inside).then(
        (s) => s.isFile(),
        () => false,
      );
      return fail(
        "is a directory, not a spec file",
        exists ? `pass ${displayPath(inside)} instead` : "pass the path of a gauntlet.yaml file",
      );
    }
    const { bytes, size } = await readAtMost(path, MAX_SPEC_BYTES);
    if (bytes.length > MAX_SPEC_BYTES) {
      throw new SpecError(
        [tooLarge(path, bytes.subarray(0, MAX_SPEC_BYTES).toString("utf8"), size)],
        secrets,
      );
    }
    return bytes.toString("utf8");
  } catch (error) {
    if (error instanceof SpecError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      return fail(
        "spec file not found",
        "check the path, or run the command in the directory that holds gauntlet.yaml",
      );
    }
    if (code === "EACCES" || code === "EPERM") {
      return fail(
        "cannot read the file: permission denied",
        "give your user read access, e.g. chmod u+r <file>",
      );
    }
    return fail(`cannot read the file (${code ?? String(error)})`, "check that the path is a readable file");
  }
}

/** The file's first `limit` + 1 bytes at most, so a huge file (or /dev/zero) is never read whole; its size when known. */
async function readAtMost(path: string, limit: number): Promise<{ bytes: Buffer; size?: number }> {
  const handle = await open(path, "r");
  try {
    const info = await handle.stat();
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= limit) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, limit + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    return { bytes: Buffer.concat(chunks), ...(info.isFile() ? { size: info.size } : {}) };
  } finally {
    await handle.close();
  }
}

/** The size limit, reported where the file passes it. `head` is the text of the first MAX_SPEC_BYTES bytes. */
function tooLarge(file: string, head: string, size: number | undefined): Problem {
  const lines = head.split(/\r\n|\r|\n/);
  const limit = formatBytes(MAX_SPEC_BYTES);
  const what = size === undefined ? "the file is larger than" : `the file is ${formatBytes(size)}, over`;
  return {
    file,
    line: lines.length,
    column: lines[lines.length - 1]!.length + 1,
    message: `${what} the ${limit} a spec file may be; it passes ${limit} here`,
    fix: "a spec describes one system in a few kilobytes: remove generated or pasted content, and name long scripts or bodies by path",
  };
}

/** Lines with a YAML syntax error listed one by one; a file of garbage gets a summary, not a line per line. */
const MAX_SYNTAX_LINES = 50;

type PathSegment = string | number;
type Position = { line: number; column: number };

/** Parses and validates spec text; `file` (absolute) is the path problems name. */
export function parseSpec(text: string, file: string, options: LoadOptions = {}): Spec {
  const secrets = options.secrets ?? new Redactor();
  const problems: Problem[] = [];
  const report = (at: Position, message: string, fix?: string) =>
    problems.push({ file, line: at.line, column: at.column, message, ...(fix ? { fix } : {}) });
  const lineCounter = new LineCounter();
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_SPEC_BYTES) {
    const head = Buffer.from(text, "utf8").subarray(0, MAX_SPEC_BYTES).toString("utf8");
    throw new SpecError([tooLarge(file, head, bytes)], secrets);
  }
  // YAML 1.2 counts a lone CR as a line break (files from old Macs), but the parser knows only \n and \r\n; one
  // character for another keeps every offset, so lines and columns stay those of the file.
  const source = text.includes("\r") ? text.replace(/\r(?!\n)/g, "\n") : text;

  if (source.replace(/^\uFEFF/, "").trim() === "") {
    report({ line: 1, column: 1 }, "the file is empty", "start with `version: 1`");
    throw new SpecError(problems, secrets);
  }

  const parsed = parseBoundedYaml(source, lineCounter);
  if (parsed.stopped) {
    report(at(parsed.stopped.offset), parsed.stopped.message, parsed.stopped.fix);
    throw new SpecError(problems, secrets);
  }
  const doc = parsed.doc;
  const syntaxLines = new Set<number>();
  let lines: string[] | undefined;
  for (const error of doc.errors) {
    const position = at(error.pos[0]);
    // After one syntax error the parser often reports knock-on errors on the same line; the first one is the cause.
    if (syntaxLines.has(position.line)) continue;
    if (syntaxLines.size === MAX_SYNTAX_LINES) {
      report(
        position,
        `more lines of invalid YAML from here on (${MAX_SYNTAX_LINES} are listed above)`,
        "fix those first: the later errors often follow from them",
      );
      break;
    }
    syntaxLines.add(position.line);
    lines ??= source.split("\n");
    const [message, fix] = syntaxProblem(error.code, error.message, lines[position.line - 1] ?? "");
    report(position, message, fix);
  }
  if (problems.length > 0) throw new SpecError(problems, secrets);

  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) {
    report({ line: 1, column: 1 }, "the file is empty", "start with `version: 1`");
    throw new SpecError(problems, secrets);
  }
  if (!isMap(root)) {
    report(
      at(root.range?.[0] ?? 0),
      `the top level must be a mapping of keys (version, system, services, …), found ${isAlias(root) ? `the alias *${root.source}` : found(root.toJSON())}`,
      "start with `version: 1` at the beginning of a line, then the other keys below it",
    );
    throw new SpecError(problems, secrets);
  }

  // Duplicate keys, ${ENV} interpolation and secret registration, in one walk over the nodes.
  const env = options.env ?? process.env;
  const interpolationFailed = new Set<number>();
  walk(root, [], {
    key(keyNode, path, first) {
      const key = keyText(keyNode);
      const earlier = first.get(key);
      if (earlier === undefined) {
        first.set(key, keyNode);
        return;
      }
      report(
        at(keyNode.range?.[0] ?? 0),
        `duplicate key "${shortKey(key)}" ${inWhere(path)} (first at line ${at(earlier.range?.[0] ?? 0).line})`,
        "keep one of them: YAML would silently use the last one",
      );
    },
    value(scalar, path) {
      if (typeof scalar.value !== "string") return;
      const template = scalar.value;
      const result = template.includes("$") ? interpolate(template, env) : undefined;
      if (result) {
        for (const problem of result.problems)
          report(at(scalar.range?.[0] ?? 0), problem.message, problem.fix);
        if (result.problems.length > 0) interpolationFailed.add(scalar.range?.[0] ?? -1);
        if (result.value !== template)
          scalar.value = retype(result.value, scalar, result.substitutions.length > 0);
      }
      const value = result?.value ?? template;
      const lastKey = path[path.length - 1];
      // A value under a key such as `password:`, `API_TOKEN:` or an `Authorization:` header is a secret however written.
      if (typeof lastKey === "string" && looksSecret(lastKey)) secrets.add(value);
      for (const s of result?.substitutions ?? []) if (looksSecret(s.name)) secrets.add(s.value);
      for (const password of urlPasswords(value)) {
        secrets.addFromUrl(password.url);
        for (const s of result?.substitutions ?? []) {
          if (s.start < password.end && password.start < s.end) secrets.add(s.value);
        }
      }
    },
  });

  // Aliases without an anchor or inside their own anchor, expansions past the bounds, values too long: each at its line.
  const structure = checkStructure(doc);
  for (const problem of structure.problems) report(at(problem.offset), problem.message, problem.fix);
  if (structure.problems.length > 0) throw new SpecError(problems, secrets);

  let data: unknown;
  try {
    // No alias count here: checkStructure bounded what the aliases expand to, and said where.
    data = doc.toJS({ maxAliasCount: -1 });
  } catch (error) {
    report(
      at(0),
      `the YAML cannot be expanded: ${(error as Error).message}`,
      "check the aliases (*name) and the anchors (&name) they name",
    );
    throw new SpecError(problems, secrets);
  }
  // Again on the expanded data: a secret reached through an alias (API_TOKEN: *t) has no scalar of its own above.
  registerSecretValues(data, undefined, secrets);

  const result = specSchema.safeParse(data, { reportInput: true });
  const lookup = nodeLookup(structure.aliasTargets);
  const place = (draft: Draft) => {
    const position = locate(doc, draft.path, draft.target, at, lookup);
    if (draft.target === "value" && interpolationFailed.has(position.offset)) return; // already reported
    report(position, draft.message, draft.fix);
  };
  if (!result.success)
    for (const issue of result.error.issues) for (const d of translate(issue, [], data)) place(d);
  if (options.checkIds) for (const d of unknownCheckIds(data, options.checkIds)) place(d);

  if (problems.length > 0 || !result.success) throw new SpecError(problems, secrets);
  return result.data;
}

function registerSecretValues(value: unknown, key: string | undefined, secrets: Redactor): void {
  if (typeof value === "string") {
    if (key !== undefined && looksSecret(key)) secrets.add(value);
    for (const password of urlPasswords(value)) secrets.addFromUrl(password.url);
  } else if (Array.isArray(value)) {
    for (const item of value) registerSecretValues(item, key, secrets);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) registerSecretValues(v, k, secrets);
  }
}

function syntaxProblem(code: string, message: string, lineText: string): [string, string] {
  const first = message.split("\n", 1)[0]!;
  // The parser quotes the source it could not read, which can be a whole line.
  const short = first.length > 160 ? `${first.slice(0, 157)}…` : first;
  const what = `invalid YAML: ${short.replace(/\.$/, "").replace(/^./, (c) => c.toLowerCase())}`;
  switch (code) {
    case "TAB_AS_INDENT":
      return [what, "indent with spaces; YAML does not allow tabs"];
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY":
      return [what, 'indent nested keys by the same number of spaces, and quote values that contain ": "'];
    case "BAD_INDENT":
      return [what, "indent nested keys consistently with spaces, and close every [ and { you open"];
    case "MISSING_CHAR":
      return [what, "close the quote or bracket opened before this point"];
    case "UNEXPECTED_TOKEN": {
      // `{ url: ${DB_URL} }`: the braces of an unquoted ${…} end the flow mapping early.
      const reference = unquotedReference(lineText);
      return reference
        ? [what, `quote the reference: "${reference}" (inside [ ] and { } an unquoted \${…} is read as YAML)`]
        : [what, 'quote values that contain {, }, [, ] or "," when they are inside [ ] or { }'];
    }
    case "BAD_SCALAR_START":
      return [what, "quote values that start with @, ` or %"];
    case "MULTIPLE_DOCS":
      return ["the file holds more than one YAML document (---)", "keep a single document per spec file"];
    case "DUPLICATE_KEY":
      return [what, "keep one of them"];
    default:
      return [what, "check the indentation and quoting around this point"];
  }
}

/** The first `${…}` on a line that no quote opens (/(?<!["'])\$\{[^}]*\}/ without its quadratic retries). */
function unquotedReference(line: string): string | undefined {
  let close = -1;
  for (let open = line.indexOf("${"); open >= 0; open = line.indexOf("${", open + 1)) {
    if (close < open) close = line.indexOf("}", open + 2);
    if (close < 0) return undefined; // no } after this ${, nor after any later one
    const before = line[open - 1];
    if (before !== '"' && before !== "'") {
      const reference = line.slice(open, close + 1);
      return reference.length > 60 ? undefined : reference;
    }
  }
  return undefined;
}

// ── walking the YAML nodes ─────────────────────────────────────────────────────────────────────────────────────────

interface Visitor {
  /** Each key of each mapping, with the keys seen so far in that mapping. */
  key(key: Node, path: PathSegment[], first: Map<string, Node>): void;
  /** Each scalar value (not keys), with its path. */
  value(scalar: Scalar, path: PathSegment[]): void;
}

function walk(node: unknown, path: PathSegment[], visitor: Visitor): void {
  if (isMap(node)) {
    const first = new Map<string, Node>();
    for (const pair of node.items) {
      if (isScalar(pair.key)) visitor.key(pair.key, path, first);
      walk(pair.value, [...path, keyText(pair.key)], visitor);
    }
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) walk(item, [...path, index], visitor);
  } else if (isScalar(node)) {
    visitor.value(node, path);
  }
  // Aliases are skipped: the node they point at is walked where its anchor is.
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value ?? "");
  return String((key as Node | null)?.toJSON?.() ?? "");
}

/** After interpolation a plain (unquoted) scalar is typed as if the value had been written there: 8080 → number. */
function retype(value: string, scalar: Scalar, substituted: boolean): string | number | boolean {
  if (!substituted || scalar.type !== "PLAIN") return value;
  if (value === "true" || value === "false") return value === "true";
  // Only when the text round-trips exactly, so "007" or "1.50" (a password, a version) stays a string.
  if (/^-?\d+(\.\d+)?$/.test(value) && String(Number(value)) === value) return Number(value);
  return value;
}

interface NodeLookup {
  /** The node an alias names. */
  target(alias: Alias): Node | undefined;
  /** The first pair of a mapping with this key. */
  pair(map: YAMLMap, key: string): Pair | undefined;
}

/**
 * Finding problems' positions by index, not by search: with one problem per key of a large mapping, searching the
 * mapping (or the document, for an alias) for each would take quadratic time.
 */
function nodeLookup(aliasTargets: ReadonlyMap<Alias, Node>): NodeLookup {
  const indexes = new WeakMap<YAMLMap, Map<string, Pair>>();
  return {
    target: (alias) => aliasTargets.get(alias),
    pair(map, key) {
      let index = indexes.get(map);
      if (!index) {
        index = new Map();
        for (const pair of map.items) {
          const text = keyText(pair.key);
          if (!index.has(text)) index.set(text, pair as Pair);
        }
        indexes.set(map, index);
      }
      return index.get(key);
    },
  };
}

/** The position of the node a path names; the parent mapping when a key is missing; the key itself for "key". */
function locate(
  doc: YamlDocument,
  path: readonly PathSegment[],
  target: "value" | "key",
  at: (offset: number) => Position,
  lookup: NodeLookup,
): Position & { offset: number } {
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  for (const segment of path) {
    if (isAlias(node)) node = lookup.target(node);
    let next: unknown;
    if (isMap(node)) {
      const pair = lookup.pair(node, String(segment));
      if (!pair) break;
      keyNode = pair.key as Node;
      next = pair.value;
    } else if (isSeq(node) && typeof segment === "number" && segment < node.items.length) {
      keyNode = undefined;
      next = node.items[segment];
    } else {
      break;
    }
    node = next;
  }
  const range = (n: unknown) => (n as Node | null | undefined)?.range;
  let offset: number | undefined;
  if (target === "key" && keyNode) offset = range(keyNode)?.[0];
  else {
    const r = range(node);
    // An empty value (`health:` with nothing after it) has no text of its own: point at its key.
    offset = r && r[0] !== r[1] ? r[0] : (range(keyNode)?.[0] ?? r?.[0]);
  }
  return { ...at(offset ?? 0), offset: offset ?? -1 };
}

// ── zod issues → problems ───────────────────────────────────────────────────────────────────────────────────────────

interface Draft {
  path: PathSegment[];
  /** "value": the node at path (or its closest existing parent); "key": the key of the last segment. */
  target: "value" | "key";
  message: string;
  fix?: string;
}

const english = z.locales.en();

/** Whether the schema gave this issue its own wording (kept) or zod's generic one (rewritten in plain words). */
function customMessage(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code === "custom")
    return issue.message && issue.message !== "Invalid input" ? issue.message : undefined;
  const generic = english.localeError(issue as unknown as z.core.$ZodRawIssue);
  const genericText = typeof generic === "string" ? generic : generic?.message;
  return issue.message !== genericText ? issue.message : undefined;
}

function translate(issue: z.core.$ZodIssue, base: PathSegment[], data: unknown): Draft[] {
  const path = [...base, ...(issue.path as PathSegment[])];
  const value = valueAt(data, path);
  const custom = customMessage(issue);
  const where = pathText(path);
  const subject = where ? `${where}: ` : "";

  if (issue.code === "invalid_type" || issue.code === "invalid_value" || issue.code === "invalid_union") {
    const parentPath = path.slice(0, -1);
    const parent = valueAt(data, parentPath);
    const key = path[path.length - 1];
    if (typeof key === "string" && isPlainObject(parent) && !(key in parent)) {
      const wanted =
        issue.code === "invalid_value"
          ? issue.values.length === 1
            ? show(issue.values[0])
            : `one of ${issue.values.map(String).join(", ")}`
          : expectation(issue, path).noun;
      return [
        {
          path: parentPath,
          target: "value",
          message: `missing required key "${key}" ${inWhere(parentPath)}`,
          fix: custom ?? `add "${key}:" with ${wanted}`,
        },
      ];
    }
  }

  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeys(specSchema, path);
      return issue.keys.map((key) => {
        const suggestion = suggest(key, allowed);
        return {
          path: [...path, key],
          target: "key" as const,
          message: `unknown key "${shortKey(key)}" ${inWhere(path)}`,
          fix: suggestion
            ? `did you mean "${suggestion}"?`
            : key === "<<"
              ? "YAML merge keys are not supported: write the keys out"
              : allowed.length > 0
                ? `remove it; the keys allowed here are ${allowed.join(", ")}`
                : "remove it",
        };
      });
    }
    case "invalid_type":
    case "invalid_union": {
      if (issue.code === "invalid_union" && !isTypeOnlyUnion(issue)) {
        // One branch matched the kind of value written (e.g. a string) and failed later: report that branch.
        const branch = issue.errors.find((errors) => errors.some((e) => !isRootTypeIssue(e)));
        if (branch) return branch.filter((e) => !isRootTypeIssue(e)).flatMap((e) => translate(e, path, data));
      }
      const expected = expectation(issue, path);
      return [
        {
          path,
          target: "value",
          message: `${subject}expected ${expected.noun}, found ${found(value)}`,
          fix: custom ?? expected.hint ?? typeFix(expected.types, value),
        },
      ];
    }
    case "invalid_value": {
      const values = issue.values.map((v) => show(v));
      if (issue.values.length === 1) {
        return [
          {
            path,
            target: "value",
            message: `${subject}expected ${values[0]}, found ${show(value)}`,
            fix: custom ?? `write ${values[0]}`,
          },
        ];
      }
      const suggestion = typeof value === "string" ? suggest(value, issue.values.map(String)) : undefined;
      return [
        {
          path,
          target: "value",
          message: `${subject}${show(value)} is not one of ${issue.values.map(String).join(", ")}`,
          fix: suggestion ? `did you mean "${suggestion}"?` : (custom ?? "use one of the values listed"),
        },
      ];
    }
    case "invalid_key": {
      const key = path[path.length - 1];
      const parentPath = path.slice(0, -1);
      const inner = issue.issues.map((i) => customMessage(i)).find(Boolean);
      return [
        {
          path,
          target: "key",
          message: `"${shortKey(String(key))}" is not a valid key ${inWhere(parentPath)}`,
          fix: inner ?? custom ?? "use letters, digits, '-', '_' or '.', starting with a letter",
        },
      ];
    }
    case "too_small":
    case "too_big": {
      const small = issue.code === "too_small";
      const bound = small ? issue.minimum : issue.maximum;
      const limit = `${small ? (issue.inclusive ? "at least" : "above") : issue.inclusive ? "at most" : "below"} ${bound}`;
      if (issue.origin === "string") {
        const empty = small && Number(bound) === 1 && value === "";
        return [
          {
            path,
            target: "value",
            message: empty
              ? `${where || "value"} is empty`
              : `${subject}${show(value)} is too ${small ? "short" : "long"}`,
            fix: custom ?? (empty ? "write a value, or remove the key" : `use ${limit} characters`),
          },
        ];
      }
      if (issue.origin === "array" || issue.origin === "set") {
        const count = Array.isArray(value) ? value.length : 0;
        return [
          {
            path,
            target: "value",
            message: `${subject}has ${count} item${count === 1 ? "" : "s"}`,
            fix: custom ?? `give ${limit} items`,
          },
        ];
      }
      return [
        {
          path,
          target: "value",
          message: `${subject}${show(value)} is too ${small ? "small" : "large"}`,
          fix: custom ?? `use a number ${limit}`,
        },
      ];
    }
    case "invalid_format": {
      const problem =
        issue.format === "starts_with" && "prefix" in issue
          ? `does not start with "${String(issue.prefix)}"`
          : issue.format === "regex"
            ? "is not valid here"
            : `is not a valid ${issue.format}`;
      const pattern = "pattern" in issue ? ` (it must match ${String(issue.pattern)})` : "";
      return [
        {
          path,
          target: "value",
          message: `${subject}${show(value)} ${problem}`,
          fix: custom ?? pattern.trim(),
        },
      ];
    }
    case "not_multiple_of":
      return [
        {
          path,
          target: "value",
          message: `${subject}${show(value)} is not a multiple of ${String(issue.divisor)}`,
          fix: custom ?? `use a multiple of ${String(issue.divisor)}`,
        },
      ];
    case "custom": {
      const text = custom ?? "is not valid";
      // The unit parsers say "what is wrong: write …": keep their words, split into message and fix.
      const split = text.lastIndexOf(": write ");
      const [message, fix] = split > 0 ? [text.slice(0, split), text.slice(split + 2)] : [text, undefined];
      let suggestion: string | undefined;
      if (/^no service named /.test(message) && typeof value === "string") {
        const services = Object.keys((valueAt(data, ["services"]) as object | undefined) ?? {});
        const near = suggest(value, services);
        suggestion = near
          ? `did you mean "${near}"?`
          : `declare it under services, or name one of: ${services.join(", ") || "none yet"}`;
      }
      return [{ path, target: "value", message: `${subject}${message}`, fix: fix ?? suggestion }];
    }
    default:
      return [{ path, target: "value", message: `${subject}${(issue as { message: string }).message}` }];
  }
}

function isRootTypeIssue(issue: z.core.$ZodIssue): boolean {
  return (
    (issue.code === "invalid_type" && issue.path.length === 0) ||
    (issue.code === "invalid_union" && issue.path.length === 0 && isTypeOnlyUnion(issue))
  );
}

/** A union where every branch rejected the kind of value (a list where a string or number was wanted). */
function isTypeOnlyUnion(issue: z.core.$ZodIssue): boolean {
  return (
    issue.code === "invalid_union" &&
    issue.errors.every((errors) => errors.length > 0 && errors.every(isRootTypeIssue))
  );
}

function expectedTypes(issue: z.core.$ZodIssue): string[] {
  if (issue.code === "invalid_type") return [issue.expected];
  if (issue.code === "invalid_union") return [...new Set(issue.errors.flat().flatMap(expectedTypes))];
  if (issue.code === "invalid_value") return issue.values.map((v) => show(v));
  return [];
}

const NOUNS: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  bigint: "a whole number",
  boolean: "true or false",
  array: "a list",
  tuple: "a list",
  object: "a mapping",
  record: "a mapping",
  map: "a mapping",
  date: "a date",
  null: "nothing",
};

/** What the schema wants at a path in plain words, from its `.describe()` text when it has one. */
function expectation(
  issue: z.core.$ZodIssue,
  path: PathSegment[],
): { noun: string; hint?: string; types: string[] } {
  const types = expectedTypes(issue);
  const description = descriptionAt(specSchema, path);
  if (description) {
    // "duration: a number with ms, s, m, h or d, e.g. 30s" → "a duration", "write a number with …"
    const colon = description.indexOf(": ");
    const noun = colon > 0 ? description.slice(0, colon) : description.split(",")[0]!;
    const hint = colon > 0 ? description.slice(colon + 2) : description;
    return { noun: `a ${noun}`, hint: `write ${hint.startsWith("a ") ? hint : `a ${hint}`}`, types };
  }
  const nouns = [...new Set(types.map((t) => NOUNS[t] ?? `a ${t}`))];
  return { noun: nouns.length > 0 ? nouns.join(" or ") : "something else", types };
}

function typeFix(types: string[], value: unknown): string | undefined {
  const wanted = types[0];
  if (value === null || value === undefined) {
    return wanted === "object" || wanted === "record"
      ? "write its keys on the lines below, indented, or remove it"
      : "write a value after the colon, or remove the key";
  }
  if (wanted === "array") {
    return isPlainObject(value)
      ? 'write a list ("- item" on each line) instead of keys'
      : `write a list, e.g. [${String(value)}], or one "- item" per line`;
  }
  if (wanted === "object" || wanted === "record")
    return "write key: value pairs on the lines below, indented";
  if (wanted === "string") {
    return typeof value === "number" || typeof value === "boolean"
      ? `quote it: "${value}"`
      : "write a single value";
  }
  if (wanted === "number" || wanted === "int") {
    const example = wanted === "int" ? "a whole number, e.g. 10" : "a number, e.g. 10";
    return typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())
      ? `remove the quotes: ${value.trim()}`
      : `write ${example}`;
  }
  if (wanted === "boolean") return "write true or false";
  return undefined;
}

/** Waivers and resilience exclusions name checks by id: an unknown id would silently match nothing. */
function unknownCheckIds(data: unknown, checkIds: readonly string[]): Draft[] {
  const known = new Set(checkIds);
  const drafts: Draft[] = [];
  for (const path of [
    ["scoring", "waivers"],
    ["resilience", "exclude"],
  ] as const) {
    const entries = valueAt(data, path);
    if (!Array.isArray(entries)) continue;
    entries.forEach((entry, index) => {
      const check = isPlainObject(entry) ? entry.check : undefined;
      if (typeof check !== "string" || known.has(check)) return;
      const suggestion = suggest(check, checkIds);
      const some = [...checkIds].sort().slice(0, 3).join(", ");
      drafts.push({
        path: [...path, index, "check"],
        target: "value",
        message: `${path.join(".")}[${index}].check: no check with id "${check}"`,
        fix: suggestion
          ? `did you mean "${suggestion}"?`
          : `run gauntlet checks for the ${checkIds.length} check ids (e.g. ${some}, …)`,
      });
    });
  }
  return drafts;
}

// ── words ───────────────────────────────────────────────────────────────────────────────────────────────────────────

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current = data;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === "number") current = current[segment];
    else if (isPlainObject(current)) current = current[String(segment)];
    else return undefined;
  }
  return current;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** services.api.dependsOn[1], services["orders.api"] */
function pathText(path: readonly PathSegment[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(shortKey(segment))}]`;
  }
  return text;
}

/** A key quoted in a message: a 16 KiB key would bury the line it is on. */
function shortKey(key: string): string {
  return key.length > 60 ? `${key.slice(0, 57)}…` : key;
}

function inWhere(path: readonly PathSegment[]): string {
  return path.length === 0 ? "at the top level" : `in ${pathText(path)}`;
}

/** A value as the user wrote it, short. */
function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  return found(value);
}

/** The kind of value found, in plain words. */
function found(value: unknown): string {
  if (value === null || value === undefined) return "nothing (an empty value)";
  if (typeof value === "string") return "a string";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  return "a mapping";
}
