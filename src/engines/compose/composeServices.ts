// What each service of a compose project is once its layers are merged the way compose merges them (extends first,
// then the files in order: scalars of a later layer win, mappings merge key by key, sequences add up, `!reset`
// drops what came before): image, build, ports, healthcheck, depends_on, restart, limits, user and the rest, each with
// the file, line and column it was written at. This is the model checks and `gauntlet init` read.
import path from "node:path";
import { type Document, isMap, isScalar, isSeq, type Node, type YAMLMap } from "yaml";
import type { Kind } from "../../spec/kinds.js";
import { hasInterpolation } from "./composeInterpolation.js";
import type { ComposeProject, ServiceLayer } from "./composeProject.js";
import { interpolated } from "./composeValidate.js";
import { entriesOf, entry, keyText, overrideTag, positionOf } from "./composeYaml.js";
import { kindOfImage, type PublishedPort, shortSyntax } from "./publishedPorts.js";

export interface Located {
  file: string;
  line: number;
  column: number;
}

export interface ProjectService extends Located {
  name: string;
  /** The image as written, and its value when every variable in it is known. */
  image?: Located & { written: string; value?: string };
  /** The datastore the image runs, when its name says so (postgres, redis, …). */
  kind?: Kind;
  build?: Located & { context?: string; dockerfile?: string };
  ports: (PublishedPort & { file: string })[];
  /** Container ports exposed to other services only. */
  expose: string[];
  healthcheck?: Located & {
    /** The test as a list (`CMD-SHELL …` for the string form); absent when only timings are set. */
    test?: string[];
    /** disable: true or test: [NONE]. */
    disabled: boolean;
    interval?: string;
    timeout?: string;
    retries?: string;
    startPeriod?: string;
  };
  dependsOn: (Located & { service: string; condition: string; required: boolean })[];
  restart?: Located & { value: string };
  /** deploy.restart_policy. */
  restartPolicy?: Located & { condition?: string };
  /** deploy.resources.limits, or the older mem_limit / cpus keys. */
  limits?: Located & {
    memory?: string;
    cpus?: string;
    from: "deploy.resources.limits" | "mem_limit" | "cpus";
  };
  privileged?: Located & { value: boolean | "unknown" };
  networkMode?: Located & { value: string };
  readOnly?: Located & { value: boolean | "unknown" };
  user?: Located & { value: string };
  /**
   * Environment entries. `written` is the value as the file writes it (null: taken from the shell) — it may be a
   * secret: never print or record it unmasked.
   */
  environment: (Located & { name: string; written: string | null; interpolated: boolean })[];
  envFiles: string[];
  secrets: string[];
  profiles: string[];
  containerName?: string;
}

/** A service's layers with `extends` applied: each base's layers come before the layer that extends it. */
export function effectiveLayers(project: ComposeProject, name: string): ServiceLayer[] {
  const out: ServiceLayer[] = [];
  for (const layer of project.layers.get(name) ?? [])
    out.push(...baseLayers(project, layer, new Set()), layer);
  return out;
}

/** The service a layer `extends`, and where: undefined when it extends nothing. */
export function extendsTarget(
  layer: ServiceLayer,
): { service?: string; file?: string; node: Node } | undefined {
  const doc = layer.scope.doc;
  const value = entry(layer.node, "extends", doc)?.value;
  if (!value) return undefined;
  if (isScalar(value)) return { service: text(layer, value), node: value };
  if (!isMap(value)) return { node: value };
  const service = text(layer, entry(value, "service", doc)?.value ?? null);
  const file = text(layer, entry(value, "file", doc)?.value ?? null);
  return { ...(service ? { service } : {}), ...(file ? { file } : {}), node: value };
}

/** The layer a service's `extends` names, or why there is none. */
export function extendedLayer(
  project: ComposeProject,
  layer: ServiceLayer,
): ServiceLayer | "noService" | "noFile" | undefined {
  const target = extendsTarget(layer);
  if (!target?.service) return undefined;
  const scopes = target.file
    ? project.parsed.get(path.resolve(layer.scope.directory, target.file))
    : [layer.scope];
  if (scopes === undefined) return undefined; // remote or not loaded
  if (scopes === null) return "noFile";
  for (const scope of scopes) {
    const services = isMap(scope.doc.contents)
      ? entry(scope.doc.contents, "services", scope.doc)?.value
      : null;
    const found = isMap(services)
      ? entriesOf(services, scope.doc).find((e) => e.key === target.service)
      : undefined;
    if (found && isMap(found.value))
      return { name: found.key, scope, keyNode: found.keyNode, node: found.value };
  }
  return "noService";
}

