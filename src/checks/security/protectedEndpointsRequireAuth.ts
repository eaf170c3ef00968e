// Do protected paths refuse whoever has no valid credentials, and do no well-known files leak? Each
// `services.<name>.protected` path is asked with no credentials, a wrong bearer token (a JWT signed with a random key)
// and wrong basic credentials; then, when those are refused, with HEAD and with spellings of the path that real
// access-rule bypasses used. Every HTTP service (except `exposure: internal` ones for /metrics) is also asked for
// dotenv files, git metadata, heap dumps and debug pages, each recognised by its content so that a catch-all page
// answering 200 everywhere never counts. A page that equals the service's answer to a random path proves nothing
// either way and is reported as such.
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import {
  isLoginLocation,
  pathVariants,
  unknownPath,
  type WrongCredentials,
  wrongCredentials,
} from "../../engines/webSecurity/authProbes.js";
import { type Exchange, samePage, sendExchange } from "../../engines/webSecurity/exchange.js";
import {
  baseUrl,
  type Exposure,
  type HttpTarget,
  httpTargets,
  publicReason,
  requestTarget,
  serviceBase,
  specHosts,
  tlsTrustFor,
} from "../../engines/webSecurity/httpTargets.js";
import { LEAK_PROBES, type LeakProbe } from "../../engines/webSecurity/leaks.js";
import type { Spec } from "../../spec/schema.js";

const TIMEOUT_MS = 3_000;
const PAGE_BYTES = 8 * 1024;
const CONCURRENCY = 6;

/** An exchange and, when it redirected to a host the spec names, the one redirect followed. */
export interface FollowedExchange extends Exchange {
  redirect?: {
    location: string;
    /** The Location looks like a login or SSO page. */
    login: boolean;
    /** Why it was not followed, when it was not. */
    notFollowed?: string;
    followed?: Exchange & { url: string };
  };
}

export interface ProtectedPathObservation {
  /** The path as services.<name>.protected writes it. */
  path: string;
  /** The request target it was sent as (the service url's path prefix included). */
  target: string;
  anonymous: FollowedExchange;
  wrongBearer?: FollowedExchange;
  wrongBasic?: FollowedExchange;
  head?: Exchange;
  variants: (Exchange & { variant: string; why: string })[];
}

export interface LeakObservation {
  path: string;
  what: string;
  kind: LeakProbe["kind"];
  exchange: Exchange;
  /** What in the body showed it is the real thing; absent when it is not. */
  matched?: { marker: string; excerpt: string[] };
}

export interface ServiceAuthObservation {
  service: string;
  exposure: Exposure;
  /** The service url without credentials; absent when it has none usable. */
  url?: string;
  /** Why nothing could be asked: no url, or a url that is not http(s). */
  noUrl?: "missing" | "notHttp";
  /** Why the service counts as public (exposure: public, or undeclared on a non-private host); absent when not. */
  publicBecause?: string;
  /** Set when security.tls names a CA file for this service that cannot be read. */
  caError?: string;
  /** The service's answer to a random path: its page for "anything else". */
  unknown?: Exchange;
  protected: ProtectedPathObservation[];
  leaks: LeakObservation[];
  evidence?: string;
}

export interface AuthObservation {
  /** What the wrong credentials were (never their values). */
  credentials: { bearer: string; basic: string };
  services: ServiceAuthObservation[];
}

