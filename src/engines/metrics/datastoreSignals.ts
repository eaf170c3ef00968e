// Which metric families mean what for each kind of datastore (DESIGN principle 9: judge a thing by its kind). A
// datastore is watched through its exporter, so the names are the exporters' own. Redis and PostgreSQL were read from
// a running redis_exporter and postgres_exporter (the integration test keeps them true); the other kinds come from
// their exporters' documentation and the awesome-prometheus-alerts rules written for them.
import type { Kind } from "../../spec/kinds.js";

export type DatastoreKind = Exclude<Kind, "http" | "other">;

/** What an exporter can tell about its store. `up` is the golden signal "down" seen from the other side. */
export type StoreSignal = "up" | "saturation" | "errors" | "latency";

export interface Family {
  /** A metric family name; a trailing `*` matches any name with that prefix (names set by an exporter's config). */
  name: string;
  means: string;
  /** When a verified exporter exports it only under some condition (a flag, a first event), which one. */
  onlyWhen?: string;
}

export interface UpFamily extends Family {
  /** value: a sample of 0 means the exporter cannot reach its store; presence: the store serves it itself. */
  how: "value" | "presence";
}

export interface ErrorFamily extends Family {
  /** An error of the exporter's own queries: alerts on it count, but it does not show the store's own failures. */
  aboutExporter?: boolean;
}

export interface Resource {
  resource: string;
  usage: Family[];
  /** Families that give the limit usage is measured against; empty when no exporter of this kind reports one. */
  limit: Family[];
}

export interface Exporter {
  name: string;
  project: string;
  /** verified: read from a running exporter on this project's test machine; documented: from its docs and rules. */
  source: "verified" | "documented";
  note: string;
}

export interface KindSignals {
  kind: DatastoreKind;
  /** Metric name prefixes of this kind's exporters: a metric named so is about a store of this kind. */
  prefixes: string[];
  exporters: Exporter[];
  up: UpFamily[];
  saturation: Resource[];
  errors: ErrorFamily[];
  latency: Family[];
  /** Signals required only when the exporter exposes one of their families, and why they are not always. */
  onlyWhenExposed: Partial<Record<"errors", string>>;
}

const f = (name: string, means: string, onlyWhen?: string): Family => ({
  name,
  means,
  ...(onlyWhen ? { onlyWhen } : {}),
});
const up = (name: string, how: UpFamily["how"], means: string): UpFamily => ({ name, how, means });

const REDIS: KindSignals = {
  kind: "redis",
  prefixes: ["redis_"],
  exporters: [
    {
      name: "redis_exporter",
      project: "oliver006/redis_exporter",
      source: "verified",
      note: "1.45.0 (Debian prometheus-redis-exporter) against redis-server 7.0.15",
    },
  ],
  up: [up("redis_up", "value", "the exporter reached Redis at its last scrape")],
  saturation: [
    {
      resource: "connections",
      usage: [
        f("redis_connected_clients", "client connections"),
        f("redis_blocked_clients", "clients blocked"),
      ],
      limit: [f("redis_config_maxclients", "maxclients")],
    },
    {
      resource: "memory",
      usage: [
        f("redis_memory_used_bytes", "memory used by the dataset and overhead"),
        f("redis_memory_used_rss_bytes", "resident memory"),
        f("redis_evicted_keys_total", "keys evicted because memory was full"),
      ],
      limit: [
        f("redis_memory_max_bytes", "maxmemory (0: no limit)"),
        f(
          "redis_total_system_memory_bytes",
          "the host's memory",
          "the exporter runs with --include-system-metrics",
        ),
      ],
    },
  ],
  errors: [
    f("redis_rejected_connections_total", "connections refused at maxclients"),
    f("redis_commands_failed_calls_total", "commands that failed, per command"),
    f("redis_commands_rejected_calls_total", "commands rejected (ACL, OOM, wrong arity), per command"),
    f("redis_errors_total", "error replies by error type", "Redis has sent an error reply"),
    f("redis_total_error_replies", "error replies"),
    { ...f("redis_exporter_last_scrape_error", "the exporter's last scrape failed"), aboutExporter: true },
  ],
  latency: [
    f("redis_latency_percentiles_usec", "per-command latency percentiles (Redis 7+)"),
    f("redis_commands_duration_seconds_total", "time spent per command"),
    f("redis_slowlog_length", "entries in the slow log"),
    f("redis_slowlog_last_id", "id of the newest slow-log entry"),
    f("redis_last_slow_execution_duration_seconds", "duration of the newest slow-log entry"),
    f(
      "redis_latency_spike_duration_seconds",
      "LATENCY LATEST spikes",
      "latency-monitor-threshold is set and a spike was recorded",
    ),
  ],
  onlyWhenExposed: {},
};

