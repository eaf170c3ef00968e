// Readers of the response headers a browser enforces, after the MDN HTTP Observatory's tests (what each test looks
// at and how much it weighs there, not its code): HSTS, CSP (evaluated with Google's csp_evaluator), framing,
// X-Content-Type-Options, Referrer-Policy, cookies, and the Server / X-Powered-By headers that give versions away.
import { createRequire } from "node:module";
import type * as EvaluatorModule from "csp_evaluator/dist/evaluator.js";
import type * as FindingModule from "csp_evaluator/dist/finding.js";
import type * as ParserModule from "csp_evaluator/dist/parser.js";

// csp_evaluator (CommonJS, with its bypass lists) is loaded on first use, not by every command that imports the
// check registry.
const require = createRequire(import.meta.url);
let cspModules:
  | { evaluator: typeof EvaluatorModule; finding: typeof FindingModule; parser: typeof ParserModule }
  | undefined;
function cspEvaluator() {
  cspModules ??= {
    evaluator: require("csp_evaluator/dist/evaluator.js") as typeof EvaluatorModule,
    finding: require("csp_evaluator/dist/finding.js") as typeof FindingModule,
    parser: require("csp_evaluator/dist/parser.js") as typeof ParserModule,
  };
  return cspModules;
}

/** Six months as the Observatory counts them (15 552 000 s: 180 days, which many sites use for "six months"). */
export const HSTS_MIN_MAX_AGE = 15_552_000;

export interface Hsts {
  valid: boolean;
  maxAge?: number;
  includeSubDomains: boolean;
  preload: boolean;
  problem?: string;
}

export function parseHsts(value: string): Hsts {
  const hsts: Hsts = { valid: false, includeSubDomains: false, preload: false };
  if (value.includes(",")) return { ...hsts, problem: "the header is sent more than once" };
  for (const part of value.split(";")) {
    const directive = part.trim().toLowerCase();
    const maxAge = /^max-age\s*=\s*"?(\d{1,12})"?$/.exec(directive);
    if (maxAge) hsts.maxAge = Number(maxAge[1]);
    else if (directive === "includesubdomains") hsts.includeSubDomains = true;
    else if (directive === "preload") hsts.preload = true;
  }
  if (hsts.maxAge === undefined) return { ...hsts, problem: "no valid max-age" };
  return { ...hsts, valid: true };
}

export type FrameProtection =
  | { protected: true; by: "frame-ancestors" | "x-frame-options"; value: string }
  | { protected: false; problem: string };

export function frameProtection(
  xFrameOptions: string | undefined,
  csp: CspReport | undefined,
): FrameProtection {
  const ancestors = csp?.frameAncestors;
  if (ancestors !== undefined) return { protected: true, by: "frame-ancestors", value: ancestors };
  if (xFrameOptions === undefined)
    return { protected: false, problem: "neither X-Frame-Options nor CSP frame-ancestors" };
  const value = xFrameOptions.trim();
  if (/^(deny|sameorigin)$/i.test(value)) return { protected: true, by: "x-frame-options", value };
  if (/^allow-from\b/i.test(value))
    return {
      protected: false,
      problem: `X-Frame-Options "${value}": ALLOW-FROM is ignored by current browsers`,
    };
  return { protected: false, problem: `X-Frame-Options "${value.slice(0, 80)}" is not DENY or SAMEORIGIN` };
}

const PRIVATE_REFERRER = ["no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"];
const UNSAFE_REFERRER = ["origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"];

/** The effective Referrer-Policy (the last valid token wins, as in browsers) and whether it leaks paths. */
export function referrerPolicy(value: string | undefined): {
  policy?: string;
  verdict: "private" | "unsafe" | "invalid" | "absent";
} {
  if (value === undefined) return { verdict: "absent" };
  const tokens = value
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter((t) => PRIVATE_REFERRER.includes(t) || UNSAFE_REFERRER.includes(t));
  const policy = tokens.at(-1);
  if (!policy) return { verdict: "invalid" };
  return { policy, verdict: PRIVATE_REFERRER.includes(policy) ? "private" : "unsafe" };
}

export function isNosniff(value: string | undefined): boolean {
  return value !== undefined && value.trim().toLowerCase() === "nosniff";
}

export interface VersionLeak {
  header: string;
  value: string;
}

