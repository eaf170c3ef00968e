// What a compose project refers to must exist, as compose-go's checkConsistency (and the engine at `up`) demand:
// services named by depends_on, links, extends, volumes_from and `service:` namespaces; networks, named volumes,
// secrets, configs and models declared at the top level; an image or a build for every service; no dependency cycle;
// and the few keys that exclude each other. Each problem points at the line that names the missing thing.
import { existsSync } from "node:fs";
import path from "node:path";
import { isMap, isScalar, isSeq, type Node } from "yaml";
import { suggest } from "../../spec/suggest.js";
import type { ComposeProject, ServiceLayer } from "./composeProject.js";
import { allEntries, effectiveLayers, extendedLayer, extendsTarget, lastEntry } from "./composeServices.js";
import { type ComposeProblem, interpolated, type ProblemKind } from "./composeValidate.js";
import { entriesOf, entry, positionOf } from "./composeYaml.js";

type Reference = { layer: ServiceLayer; node: Node; name: string };

export function checkConsistency(project: ComposeProject): void {
  const services = [...project.layers.keys()];
  const problems = project.problems;
  const add = (ref: { layer: ServiceLayer; node: Node }, kind: ProblemKind, message: string, extra = {}) => {
    problems.push({
      file: ref.layer.scope.file,
      ...(positionOf(ref.node, ref.layer.scope.lines) ??
        positionOf(ref.layer.keyNode, ref.layer.scope.lines)!),
      kind,
      severity: "error",
      message,
      ...extra,
    });
  };
  const missingService = (ref: Reference, what: string) => {
    if (services.includes(ref.name)) return;
    const suggestion = suggest(ref.name, services);
    add(
      ref,
      "undefinedService",
      `${ref.layer.name}: ${what} names service ${JSON.stringify(ref.name)}, which this project does not define${suggestion ? `: did you mean ${suggestion}?` : ` (services: ${services.join(", ") || "none"})`}`,
      suggestion ? { suggestion } : {},
    );
  };
  const missingResource = (ref: Reference, kind: keyof ComposeProject["declared"], problem: ProblemKind) => {
    const declared = project.declared[kind];
    if (declared.includes(ref.name)) return;
    const suggestion = suggest(ref.name, declared);
    add(
      ref,
      problem,
      `${ref.layer.name} uses ${kind.replace(/s$/, "")} ${JSON.stringify(ref.name)}, which is not declared under the top-level ${kind}:${suggestion ? ` did you mean ${suggestion}?` : ` add it there`}`,
      suggestion ? { suggestion } : {},
    );
  };

  const graph = new Map<string, Reference[]>();
  for (const name of services) {
    const layers = effectiveLayers(project, name);
    const own = project.layers.get(name)!;
    const top = own[own.length - 1]!;
    for (const layer of own) checkExtends(project, layer, add);

    if (!lastEntry(layers, "image") && !lastEntry(layers, "build") && !lastEntry(layers, "provider")) {
      add(
        { layer: top, node: top.keyNode },
        "noImageOrBuild",
        `service ${name} has neither image nor build: compose cannot tell what to run`,
      );
    }
    const dependencies: Reference[] = [];
    for (const ref of dependsOn(layers)) {
      if (ref.optional && !services.includes(ref.name)) continue;
      missingService(ref, "depends_on");
      dependencies.push(ref);
    }
    graph.set(name, dependencies);
    for (const ref of names(layers, "links"))
      missingService({ ...ref, name: ref.name.split(":")[0]! }, "links");
    for (const ref of names(layers, "volumes_from")) {
      if (ref.name.startsWith("container:")) continue;
      missingService({ ...ref, name: ref.name.split(":")[0]! }, "volumes_from");
    }
    for (const key of ["network_mode", "ipc", "pid"]) {
      const found = lastEntry(layers, key);
      const value = found && isScalar(found.value) ? text(found.layer, found.value) : undefined;
      if (value?.startsWith("service:"))
        missingService({ layer: found!.layer, node: found!.value!, name: value.slice(8) }, key);
    }
    const networkMode = lastEntry(layers, "network_mode");
    const networks = lastEntry(layers, "networks");
    if (networkMode && networks && networks.value !== null) {
      add(
        { layer: networks.layer, node: networks.keyNode },
        "conflictingKeys",
        `${name} sets both network_mode and networks, which exclude each other: keep one`,
      );
    }
    for (const ref of networkNames(layers)) missingResource(ref, "networks", "undefinedNetwork");
    for (const ref of namedVolumes(layers)) missingResource(ref, "volumes", "undefinedVolume");
    for (const ref of names(layers, "secrets", "source")) missingResource(ref, "secrets", "undefinedSecret");
    for (const ref of buildSecrets(layers)) missingResource(ref, "secrets", "undefinedSecret");
    for (const ref of names(layers, "configs", "source")) missingResource(ref, "configs", "undefinedConfig");
    for (const ref of mapOrListNames(layers, "models")) missingResource(ref, "models", "undefinedModel");
    checkBuild(layers, add, name);
    checkHealthcheck(layers, add, name);
    checkWatch(layers, add, name);
    checkEnvFiles(layers, problems, name);
  }
  checkTopLevel(project, add);
  checkCycles(graph, add);
}

