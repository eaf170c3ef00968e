// Are internal services (databases, caches, admin ports) out of reach? On this machine the kernel's socket table says
// which addresses a port listens on; for another host, the only honest test is to try connecting from here. A compose
// file that publishes a datastore's port on every interface is judged too (from the file: the socket table shows it
// only once that stack runs here).

import { lookup } from "node:dns/promises";
import os from "node:os";
import path from "node:path";
import {
  type CheckContext,
  defineCheck,
  type FindingInput,
  type Measurement,
  notApplicable,
} from "../../core/types.js";
import {
  type ComposeFile,
  type ComposeService,
  hostIpScope,
  isInternalComposeService,
  type PublishedPort,
  readComposeFile,
} from "../../engines/compose/publishedPorts.js";
import { expandPattern, toPosix } from "../../engines/files/glob.js";
import { DEFAULT_PORTS, parseTarget } from "../../engines/net/endpoint.js";
import {
  type AddressScope,
  type ConnectOutcome,
  type ConnectResult,
  canConnect,
  classifyAddress,
  type Listener,
  type ListenerTable,
  normalizeAddress,
  readListeners,
} from "../../engines/net/listeners.js";
import type { Kind } from "../../spec/kinds.js";

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

/** What was seen of one internal service's port on this machine, from the kernel's socket tables. */
export interface LocalExposure {
  /** Why the socket tables could not be read at all. */
  tableError?: string;
  /** False when a table that should exist could not be read, so a missing listener proves nothing. */
  complete: boolean;
  /** The tables that could not be read, with the error ("/proc/net/tcp6 (EACCES)"). */
  unread: string[];
  /** The sockets listening on the service's port. */
  listeners: { endpoint: string; scope: AddressScope }[];
}

/** What a TCP connection from this machine to a service on another host did. */
export interface RemoteExposure {
  from: string;
  outcome: ConnectOutcome;
  code?: string;
  latencyMs: number;
}

export interface ServiceExposure {
  service: string;
  kind: Kind;
  /** The service's url, redacted; absent when it has none. */
  url?: string;
  /** Host and port from the url; absent when no port can be told. */
  target?: { host: string; port: number; portFrom: "url" | "scheme default" };
  /** Set when the host name does not resolve from here. */
  resolveError?: string;
  from?: string;
  local?: LocalExposure;
  remote?: RemoteExposure;
  evidence?: string;
}

export interface ExposureObservation {
  services: ServiceExposure[];
  /** The compose files of deployment.compose, with the ports each service publishes. */
  compose?: ComposeObservation;
}

export interface ComposeObservation {
  /** Entries of deployment.compose that matched no file. */
  missing: string[];
  files: ComposeFile[];
  evidence?: string;
}

export default defineCheck<ExposureObservation>({
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
    messages: {
      loopbackOnly: "on this machine, the port listens on loopback only",
      exposed: "on this machine, the port listens on every interface (0.0.0.0, ::) or a public address",
      privateNetwork:
        "on this machine, the port listens on a private-network address: reachable from the whole private network",
      notListening: "nothing listens on the port here, so its exposure cannot be told",
      socketTablesUnreadable: "the kernel's socket tables cannot be read",
      socketTablesIncomplete: "a socket table could not be read, so a listener on the port may be missing",
      reachable: "on another host, and a TCP connection from this machine succeeds",
      unreachable:
        "on another host, and a TCP connection from this machine is refused, times out or has no route",
      connectInconclusive: "connecting from this machine ended in an error that proves nothing either way",
      unresolvable: "the host name does not resolve from this machine",
      noPort: "the port cannot be told from the url",
      noUrl: "the service has no url, so there is no address to test",
      composePublishedEverywhere:
        "a compose file publishes an internal service's or datastore's port on every interface (no host IP, 0.0.0.0 or ::)",
      composePublishedPublic:
        "a compose file publishes an internal service's or datastore's port on a public address",
      composePublishedPrivate:
        "a compose file publishes an internal service's or datastore's port on a private-network address",
      composeNotPublished:
        "in the compose file, the internal service or datastore publishes no port, or only on loopback",
      composeHostNetwork:
        "the compose service uses network_mode: host, so it listens wherever its process binds (judged at run time)",
      composeHostUnresolved: "the host address of a published port comes from an unset variable",
      composeUnreadable: "a compose file cannot be read or parsed, so what it publishes is unknown",
    },
    timeoutMs: 30_000,
  },

  applies(spec) {
    const internal = Object.values(spec.services).some((s) => s.exposure === "internal");
    if (internal || (spec.deployment?.compose?.length ?? 0) > 0) return true;
    return notApplicable(
      "no service is marked exposure: internal and deployment.compose lists no compose file",
    );
  },

  observe: async (ctx) => {
    const observation = await observeExposure(ctx, systemProbes);
    const compose = await observeCompose(ctx);
    return compose ? { ...observation, compose } : observation;
  },

  judge(observation, spec) {
    return [
      ...observation.services.map(judgeService),
      ...(observation.compose ? judgeCompose(observation.compose, spec) : []),
    ];
  },
});

