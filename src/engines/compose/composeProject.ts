// A compose project as `docker compose -f a.yaml -f b.yaml` loads it: its files in order (later ones override
// earlier ones), the `.env` beside the first one for interpolation (the shell's environment wins over it, as in
// compose), the files it `include`s (each with its own `.env`), and the services it `extends`. Every file is validated
// against the Compose Specification (composeValidate.ts) and the project for its references (composeConsistency.ts).
// loadComposeProject() is the one entry point; checks and `gauntlet init` read the same model.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { type Document, isMap, isScalar, isSeq, type Node, type YAMLMap } from "yaml";
import { checkConsistency } from "./composeConsistency.js";
import { type Lookup, parseDotEnv } from "./composeInterpolation.js";
import { COMPOSE_FILE } from "./composeSchema.js";
import { buildServices, type ProjectService } from "./composeServices.js";
import {
  type ComposeProblem,
  checkInterpolation,
  type FileScope,
  interpolated,
  type VariableReference,
  validateDocument,
} from "./composeValidate.js";
import { type Entry, entriesOf, entry, overrideTag, parseComposeYaml, positionOf } from "./composeYaml.js";

export type { ProjectService } from "./composeServices.js";
export type { ComposeProblem, VariableReference } from "./composeValidate.js";

export interface ComposeSourceFile {
  /** As shown in findings: relative to the folder given as `root`, with forward slashes. */
  path: string;
  absolute: string;
  role: "file" | "include" | "extends";
  /** Why it could not be read (ENOENT, …) or parsed. */
  error?: string;
}

/** One service as written in one file: a project's service is the stack of these (extends, then overrides). */
export interface ServiceLayer {
  name: string;
  scope: FileScope;
  keyNode: Node;
  node: YAMLMap;
}

export interface ComposeProject {
  /** Folder of the first file: relative paths in the files resolve against it. */
  directory: string;
  name?: string;
  files: ComposeSourceFile[];
  /** The `.env` files read for interpolation (shown paths). */
  envFiles: string[];
  services: ProjectService[];
  /** Top-level names each file declares, merged (networks includes the implicit "default"). */
  declared: Record<"networks" | "volumes" | "secrets" | "configs" | "models", string[]>;
  /** Every problem found, in file order; `severity: "error"` means compose refuses the project. */
  problems: ComposeProblem[];
  /** Every `${…}` the files read, in file order (each use, not each name). */
  variables: VariableReference[];
  /** Remote includes (git, oci) that were not fetched. */
  remoteIncludes: string[];
  /** Each service's layers as the files write them, in load order (extends not yet applied). */
  layers: Map<string, ServiceLayer[]>;
  /** Every file parsed, by absolute path (null: unreadable or not YAML); extends reads its bases from here. */
  parsed: Map<string, FileScope[] | null>;
}

export interface LoadOptions {
  /** The environment compose would interpolate from (the shell's); `.env` fills what it does not set. */
  env?: NodeJS.ProcessEnv;
  /** Folder that shown paths are relative to (the spec's folder); default: the first file's folder. */
  root?: string;
}

interface Loader {
  root: string;
  env: NodeJS.ProcessEnv;
  project: ComposeProject;
  /** Absolute paths being loaded, to stop include cycles. */
  stack: string[];
  /** The first file of the -f list: the later ones override it and may leave out what it sets. */
  base: string;
}

const TOP_LEVEL = ["networks", "volumes", "secrets", "configs", "models"] as const;

/**
 * Loads a compose project from one file or several (`-f a -f b`: later files override earlier ones). Never throws
 * for what a user can get wrong: unreadable files and invalid content become `problems`.
 */
export async function loadComposeProject(
  files: string | readonly string[],
  options: LoadOptions = {},
): Promise<ComposeProject> {
  const list = (typeof files === "string" ? [files] : [...files]).map((f) => path.resolve(f));
  const directory = path.dirname(list[0]!);
  const project: ComposeProject = {
    directory,
    files: [],
    envFiles: [],
    services: [],
    declared: { networks: ["default"], volumes: [], secrets: [], configs: [], models: [] },
    problems: [],
    variables: [],
    remoteIncludes: [],
    layers: new Map(),
    parsed: new Map(),
  };
  const loader: Loader = {
    root: path.resolve(options.root ?? directory),
    env: options.env ?? {},
    project,
    stack: [],
    base: list[0]!,
  };
  const lookup = await projectLookup(loader, directory, []);
  for (const file of list) await loadFile(loader, file, lookup, "file");
  project.services = buildServices(project);
  checkConsistency(project);
  return project;
}

