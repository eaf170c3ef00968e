// What a project folder says about the system it holds, as a draft of its gauntlet.yaml: services from compose (URLs
// from published ports, health paths from healthchecks that curl one, kinds from images, dependsOn from depends_on,
// public when published beyond loopback) and from Kubernetes Services, the deployment, monitoring, operations and
// recovery files found (projectFiles.ts). Every guess is marked; what only the user knows (credentials, commands that
// act on the system) becomes a TODO, never a value. Secrets met on the way (compose environment values, a
// healthcheck's command line) are never copied into the draft.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { isDatastoreKind, type Kind } from "../../spec/kinds.js";
import { loadComposeProject, type ProjectService } from "../compose/composeProject.js";
import { hostIpScope, kindOfImage } from "../compose/publishedPorts.js";
import { findDockerfiles } from "../dockerfile/discover.js";
import { type KubeService, readKubernetesServices } from "./kubernetesManifests.js";
import { findProjectFiles, type ProjectFiles } from "./projectFiles.js";

export interface DraftService {
  name: string;
  /** Comment lines above the entry: where it comes from and what was seen. */
  about: string[];
  kind?: Kind;
  url?: string;
  health?: string;
  exposure: "public" | "internal";
  dependsOn: string[];
  /** What the user must fill in: a TODO sentence, and the key to complete and uncomment (a URL with ${PASSWORD}). */
  todo: { text: string; line?: string }[];
}

export interface SystemDraft {
  system: { name: string; version?: string; from: string };
  services: DraftService[];
  deployment: {
    compose: string[];
    dockerfiles: string[];
    kubernetes: string[];
    scripts: string[];
    /** A deploy command to propose (commented: it acts on the system). */
    deploy?: { command: string; why: string };
    env?: { example: string; names: string[] };
  };
  monitoring: { rules: string[]; prometheus?: string; alertmanager?: string };
  operations: {
    runbooks?: string;
    coverage?: string;
    /** A coverage script with no report yet. */
    coverageHint?: string;
    ci: string[];
    rollback?: string;
  };
  recovery: { backups: { service: string; path: string; note?: string }[] };
  /** What was found, one line each, for the user. */
  found: string[];
  /** Problems noticed on the way (a compose file compose would refuse, a name clash). */
  notes: string[];
}

const SPEC_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const URL_SCHEMES: Partial<Record<Kind, string>> = {
  postgres: "postgres",
  pgbouncer: "postgres",
  redis: "redis",
  mysql: "mysql",
  mongodb: "mongodb",
  memcached: "memcached",
  kafka: "kafka",
  rabbitmq: "amqp",
};
/** Environment entries whose literal value names the user or database a datastore URL needs (never a secret). */
const URL_USER = /^(POSTGRES_USER|MYSQL_USER|MARIADB_USER|MONGO_INITDB_ROOT_USERNAME|RABBITMQ_DEFAULT_USER)$/;
const URL_DB = /^(POSTGRES_DB|MYSQL_DATABASE|MARIADB_DATABASE|MONGO_INITDB_DATABASE)$/;
const URL_PASSWORD =
  /^(POSTGRES_PASSWORD|MYSQL_PASSWORD|MYSQL_ROOT_PASSWORD|MARIADB_PASSWORD|MARIADB_ROOT_PASSWORD|MONGO_INITDB_ROOT_PASSWORD|REDIS_PASSWORD|RABBITMQ_DEFAULT_PASS)$/;
const PROMETHEUS_IMAGE = /(^|\/)prometheus(:|@|$)/;
const ALERTMANAGER_IMAGE = /(^|\/)alertmanager(:|@|$)/;
const HTTPS_PORTS = new Set(["443", "8443"]);
const WITH_PASSWORD = new Set<Kind>(["postgres", "pgbouncer", "redis", "mysql", "mongodb", "rabbitmq"]);
/** Images whose own health endpoint is well known. */
const IMAGE_HEALTH: readonly [RegExp, string][] = [
  [/(^|\/)(prometheus|alertmanager)(:|@|$)/, "/-/healthy"],
  [/(^|\/)grafana(:|@|$)/, "/api/health"],
];

