// Do web services send the headers browsers enforce, the way the MDN HTTP Observatory grades them? Each HTTP service
// that is not `exposure: internal` is asked for `/` (one redirect on a host the spec names is followed) and, for the
// performance target, up to two of its performance.requests GET paths. Every answer is judged by its kind (DESIGN
// principle 9): all need X-Content-Type-Options: nosniff, no version in Server / X-Powered-By and sound cookies; HTML
// documents also need a CSP without unsafe sources (Google's csp_evaluator) and frame protection — a JSON API is never
// failed for lacking a CSP. HSTS is judged on https; a public service on plain http is warned about instead.
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { sendExchange } from "../../engines/webSecurity/exchange.js";
import {
  type CookieSeen,
  type CspReport,
  evaluateCsp,
  frameProtection,
  HSTS_MIN_MAX_AGE,
  isNosniff,
  parseHsts,
  parseSetCookie,
  referrerPolicy,
  sameSiteProblem,
  versionLeaks,
} from "../../engines/webSecurity/headers.js";
import {
  type Exposure,
  type HttpTarget,
  httpTargets,
  publicReason,
  requestTarget,
  specHosts,
  tlsTrustFor,
} from "../../engines/webSecurity/httpTargets.js";
import type { Spec } from "../../spec/schema.js";

const TIMEOUT_MS = 5_000;
const MAX_PERFORMANCE_PATHS = 2;
/** The response headers this check reads; the others are not kept. */
const JUDGED_HEADERS = [
  "content-type",
  "strict-transport-security",
  "content-security-policy",
  "content-security-policy-report-only",
  "x-frame-options",
  "x-content-type-options",
  "referrer-policy",
  "server",
  "x-powered-by",
  "x-aspnet-version",
  "x-aspnetmvc-version",
  "x-generator",
] as const;
type JudgedHeader = (typeof JUDGED_HEADERS)[number];

export interface HeadersResponse {
  /** The path asked for. */
  path: string;
  /** The request target the judged answer came from (after one redirect, the redirect's). */
  target: string;
  scheme: "http" | "https";
  status: number;
  headers: Partial<Record<JudgedHeader, string>>;
  /** Set-Cookie headers, by name and attributes (values are never kept). */
  cookies: CookieSeen[];
  redirectedFrom?: { target: string; status: number };
}

export interface ServiceHeadersObservation {
  service: string;
  exposure: Exposure;
  url?: string;
  noUrl?: "missing" | "notHttp";
  publicBecause?: string;
  caError?: string;
  responses: HeadersResponse[];
  /** Requests that got no answer (the root's failure makes the service unverifiable). */
  failures: { path: string; kind: string; code?: string; message: string }[];
  evidence?: string;
}

export interface HeadersObservation {
  services: ServiceHeadersObservation[];
}