/** Shown path of an absolute one. */
function shown(loader: Loader, absolute: string): string {
  const relative = path.relative(loader.root, absolute).split(path.sep).join("/");
  return relative === "" ? path.basename(absolute) : relative;
}

/** Interpolation lookup for a project folder: the environment, then its `.env` (or the env files given). */
async function projectLookup(loader: Loader, directory: string, envFiles: string[]): Promise<Lookup> {
  const files = envFiles.length > 0 ? envFiles : [path.join(directory, ".env")];
  const values = new Map<string, string>();
  const env = loader.env;
  for (const file of files) {
    const text = await readFile(file, "utf8").catch(() => null);
    if (text === null) {
      if (envFiles.length > 0) {
        loader.project.problems.push({
          file: shown(loader, file),
          kind: "missingFile",
          severity: "error",
          line: 1,
          column: 1,
          message: `${shown(loader, file)} (an include's env_file) does not exist`,
        });
      }
      continue;
    }
    loader.project.envFiles.push(shown(loader, file));
    const parsed = parseDotEnv(text, (name) => env[name] ?? values.get(name));
    for (const e of parsed.entries) values.set(e.name, e.value);
    if (parsed.error) {
      loader.project.problems.push({
        file: shown(loader, file),
        kind: "dotenvInvalid",
        severity: "error",
        line: parsed.error.line,
        column: 1,
        message: `${shown(loader, file)}:${parsed.error.line}: ${parsed.error.message}; compose refuses to read it`,
      });
    }
  }
  return (name) => env[name] ?? values.get(name);
}

/** Reads, parses and validates one file, then records what it declares and loads what it includes. */
async function loadFile(
  loader: Loader,
  file: string,
  lookup: Lookup,
  role: ComposeSourceFile["role"],
): Promise<FileScope[] | null> {
  const scopes = await parseFile(loader, file, lookup, role);
  if (!scopes) return null;
  loader.stack.push(file);
  for (const scope of scopes) {
    const root = scope.doc.contents;
    if (!isMap(root)) continue;
    const name = entry(root, "name", scope.doc);
    if (name && isScalar(name.value) && role === "file") {
      const { value, unknown } = interpolated(name.value, lookup);
      if (!unknown && typeof value === "string") loader.project.name = value;
    }
    for (const kind of TOP_LEVEL) declare(loader, scope, root, kind);
    await loadIncludes(loader, scope, root, path.dirname(file));
    const services = entry(root, "services", scope.doc)?.value;
    if (isMap(services)) {
      for (const e of entriesOf(services, scope.doc)) {
        addLayer(loader, scope, e);
        await loadExtendedFile(loader, scope, e.value, lookup);
      }
    }
  }
  loader.stack.pop();
  return scopes;
}

/** Parses and validates a file once, however many times it is included or extended. */
async function parseFile(
  loader: Loader,
  file: string,
  lookup: Lookup,
  role: ComposeSourceFile["role"],
): Promise<FileScope[] | null> {
  if (loader.project.parsed.has(file)) return loader.project.parsed.get(file)!;
  const shownPath = shown(loader, file);
  const source: ComposeSourceFile = { path: shownPath, absolute: file, role };
  loader.project.files.push(source);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    source.error = code;
    loader.project.parsed.set(file, null);
    // A missing include or extends base is reported at the line that names it, not at line 1 of a file that is not there.
    if (role !== "file" && code === "ENOENT") return null;
    loader.project.problems.push({
      file: shownPath,
      kind: "missingFile",
      severity: "error",
      line: 1,
      column: 1,
      message: code === "ENOENT" ? `${shownPath} does not exist` : `${shownPath} cannot be read (${code})`,
    });
    return null;
  }
  const parsed = parseComposeYaml(text);
  if (parsed.errors.length > 0) {
    source.error = "not valid YAML";
    loader.project.parsed.set(file, null);
    for (const error of parsed.errors.slice(0, 5)) {
      loader.project.problems.push({
        file: shownPath,
        kind: "yamlError",
        severity: "error",
        line: error.line,
        column: error.column,
        message: error.message,
      });
    }
    return null;
  }
  const scopes: FileScope[] = [];
  for (const doc of parsed.docs) {
    if (doc.contents === null && parsed.docs.length > 1) continue;
    const scope: FileScope = {
      file: shownPath,
      directory: path.dirname(file),
      partial: role === "file" && file !== loader.base,
      doc,
      lines: parsed.lines,
      source: text,
      lookup,
      problems: loader.project.problems,
      variables: loader.project.variables,
    };
    checkInterpolation(scope);
    validateDocument(scope, doc.contents, COMPOSE_FILE);
    scopes.push(scope);
  }
  loader.project.parsed.set(file, scopes);
  return scopes;
}

