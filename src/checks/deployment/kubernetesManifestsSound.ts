// Would the Kubernetes manifests apply, and do they run the system the way production needs? Each file listed in
// deployment.kubernetes (files, folders or globs of YAML/JSON, multi-document) is parsed with positions; each object
// is checked against removed apiVersions, validated with kubernetes-models 4.x (the OpenAPI schema of its apiVersion
// and kind) and for fields the API does not know (kubectl's default strict validation rejects them); kinds Gauntlet
// has no schema for (custom resources) are noted, not failed. Then kube-score-style rules judge what the objects say
// (src/engines/kubernetes/review.ts): resources, probes, security context, image pinning, host namespaces, and for
// public services (LoadBalancer, NodePort, behind an Ingress, or `exposure: public` in the spec) more than one replica
// and a PodDisruptionBudget. Every finding is at file:line:column.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { defineCheck, type FindingInput, notApplicable, type Status } from "../../core/types.js";
import { expandPattern, isGlob, toPosix } from "../../engines/files/glob.js";
import {
  type ManifestObject,
  type ManifestProblem,
  parseManifestText,
} from "../../engines/kubernetes/manifests.js";
import { KUBERNETES_RULES, type ManifestHit, reviewManifests } from "../../engines/kubernetes/review.js";
import { fieldName, validateManifestObject } from "../../engines/kubernetes/schema.js";
import { type KubernetesFacts, kubernetesFacts } from "../../engines/kubernetes/workloads.js";

const MAX_BYTES = 8 * 1024 * 1024;
const MANIFEST_FILE = /\.(?:ya?ml|json)$/i;

export interface ManifestFileObservation {
  file: string;
  evidence: string;
  /** ENOENT, ENOTFILE, TOOLARGE or another errno code. */
  error?: string;
  objects: number;
  problems: ManifestProblem[];
  /** Documents that are not Kubernetes objects (no apiVersion/kind). */
  notObjects: { line: number; column: number }[];
}

export interface ObjectVerdict {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  file: string;
  line: number;
  column: number;
  /** Whether Gauntlet has a schema for its apiVersion and kind (false: a custom resource, noted). */
  known: boolean;
  removed?: { since: string; use: string };
  problems: {
    kind: "invalid" | "unknownField";
    field: string;
    message: string;
    line: number;
    column: number;
  }[];
}

export interface KubernetesObservation {
  declared: string[];
  unmatched: string[];
  files: ManifestFileObservation[];
  objects: ObjectVerdict[];
  facts: KubernetesFacts;
  /** The facts and verdicts of every file: what the rule findings cite. */
  evidence: string;
}

const RULE_JUDGEMENT: Readonly<Record<string, { status: Status; messageId: string }>> = {
  "container-resource-requests": { status: "FAIL", messageId: "resourceRequestsMissing" },
  "container-memory-limit": { status: "FAIL", messageId: "memoryLimitMissing" },
  "container-cpu-limit": { status: "WARN", messageId: "cpuLimitMissing" },
  "pod-probes-readiness": { status: "FAIL", messageId: "readinessProbeMissing" },
  "pod-probes-liveness": { status: "WARN", messageId: "livenessProbeMissing" },
  "pod-probes-identical": { status: "FAIL", messageId: "probesIdentical" },
  "container-security-context-privileged": { status: "FAIL", messageId: "privileged" },
  "container-security-context-privilege-escalation": { status: "FAIL", messageId: "privilegeEscalation" },
  "container-security-context-privilege-escalation-unset": {
    status: "WARN",
    messageId: "privilegeEscalationNotBlocked",
  },
  "container-security-context-root": { status: "FAIL", messageId: "runsAsRoot" },
  "container-security-context-non-root-unset": { status: "WARN", messageId: "nonRootNotEnforced" },
  "container-security-context-readonlyrootfilesystem": {
    status: "WARN",
    messageId: "writableRootFilesystem",
  },
  "container-capabilities-added": { status: "FAIL", messageId: "dangerousCapability" },
  "container-capabilities-not-dropped": { status: "WARN", messageId: "capabilitiesNotDropped" },
  "pod-host-namespaces": { status: "FAIL", messageId: "hostNamespaces" },
  "container-image-tag": { status: "FAIL", messageId: "imageNotPinned" },
  "container-image-pull-policy": { status: "WARN", messageId: "imagePullNever" },
  "deployment-replicas": { status: "FAIL", messageId: "singleReplicaPublic" },
  "deployment-has-poddisruptionbudget": { status: "FAIL", messageId: "noDisruptionBudget" },
  "deployment-has-poddisruptionbudget-internal": { status: "WARN", messageId: "noDisruptionBudgetInternal" },
  "poddisruptionbudget-has-policy": { status: "FAIL", messageId: "disruptionBudgetWithoutPolicy" },
  "poddisruptionbudget-blocks-eviction": { status: "WARN", messageId: "disruptionBudgetBlocksEviction" },
  "service-targets-pod": { status: "FAIL", messageId: "serviceSelectsNothing" },
  "service-target-port": { status: "FAIL", messageId: "serviceTargetPortUnknown" },
  "ingress-targets-service": { status: "WARN", messageId: "ingressBackendUnknown" },
  "selector-matches-template": { status: "FAIL", messageId: "selectorMismatch" },
  "default-namespace": { status: "WARN", messageId: "defaultNamespace" },
};