type Add = (
  ref: { layer: ServiceLayer; node: Node },
  kind: ProblemKind,
  message: string,
  extra?: Partial<ComposeProblem>,
) => void;

function text(layer: ServiceLayer, node: Node | null | undefined): string | undefined {
  if (!isScalar(node) || node.value === null) return undefined;
  const { value, unknown } = interpolated(node, layer.scope.lookup);
  return unknown ? undefined : String(value);
}

function checkExtends(project: ComposeProject, layer: ServiceLayer, add: Add): void {
  const target = extendsTarget(layer);
  if (!target?.service) return;
  const base = extendedLayer(project, layer);
  if (base === "noFile") {
    add(
      { layer, node: target.node },
      "unreadableReference",
      `${layer.name} extends a service of ${target.file}, which cannot be read: compose refuses the project`,
    );
  } else if (base === "noService") {
    add(
      { layer, node: target.node },
      "undefinedService",
      `${layer.name} extends service ${JSON.stringify(target.service)}, which ${target.file ? target.file : "this file"} does not define`,
    );
  }
}

function dependsOn(layers: readonly ServiceLayer[]): (Reference & { optional: boolean })[] {
  const out: (Reference & { optional: boolean })[] = [];
  for (const e of allEntries(layers, "depends_on")) {
    const doc = e.layer.scope.doc;
    if (isSeq(e.value)) {
      for (const item of e.value.items as Node[]) {
        if (isScalar(item) && item.value !== null)
          out.push({ layer: e.layer, node: item, name: String(item.value), optional: false });
      }
    } else if (isMap(e.value)) {
      for (const dep of entriesOf(e.value, doc)) {
        const required = isMap(dep.value) ? entry(dep.value, "required", doc)?.value : null;
        const optional = isScalar(required) && [false, "false"].includes(required.value as never);
        out.push({ layer: e.layer, node: dep.keyNode, name: dep.key, optional });
      }
    }
  }
  return out;
}

/** Strings of a list key (mapping items give their `field`), with the node that names each. */
function names(layers: readonly ServiceLayer[], key: string, field?: string): Reference[] {
  const out: Reference[] = [];
  for (const e of allEntries(layers, key)) {
    if (!isSeq(e.value)) continue;
    for (const item of e.value.items as Node[]) {
      const node = isMap(item) && field ? entry(item, field, e.layer.scope.doc)?.value : item;
      const name = text(e.layer, node);
      if (node && name !== undefined) out.push({ layer: e.layer, node, name });
    }
  }
  return out;
}