export default defineCheck<AuthObservation>({
  meta: {
    id: "protectedEndpointsRequireAuth",
    category: "security",
    risk: "critical",
    destructive: false,
    title: "Protected endpoints require authentication, and nothing well-known leaks",
    objective:
      "Every services.<name>.protected path refuses requests with no, a wrong bearer or wrong basic credentials (401 with WWW-Authenticate, 403, or a redirect to a login page), also for HEAD and for path spellings that bypassed access rules before; no HTTP service serves .env, .git, heap dumps, debug or status pages, and public ones do not serve /metrics to anyone.",
    remediation: {
      effort: "medium",
      text: "Make {{service}} refuse {{path}} unless the request carries valid credentials: 401 with a WWW-Authenticate challenge (or 403, or a redirect to the login page) for missing, wrong and forged credentials, for every method and every spelling of the path — enforce it in the application (or on the normalised path), not only in a proxy rule. Never serve repository files, dotenv files, heap dumps, profilers or status pages: remove them from the deployed tree and deny them at the proxy; serve /metrics of a public service only to the scraper (a separate port, network policy or authentication).",
    },
    messages: {
      refused:
        "the protected path refuses no, wrong bearer and wrong basic credentials, and every variant tried",
      redirectsToLogin:
        "the protected path redirects to a login page (or shows a login form) without valid credentials",
      noChallenge:
        "the protected path answers 401 without a WWW-Authenticate header (RFC 9110 §15.5.2 requires one)",
      openToAnonymous: "the protected path answers 2xx with no credentials at all",
      redirectsToContent: "the protected path redirects, without credentials, to a page that serves content",
      acceptsWrongCredentials:
        "the protected path refuses no credentials but accepts a wrong bearer token or wrong basic credentials",
      methodBypass: "the protected path refuses GET but answers HEAD with 2xx: its access rule is per method",
      pathBypass:
        "a different spelling of the protected path (case, trailing slash, encoding, path parameter) is served without credentials",
      serverError: "the protected path answers 5xx instead of refusing",
      protectedPathMissing:
        "the protected path answers 404: it may not exist (a typo in services.<name>.protected)",
      catchAllPage:
        "the protected path answers 2xx with the same page as a random path (a catch-all page): what it protects cannot be told",
      redirectOffSite:
        "the protected path redirects to a host the spec does not name, which Gauntlet does not follow",
      inconclusiveStatus:
        "the protected path answers a status that neither grants nor refuses access (400, 405, 429, …)",
      unreachable: "the service cannot be reached: connection refused or reset, timeout, DNS or TLS failure",
      noUrl: "the service has no usable http(s) url to send the requests to",
      leak: "a well-known secret or internals file (dotenv, .git, heap dump, pprof, server-status, phpinfo, .DS_Store) is served, recognised by its content",
      metricsPublic:
        "a public service (exposure: public, or undeclared on a host that is not loopback or private) serves Prometheus metrics to anyone",
      noLeaks:
        "none of the well-known leak paths is served (recognised by content, so catch-all pages do not count)",
    },
    timeoutMs: 90_000,
  },

  applies(spec) {
    const web = httpTargets(spec).length > 0;
    const declared = Object.values(spec.services).some((s) => (s.protected?.length ?? 0) > 0);
    return web || declared ? true : notApplicable("no HTTP service and no services.<name>.protected path");
  },

  async observe(ctx) {
    const credentials = wrongCredentials(ctx.clock.now());
    // Random, but sent: registered so no output shows them (DESIGN principle 4).
    ctx.secrets.add(credentials.bearer);
    ctx.secrets.addFromUrl(`http://${credentials.basicUser}:${credentials.basicPassword}@gauntlet.invalid/`);
    const observation: AuthObservation = {
      credentials: {
        bearer: "a JWT (HS256) for sub gauntlet-probe, signed with a random key made for this run",
        basic: `user ${credentials.basicUser} with a random password made for this run`,
      },
      services: [],
    };
    const targets = targetsOf(ctx.spec);
    for (const target of targets) ctx.secrets.addFromUrl(target.service.url);
    const hosts = specHosts(ctx.spec);
    for (const target of targets) {
      ctx.signal.throwIfAborted();
      observation.services.push(await observeService(ctx, target, credentials, hosts));
      ctx.keepPartial(observation);
    }
    return observation;
  },

  judge(observation) {
    return observation.services.flatMap(judgeService);
  },
});

