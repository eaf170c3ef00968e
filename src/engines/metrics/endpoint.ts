// Where a service's metrics live, and how to tell whether a Prometheus scrape URL points at the same place.
import type { Service } from "../../spec/schema.js";

/** services.<name>.metrics as a URL: a full URL as given, or a path appended to the service URL; null if neither. */
export function metricsUrl(service: Pick<Service, "url" | "metrics">): string | null {
  const metrics = service.metrics;
  if (!metrics) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(metrics)) return metrics;
  if (!service.url) return null;
  try {
    const base = new URL(service.url);
    base.search = "";
    base.hash = "";
    return `${base.href.replace(/\/+$/, "")}${metrics.startsWith("/") ? metrics : `/${metrics}`}`;
  } catch {
    return null;
  }
}

/** Same scheme, host (localhost = 127.0.0.1), port and path; query strings ignored. */
export function sameScrapeEndpoint(a: string, b: string): boolean {
  const norm = (text: string) => {
    try {
      const u = new URL(text);
      const host = u.hostname === "localhost" ? "127.0.0.1" : u.hostname;
      const port = u.port || (u.protocol === "https:" ? "443" : "80");
      return `${u.protocol}//${host}:${port}${u.pathname.replace(/\/+$/, "") || "/"}`;
    } catch {
      return text;
    }
  };
  return norm(a) === norm(b);
}
