// Is a manifest object one the API server accepts? Three questions, in order: is its apiVersion one that current
// clusters have removed (the deprecation guide's list); does it validate against the Kubernetes OpenAPI schema
// (kubernetes-models 4.x: the class for its apiVersion and kind, `.validate()`); and does it name only fields the API
// knows (the field lists of @kubernetes/client-node's generated models, a newer API than the schema's), as kubectl's
// default `--validate=strict` demands. A kind neither library knows (a CRD's custom resource) is reported as unknown,
// not as invalid: its schema lives in the cluster.
import { suggest } from "../../spec/suggest.js";
import type { FieldPath } from "./manifests.js";

export interface SchemaProblem {
  path: FieldPath;
  message: string;
  /** The kind of problem: a schema violation, or a field the API does not have. */
  kind: "invalid" | "unknownField";
}

export interface SchemaVerdict {
  /** Whether Gauntlet has the schema of this apiVersion and kind. */
  known: boolean;
  /** Set when the apiVersion was removed from Kubernetes: which release removed it and what replaces it. */
  removed?: { since: string; use: string };
  problems: SchemaProblem[];
}

/** apiVersion/kind pairs removed from Kubernetes (kubernetes.io/docs/reference/using-api/deprecation-guide/). */
const REMOVED: readonly { apiVersion: string; kinds: readonly string[] | "*"; since: string; use: string }[] =
  [
    {
      apiVersion: "extensions/v1beta1",
      kinds: ["Deployment", "DaemonSet", "ReplicaSet", "NetworkPolicy"],
      since: "1.16",
      use: "apps/v1 (networking.k8s.io/v1 for NetworkPolicy)",
    },
    { apiVersion: "extensions/v1beta1", kinds: ["Ingress"], since: "1.22", use: "networking.k8s.io/v1" },
    {
      apiVersion: "extensions/v1beta1",
      kinds: ["PodSecurityPolicy"],
      since: "1.16",
      use: "Pod Security admission (PodSecurityPolicy is gone since 1.25)",
    },
    { apiVersion: "apps/v1beta1", kinds: "*", since: "1.16", use: "apps/v1" },
    { apiVersion: "apps/v1beta2", kinds: "*", since: "1.16", use: "apps/v1" },
    {
      apiVersion: "networking.k8s.io/v1beta1",
      kinds: ["Ingress", "IngressClass"],
      since: "1.22",
      use: "networking.k8s.io/v1",
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1beta1",
      kinds: "*",
      since: "1.22",
      use: "rbac.authorization.k8s.io/v1",
    },
    { apiVersion: "apiextensions.k8s.io/v1beta1", kinds: "*", since: "1.22", use: "apiextensions.k8s.io/v1" },
    {
      apiVersion: "admissionregistration.k8s.io/v1beta1",
      kinds: "*",
      since: "1.22",
      use: "admissionregistration.k8s.io/v1",
    },
    { apiVersion: "policy/v1beta1", kinds: ["PodDisruptionBudget"], since: "1.25", use: "policy/v1" },
    {
      apiVersion: "policy/v1beta1",
      kinds: ["PodSecurityPolicy"],
      since: "1.25",
      use: "Pod Security admission",
    },
    { apiVersion: "batch/v1beta1", kinds: ["CronJob"], since: "1.25", use: "batch/v1" },
    {
      apiVersion: "autoscaling/v2beta1",
      kinds: ["HorizontalPodAutoscaler"],
      since: "1.25",
      use: "autoscaling/v2",
    },
    {
      apiVersion: "autoscaling/v2beta2",
      kinds: ["HorizontalPodAutoscaler"],
      since: "1.26",
      use: "autoscaling/v2",
    },
    {
      apiVersion: "discovery.k8s.io/v1beta1",
      kinds: ["EndpointSlice"],
      since: "1.25",
      use: "discovery.k8s.io/v1",
    },
    { apiVersion: "events.k8s.io/v1beta1", kinds: ["Event"], since: "1.25", use: "events.k8s.io/v1" },
  ];

const API_VERSION = /^(?:([a-z0-9]([a-z0-9.-]*[a-z0-9])?)\/)?(v\d+(?:(?:alpha|beta)\d+)?)$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

interface ModelClass {
  apiVersion?: string;
  kind?: string;
  new (data: unknown): { validate(): void };
}

const modelCache = new Map<string, Promise<ModelClass | null>>();

/** The kubernetes-models class for apiVersion and kind, or null when the library has none. */
function modelClass(apiVersion: string, kind: string): Promise<ModelClass | null> {
  const key = `${apiVersion} ${kind}`;
  let found = modelCache.get(key);
  if (!found) {
    const match = API_VERSION.exec(apiVersion);
    found =
      match && KIND.test(kind)
        ? import(/* @vite-ignore */ `kubernetes-models/${match[1] ? `${match[1]}/` : ""}${match[3]}/${kind}`)
            .then((module: Record<string, ModelClass>) => {
              const cls = module[kind];
              // The module must be the top-level object of this apiVersion, not a nested type named like a kind.
              return cls && cls.apiVersion === apiVersion && cls.kind === kind ? cls : null;
            })
            .catch(() => null)
        : Promise.resolve(null);
    modelCache.set(key, found);
  }
  return found;
}