export default defineCheck<HeadersObservation>({
  meta: {
    id: "securityHeadersPresent",
    category: "security",
    risk: "medium",
    destructive: false,
    title: "Web services send the security headers browsers enforce",
    objective:
      "Each HTTP service not marked internal answers with X-Content-Type-Options: nosniff, no version in Server/X-Powered-By, cookies with Secure (on https), HttpOnly (session cookies) and SameSite, HSTS of at least 6 months on https; its HTML pages also have a CSP without unsafe sources (csp_evaluator) and frame protection — after the MDN HTTP Observatory's tests.",
    remediation: {
      effort: "low",
      text: "Set on {{service}} (in the application or its proxy, also on error answers — nginx: `add_header … always`): {{fix}}",
    },
    messages: {
      headersSound: "every header judged for the kind of each answer is sound",
      hstsMissing: "an https service sends no Strict-Transport-Security header",
      hstsInvalid: "the Strict-Transport-Security header cannot be read (no max-age, sent twice)",
      hstsShort: "Strict-Transport-Security max-age is under six months",
      plainHttp: "a public service is served over plain http: HSTS cannot apply and cookies travel in clear",
      nosniffMissing: "an answer lacks X-Content-Type-Options: nosniff",
      cspMissing: "an HTML page has no enforced Content-Security-Policy (report-only does not protect)",
      cspUnsafe:
        "the CSP allows script injection (csp_evaluator HIGH: unsafe-inline without nonce/hash, *, plain schemes, no script-src/object-src)",
      cspWeak: "the CSP has medium weaknesses ('unsafe-eval', http: sources, short nonces)",
      cspSyntax: "the CSP has syntax errors (unknown directives, invalid keywords, missing semicolons)",
      framingAllowed:
        "an HTML page can be framed by any site (no X-Frame-Options DENY/SAMEORIGIN, no CSP frame-ancestors)",
      referrerUnsafe: "Referrer-Policy sends full URLs cross-origin or cannot be read",
      versionLeak:
        "Server or X-Powered-By (or X-AspNet-Version, X-Generator) names the software or its version",
      cookieNotSecure: "a cookie set over https lacks the Secure flag",
      cookieNotHttpOnly: "a session cookie lacks the HttpOnly flag",
      cookieSameSite: "a cookie has no SameSite, an invalid one, or SameSite=None without Secure",
      unreachable: "the service's root cannot be reached (refused, reset, timeout, DNS)",
      tlsFailed: "the TLS handshake failed or the certificate is not trusted from here",
      noUrl: "the service has no usable http(s) url",
    },
    timeoutMs: 45_000,
  },

  applies(spec) {
    const targets = httpTargets(spec);
    if (targets.length === 0) return notApplicable("no HTTP service");
    if (targets.every((t) => t.exposure === "internal"))
      return notApplicable(
        "every HTTP service is exposure: internal (browser-facing headers are judged on the others)",
      );
    return true;
  },

  async observe(ctx) {
    const observation: HeadersObservation = { services: [] };
    const hosts = specHosts(ctx.spec);
    const targets = httpTargets(ctx.spec).filter((t) => t.exposure !== "internal");
    for (const target of targets) ctx.secrets.addFromUrl(target.service.url);
    for (const target of targets) {
      ctx.signal.throwIfAborted();
      observation.services.push(await observeService(ctx, target, hosts));
      ctx.keepPartial(observation);
    }
    return observation;
  },

  judge(observation) {
    return observation.services.flatMap(judgeService);
  },
});

/** `/`, then the performance GET paths when this service is the performance target. */
function pathsFor(spec: Spec, name: string): { path: string; headers?: Record<string, string> }[] {
  const paths: { path: string; headers?: Record<string, string> }[] = [{ path: "/" }];
  if (spec.performance?.target !== name) return paths;
  for (const request of spec.performance.requests ?? []) {
    if (request.method !== "GET" || paths.some((p) => p.path === request.path)) continue;
    paths.push({ path: request.path, ...(request.headers ? { headers: request.headers } : {}) });
    if (paths.length > MAX_PERFORMANCE_PATHS) break;
  }
  return paths;
}

