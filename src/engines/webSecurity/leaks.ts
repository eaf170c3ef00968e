// Well-known files and debug endpoints that leak a web service's secrets or internals when served to anyone. Each is
// recognised by its content, not by its status: a catch-all page (an SPA's index.html, a soft 404) answers 200 to
// every path and must not count. What is kept of a leak is safe by construction: key names and section headers,
// never a value; and the values that look secret are returned so the caller can register them for redaction.
import { type Exposition, parseExposition } from "../metrics/exposition.js";

export interface LeakMatch {
  /** What in the body proved it (e.g. "a [core] section"). */
  marker: string;
  /** A few safe lines: key names with masked values, section headers, markers. */
  excerpt: string[];
  /** Values in the body that look like secrets, to be registered with the run's redactor. */
  secrets: string[];
}

export interface LeakProbe {
  path: string;
  what: string;
  /** `metrics` leaks are warned about on public services only; the others fail anywhere. */
  kind: "secret" | "internals" | "metrics";
  detect(body: string, contentType: string): LeakMatch | null;
}

const MAX_EXCERPT_LINES = 8;
const SECRET_KEY =
  /pass|secret|token|key|credential|auth|dsn|private|cookie|session|salt|signature|api_?key/i;
const HTML = /^\s*(?:<!doctype\s+html|<html|<head|<body|<\?xml|<!--)/i;

export const LEAK_PROBES: readonly LeakProbe[] = [
  { path: "/.env", what: "a dotenv file (environment secrets)", kind: "secret", detect: detectDotenv },
  { path: "/.git/config", what: "the git repository's config", kind: "secret", detect: detectGitConfig },
  { path: "/.git/HEAD", what: "the git repository (its HEAD)", kind: "secret", detect: detectGitHead },
  {
    path: "/server-status",
    what: "Apache mod_status (clients and URLs being served)",
    kind: "internals",
    detect: markerDetector(/Apache Server Status for/i, "Apache Server Status page"),
  },
  {
    path: "/actuator/env",
    what: "Spring Boot's environment endpoint (configuration and secrets)",
    kind: "secret",
    detect: detectActuatorEnv,
  },
  {
    path: "/actuator/heapdump",
    what: "a Java heap dump (every secret in memory)",
    kind: "secret",
    detect: markerDetector(/^JAVA PROFILE 1\.0\.[12]/, "an HPROF heap dump header"),
  },
  {
    path: "/debug/pprof/",
    what: "Go's pprof profiler (heap, goroutines, command line)",
    kind: "internals",
    detect: markerDetector(/Types of profiles available|\/debug\/pprof\/goroutine/i, "the pprof index"),
  },
  {
    path: "/.DS_Store",
    what: "a macOS folder index (file names)",
    kind: "internals",
    detect: markerDetector(/^\0\0\0\x01Bud1/, "a .DS_Store header (Bud1)"),
  },
  {
    path: "/phpinfo.php",
    what: "phpinfo() (configuration and environment)",
    kind: "internals",
    detect: markerDetector(/<title>phpinfo\(\)<\/title>|PHP Version \d/i, "a phpinfo() page"),
  },
  { path: "/metrics", what: "Prometheus metrics", kind: "metrics", detect: detectMetrics },
];

function markerDetector(pattern: RegExp, marker: string): LeakProbe["detect"] {
  return (body) => {
    const match = pattern.exec(body);
    if (!match) return null;
    return { marker, excerpt: [marker], secrets: [] };
  };
}