/** The HTTP services, plus any other service that declares protected paths (it gets noUrl when it cannot be asked). */
function targetsOf(spec: Spec): HttpTarget[] {
  const targets = httpTargets(spec);
  for (const [name, service] of Object.entries(spec.services)) {
    if ((service.protected?.length ?? 0) > 0 && !targets.some((t) => t.name === name)) {
      targets.push({ name, service, base: serviceBase(service), exposure: service.exposure ?? "undeclared" });
    }
  }
  return targets;
}

async function observeService(
  ctx: CheckContext,
  target: HttpTarget,
  credentials: WrongCredentials,
  hosts: Set<string>,
): Promise<ServiceAuthObservation> {
  const { name, service, base, exposure } = target;
  const seen: ServiceAuthObservation = { service: name, exposure, protected: [], leaks: [] };
  if (!base) {
    seen.noUrl = service.url ? "notHttp" : "missing";
    seen.evidence = await ctx.evidence.writeJson(`${name}-auth.json`, {
      service: name,
      url: service.url ? ctx.secrets.redact(service.url) : null,
      probed: false,
      reason: service.url ? "services.url is not an http(s) URL" : "the service has no url",
    });
    return seen;
  }
  seen.url = base;
  const reason = publicReason(exposure, base);
  if (reason) seen.publicBecause = reason;
  const trust = await tlsTrustFor(ctx.spec, ctx.specDir, base);
  if (trust.caError) seen.caError = trust.caError;
  const baseOrigin = new URL(base).origin;

  /** Sends one request; `body` is the excerpt read, for content checks (it is never kept). */
  const sendRaw = async (
    url: string,
    rawTarget: string,
    options: { method?: string; credentials?: Exchange["credentials"] } = {},
  ): Promise<{ exchange: Exchange; body?: string; contentType?: string }> => {
    const which = options.credentials ?? "none";
    const authorization =
      which === "wrongBearer"
        ? credentials.bearerHeader
        : which === "wrongBasic"
          ? credentials.basicHeader
          : undefined;
    const trustFor =
      new URL(url).origin === baseOrigin ? trust : await tlsTrustFor(ctx.spec, ctx.specDir, url);
    const { exchange, result } = await sendExchange({
      url,
      target: rawTarget,
      ...(options.method ? { method: options.method } : {}),
      credentials: which,
      ...(authorization ? { authorization } : {}),
      timeoutMs: TIMEOUT_MS,
      maxBodyBytes: PAGE_BYTES,
      signal: ctx.signal,
      ...(trustFor.ca ? { ca: trustFor.ca } : {}),
      ...(trustFor.servername ? { servername: trustFor.servername } : {}),
    });
    if (!result.ok) return { exchange };
    return { exchange, body: result.body, contentType: result.headers["content-type"] ?? "" };
  };
  const send = async (...args: Parameters<typeof sendRaw>) => (await sendRaw(...args)).exchange;

  /** Follows one redirect when it points at a host the spec names and does not look like a login page. */
  const follow = async (
    url: string,
    exchange: Exchange,
    which: Exchange["credentials"],
  ): Promise<FollowedExchange> => {
    const location = exchange.headers?.location;
    if (exchange.status === undefined || exchange.status < 300 || exchange.status > 399 || !location)
      return exchange;
    const redirect: NonNullable<FollowedExchange["redirect"]> = {
      location,
      login: isLoginLocation(location, url),
    };
    let next: URL | null = null;
    try {
      next = new URL(location, `${new URL(url).origin}${exchange.target}`);
    } catch {
      redirect.notFollowed = "the Location is not a valid URL";
    }
    if (next && !redirect.login) {
      if (next.protocol !== "http:" && next.protocol !== "https:")
        redirect.notFollowed = `not http(s): ${next.protocol}`;
      else if (!hosts.has(next.hostname.toLowerCase()))
        redirect.notFollowed = `${next.hostname} is not a host the spec names`;
      else {
        const followed = await send(next.origin, `${next.pathname}${next.search}`, { credentials: which });
        redirect.followed = { ...followed, url: ctx.secrets.redact(next.href) };
      }
    }
    return { ...exchange, redirect };
  };

  // The answer to a random path first: it tells a catch-all page, and whether the service answers at all.
  seen.unknown = await send(base, requestTarget(base, unknownPath()));
  if (seen.unknown.error) {
    seen.evidence = await writeEvidence(ctx, seen, observationCredentials());
    return seen;
  }

  const protectedPaths = service.protected ?? [];
  for (const path of protectedPaths) {
    ctx.signal.throwIfAborted();
    seen.protected.push(await observePath(path));
  }

  const leaks = await pool(leakProbesFor(target), CONCURRENCY, async (probe) => {
    const { exchange, body, contentType } = await sendRaw(base, requestTarget(base, probe.path));
    const leak: LeakObservation = { path: probe.path, what: probe.what, kind: probe.kind, exchange };
    if (
      body !== undefined &&
      exchange.status !== undefined &&
      exchange.status >= 200 &&
      exchange.status < 300
    ) {
      const match = probe.detect(body, contentType ?? "");
      if (match) {
        for (const secret of match.secrets) ctx.secrets.add(secret);
        leak.matched = { marker: match.marker, excerpt: match.excerpt };
      }
    }
    // A leak's body is never kept: the marker and the safe excerpt say what was served.
    if (exchange.page) delete exchange.page.excerpt;
    return leak;
  });
  seen.leaks.push(...leaks);
  seen.evidence = await writeEvidence(ctx, seen, observationCredentials());
  return seen;

  function observationCredentials() {
    return {
      bearer: "wrong bearer: a JWT signed with a random key",
      basic: `wrong basic: ${credentials.basicUser}:<random>`,
    };
  }

  async function observePath(path: string): Promise<ProtectedPathObservation> {
    const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(path);
    const full = isUrl ? baseUrl(path) : null;
    if (isUrl && !full) {
      const error = { kind: "other" as const, code: "ERR_INVALID_URL", message: "not an http(s) URL" };
      return {
        path,
        target: path,
        anonymous: { method: "GET", target: path, credentials: "none", error },
        variants: [],
      };
    }
    const url = full ? new URL(full).origin : base!;
    const rawTarget = full ? pathOf(path) : requestTarget(base!, path);
    const anonymous = await follow(url, await send(url, rawTarget), "none");
    const probe: ProtectedPathObservation = { path, target: rawTarget, anonymous, variants: [] };
    if (!refusedOrLogin(anonymous)) return probe;
    const [bearer, basic, head] = await Promise.all([
      send(url, rawTarget, { credentials: "wrongBearer" }).then((e) => follow(url, e, "wrongBearer")),
      send(url, rawTarget, { credentials: "wrongBasic" }).then((e) => follow(url, e, "wrongBasic")),
      send(url, rawTarget, { method: "HEAD" }),
    ]);
    probe.wrongBearer = bearer;
    probe.wrongBasic = basic;
    probe.head = head;
    const variants = pathVariants(rawTarget);
    probe.variants = await pool(variants, CONCURRENCY, async (v) => ({
      ...(await send(url, v.target)),
      variant: v.name,
      why: v.why,
    }));
    return probe;
  }
}