async function observeService(
  ctx: CheckContext,
  target: HttpTarget,
  hosts: Set<string>,
): Promise<ServiceHeadersObservation> {
  const { name, service, base, exposure } = target;
  const seen: ServiceHeadersObservation = { service: name, exposure, responses: [], failures: [] };
  if (!base) {
    seen.noUrl = service.url ? "notHttp" : "missing";
    seen.evidence = await ctx.evidence.writeJson(`${name}-headers.json`, {
      service: name,
      url: service.url ? ctx.secrets.redact(service.url) : null,
      probed: false,
    });
    return seen;
  }
  seen.url = base;
  const reason = publicReason(exposure, base);
  if (reason) seen.publicBecause = reason;
  const trust = await tlsTrustFor(ctx.spec, ctx.specDir, base);
  if (trust.caError) seen.caError = trust.caError;
  const raw: unknown[] = [];

  const ask = async (url: string, rawTarget: string, headers?: Record<string, string>) => {
    const sameOrigin = new URL(url).origin === new URL(base).origin;
    const trustFor = sameOrigin ? trust : await tlsTrustFor(ctx.spec, ctx.specDir, url);
    // A performance request's credentials (Authorization, X-Api-Key, …) are secrets of the run; its Accept is not.
    for (const [header, value] of Object.entries(headers ?? {}))
      if (/auth|token|key|secret|cookie|session|password/i.test(header)) ctx.secrets.add(value);
    const { exchange, result } = await sendExchange({
      url,
      target: rawTarget,
      timeoutMs: TIMEOUT_MS,
      maxBodyBytes: 0,
      signal: ctx.signal,
      ...(headers ? { headers } : {}),
      ...(trustFor.ca ? { ca: trustFor.ca } : {}),
      ...(trustFor.servername ? { servername: trustFor.servername } : {}),
    });
    if (!result.ok) return { exchange, response: null };
    const kept: HeadersResponse["headers"] = {};
    for (const header of JUDGED_HEADERS) {
      const value = result.headers[header];
      if (value !== undefined) kept[header] = value.slice(0, 4096);
    }
    const cookies: CookieSeen[] = [];
    for (const line of result.setCookies ?? []) {
      const parsed = parseSetCookie(line);
      if (!parsed) continue;
      // Session and anti-CSRF values are secrets, and so is anything id-like; "theme=dark" is not worth redacting.
      if (parsed.cookie.role !== "other" || parsed.value.length >= 8) ctx.secrets.add(parsed.value);
      cookies.push(parsed.cookie);
    }
    raw.push({
      url: ctx.secrets.redact(`${new URL(url).origin}${rawTarget}`),
      status: result.status,
      headers: kept,
      cookies,
    });
    return {
      exchange,
      response: { status: result.status, headers: kept, cookies, location: result.headers.location },
    };
  };

  for (const { path, headers } of pathsFor(ctx.spec, name)) {
    ctx.signal.throwIfAborted();
    const rawTarget = requestTarget(base, path);
    const first = await ask(base, rawTarget, headers);
    if (!first.response) {
      const error = first.exchange.error!;
      seen.failures.push({
        path,
        kind: error.kind,
        ...(error.code ? { code: error.code } : {}),
        message: error.message.slice(0, 200),
      });
      if (path === "/") break;
      continue;
    }
    let answer = first.response;
    let answeredTarget = rawTarget;
    let answeredUrl = base;
    let redirectedFrom: HeadersResponse["redirectedFrom"];
    if (answer.status >= 300 && answer.status <= 399 && answer.location) {
      let next: URL | null = null;
      try {
        next = new URL(answer.location, `${new URL(base).origin}${rawTarget}`);
      } catch {
        next = null;
      }
      if (next && /^https?:$/.test(next.protocol) && hosts.has(next.hostname.toLowerCase())) {
        const followed = await ask(next.origin, `${next.pathname}${next.search}`, headers);
        if (followed.response) {
          redirectedFrom = { target: rawTarget, status: answer.status };
          answer = followed.response;
          answeredTarget = `${next.pathname}${next.search}`;
          answeredUrl = next.origin;
        }
      }
    }
    seen.responses.push({
      path,
      target: answeredTarget,
      scheme: answeredUrl.startsWith("https:") ? "https" : "http",
      status: answer.status,
      headers: answer.headers,
      cookies: answer.cookies,
      ...(redirectedFrom ? { redirectedFrom } : {}),
    });
  }
  seen.evidence = await ctx.evidence.writeJson(`${name}-headers.json`, {
    service: name,
    url: base,
    exposure,
    ...(seen.publicBecause ? { publicBecause: seen.publicBecause } : {}),
    ...(seen.caError ? { caError: seen.caError } : {}),
    note: "response headers this check reads, per request; cookie values are never kept",
    requests: raw,
    failures: seen.failures,
  });
  return seen;
}

interface Problem {
  status: "FAIL" | "WARN";
  messageId: string;
  message: string;
  fix: string;
  data?: Record<string, unknown>;
}