function detectDotenv(body: string): LeakMatch | null {
  if (HTML.test(body) || /^\s*[[{]/.test(body)) return null;
  const lines = body.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  // A dotenv file is all assignments; a partial read may end in a cut line, which is allowed.
  const assignments = lines
    .map((l) => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  if (assignments.length === 0 || assignments.length < lines.length - 1) return null;
  const secrets: string[] = [];
  const excerpt = assignments.slice(0, MAX_EXCERPT_LINES).map((m) => {
    const value = unquote(m[2]!.trim());
    if (looksSecret(m[1]!, value)) secrets.push(value);
    return `${m[1]}=…`;
  });
  for (const m of assignments.slice(MAX_EXCERPT_LINES)) {
    const value = unquote(m[2]!.trim());
    if (looksSecret(m[1]!, value)) secrets.push(value);
  }
  return { marker: `${assignments.length} KEY=VALUE line(s)`, excerpt, secrets };
}

function detectGitConfig(body: string): LeakMatch | null {
  if (!/^\s*\[core\]\s*$/m.test(body)) return null;
  const excerpt: string[] = [];
  const secrets: string[] = [];
  for (const line of body.split(/\r?\n/)) {
    const section = /^\s*(\[[^\]\n]{1,80}\])\s*$/.exec(line);
    const entry = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*=\s*(.*)$/.exec(line);
    if (section) excerpt.push(section[1]!);
    else if (entry) {
      excerpt.push(`  ${entry[1]} = …`);
      secrets.push(...urlPasswords(entry[2]!));
      if (/extraheader/i.test(entry[1]!)) secrets.push(entry[2]!.replace(/^[^:]*:\s*/, "").trim());
    }
  }
  return { marker: "a [core] section", excerpt: excerpt.slice(0, MAX_EXCERPT_LINES), secrets };
}

function detectGitHead(body: string): LeakMatch | null {
  const text = body.trim();
  if (/^ref: refs\/[\w./-]+$/.test(text))
    return { marker: "ref: refs/…", excerpt: [text.slice(0, 80)], secrets: [] };
  if (/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(text))
    return { marker: "a detached commit id", excerpt: ["<commit id>"], secrets: [] };
  return null;
}

function detectActuatorEnv(body: string): LeakMatch | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // A truncated read of a large answer: recognise it by its opening keys.
    if (/"activeProfiles"\s*:/.test(body) && /"propertySources"\s*:/.test(body)) {
      return {
        marker: "activeProfiles and propertySources",
        excerpt: ["activeProfiles", "propertySources"],
        secrets: jsonSecretValues(body),
      };
    }
    return null;
  }
  if (!parsed || typeof parsed !== "object" || !("propertySources" in parsed)) return null;
  return {
    marker: "propertySources",
    excerpt: Object.keys(parsed).slice(0, MAX_EXCERPT_LINES),
    secrets: jsonSecretValues(body),
  };
}

function detectMetrics(body: string, contentType: string): LeakMatch | null {
  if (HTML.test(body) || /^\s*[[{]/.test(body)) return null;
  const format = /application\/openmetrics-text/i.test(contentType) ? "openmetrics" : "prometheus";
  // The excerpt may end in a cut line: parse whole lines only.
  const whole = body.includes("\n") ? body.slice(0, body.lastIndexOf("\n") + 1) : body;
  let exposition: Exposition;
  try {
    exposition = parseExposition(whole, format);
  } catch {
    return null;
  }
  const errors = exposition.errors.filter((e) => !/EOF/.test(e.message));
  if (exposition.sampleCount === 0 || errors.length > 0) return null;
  const names = [...exposition.families.keys()];
  return {
    marker: `a Prometheus exposition (${names.length} famil${names.length === 1 ? "y" : "ies"} in the first bytes)`,
    excerpt: names.slice(0, MAX_EXCERPT_LINES),
    secrets: [],
  };
}

function looksSecret(key: string, value: string): boolean {
  if (value.length < 4) return false;
  if (SECRET_KEY.test(key)) return true;
  if (/:\/\/[^/\s:@]+:[^@\s]+@/.test(value)) return true;
  // Long values mixing letters and digits look like generated keys.
  return value.length >= 16 && /[A-Za-z]/.test(value) && /\d/.test(value) && !/\s/.test(value);
}

function unquote(value: string): string {
  const m = /^(["'])(.*)\1$/.exec(value);
  return m ? m[2]! : value;
}

function urlPasswords(text: string): string[] {
  return [...text.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:([^@\s]+)@/gi)].map((m) => m[1]!);
}

function jsonSecretValues(body: string): string[] {
  const secrets: string[] = [];
  for (const m of body.matchAll(/"([^"\n]{1,100})"\s*:\s*\{\s*"value"\s*:\s*"((?:[^"\\\n]|\\.){4,})"/g)) {
    if (m[2] !== "******" && looksSecret(m[1]!, m[2]!)) secrets.push(m[2]!);
  }
  return secrets;
}