export default defineCheck<KubernetesObservation>({
  meta: {
    id: "kubernetesManifestsSound",
    category: "deployment",
    risk: "medium",
    destructive: false,
    title: "Kubernetes manifests are sound",
    objective:
      "The Kubernetes manifests validate against the API's schema, and their workloads set resources, probes and a restrictive securityContext, pin their images, and public services run more than one replica under a PodDisruptionBudget.",
    remediation: {
      effort: "medium",
      text: "At {{location}} ({{subject}}): {{fix}} [{{rule}}].",
    },
    messages: {
      missing: "a deployment.kubernetes entry matches no manifest file",
      unreadable: "a manifest file cannot be read (a folder, too large, permissions)",
      yamlInvalid: "a manifest file is not valid YAML (kubectl would reject it)",
      template: "the file is a template (Helm, `{{ … }}`): it must be rendered to be judged",
      noObjects: "a listed file holds no Kubernetes object",
      notAnObject: "a YAML document without apiVersion and kind",
      removedApi: "an apiVersion that current Kubernetes releases no longer serve",
      schemaInvalid: "a field violates the Kubernetes OpenAPI schema (kubernetes-models)",
      unknownField: "a field the API does not know (kubectl's strict validation rejects it)",
      noKnownObjects: "every object in the file is of a kind Gauntlet has no schema for (custom resources)",
      resourceRequestsMissing: "a container without CPU or memory requests",
      memoryLimitMissing: "a container without a memory limit",
      cpuLimitMissing: "a container without a CPU limit",
      readinessProbeMissing: "a workload behind a Service without a readinessProbe",
      livenessProbeMissing: "a workload behind a Service without a livenessProbe",
      probesIdentical: "a container whose readiness and liveness probes are the same",
      privileged: "a privileged container",
      privilegeEscalation: "a container with allowPrivilegeEscalation: true",
      privilegeEscalationNotBlocked: "a container that does not set allowPrivilegeEscalation: false",
      runsAsRoot: "a container set to run as root",
      nonRootNotEnforced:
        "nothing makes the container run as non-root (no runAsNonRoot, no runAsUser above 0)",
      writableRootFilesystem: "a container without readOnlyRootFilesystem: true",
      dangerousCapability: "a container that adds a root-equivalent capability",
      capabilitiesNotDropped: "a container that does not drop ALL capabilities",
      hostNamespaces: "a pod sharing the node's network, PID or IPC namespace",
      imageNotPinned: "an untagged or latest image",
      imagePullNever: "imagePullPolicy: Never",
      singleReplicaPublic: "a public service's workload with fewer than 2 replicas",
      noDisruptionBudget: "a public service's workload without a matching PodDisruptionBudget",
      noDisruptionBudgetInternal: "a replicated workload without a matching PodDisruptionBudget",
      disruptionBudgetWithoutPolicy: "a PodDisruptionBudget with neither minAvailable nor maxUnavailable",
      disruptionBudgetBlocksEviction: "a PodDisruptionBudget that allows no disruption",
      serviceSelectsNothing: "a Service whose selector matches no pod template",
      serviceTargetPortUnknown: "a Service whose named targetPort no selected container has",
      ingressBackendUnknown: "an Ingress backend naming a Service the manifests do not define",
      selectorMismatch: "a workload's selector does not match its pod template's labels",
      defaultNamespace: "an object in the default namespace",
      manifestsSound: "the file's objects validate and no rule fires on them",
    },
    timeoutMs: 120_000,
  },

  applies(spec) {
    return (spec.deployment?.kubernetes ?? []).length > 0
      ? true
      : notApplicable(
          "deployment.kubernetes lists no manifest: the system is not deployed to Kubernetes by these files",
        );
  },

  async observe(ctx) {
    const declared = ctx.spec.deployment?.kubernetes ?? [];
    const observation: KubernetesObservation = {
      declared,
      unmatched: [],
      files: [],
      objects: [],
      facts: kubernetesFacts([]),
      evidence: "",
    };
    const files: string[] = [];
    for (const pattern of declared) {
      const matched = await manifestFiles(ctx.specDir, pattern);
      if (matched.length === 0) observation.unmatched.push(pattern);
      for (const f of matched) if (!files.includes(f)) files.push(f);
    }
    const all: ManifestObject[] = [];
    for (const absolute of files) {
      ctx.signal.throwIfAborted();
      const file = toPosix(path.relative(ctx.specDir, absolute)) || path.basename(absolute);
      const seen: Omit<ManifestFileObservation, "evidence"> = {
        file,
        objects: 0,
        problems: [],
        notObjects: [],
      };
      const verdicts: ObjectVerdict[] = [];
      try {
        const info = await stat(absolute);
        if (!info.isFile()) throw Object.assign(new Error("not a file"), { code: "ENOTFILE" });
        if (info.size > MAX_BYTES) throw Object.assign(new Error("too large"), { code: "TOOLARGE" });
        const parsed = parseManifestText(await readFile(absolute, "utf8"), file);
        seen.objects = parsed.objects.length;
        seen.problems = parsed.problems;
        seen.notObjects = parsed.notObjects;
        for (const object of parsed.objects) {
          verdicts.push(await verdictOf(object));
          all.push(object);
        }
      } catch (error) {
        seen.error = (error as NodeJS.ErrnoException).code ?? "ERROR";
      }
      observation.objects.push(...verdicts);
      observation.files.push({
        ...seen,
        evidence: await ctx.evidence.writeJson(`${file.replace(/^(\.\.\/)+/, "")}.json`, {
          ...seen,
          objects: verdicts,
        }),
      });
      ctx.keepPartial(observation);
    }
    observation.facts = kubernetesFacts(all);
    observation.evidence = await ctx.evidence.writeJson("manifests.json", {
      declared,
      unmatched: observation.unmatched,
      files: observation.files.map((f) => f.file),
      facts: observation.facts,
    });
    return observation;
  },

  judge(observation, spec) {
    const findings: FindingInput[] = [];
    const fileEvidence = new Map(observation.files.map((f) => [f.file, f.evidence]));
    const cite = (file: string) =>
      [fileEvidence.get(file) ?? observation.evidence, observation.evidence].filter(
        (e, i, a) => e && a.indexOf(e) === i,
      );
    const at = (file: string, line?: number, column?: number) => {
      const location = line ? `${file}:${line}${column ? `:${column}` : ""}` : file;
      return {
        location: { path: file, ...(line ? { line } : {}), ...(column ? { column } : {}) },
        data: { file, location },
      };
    };

    for (const pattern of observation.unmatched) {
      findings.push({
        status: "FAIL",
        messageId: "missing",
        subject: pattern,
        location: { path: pattern },
        message: `deployment.kubernetes lists ${pattern}, which matches no YAML or JSON file`,
        data: {
          file: pattern,
          location: `deployment.kubernetes entry ${pattern}`,
          rule: "deployment.kubernetes",
          fix: "correct the path (relative to the spec's folder) or remove the entry",
        },
        evidence: [observation.evidence],
      });
    }

    for (const f of observation.files) {
      if (f.error) {
        const what =
          f.error === "ENOTFILE"
            ? "is not a file"
            : f.error === "TOOLARGE"
              ? `is larger than ${MAX_BYTES / 1024 / 1024} MiB`
              : `cannot be read (${f.error})`;
        findings.push({
          status: "FAIL",
          messageId: f.error === "ENOENT" ? "missing" : "unreadable",
          subject: f.file,
          ...at(f.file),
          message: `${f.file} ${what}`,
          data: {
            ...at(f.file).data,
            rule: "deployment.kubernetes",
            fix: "list manifest files (YAML or JSON) in deployment.kubernetes",
          },
          evidence: cite(f.file),
        });
        continue;
      }
      for (const p of f.problems) {
        const w = at(f.file, p.line, p.column);
        findings.push(
          p.template
            ? {
                status: "UNVERIFIED",
                messageId: "template",
                subject: f.file,
                ...w,
                message: `${w.data.location}: ${p.message} (template syntax {{ … }}): Gauntlet judges rendered manifests`,
                toVerify:
                  "render it (helm template …, kustomize build …) into a file and list that file in deployment.kubernetes",
                evidence: cite(f.file),
              }
            : {
                status: "FAIL",
                messageId: "yamlInvalid",
                subject: f.file,
                ...w,
                message: `${w.data.location}: ${p.message}`,
                data: {
                  ...w.data,
                  rule: "yaml",
                  fix: "correct the YAML at that line (indentation, quoting, a duplicate key)",
                },
                evidence: cite(f.file),
              },
        );
      }
      for (const n of f.notObjects) {
        const w = at(f.file, n.line, n.column);
        findings.push({
          status: "FAIL",
          messageId: "notAnObject",
          subject: f.file,
          ...w,
          message: `${w.data.location}: a YAML document without apiVersion and kind is not a Kubernetes object (kubectl apply rejects it)`,
          data: {
            ...w.data,
            rule: "object",
            fix: "give the document apiVersion and kind, or remove it from the manifest",
          },
          evidence: cite(f.file),
        });
      }
      if (f.objects === 0 && f.problems.length === 0 && f.notObjects.length === 0) {
        findings.push({
          status: "FAIL",
          messageId: "noObjects",
          subject: f.file,
          ...at(f.file),
          message: `${f.file} holds no Kubernetes object`,
          data: {
            ...at(f.file).data,
            rule: "deployment.kubernetes",
            fix: "list the files that hold the system's manifests",
          },
          evidence: cite(f.file),
        });
      }
    }

    for (const o of observation.objects) {
      const subject = `${o.kind}/${o.name}`;
      if (o.removed) {
        const w = at(o.file, o.line, o.column);
        findings.push({
          status: "FAIL",
          messageId: "removedApi",
          subject,
          ...w,
          message: `${w.data.location}: ${subject} uses apiVersion ${o.apiVersion}, removed in Kubernetes ${o.removed.since}: use ${o.removed.use}`,
          data: {
            ...w.data,
            rule: "removed-api",
            apiVersion: o.apiVersion,
            fix: `change apiVersion to ${o.removed.use} (and the fields it renamed)`,
          },
          evidence: cite(o.file),
        });
      }
      for (const p of o.problems) {
        const w = at(o.file, p.line, p.column);
        findings.push({
          status: "FAIL",
          messageId: p.kind === "unknownField" ? "unknownField" : "schemaInvalid",
          subject,
          ...w,
          message: `${w.data.location}: ${subject}: ${p.message}`,
          data: {
            ...w.data,
            rule: p.kind === "unknownField" ? "unknown-field" : "schema",
            field: p.field,
            fix:
              p.kind === "unknownField"
                ? "correct or remove the field"
                : "correct the value to what the API expects",
          },
          evidence: cite(o.file),
        });
      }
    }

    const publicNames = Object.entries(spec.services ?? {})
      .filter(([, s]) => s.exposure === "public")
      .map(([name]) => name);
    for (const hit of reviewManifests(observation.facts, { publicNames }))
      findings.push(ruleFinding(hit, cite));

    // One PASS per file nothing was found in, saying what was judged.
    const flagged = new Set(findings.map((f) => f.location?.path));
    for (const f of observation.files) {
      if (f.error || flagged.has(f.file)) continue;
      const objects = observation.objects.filter((o) => o.file === f.file);
      const unknown = objects.filter((o) => !o.known);
      const kinds = countKinds(objects.filter((o) => o.known));
      if (objects.length > 0 && unknown.length === objects.length) {
        findings.push({
          status: "UNVERIFIED",
          messageId: "noKnownObjects",
          subject: f.file,
          ...at(f.file),
          message: `${f.file}: every object is of a kind Gauntlet has no schema for (${countKinds(unknown)}): nothing in it was validated`,
          toVerify:
            "validate the custom resources against their CRDs' schemas (kubeconform with the CRD catalog, or kubectl apply --dry-run=server)",
          evidence: cite(f.file),
        });
        continue;
      }
      const noted =
        unknown.length > 0
          ? `; not validated (no schema here, e.g. custom resources): ${countKinds(unknown)}`
          : "";
      findings.push({
        status: "PASS",
        messageId: "manifestsSound",
        subject: f.file,
        ...at(f.file),
        message: `${f.file}: ${objects.length - unknown.length} object(s) validate (${kinds}) and no rule fires on them${noted}`,
        data: {
          ...at(f.file).data,
          objects: objects.length,
          unknownKinds: unknown.map((o) => `${o.apiVersion} ${o.kind}`),
        },
        evidence: cite(f.file),
        measurements: [
          { name: "kubernetes.objects", value: objects.length, unit: "objects", evidence: f.evidence },
        ],
      });
    }
    return findings;
  },
});