function leakProbesFor(target: HttpTarget): LeakProbe[] {
  const declared = new Set((target.service.protected ?? []).map((p) => p.replace(/\/+$/, "") || "/"));
  const probes = LEAK_PROBES.filter((p) => !declared.has(p.path.replace(/\/+$/, "")));
  // A metrics path of the service's own (a relative `metrics`) is probed like /metrics.
  const metrics = target.service.metrics;
  if (metrics && !/^[a-z][a-z0-9+.-]*:\/\//i.test(metrics)) {
    const path = metrics.startsWith("/") ? metrics : `/${metrics}`;
    const template = LEAK_PROBES.find((p) => p.kind === "metrics")!;
    if (!probes.some((p) => p.path === path) && !declared.has(path.replace(/\/+$/, "")))
      probes.push({ ...template, path });
  }
  return probes;
}

async function writeEvidence(
  ctx: CheckContext,
  seen: ServiceAuthObservation,
  credentials: { bearer: string; basic: string },
): Promise<string> {
  return ctx.evidence.writeJson(`${seen.service}-auth.json`, {
    service: seen.service,
    url: seen.url,
    exposure: seen.exposure,
    ...(seen.publicBecause ? { publicBecause: seen.publicBecause } : {}),
    timeoutMs: TIMEOUT_MS,
    bodyBytesRead: PAGE_BYTES,
    credentials,
    ...(seen.caError ? { caError: seen.caError } : {}),
    unknownPath: seen.unknown,
    protected: seen.protected,
    leaks: seen.leaks,
  });
}