function declare(loader: Loader, scope: FileScope, root: YAMLMap, kind: (typeof TOP_LEVEL)[number]): void {
  const section = entry(root, kind, scope.doc)?.value;
  if (!isMap(section)) return;
  const names = loader.project.declared[kind];
  for (const e of entriesOf(section, scope.doc)) {
    if (overrideTag(e.value) === "reset") continue;
    if (!names.includes(e.key)) names.push(e.key);
  }
}

function addLayer(loader: Loader, scope: FileScope, e: Entry): void {
  if (!isMap(e.value)) return;
  const layers = loader.project.layers.get(e.key) ?? [];
  layers.push({ name: e.key, scope, keyNode: e.keyNode, node: e.value });
  loader.project.layers.set(e.key, layers);
}

const REMOTE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@|oci:)/i;

async function loadIncludes(
  loader: Loader,
  scope: FileScope,
  root: YAMLMap,
  directory: string,
): Promise<void> {
  const include = entry(root, "include", scope.doc)?.value;
  if (!isSeq(include)) return;
  for (const item of include.items as Node[]) {
    const spec = includeSpec(item, scope.doc);
    if (!spec) continue;
    const paths = spec.paths.map((p) => textValue(p, scope.lookup)).filter((p) => p !== undefined);
    if (paths.length === 0) continue;
    if (paths.some((p) => REMOTE.test(p))) {
      loader.project.remoteIncludes.push(...paths.filter((p) => REMOTE.test(p)));
      continue;
    }
    const absolute = paths.map((p) => path.resolve(directory, p));
    const where = positionOf(item, scope.lines)!;
    if (absolute.some((a) => loader.stack.includes(a))) {
      loader.project.problems.push({
        file: scope.file,
        kind: "unreadableReference",
        severity: "error",
        ...where,
        message: `include ${paths.join(", ")} includes a file that includes it back (a cycle): compose refuses it`,
      });
      continue;
    }
    const projectDirectory = spec.projectDirectory
      ? path.resolve(directory, textValue(spec.projectDirectory, scope.lookup) ?? ".")
      : path.dirname(absolute[0]!);
    const envFiles = spec.envFiles
      .map((f) => textValue(f, scope.lookup))
      .filter((f): f is string => f !== undefined && f !== "/dev/null")
      .map((f) => path.resolve(directory, f));
    const includedLookup = await projectLookup(loader, projectDirectory, envFiles);
    // The including project's environment wins over the included one's .env (compose-go: Mapping.Merge).
    const lookup: Lookup = (name) => scope.lookup(name) ?? includedLookup(name);
    for (const file of absolute) {
      const loaded = await loadFile(loader, file, lookup, "include");
      if (!loaded && loader.project.files.find((f) => f.absolute === file)?.error === "ENOENT") {
        // Point at the include entry too: that is the line to fix.
        loader.project.problems.push({
          file: scope.file,
          kind: "unreadableReference",
          severity: "error",
          ...where,
          message: `include names ${shown(loader, file)}, which does not exist: compose refuses the project`,
        });
      }
    }
  }
}

function includeSpec(
  item: Node,
  doc: Document,
): { paths: Node[]; envFiles: Node[]; projectDirectory?: Node } | undefined {
  if (isScalar(item)) return { paths: [item], envFiles: [] };
  if (!isMap(item)) return undefined;
  const listOf = (key: string): Node[] => {
    const value = entry(item, key, doc)?.value;
    if (isSeq(value)) return value.items as Node[];
    return value ? [value] : [];
  };
  const projectDirectory = entry(item, "project_directory", doc)?.value ?? undefined;
  return {
    paths: listOf("path"),
    envFiles: listOf("env_file"),
    ...(projectDirectory ? { projectDirectory } : {}),
  };
}

/** A scalar's text after interpolation; undefined when it is not a string or depends on an unset variable. */
export function textValue(node: Node | null | undefined, lookup: Lookup): string | undefined {
  if (!isScalar(node) || node.value === null || typeof node.value === "object") return undefined;
  const { value, unknown } = interpolated(node, lookup);
  return unknown ? undefined : String(value);
}

/** `extends: {file: base.yaml, service: x}`: the base file is parsed and validated (its services are not added). */
async function loadExtendedFile(loader: Loader, scope: FileScope, service: Node | null, lookup: Lookup) {
  if (!isMap(service)) return;
  const extendsNode = entry(service, "extends", scope.doc)?.value;
  if (!isMap(extendsNode)) return;
  const file = textValue(entry(extendsNode, "file", scope.doc)?.value, scope.lookup);
  if (!file || REMOTE.test(file)) return;
  await parseFile(loader, path.resolve(scope.directory, file), lookup, "extends");
}