function baseLayers(project: ComposeProject, layer: ServiceLayer, seen: Set<Node>): ServiceLayer[] {
  const base = extendedLayer(project, layer);
  if (base === undefined || typeof base === "string" || seen.has(base.node)) return [];
  seen.add(base.node);
  return [...baseLayers(project, base, seen), base];
}

function text(layer: ServiceLayer, node: Node | null): string | undefined {
  if (!isScalar(node) || node.value === null) return undefined;
  const { value, unknown } = interpolated(node, layer.scope.lookup);
  return unknown ? undefined : String(value);
}

function at(layer: ServiceLayer, node: Node | null | undefined): Located {
  const where = positionOf(node, layer.scope.lines) ?? positionOf(layer.keyNode, layer.scope.lines)!;
  return { file: layer.scope.file, ...where };
}

/** The last layer's entry for a key (`!reset` in a later layer removes it). */
export function lastEntry(
  layers: readonly ServiceLayer[],
  key: string,
): { layer: ServiceLayer; keyNode: Node; value: Node | null } | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    const found = entry(layer.node, key, layer.scope.doc);
    if (!found) continue;
    if (overrideTag(found.value) === "reset") return undefined;
    return { layer, keyNode: found.keyNode, value: found.value };
  }
  return undefined;
}

/** Every layer's entry for a key, from the last `!reset` or `!override` on. */
export function allEntries(
  layers: readonly ServiceLayer[],
  key: string,
): { layer: ServiceLayer; keyNode: Node; value: Node | null }[] {
  const out: { layer: ServiceLayer; keyNode: Node; value: Node | null }[] = [];
  for (const layer of layers) {
    const found = entry(layer.node, key, layer.scope.doc);
    if (!found) continue;
    const tag = overrideTag(found.value);
    if (tag) out.length = 0;
    if (tag !== "reset") out.push({ layer, keyNode: found.keyNode, value: found.value });
  }
  return out;
}

/** A mapping key merged over the layers: each sub-key's last value. */
function mergedMapping(layers: readonly ServiceLayer[], keyPath: string[]) {
  const merged = new Map<string, { layer: ServiceLayer; keyNode: Node; value: Node | null }>();
  let first: { layer: ServiceLayer; keyNode: Node } | undefined;
  for (const layer of layers) {
    let node: Node | null = layer.node;
    let keyNode: Node | undefined;
    for (const key of keyPath) {
      const found = entry(node, key, layer.scope.doc);
      node = found?.value ?? null;
      keyNode = found?.keyNode;
      if (!found) break;
    }
    if (!keyNode) continue;
    const tag = overrideTag(node);
    if (tag) merged.clear();
    if (tag === "reset" || !isMap(node)) continue;
    first = { layer, keyNode };
    for (const e of entriesOf(node, layer.scope.doc))
      merged.set(e.key, { layer, keyNode: e.keyNode, value: e.value });
  }
  return first ? { at: first, entries: merged } : undefined;
}