function refusedOrLogin(exchange: FollowedExchange): boolean {
  const verdict = classify(exchange, undefined);
  return verdict.kind === "refused" || verdict.kind === "login";
}

type Verdict =
  | { kind: "refused"; status: number; challenge: boolean }
  | { kind: "login"; how: string }
  | { kind: "open"; status: number; catchAll: boolean; via?: string }
  | { kind: "notFound"; status: number }
  | { kind: "serverError"; status: number }
  | { kind: "offSite"; location: string; reason: string }
  | { kind: "other"; status: number }
  | { kind: "error"; error: NonNullable<Exchange["error"]> };

/** What an answer means for access: refused, a login page, content served, or something that tells neither. */
function classify(exchange: FollowedExchange, unknown: Exchange | undefined): Verdict {
  if (exchange.error) return { kind: "error", error: exchange.error };
  const status = exchange.status!;
  if (status === 401)
    return { kind: "refused", status, challenge: Boolean(exchange.headers?.["www-authenticate"]) };
  if (status === 403) return { kind: "refused", status, challenge: true };
  if (status === 404 || status === 410) return { kind: "notFound", status };
  if (status >= 200 && status <= 299) {
    if (exchange.page?.loginForm) return { kind: "login", how: `a login form served with ${status}` };
    const catchAll = unknown !== undefined && unknown.status !== undefined && samePage(exchange, unknown);
    return { kind: "open", status, catchAll };
  }
  if (status >= 300 && status <= 399) {
    const redirect = exchange.redirect;
    if (!redirect) return { kind: "other", status };
    if (redirect.login) return { kind: "login", how: `${status} to ${redirect.location}` };
    if (!redirect.followed)
      return { kind: "offSite", location: redirect.location, reason: redirect.notFollowed ?? "" };
    const next = classify(redirect.followed, unknown);
    if (next.kind === "open") return { ...next, via: `${status} to ${redirect.location}` };
    if (next.kind === "login")
      return { kind: "login", how: `${status} to ${redirect.location}, then ${next.how}` };
    // A second redirect is judged by where it points, and not followed.
    const second = redirect.followed.headers?.location;
    if (redirect.followed.status! >= 300 && redirect.followed.status! <= 399 && second)
      return isLoginLocation(second, redirect.location)
        ? { kind: "login", how: `${status} to ${redirect.location}, then to ${second}` }
        : { kind: "other", status: redirect.followed.status! };
    return next;
  }
  if (status >= 500) return { kind: "serverError", status };
  return { kind: "other", status };
}