/** `Server` with a version number, and the headers that only name the stack (X-Powered-By, X-AspNet-Version, …). */
export function versionLeaks(headers: Record<string, string | undefined>): VersionLeak[] {
  const leaks: VersionLeak[] = [];
  const server = headers.server;
  if (server && /\d+\.\d+/.test(server)) leaks.push({ header: "server", value: server.slice(0, 120) });
  for (const name of ["x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "x-generator"]) {
    const value = headers[name];
    if (value) leaks.push({ header: name, value: value.slice(0, 120) });
  }
  return leaks;
}

/** A Set-Cookie header's name and attributes; the value is never kept. */
export interface CookieSeen {
  name: string;
  secure: boolean;
  httpOnly: boolean;
  /** The SameSite attribute as written; absent when not set. */
  sameSite?: string;
  /** Looks like a session or login cookie (by name, as the Observatory decides), or an anti-CSRF token. */
  role: "session" | "csrf" | "other";
}

export function parseSetCookie(header: string): { cookie: CookieSeen; value: string } | null {
  const [pair, ...attributes] = header.split(";");
  const eq = pair!.indexOf("=");
  if (eq <= 0) return null;
  const name = pair!.slice(0, eq).trim();
  const value = pair!.slice(eq + 1).trim();
  const cookie: CookieSeen = {
    name: name.slice(0, 100),
    secure: false,
    httpOnly: false,
    role: cookieRole(name),
  };
  for (const attribute of attributes) {
    const [key, ...rest] = attribute.split("=");
    const k = key!.trim().toLowerCase();
    if (k === "secure") cookie.secure = true;
    else if (k === "httponly") cookie.httpOnly = true;
    else if (k === "samesite") cookie.sameSite = rest.join("=").trim();
  }
  return { cookie, value };
}

const SESSION_NAMES =
  /sess|login|auth|token|jwt|remember|^sid$|_sid$|^connect\.sid$|^jsessionid$|^phpsessid$/i;

function cookieRole(name: string): CookieSeen["role"] {
  if (/csrf|xsrf/i.test(name)) return "csrf";
  return SESSION_NAMES.test(name) ? "session" : "other";
}

/** Is a SameSite value one browsers enforce (Strict, Lax; None only with Secure)? */
export function sameSiteProblem(cookie: CookieSeen): string | null {
  if (cookie.sameSite === undefined) return null;
  const value = cookie.sameSite.toLowerCase();
  if (value === "strict" || value === "lax") return null;
  if (value === "none")
    return cookie.secure ? null : "SameSite=None without Secure (browsers reject the cookie)";
  return `SameSite=${cookie.sameSite.slice(0, 40)} is not Strict, Lax or None`;
}

export type CspSeverity = "high" | "medium" | "syntax" | "maybe" | "info";

export interface CspProblem {
  type: string;
  severity: CspSeverity;
  directive: string;
  value?: string;
  description: string;
}

export interface CspReport {
  /** The policies, as the header (or headers) sent them; several policies are all enforced. */
  policies: string[];
  /**
   * csp_evaluator's findings that hold for every policy: with several policies a resource must pass all of them, so
   * a weakness one policy closes is no weakness.
   */
  problems: CspProblem[];
  /** frame-ancestors of the first policy that sets it. */
  frameAncestors?: string;
}

function severityOf(severity: number): CspSeverity {
  const { Severity } = cspEvaluator().finding;
  if (severity === Severity.HIGH) return "high";
  if (severity === Severity.SYNTAX) return "syntax";
  if (severity === Severity.MEDIUM) return "medium";
  if (severity === Severity.HIGH_MAYBE || severity === Severity.MEDIUM_MAYBE) return "maybe";
  return "info";
}

export function evaluateCsp(header: string): CspReport {
  const { evaluator, finding, parser } = cspEvaluator();
  const { CspEvaluator } = evaluator;
  const { CspParser } = parser;
  const { Type } = finding;
  // A header's value is a comma-separated list of policies (CSP3 §3.1); repeated headers arrive joined by commas.
  const policies = header
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => p.slice(0, 4096));
  const perPolicy = policies.map((policy) => {
    const parsed = new CspParser(policy).csp;
    const problems = dedupe(
      new CspEvaluator(parsed).evaluate().map((f) => {
        const problem: CspProblem = {
          type: Type[f.type] ?? String(f.type),
          // 'unsafe-eval' is a "maybe" to csp_evaluator and a penalty to the Observatory: count it as medium.
          severity: f.type === Type.SCRIPT_UNSAFE_EVAL ? "medium" : severityOf(f.severity),
          directive: f.directive,
          description: f.description,
        };
        if (f.value) problem.value = f.value;
        return problem;
      }),
    );
    const ancestors = parsed.directives["frame-ancestors"];
    return { problems, frameAncestors: ancestors ? ancestors.join(" ") : undefined };
  });
  const key = (p: CspProblem) => `${p.type} ${p.directive}`;
  const problems =
    perPolicy.length === 0
      ? []
      : perPolicy[0]!.problems.filter((p) =>
          perPolicy.every((other) => other.problems.some((o) => key(o) === key(p))),
        );
  const report: CspReport = { policies, problems };
  const ancestors = perPolicy.find((p) => p.frameAncestors !== undefined)?.frameAncestors;
  if (ancestors !== undefined) report.frameAncestors = ancestors;
  return report;
}

function dedupe(problems: CspProblem[]): CspProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.type} ${p.directive} ${p.value ?? ""} ${p.description}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