const POSTGRES: KindSignals = {
  kind: "postgres",
  prefixes: ["pg_", "postgres_exporter_"],
  exporters: [
    {
      name: "postgres_exporter",
      project: "prometheus-community/postgres_exporter",
      source: "verified",
      note: "0.11.1 (Debian prometheus-postgres-exporter) against PostgreSQL 15; pg_stat_statements_* from its collector docs",
    },
  ],
  up: [up("pg_up", "value", "the exporter connected to PostgreSQL at its last scrape")],
  saturation: [
    {
      resource: "connections",
      usage: [
        f("pg_stat_activity_count", "backends by database and state"),
        f("pg_stat_database_numbackends", "backends per database"),
      ],
      limit: [
        f("pg_settings_max_connections", "max_connections"),
        f("pg_settings_superuser_reserved_connections", "connections reserved for superusers"),
      ],
    },
    {
      resource: "locks",
      usage: [f("pg_locks_count", "locks held by mode")],
      limit: [f("pg_settings_max_locks_per_transaction", "max_locks_per_transaction")],
    },
  ],
  errors: [
    f("pg_stat_database_xact_rollback", "transactions rolled back"),
    f("pg_stat_database_deadlocks", "deadlocks detected"),
    f("pg_stat_database_conflicts", "queries cancelled by recovery conflicts"),
    f("pg_stat_database_sessions_abandoned", "sessions ended because the client went away (PostgreSQL 14+)"),
    f("pg_stat_database_sessions_fatal", "sessions ended by a fatal error (PostgreSQL 14+)"),
    f("pg_stat_database_sessions_killed", "sessions killed by an operator (PostgreSQL 14+)"),
    f("pg_stat_database_checksum_failures", "data page checksum failures"),
    f("pg_stat_archiver_failed_count", "failed WAL archive attempts"),
    {
      ...f("pg_exporter_last_scrape_error", "a query of the exporter against PostgreSQL failed"),
      aboutExporter: true,
    },
  ],
  latency: [
    f("pg_stat_activity_max_tx_duration", "the longest-running transaction, by database and state"),
    f(
      "pg_stat_statements_seconds_total",
      "time spent per statement",
      "the stat_statements collector is on (0.13+)",
    ),
    f("pg_stat_statements_total_time_seconds", "time spent per statement", "a queries.yaml query exports it"),
    f("pg_stat_statements_mean_time_seconds", "mean time per statement", "a queries.yaml query exports it"),
  ],
  onlyWhenExposed: {},
};

const PGBOUNCER: KindSignals = {
  kind: "pgbouncer",
  prefixes: ["pgbouncer_"],
  exporters: [
    {
      name: "pgbouncer_exporter",
      project: "prometheus-community/pgbouncer_exporter",
      source: "documented",
      note: "README metric table and collector source",
    },
    {
      name: "prometheus-pgbouncer-exporter",
      project: "spreaker/prometheus-pgbouncer-exporter",
      source: "documented",
      note: "README metric table; awesome-prometheus-alerts spreaker-pgbouncer-exporter.yml",
    },
  ],
  up: [up("pgbouncer_up", "value", "the exporter's SHOW queries against PgBouncer succeeded")],
  saturation: [
    {
      resource: "client connections",
      usage: [
        f("pgbouncer_pools_client_active_connections", "clients linked to a server connection"),
        f("pgbouncer_pools_client_waiting_connections", "clients waiting for a server connection"),
      ],
      limit: [f("pgbouncer_config_max_client_connections", "max_client_conn")],
    },
    {
      resource: "server connections",
      usage: [
        f("pgbouncer_pools_server_active_connections", "server connections linked to a client"),
        f("pgbouncer_databases_current_connections", "server connections per database"),
        f("pgbouncer_databases_database_current_connections", "server connections per database (spreaker)"),
      ],
      limit: [
        f("pgbouncer_databases_pool_size", "pool_size"),
        f("pgbouncer_databases_max_connections", "max_db_connections"),
        f("pgbouncer_databases_database_pool_size", "pool_size (spreaker)"),
      ],
    },
  ],
  errors: [
    f("pgbouncer_errors_count", "errors PgBouncer logged, by message (used by awesome-prometheus-alerts)"),
  ],
  latency: [
    f("pgbouncer_pools_client_maxwait_seconds", "how long the oldest waiting client has waited"),
    f("pgbouncer_stats_client_wait_seconds*", "time clients spent waiting for a server"),
    f("pgbouncer_stats_queries_duration_seconds*", "time spent executing queries"),
    f("pgbouncer_stats_queries_duration_microseconds", "time spent executing queries (spreaker)"),
  ],
  onlyWhenExposed: {
    errors:
      "PgBouncer's SHOW STATS and SHOW POOLS count no errors, so neither exporter's documented metrics has an error family",
  },
};

