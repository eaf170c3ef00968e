// JaCoCo XML (`jacoco.xml`, `jacocoTestReport.xml`): the LINE and BRANCH <counter>s that are direct children of
// <report> are the totals, those of each <package><sourcefile> the files; the newest <sessioninfo dump> is when the
// coverage was collected.
import {
  type Counts,
  type CoverageReport,
  CoverageSyntaxError,
  type FileCoverage,
  totalsOf,
} from "./model.js";
import { XmlSyntaxError, xmlTags } from "./xmlTags.js";

export function parseJacoco(text: string): CoverageReport {
  let rootSeen = false;
  const totals: { lines?: Counts; branches?: Counts } = {};
  const files: FileCoverage[] = [];
  let packageName = "";
  let file: FileCoverage | null = null;
  let dump: number | undefined;
  try {
    for (const tag of xmlTags(text)) {
      if (!rootSeen) {
        if (tag.name !== "report") {
          throw new CoverageSyntaxError(
            `the root element is <${tag.name}>, not <report>`,
            "jacoco",
            tag.line,
          );
        }
        rootSeen = true;
        continue;
      }
      if (tag.kind === "close") {
        if (tag.name === "sourcefile" && file) {
          files.push(file);
          file = null;
        }
        continue;
      }
      const parent = tag.ancestors.at(-1);
      if (tag.name === "sessioninfo") {
        const at = Number(tag.attributes.dump);
        if (Number.isFinite(at) && at > 0) dump = Math.max(dump ?? 0, at);
      } else if (tag.name === "package") {
        packageName = tag.attributes.name ?? "";
      } else if (tag.name === "sourcefile" && parent === "package") {
        const name = tag.attributes.name ?? "";
        file = { file: packageName ? `${packageName}/${name}` : name };
        if (tag.kind === "empty") {
          files.push(file);
          file = null;
        }
      } else if (tag.name === "counter" && (parent === "report" || parent === "sourcefile")) {
        const type = tag.attributes.type;
        if (type !== "LINE" && type !== "BRANCH") continue;
        const missed = Number(tag.attributes.missed);
        const covered = Number(tag.attributes.covered);
        if (!Number.isInteger(missed) || !Number.isInteger(covered) || missed < 0 || covered < 0) {
          throw new CoverageSyntaxError(
            `<counter type="${type}"> needs whole missed and covered counts`,
            "jacoco",
            tag.line,
          );
        }
        const counts = { valid: missed + covered, covered };
        const target = parent === "report" ? totals : file;
        if (target) target[type === "LINE" ? "lines" : "branches"] = counts;
      }
    }
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw new CoverageSyntaxError(error.message, "jacoco", error.line);
    throw error;
  }
  if (!rootSeen) throw new CoverageSyntaxError("no <report> element: not a JaCoCo report", "jacoco");
  // A report with no class at all has no counters: zero lines.
  const counted = totalsOf(files);
  const branches = totals.branches ?? counted.branches;
  return {
    format: "jacoco",
    primary: "lines",
    lines: totals.lines ?? counted.lines ?? { valid: 0, covered: 0 },
    ...(branches ? { branches } : {}),
    files,
    ...(dump !== undefined ? { timestamp: dump } : {}),
    notes: [],
  };
}
