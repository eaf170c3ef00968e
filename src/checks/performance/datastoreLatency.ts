// Do the datastores answer quickly? A Redis PING or PostgreSQL `SELECT 1` round trip measures the network and the
// server's responsiveness without touching data; a slow p95 here is added to every request that uses the store.
import { redactor } from "../../core/redact.js";
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { type DatastoreKind, probeDatastoreLatency } from "../../engines/datastores/latency.js";
import type { Service } from "../../spec/schema.js";

const SAMPLES = 200;
/** p95 above these: WARN, then FAIL. A loopback or same-zone store answers a no-op in well under a millisecond. */
const WARN_P95_MS = 20;
const FAIL_P95_MS = 100;

export default defineCheck({
  meta: {
    id: "datastoreLatency",
    category: "performance",
    risk: "medium",
    destructive: false,
    title: "Datastores answer quickly",
    objective: `Each Redis and PostgreSQL service accepts a connection and answers a no-op command with p95 under ${WARN_P95_MS} ms.`,
    remediation: {
      effort: "medium",
      text: "Bring {{service}} closer to its clients or relieve it ({{failure}}): check its host's CPU and I/O, network hops between the app and the store, connection limits and slow-query or slowlog output.",
    },
    timeoutMs: 60_000,
  },

  applies(spec) {
    const stores = Object.values(spec.services).some((s) => s.kind === "redis" || s.kind === "postgres");
    return stores ? true : notApplicable("no service of kind redis or postgres");
  },

  async run(ctx) {
    const stores = Object.entries(ctx.spec.services).filter(
      ([, s]) => s.kind === "redis" || s.kind === "postgres",
    );
    const findings: FindingInput[] = [];
    for (const [name, service] of stores) findings.push(await probe(ctx, name, service));
    return findings;
  },
});

async function probe(ctx: CheckContext, name: string, service: Service): Promise<FindingInput> {
  const kind = service.kind as DatastoreKind;
  if (!service.url) {
    return {
      status: "UNVERIFIED",
      subject: name,
      message: `${name}: no url to connect to`,
      data: { service: name },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the hint shows the ${…} syntax itself.
      toVerify: `give services.${name}.url, e.g. ${kind === "redis" ? "redis://127.0.0.1:6379" : "postgres://user:${DB_PASSWORD}@127.0.0.1:5432/db"}`,
    };
  }
  redactor.addFromUrl(service.url);
  ctx.log.debug(`${name}: ${SAMPLES} × ${kind === "redis" ? "PING" : "SELECT 1"}`);
  const result = await probeDatastoreLatency({
    kind,
    url: service.url,
    samples: SAMPLES,
    signal: ctx.signal,
  });
  const evidence = await ctx.evidence.writeJson(`${name}-latency.json`, { service: name, kind, ...result });
  const data: Record<string, unknown> = { service: name, kind };
  if (!result.ok) {
    const failure = `${result.stage === "connect" ? "cannot connect" : `${result.command} failed`}: ${result.error}`;
    return {
      status: "FAIL",
      subject: name,
      message: `${name}: ${failure}`,
      data: { ...data, failure, code: result.code },
      evidence: [evidence],
    };
  }
  const l = result.latency;
  const figures = `${result.command} p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms over ${result.samples} samples (connect ${result.connectMs} ms)`;
  const measurements = [
    { name: `${name} p95`, value: l.p95, unit: "ms", evidence },
    { name: `${name} p99`, value: l.p99, unit: "ms", evidence },
    { name: `${name} connect`, value: result.connectMs, unit: "ms", evidence },
  ];
  const base = { subject: name, evidence: [evidence], measurements };
  if (result.failures > 0) {
    const failure = `${result.failures} of ${result.failures + result.samples} commands failed`;
    return {
      ...base,
      status: "FAIL",
      message: `${name}: ${failure}; ${figures}`,
      data: { ...data, failure },
    };
  }
  if (l.p95 > FAIL_P95_MS) {
    const failure = `p95 ${l.p95} ms > ${FAIL_P95_MS} ms`;
    return {
      ...base,
      status: "FAIL",
      message: `${name}: ${failure}; ${figures}`,
      data: { ...data, failure },
    };
  }
  if (l.p95 > WARN_P95_MS) {
    const failure = `p95 ${l.p95} ms > ${WARN_P95_MS} ms`;
    return {
      ...base,
      status: "WARN",
      message: `${name}: ${failure}; ${figures}`,
      data: { ...data, failure },
    };
  }
  return { ...base, status: "PASS", message: `${name}: ${figures}`, data: { ...data, failure: "" } };
}