const MYSQL: KindSignals = {
  kind: "mysql",
  prefixes: ["mysql_"],
  exporters: [
    {
      name: "mysqld_exporter",
      project: "prometheus/mysqld_exporter",
      source: "documented",
      note: "collector/global_status.go and global_variables.go naming; awesome-prometheus-alerts mysqld-exporter.yml",
    },
  ],
  up: [up("mysql_up", "value", "the exporter connected to MySQL at its last scrape")],
  saturation: [
    {
      resource: "connections",
      usage: [
        f("mysql_global_status_threads_connected", "open connections"),
        f("mysql_global_status_threads_running", "threads running a statement"),
        f("mysql_global_status_max_used_connections", "most connections open at once"),
      ],
      limit: [f("mysql_global_variables_max_connections", "max_connections")],
    },
    {
      resource: "buffer pool",
      usage: [
        f("mysql_global_status_innodb_buffer_pool_bytes_data", "bytes of data in the buffer pool"),
        f("mysql_global_status_buffer_pool_pages", "buffer pool pages by state"),
      ],
      limit: [f("mysql_global_variables_innodb_buffer_pool_size", "innodb_buffer_pool_size")],
    },
    {
      resource: "open files",
      usage: [f("mysql_global_status_innodb_num_open_files", "files InnoDB holds open")],
      limit: [f("mysql_global_variables_open_files_limit", "open_files_limit")],
    },
  ],
  errors: [
    f("mysql_global_status_aborted_connects", "failed connection attempts"),
    f("mysql_global_status_aborted_clients", "connections dropped without a proper close"),
    f(
      "mysql_global_status_connection_errors_total",
      "connection errors by cause (max_connections, accept, …)",
    ),
  ],
  latency: [
    f("mysql_global_status_slow_queries", "queries slower than long_query_time"),
    f(
      "mysql_perf_schema_events_statements_seconds_total",
      "statement time by digest (perf_schema collector)",
    ),
    f("mysql_info_schema_query_response_time_seconds", "query response time histogram (Percona Server)"),
  ],
  onlyWhenExposed: {},
};

const MONGODB: KindSignals = {
  kind: "mongodb",
  prefixes: ["mongodb_"],
  exporters: [
    {
      name: "mongodb_exporter",
      project: "percona/mongodb_exporter",
      source: "documented",
      note: "v0.30+ names (mongodb_ss_*) and compatible-mode names; awesome-prometheus-alerts percona-mongodb-exporter.yml",
    },
  ],
  up: [up("mongodb_up", "value", "the exporter connected to MongoDB at its last scrape")],
  saturation: [
    {
      resource: "connections",
      usage: [
        f("mongodb_ss_connections", "connections by conn_type (current, available)"),
        f("mongodb_connections", "connections by state (compatible mode)"),
      ],
      limit: [
        f("mongodb_ss_connections", 'conn_type="available": connections left'),
        f("mongodb_connections", 'state="available" (compatible mode)'),
      ],
    },
    {
      resource: "cache memory",
      usage: [
        f("mongodb_ss_wt_cache_bytes_currently_in_the_cache", "WiredTiger cache in use"),
        f("mongodb_ss_mem_resident", "resident memory (MiB)"),
      ],
      limit: [f("mongodb_ss_wt_cache_maximum_bytes_configured", "WiredTiger cache size")],
    },
  ],
  errors: [
    f("mongodb_ss_asserts", "asserts by type (regular, msg, user, rollovers)"),
    f("mongodb_asserts_total", "asserts by type (compatible mode)"),
    f("mongodb_ss_metrics_cursor_timedOut", "cursors that timed out"),
  ],
  latency: [
    f("mongodb_ss_opLatencies_latency", "cumulative operation latency by op_type (µs)"),
    f("mongodb_mongod_op_latencies_latency_total", "cumulative operation latency (compatible mode)"),
  ],
  onlyWhenExposed: {},
};