function mapOrListNames(layers: readonly ServiceLayer[], key: string): Reference[] {
  const out: Reference[] = names(layers, key);
  for (const e of allEntries(layers, key)) {
    if (!isMap(e.value)) continue;
    for (const item of entriesOf(e.value, e.layer.scope.doc))
      out.push({ layer: e.layer, node: item.keyNode, name: item.key });
  }
  return out;
}

function networkNames(layers: readonly ServiceLayer[]): Reference[] {
  return mapOrListNames(layers, "networks");
}

/** Named volumes a service mounts: `name:/path` (not a path: ./, /, ~) or `{type: volume, source: name}`. */
function namedVolumes(layers: readonly ServiceLayer[]): Reference[] {
  const out: Reference[] = [];
  for (const e of allEntries(layers, "volumes")) {
    if (!isSeq(e.value)) continue;
    const doc = e.layer.scope.doc;
    for (const item of e.value.items as Node[]) {
      if (isMap(item)) {
        const type = text(e.layer, entry(item, "type", doc)?.value);
        const source = entry(item, "source", doc)?.value;
        const name = text(e.layer, source);
        if (type === "volume" && source && name) out.push({ layer: e.layer, node: source, name });
        continue;
      }
      const written = text(e.layer, item);
      if (!written?.includes(":")) continue;
      const source = volumeSource(written);
      if (source) out.push({ layer: e.layer, node: item, name: source });
    }
  }
  return out;
}

/** The source of a short volume entry when it names a volume (not a host path), as compose-go's parser tells. */
export function volumeSource(written: string): string | undefined {
  if (/^[a-zA-Z]:[\\/]/.test(written)) return undefined; // a Windows drive path
  const source = written.split(":")[0]!;
  if (source === "" || /^[./~]/.test(source) || source.includes("/") || source.includes("\\"))
    return undefined;
  return source;
}

function buildSecrets(layers: readonly ServiceLayer[]): Reference[] {
  const build = lastEntry(layers, "build");
  if (!build || !isMap(build.value)) return [];
  const secrets = entry(build.value, "secrets", build.layer.scope.doc)?.value;
  if (!isSeq(secrets)) return [];
  const out: Reference[] = [];
  for (const item of secrets.items as Node[]) {
    const node = isMap(item) ? entry(item, "source", build.layer.scope.doc)?.value : item;
    const name = text(build.layer, node);
    if (node && name) out.push({ layer: build.layer, node, name });
  }
  return out;
}

function checkBuild(layers: readonly ServiceLayer[], add: Add, name: string): void {
  const build = lastEntry(layers, "build");
  if (!build || !isMap(build.value)) return;
  const doc = build.layer.scope.doc;
  const inline = entry(build.value, "dockerfile_inline", doc);
  if (inline && entry(build.value, "dockerfile", doc)) {
    add(
      { layer: build.layer, node: inline.keyNode },
      "conflictingKeys",
      `${name}: build sets both dockerfile and dockerfile_inline, which exclude each other`,
    );
  }
}

function checkHealthcheck(layers: readonly ServiceLayer[], add: Add, name: string): void {
  for (const e of allEntries(layers, "healthcheck")) {
    const test = isMap(e.value) ? entry(e.value, "test", e.layer.scope.doc)?.value : null;
    if (!isSeq(test) || test.items.length === 0) continue;
    const first = test.items[0] as Node;
    const word = isScalar(first) ? String(first.value) : "";
    if (!["CMD", "CMD-SHELL", "NONE"].includes(word)) {
      add(
        { layer: e.layer, node: first },
        "badValue",
        `${name}: a healthcheck test list must start with CMD, CMD-SHELL or NONE, not ${JSON.stringify(word)}`,
      );
    }
  }
}