export async function validateManifestObject(
  apiVersion: string,
  kind: string,
  value: Record<string, unknown>,
): Promise<SchemaVerdict> {
  const removed = REMOVED.find(
    (r) => r.apiVersion === apiVersion && (r.kinds === "*" || r.kinds.includes(kind)),
  );
  if (removed) return { known: true, removed: { since: removed.since, use: removed.use }, problems: [] };
  const cls = await modelClass(apiVersion, kind);
  if (!cls) return { known: false, problems: [] };
  const problems: SchemaProblem[] = [];
  try {
    new cls(value).validate();
  } catch (error) {
    const errors = (error as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) throw error;
    for (const e of errors) problems.push(schemaProblem(e, value));
  }
  const typeName = await clientModelName(apiVersion, kind);
  if (typeName) problems.push(...(await unknownFields(value, typeName, [])));
  return { known: true, problems: dedupe(problems) };
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

function schemaProblem(e: AjvError, root: unknown): SchemaProblem {
  const path: (string | number)[] = e.instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const field = path.length > 0 ? fieldName(path) : "the object";
  if (e.keyword === "required") {
    return {
      path,
      kind: "invalid",
      message: `${field === "the object" ? "" : `${field}: `}missing required field "${String(e.params.missingProperty)}"`,
    };
  }
  if (e.keyword === "enum" && Array.isArray(e.params.allowedValues)) {
    const allowed = e.params.allowedValues.map(String);
    const written = path.reduce<unknown>(
      (v, k) => (v as Record<string | number, unknown> | undefined)?.[k],
      root,
    );
    const near = typeof written === "string" ? suggest(written, allowed) : undefined;
    return {
      path,
      kind: "invalid",
      message: `${field} must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}${near ? ` (did you mean "${near}"?)` : ""}`,
    };
  }
  return { path, kind: "invalid", message: `${field} ${e.message ?? "is invalid"}` };
}

/** spec.template.spec.containers[0].ports[0] */
export function fieldName(path: FieldPath): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");
}

function dedupe(problems: SchemaProblem[]): SchemaProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path.join(".")} ${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---- unknown fields, from @kubernetes/client-node's generated models ----

interface AttributeType {
  baseName: string;
  type: string;
}

const attributeCache = new Map<string, Promise<AttributeType[] | null>>();

/** The field list of a client-node model type (V1Container, …), or null when it is not a model. */
function attributes(typeName: string): Promise<AttributeType[] | null> {
  let found = attributeCache.get(typeName);
  if (!found) {
    found = /^[A-Z][A-Za-z0-9]+$/.test(typeName)
      ? import(/* @vite-ignore */ `@kubernetes/client-node/dist/gen/models/${typeName}.js`)
          .then(
            (module: Record<string, { getAttributeTypeMap?: () => AttributeType[] }>) =>
              module[typeName]?.getAttributeTypeMap?.() ?? null,
          )
          .catch(() => null)
      : Promise.resolve(null);
    attributeCache.set(typeName, found);
  }
  return found;
}

/** client-node's name for a top-level kind: V1Deployment, V2HorizontalPodAutoscaler, CoreV1Event / EventsV1Event. */
async function clientModelName(apiVersion: string, kind: string): Promise<string | null> {
  const match = API_VERSION.exec(apiVersion);
  if (!match) return null;
  const version = match[3]!.charAt(0).toUpperCase() + match[3]!.slice(1);
  const group = match[1] ? match[1].split(".")[0]! : "core";
  const groupName = group.charAt(0).toUpperCase() + group.slice(1);
  for (const candidate of [`${version}${kind}`, `${groupName}${version}${kind}`]) {
    const attrs = await attributes(candidate);
    if (attrs?.some((a) => a.baseName === "kind") && attrs.some((a) => a.baseName === "apiVersion"))
      return candidate;
  }
  return null;
}

async function unknownFields(
  value: unknown,
  typeName: string,
  path: (string | number)[],
): Promise<SchemaProblem[]> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  const attrs = await attributes(typeName);
  if (!attrs) return [];
  const problems: SchemaProblem[] = [];
  for (const [key, child] of Object.entries(value)) {
    const attr = attrs.find((a) => a.baseName === key);
    if (!attr) {
      const near = suggest(
        key,
        attrs.map((a) => a.baseName),
      );
      const where = path.length > 0 ? ` in ${fieldName(path)}` : "";
      problems.push({
        path: [...path, key],
        kind: "unknownField",
        message: `unknown field "${key}"${where}${near ? ` (did you mean "${near}"?)` : ""}`,
      });
      continue;
    }
    const array = /^Array<(\w+)>$/.exec(attr.type);
    const map = /^\{ \[key: string\]: (\w+); \}$/.exec(attr.type);
    if (array && Array.isArray(child)) {
      for (const [i, item] of child.entries())
        problems.push(...(await unknownFields(item, array[1]!, [...path, key, i])));
    } else if (map && child && typeof child === "object") {
      for (const [k, item] of Object.entries(child))
        problems.push(...(await unknownFields(item, map[1]!, [...path, key, k])));
    } else if (/^[A-Z]\w+$/.test(attr.type)) {
      problems.push(...(await unknownFields(child, attr.type, [...path, key])));
    }
  }
  return problems;
}
