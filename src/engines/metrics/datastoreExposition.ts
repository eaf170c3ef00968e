// Finds a datastore's signals in its exporter's exposition, by the catalogue in datastoreSignals.ts: which up, saturation,
// error and latency families it carries, and the value of each up series (an exporter that cannot reach its store
// still answers 200, with redis_up 0 or pg_up 0).
import { DATASTORE_SIGNALS, type DatastoreKind, type Family, familyMatches } from "./datastoreSignals.js";
import type { Exposition } from "./exposition.js";

export interface UpSeries {
  family: string;
  how: "value" | "presence";
  /** value families: each series' labels (as text) and value; presence families: the number of samples. */
  series: { labels: string; value: number }[];
}

export interface FoundResource {
  resource: string;
  usage: string[];
  limit: string[];
  /** The catalogue knows no limit family for this resource on any exporter, so usage alone is the signal. */
  noKnownLimit: boolean;
}

export interface FoundDatastoreSignals {
  kind: DatastoreKind;
  up: UpSeries[];
  saturation: FoundResource[];
  /** Error families about the store itself (not the exporter's own scrape errors). */
  errors: string[];
  exporterErrors: string[];
  latency: string[];
}

export function findDatastoreSignals(exposition: Exposition, kind: DatastoreKind): FoundDatastoreSignals {
  const entry = DATASTORE_SIGNALS[kind];
  // A family declared by # TYPE with no sample yet (a counter not incremented) is still exposed: it is named.
  const names = [...exposition.families.keys()];
  const present = (families: Family[]) =>
    unique(families.flatMap((family) => names.filter((name) => familyMatches(family.name, name))));
  const up: UpSeries[] = [];
  for (const family of entry.up) {
    for (const name of names.filter((n) => familyMatches(family.name, n))) {
      const samples = exposition.families.get(name)?.samples ?? [];
      if (family.how === "presence" && samples.length === 0) continue;
      up.push({
        family: name,
        how: family.how,
        series: samples.map((s) => ({ labels: labelText(s.labels), value: s.value })),
      });
    }
  }
  return {
    kind,
    up,
    saturation: entry.saturation
      .map((resource) => ({
        resource: resource.resource,
        usage: present(resource.usage),
        limit: present(resource.limit),
        noKnownLimit: resource.limit.length === 0,
      }))
      .filter((r) => r.usage.length > 0 || r.limit.length > 0),
    errors: present(entry.errors.filter((e) => !e.aboutExporter)),
    exporterErrors: present(entry.errors.filter((e) => e.aboutExporter)),
    latency: present(entry.latency),
  };
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(",");
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