function judgeService(seen: ServiceAuthObservation): FindingInput[] {
  const name = seen.service;
  const evidence = seen.evidence ? [seen.evidence] : [];
  if (seen.noUrl) {
    return [
      {
        status: "UNVERIFIED",
        messageId: "noUrl",
        subject: name,
        message:
          seen.noUrl === "missing"
            ? `${name} has no url, so its protected paths and leaks cannot be probed`
            : `${name}'s url is not http(s), so its protected paths and leaks cannot be probed`,
        data: { service: name },
        evidence,
        toVerify: `give services.${name}.url as an http(s) URL (e.g. http://127.0.0.1:8080)`,
      },
    ];
  }
  const url = seen.url!;
  if (seen.unknown?.error) {
    const error = seen.unknown.error;
    const tls = error.kind === "tls";
    return [
      {
        status: "UNVERIFIED",
        messageId: "unreachable",
        subject: name,
        message: `${name}: ${url} cannot be reached (${error.code ?? error.kind}: ${error.message.slice(0, 160)})${seen.caError ? `; ${seen.caError}` : ""}`,
        data: { service: name, url, error: error.kind, ...(error.code ? { code: error.code } : {}) },
        evidence,
        toVerify: tls
          ? `make ${url}'s certificate verifiable from here: add it to security.tls as { url: ${new URL(url).origin}, ca: <CA file> }`
          : `start ${name} so that it answers at ${url} (services.${name}.url), then run again`,
      },
    ];
  }
  return [...seen.protected.flatMap((p) => judgePath(seen, p)), ...judgeLeaks(seen)];
}

