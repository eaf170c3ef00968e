// PEP 440 versions, as pip and PyPI order them: epoch, release (trailing zeros ignored), pre-release (a < b < rc),
// post-release, dev release and local label. A dev release of a final version sorts before its pre-releases
// (1.0.dev0 < 1.0a1 < 1.0), a post-release after it (1.0 < 1.0.post1), a local label after the public version
// (1.0 < 1.0+local). Alternative spellings are normalised as PEP 440 says (1.0-alpha.1 = 1.0a1, 1.0-1 = 1.0.post1).

export interface Pep440Version {
  epoch: string;
  /** Release numbers without leading zeros, trailing zero parts dropped (1.0.0 → ["1"]). */
  release: string[];
  pre?: { label: "a" | "b" | "rc"; number: string };
  post?: string;
  dev?: string;
  /** Local label segments, lowercased ("ubuntu", "1"). */
  local?: string[];
}

// The regular expression of PEP 440's appendix, spelled out; matched case-insensitively against the trimmed text.
const VERSION = new RegExp(
  "^v?" +
    "(?:(?<epoch>[0-9]+)!)?" +
    "(?<release>[0-9]+(?:\\.[0-9]+)*)" +
    "(?<pre>[-_.]?(?<preL>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<preN>[0-9]+)?)?" +
    "(?<post>(?:-(?<postN1>[0-9]+))|(?:[-_.]?(?<postL>post|rev|r)[-_.]?(?<postN2>[0-9]+)?))?" +
    "(?<dev>[-_.]?(?<devL>dev)[-_.]?(?<devN>[0-9]+)?)?" +
    "(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?$",
  "i",
);

const PRE_LABEL: Record<string, "a" | "b" | "rc"> = {
  a: "a",
  alpha: "a",
  b: "b",
  beta: "b",
  c: "rc",
  rc: "rc",
  pre: "rc",
  preview: "rc",
};

/** The version, or null when the text is not a PEP 440 version (a legacy version pip no longer accepts). */
export function parsePep440(text: string): Pep440Version | null {
  const match = VERSION.exec(text.trim());
  if (!match?.groups) return null;
  const g = match.groups;
  const release = g.release!.split(".").map(stripZeros);
  while (release.length > 1 && release.at(-1) === "0") release.pop();
  const version: Pep440Version = { epoch: stripZeros(g.epoch ?? "0"), release };
  if (g.pre) version.pre = { label: PRE_LABEL[g.preL!.toLowerCase()]!, number: stripZeros(g.preN ?? "0") };
  if (g.post) version.post = stripZeros(g.postN1 ?? g.postN2 ?? "0");
  if (g.dev) version.dev = stripZeros(g.devN ?? "0");
  if (g.local) version.local = g.local.toLowerCase().split(/[-_.]/);
  return version;
}

/** The canonical spelling (1.0-Alpha-1 → 1.0a1, 2!1.0.0.post0 → 2!1.0.0.post0; trailing zeros are kept as written). */
export function normalizePep440(text: string): string | null {
  const match = VERSION.exec(text.trim());
  if (!match?.groups) return null;
  const g = match.groups;
  let out = g.epoch && stripZeros(g.epoch) !== "0" ? `${stripZeros(g.epoch)}!` : "";
  out += g.release!.split(".").map(stripZeros).join(".");
  if (g.pre) out += `${PRE_LABEL[g.preL!.toLowerCase()]}${stripZeros(g.preN ?? "0")}`;
  if (g.post) out += `.post${stripZeros(g.postN1 ?? g.postN2 ?? "0")}`;
  if (g.dev) out += `.dev${stripZeros(g.devN ?? "0")}`;
  if (g.local) out += `+${g.local.toLowerCase().replace(/[-_]/g, ".")}`;
  return out;
}

/** Negative, zero or positive as a sorts before, equal to or after b. */
export function comparePep440(a: Pep440Version, b: Pep440Version): number {
  return (
    compareNumbers(a.epoch, b.epoch) ||
    compareRelease(a.release, b.release) ||
    comparePre(a, b) ||
    compareOptional(a.post, b.post, -1) ||
    compareOptional(a.dev, b.dev, 1) ||
    compareLocal(a.local, b.local)
  );
}

function compareRelease(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = compareNumbers(a[i] ?? "0", b[i] ?? "0");
    if (diff) return diff;
  }
  return 0;
}

/** Pre-release rank: a dev release of a final version (no pre, no post) comes before every pre-release. */
function preKey(v: Pep440Version): [number, string] {
  if (!v.pre && !v.post && v.dev !== undefined) return [-1, "0"];
  if (!v.pre) return [3, "0"];
  return [{ a: 0, b: 1, rc: 2 }[v.pre.label], v.pre.number];
}

function comparePre(a: Pep440Version, b: Pep440Version): number {
  const [rankA, numberA] = preKey(a);
  const [rankB, numberB] = preKey(b);
  return rankA - rankB || compareNumbers(numberA, numberB);
}

/** An absent part sorts as `absent` (-1 before any value, 1 after any value). */
function compareOptional(a: string | undefined, b: string | undefined, absent: -1 | 1): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return absent;
  if (b === undefined) return -absent;
  return compareNumbers(a, b);
}

/** No label sorts first; numeric segments compare as numbers and after alphanumeric ones; a prefix sorts first. */
function compareLocal(a: string[] | undefined, b: string[] | undefined): number {
  if (!a && !b) return 0;
  if (!a) return -1;
  if (!b) return 1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xNumeric = /^[0-9]+$/.test(x);
    const yNumeric = /^[0-9]+$/.test(y);
    let diff: number;
    if (xNumeric && yNumeric) diff = compareNumbers(stripZeros(x), stripZeros(y));
    else if (xNumeric) diff = 1;
    else if (yNumeric) diff = -1;
    else diff = x < y ? -1 : x > y ? 1 : 0;
    if (diff) return diff;
  }
  return a.length - b.length;
}

/** Decimal strings of any length, without leading zeros. */
function compareNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function stripZeros(digits: string): string {
  return digits.replace(/^0+(?=[0-9])/, "");
}
