// Where a service listens, from its URL: host and port, with each scheme's well-known port when the URL has none.

export const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  http: 80,
  https: 443,
  postgres: 5432,
  postgresql: 5432,
  redis: 6379,
  rediss: 6379,
  mysql: 3306,
  mongodb: 27017,
  memcached: 11211,
  amqp: 5672,
  amqps: 5671,
};

/** Host and port of a service URL; null when the URL cannot be parsed or its scheme has no known default port. */
export function parseTarget(
  url: string,
): { host: string; port: number; portFrom: "url" | "scheme default" } | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  if (!host) return null;
  if (parsed.port) return { host, port: Number(parsed.port), portFrom: "url" };
  const port = DEFAULT_PORTS[parsed.protocol.replace(/:$/, "").toLowerCase()];
  return port === undefined ? null : { host, port, portFrom: "scheme default" };
}