function judgePath(seen: ServiceAuthObservation, probe: ProtectedPathObservation): FindingInput[] {
  const name = seen.service;
  const { path } = probe;
  const evidence = seen.evidence ? [seen.evidence] : [];
  const base = { subject: name, evidence };
  const data = (extra: Record<string, unknown> = {}) => ({ service: name, path, ...extra });
  const anonymous = classify(probe.anonymous, seen.unknown);
  const measurements =
    probe.anonymous.status !== undefined
      ? [
          {
            name: "anonymousStatus",
            value: probe.anonymous.status,
            unit: "code",
            ...(seen.evidence ? { evidence: seen.evidence } : {}),
          },
        ]
      : [];
  switch (anonymous.kind) {
    case "error":
      return [
        {
          ...base,
          status: "UNVERIFIED",
          messageId: "unreachable",
          message:
            anonymous.error.code === "ERR_INVALID_URL"
              ? `${name} ${path}: services.${name}.protected names a URL that is not http(s)`
              : `${name} ${path}: no answer without credentials (${anonymous.error.code ?? anonymous.error.kind})`,
          data: data({ error: anonymous.error.kind }),
          toVerify:
            anonymous.error.code === "ERR_INVALID_URL"
              ? `write services.${name}.protected entries as paths (/admin) or http(s) URLs`
              : `make ${name} answer at ${path}, then run again`,
        },
      ];
    case "notFound":
      return [
        {
          ...base,
          measurements,
          status: "UNVERIFIED",
          messageId: "protectedPathMissing",
          message: `${name} ${path} answers ${anonymous.status} without credentials: the protected path may not exist`,
          data: data({ status: anonymous.status }),
          toVerify: `check services.${name}.protected: list a path that exists and needs credentials (if ${name} hides protected paths behind 404, list one that answers 401 or 403)`,
        },
      ];
    case "open":
      if (anonymous.catchAll) {
        return [
          {
            ...base,
            measurements,
            status: "UNVERIFIED",
            messageId: "catchAllPage",
            message: `${name} ${path} answers ${anonymous.status} without credentials, with the same page as a random path${anonymous.via ? ` (after ${anonymous.via})` : ""}: a catch-all page, so what the path protects cannot be told`,
            data: data({ status: anonymous.status }),
            toVerify: `list in services.${name}.protected the paths the server itself protects (e.g. the API paths behind the page), or make ${path} answer 401/403 without credentials`,
          },
        ];
      }
      return [
        {
          ...base,
          measurements,
          status: "FAIL",
          messageId: anonymous.via ? "redirectsToContent" : "openToAnonymous",
          message: anonymous.via
            ? `${name} ${path} without credentials: ${anonymous.via}, which answers ${anonymous.status} with content`
            : `${name} ${path} answers ${anonymous.status} without any credentials`,
          data: data({ status: anonymous.status, ...(anonymous.via ? { via: anonymous.via } : {}) }),
        },
      ];
    case "offSite":
      return [
        {
          ...base,
          measurements,
          status: "UNVERIFIED",
          messageId: "redirectOffSite",
          message: `${name} ${path} redirects to ${anonymous.location} (${anonymous.reason}), which Gauntlet does not follow`,
          data: data({ location: anonymous.location }),
          toVerify: `if ${anonymous.location} is ${name}'s login page, make its path say so (/login, /auth, /sso, …) or add its host to the spec; otherwise make ${path} answer 401/403`,
        },
      ];
    case "serverError":
      return [
        {
          ...base,
          measurements,
          status: "WARN",
          messageId: "serverError",
          message: `${name} ${path} answers ${anonymous.status} without credentials instead of refusing`,
          data: data({ status: anonymous.status }),
        },
      ];
    case "other":
      return [
        {
          ...base,
          measurements,
          status: "UNVERIFIED",
          messageId: "inconclusiveStatus",
          message: `${name} ${path} answers ${anonymous.status} without credentials, which neither grants nor refuses access`,
          data: data({ status: anonymous.status }),
          toVerify: `list in services.${name}.protected a path that answers GET (with credentials: 2xx; without: 401/403)`,
        },
      ];
    default:
      break;
  }

  const findings: FindingInput[] = [];
  if (anonymous.kind === "refused" && !anonymous.challenge) {
    findings.push({
      ...base,
      measurements,
      status: "WARN",
      messageId: "noChallenge",
      message: `${name} ${path} answers 401 without a WWW-Authenticate header (RFC 9110 requires a challenge with 401; send one, or answer 403)`,
      data: data({ status: 401 }),
    });
  }
  const accepted: string[] = [];
  const crashed: string[] = [];
  for (const [label, exchange] of [
    ["a wrong bearer token", probe.wrongBearer],
    ["wrong basic credentials", probe.wrongBasic],
  ] as const) {
    if (!exchange) continue;
    const verdict = classify(exchange, seen.unknown);
    if (verdict.kind === "open" && !verdict.catchAll)
      accepted.push(`${label} → ${verdict.status}${verdict.via ? ` (after ${verdict.via})` : ""}`);
    if (verdict.kind === "serverError") crashed.push(`${label} → ${verdict.status}`);
  }
  if (accepted.length > 0) {
    findings.push({
      ...base,
      status: "FAIL",
      messageId: "acceptsWrongCredentials",
      message: `${name} ${path} refuses no credentials but accepts ${accepted.join("; ")}`,
      data: data({ accepted }),
    });
  }
  if (crashed.length > 0) {
    findings.push({
      ...base,
      status: "WARN",
      messageId: "serverError",
      message: `${name} ${path} answers ${crashed.join("; ")} instead of refusing`,
      data: data({ answers: crashed }),
    });
  }
  // HEAD has no body to compare: on a service that serves a catch-all page, a 2xx to HEAD tells nothing.
  const catchAllServer =
    seen.unknown?.status !== undefined && seen.unknown.status >= 200 && seen.unknown.status <= 299;
  const head = probe.head;
  if (head?.status !== undefined && head.status >= 200 && head.status <= 299 && !catchAllServer) {
    findings.push({
      ...base,
      status: "FAIL",
      messageId: "methodBypass",
      message: `${name} ${path} refuses GET without credentials but answers HEAD with ${head.status}: the access rule is per method, so other methods may pass too`,
      data: data({ method: "HEAD", status: head.status }),
    });
  }
  const bypasses = probe.variants.filter((v) => {
    const verdict = classify(v, seen.unknown);
    return verdict.kind === "open" && !verdict.catchAll;
  });
  if (bypasses.length > 0) {
    const served = bypasses.map((v) => `${v.target} → ${v.status} (${v.variant})`);
    findings.push({
      ...base,
      status: "FAIL",
      messageId: "pathBypass",
      message: `${name} ${path} is refused, but ${served.join(", ")} is served without credentials`,
      data: data({
        variants: bypasses.map((v) => ({
          target: v.target,
          status: v.status,
          variant: v.variant,
          why: v.why,
        })),
      }),
    });
  }
  if (findings.some((f) => f.status === "FAIL" || f.status === "WARN")) return findings;
  const tried = 3 + (probe.head ? 1 : 0) + probe.variants.length;
  return [
    {
      ...base,
      measurements,
      status: "PASS",
      messageId: anonymous.kind === "login" ? "redirectsToLogin" : "refused",
      message:
        anonymous.kind === "login"
          ? `${name} ${path} sends whoever has no valid credentials to log in (${anonymous.how}); ${tried} requests tried (no, wrong bearer, wrong basic credentials, HEAD, ${probe.variants.length} spellings)`
          : `${name} ${path} answers ${anonymous.kind === "refused" ? anonymous.status : "a refusal"} to no, wrong bearer and wrong basic credentials, and serves neither HEAD nor ${probe.variants.length} other spellings of the path`,
      data: data({ requests: tried }),
    },
  ];
}