/** observe() with the machine's probes replaceable, so tests can stand in for a second host. */
export async function observeExposure(ctx: CheckContext, probes: HostProbes): Promise<ExposureObservation> {
  const internal = Object.entries(ctx.spec.services).filter(([, s]) => s.exposure === "internal");
  for (const [, service] of internal) ctx.secrets.addFromUrl(service.url);
  let table: ListenerTable | Error | undefined;
  const listenerTable = async () => {
    table ??= await probes.readListeners().catch((error: unknown) => asError(error));
    return table;
  };

  const observation: ExposureObservation = { services: [] };
  for (const [name, service] of internal) {
    ctx.signal.throwIfAborted();
    const seen: ServiceExposure = { service: name, kind: service.kind };
    if (service.url) seen.url = ctx.secrets.redact(service.url);
    const target = service.url ? parseTarget(service.url) : null;
    if (target) {
      seen.target = target;
      await observeTarget(ctx, seen, target, probes, listenerTable);
    }
    // Added only once complete: a partial observation kept before a timeout must not hold a half-probed service.
    observation.services.push(seen);
    ctx.keepPartial(observation);
  }
  return observation;
}

async function observeTarget(
  ctx: CheckContext,
  seen: ServiceExposure,
  target: NonNullable<ServiceExposure["target"]>,
  probes: HostProbes,
  listenerTable: () => Promise<ListenerTable | Error>,
): Promise<void> {
  const name = seen.service;
  const base = { service: name, url: seen.url, ...target };
  seen.from = probes.hostname();
  const identity = await probes.identify(target.host);
  if (identity.error) {
    seen.resolveError = identity.error;
    seen.evidence = await ctx.evidence.writeJson(`${name}-exposure.json`, { ...base, identity });
    return;
  }
  if (!identity.local) {
    const attempt = await probes.canConnect(target.host, target.port, CONNECT_TIMEOUT_MS, ctx.signal);
    const latencyMs = Math.round(attempt.latencyMs * 10) / 10;
    seen.remote = {
      from: seen.from,
      outcome: attempt.outcome,
      ...(attempt.code ? { code: attempt.code } : {}),
      latencyMs,
    };
    seen.evidence = await ctx.evidence.writeJson(`${name}-exposure.json`, {
      ...base,
      hostIsLocal: false,
      hostAddresses: identity.addresses,
      from: { hostname: seen.from, addresses: probes.localAddresses() },
      connect: { ...attempt, latencyMs },
    });
    return;
  }
  const table = await listenerTable();
  if (table instanceof Error) {
    seen.local = { tableError: table.message, complete: false, unread: [], listeners: [] };
    seen.evidence = await ctx.evidence.writeJson(`${name}-exposure.json`, {
      ...base,
      hostIsLocal: true,
      error: table.message,
    });
    return;
  }
  const matching = table.listeners.filter((l) => l.port === target.port);
  seen.local = {
    complete: table.complete,
    unread: table.sources.filter((s) => !s.read).map((s) => `${s.path} (${s.error})`),
    listeners: matching.map((l) => ({ endpoint: endpoint(l), scope: l.scope })),
  };
  seen.evidence = await ctx.evidence.writeJson(`${name}-exposure.json`, {
    ...base,
    hostIsLocal: true,
    hostAddresses: identity.addresses,
    machine: { hostname: seen.from, addresses: probes.localAddresses() },
    sources: table.sources,
    listeners: matching.map(describeListener),
    procLines: matching.map((l) => l.line),
  });
}

