// Which services are web services the security probes talk to, where their requests go, and how exposed they are.
// A service's url may carry credentials (http://user:pass@host): they are dropped from every probe URL, since Node
// would otherwise send them as basic auth and an "anonymous" request would not be anonymous.
import { readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { isDatastoreKind } from "../../spec/kinds.js";
import type { Service, Spec } from "../../spec/schema.js";
import { classifyAddress } from "../net/listeners.js";

/** `public` and `internal` as the spec says; `undeclared` when it says neither (DESIGN principle 8: not N/A). */
export type Exposure = "public" | "internal" | "undeclared";

/** Where the host of a URL is, when it can be told without a DNS lookup; `name` for any other host name. */
export type HostScope = "loopback" | "private" | "public" | "name";

export interface HttpTarget {
  name: string;
  service: Service;
  /** The service url without credentials, query or fragment, and without a trailing slash; null when unusable. */
  base: string | null;
  exposure: Exposure;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Is this service spoken to over HTTP? kind http (the default), or kind other with an http(s) url. */
export function isHttpService(service: Service): boolean {
  if (isDatastoreKind(service.kind)) return false;
  if (service.kind === "http") return true;
  return service.kind === "other" && /^https?:\/\//i.test(service.url ?? "");
}

export function exposureOf(service: Service): Exposure {
  return service.exposure ?? "undeclared";
}

/** The HTTP services of the spec, in spec order, with the base URL their probes are joined to. */
export function httpTargets(spec: Spec): HttpTarget[] {
  return Object.entries(spec.services)
    .filter(([, service]) => isHttpService(service))
    .map(([name, service]) => ({ name, service, base: serviceBase(service), exposure: exposureOf(service) }));
}

/** The service url, else the origin of a full health URL; null when neither is an http(s) URL. */
export function serviceBase(service: Service): string | null {
  const fromUrl = baseUrl(service.url);
  if (fromUrl || service.url) return fromUrl;
  if (service.health && SCHEME.test(service.health)) {
    const health = baseUrl(service.health);
    return health ? new URL(health).origin : null;
  }
  return null;
}

/**
 * Why a service counts as reachable by the public, or null when it does not: `exposure: public`, or no exposure
 * declared and a host that is neither loopback nor a private address (silence is not "internal").
 */
export function publicReason(exposure: Exposure, base: string): string | null {
  if (exposure === "public") return "exposure: public";
  if (exposure === "internal") return null;
  const scope = hostScope(base);
  if (scope === "loopback" || scope === "private") return null;
  const host = new URL(base).hostname;
  return scope === "public"
    ? `no exposure declared and ${host} is a public address`
    : `no exposure declared and ${host} is a host name, not a loopback or private address`;
}

/** An http(s) URL without userinfo, query, fragment and trailing slash; null when it is not one. */
export function baseUrl(url: string | undefined): string | null {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
  parsed.username = "";
  parsed.password = "";
  parsed.search = "";
  parsed.hash = "";
  return parsed.href.replace(/\/+$/, "");
}

/** A path (or a full URL, as given) joined to a base URL. */
export function joinPath(base: string, pathOrUrl: string): string {
  if (SCHEME.test(pathOrUrl)) return pathOrUrl;
  return `${base}${pathOrUrl.startsWith("/") ? pathOrUrl : `/${pathOrUrl}`}`;
}

/** The request target (path and query) of a URL as the base's server sees it: the base's path prefix included. */
export function requestTarget(base: string, rawPath: string): string {
  const prefix = new URL(base).pathname.replace(/\/+$/, "");
  return `${prefix}${rawPath.startsWith("/") ? rawPath : `/${rawPath}`}`;
}

export function hostScope(url: string): HostScope {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost")) return "loopback";
  if (!net.isIP(host)) return "name";
  const scope = classifyAddress(host);
  return scope === "wildcard" ? "loopback" : scope;
}

/** The host names the spec names (its services' urls and security.tls endpoints): the only hosts probes may reach. */
export function specHosts(spec: Spec): Set<string> {
  const hosts = new Set<string>();
  const add = (url: string | undefined) => {
    if (!url) return;
    try {
      hosts.add(new URL(url).hostname.toLowerCase());
    } catch {
      // not a URL: names no host
    }
  };
  for (const service of Object.values(spec.services)) {
    add(service.url);
    if (service.health && SCHEME.test(service.health)) add(service.health);
  }
  for (const endpoint of spec.security?.tls ?? [])
    add(typeof endpoint === "string" ? endpoint : endpoint.url);
  return hosts;
}

export interface TlsTrust {
  ca?: string;
  servername?: string;
  /** Set when security.tls names a CA file for this origin that cannot be read. */
  caError?: string;
}

/**
 * How to trust an https URL's certificate: the `ca` (and `servername`) of the security.tls entry with the same origin,
 * so a service behind a private CA is probed with the CA the spec already names for it.
 */
export async function tlsTrustFor(spec: Spec, specDir: string, url: string): Promise<TlsTrust> {
  let origin: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "https:") return {};
    origin = parsed.origin;
  } catch {
    return {};
  }
  for (const endpoint of spec.security?.tls ?? []) {
    if (typeof endpoint === "string") continue;
    let endpointOrigin: string;
    try {
      endpointOrigin = new URL(endpoint.url.replace(/^tls:/i, "https:")).origin;
    } catch {
      continue;
    }
    if (endpointOrigin !== origin) continue;
    const trust: TlsTrust = {};
    if (endpoint.servername) trust.servername = endpoint.servername;
    if (endpoint.ca) {
      const file = path.resolve(specDir, endpoint.ca);
      try {
        trust.ca = await readFile(file, "utf8");
      } catch (error) {
        trust.caError = `cannot read security.tls ca ${endpoint.ca}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
      }
    }
    return trust;
  }
  return {};
}