function judgeService(seen: ServiceHeadersObservation): FindingInput[] {
  const name = seen.service;
  const evidence = seen.evidence ? [seen.evidence] : [];
  if (seen.noUrl) {
    return [
      {
        status: "UNVERIFIED",
        messageId: "noUrl",
        subject: name,
        message: `${name} has no usable http(s) url, so its headers cannot be read`,
        data: { service: name },
        evidence,
        toVerify: `give services.${name}.url as an http(s) URL`,
      },
    ];
  }
  const url = seen.url!;
  if (seen.responses.length === 0) {
    const failure = seen.failures[0];
    const tls = failure?.kind === "tls";
    return [
      {
        status: "UNVERIFIED",
        messageId: tls ? "tlsFailed" : "unreachable",
        subject: name,
        message: `${name}: GET ${url}/ got no answer (${failure?.code ?? failure?.kind ?? "no request"}: ${failure?.message ?? ""})${seen.caError ? `; ${seen.caError}` : ""}`,
        data: { service: name, url, ...(failure ? { error: failure.kind } : {}) },
        evidence,
        toVerify: tls
          ? `make ${url}'s certificate verifiable from here: add { url: ${new URL(url).origin}, ca: <CA file> } to security.tls`
          : `start ${name} so that it answers at ${url}, then run again`,
      },
    ];
  }
  // Error answers are judged only when nothing else answered: nginx leaves add_header off them by default.
  const usable = seen.responses.filter((r) => r.status < 400);
  const judged = usable.length > 0 ? usable : seen.responses;
  const problems = [
    ...transportProblems(seen, judged),
    ...nosniffProblems(judged),
    ...documentProblems(judged),
    ...versionProblems(judged),
    ...cookieProblems(judged),
  ];
  const common = { subject: name, evidence };
  if (problems.length > 0) {
    return problems.map((p) => ({
      ...common,
      status: p.status,
      messageId: p.messageId,
      message: `${name}: ${p.message}`,
      data: { service: name, fix: p.fix, ...p.data },
    }));
  }
  const described = judged.map(
    (r) =>
      `${r.target} (${r.status}, ${isDocument(r) ? "HTML" : (r.headers["content-type"]?.split(";")[0] ?? "no content type")})`,
  );
  const documents = judged.filter(isDocument).length;
  const transport =
    judged[0]!.scheme === "https"
      ? "HSTS ≥ 6 months"
      : `plain http (${seen.publicBecause ? "public" : "not public"}: no HSTS to judge)`;
  const cookies = judged.reduce((n, r) => n + r.cookies.length, 0);
  return [
    {
      ...common,
      status: "PASS",
      messageId: "headersSound",
      message: `${name}: ${described.join(", ")}: nosniff, no version leak, ${transport}, ${cookies} cookie(s) sound${documents > 0 ? ", CSP without unsafe sources and frame protection on the HTML pages" : "; no HTML page, so CSP and frame protection were not required"}`,
      data: { service: name, judged: judged.map((r) => r.target), documents },
    },
  ];
}

function isDocument(response: HeadersResponse): boolean {
  return /^\s*(text\/html|application\/xhtml\+xml)/i.test(response.headers["content-type"] ?? "");
}

function transportProblems(seen: ServiceHeadersObservation, judged: HeadersResponse[]): Problem[] {
  const first = judged[0]!;
  if (first.scheme === "http") {
    if (!seen.publicBecause) return [];
    return [
      {
        status: "WARN",
        messageId: "plainHttp",
        message: `served over plain http (${seen.publicBecause}): HSTS cannot apply and cookies and credentials travel in clear`,
        fix: "serve it over https (redirect http to https on the same host), then send Strict-Transport-Security: max-age=31536000",
        data: { scheme: "http", publicBecause: seen.publicBecause },
      },
    ];
  }
  const value = first.headers["strict-transport-security"];
  const fix = "Strict-Transport-Security: max-age=31536000; includeSubDomains";
  if (value === undefined) {
    return [
      {
        status: "FAIL",
        messageId: "hstsMissing",
        message: `${first.target} over https has no Strict-Transport-Security header`,
        fix,
      },
    ];
  }
  const hsts = parseHsts(value);
  if (!hsts.valid) {
    return [
      {
        status: "FAIL",
        messageId: "hstsInvalid",
        message: `Strict-Transport-Security "${value.slice(0, 120)}" cannot be used: ${hsts.problem}`,
        fix,
        data: { header: value.slice(0, 200) },
      },
    ];
  }
  if (hsts.maxAge! < HSTS_MIN_MAX_AGE) {
    return [
      {
        status: "WARN",
        messageId: "hstsShort",
        message: `Strict-Transport-Security max-age=${hsts.maxAge} is under six months (${HSTS_MIN_MAX_AGE} s)`,
        fix,
        data: { maxAge: hsts.maxAge },
      },
    ];
  }
  return [];
}

