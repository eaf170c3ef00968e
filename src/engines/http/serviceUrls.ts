// A service's health and metrics endpoints as URLs: a full URL as given, or a path joined to the service's url.
import type { Service } from "../../spec/schema.js";

/** services.<name>.health as a URL; null when there is none or it is a path without a url to join it to. */
export function healthUrl(service: Pick<Service, "url" | "health">): string | null {
  const health = service.health;
  if (!health) return null;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(health)) return health;
  if (!service.url) return null;
  const base = new URL(service.url);
  base.search = "";
  base.hash = "";
  const prefix = base.href.replace(/\/+$/, "");
  return `${prefix}${health.startsWith("/") ? health : `/${health}`}`;
}

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
