// Are internal services (databases, caches, admin ports) out of reach? On this machine the kernel's socket table says
// which addresses a port listens on; for another host, the only honest test is to try connecting from here.

import { lookup } from "node:dns/promises";
import os from "node:os";
import {
  type CheckContext,
  defineCheck,
  type FindingInput,
  type Measurement,
  notApplicable,
} from "../../core/types.js";
import { DEFAULT_PORTS, parseTarget } from "../../engines/net/endpoint.js";
import {
  type ConnectResult,
  canConnect,
  classifyAddress,
  type Listener,
  type ListenerTable,
  normalizeAddress,
  readListeners,
} from "../../engines/net/listeners.js";

const CONNECT_TIMEOUT_MS = 2_000;

export interface HostIdentity {
  local: boolean;
  /** Addresses the host name resolved to (the host itself when it is an IP). */
  addresses: string[];
  /** Set when the name could not be resolved. */
  error?: string;
}

/** What the check needs from the machine; tests replace parts of it to stand in for a second host. */
export interface HostProbes {
  identify(host: string): Promise<HostIdentity>;
  readListeners(): Promise<ListenerTable>;
  canConnect(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ConnectResult>;
  hostname(): string;
  localAddresses(): string[];
}

export const systemProbes: HostProbes = {
  identify: identifyHost,
  readListeners: () => readListeners(),
  canConnect,
  hostname: () => os.hostname(),
  localAddresses,
};

export default defineCheck({
  meta: {
    id: "internalServicesNotExposed",
    category: "security",
    risk: "critical",
    destructive: false,
    title: "Internal services are not exposed",
    objective:
      "Services marked exposure: internal listen only on loopback here, and are not reachable from this machine when on another host.",
    remediation: {
      effort: "low",
      text: "Bind {{service}} to 127.0.0.1 (or a private interface) instead of 0.0.0.0/::, or block its port with a firewall or security group so that only its clients can reach it.",
    },
    timeoutMs: 30_000,
  },

  applies(spec) {
    const internal = Object.values(spec.services).some((s) => s.exposure === "internal");
    return internal ? true : notApplicable("no service is marked exposure: internal");
  },

  run: (ctx) => inspectInternalServices(ctx, systemProbes),
});

export async function inspectInternalServices(
  ctx: CheckContext,
  probes: HostProbes,
): Promise<FindingInput[]> {
  const internal = Object.entries(ctx.spec.services).filter(([, s]) => s.exposure === "internal");
  for (const [, service] of internal) ctx.secrets.addFromUrl(service.url);
  let table: ListenerTable | Error | undefined;
  const listenerTable = async () => {
    table ??= await probes.readListeners().catch((error: unknown) => asError(error));
    return table;
  };

  const findings: FindingInput[] = [];
  for (const [name, service] of internal) {
    ctx.signal.throwIfAborted();
    if (!service.url) {
      findings.push({
        status: "UNVERIFIED",
        subject: name,
        message: `${name} is internal but has no url, so there is no address to test`,
        data: { service: name },
        toVerify: `give services.${name}.url (e.g. ${service.kind}://127.0.0.1:${DEFAULT_PORTS[service.kind] ?? 8080})`,
      });
      continue;
    }
    const target = parseTarget(service.url);
    if (!target) {
      findings.push({
        status: "UNVERIFIED",
        subject: name,
        message: `${name}: cannot tell the port of ${service.url}`,
        data: { service: name, url: service.url },
        toVerify: `write the port in services.${name}.url, e.g. ${service.url.replace(/\/*$/, "")}:PORT`,
      });
      continue;
    }
    const identity = await probes.identify(target.host);
    const base = {
      service: name,
      url: service.url,
      host: target.host,
      port: target.port,
      portFrom: target.portFrom,
    };
    if (identity.error) {
      const evidence = await ctx.evidence.writeJson(`${name}-exposure.json`, { ...base, identity });
      findings.push({
        status: "UNVERIFIED",
        subject: name,
        message: `${name}: host ${target.host} does not resolve from ${probes.hostname()} (${identity.error})`,
        data: { service: name, host: target.host, port: target.port },
        evidence: [evidence],
        toVerify: `run gauntlet where ${target.host} resolves, or write its address in services.${name}.url`,
      });
      continue;
    }
    if (identity.local) {
      findings.push(await judgeLocal(ctx, name, base, identity, await listenerTable(), probes));
    } else {
      findings.push(await judgeRemote(ctx, name, base, identity, probes));
    }
  }
  return findings;
}

interface TargetBase {
  service: string;
  url: string;
  host: string;
  port: number;
  portFrom: "url" | "scheme default";
}

async function judgeLocal(
  ctx: CheckContext,
  name: string,
  base: TargetBase,
  identity: HostIdentity,
  table: ListenerTable | Error,
  probes: HostProbes,
): Promise<FindingInput> {
  const { port } = base;
  const data: Record<string, unknown> = { service: name, host: base.host, port };
  if (table instanceof Error) {
    const evidence = await ctx.evidence.writeJson(`${name}-exposure.json`, {
      ...base,
      hostIsLocal: true,
      error: table.message,
    });
    return {
      status: "UNVERIFIED",
      subject: name,
      message: `${name}: cannot read the socket tables: ${table.message}`,
      data,
      evidence: [evidence],
      toVerify: "run gauntlet on Linux with /proc mounted, in the network namespace of the service",
    };
  }
  const matching = table.listeners.filter((l) => l.port === port);
  // DESIGN: internal = not reachable beyond loopback or the private network. Every interface or a public address
  // fails; a private address is reachable by the whole private network, which deserves a warning, not a pass.
  const exposed = matching.filter((l) => l.scope === "wildcard" || l.scope === "public");
  const privateOnly = matching.filter((l) => l.scope === "private");
  const evidence = await ctx.evidence.writeJson(`${name}-exposure.json`, {
    ...base,
    hostIsLocal: true,
    hostAddresses: identity.addresses,
    machine: { hostname: probes.hostname(), addresses: probes.localAddresses() },
    sources: table.sources,
    listeners: matching.map(describeListener),
    procLines: matching.map((l) => l.line),
  });
  const measurements: Measurement[] = [
    { name: "listeners", value: matching.length, unit: "sockets", evidence },
    { name: "exposedListeners", value: exposed.length, unit: "sockets", evidence },
  ];
  const common = { subject: name, evidence: [evidence], measurements };

  if (exposed.length > 0) {
    const where = exposed.map(endpoint);
    return {
      ...common,
      status: "FAIL",
      message: `${name} is internal but listens on ${where.join(", ")} (every interface or a public address)`,
      data: { ...data, exposed: where },
    };
  }
  if (privateOnly.length > 0) {
    const where = privateOnly.map(endpoint);
    return {
      ...common,
      status: "WARN",
      message: `${name} is internal and listens on the private address ${where.join(", ")}: reachable from the whole private network`,
      data: { ...data, exposed: where },
    };
  }
  if (!table.complete) {
    const unread = table.sources.filter((s) => !s.read).map((s) => `${s.path} (${s.error})`);
    return {
      ...common,
      status: "UNVERIFIED",
      message: `${name}: could not read ${unread.join(", ")}, so a listener on port ${port} may be missing`,
      data,
      toVerify: "run gauntlet with read access to /proc/net/tcp and /proc/net/tcp6",
    };
  }
  if (matching.length === 0) {
    return {
      ...common,
      status: "UNVERIFIED",
      message: `${name}: service not listening on port ${port}, so its exposure cannot be told`,
      data,
      toVerify: `start ${name} so that it listens on port ${port} (services.${name}.url), then run again`,
    };
  }
  return {
    ...common,
    status: "PASS",
    message: `${name} listens on port ${port} on loopback only (${matching.map(endpoint).join(", ")})`,
    data: { ...data, listening: matching.map(endpoint) },
  };
}

async function judgeRemote(
  ctx: CheckContext,
  name: string,
  base: TargetBase,
  identity: HostIdentity,
  probes: HostProbes,
): Promise<FindingInput> {
  const from = probes.hostname();
  const attempt = await probes.canConnect(base.host, base.port, CONNECT_TIMEOUT_MS, ctx.signal);
  const evidence = await ctx.evidence.writeJson(`${name}-exposure.json`, {
    ...base,
    hostIsLocal: false,
    hostAddresses: identity.addresses,
    from: { hostname: from, addresses: probes.localAddresses() },
    connect: { ...attempt, latencyMs: Math.round(attempt.latencyMs * 10) / 10 },
  });
  const data = { service: name, host: base.host, port: base.port, from, outcome: attempt.outcome };
  const measurements: Measurement[] = [
    { name: "connectTime", value: Math.round(attempt.latencyMs * 10) / 10, unit: "ms", evidence },
  ];
  const common = { subject: name, data, evidence: [evidence], measurements };
  const target = `${base.host}:${base.port}`;
  switch (attempt.outcome) {
    case "connected":
      return {
        ...common,
        status: "FAIL",
        message: `${name} (${target}) is internal but reachable from ${from}`,
      };
    case "refused":
    case "timeout":
    case "unreachable":
      return {
        ...common,
        status: "PASS",
        message: `${name} (${target}) is not reachable from ${from} (${attempt.outcome})`,
      };
    default:
      return {
        ...common,
        status: "UNVERIFIED",
        message: `${name}: connecting to ${target} from ${from} ended with ${attempt.code ?? attempt.outcome}`,
        toVerify: `make ${target} resolvable and routable from this machine, or run gauntlet from a machine outside ${name}'s network`,
      };
  }
}

/** Whether a URL host is this machine: loopback, localhost, or an address of one of its interfaces. */
async function identifyHost(host: string): Promise<HostIdentity> {
  const own = new Set(localAddresses());
  const isOwn = (address: string) => {
    const scope = classifyAddress(address);
    return scope === "loopback" || scope === "wildcard" || own.has(normalizeAddress(address) ?? address);
  };
  if (normalizeAddress(host)) return { local: isOwn(host), addresses: [host] };
  const name = host.toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost"))
    return { local: true, addresses: ["127.0.0.1", "::1"] };
  try {
    const addresses = (await lookup(host, { all: true })).map((a) => a.address);
    return { local: addresses.some(isOwn), addresses };
  } catch (error) {
    return {
      local: false,
      addresses: [],
      error: (error as NodeJS.ErrnoException).code ?? asError(error).message,
    };
  }
}

function localAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i !== undefined)
    .map((i) => normalizeAddress(i.address) ?? i.address);
}

function endpoint(l: Pick<Listener, "address" | "family" | "port">): string {
  return l.family === "IPv6" ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`;
}

function describeListener(l: Listener) {
  return {
    endpoint: endpoint(l),
    family: l.family,
    address: l.address,
    scope: l.scope,
    inode: l.inode,
    uid: l.uid,
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export { DEFAULT_PORTS, parseTarget };