function judgeService(seen: ServiceExposure): FindingInput {
  const name = seen.service;
  const unverified = (
    messageId: string,
    message: string,
    toVerify: string,
    data: Record<string, unknown>,
  ) => ({
    status: "UNVERIFIED" as const,
    messageId,
    subject: name,
    message,
    data: { service: name, ...data },
    ...(seen.evidence ? { evidence: [seen.evidence] } : {}),
    toVerify,
  });
  if (!seen.url) {
    return unverified(
      "noUrl",
      `${name} is internal but has no url, so there is no address to test`,
      `give services.${name}.url (e.g. ${seen.kind}://127.0.0.1:${DEFAULT_PORTS[seen.kind] ?? 8080})`,
      {},
    );
  }
  const target = seen.target;
  if (!target) {
    return unverified(
      "noPort",
      `${name}: cannot tell the port of ${seen.url}`,
      `write the port in services.${name}.url, e.g. ${seen.url.replace(/\/*$/, "")}:PORT`,
      { url: seen.url },
    );
  }
  const { host, port } = target;
  if (seen.resolveError) {
    return unverified(
      "unresolvable",
      `${name}: host ${host} does not resolve from ${seen.from} (${seen.resolveError})`,
      `run gauntlet where ${host} resolves, or write its address in services.${name}.url`,
      { host, port },
    );
  }
  if (seen.remote) return judgeRemote(seen, seen.remote, target);
  if (seen.local) return judgeLocal(seen, seen.local, target);
  throw new Error(`the observation of ${name} has a port but no probe of it (a bug in observe)`);
}

function judgeLocal(
  seen: ServiceExposure,
  local: LocalExposure,
  target: NonNullable<ServiceExposure["target"]>,
): FindingInput {
  const name = seen.service;
  const { port } = target;
  const data: Record<string, unknown> = { service: name, host: target.host, port };
  const evidence = seen.evidence ? [seen.evidence] : [];
  if (local.tableError !== undefined) {
    return {
      status: "UNVERIFIED",
      messageId: "socketTablesUnreadable",
      subject: name,
      message: `${name}: cannot read the socket tables: ${local.tableError}`,
      data,
      evidence,
      toVerify: "run gauntlet on Linux with /proc mounted, in the network namespace of the service",
    };
  }
  // DESIGN: internal = not reachable beyond loopback or the private network. Every interface or a public address
  // fails; a private address is reachable by the whole private network, which deserves a warning, not a pass.
  const exposed = local.listeners.filter((l) => l.scope === "wildcard" || l.scope === "public");
  const privateOnly = local.listeners.filter((l) => l.scope === "private");
  const ev = seen.evidence ? { evidence: seen.evidence } : {};
  const measurements: Measurement[] = [
    { name: "listeners", value: local.listeners.length, unit: "sockets", ...ev },
    { name: "exposedListeners", value: exposed.length, unit: "sockets", ...ev },
  ];
  const common = { subject: name, evidence, measurements };
  if (exposed.length > 0) {
    const where = exposed.map((l) => l.endpoint);
    return {
      ...common,
      status: "FAIL",
      messageId: "exposed",
      message: `${name} is internal but listens on ${where.join(", ")} (every interface or a public address)`,
      data: { ...data, exposed: where },
    };
  }
  if (privateOnly.length > 0) {
    const where = privateOnly.map((l) => l.endpoint);
    return {
      ...common,
      status: "WARN",
      messageId: "privateNetwork",
      message: `${name} is internal and listens on the private address ${where.join(", ")}: reachable from the whole private network`,
      data: { ...data, exposed: where },
    };
  }
  if (!local.complete) {
    return {
      ...common,
      status: "UNVERIFIED",
      messageId: "socketTablesIncomplete",
      message: `${name}: could not read ${local.unread.join(", ")}, so a listener on port ${port} may be missing`,
      data,
      toVerify: "run gauntlet with read access to /proc/net/tcp and /proc/net/tcp6",
    };
  }
  if (local.listeners.length === 0) {
    return {
      ...common,
      status: "UNVERIFIED",
      messageId: "notListening",
      message: `${name}: service not listening on port ${port}, so its exposure cannot be told`,
      data,
      toVerify: `start ${name} so that it listens on port ${port} (services.${name}.url), then run again`,
    };
  }
  const listening = local.listeners.map((l) => l.endpoint);
  return {
    ...common,
    status: "PASS",
    messageId: "loopbackOnly",
    message: `${name} listens on port ${port} on loopback only (${listening.join(", ")})`,
    data: { ...data, listening },
  };
}

