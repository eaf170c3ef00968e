// Do the datastores refuse a client that has no password? Each store is asked the way its own protocol starts, with
// no credentials and with a random wrong password, and what it answered is the verdict: Redis `PING` must get
// `-NOAUTH`, PostgreSQL and PgBouncer must ask for a password (not `trust`), MySQL/MariaDB must refuse an empty
// password, memcached must want its auth file's login. The passwords of the spec's URLs are never sent.
import { stat } from "node:fs/promises";
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import type { AuthAttempt, AuthProbeResult } from "../../engines/datastores/authAttempt.js";
import { probeMemcachedAuth } from "../../engines/datastores/memcachedAuth.js";
import { probeMysqlAuth } from "../../engines/datastores/mysqlAuth.js";
import { probePostgresAuth } from "../../engines/datastores/postgresAuth.js";
import { probeRedisAuth } from "../../engines/datastores/redisAuth.js";
import type { WireTarget } from "../../engines/datastores/wire.js";
import { type AddressScope, classifyAddress, readListeners } from "../../engines/net/listeners.js";
import type { Kind } from "../../spec/kinds.js";
import type { Service, Spec } from "../../spec/schema.js";

const TIMEOUT_MS = 5_000;
const KINDS: readonly Kind[] = ["redis", "postgres", "pgbouncer", "mysql", "memcached", "mongodb"];
const DEFAULT_PORTS: Partial<Record<Kind, number>> = {
  redis: 6379,
  postgres: 5432,
  pgbouncer: 5432,
  mysql: 3306,
  memcached: 11211,
  mongodb: 27017,
};

/** How to make each kind ask for credentials, for the remediation text. */
const FIXES: Partial<Record<Kind, string>> = {
  redis:
    "set `requirepass` (or ACL users without `nopass`, and `user default off`) and give the password to clients from the environment",
  postgres:
    "replace `trust` with `scram-sha-256` in pg_hba.conf for every host and local line, set passwords (`ALTER ROLE … PASSWORD`) and reload",
  pgbouncer:
    "set `auth_type = scram-sha-256` (or `hba`, or `auth_query`) instead of `trust`/`any` in pgbouncer.ini, with the users in `auth_file`",
  mysql:
    "give every account a password (`ALTER USER 'root'@'localhost' IDENTIFIED BY …`), drop anonymous accounts and never run with --skip-grant-tables",
  memcached:
    "start memcached with an auth file (`-Y /etc/memcached/auth`) or SASL (`-S`), and bind it to loopback or a private interface only",
  mongodb: "run mongod with `security.authorization: enabled` and create users",
};

export interface StoreAuthObservation {
  service: string;
  kind: Kind;
  /** The URL, redacted. */
  url?: string;
  /** Set when no probe ran: no url, no probe for this kind, or a URL the probe cannot use. */
  skipped?: { reason: "noUrl" | "noProbe" | "badUrl"; detail: string };
  result?: AuthProbeResult;
  /** Whether the URL's host is a loopback address or name. */
  loopbackHost?: boolean;
  /** memcached open: where its port listens on this machine (its only protection). */
  listeners?: { scopes: AddressScope[]; endpoints: string[]; complete: boolean; error?: string };
  evidence?: string;
}

export interface DatastoresRequireAuthObservation {
  stores: StoreAuthObservation[];
}

function stores(spec: Spec): [string, Service][] {
  return Object.entries(spec.services).filter(([, s]) => KINDS.includes(s.kind));
}

