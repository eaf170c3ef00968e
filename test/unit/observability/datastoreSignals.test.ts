// The datastore signal catalogue against what the real exporters served: the recorded judge fixtures of metricsExposed
// (written by test/integration/checks/metricsExposed.test.ts from a running redis_exporter and postgres_exporter) must
// be exactly what findDatastoreSignals reads from their metrics.txt, and every family the catalogue claims for a
// verified exporter must be in that output unless it names the condition it needs.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findDatastoreSignals } from "../../../src/engines/metrics/datastoreExposition.js";
import {
  DATASTORE_SIGNALS,
  type DatastoreKind,
  datastoreKindOfMetric,
  type Family,
  familyMatches,
  meaningOfMetric,
} from "../../../src/engines/metrics/datastoreSignals.js";
import { formatOf, parseExposition } from "../../../src/engines/metrics/exposition.js";
import { DATASTORE_KINDS } from "../../../src/spec/kinds.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures/judge/metricsExposed");
const recorded = readdirSync(FIXTURES).filter((name) => existsSync(path.join(FIXTURES, name, "metrics.txt")));

function load(name: string) {
  const observation = JSON.parse(readFileSync(path.join(FIXTURES, name, "observation.json"), "utf8"));
  const endpoint = observation.endpoints[0];
  const body = readFileSync(path.join(FIXTURES, name, "metrics.txt"), "utf8");
  return { endpoint, exposition: parseExposition(body, formatOf(endpoint.scrape.contentType)) };
}

describe("datastore signal catalogue", () => {
  it("has an entry for every datastore kind, with up, saturation and error families", () => {
    expect(Object.keys(DATASTORE_SIGNALS).sort()).toEqual([...DATASTORE_KINDS].sort());
    for (const entry of Object.values(DATASTORE_SIGNALS)) {
      expect(entry.up.length, entry.kind).toBeGreaterThan(0);
      expect(
        entry.saturation.some((r) => r.usage.length > 0),
        entry.kind,
      ).toBe(true);
      expect(entry.errors.length, entry.kind).toBeGreaterThan(0);
      expect(entry.exporters.length, entry.kind).toBeGreaterThan(0);
    }
  });

  it("marks as verified only the exporters run here", () => {
    const verified = Object.values(DATASTORE_SIGNALS).flatMap((e) =>
      e.exporters.filter((x) => x.source === "verified").map((x) => `${e.kind}:${x.name}`),
    );
    expect(verified).toEqual(["postgres:postgres_exporter", "redis:redis_exporter"]);
  });

  it("tells a metric's kind by its exporter's prefix, pgbouncer_ before pg_", () => {
    expect(datastoreKindOfMetric("pgbouncer_up")).toBe("pgbouncer");
    expect(datastoreKindOfMetric("pg_up")).toBe("postgres");
    expect(datastoreKindOfMetric("redis_connected_clients")).toBe("redis");
    expect(datastoreKindOfMetric("mysql_global_status_aborted_connects")).toBe("mysql");
    expect(datastoreKindOfMetric("http_requests_total")).toBeUndefined();
    expect(datastoreKindOfMetric("up")).toBeUndefined();
  });

  it("matches counters with or without _total, histogram series and prefix entries", () => {
    expect(familyMatches("redis_commands_duration_seconds_total", "redis_commands_duration_seconds")).toBe(
      true,
    );
    expect(familyMatches("redis_latency_percentiles_usec", "redis_latency_percentiles_usec_sum")).toBe(true);
    expect(
      familyMatches(
        "kafka_server_brokertopicmetrics_failed*",
        "kafka_server_brokertopicmetrics_failedproducerequests_total",
      ),
    ).toBe(true);
    expect(familyMatches("redis_up", "redis_uptime_in_seconds")).toBe(false);
    expect(meaningOfMetric("redis", "redis_config_maxclients")).toEqual([
      { signal: "saturation", role: "limit", resource: "connections", means: "maxclients" },
    ]);
  });
});

describe("recorded exporter output", () => {
  it("is there for redis and postgres, up and down", () => {
    expect(recorded.sort()).toEqual([
      "ng.postgres-down",
      "ng.postgres-settings-disabled",
      "ng.redis-down",
      "ok.postgres-exporter",
      "ok.redis-exporter",
    ]);
  });

  for (const name of recorded) {
    it(`${name}: the observation is what the catalogue reads from the exporter's output`, () => {
      const { endpoint, exposition } = load(name);
      expect(exposition.errors).toEqual([]);
      expect(findDatastoreSignals(exposition, endpoint.kind as DatastoreKind)).toEqual(endpoint.datastore);
    });
  }

  for (const kind of ["redis", "postgres"] as const) {
    it(`${kind}: every catalogue family without a condition is in the running exporter's output`, () => {
      const { exposition } = load(`ok.${kind}-exporter`);
      const entry = DATASTORE_SIGNALS[kind];
      const families: Family[] = [
        ...entry.up,
        ...entry.saturation.flatMap((r) => [...r.usage, ...r.limit]),
        ...entry.errors,
        ...entry.latency,
      ];
      const names = [...exposition.families.keys()];
      const absent = families
        .filter((f) => !f.onlyWhen && !names.some((n) => familyMatches(f.name, n)))
        .map((f) => f.name);
      expect(absent).toEqual([]);
    });
  }
});