function nosniffProblems(judged: HeadersResponse[]): Problem[] {
  // A redirect or an empty answer is not rendered; every answer with a body type is.
  const lacking = judged.filter(
    (r) =>
      !(r.status >= 300 && r.status <= 399) &&
      r.status !== 204 &&
      !isNosniff(r.headers["x-content-type-options"]),
  );
  if (lacking.length === 0) return [];
  return [
    {
      status: "WARN",
      messageId: "nosniffMissing",
      message: `${lacking.map((r) => `${r.target} (${r.status})`).join(", ")} lack${lacking.length === 1 ? "s" : ""} X-Content-Type-Options: nosniff${lacking.some((r) => r.headers["x-content-type-options"]) ? ` (sent: "${lacking.find((r) => r.headers["x-content-type-options"])!.headers["x-content-type-options"]}")` : ""}`,
      fix: "X-Content-Type-Options: nosniff",
      data: { targets: lacking.map((r) => r.target) },
    },
  ];
}

function documentProblems(judged: HeadersResponse[]): Problem[] {
  const documents = judged.filter(isDocument);
  const problems: Problem[] = [];
  const byId = new Map<string, Problem>();
  const add = (problem: Problem, target: string) => {
    const known = byId.get(problem.messageId);
    if (known) {
      (known.data!.targets as string[]).push(target);
      return;
    }
    const withTarget = { ...problem, data: { ...problem.data, targets: [target] } };
    byId.set(problem.messageId, withTarget);
    problems.push(withTarget);
  };
  for (const document of documents) {
    const target = document.target;
    const header = document.headers["content-security-policy"];
    let csp: CspReport | undefined;
    if (header === undefined) {
      const reportOnly = document.headers["content-security-policy-report-only"] !== undefined;
      add(
        {
          status: "FAIL",
          messageId: "cspMissing",
          message: `the HTML page ${target} has no Content-Security-Policy${reportOnly ? " (only Content-Security-Policy-Report-Only, which enforces nothing)" : ""}`,
          fix: "Content-Security-Policy: default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none' (scripts by nonce or hash, never 'unsafe-inline')",
        },
        target,
      );
    } else {
      csp = evaluateCsp(header);
      const high = csp.problems.filter((p) => p.severity === "high");
      const medium = csp.problems.filter((p) => p.severity === "medium");
      const syntax = csp.problems.filter((p) => p.severity === "syntax");
      const list = (ps: typeof high) =>
        ps.map((p) => `${p.directive}${p.value ? ` ${p.value}` : ""}: ${p.description}`);
      if (high.length > 0)
        add(
          {
            status: "FAIL",
            messageId: "cspUnsafe",
            message: `the CSP of ${target} does not stop injected scripts: ${list(high).join("; ")}`,
            fix: "a CSP whose script-src uses nonces or hashes (no 'unsafe-inline', no *, no http:/https:/data: schemes) with object-src 'none' and base-uri 'none'",
            data: { findings: high },
          },
          target,
        );
      if (medium.length > 0)
        add(
          {
            status: "WARN",
            messageId: "cspWeak",
            message: `the CSP of ${target} is weakened: ${list(medium).join("; ")}`,
            fix: "a CSP without 'unsafe-eval', with https sources only and nonces of at least 8 random characters",
            data: { findings: medium },
          },
          target,
        );
      if (syntax.length > 0)
        add(
          {
            status: "WARN",
            messageId: "cspSyntax",
            message: `the CSP of ${target} has errors that browsers ignore: ${list(syntax).join("; ")}`,
            fix: "a CSP with only known directives and keywords, each directive ended by a semicolon",
            data: { findings: syntax },
          },
          target,
        );
    }
    const frame = frameProtection(document.headers["x-frame-options"], csp);
    if (!frame.protected)
      add(
        {
          status: "FAIL",
          messageId: "framingAllowed",
          message: `the HTML page ${target} can be framed by any site: ${frame.problem}`,
          fix: "Content-Security-Policy frame-ancestors 'none' (or 'self'), and X-Frame-Options: DENY for old browsers",
        },
        target,
      );
    const referrer = referrerPolicy(document.headers["referrer-policy"]);
    if (referrer.verdict === "unsafe" || referrer.verdict === "invalid")
      add(
        {
          status: "WARN",
          messageId: "referrerUnsafe",
          message:
            referrer.verdict === "unsafe"
              ? `Referrer-Policy ${referrer.policy} on ${target} sends page URLs to other sites`
              : `Referrer-Policy "${document.headers["referrer-policy"]!.slice(0, 80)}" on ${target} is not a policy browsers know`,
          fix: "Referrer-Policy: strict-origin-when-cross-origin (or no-referrer)",
        },
        target,
      );
  }
  return problems;
}

