// testssl.sh as a second opinion: protocols (-p), cipher categories (-s) and server defaults (-S, the certificate),
// with --fast and no DNS look-ups, into its JSON file. It takes 20–40 s per endpoint on loopback, so it runs only
// within the time the check has left. Its protocol verdicts are compared with Gauntlet's own handshakes.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCommand } from "../shell/run.js";

export interface TestsslFinding {
  id: string;
  severity: string;
  finding: string;
}

export interface TestsslRun {
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** SSLv2 … TLS1_3 → offered, not offered, or what it said otherwise. */
  protocols: Record<string, boolean | string>;
  /** Weak cipher categories testssl.sh found offered (it speaks them over raw sockets, RC4 and 3DES included). */
  weakCiphers: string[];
  /** Findings rated LOW or worse (testssl's own severities), the certificate's PEM left out. */
  flagged: TestsslFinding[];
  counts: Record<string, number>;
  /** Set when no JSON was written: the last lines testssl printed. */
  failure?: string;
  /** Every finding, for the evidence file. */
  findings: TestsslFinding[];
}

const PROTOCOL_IDS = ["SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3"];
const WEAK_CATEGORIES: Record<string, string> = {
  cipherlist_NULL: "NULL (no encryption)",
  cipherlist_aNULL: "anonymous (no authentication)",
  cipherlist_EXPORT: "EXPORT",
  cipherlist_LOW: "LOW (DES, RC2, 64-bit)",
  cipherlist_3DES_IDEA: "3DES and IDEA",
};

export async function runTestssl(
  testssl: string,
  target: { host: string; port: number; servername?: string; caFile?: string },
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<TestsslRun> {
  const dir = await mkdtemp(path.join(tmpdir(), "gauntlet-testssl-"));
  const jsonFile = path.join(dir, "testssl.json");
  const args = [
    "--quiet",
    "--color",
    "0",
    "--warnings",
    "off",
    "--fast",
    "--nodns",
    "min",
    "--jsonfile",
    jsonFile,
    "-p",
    "-s",
    "-S",
    ...(target.caFile ? ["--add-ca", target.caFile] : []),
    ...(target.servername ? ["--ip", target.host] : []),
    target.servername ? `${target.servername}:${target.port}` : hostPort(target.host, target.port),
  ];
  try {
    const run = await runCommand(testssl, args, {
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      cwd: dir,
      env: { ...process.env, TERM: "dumb" },
    });
    const text = await readFile(jsonFile, "utf8").catch(() => "");
    const findings = parseFindings(text);
    const counts: Record<string, number> = {};
    for (const f of findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
    const protocols: Record<string, boolean | string> = {};
    for (const id of PROTOCOL_IDS) {
      const f = findings.find((x) => x.id === id);
      if (!f) continue;
      protocols[id] = /^not offered/i.test(f.finding)
        ? false
        : /^offered/i.test(f.finding)
          ? true
          : f.finding;
    }
    const weakCiphers = findings
      .filter((f) => WEAK_CATEGORIES[f.id] && /^offered/i.test(f.finding))
      .map((f) => WEAK_CATEGORIES[f.id]!);
    return {
      weakCiphers,
      exitCode: run.exitCode,
      timedOut: run.timedOut,
      durationMs: Math.round(run.durationMs),
      protocols,
      flagged: findings.filter((f) => !["OK", "INFO", "DEBUG"].includes(f.severity) && f.id !== "cert"),
      counts,
      ...(findings.length === 0
        ? { failure: `${run.stdout}\n${run.stderr}`.trim().split("\n").slice(-5).join(" | ") || "no output" }
        : {}),
      findings: findings.map((f) => (f.id === "cert" ? { ...f, finding: "(PEM left out)" } : f)),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function parseFindings(text: string): TestsslFinding[] {
  if (!text.trim()) return [];
  try {
    const parsed = JSON.parse(text) as unknown;
    const list = Array.isArray(parsed) ? parsed : [];
    return list
      .filter((e): e is Record<string, unknown> => typeof e === "object" && e !== null)
      .map((e) => ({
        id: String(e.id ?? ""),
        severity: String(e.severity ?? ""),
        finding: String(e.finding ?? ""),
      }));
  } catch {
    return [];
  }
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