export function buildServices(project: ComposeProject): ProjectService[] {
  const services: ProjectService[] = [];
  for (const name of project.layers.keys()) {
    const layers = effectiveLayers(project, name);
    const own = project.layers.get(name)!;
    const top = own[own.length - 1]!;
    const service: ProjectService = {
      name,
      ...at(top, top.keyNode),
      ports: [],
      expose: [],
      dependsOn: [],
      environment: [],
      envFiles: [],
      secrets: [],
      profiles: [],
    };
    const scalar = (key: string) => {
      const found = lastEntry(layers, key);
      if (!found) return undefined;
      return { where: at(found.layer, found.value ?? found.keyNode), node: found.value, layer: found.layer };
    };
    const image = scalar("image");
    if (image && isScalar(image.node) && image.node.value !== null) {
      const written = String(image.node.value);
      const value = text(image.layer, image.node);
      service.image = { ...image.where, written, ...(value !== undefined ? { value } : {}) };
      const kind = kindOfImage(value ?? written);
      if (kind) service.kind = kind;
    }
    const build = scalar("build");
    if (build) {
      const doc = build.layer.scope.doc;
      const context = isMap(build.node)
        ? text(build.layer, entry(build.node, "context", doc)?.value ?? null)
        : text(build.layer, build.node);
      const dockerfile = isMap(build.node)
        ? text(build.layer, entry(build.node, "dockerfile", doc)?.value ?? null)
        : undefined;
      service.build = {
        ...build.where,
        ...(context ? { context } : {}),
        ...(dockerfile ? { dockerfile } : {}),
      };
    }
    readPorts(service, layers);
    for (const e of allEntries(layers, "expose")) {
      if (isSeq(e.value))
        for (const item of e.value.items) if (isScalar(item)) service.expose.push(String(item.value));
    }
    readHealthcheck(service, layers);
    readDependsOn(service, layers);
    const restart = scalar("restart");
    if (restart && isScalar(restart.node)) {
      service.restart = {
        ...restart.where,
        value: text(restart.layer, restart.node) ?? String(restart.node.value),
      };
    }
    const policy = mergedMapping(layers, ["deploy", "restart_policy"]);
    if (policy) {
      const condition = policy.entries.get("condition");
      service.restartPolicy = {
        ...at(policy.at.layer, policy.at.keyNode),
        ...(condition && isScalar(condition.value) ? { condition: String(condition.value.value) } : {}),
      };
    }
    readLimits(service, layers, scalar);
    const flag = (key: string) => {
      const found = scalar(key);
      if (!found || !isScalar(found.node)) return undefined;
      const raw = found.node.value;
      const value =
        typeof raw === "boolean"
          ? raw
          : typeof raw === "string" && !hasInterpolation(raw)
            ? ["true", "yes", "on", "y"].includes(raw.toLowerCase())
            : ("unknown" as const);
      return { ...found.where, value };
    };
    const privileged = flag("privileged");
    if (privileged) service.privileged = privileged;
    const readOnly = flag("read_only");
    if (readOnly) service.readOnly = readOnly;
    for (const [key, field] of [
      ["network_mode", "networkMode"],
      ["user", "user"],
    ] as const) {
      const found = scalar(key);
      if (found && isScalar(found.node) && found.node.value !== null)
        service[field] = { ...found.where, value: text(found.layer, found.node) ?? String(found.node.value) };
    }
    const containerName = scalar("container_name");
    if (containerName && isScalar(containerName.node))
      service.containerName = String(containerName.node.value);
    readEnvironment(service, layers);
    for (const e of allEntries(layers, "env_file"))
      service.envFiles.push(...strings(e.layer, e.value, "path"));
    for (const e of allEntries(layers, "secrets"))
      service.secrets.push(...strings(e.layer, e.value, "source"));
    for (const e of allEntries(layers, "profiles")) service.profiles.push(...strings(e.layer, e.value));
    services.push(service);
  }
  return services;
}

/** Strings of a scalar or a list (items that are mappings give their `field`). */
function strings(layer: ServiceLayer, node: Node | null, field?: string): string[] {
  const items = isSeq(node) ? (node.items as Node[]) : node ? [node] : [];
  const out: string[] = [];
  for (const item of items) {
    const value = isMap(item) && field ? (entry(item, field, layer.scope.doc)?.value ?? null) : item;
    const t = text(layer, value);
    if (t !== undefined) out.push(t);
  }
  return out;
}

function lookupEnv(layer: ServiceLayer): NodeJS.ProcessEnv {
  // shortSyntax() interpolates from an environment object; this one asks the layer's lookup.
  return new Proxy(
    {},
    { get: (_, name) => (typeof name === "string" ? layer.scope.lookup(name) : undefined) },
  );
}

function readPorts(service: ProjectService, layers: readonly ServiceLayer[]): void {
  for (const e of allEntries(layers, "ports")) {
    if (!isSeq(e.value)) continue;
    for (const item of e.value.items as Node[]) {
      const where = at(e.layer, item);
      if (isMap(item)) {
        const field = (key: string) =>
          text(e.layer, entry(item, key, e.layer.scope.doc)?.value ?? null) ?? "";
        const target = field("target");
        if (!target) continue;
        const hostIp = field("host_ip");
        const published = field("published");
        service.ports.push({
          service: service.name,
          hostIp,
          published,
          target: `${target}/${field("protocol") || "tcp"}`,
          text: `{target: ${target}${published ? `, published: ${published}` : ""}${hostIp ? `, host_ip: ${hostIp}` : ""}}`,
          line: where.line,
          column: where.column,
          file: where.file,
        });
      } else if (isScalar(item) && item.value !== null) {
        const port = shortSyntax(String(item.value), lookupEnv(e.layer));
        if (port)
          service.ports.push({
            service: service.name,
            ...port,
            line: where.line,
            column: where.column,
            file: where.file,
          });
      }
    }
  }
}

