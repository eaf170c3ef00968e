// What is sent to a protected path, and how an answer is read. Wrong credentials are made fresh for every run (never a
// constant a server could special-case), and the path variants are the ones real access-control bypasses used: an
// access rule written for one spelling of a path and a router that serves another.
import { randomBytes } from "node:crypto";

export interface WrongCredentials {
  /** A JWT-shaped bearer token signed with a random key: a server that decodes without verifying accepts it. */
  bearer: string;
  basicUser: string;
  basicPassword: string;
  /** The Authorization header values. */
  bearerHeader: string;
  basicHeader: string;
}

export function wrongCredentials(now = Date.now()): WrongCredentials {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = part({ alg: "HS256", typ: "JWT" });
  const payload = part({
    sub: "gauntlet-probe",
    iat: Math.floor(now / 1000),
    exp: Math.floor(now / 1000) + 600,
  });
  const bearer = `${header}.${payload}.${randomBytes(32).toString("base64url")}`;
  const basicUser = "gauntlet-probe";
  const basicPassword = randomBytes(18).toString("base64url");
  return {
    bearer,
    basicUser,
    basicPassword,
    bearerHeader: `Bearer ${bearer}`,
    basicHeader: `Basic ${Buffer.from(`${basicUser}:${basicPassword}`).toString("base64")}`,
  };
}

export interface PathVariant {
  name: string;
  /** The request target, written as sent. */
  target: string;
  /** Why this spelling has bypassed access rules before. */
  why: string;
}

/**
 * Spellings of a protected path that reach the same handler on some stacks while an access rule (proxy location,
 * WAF rule, security filter) matches only the canonical one. A path whose variant is itself is left out.
 */
export function pathVariants(pathAndQuery: string): PathVariant[] {
  const q = pathAndQuery.indexOf("?");
  const pathname = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const query = q < 0 ? "" : pathAndQuery.slice(q);
  const bare = pathname.replace(/^\/+/, "");
  if (bare === "") return [];
  const variants: PathVariant[] = [];
  const add = (name: string, target: string, why: string) => {
    if (target !== pathname && !variants.some((v) => v.target === `${target}${query}`))
      variants.push({ name, target: `${target}${query}`, why });
  };
  add(
    "trailingSlash",
    pathname.endsWith("/") ? pathname.replace(/\/+$/, "") : `${pathname}/`,
    "an exact-match rule (nginx `location = /admin`, a route pattern without `/`) misses the other spelling",
  );
  add(
    "upperCase",
    pathname.toUpperCase(),
    "a case-insensitive router (IIS, ASP.NET, Spring MVC set so) behind a case-sensitive rule",
  );
  add(
    "dotSegment",
    `/%2e/${bare}`,
    "an encoded `.` segment that the proxy does not normalise and the backend does (CVE-2021-41773 and kin)",
  );
  add("doubleSlash", `//${bare}`, "a rule on `/admin` that `//admin` misses while the router merges slashes");
  add(
    "pathParameter",
    `${pathname.replace(/\/+$/, "")};gauntlet`,
    "a `;` path parameter that Tomcat/Jetty strip before routing, after the proxy rule did not match",
  );
  const first = bare.search(/[A-Za-z]/);
  if (first >= 0) {
    const code = bare.charCodeAt(first).toString(16).padStart(2, "0");
    add(
      "percentEncoded",
      `/${bare.slice(0, first)}%${code}${bare.slice(first + 1)}`,
      "a rule matching the raw URI (HAProxy path_beg, WAF rules) while the backend decodes it",
    );
  }
  return variants;
}

const LOGIN_WORDS =
  /(?:^|[/._-])(?:log-?in|sign-?in|sign_in|logon|auth|authenticate|authorize|oauth2?|sso|saml2?|cas|openid(?:-connect)?|idp|accounts)(?:[/._?#-]|$)/i;

/** Does a redirect target look like a login or single sign-on page (by its host name or path)? */
export function isLoginLocation(location: string, base: string): boolean {
  let url: URL;
  try {
    url = new URL(location, base);
  } catch {
    return false;
  }
  return LOGIN_WORDS.test(url.pathname) || LOGIN_WORDS.test(`/${url.hostname.replace(/\./g, "/")}/`);
}

/** A random path no service serves: its answer is the service's page for "anything else". */
export function unknownPath(): string {
  return `/gauntlet-${randomBytes(8).toString("hex")}`;
}