/** A name the spec accepts (letters, digits, - _ ., starting with a letter), as close to `raw` as possible. */
export function specName(raw: string, prefix = "svc"): string {
  const cleaned = raw.replace(/^@[^/]+\//, "").replace(/[^A-Za-z0-9_.-]+/g, "-");
  if (SPEC_NAME.test(cleaned)) return cleaned;
  const prefixed = `${prefix}-${cleaned}`.replace(/-+/g, "-");
  return SPEC_NAME.test(prefixed) ? prefixed : prefix;
}

/** The path a healthcheck test requests from its own container with curl or wget, when it names one. */
export function healthPathOf(test: readonly string[] | undefined): string | undefined {
  if (!test?.length || test[0] === "NONE") return undefined;
  const words = test[0] === "CMD" || test[0] === "CMD-SHELL" ? test.slice(1) : test;
  const command = words.join(" ");
  if (!/\b(curl|wget)\b/.test(command)) return undefined;
  const match = /(?:https?:\/\/)?(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::\d+)?(\/[^\s'"|;&)]*)/.exec(
    command,
  );
  const found = match?.[1];
  return found && found.length > 1 ? found : undefined;
}

function envVarName(service: string, what: string): string {
  return `${service
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")}_${what}`;
}

/** Reads `dir` and returns the draft of its spec. Never throws for what is in the folder: problems become notes. */
export async function discoverSystem(dir: string, env: NodeJS.ProcessEnv = {}): Promise<SystemDraft> {
  const files = await findProjectFiles(dir);
  const draft: SystemDraft = {
    system: { name: specName(path.basename(path.resolve(dir)), "system"), from: "the folder's name" },
    services: [],
    deployment: { compose: files.composeFiles, dockerfiles: [], kubernetes: files.kubernetes, scripts: [] },
    monitoring: { rules: files.ruleFiles },
    operations: { ci: ciGlobs(files.ci) },
    recovery: { backups: [] },
    found: [],
    notes: [],
  };
  if (files.truncated)
    draft.notes.push("the folder has more files than init looks at: some may be missing below");

  const pkg = files.packageJson ? await readPackageJson(path.join(dir, files.packageJson)) : null;
  if (pkg?.name)
    draft.system = {
      name: specName(pkg.name, "system"),
      from: "package.json",
      ...(pkg.version ? { version: pkg.version } : {}),
    };

  for (const set of files.composeSets) await addComposeServices(draft, dir, set.files, env);
  if (files.composeFiles.length > 0) {
    draft.found.push(
      `compose: ${files.composeFiles.join(", ")} (${draft.services.length} service${draft.services.length === 1 ? "" : "s"}${draft.services.length ? `: ${draft.services.map((s) => s.name).join(", ")}` : ""})`,
    );
  }
  if (files.kubernetes.length > 0) {
    const kube = await readKubernetesServices(dir, files.kubernetes);
    const added = addKubernetesServices(draft, kube);
    draft.found.push(
      `Kubernetes manifests: ${files.kubernetes.join(", ")} (${kube.length} Service${kube.length === 1 ? "" : "s"}${added.length ? `; added ${added.join(", ")}` : ""})`,
    );
  }

  draft.deployment.dockerfiles = await findDockerfiles(dir);
  if (draft.deployment.dockerfiles.length)
    draft.found.push(`Dockerfiles: ${draft.deployment.dockerfiles.join(", ")}`);

  draft.deployment.scripts = [...files.deployScripts, ...files.rollbackScripts];
  if (files.deployScripts.length) {
    draft.found.push(`deploy scripts: ${files.deployScripts.join(", ")}`);
    draft.deployment.deploy = {
      command: commandFor(files.deployScripts[0]!),
      why: `${files.deployScripts[0]} looks like the deploy`,
    };
  } else if (files.composeSets.length) {
    const set = files.composeSets[0]!;
    draft.deployment.deploy = {
      command: `docker compose${set.files.map((f) => ` -f ${f}`).join("")} up -d --wait`,
      why: "compose deploys it; the containers it starts run outside the scratch copy and are not stopped by Gauntlet",
    };
  }
  if (files.rollbackScripts.length) {
    draft.found.push(`rollback scripts: ${files.rollbackScripts.join(", ")}`);
    draft.operations.rollback = commandFor(files.rollbackScripts[0]!);
  }

  if (files.envExample) {
    const names = await envNames(path.join(dir, files.envExample));
    draft.deployment.env = { example: files.envExample, names };
    draft.found.push(
      `environment example: ${files.envExample} (${names.length} variable${names.length === 1 ? "" : "s"})`,
    );
  }
  if (files.ruleFiles.length) draft.found.push(`Prometheus rule files: ${files.ruleFiles.join(", ")}`);
  if (files.coverageReports.length) {
    const report = files.coverageReports[0]!;
    draft.operations.coverage = report.path;
    draft.found.push(`coverage report: ${report.path} (${report.format})`);
  } else if (pkg?.coverageScript) {
    draft.operations.coverageHint = pkg.coverageScript;
  }
  if (pkg?.scripts.length) draft.found.push(`package.json scripts: ${pkg.scripts.join(", ")}`);
  if (files.runbooks) {
    draft.operations.runbooks = files.runbooks;
    draft.found.push(`runbooks: ${files.runbooks}/`);
  }
  if (files.ci.length) draft.found.push(`CI pipelines: ${files.ci.join(", ")}`);
  await addBackups(draft, dir, files);
  return draft;
}

/** The command that runs a script of the project from its top folder (sh does not search PATH for `./x`). */
function commandFor(script: string): string {
  return `./${script}`;
}

function ciGlobs(ci: readonly string[]): string[] {
  const globs: string[] = [];
  if (ci.some((f) => f.startsWith(".github/workflows/") && f.endsWith(".yml")))
    globs.push(".github/workflows/*.yml");
  if (ci.some((f) => f.startsWith(".github/workflows/") && f.endsWith(".yaml")))
    globs.push(".github/workflows/*.yaml");
  if (ci.includes(".gitlab-ci.yml")) globs.push(".gitlab-ci.yml");
  return globs;
}

async function readPackageJson(
  file: string,
): Promise<{ name?: string; version?: string; scripts: string[]; coverageScript?: string } | null> {
  const text = await readFile(file, "utf8").catch(() => null);
  if (text === null) return null;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  const scripts =
    json.scripts && typeof json.scripts === "object" ? (json.scripts as Record<string, unknown>) : {};
  const names = Object.keys(scripts).filter((n) => /^(test|coverage|test:[\w:-]+|deploy|build)$/.test(n));
  const coverage = Object.entries(scripts).find(
    ([n, v]) => n === "coverage" || (typeof v === "string" && /--coverage\b|\bc8\b|\bnyc\b/.test(v)),
  );
  return {
    ...(typeof json.name === "string" && json.name ? { name: json.name } : {}),
    ...(typeof json.version === "string" && json.version ? { version: json.version } : {}),
    scripts: names,
    ...(coverage ? { coverageScript: `npm run ${coverage[0]}` } : {}),
  };
}

async function envNames(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  const names = [...text.matchAll(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)].map((m) => m[1]!);
  return [...new Set(names)];
}

async function addComposeServices(
  draft: SystemDraft,
  dir: string,
  files: string[],
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const project = await loadComposeProject(
    files.map((f) => path.join(dir, f)),
    { env, root: dir },
  );
  const refused = project.problems.filter((p) => p.severity === "error");
  if (refused.length) {
    const first = refused[0]!;
    draft.notes.push(
      `${files.join(" + ")}: ${refused.length} problem${refused.length === 1 ? "" : "s"} compose would refuse (first: ${first.file}:${first.line}: ${first.message}); composeFilesValid reports them all`,
    );
  }
  if (project.name && draft.system.from === "the folder's name") {
    draft.system = {
      name: specName(project.name, "system"),
      from: `the compose project's name (${files[0]})`,
    };
  }
  const names = new Map(project.services.map((s) => [s.name, specName(s.name)]));
  for (const service of project.services) {
    const name = names.get(service.name)!;
    if (draft.services.some((s) => s.name === name)) {
      draft.notes.push(
        `${files[0]}: service ${service.name} is already described by another compose file: kept the first`,
      );
      continue;
    }
    const item = composeService(service, name, names);
    if (name !== service.name)
      item.about.push(`compose service "${service.name}" (renamed: the spec's names start with a letter)`);
    draft.services.push(item);
    const image = service.image?.value ?? service.image?.written ?? "";
    if (item.url && PROMETHEUS_IMAGE.test(image) && !draft.monitoring.prometheus)
      draft.monitoring.prometheus = item.url;
    if (item.url && ALERTMANAGER_IMAGE.test(image) && !draft.monitoring.alertmanager)
      draft.monitoring.alertmanager = item.url;
  }
}

function composeService(
  service: ProjectService,
  name: string,
  names: ReadonlyMap<string, string>,
): DraftService {
  const image = service.image?.value ?? service.image?.written;
  const kind = service.kind ?? kindOfImage(image);
  const published = service.ports.filter((p) => p.published && !p.unresolved && !p.target.endsWith("/udp"));
  const built = service.build ? `build ${service.build.context ?? "."}` : undefined;
  const about = [
    `${service.file}:${service.line}: ${[image ? `image ${image}` : undefined, built].filter(Boolean).join(", ") || "no image"}`,
  ];
  if (service.profiles.length)
    about.push(
      `only with the compose profile${service.profiles.length === 1 ? "" : "s"} ${service.profiles.join(", ")}`,
    );
  const item: DraftService = {
    name,
    about,
    ...(kind && kind !== "http" ? { kind } : {}),
    exposure: "internal",
    dependsOn: service.dependsOn
      .map((d) => names.get(d.service))
      .filter((d): d is string => Boolean(d) && d !== name),
    todo: [],
  };
  item.dependsOn = [...new Set(item.dependsOn)];
  const first = published[0];
  if (published.length) {
    const on = (p: (typeof published)[number]) =>
      hostIpScope(p.hostIp) === "everyInterface" ? " on every interface" : ` on ${p.hostIp}`;
    about.push(`publishes ${published.map((p) => `${p.published}→${p.target}${on(p)}`).join(", ")}`);
  } else {
    const exposed = [...new Set([...service.expose, ...service.ports.map((p) => p.target)])];
    about.push(
      `not published to the host${exposed.length ? ` (listens on ${exposed.join(", ")} inside the compose network)` : ""}`,
    );
  }
  const hostPort = first?.published.split("-")[0];
  const scope = first ? hostIpScope(first.hostIp) : undefined;
  const host =
    !first || scope !== "specific"
      ? "127.0.0.1"
      : first.hostIp.includes(":")
        ? `[${first.hostIp}]`
        : first.hostIp;
  if (kind && isDatastoreKind(kind)) {
    // A datastore is internal whatever it publishes: internalServicesNotExposed says when it is reachable beyond.
    const scheme = URL_SCHEMES[kind]!;
    const user = kind === "redis" ? "" : (literalEnv(service, URL_USER) ?? "USER");
    const db = literalEnv(service, URL_DB);
    const passwordVar = passwordVariable(service) ?? envVarName(name, "PASSWORD");
    // Only the kinds whose servers take a password in the URL get one to fill in (not memcached, not Kafka).
    const credentials = WITH_PASSWORD.has(kind) ? `${user}:\${${passwordVar}}@` : "";
    const where = first ? `${host}:${hostPort}` : undefined;
    const suffix =
      scheme === "postgres" || scheme === "mysql" || scheme === "mongodb" ? `/${db ?? "DB"}` : "";
    if (where) {
      item.url = `${scheme}://${where}${credentials ? "" : suffix}`;
      if (credentials) {
        item.todo.push({
          text: "the URL with the user and the password from the environment (then remove the line above)",
          line: `url: ${scheme}://${credentials}${where}${suffix}`,
        });
      }
    } else {
      item.todo.push({
        text: `not published to the host: publish its port on loopback (e.g. "127.0.0.1:${defaultPort(kind)}:${defaultPort(kind)}") to let Gauntlet probe it, then`,
        line: `url: ${scheme}://${credentials}127.0.0.1:${defaultPort(kind)}${suffix}`,
      });
    }
    return item;
  }
  if (first && hostPort) {
    const targetPort = first.target.split("/")[0]!.split("-")[0]!;
    item.url = `${HTTPS_PORTS.has(targetPort) ? "https" : "http"}://${host}:${hostPort}`;
    item.exposure = published.some((p) => hostIpScope(p.hostIp) !== "loopback") ? "public" : "internal";
  } else {
    item.todo.push({
      text: "not published to the host: give it a URL Gauntlet can reach (publish a port on loopback), or leave it without one (its probes are then UNVERIFIED)",
    });
  }
  const health =
    healthPathOf(service.healthcheck?.disabled ? undefined : service.healthcheck?.test) ??
    IMAGE_HEALTH.find(([pattern]) => pattern.test(image ?? ""))?.[1];
  if (health) item.health = health;
  else if (item.url) {
    item.todo.push({
      text: "its health endpoint, if it has one (the compose healthcheck names none)",
      line: "health: /healthz",
    });
  }
  return item;
}

function defaultPort(kind: Kind): number {
  const ports: Partial<Record<Kind, number>> = {
    postgres: 5432,
    pgbouncer: 6432,
    redis: 6379,
    mysql: 3306,
    mongodb: 27017,
    memcached: 11211,
    kafka: 9092,
    rabbitmq: 5672,
  };
  return ports[kind] ?? 0;
}

/** A literal (not interpolated) environment value of `service` whose name matches `pattern`. */
function literalEnv(service: ProjectService, pattern: RegExp): string | undefined {
  const found = service.environment.find(
    (e) => pattern.test(e.name) && e.written !== null && !e.interpolated,
  );
  const value = found?.written ?? undefined;
  return value && /^[A-Za-z0-9_.-]{1,63}$/.test(value) ? value : undefined;
}

/** The variable a datastore's password comes from, when compose takes it from one (`${DB_PASSWORD}`). */
function passwordVariable(service: ProjectService): string | undefined {
  const found = service.environment.find((e) => URL_PASSWORD.test(e.name) && e.written !== null);
  const match = found?.written ? /^\$\{?([A-Za-z_][A-Za-z0-9_]*)/.exec(found.written) : null;
  return match?.[1];
}

function addKubernetesServices(draft: SystemDraft, services: readonly KubeService[]): string[] {
  const added: string[] = [];
  for (const service of services) {
    const name = specName(service.name);
    if (draft.services.some((s) => s.name === name)) {
      draft.notes.push(
        `${service.file}:${service.line}: Kubernetes Service ${service.name} has the name of a compose service: kept the compose one`,
      );
      continue;
    }
    const images = service.workloads.flatMap((w) => w.images);
    const kind = images.map((i) => kindOfImage(i)).find(Boolean);
    const port = service.ports[0];
    const isPublic = service.type === "LoadBalancer" || service.type === "NodePort" || service.ingress;
    const about = [
      `${service.file}:${service.line}: Kubernetes Service ${service.name} (${service.type}${port ? `, port ${service.ports.map((p) => p.port).join(", ")}` : ""}) in namespace ${service.namespace}`,
    ];
    if (service.workloads.length) {
      about.push(
        `runs ${service.workloads.map((w) => `${w.kind} ${w.name}${w.images.length ? ` (${w.images.join(", ")})` : ""}`).join("; ")}`,
      );
    }
    if (service.ingress) about.push("an Ingress routes to it");
    const item: DraftService = {
      name,
      about,
      ...(kind ? { kind } : {}),
      exposure: isPublic ? "public" : "internal",
      dependsOn: [],
      todo: [],
    };
    const probe = service.workloads.find((w) => w.httpProbe)?.httpProbe;
    if (!kind && probe) item.health = probe.path;
    const local = port ? (port.port < 1024 ? port.port + 8000 : port.port) : 8080;
    const scheme = kind ? (URL_SCHEMES[kind] ?? "tcp") : "http";
    item.todo.push({
      text: `a URL Gauntlet can reach, e.g. after \`kubectl port-forward -n ${service.namespace} svc/${service.name} ${local}:${port?.port ?? 80}\``,
      line:
        kind && isDatastoreKind(kind)
          ? `url: ${scheme}://USER:\${${envVarName(name, "PASSWORD")}}@127.0.0.1:${local}`
          : `url: ${scheme}://127.0.0.1:${local}`,
    });
    const selector = Object.entries(service.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    if (selector) {
      item.todo.push({
        text: "to inject faults into it (destructive runs only), how to reach its pods, with the kubeconfig context",
        line: `control: { kubernetes: { namespace: ${service.namespace}, selector: "${selector}", context: CONTEXT } }`,
      });
    }
    draft.services.push(item);
    added.push(name);
  }
  return added;
}

/** recovery.backups for the first durable datastore, when the project keeps a backups folder. */
async function addBackups(draft: SystemDraft, dir: string, files: ProjectFiles): Promise<void> {
  const folder = files.backupFolders[0];
  if (!folder) return;
  const store = draft.services.find(
    (s) => s.kind && isDatastoreKind(s.kind) && s.kind !== "memcached" && s.kind !== "pgbouncer",
  );
  const entries = await readdir(path.join(dir, folder)).catch(() => [] as string[]);
  const extensions = entries
    .filter((e) => !e.startsWith("."))
    .map((e) => (e.includes(".") ? e.slice(e.indexOf(".")) : ""))
    .filter(Boolean);
  const common = mostCommon(extensions);
  draft.found.push(
    `backups folder: ${folder}/ (${entries.filter((e) => !e.startsWith(".")).length} file(s))`,
  );
  if (!store) {
    draft.notes.push(
      `${folder}/ holds backups, but no datastore service was found to tie them to: recovery.backups is left out`,
    );
    return;
  }
  draft.recovery.backups.push({
    service: store.name,
    path: `${folder}/*${common ?? ""}`,
    ...(common ? {} : { note: "no backup file in it yet: write the glob of the files your backup writes" }),
  });
}

function mostCommon(values: readonly string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
}