export default defineCheck<DatastoresRequireAuthObservation>({
  meta: {
    id: "datastoresRequireAuth",
    category: "security",
    risk: "critical",
    destructive: false,
    title: "Datastores refuse unauthenticated clients",
    objective:
      "Each Redis, PostgreSQL, PgBouncer, MySQL/MariaDB and memcached refuses a client that gives no password or a wrong one.",
    remediation: {
      effort: "medium",
      text: "Require authentication on {{service}} ({{accepted}}): {{fix}}. Then put the password in services.{{service}}.url from the environment, never in the spec.",
    },
    messages: {
      refusesUnauthenticated: "every attempt without a password or with a wrong one was refused",
      acceptsNoPassword: "the store let a client in that gave no password",
      acceptsWrongPassword: "the store let a client in with a random wrong password (or any user)",
      protectedModeOnly:
        "Redis has no password and only its protected mode refuses non-loopback clients; local ones get in",
      openOnLoopbackOnly:
        "memcached answers without credentials, but listens on loopback only: every process on the host can use it",
      openOverSocket:
        "the store lets in without a password over its unix socket: every local user who can open it",
      unreachable: "the store could not be reached, so whether it asks for a password is unknown",
      inconclusive: "the store's answer says neither that it let the client in nor that it refused it",
      noUrl: "the service has no url to probe",
      noProbe: "Gauntlet has no probe for this kind of datastore yet",
    },
    timeoutMs: 120_000,
  },

  applies(spec) {
    return stores(spec).length > 0
      ? true
      : notApplicable("no service of kind redis, postgres, pgbouncer, mysql, memcached or mongodb");
  },

  async observe(ctx) {
    const observation: DatastoresRequireAuthObservation = { stores: [] };
    for (const [, service] of stores(ctx.spec)) ctx.secrets.addFromUrl(service.url);
    for (const [name, service] of stores(ctx.spec)) {
      ctx.signal.throwIfAborted();
      const store: StoreAuthObservation = { service: name, kind: service.kind };
      if (!service.url) {
        store.skipped = { reason: "noUrl", detail: "no url" };
        observation.stores.push(store);
        continue;
      }
      store.url = ctx.secrets.redact(service.url);
      const parsed = parseStoreUrl(service.kind, service.url);
      if ("error" in parsed || service.kind === "mongodb") {
        store.skipped =
          "error" in parsed
            ? { reason: "badUrl", detail: parsed.error }
            : { reason: "noProbe", detail: "Gauntlet has no MongoDB client or wire probe yet" };
        observation.stores.push(store);
        continue;
      }
      store.loopbackHost = !parsed.target.socketPath && isLoopbackHost(parsed.target.host);
      const common = { timeoutMs: TIMEOUT_MS, signal: ctx.signal };
      ctx.log.debug(`${name}: unauthenticated ${service.kind} attempts on ${store.url}`);
      store.result =
        service.kind === "redis"
          ? await probeRedisAuth({ target: parsed.target, ...optionalUser(parsed.user), ...common })
          : service.kind === "mysql"
            ? await probeMysqlAuth({ target: parsed.target, users: parsed.users, ...common })
            : service.kind === "memcached"
              ? await probeMemcachedAuth({ target: parsed.target, ...common })
              : await probePostgresAuth({
                  target: parsed.target,
                  users: parsed.users,
                  database: parsed.database,
                  ...(parsed.sslmode ? { sslmode: parsed.sslmode } : {}),
                  pooler: service.kind === "pgbouncer",
                  ...common,
                });
      if (parsed.target.socketPath) {
        const info = await stat(parsed.target.socketPath).catch(() => undefined);
        if (info) store.result.details.socketMode = `${(info.mode & 0o777).toString(8)} (uid ${info.uid})`;
      }
      if (service.kind === "memcached" && store.result.attempts.some((a) => a.outcome === "accepted")) {
        store.listeners = await listenersOf(parsed.target.port);
      }
      store.evidence = await ctx.evidence.writeJson(`${name}-auth.json`, {
        service: name,
        kind: service.kind,
        url: store.url,
        ...store.result,
        ...(store.listeners ? { listeners: store.listeners } : {}),
      });
      // Added only once probed: a partial observation kept before a timeout must not hold a half-probed store.
      observation.stores.push(store);
      ctx.keepPartial(observation);
    }
    return observation;
  },

  judge(observation) {
    return observation.stores.map(judgeStore);
  },
});

