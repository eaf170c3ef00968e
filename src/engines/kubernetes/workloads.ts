// What the manifests say about the running system, as plain data with a place for every fact: workloads (the pod
// template of a Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob) with each container's image,
// resources, probes and effective security context; Services with their selectors; PodDisruptionBudgets, Ingress
// backends and HorizontalPodAutoscalers. The rules (review.ts) judge these facts; `gauntlet init` reads them to name
// Services and Deployments. No value that may be secret is kept: an exec probe is compared by a hash of its command.
import { createHash } from "node:crypto";
import type { FieldPath, ManifestObject } from "./manifests.js";

export interface Place {
  file: string;
  line: number;
  column: number;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface ProbeFacts {
  type: "httpGet" | "tcpSocket" | "grpc" | "exec" | "other";
  path?: string;
  port?: string | number;
  /** Equal keys mean the same probe (kube-score's comparison: path and port, port, or the exec command). */
  key: string;
  at: Place;
}

export interface ContainerFacts {
  name: string;
  init: boolean;
  /** An init container with `restartPolicy: Always`: a sidecar that runs beside the app for the pod's life. */
  sidecar: boolean;
  at: Place;
  image?: string;
  imageAt: Place;
  imagePullPolicy?: string;
  requests: { cpu: boolean; memory: boolean };
  limits: { cpu: boolean; memory: boolean };
  resourcesAt: Place;
  readiness?: ProbeFacts;
  liveness?: ProbeFacts;
  startup?: ProbeFacts;
  /** The container's securityContext, or the container when it has none. */
  securityAt: Place;
  /** Effective (the container's value, else the pod's). */
  runAsNonRoot?: boolean;
  runAsUser?: number;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilitiesAdd: string[];
  capabilitiesDrop: string[];
  ports: { name?: string; containerPort?: number }[];
}

export interface WorkloadFacts {
  kind: string;
  name: string;
  namespace?: string;
  at: Place;
  /** spec.replicas as written; absent when not written (the API's default is 1). */
  replicas?: number;
  replicasAt: Place;
  podLabels: Record<string, string>;
  selector?: LabelSelector;
  selectorAt: Place;
  hostNetwork: boolean;
  hostPID: boolean;
  hostIPC: boolean;
  hostAt: Place;
  containers: ContainerFacts[];
}

export interface ServiceFacts {
  name: string;
  namespace?: string;
  type: string;
  /** Absent for a Service without selector (its Endpoints are managed by hand) or an ExternalName one. */
  selector?: Record<string, string>;
  selectorAt: Place;
  ports: { name?: string; port?: number; targetPort?: string | number; nodePort?: number }[];
  at: Place;
}

export interface PdbFacts {
  name: string;
  namespace?: string;
  selector?: LabelSelector;
  minAvailable?: string | number;
  maxUnavailable?: string | number;
  at: Place;
}

export interface IngressFacts {
  name: string;
  namespace?: string;
  backends: { service: string; port?: string | number; at: Place }[];
  at: Place;
}

export interface HpaFacts {
  name: string;
  namespace?: string;
  target: { kind: string; name: string };
  minReplicas?: number;
  at: Place;
}

export interface KubernetesFacts {
  workloads: WorkloadFacts[];
  services: ServiceFacts[];
  pdbs: PdbFacts[];
  ingresses: IngressFacts[];
  hpas: HpaFacts[];
  /** Objects that name the `default` namespace explicitly. */
  defaultNamespace: { kind: string; name: string; at: Place }[];
}

/** Where each kind keeps its pod template (metadata + spec). */
const POD_TEMPLATE: Readonly<Record<string, FieldPath>> = {
  Pod: [],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};
const BUILT_IN_GROUPS = new Set(["v1", "apps", "batch", "extensions"]);

export function kubernetesFacts(objects: ManifestObject[]): KubernetesFacts {
  const facts: KubernetesFacts = {
    workloads: [],
    services: [],
    pdbs: [],
    ingresses: [],
    hpas: [],
    defaultNamespace: [],
  };
  for (const object of objects) {
    const place = (path: FieldPath): Place => ({ file: object.file, ...object.positionOf(path) });
    const base = {
      name: object.name,
      ...(object.namespace ? { namespace: object.namespace } : {}),
      at: place([]),
    };
    if (object.namespace === "default")
      facts.defaultNamespace.push({
        kind: object.kind,
        name: object.name,
        at: place(["metadata", "namespace"]),
      });
    const group = object.apiVersion.includes("/") ? object.apiVersion.split("/")[0]! : "v1";
    const template = POD_TEMPLATE[object.kind];
    if (template && BUILT_IN_GROUPS.has(group)) {
      facts.workloads.push(workloadFacts(object, template, place, base));
    } else if (object.kind === "Service" && group === "v1") {
      facts.services.push(serviceFacts(object.value, place, base));
    } else if (object.kind === "PodDisruptionBudget" && group === "policy") {
      const spec = record(object.value.spec);
      facts.pdbs.push({
        ...base,
        ...(selectorOf(spec.selector) ? { selector: selectorOf(spec.selector)! } : {}),
        ...(intOrString(spec.minAvailable) !== undefined
          ? { minAvailable: intOrString(spec.minAvailable)! }
          : {}),
        ...(intOrString(spec.maxUnavailable) !== undefined
          ? { maxUnavailable: intOrString(spec.maxUnavailable)! }
          : {}),
      });
    } else if (object.kind === "Ingress" && (group === "networking.k8s.io" || group === "extensions")) {
      facts.ingresses.push({ ...base, backends: ingressBackends(object.value, place) });
    } else if (object.kind === "HorizontalPodAutoscaler" && group === "autoscaling") {
      const spec = record(object.value.spec);
      const ref = record(spec.scaleTargetRef);
      facts.hpas.push({
        ...base,
        target: { kind: str(ref.kind) ?? "", name: str(ref.name) ?? "" },
        ...(typeof spec.minReplicas === "number" ? { minReplicas: spec.minReplicas } : {}),
      });
    }
  }
  return facts;
}

function workloadFacts(
  object: ManifestObject,
  template: FieldPath,
  place: (path: FieldPath) => Place,
  base: { name: string; namespace?: string; at: Place },
): WorkloadFacts {
  const templateValue = record(dig(object.value, template));
  const metadata = record(templateValue.metadata);
  const podSpecPath = [...template, "spec"];
  const podSpec = record(templateValue.spec);
  const spec = record(object.value.spec);
  const podSecurity = record(podSpec.securityContext);
  const containers: ContainerFacts[] = [];
  for (const [field, init] of [
    ["initContainers", true],
    ["containers", false],
  ] as const) {
    const list = Array.isArray(podSpec[field]) ? (podSpec[field] as unknown[]) : [];
    for (const [i, c] of list.entries()) {
      containers.push(containerFacts(record(c), [...podSpecPath, field, i], init, podSecurity, place));
    }
  }
  // A ReplicationController's selector is a plain label map; the others' a LabelSelector.
  const selector =
    object.kind === "Pod"
      ? undefined
      : object.kind === "ReplicationController"
        ? Object.keys(stringMap(spec.selector)).length > 0
          ? { matchLabels: stringMap(spec.selector) }
          : undefined
        : selectorOf(spec.selector);
  return {
    kind: object.kind,
    ...base,
    ...(typeof spec.replicas === "number" && object.kind !== "Pod" ? { replicas: spec.replicas } : {}),
    replicasAt: place(["spec", "replicas"]),
    podLabels: stringMap(metadata.labels),
    ...(selector ? { selector } : {}),
    selectorAt: place(["spec", "selector"]),
    hostNetwork: podSpec.hostNetwork === true,
    hostPID: podSpec.hostPID === true,
    hostIPC: podSpec.hostIPC === true,
    hostAt: place([
      ...podSpecPath,
      podSpec.hostNetwork === true ? "hostNetwork" : podSpec.hostPID === true ? "hostPID" : "hostIPC",
    ]),
    containers,
  };
}

function containerFacts(
  c: Record<string, unknown>,
  path: FieldPath,
  init: boolean,
  podSecurity: Record<string, unknown>,
  place: (path: FieldPath) => Place,
): ContainerFacts {
  const resources = record(c.resources);
  const requests = record(resources.requests);
  const limits = record(resources.limits);
  const security = record(c.securityContext);
  const capabilities = record(security.capabilities);
  const pick = <T>(key: string, type: "boolean" | "number"): T | undefined => {
    const own = security[key];
    if (typeof own === type) return own as T;
    const pod = podSecurity[key];
    return typeof pod === type ? (pod as T) : undefined;
  };
  const ownBool = (key: string) =>
    typeof security[key] === "boolean" ? (security[key] as boolean) : undefined;
  const probe = (key: string): ProbeFacts | undefined =>
    c[key] ? probeFacts(record(c[key]), place([...path, key])) : undefined;
  const readiness = probe("readinessProbe");
  const liveness = probe("livenessProbe");
  const startup = probe("startupProbe");
  const runAsNonRoot = pick<boolean>("runAsNonRoot", "boolean");
  const runAsUser = pick<number>("runAsUser", "number");
  const privileged = ownBool("privileged");
  const allowPrivilegeEscalation = ownBool("allowPrivilegeEscalation");
  const readOnlyRootFilesystem = ownBool("readOnlyRootFilesystem");
  return {
    name: str(c.name) ?? "",
    init,
    sidecar: init && c.restartPolicy === "Always",
    at: place(path),
    ...(str(c.image) !== undefined ? { image: str(c.image)! } : {}),
    imageAt: place([...path, "image"]),
    ...(str(c.imagePullPolicy) !== undefined ? { imagePullPolicy: str(c.imagePullPolicy)! } : {}),
    requests: { cpu: requests.cpu !== undefined, memory: requests.memory !== undefined },
    limits: { cpu: limits.cpu !== undefined, memory: limits.memory !== undefined },
    resourcesAt: place(c.resources ? [...path, "resources"] : path),
    ...(readiness ? { readiness } : {}),
    ...(liveness ? { liveness } : {}),
    ...(startup ? { startup } : {}),
    securityAt: place(c.securityContext ? [...path, "securityContext"] : path),
    ...(runAsNonRoot !== undefined ? { runAsNonRoot } : {}),
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    ...(privileged !== undefined ? { privileged } : {}),
    ...(allowPrivilegeEscalation !== undefined ? { allowPrivilegeEscalation } : {}),
    ...(readOnlyRootFilesystem !== undefined ? { readOnlyRootFilesystem } : {}),
    capabilitiesAdd: strings(capabilities.add).map((s) => s.toUpperCase().replace(/^CAP_/, "")),
    capabilitiesDrop: strings(capabilities.drop).map((s) => s.toUpperCase().replace(/^CAP_/, "")),
    ports: (Array.isArray(c.ports) ? c.ports : []).map((p) => {
      const port = record(p);
      return {
        ...(str(port.name) !== undefined ? { name: str(port.name)! } : {}),
        ...(typeof port.containerPort === "number" ? { containerPort: port.containerPort } : {}),
      };
    }),
  };
}

function probeFacts(probe: Record<string, unknown>, at: Place): ProbeFacts {
  if (probe.httpGet) {
    const h = record(probe.httpGet);
    const path = str(h.path) ?? "/";
    const port = intOrString(h.port);
    return {
      type: "httpGet",
      path,
      ...(port !== undefined ? { port } : {}),
      key: `http ${path} ${port ?? ""}`,
      at,
    };
  }
  if (probe.tcpSocket) {
    const port = intOrString(record(probe.tcpSocket).port);
    return { type: "tcpSocket", ...(port !== undefined ? { port } : {}), key: `tcp ${port ?? ""}`, at };
  }
  if (probe.grpc) {
    const g = record(probe.grpc);
    const port = intOrString(g.port);
    return {
      type: "grpc",
      ...(port !== undefined ? { port } : {}),
      key: `grpc ${port ?? ""} ${str(g.service) ?? ""}`,
      at,
    };
  }
  if (probe.exec) {
    const command = JSON.stringify(record(probe.exec).command ?? []);
    return {
      type: "exec",
      key: `exec ${createHash("sha256").update(command).digest("hex").slice(0, 16)}`,
      at,
    };
  }
  return { type: "other", key: `other ${at.line}`, at };
}

function serviceFacts(
  value: Record<string, unknown>,
  place: (path: FieldPath) => Place,
  base: { name: string; namespace?: string; at: Place },
): ServiceFacts {
  const spec = record(value.spec);
  const selector = spec.selector && typeof spec.selector === "object" ? stringMap(spec.selector) : undefined;
  return {
    ...base,
    type: str(spec.type) ?? "ClusterIP",
    ...(selector && Object.keys(selector).length > 0 ? { selector } : {}),
    selectorAt: place(spec.selector ? ["spec", "selector"] : ["spec"]),
    ports: (Array.isArray(spec.ports) ? spec.ports : []).map((p) => {
      const port = record(p);
      const targetPort = intOrString(port.targetPort);
      return {
        ...(str(port.name) !== undefined ? { name: str(port.name)! } : {}),
        ...(typeof port.port === "number" ? { port: port.port } : {}),
        ...(targetPort !== undefined ? { targetPort } : {}),
        ...(typeof port.nodePort === "number" ? { nodePort: port.nodePort } : {}),
      };
    }),
  };
}

function ingressBackends(
  value: Record<string, unknown>,
  place: (path: FieldPath) => Place,
): IngressFacts["backends"] {
  const spec = record(value.spec);
  const out: IngressFacts["backends"] = [];
  const add = (backend: unknown, path: FieldPath) => {
    const b = record(backend);
    const service = record(b.service);
    const name = str(service.name) ?? str(b.serviceName);
    if (!name) return;
    const port =
      intOrString(record(service.port).number) ??
      intOrString(record(service.port).name) ??
      intOrString(b.servicePort);
    out.push({ service: name, ...(port !== undefined ? { port } : {}), at: place(path) });
  };
  if (spec.defaultBackend) add(spec.defaultBackend, ["spec", "defaultBackend"]);
  if (spec.backend) add(spec.backend, ["spec", "backend"]);
  (Array.isArray(spec.rules) ? spec.rules : []).forEach((rule, r) => {
    const paths = record(record(rule).http).paths;
    for (const [i, p] of (Array.isArray(paths) ? paths : []).entries()) {
      add(record(p).backend, ["spec", "rules", r, "http", "paths", i, "backend"]);
    }
  });
  return out;
}

/** Whether a label selector selects pods with these labels (an empty selector selects nothing here). */
export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return false;
  const { matchLabels = {}, matchExpressions = [] } = selector;
  if (Object.keys(matchLabels).length === 0 && matchExpressions.length === 0) return false;
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  for (const e of matchExpressions) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    if (e.operator === "In" && !(has && values.includes(labels[e.key]!))) return false;
    if (e.operator === "NotIn" && has && values.includes(labels[e.key]!)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

function selectorOf(value: unknown): LabelSelector | undefined {
  if (!value || typeof value !== "object") return undefined;
  const v = record(value);
  const matchLabels = stringMap(v.matchLabels);
  const matchExpressions = (Array.isArray(v.matchExpressions) ? v.matchExpressions : []).map((e) => {
    const x = record(e);
    return {
      key: str(x.key) ?? "",
      operator: str(x.operator) ?? "",
      ...(Array.isArray(x.values) ? { values: strings(x.values) } : {}),
    };
  });
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
}

function dig(value: unknown, path: FieldPath): unknown {
  return path.reduce<unknown>(
    (v, k) => (v && typeof v === "object" ? (v as Record<string | number, unknown>)[k] : undefined),
    value,
  );
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function stringMap(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(record(value)).map(([k, v]) => [k, String(v)]));
}

function intOrString(value: unknown): string | number | undefined {
  return typeof value === "number" || typeof value === "string" ? value : undefined;
}
