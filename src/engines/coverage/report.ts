// Reads a coverage report of any supported format. The format is told by the content — a `mode:` line, lcov's SF:
// records, the XML root element, the JSON's shape — and the file name only breaks a tie, so a Cobertura file named
// coverage.txt or an lcov file without the .info ending is still read for what it is.
import { open, stat } from "node:fs/promises";
import path from "node:path";
import { parseCobertura } from "./cobertura.js";
import { parseGoCoverProfile } from "./goCoverProfile.js";
import { isIstanbulFinal, isIstanbulSummary, parseIstanbulFinal, parseIstanbulSummary } from "./istanbul.js";
import { parseJacoco } from "./jacoco.js";
import { parseLcov } from "./lcov.js";
import { type CoverageFormat, type CoverageReport, CoverageSyntaxError } from "./model.js";
import { XmlSyntaxError, xmlTags } from "./xmlTags.js";

/** Reports larger than this are not read into memory (a coverage-final.json of a very large monorepo). */
export const MAX_REPORT_BYTES = 256 * 1024 * 1024;

export type ReadFailure =
  /** No file at that path (or a broken link). */
  | "missing"
  /** The path is a folder or another non-file. */
  | "notAFile"
  /** It exists but this process may not read it, or reading failed (EACCES, EIO). */
  | "unreadable"
  | "tooLarge"
  /** Zero bytes, or only whitespace. */
  | "empty"
  /** Readable text in no format Gauntlet knows. */
  | "unknownFormat"
  /** A known format, broken (truncated XML, a malformed line). */
  | "corrupt";

export type ReadReport =
  | { state: "ok"; report: CoverageReport; bytes: number; mtimeMs: number }
  | {
      state: ReadFailure;
      reason: string;
      bytes?: number;
      mtimeMs?: number;
      format?: CoverageFormat;
      line?: number;
      code?: string;
    };

export async function readCoverageReport(file: string): Promise<ReadReport> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "ERROR";
    if (code === "ENOENT" || code === "ENOTDIR") return { state: "missing", reason: "no such file", code };
    return { state: "unreadable", reason: `cannot be looked at (${code})`, code };
  }
  const facts = { bytes: info.size, mtimeMs: info.mtimeMs };
  if (!info.isFile()) return { state: "notAFile", reason: "is a folder, not a report file", ...facts };
  if (info.size > MAX_REPORT_BYTES) {
    return {
      state: "tooLarge",
      reason: `is ${Math.round(info.size / 1024 / 1024)} MiB, more than the ${MAX_REPORT_BYTES / 1024 / 1024} MiB read`,
      ...facts,
    };
  }
  let text: string;
  try {
    const handle = await open(file, "r");
    try {
      text = await handle.readFile("utf8");
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "ERROR";
    return { state: "unreadable", reason: `cannot be read (${code})`, code, ...facts };
  }
  return { ...parseCoverageText(text, path.basename(file)), ...facts };
}

export type ParsedText =
  | { state: "ok"; report: CoverageReport }
  | { state: "empty" | "unknownFormat" | "corrupt"; reason: string; format?: CoverageFormat; line?: number };

/** Parses report text; `name` (the file's base name) only decides between formats the content leaves open. */
export function parseCoverageText(text: string, name = ""): ParsedText {
  const body = text.replace(/^\uFEFF/, "");
  if (body.trim() === "") return { state: "empty", reason: "is empty" };
  const sniffed = sniff(body, name);
  if (sniffed.state !== "ok") return sniffed;
  try {
    return { state: "ok", report: sniffed.parse() };
  } catch (error) {
    if (error instanceof CoverageSyntaxError) {
      return {
        state: "corrupt",
        format: error.format,
        reason: error.message,
        ...(error.line !== undefined ? { line: error.line } : {}),
      };
    }
    throw error;
  }
}

type Sniffed =
  | { state: "ok"; format: CoverageFormat; parse: () => CoverageReport }
  | { state: "unknownFormat" | "corrupt"; reason: string; format?: CoverageFormat; line?: number };

function sniff(body: string, name: string): Sniffed {
  const start = body.trimStart();
  if (/^mode:/.test(start)) return { state: "ok", format: "go", parse: () => parseGoCoverProfile(body) };
  if (start.startsWith("<")) return sniffXml(body);
  if (start.startsWith("{") || start.startsWith("[")) return sniffJson(body, name);
  if (/^(TN|SF):/m.test(body.slice(0, 64 * 1024))) {
    return { state: "ok", format: "lcov", parse: () => parseLcov(body) };
  }
  if (/^[^\s:]+\.go:\d+\.\d+,\d+\.\d+ \d+ \d+$/m.test(body.slice(0, 64 * 1024))) {
    return {
      state: "corrupt",
      format: "go",
      reason: 'looks like a Go coverprofile but has no "mode:" line first',
      line: 1,
    };
  }
  return {
    state: "unknownFormat",
    reason: `is in no format Gauntlet reads (first line: ${JSON.stringify(start.split(/\r?\n/)[0]!.slice(0, 60))})`,
  };
}

function sniffXml(body: string): Sniffed {
  let root: { name: string; attributes: Record<string, string> } | null = null;
  try {
    for (const tag of xmlTags(body)) {
      root = tag;
      break;
    }
  } catch (error) {
    if (error instanceof XmlSyntaxError) {
      return { state: "corrupt", reason: `is not well-formed XML: ${error.message}`, line: error.line };
    }
    throw error;
  }
  if (root?.name === "report") return { state: "ok", format: "jacoco", parse: () => parseJacoco(body) };
  if (root?.name === "coverage" && ("line-rate" in root.attributes || "lines-valid" in root.attributes)) {
    return { state: "ok", format: "cobertura", parse: () => parseCobertura(body) };
  }
  const what =
    root?.name === "coverage" && ("clover" in root.attributes || "generated" in root.attributes)
      ? "Clover XML"
      : root
        ? `XML with root <${root.name}>`
        : "XML with no element";
  return {
    state: "unknownFormat",
    reason: `is ${what}, which Gauntlet does not read (it reads Cobertura and JaCoCo XML)`,
  };
}

function sniffJson(body: string, name: string): Sniffed {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    const format: CoverageFormat | undefined = /summary/i.test(name)
      ? "istanbul-summary"
      : /final|coverage.*\.json$/i.test(name)
        ? "istanbul-final"
        : undefined;
    return {
      state: "corrupt",
      ...(format ? { format } : {}),
      reason: `is not valid JSON (${(error as Error).message})`,
      ...jsonErrorLine(body, error as Error),
    };
  }
  if (isIstanbulSummary(value)) {
    return { state: "ok", format: "istanbul-summary", parse: () => parseIstanbulSummary(value) };
  }
  if (isIstanbulFinal(value)) {
    return { state: "ok", format: "istanbul-final", parse: () => parseIstanbulFinal(value) };
  }
  // nyc and c8 write `{}` when nothing was instrumented: a coverage map of no file.
  if (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 0 &&
    /final/i.test(name)
  ) {
    return { state: "ok", format: "istanbul-final", parse: () => parseIstanbulFinal(value) };
  }
  return {
    state: "unknownFormat",
    reason:
      "is JSON in no shape Gauntlet reads (it reads Istanbul's coverage-summary.json and coverage-final.json)",
  };
}

function jsonErrorLine(body: string, error: Error): { line?: number } {
  const position = /position (\d+)/.exec(error.message)?.[1];
  if (position === undefined) return {};
  const upTo = body.slice(0, Number(position));
  return { line: upTo.split("\n").length };
}