/** The files a deployment.kubernetes entry names: the file itself, or the YAML/JSON files of a folder or glob. */
async function manifestFiles(specDir: string, pattern: string): Promise<string[]> {
  const matched = await expandPattern(specDir, pattern);
  const plainFile =
    !isGlob(pattern) && (await stat(path.resolve(specDir, pattern)).catch(() => null))?.isFile();
  return plainFile ? matched : matched.filter((f) => MANIFEST_FILE.test(f));
}

async function verdictOf(object: ManifestObject): Promise<ObjectVerdict> {
  const verdict = await validateManifestObject(object.apiVersion, object.kind, object.value);
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.name,
    ...(object.namespace ? { namespace: object.namespace } : {}),
    file: object.file,
    line: object.line,
    column: object.column,
    known: verdict.known,
    ...(verdict.removed ? { removed: verdict.removed } : {}),
    problems: verdict.problems.map((p) => ({
      kind: p.kind,
      field: fieldName(p.path),
      message: p.message,
      ...object.positionOf(p.path),
    })),
  };
}

function ruleFinding(hit: ManifestHit, cite: (file: string) => string[]): FindingInput {
  const judgement = RULE_JUDGEMENT[hit.rule]!;
  const info = KUBERNETES_RULES[hit.rule]!;
  const location = `${hit.at.file}:${hit.at.line}:${hit.at.column}`;
  const where = hit.container ? ` container ${hit.container}` : "";
  const detail = Object.entries(hit.detail)
    .filter(([k]) => k !== "container")
    .map(([k, v]) => `${k} ${v}`)
    .join("; ");
  return {
    status: judgement.status,
    messageId: judgement.messageId,
    subject: hit.subject,
    location: { path: hit.at.file, line: hit.at.line, column: hit.at.column },
    message: `${location}: ${hit.subject}${where}: ${info.title}${detail ? ` (${detail})` : ""} [${hit.rule}]`,
    data: {
      file: hit.at.file,
      line: hit.at.line,
      column: hit.at.column,
      location,
      rule: hit.rule,
      fix: info.fix,
      ...(hit.namespace ? { namespace: hit.namespace } : {}),
      ...hit.detail,
    },
    evidence: cite(hit.at.file),
  };
}

function countKinds(objects: { kind: string }[]): string {
  const counts = new Map<string, number>();
  for (const o of objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(", ");
}
