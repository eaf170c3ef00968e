// What a service is, from its `kind` (DESIGN principle 9: judge a thing by its kind). One place decides which kinds
// are datastores, which wire protocol Gauntlet speaks to them, and whether they must keep acknowledged writes.
import type { Service, Spec } from "./schema.js";

export type Kind = Service["kind"];

/** Kinds that hold or carry data and are judged by datastore signals, not as web APIs. */
export const DATASTORE_KINDS: readonly Kind[] = [
  "postgres",
  "pgbouncer",
  "redis",
  "mysql",
  "mongodb",
  "memcached",
  "kafka",
  "rabbitmq",
];

/** Kinds that by design hold no data of their own (a pooler, a memory cache): not durable unless the spec says so. */
const NOT_DURABLE_BY_DESIGN: readonly Kind[] = ["pgbouncer", "memcached"];

export function isDatastoreKind(kind: Kind): boolean {
  return DATASTORE_KINDS.includes(kind);
}

export function isDatastore(spec: Spec, name: string): boolean {
  const service = spec.services[name];
  return service !== undefined && isDatastoreKind(service.kind);
}

/** The protocol Gauntlet's own clients speak to this kind, when it has one (PgBouncer speaks PostgreSQL's). */
export function protocolOf(kind: Kind): "redis" | "postgres" | undefined {
  if (kind === "redis") return "redis";
  if (kind === "postgres" || kind === "pgbouncer") return "postgres";
  return undefined;
}

/** Must this datastore keep every acknowledged write across a crash? `durable:` wins; else by kind. */
export function isDurable(service: Service): boolean {
  if (!isDatastoreKind(service.kind)) return false;
  return service.durable ?? !NOT_DURABLE_BY_DESIGN.includes(service.kind);
}

/** The Prometheus job label a service's metrics are scraped under: `job:`, else its name. */
export function jobOf(name: string, service: Service): string {
  return service.job ?? name;
}