function judgeStore(store: StoreAuthObservation): FindingInput {
  const name = store.service;
  const fix = FIXES[store.kind] ?? "require a password";
  const data: Record<string, unknown> = { service: name, kind: store.kind, fix };
  const unverified = (messageId: string, message: string, toVerify: string, extra = {}): FindingInput => ({
    status: "UNVERIFIED",
    messageId,
    subject: name,
    message,
    data: { ...data, ...extra },
    ...(store.evidence ? { evidence: [store.evidence] } : {}),
    toVerify,
  });
  const example = `${store.kind === "pgbouncer" ? "postgres" : store.kind}://user@host:${DEFAULT_PORTS[store.kind]}`;
  if (store.skipped?.reason === "noUrl" || (!store.result && !store.skipped)) {
    return unverified(
      "noUrl",
      `${name}: no url, so there is nothing to connect to`,
      `give services.${name}.url, e.g. ${example}`,
    );
  }
  if (store.skipped?.reason === "badUrl") {
    return unverified(
      "noUrl",
      `${name}: cannot probe ${store.url}: ${store.skipped.detail}`,
      `write services.${name}.url as ${example}`,
    );
  }
  if (store.skipped?.reason === "noProbe" || !store.result) {
    return unverified(
      "noProbe",
      `${name}: ${store.skipped?.detail ?? "no probe"}, so whether it refuses unauthenticated clients was not tested`,
      `check by hand that ${name} refuses a client without credentials (${fix}), then waive this finding with the reason`,
    );
  }
  const result = store.result;
  const evidence = store.evidence ? [store.evidence] : [];
  const where = `${result.address}${result.transport === "unix" ? " (unix socket)" : result.transport === "tls" ? " (TLS)" : ""}`;
  const tried = result.attempts.map((a) => `${a.attempt} → ${a.answer}`).join("; ");
  const base = {
    subject: name,
    evidence,
    data: { ...data, address: result.address, attempts: result.attempts },
  };
  const first = result.attempts[0];
  if (!first || first.outcome === "unreachable") {
    return unverified(
      "unreachable",
      `${name}: cannot connect to ${where}: ${first?.answer ?? "no attempt made"}`,
      `start ${name} or make ${result.address} reachable from this machine, then run again`,
      { address: result.address, code: first?.code },
    );
  }
  const accepted = result.attempts.filter((a) => a.outcome === "accepted");
  if (accepted.length > 0) return judgeAccepted(store, result, accepted, base, where);
  if (result.protocol === "redis" && /^-DENIED/.test(first.answer)) {
    return {
      ...base,
      status: "WARN",
      messageId: "protectedModeOnly",
      message: `${name} (${where}) has no password: protected mode refused this client (${first.answer}), but every loopback client gets in`,
      data: { ...base.data, accepted: "no password; protected mode only" },
    };
  }
  const unclear = result.attempts.filter((a) => a.outcome !== "refused");
  if (unclear.length > 0) {
    return unverified(
      "inconclusive",
      `${name} (${where}): ${unclear.map((a) => `${a.attempt} → ${a.answer}`).join("; ")}`,
      `make ${name} answer a plain connection (it may be starting, full, or behind a proxy that speaks another protocol), then run again`,
      { address: result.address, attempts: result.attempts },
    );
  }
  return {
    ...base,
    status: "PASS",
    messageId: "refusesUnauthenticated",
    message: `${name} (${where}) refuses unauthenticated clients: ${tried}`,
  };
}