const MEMCACHED: KindSignals = {
  kind: "memcached",
  prefixes: ["memcached_"],
  exporters: [
    {
      name: "memcached_exporter",
      project: "prometheus/memcached_exporter",
      source: "documented",
      note: "awesome-prometheus-alerts memcached-exporter.yml",
    },
  ],
  up: [up("memcached_up", "value", "the exporter reached memcached at its last scrape")],
  saturation: [
    {
      resource: "connections",
      usage: [f("memcached_current_connections", "open connections")],
      limit: [f("memcached_max_connections", "maxconns")],
    },
    {
      resource: "memory",
      usage: [
        f("memcached_current_bytes", "bytes stored"),
        f("memcached_items_evicted_total", "items evicted to make room"),
      ],
      limit: [f("memcached_limit_bytes", "the memory limit (-m)")],
    },
  ],
  errors: [
    f("memcached_connections_rejected_total", "connections refused at maxconns"),
    f("memcached_connections_listener_disabled_total", "times the listener stopped accepting at maxconns"),
    f("memcached_slab_items_outofmemory_total", "stores refused for lack of memory"),
    f("memcached_item_too_large_total", "stores refused because the item was too large"),
  ],
  latency: [],
  onlyWhenExposed: {},
};

const RABBITMQ: KindSignals = {
  kind: "rabbitmq",
  prefixes: ["rabbitmq_"],
  exporters: [
    {
      name: "rabbitmq_prometheus",
      project: "rabbitmq/rabbitmq-server (built-in plugin)",
      source: "documented",
      note: "awesome-prometheus-alerts rabbitmq-exporter.yml",
    },
    {
      name: "rabbitmq_exporter",
      project: "kbudde/rabbitmq_exporter",
      source: "documented",
      note: "awesome-prometheus-alerts kbudde-rabbitmq-exporter.yml",
    },
  ],
  up: [
    up("rabbitmq_up", "value", "the exporter reached the management API (kbudde)"),
    up("rabbitmq_build_info", "presence", "served by the broker itself (built-in plugin)"),
    up("rabbitmq_identity_info", "presence", "served by the broker itself (built-in plugin)"),
  ],
  saturation: [
    {
      resource: "memory",
      usage: [
        f("rabbitmq_process_resident_memory_bytes", "broker memory (built-in plugin)"),
        f("rabbitmq_node_mem_used", "broker memory (kbudde)"),
      ],
      limit: [
        f("rabbitmq_resident_memory_limit_bytes", "the memory high watermark (built-in plugin)"),
        f("rabbitmq_node_mem_limit", "the memory high watermark (kbudde)"),
      ],
    },
    {
      resource: "file descriptors",
      usage: [f("rabbitmq_process_open_fds", "open file descriptors"), f("rabbitmq_fd_used", "(kbudde)")],
      limit: [f("rabbitmq_process_max_fds", "the descriptor limit"), f("rabbitmq_fd_available", "(kbudde)")],
    },
    {
      resource: "queue backlog",
      usage: [
        f("rabbitmq_queue_messages_ready", "messages waiting for a consumer"),
        f("rabbitmq_queue_messages_unacked", "messages delivered but not acknowledged"),
        f("rabbitmq_connections", "open connections"),
      ],
      limit: [],
    },
  ],
  errors: [
    f("rabbitmq_channel_messages_unroutable_dropped_total", "messages dropped as unroutable"),
    f("rabbitmq_channel_messages_unroutable_returned_total", "messages returned as unroutable"),
    f("rabbitmq_partitions", "network partitions seen by the node (kbudde)"),
  ],
  latency: [],
  onlyWhenExposed: {},
};

