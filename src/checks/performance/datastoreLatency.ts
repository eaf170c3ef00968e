// Do the datastores answer quickly? A Redis PING or PostgreSQL `SELECT 1` round trip measures the network and the
// server's responsiveness without touching data; a slow p95 here is added to every request that uses the store.
// A store that refuses Gauntlet's credentials is not slow or down: it is UNVERIFIED until the spec's URL can log in.
import { defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { type LatencyProbeResult, probeDatastoreLatency } from "../../engines/datastores/latency.js";
import { protocolOf } from "../../spec/kinds.js";
import type { Service, Spec } from "../../spec/schema.js";

const SAMPLES = 200;
/** p95 above these: WARN, then FAIL. A loopback or same-zone store answers a no-op in well under a millisecond. */
const WARN_P95_MS = 20;
const FAIL_P95_MS = 100;

export interface StoreObservation {
  service: string;
  kind: Service["kind"];
  protocol: "redis" | "postgres";
  hasUrl: boolean;
  /** Evidence file with the probe's result; absent when nothing was probed. */
  evidence?: string;
  result?: LatencyProbeResult;
}

export interface DatastoreLatencyObservation {
  stores: StoreObservation[];
}

function stores(spec: Spec): [string, Service, "redis" | "postgres"][] {
  return Object.entries(spec.services).flatMap(([name, service]) => {
    const protocol = protocolOf(service.kind);
    return protocol ? [[name, service, protocol] as [string, Service, "redis" | "postgres"]] : [];
  });
}

export default defineCheck<DatastoreLatencyObservation>({
  meta: {
    id: "datastoreLatency",
    category: "performance",
    risk: "medium",
    destructive: false,
    title: "Datastores answer quickly",
    objective: `Each Redis, PostgreSQL and PgBouncer service accepts a connection and answers a no-op command with p95 under ${WARN_P95_MS} ms.`,
    remediation: {
      effort: "medium",
      text: "Bring {{service}} closer to its clients or relieve it ({{failure}}): check its host's CPU and I/O, network hops between the app and the store, connection limits and slow-query or slowlog output.",
    },
    messages: {
      fast: "the store answered every no-op command with p95 under the warning limit",
      slow: "p95 of the no-op command is over the failure limit",
      slowish: "p95 of the no-op command is over the warning limit",
      commandsFailed: "some no-op commands failed",
      cannotConnect: "the store refused or dropped the connection, or did not answer in time",
      passwordMissing: "the store requires a password the spec's URL does not give",
      credentialsRejected: "the store rejected the credentials in the spec's URL",
      noUrl: "the service has no url to connect to",
    },
    timeoutMs: 60_000,
  },

  applies(spec) {
    return stores(spec).length > 0 ? true : notApplicable("no service of kind redis, postgres or pgbouncer");
  },

  async observe(ctx) {
    const observation: DatastoreLatencyObservation = { stores: [] };
    for (const [name, service, protocol] of stores(ctx.spec)) {
      const store: StoreObservation = {
        service: name,
        kind: service.kind,
        protocol,
        hasUrl: Boolean(service.url),
      };
      observation.stores.push(store);
      if (!service.url) continue;
      ctx.secrets.addFromUrl(service.url);
      ctx.log.debug(`${name}: ${SAMPLES} × ${protocol === "redis" ? "PING" : "SELECT 1"}`);
      store.result = await probeDatastoreLatency({
        kind: protocol,
        url: service.url,
        samples: SAMPLES,
        signal: ctx.signal,
      });
      store.evidence = await ctx.evidence.writeJson(`${name}-latency.json`, {
        service: name,
        kind: service.kind,
        ...store.result,
      });
      ctx.keepPartial(observation);
    }
    return observation;
  },

  judge(observation) {
    return observation.stores.map(judgeStore);
  },
});

function judgeStore(store: StoreObservation): FindingInput {
  const name = store.service;
  const data: Record<string, unknown> = { service: name, kind: store.kind };
  const result = store.result;
  if (!store.hasUrl || !result || !store.evidence) {
    return {
      status: "UNVERIFIED",
      messageId: "noUrl",
      subject: name,
      message: `${name}: no url to connect to`,
      data,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the hint shows the ${…} syntax itself.
      toVerify: `give services.${name}.url, e.g. ${store.protocol === "redis" ? "redis://127.0.0.1:6379" : "postgres://user:${DB_PASSWORD}@127.0.0.1:5432/db"}`,
    };
  }
  const evidence = [store.evidence];
  if (!result.ok) {
    if (result.auth) {
      const missing = result.auth === "missing";
      return {
        status: "UNVERIFIED",
        messageId: missing ? "passwordMissing" : "credentialsRejected",
        subject: name,
        message: `${name}: ${missing ? "requires a password that services." + name + ".url does not give" : "rejected the credentials in services." + name + ".url"} (${result.error})`,
        data: { ...data, code: result.code },
        evidence,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the hint shows the ${…} syntax itself.
        toVerify: `put the password in services.${name}.url from the environment, e.g. ${store.protocol === "redis" ? "redis://:${REDIS_PASSWORD}@host:6379" : "postgres://app:${DB_PASSWORD}@host:5432/app"}`,
      };
    }
    const failure = `${result.stage === "connect" ? "cannot connect" : `${result.command} failed`}: ${result.error}`;
    return {
      status: "FAIL",
      messageId: result.stage === "connect" ? "cannotConnect" : "commandsFailed",
      subject: name,
      message: `${name}: ${failure}`,
      data: { ...data, failure, code: result.code },
      evidence,
    };
  }
  const l = result.latency;
  const figures = `${result.command} p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms over ${result.samples} samples (connect ${result.connectMs} ms)`;
  const measurements = [
    { name: `${name} p95`, value: l.p95, unit: "ms", evidence: store.evidence },
    { name: `${name} p99`, value: l.p99, unit: "ms", evidence: store.evidence },
    { name: `${name} connect`, value: result.connectMs, unit: "ms", evidence: store.evidence },
  ];
  const base = { subject: name, evidence, measurements };
  const verdict = (status: "FAIL" | "WARN", messageId: string, failure: string): FindingInput => ({
    ...base,
    status,
    messageId,
    message: `${name}: ${failure}; ${figures}`,
    data: { ...data, failure },
  });
  if (result.failures > 0) {
    return verdict(
      "FAIL",
      "commandsFailed",
      `${result.failures} of ${result.failures + result.samples} commands failed`,
    );
  }
  if (l.p95 > FAIL_P95_MS) return verdict("FAIL", "slow", `p95 ${l.p95} ms > ${FAIL_P95_MS} ms`);
  if (l.p95 > WARN_P95_MS) return verdict("WARN", "slowish", `p95 ${l.p95} ms > ${WARN_P95_MS} ms`);
  return {
    ...base,
    status: "PASS",
    messageId: "fast",
    message: `${name}: ${figures}`,
    data: { ...data, failure: "" },
  };
}