function checkWatch(layers: readonly ServiceLayer[], add: Add, name: string): void {
  const develop = lastEntry(layers, "develop");
  const watch = isMap(develop?.value) ? entry(develop.value, "watch", develop.layer.scope.doc)?.value : null;
  if (!develop || !isSeq(watch)) return;
  for (const rule of watch.items as Node[]) {
    if (!isMap(rule)) continue;
    const action = text(develop.layer, entry(rule, "action", develop.layer.scope.doc)?.value);
    const target = entry(rule, "target", develop.layer.scope.doc);
    if (action && !["rebuild", "restart"].includes(action) && !target) {
      add(
        { layer: develop.layer, node: rule },
        "missingKey",
        `${name}: a develop.watch rule with action ${action} needs a target (the path in the container to sync to)`,
      );
    }
  }
}

/** env_file entries must exist unless `required: false`; often gitignored, so a warning. */
function checkEnvFiles(layers: readonly ServiceLayer[], problems: ComposeProblem[], name: string): void {
  for (const e of allEntries(layers, "env_file")) {
    const items = isSeq(e.value) ? (e.value.items as Node[]) : e.value ? [e.value] : [];
    for (const item of items) {
      const doc = e.layer.scope.doc;
      const node = isMap(item) ? entry(item, "path", doc)?.value : item;
      const required = isMap(item) ? entry(item, "required", doc)?.value : null;
      if (isScalar(required) && [false, "false"].includes(required.value as never)) continue;
      const file = text(e.layer, node);
      if (!file || existsSync(path.resolve(e.layer.scope.directory, file))) continue;
      problems.push({
        file: e.layer.scope.file,
        ...(positionOf(node, e.layer.scope.lines) ?? positionOf(e.keyNode, e.layer.scope.lines)!),
        kind: "envFileMissing",
        severity: "warning",
        message: `${name}: env_file ${file} does not exist here; compose refuses to start ${name} until it does (or mark it required: false)`,
      });
    }
  }
}

function checkTopLevel(project: ComposeProject, add: Add): void {
  for (const [, scopes] of project.parsed) {
    for (const scope of scopes ?? []) {
      const root = scope.doc.contents;
      // An override file may add labels to a secret the base file gives its file or environment.
      if (!isMap(root) || scope.partial) continue;
      for (const [section, fields] of [
        ["secrets", ["file", "environment"]],
        ["configs", ["file", "environment", "content"]],
      ] as const) {
        const map = entry(root, section, scope.doc)?.value;
        if (!isMap(map)) continue;
        for (const item of entriesOf(map, scope.doc)) {
          if (!isMap(item.value)) continue;
          const keys = entriesOf(item.value, scope.doc).map((e) => e.key);
          const set = fields.filter((f) => keys.includes(f));
          if (keys.includes("external") || keys.includes("driver")) continue;
          if (set.length === 1) continue;
          const layer = { name: item.key, scope, keyNode: item.keyNode, node: item.value } as ServiceLayer;
          add(
            { layer, node: item.keyNode },
            set.length === 0 ? "missingKey" : "conflictingKeys",
            set.length === 0
              ? `${section}.${item.key} needs one of ${fields.join(", ")} (or external: true)`
              : `${section}.${item.key} sets ${set.join(" and ")}, which exclude each other`,
          );
        }
      }
    }
  }
}

function checkCycles(graph: Map<string, Reference[]>, add: Add): void {
  const state = new Map<string, "visiting" | "done">();
  const reported = new Set<string>();
  const visit = (name: string, trail: string[]) => {
    if (state.get(name) === "done") return;
    state.set(name, "visiting");
    for (const ref of graph.get(name) ?? []) {
      if (!graph.has(ref.name)) continue;
      if (state.get(ref.name) === "visiting") {
        const start = trail.indexOf(ref.name);
        const cycle = start < 0 ? [name, ref.name] : [...trail.slice(start), name, ref.name];
        const key = [...cycle].sort().join(",");
        if (!reported.has(key)) {
          reported.add(key);
          add(
            ref,
            "dependencyCycle",
            `depends_on forms a cycle (${cycle.join(" → ")}): compose cannot start any of them`,
          );
        }
        continue;
      }
      visit(ref.name, [...trail, name]);
    }
    state.set(name, "done");
  };
  for (const name of graph.keys()) visit(name, []);
}