function versionProblems(judged: HeadersResponse[]): Problem[] {
  const leaks = new Map<string, string>();
  for (const response of judged)
    for (const leak of versionLeaks(response.headers)) leaks.set(leak.header, leak.value);
  if (leaks.size === 0) return [];
  const shown = [...leaks].map(([header, value]) => `${canonical(header)}: ${value}`);
  return [
    {
      status: "WARN",
      messageId: "versionLeak",
      message: `the answers name the software: ${shown.join("; ")}`,
      fix: `no version in Server (nginx: server_tokens off) and no ${
        [...leaks.keys()]
          .filter((h) => h !== "server")
          .map(canonical)
          .join("/") || "X-Powered-By"
      } header (Express: app.disable("x-powered-by"); PHP: expose_php = Off)`,
      data: { headers: Object.fromEntries(leaks) },
    },
  ];
}

function cookieProblems(judged: HeadersResponse[]): Problem[] {
  const cookies = new Map<string, { cookie: CookieSeen; https: boolean }>();
  for (const response of judged) {
    for (const cookie of response.cookies)
      cookies.set(cookie.name, { cookie, https: response.scheme === "https" });
  }
  const notSecure = [...cookies.values()].filter((c) => c.https && !c.cookie.secure).map((c) => c.cookie);
  const notHttpOnly = [...cookies.values()]
    .filter((c) => c.cookie.role === "session" && !c.cookie.httpOnly)
    .map((c) => c.cookie);
  const sameSite = [...cookies.values()]
    .map((c) => ({
      cookie: c.cookie,
      problem: c.cookie.sameSite === undefined ? "no SameSite" : sameSiteProblem(c.cookie),
    }))
    .filter((c): c is { cookie: CookieSeen; problem: string } => c.problem !== null);
  const names = (list: CookieSeen[]) => list.map((c) => c.name);
  const quoted = (list: CookieSeen[]) => list.map((c) => `"${c.name}"`).join(", ");
  const problems: Problem[] = [];
  if (notSecure.length > 0) {
    const session = notSecure.some((c) => c.role === "session");
    problems.push({
      status: session ? "FAIL" : "WARN",
      messageId: "cookieNotSecure",
      message: `cookie${notSecure.length === 1 ? "" : "s"} ${quoted(notSecure)} set over https without Secure${session ? " (a session cookie: it would be sent over plain http)" : ""}`,
      fix: `the Secure flag on ${names(notSecure).join(", ")}`,
      data: { cookies: names(notSecure) },
    });
  }
  if (notHttpOnly.length > 0) {
    problems.push({
      status: "FAIL",
      messageId: "cookieNotHttpOnly",
      message: `session cookie${notHttpOnly.length === 1 ? "" : "s"} ${quoted(notHttpOnly)} without HttpOnly: readable by any injected script`,
      fix: `the HttpOnly flag on ${names(notHttpOnly).join(", ")}`,
      data: { cookies: names(notHttpOnly) },
    });
  }
  if (sameSite.length > 0) {
    const csrf = sameSite.some(
      (c) => c.cookie.role === "csrf" || /SameSite=None without Secure/.test(c.problem),
    );
    problems.push({
      status: csrf ? "FAIL" : "WARN",
      messageId: "cookieSameSite",
      message: sameSite.map((c) => `cookie "${c.cookie.name}": ${c.problem}`).join("; "),
      fix: `SameSite=Lax (or Strict) on ${sameSite.map((c) => c.cookie.name).join(", ")}`,
      data: { cookies: sameSite.map((c) => c.cookie.name) },
    });
  }
  return problems;
}

function canonical(header: string): string {
  return header.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);
}