function judgeLeaks(seen: ServiceAuthObservation): FindingInput[] {
  const name = seen.service;
  const evidence = seen.evidence ? [seen.evidence] : [];
  const findings: FindingInput[] = [];
  for (const leak of seen.leaks) {
    if (!leak.matched) continue;
    if (leak.kind === "metrics") {
      if (!seen.publicBecause) continue;
      findings.push({
        subject: name,
        evidence,
        status: "WARN",
        messageId: "metricsPublic",
        message: `${name} (${seen.publicBecause}) serves ${leak.path} to anyone: ${leak.matched.marker}`,
        data: { service: name, path: leak.path, exposure: seen.exposure, publicBecause: seen.publicBecause },
      });
      continue;
    }
    findings.push({
      subject: name,
      evidence,
      status: "FAIL",
      messageId: "leak",
      message: `${name} serves ${leak.path} to anyone: ${leak.what} (recognised by ${leak.matched.marker})`,
      data: {
        service: name,
        path: leak.path,
        what: leak.what,
        marker: leak.matched.marker,
        excerpt: leak.matched.excerpt,
      },
    });
  }
  if (findings.length > 0) return findings;
  const answered = seen.leaks.filter((l) => !l.exchange.error);
  if (answered.length === 0) {
    return [
      {
        subject: name,
        evidence,
        status: "UNVERIFIED",
        messageId: "unreachable",
        message: `${name}: none of the ${seen.leaks.length} well-known leak paths got an answer`,
        data: { service: name, paths: seen.leaks.map((l) => l.path) },
        toVerify: `make ${name} answer at ${seen.url}, then run again`,
      },
    ];
  }
  const served = answered.filter((l) => (l.exchange.status ?? 0) >= 200 && (l.exchange.status ?? 0) <= 299);
  const catchAll = served.filter((l) => seen.unknown && samePage(l.exchange, seen.unknown)).length;
  const note =
    served.length > 0
      ? `; ${served.length} answered 2xx with something else${catchAll > 0 ? ` (${catchAll} with the catch-all page)` : ""}`
      : "";
  return [
    {
      subject: name,
      evidence,
      status: "PASS",
      messageId: "noLeaks",
      message: `${name} serves none of ${answered.length} well-known leak paths (${answered.map((l) => l.path).join(", ")})${note}`,
      data: { service: name, probed: answered.length },
      measurements: [
        {
          name: "leakPathsProbed",
          value: answered.length,
          unit: "paths",
          ...(seen.evidence ? { evidence: seen.evidence } : {}),
        },
      ],
    },
  ];
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

async function pool<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
