// Which ports a compose file publishes, and on which host address. A port published without a host IP
// (`"6379:6379"`, or the long syntax without host_ip) listens on every interface of the host — Docker also opens it
// in the host firewall — so a datastore published that way is reachable by anyone who can reach the machine.
import { readFile } from "node:fs/promises";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import { isDatastoreKind, type Kind } from "../../spec/kinds.js";

export interface PublishedPort {
  /** The compose service that publishes the port. */
  service: string;
  /** Host address the port is bound to; "" when the compose file gives none (= every interface). */
  hostIp: string;
  /** Host port or range as written ("6379", "8000-8010"); "" when Docker picks one. */
  published: string;
  /** Container port (or range) and protocol, e.g. "6379/tcp". */
  target: string;
  line: number;
  column: number;
  /** The entry as written, for the report. */
  text: string;
  /** Set when an interpolation without default leaves the host address unknown. */
  unresolved?: string;
}

export interface ComposeService {
  name: string;
  image?: string;
  /** What the service is, from the Gauntlet service of the same name, else its image or container port. */
  kind?: Kind;
  kindFrom?: "spec" | "image" | "port";
  networkModeHost: boolean;
  line: number;
  ports: PublishedPort[];
}

export interface ComposeFile {
  path: string;
  services: ComposeService[];
  /** A YAML or shape problem that kept the file from being read, with its line. */
  error?: string;
}

/** Images whose name says which datastore they run (library images and the usual vendor ones). */
const IMAGE_KINDS: readonly [RegExp, Kind][] = [
  [/(^|\/)(postgres|postgis|timescaledb|pgvector)(:|@|$)/, "postgres"],
  [/(^|\/)(pgbouncer)(:|@|$)/, "pgbouncer"],
  [/(^|\/)(redis|redismod|redis-stack|redis-stack-server|valkey|keydb|dragonfly)(:|@|$)/, "redis"],
  [/(^|\/)(mysql|mariadb|percona)(:|@|$)/, "mysql"],
  [/(^|\/)(mongo|mongodb)(:|@|$)/, "mongodb"],
  [/(^|\/)(memcached)(:|@|$)/, "memcached"],
  [/(^|\/)(kafka|cp-kafka|redpanda)(:|@|$)/, "kafka"],
  [/(^|\/)(rabbitmq)(:|@|$)/, "rabbitmq"],
];

/** Container ports that only datastores listen on by convention. */
const PORT_KINDS: Readonly<Record<string, Kind>> = {
  "5432": "postgres",
  "6432": "pgbouncer",
  "6379": "redis",
  "3306": "mysql",
  "27017": "mongodb",
  "11211": "memcached",
  "9092": "kafka",
  "5672": "rabbitmq",
};

/** The datastore a container port ("6379/tcp", "5432") conventionally belongs to. */
export function kindOfPort(target: string): Kind | undefined {
  return PORT_KINDS[target.split("/")[0]!.split("-")[0]!];
}

/**
 * Whether a compose service's exposure is judged by internalServicesNotExposed (which owns "internal service or
 * datastore published on every interface" and "network_mode: host" for them): one the spec marks internal, or a
 * datastore by kind that the spec does not mark public.
 */
export function isInternalComposeService(
  service: { name: string; kind?: Kind },
  spec: { services: Record<string, { exposure?: string }> },
): boolean {
  const declared = spec.services[service.name];
  if (declared?.exposure === "public") return false;
  return declared?.exposure === "internal" || (service.kind !== undefined && isDatastoreKind(service.kind));
}

export function kindOfImage(image: string | undefined): Kind | undefined {
  if (!image) return undefined;
  const name = image.toLowerCase();
  return IMAGE_KINDS.find(([pattern]) => pattern.test(name))?.[1];
}

/**
 * Reads one compose file. `specKinds` maps Gauntlet service names to their kind, so a compose service named like a
 * declared datastore is judged as that datastore whatever image it runs.
 */
export async function readComposeFile(
  file: string,
  shownPath: string,
  specKinds: Readonly<Record<string, Kind>>,
  env: NodeJS.ProcessEnv = {},
): Promise<ComposeFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return { path: shownPath, services: [], error: `cannot read ${shownPath} (${code})` };
  }
  return parseComposeText(text, shownPath, specKinds, env);
}