function readHealthcheck(service: ProjectService, layers: readonly ServiceLayer[]): void {
  const merged = mergedMapping(layers, ["healthcheck"]);
  if (!merged) return;
  const get = (key: string) => {
    const found = merged.entries.get(key);
    if (!found || !isScalar(found.value) || found.value.value === null) return undefined;
    return text(found.layer, found.value) ?? String(found.value.value);
  };
  const testEntry = merged.entries.get("test");
  let test: string[] | undefined;
  if (testEntry && isSeq(testEntry.value)) {
    test = (testEntry.value.items as Node[]).map((i) => (isScalar(i) ? String(i.value) : ""));
  } else if (testEntry && isScalar(testEntry.value) && testEntry.value.value !== null) {
    test = ["CMD-SHELL", String(testEntry.value.value)];
  }
  const disable = merged.entries.get("disable");
  const disabled =
    (disable !== undefined &&
      isScalar(disable.value) &&
      [true, "true"].includes(disable.value.value as never)) ||
    test?.[0] === "NONE";
  const interval = get("interval");
  const timeout = get("timeout");
  const retries = get("retries");
  const startPeriod = get("start_period");
  service.healthcheck = {
    ...at(merged.at.layer, merged.at.keyNode),
    ...(test ? { test } : {}),
    disabled,
    ...(interval ? { interval } : {}),
    ...(timeout ? { timeout } : {}),
    ...(retries ? { retries } : {}),
    ...(startPeriod ? { startPeriod } : {}),
  };
}

function readDependsOn(service: ProjectService, layers: readonly ServiceLayer[]): void {
  const byName = new Map<string, ProjectService["dependsOn"][number]>();
  for (const e of allEntries(layers, "depends_on")) {
    const doc = e.layer.scope.doc;
    if (isSeq(e.value)) {
      for (const item of e.value.items as Node[]) {
        if (!isScalar(item)) continue;
        const name = String(item.value);
        byName.set(name, {
          ...at(e.layer, item),
          service: name,
          condition: "service_started",
          required: true,
        });
      }
    } else if (isMap(e.value)) {
      for (const dep of entriesOf(e.value, doc)) {
        const condition = isMap(dep.value) ? entry(dep.value, "condition", doc)?.value : null;
        const required = isMap(dep.value) ? entry(dep.value, "required", doc)?.value : null;
        byName.set(dep.key, {
          ...at(e.layer, dep.keyNode),
          service: dep.key,
          condition: isScalar(condition) ? String(condition.value) : "service_started",
          required: !(isScalar(required) && [false, "false"].includes(required.value as never)),
        });
      }
    }
  }
  service.dependsOn = [...byName.values()];
}

function readLimits(
  service: ProjectService,
  layers: readonly ServiceLayer[],
  scalar: (key: string) => { where: Located; node: Node | null; layer: ServiceLayer } | undefined,
): void {
  const limits = mergedMapping(layers, ["deploy", "resources", "limits"]);
  const value = (node: Node | null | undefined) =>
    isScalar(node) && node.value !== null ? String(node.value) : undefined;
  if (limits) {
    const memory = value(limits.entries.get("memory")?.value);
    const cpus = value(limits.entries.get("cpus")?.value);
    service.limits = {
      ...at(limits.at.layer, limits.at.keyNode),
      ...(memory ? { memory } : {}),
      ...(cpus ? { cpus } : {}),
      from: "deploy.resources.limits",
    };
    return;
  }
  const memLimit = scalar("mem_limit");
  const cpus = scalar("cpus");
  if (!memLimit && !cpus) return;
  const memory = value(memLimit?.node);
  const cpu = value(cpus?.node);
  service.limits = {
    ...(memLimit ?? cpus)!.where,
    ...(memory ? { memory } : {}),
    ...(cpu ? { cpus: cpu } : {}),
    from: memLimit ? "mem_limit" : "cpus",
  };
}

function readEnvironment(service: ProjectService, layers: readonly ServiceLayer[]): void {
  const byName = new Map<string, ProjectService["environment"][number]>();
  for (const e of allEntries(layers, "environment")) {
    const doc: Document = e.layer.scope.doc;
    if (isSeq(e.value)) {
      for (const item of e.value.items as Node[]) {
        if (!isScalar(item) || typeof item.value !== "string") continue;
        const written = item.value;
        const equals = written.indexOf("=");
        const name = equals < 0 ? written : written.slice(0, equals);
        const value = equals < 0 ? null : written.slice(equals + 1);
        byName.set(name, {
          ...at(e.layer, item),
          name,
          written: value,
          interpolated: value !== null && hasInterpolation(value),
        });
      }
    } else if (isMap(e.value)) {
      for (const pair of entriesOf(e.value as YAMLMap, doc)) {
        const raw = isScalar(pair.value) ? pair.value.value : null;
        const written = raw === null || raw === undefined ? null : String(raw);
        byName.set(keyText(pair.keyNode), {
          ...at(e.layer, pair.value ?? pair.keyNode),
          name: pair.key,
          written,
          interpolated: written !== null && hasInterpolation(written),
        });
      }
    }
  }
  service.environment = [...byName.values()];
}