function judgeAccepted(
  store: StoreAuthObservation,
  result: AuthProbeResult,
  accepted: AuthAttempt[],
  base: { subject: string; evidence: string[]; data: Record<string, unknown> },
  where: string,
): FindingInput {
  const name = store.service;
  const what = accepted.map((a) => `${a.attempt} → ${a.answer}`).join("; ");
  const details = describe(result);
  const message = `${name} (${where}) let in: ${what}${details ? ` [${details}]` : ""}`;
  const data = { ...base.data, accepted: what };
  if (store.kind === "memcached" && store.loopbackHost && store.listeners && !store.listeners.error) {
    const onlyLoopback =
      store.listeners.complete &&
      store.listeners.scopes.length > 0 &&
      store.listeners.scopes.every((s) => s === "loopback");
    if (onlyLoopback) {
      return {
        ...base,
        data,
        status: "WARN",
        messageId: "openOnLoopbackOnly",
        message: `${message}; it listens on loopback only (${store.listeners.endpoints.join(", ")}), so every process on this host can read and write it`,
      };
    }
  }
  if (store.kind === "memcached") {
    const beyond = store.listeners?.endpoints.length
      ? `it listens on ${store.listeners.endpoints.join(", ")}, beyond loopback`
      : store.loopbackHost
        ? `where it listens could not be told (${store.listeners?.error ?? "incomplete socket tables"})`
        : "it is on another host and reachable from this one";
    return {
      ...base,
      data,
      status: "FAIL",
      messageId: "acceptsNoPassword",
      message: `${message}; ${beyond}`,
    };
  }
  if (result.transport === "unix") {
    return {
      ...base,
      data,
      status: "WARN",
      messageId: "openOverSocket",
      message: `${message}; over the unix socket only, so every local user who can open it gets in`,
    };
  }
  const noPassword = accepted.some((a) => a.kind === "noCredentials");
  return {
    ...base,
    data,
    status: "FAIL",
    messageId: noPassword ? "acceptsNoPassword" : "acceptsWrongPassword",
    message,
  };
}

function describe(result: AuthProbeResult): string {
  const d = result.details;
  const parts = [
    d.trustRules ? `pg_hba.conf trust rules: ${d.trustRules}` : "",
    d.protectedMode ? `protected-mode ${d.protectedMode}` : "",
    d.socketMode ? `socket mode ${d.socketMode}` : "",
    d.version ? `version ${d.version}` : "",
  ];
  return parts.filter(Boolean).join("; ");
}

type ParsedStoreUrl =
  | { target: WireTarget; user?: string; users: string[]; database: string; sslmode?: string }
  | { error: string };

/** Where to connect and as whom, from a store's URL; its password is never read. */
export function parseStoreUrl(kind: Kind, url: string): ParsedStoreUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { error: "not a URL" };
  }
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const port = parsed.port ? Number(parsed.port) : (DEFAULT_PORTS[kind] ?? 0);
  const rawHost = decode(parsed.hostname).replace(/^\[|\]$/g, "");
  const hostParam = parsed.searchParams.get("host") ?? "";
  const user = decode(parsed.username) || undefined;
  const target: WireTarget = { host: rawHost, port };
  if (kind === "postgres" || kind === "pgbouncer") {
    // libpq: a host that is a path (percent-encoded, or ?host=/dir) is the folder of the socket .s.PGSQL.<port>.
    const socketDir = hostParam.startsWith("/") ? hostParam : rawHost.startsWith("/") ? rawHost : "";
    if (socketDir) target.socketPath = `${socketDir.replace(/\/+$/, "")}/.s.PGSQL.${port}`;
    else if (hostParam) target.host = hostParam;
    const first = user ?? "postgres";
    const sslmode = parsed.searchParams.get("sslmode") ?? undefined;
    return {
      target,
      users: unique([first, "postgres"]),
      database: decode(parsed.pathname.replace(/^\//, "")) || first,
      ...(sslmode ? { sslmode } : {}),
    };
  }
  if (!target.host) return { error: "the URL has no host" };
  if (kind === "redis" && parsed.protocol === "rediss:") target.tls = true;
  const users = kind === "mysql" ? unique([user ?? "root", "root"]) : user ? [user] : [];
  return { target, ...(user ? { user } : {}), users, database: "" };
}

function optionalUser(user: string | undefined): { user?: string } {
  return user ? { user } : {};
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  try {
    return classifyAddress(host) === "loopback";
  } catch {
    return false;
  }
}

async function listenersOf(port: number): Promise<NonNullable<StoreAuthObservation["listeners"]>> {
  try {
    const table = await readListeners();
    const matching = table.listeners.filter((l) => l.port === port);
    return {
      scopes: matching.map((l) => l.scope),
      endpoints: matching.map((l) =>
        l.family === "IPv6" ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`,
      ),
      complete: table.complete,
    };
  } catch (error) {
    return { scopes: [], endpoints: [], complete: false, error: (error as Error).message };
  }
}
