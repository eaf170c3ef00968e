// Which advisories affect one installed package, grouped the way osv-scanner groups them: advisories that share an
// id or alias (GHSA-…, GO-…, CVE-…) are one vulnerability, as bad as the worst of them. Each group names the lowest
// version above the installed one that none of its advisories affects, and the package the lowest that clears them
// all.
import { type Advisory, compareLevels, evaluateAffected, type Severity } from "./osv.js";
import type { Ecosystem, LockedPackage } from "./packages.js";
import { compareVersions } from "./versions.js";

export interface VulnerabilityGroup {
  /** The advisories of the group, a GHSA id first when there is one. */
  ids: string[];
  /** Their other names (CVE-…) that are not advisories of the set themselves. */
  aliases: string[];
  summary?: string;
  /** The worst of the group's advisories. */
  severity: Severity;
  /** The lowest version above the installed one that no advisory of the group affects. */
  fixed?: string;
  /** Each advisory's own next fixed version, when it names one. */
  fixedBy: Record<string, string>;
  /** When no advisory names a fix: the last version known to be affected. */
  lastAffected?: string;
  /** Where the advisories were read. */
  sources: string[];
}

export interface PackageVerdict {
  groups: VulnerabilityGroup[];
  /** Advisories about the package whose ranges cannot be evaluated for its version. */
  undecidable: { id: string; reason: string; source: string }[];
  /** The lowest fixed version that clears every group, when one of the named fixes does. */
  upgradeTo?: string;
}

interface Hit {
  advisory: Advisory;
  fixed?: string;
  lastAffected?: string;
}

export function judgePackage(pkg: LockedPackage, advisories: readonly Advisory[]): PackageVerdict {
  const hits: Hit[] = [];
  const undecidable: PackageVerdict["undecidable"] = [];
  for (const advisory of advisories) {
    const result = affects(advisory, pkg.ecosystem, pkg.name, pkg.version);
    if (result === "no") continue;
    if (typeof result === "object" && "undecidable" in result) {
      undecidable.push({ id: advisory.id, reason: result.undecidable, source: advisory.source });
      continue;
    }
    hits.push({ advisory, ...result });
  }
  const groups = groupByAlias(hits).map((members) => toGroup(pkg, members));
  groups.sort(
    (a, b) =>
      compareLevels(b.severity.level, a.severity.level) ||
      (b.severity.score ?? 0) - (a.severity.score ?? 0) ||
      a.ids[0]!.localeCompare(b.ids[0]!),
  );
  const everyAdvisory = hits.map((h) => h.advisory);
  const upgradeTo = lowestClearing(
    pkg,
    everyAdvisory,
    hits.flatMap((h) => (h.fixed ? [h.fixed] : [])),
  );
  return { groups, undecidable, ...(upgradeTo ? { upgradeTo } : {}) };
}

/** Whether the advisory affects this version: "no", the fix it names, or why it cannot be told. */
function affects(
  advisory: Advisory,
  ecosystem: Ecosystem,
  name: string,
  version: string,
): "no" | { fixed?: string; lastAffected?: string } | { undecidable: string } {
  let undecidable: string | undefined;
  let found: { fixed?: string; lastAffected?: string } | undefined;
  for (const entry of advisory.affected) {
    if (entry.ecosystem !== ecosystem || entry.name !== name) continue;
    const verdict = evaluateAffected(entry, version);
    if ("undecidable" in verdict) undecidable ??= verdict.undecidable;
    else if (verdict.affected) {
      // Several entries may hold the version (one per range in GHSA's data): keep the lowest fix they name.
      const fixed =
        found?.fixed && verdict.fixed
          ? (compareVersions(ecosystem, found.fixed, verdict.fixed) ?? 0) <= 0
            ? found.fixed
            : verdict.fixed
          : (found?.fixed ?? verdict.fixed);
      found = {
        ...(fixed ? { fixed } : {}),
        ...(verdict.lastAffected && !fixed ? { lastAffected: verdict.lastAffected } : {}),
      };
    }
  }
  if (found) return found;
  return undecidable ? { undecidable } : "no";
}

/** The lowest candidate above the installed version that none of the advisories affects (or cannot tell about). */
function lowestClearing(
  pkg: LockedPackage,
  advisories: Advisory[],
  candidates: string[],
): string | undefined {
  const above = [...new Set(candidates)]
    .filter((c) => (compareVersions(pkg.ecosystem, c, pkg.version) ?? 0) > 0)
    .sort((a, b) => compareVersions(pkg.ecosystem, a, b) ?? 0);
  return above.find((candidate) =>
    advisories.every((advisory) => affects(advisory, pkg.ecosystem, pkg.name, candidate) === "no"),
  );
}

function groupByAlias(hits: Hit[]): Hit[][] {
  const parent = hits.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const owner = new Map<string, number>();
  for (const [i, hit] of hits.entries()) {
    for (const name of [hit.advisory.id, ...hit.advisory.aliases]) {
      const seen = owner.get(name);
      if (seen === undefined) owner.set(name, i);
      else parent[find(i)] = find(seen);
    }
  }
  const groups = new Map<number, Hit[]>();
  for (const [i, hit] of hits.entries()) {
    const root = find(i);
    groups.set(root, [...(groups.get(root) ?? []), hit]);
  }
  return [...groups.values()];
}

function toGroup(pkg: LockedPackage, members: Hit[]): VulnerabilityGroup {
  const ids = [...new Set(members.map((m) => m.advisory.id))].sort(byIdPreference);
  const aliases = [...new Set(members.flatMap((m) => m.advisory.aliases))]
    .filter((a) => !ids.includes(a))
    .sort(byIdPreference);
  const worst = members
    .map((m) => m.advisory.severity)
    .reduce((a, b) =>
      compareLevels(b.level, a.level) > 0 || (b.level === a.level && (b.score ?? 0) > (a.score ?? 0)) ? b : a,
    );
  const fixedBy = Object.fromEntries(members.flatMap((m) => (m.fixed ? [[m.advisory.id, m.fixed]] : [])));
  const fixed = lowestClearing(
    pkg,
    members.map((m) => m.advisory),
    Object.values(fixedBy),
  );
  const lastAffected = members.find((m) => m.lastAffected)?.lastAffected;
  const summary =
    members.find((m) => m.advisory.id === ids[0])?.advisory.summary ??
    members.find((m) => m.advisory.summary)?.advisory.summary;
  return {
    ids,
    aliases,
    ...(summary ? { summary } : {}),
    severity: worst,
    ...(fixed ? { fixed } : {}),
    fixedBy,
    ...(!fixed && Object.keys(fixedBy).length === 0 && lastAffected ? { lastAffected } : {}),
    sources: [...new Set(members.map((m) => m.advisory.source))],
  };
}

/** GHSA ids first (the most widely linked), CVE ids last, the rest by name. */
function byIdPreference(a: string, b: string): number {
  const rank = (id: string) => (id.startsWith("GHSA-") ? 0 : id.startsWith("CVE-") ? 2 : 1);
  return rank(a) - rank(b) || a.localeCompare(b);
}
