// Just enough of Kubernetes manifests for `gauntlet init`: each Service (its type and ports), the workloads whose pod
// labels its selector matches (their images and HTTP probes), and whether an Ingress routes to it. Not a validator:
// a document that is not a mapping with apiVersion and kind is skipped; the manifests' own check judges them.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isMap, LineCounter, parseAllDocuments } from "yaml";

export interface KubeService {
  name: string;
  namespace: string;
  /** ClusterIP (default), NodePort, LoadBalancer, ExternalName. */
  type: string;
  ports: { port: number; targetPort?: string | number; nodePort?: number; name?: string }[];
  selector: Record<string, string>;
  file: string;
  line: number;
  /** Workloads whose pod template labels the selector matches. */
  workloads: {
    kind: string;
    name: string;
    images: string[];
    httpProbe?: { path: string; port?: string | number };
  }[];
  /** An Ingress routes to it. */
  ingress: boolean;
}

interface Workload {
  kind: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  images: string[];
  httpProbe?: { path: string; port?: string | number };
}

const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"]);

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const labelsOf = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(v)).filter((e): e is [string, string] => typeof e[1] === "string"));

/** Services of the manifests in `files` (relative to `root`), with what runs behind them. */
export async function readKubernetesServices(root: string, files: readonly string[]): Promise<KubeService[]> {
  const services: KubeService[] = [];
  const workloads: Workload[] = [];
  const ingressTargets = new Set<string>();
  for (const file of files) {
    const text = await readFile(path.join(root, file), "utf8").catch(() => null);
    if (text === null) continue;
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false });
    for (const doc of Array.isArray(docs) ? docs : []) {
      if (doc.errors.length > 0 || !isMap(doc.contents)) continue;
      const resource = obj(doc.toJS({ maxAliasCount: 50 }));
      const items = str(resource.kind) === "List" ? list(resource.items).map(obj) : [resource];
      for (const item of items) {
        const kind = str(item.kind);
        const meta = obj(item.metadata);
        const name = str(meta.name);
        if (!kind || !name || !str(item.apiVersion)) continue;
        const namespace = str(meta.namespace) ?? "default";
        const spec = obj(item.spec);
        if (kind === "Service") {
          services.push({
            name,
            namespace,
            type: str(spec.type) ?? "ClusterIP",
            ports: list(spec.ports)
              .map(obj)
              .filter((p) => typeof p.port === "number")
              .map((p) => ({
                port: p.port as number,
                ...(typeof p.targetPort === "number" || typeof p.targetPort === "string"
                  ? { targetPort: p.targetPort }
                  : {}),
                ...(typeof p.nodePort === "number" ? { nodePort: p.nodePort } : {}),
                ...(str(p.name) ? { name: str(p.name) } : {}),
              })),
            selector: labelsOf(spec.selector),
            file,
            line: lines.linePos(doc.contents.range?.[0] ?? 0).line,
            workloads: [],
            ingress: false,
          });
        } else if (WORKLOADS.has(kind)) {
          const template =
            kind === "Pod"
              ? item
              : kind === "CronJob"
                ? obj(obj(obj(spec.jobTemplate).spec).template)
                : obj(spec.template);
          const podSpec = obj(template.spec);
          const containers = list(podSpec.containers).map(obj);
          const probe = containers
            .map((c) => obj(obj(c.readinessProbe).httpGet).path ?? obj(obj(c.livenessProbe).httpGet).path)
            .find((p) => typeof p === "string") as string | undefined;
          const probeOwner = containers.find(
            (c) =>
              obj(obj(c.readinessProbe).httpGet).path === probe ||
              obj(obj(c.livenessProbe).httpGet).path === probe,
          );
          const probePort = probeOwner
            ? (obj(obj(probeOwner.readinessProbe).httpGet).port ??
              obj(obj(probeOwner.livenessProbe).httpGet).port)
            : undefined;
          workloads.push({
            kind,
            name,
            namespace,
            labels: labelsOf(obj(template.metadata).labels),
            images: containers.map((c) => str(c.image)).filter((i): i is string => Boolean(i)),
            ...(probe
              ? {
                  httpProbe: {
                    path: probe,
                    ...(typeof probePort === "string" || typeof probePort === "number"
                      ? { port: probePort }
                      : {}),
                  },
                }
              : {}),
          });
        } else if (kind === "Ingress") {
          for (const backend of ingressBackends(spec)) ingressTargets.add(`${namespace}/${backend}`);
        }
      }
    }
  }
  for (const service of services) {
    const selector = Object.entries(service.selector);
    service.workloads = selector.length
      ? workloads
          .filter((w) => w.namespace === service.namespace && selector.every(([k, v]) => w.labels[k] === v))
          .map(({ kind, name, images, httpProbe }) => ({
            kind,
            name,
            images,
            ...(httpProbe ? { httpProbe } : {}),
          }))
      : [];
    service.ingress = ingressTargets.has(`${service.namespace}/${service.name}`);
  }
  return services;
}

/** Names of the Services an Ingress spec sends traffic to (networking.k8s.io/v1 and the older serviceName form). */
function ingressBackends(spec: Json): string[] {
  const names: string[] = [];
  const add = (backend: unknown) => {
    const b = obj(backend);
    const name = str(obj(b.service).name) ?? str(b.serviceName);
    if (name) names.push(name);
  };
  add(spec.defaultBackend);
  add(spec.backend);
  for (const rule of list(spec.rules).map(obj)) {
    for (const p of list(obj(rule.http).paths).map(obj)) add(p.backend);
  }
  return names;
}