const KAFKA: KindSignals = {
  kind: "kafka",
  prefixes: ["kafka_"],
  exporters: [
    {
      name: "kafka_exporter",
      project: "danielqsj/kafka_exporter",
      source: "documented",
      note: "README metric tables; awesome-prometheus-alerts danielqsj-kafka-exporter.yml",
    },
    {
      name: "jmx_exporter",
      project: "prometheus/jmx_exporter (Kafka broker config)",
      source: "documented",
      note: "names depend on the exporter's rules; the lower-cased kafka_server_<type>_<name> pattern is matched",
    },
  ],
  up: [up("kafka_brokers", "value", "brokers the exporter sees in the cluster (0: none reachable)")],
  saturation: [
    {
      resource: "consumer lag",
      usage: [
        f("kafka_consumergroup_lag", "messages a consumer group is behind, per partition"),
        f("kafka_consumergroup_lag_sum", "messages a consumer group is behind, per topic"),
      ],
      limit: [],
    },
  ],
  errors: [
    f("kafka_topic_partition_under_replicated_partition", "1 when a partition is under-replicated"),
    f("kafka_topic_partition_in_sync_replica", "in-sync replicas per partition (fewer: replicas failing)"),
    f("kafka_server_replicamanager_underreplicatedpartitions", "under-replicated partitions (JMX)"),
    f("kafka_controller_kafkacontroller_offlinepartitionscount", "partitions without a leader (JMX)"),
    f("kafka_server_brokertopicmetrics_failed*", "failed produce and fetch requests (JMX)"),
  ],
  latency: [f("kafka_network_requestmetrics_totaltimems*", "request time by request type (JMX)")],
  onlyWhenExposed: {},
};

export const DATASTORE_SIGNALS: Readonly<Record<DatastoreKind, KindSignals>> = {
  postgres: POSTGRES,
  pgbouncer: PGBOUNCER,
  redis: REDIS,
  mysql: MYSQL,
  mongodb: MONGODB,
  memcached: MEMCACHED,
  kafka: KAFKA,
  rabbitmq: RABBITMQ,
};

export function isDatastoreSignalKind(kind: Kind): kind is DatastoreKind {
  return Object.hasOwn(DATASTORE_SIGNALS, kind);
}

/**
 * Does a family or series name (from an exposition or a PromQL selector) match a catalogue entry? A counter's `_total`
 * and a histogram's `_bucket`/`_sum`/`_count` are ignored on both sides: OpenMetrics names a counter's family without
 * `_total`, the text format and PromQL with it.
 */
export function familyMatches(entry: string, name: string): boolean {
  const names = withoutSuffixes(name);
  if (entry.endsWith("*")) return names.some((n) => n.startsWith(entry.slice(0, -1)));
  const entries = withoutSuffixes(entry);
  return names.some((n) => entries.includes(n));
}

/** The datastore kind a metric name belongs to by its exporter's prefix (pgbouncer_ is not pg_). */
export function datastoreKindOfMetric(metric: string): DatastoreKind | undefined {
  let best: { kind: DatastoreKind; length: number } | undefined;
  for (const entry of Object.values(DATASTORE_SIGNALS)) {
    for (const prefix of entry.prefixes) {
      if (metric.startsWith(prefix) && prefix.length > (best?.length ?? 0))
        best = { kind: entry.kind, length: prefix.length };
    }
  }
  return best?.kind;
}

export interface MetricMeaning {
  signal: StoreSignal;
  /** For saturation: whether the metric is a usage or the limit it is measured against. */
  role?: "usage" | "limit";
  resource?: string;
  means: string;
}

/** What a metric of a datastore kind means, from the catalogue; undefined when it is none of the signals. */
export function meaningOfMetric(kind: DatastoreKind, metric: string): MetricMeaning[] {
  const entry = DATASTORE_SIGNALS[kind];
  const hit = (family: Family) => familyMatches(family.name, metric);
  const meanings: MetricMeaning[] = [];
  for (const family of entry.up.filter(hit)) meanings.push({ signal: "up", means: family.means });
  for (const resource of entry.saturation) {
    for (const family of resource.usage.filter(hit))
      meanings.push({
        signal: "saturation",
        role: "usage",
        resource: resource.resource,
        means: family.means,
      });
    for (const family of resource.limit.filter(hit))
      meanings.push({
        signal: "saturation",
        role: "limit",
        resource: resource.resource,
        means: family.means,
      });
  }
  for (const family of entry.errors.filter(hit)) meanings.push({ signal: "errors", means: family.means });
  for (const family of entry.latency.filter(hit)) meanings.push({ signal: "latency", means: family.means });
  return meanings;
}

/** A name and the family names it may stand for (x_bucket, x_sum, x_count → x; x_total → x). */
function withoutSuffixes(name: string): string[] {
  const names = [name];
  for (const suffix of ["_bucket", "_sum", "_count", "_total", "_created"]) {
    if (name.endsWith(suffix)) names.push(name.slice(0, -suffix.length));
  }
  return names;
}