function judgeRemote(
  seen: ServiceExposure,
  remote: RemoteExposure,
  target: NonNullable<ServiceExposure["target"]>,
): FindingInput {
  const name = seen.service;
  const { from } = remote;
  const ev = seen.evidence ? { evidence: seen.evidence } : {};
  const data = { service: name, host: target.host, port: target.port, from, outcome: remote.outcome };
  const measurements: Measurement[] = [{ name: "connectTime", value: remote.latencyMs, unit: "ms", ...ev }];
  const common = { subject: name, data, evidence: seen.evidence ? [seen.evidence] : [], measurements };
  const where = `${target.host}:${target.port}`;
  switch (remote.outcome) {
    case "connected":
      return {
        ...common,
        status: "FAIL",
        messageId: "reachable",
        message: `${name} (${where}) is internal but reachable from ${from}`,
      };
    case "refused":
    case "timeout":
    case "unreachable":
      return {
        ...common,
        status: "PASS",
        messageId: "unreachable",
        message: `${name} (${where}) is not reachable from ${from} (${remote.outcome})`,
      };
    default:
      return {
        ...common,
        status: "UNVERIFIED",
        messageId: "connectInconclusive",
        message: `${name}: connecting to ${where} from ${from} ended with ${remote.code ?? remote.outcome}`,
        toVerify: `make ${where} resolvable and routable from this machine, or run gauntlet from a machine outside ${name}'s network`,
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

/** Reads every compose file of deployment.compose (globs relative to the spec's folder), as compose would see them. */
async function observeCompose(ctx: CheckContext): Promise<ComposeObservation | undefined> {
  const entries = ctx.spec.deployment?.compose ?? [];
  if (entries.length === 0) return undefined;
  const specKinds: Record<string, Kind> = {};
  for (const [name, service] of Object.entries(ctx.spec.services)) specKinds[name] = service.kind;
  const observation: ComposeObservation = { missing: [], files: [] };
  for (const entry of entries) {
    const files = await expandPattern(ctx.specDir, entry);
    if (files.length === 0) observation.missing.push(entry);
    for (const file of files) {
      const shown = toPosix(path.relative(ctx.specDir, file)) || entry;
      // Compose interpolates from the shell's environment; Gauntlet's own is the closest it can see.
      observation.files.push(await readComposeFile(file, shown, specKinds, ctx.env));
    }
  }
  observation.evidence = await ctx.evidence.writeJson("compose-published-ports.json", observation);
  return observation;
}

/**
 * The compose services this check judges: a datastore by kind, or one the spec marks exposure: internal. The same
 * predicate tells composeServicesHardened to leave their published ports and host networking to this check.
 */
const judgedComposeService = isInternalComposeService;

function judgeCompose(
  compose: ComposeObservation,
  spec: Parameters<typeof judgedComposeService>[1],
): FindingInput[] {
  const evidence = compose.evidence ? [compose.evidence] : [];
  const findings: FindingInput[] = [];
  for (const entry of compose.missing) {
    findings.push({
      status: "UNVERIFIED",
      messageId: "composeUnreadable",
      subject: entry,
      message: `deployment.compose names ${entry}, which matches no file, so what it publishes is unknown`,
      data: { file: entry },
      evidence,
      toVerify: `fix the path ${entry} in deployment.compose (relative to the spec's folder)`,
    });
  }
  for (const file of compose.files) {
    if (file.error) {
      findings.push({
        status: "UNVERIFIED",
        messageId: "composeUnreadable",
        subject: file.path,
        location: { path: file.path },
        message: `${file.error}, so the ports it publishes are unknown`,
        data: { file: file.path },
        evidence,
        toVerify: `make ${file.path} a valid compose file`,
      });
      continue;
    }
    for (const service of file.services) {
      if (!judgedComposeService(service, spec)) continue;
      findings.push(...judgeComposeService(file.path, service, evidence));
    }
  }
  return findings;
}

function judgeComposeService(file: string, service: ComposeService, evidence: string[]): FindingInput[] {
  const what = service.kind ? `${service.name} (${service.kind}, by its ${service.kindFrom})` : service.name;
  const base = (port: PublishedPort | undefined) => ({
    subject: service.name,
    location: { path: file, line: port?.line ?? service.line, ...(port ? { column: port.column } : {}) },
    data: { service: service.name, file, ...(service.kind ? { kind: service.kind } : {}) },
    evidence,
  });
  const findings: FindingInput[] = [];
  for (const port of service.ports) {
    const at = `${file}:${port.line}`;
    if (port.unresolved) {
      findings.push({
        ...base(port),
        status: "UNVERIFIED",
        messageId: "composeHostUnresolved",
        message: `${what}: ${at} publishes "${port.text}", whose address depends on \${${port.unresolved}}, unset here`,
        toVerify: `run gauntlet with ${port.unresolved} set as the deployment sets it, or write the host address literally`,
      });
      continue;
    }
    const scope = hostIpScope(port.hostIp);
    if (scope === "loopback") continue;
    if (scope === "everyInterface") {
      const shown = port.hostIp || "every interface (no host IP)";
      findings.push({
        ...base(port),
        status: "FAIL",
        messageId: "composePublishedEverywhere",
        message: `${what}: ${at} publishes "${port.text}" on ${shown}: write "127.0.0.1:${port.published || port.target.split("/")[0]}:${port.target.split("/")[0]}" or drop the mapping`,
      });
      continue;
    }
    const addressScope = classifyAddress(port.hostIp);
    const isPrivate = addressScope === "private";
    findings.push({
      ...base(port),
      status: isPrivate ? "WARN" : "FAIL",
      messageId: isPrivate ? "composePublishedPrivate" : "composePublishedPublic",
      message: `${what}: ${at} publishes "${port.text}" on ${isPrivate ? "the private address" : "the address"} ${port.hostIp}`,
    });
  }
  if (service.networkModeHost) {
    findings.push({
      ...base(undefined),
      status: "WARN",
      messageId: "composeHostNetwork",
      message: `${what} uses network_mode: host in ${file}: it listens wherever its process binds, and no compose mapping limits it`,
    });
  }
  if (findings.length === 0) {
    const loopback = service.ports.map((p) => p.text);
    findings.push({
      ...base(undefined),
      status: "PASS",
      messageId: "composeNotPublished",
      message:
        loopback.length > 0
          ? `${what} publishes only on loopback in ${file} (${loopback.join(", ")})`
          : `${what} publishes no port in ${file}: reachable only on the compose network`,
    });
  }
  return findings;
}