export function parseComposeText(
  text: string,
  shownPath: string,
  specKinds: Readonly<Record<string, Kind>>,
  env: NodeJS.ProcessEnv = {},
): ComposeFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  const at = (node: Node | null | undefined) => {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const { line, col } = lines.linePos(first.pos[0]);
    return {
      path: shownPath,
      services: [],
      error: `${shownPath}:${line}:${col}: not valid YAML (${first.message.split("\n")[0]})`,
    };
  }
  const root = doc.contents;
  if (!isMap(root))
    return { path: shownPath, services: [], error: `${shownPath}: not a compose file (no mapping)` };
  const servicesNode = root.get("services", true);
  if (!isMap(servicesNode)) return { path: shownPath, services: [] };

  const services: ComposeService[] = [];
  for (const pair of servicesNode.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : "";
    if (!name || !isMap(pair.value)) continue;
    const body = pair.value as YAMLMap;
    const image = scalarText(body.get("image", true));
    const networkMode = scalarText(body.get("network_mode", true));
    const ports: PublishedPort[] = [];
    const portsNode = body.get("ports", true);
    if (isSeq(portsNode)) {
      for (const item of portsNode.items as Node[]) {
        const where = at(item);
        const port = isMap(item) ? longSyntax(item, env) : shortSyntax(scalarText(item) ?? "", env);
        if (port) ports.push({ service: name, ...port, ...where });
      }
    }
    const specKind = specKinds[name];
    const imageKind = kindOfImage(interpolate(image ?? "", env).value);
    const portKind = ports.map((p) => PORT_KINDS[p.target.split("/")[0]!.split("-")[0]!]).find(Boolean);
    const kind = specKind ?? imageKind ?? portKind;
    const kindFrom = specKind ? "spec" : imageKind ? "image" : portKind ? "port" : undefined;
    services.push({
      name,
      ...(image ? { image } : {}),
      ...(kind ? { kind, kindFrom } : {}),
      networkModeHost: networkMode === "host",
      ...at(pair.key as Node),
      ports,
    } as ComposeService);
  }
  return { path: shownPath, services };
}

type PortFields = Omit<PublishedPort, "service" | "line" | "column">;

/** `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`, the IP possibly in brackets (IPv6). */
export function shortSyntax(written: string, env: NodeJS.ProcessEnv = {}): PortFields | undefined {
  const { value: raw, unresolved } = interpolate(written.trim(), env);
  if (!raw) return undefined;
  const [spec, protocol = "tcp"] = raw.split("/");
  let rest = spec!;
  let hostIp = "";
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(rest);
  if (bracketed) {
    hostIp = bracketed[1]!;
    rest = bracketed[2]!;
  }
  const parts = rest.split(":");
  let published = "";
  let target: string;
  if (!bracketed && parts.length >= 3) {
    // An unbracketed IPv6 host address has colons of its own: the last two fields are the ports.
    target = parts.pop()!;
    published = parts.pop()!;
    hostIp = parts.join(":");
  } else if (parts.length === 2) {
    published = parts[0]!;
    target = parts[1]!;
  } else {
    target = parts.join(":");
  }
  // A bare container port ("6379") is published on a random host port, also on every interface.
  return {
    hostIp,
    published,
    target: `${target}/${protocol}`,
    text: written,
    ...(unresolved ? { unresolved } : {}),
  };
}

function longSyntax(item: YAMLMap, env: NodeJS.ProcessEnv): PortFields | undefined {
  const field = (key: string) => interpolate(scalarText(item.get(key, true)) ?? "", env);
  const target = field("target");
  if (!target.value) return undefined;
  const hostIp = field("host_ip");
  const published = field("published");
  const protocol = field("protocol").value || "tcp";
  const unresolved = hostIp.unresolved ?? published.unresolved ?? target.unresolved;
  return {
    hostIp: hostIp.value,
    published: published.value,
    target: `${target.value}/${protocol}`,
    text: `{target: ${target.value}${published.value ? `, published: ${published.value}` : ""}${hostIp.value ? `, host_ip: ${hostIp.value}` : ""}}`,
    ...(unresolved ? { unresolved } : {}),
  };
}

/** Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$`, from the environment given. */
function interpolate(text: string, env: NodeJS.ProcessEnv): { value: string; unresolved?: string } {
  let unresolved: string | undefined;
  const value = text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, name?: string, colon?: string, op?: string, word?: string, bare?: string) => {
      if (whole === "$$") return "$";
      const variable = (name ?? bare)!;
      const set = env[variable];
      const empty = set === undefined || (colon === ":" && set === "");
      if (op === "-") return empty ? (word ?? "") : set!;
      if (op === "+") return empty ? "" : (word ?? "");
      if (set === undefined) unresolved ??= variable;
      return set ?? "";
    },
  );
  return unresolved ? { value, unresolved } : { value };
}

function scalarText(node: unknown): string | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  return String(node.value);
}

/** Whether a host address published on reaches beyond this machine: none given, a wildcard, or a non-loopback IP. */
export function hostIpScope(hostIp: string): "everyInterface" | "loopback" | "specific" {
  const ip = hostIp.trim().toLowerCase();
  if (ip === "" || ip === "0.0.0.0" || ip === "::" || ip === "[::]") return "everyInterface";
  if (/^127\./.test(ip) || ip === "::1" || ip === "localhost") return "loopback";
  return "specific";
}
