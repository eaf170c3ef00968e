// kube-score-style rules on the manifests' facts (workloads.ts): resources, probes, security context, image pinning,
// host namespaces, replicas and PodDisruptionBudgets for public services, Services that select no pod, selectors that
// do not match their template, and objects in the default namespace. Ids follow kube-score's check names where it has
// the check (README_CHECKS.md); a rule finds facts and their place, the check decides what they weigh. Pure.
import { imagePinning } from "../images/imageReference.js";
import {
  type ContainerFacts,
  type KubernetesFacts,
  type Place,
  type ServiceFacts,
  selectorMatches,
  type WorkloadFacts,
} from "./workloads.js";

export interface ManifestHit {
  rule: string;
  /** `Kind/name` of the object. */
  subject: string;
  namespace?: string;
  container?: string;
  at: Place;
  /** Facts for the message: never a secret. */
  detail: Record<string, string | number | boolean>;
}

export const KUBERNETES_RULES: Readonly<Record<string, { title: string; fix: string }>> = {
  "container-resource-requests": {
    title: "no CPU or memory request: the scheduler places the pod blind and it is the first to be evicted",
    fix: "set resources.requests.cpu and resources.requests.memory from the container's measured use",
  },
  "container-memory-limit": {
    title: "no memory limit: one leaking container can take the node's memory from every other pod",
    fix: "set resources.limits.memory",
  },
  "container-cpu-limit": {
    title: "no CPU limit (a limit throttles; many teams leave it out on purpose, with requests set)",
    fix: "set resources.limits.cpu, or keep it out deliberately and say so",
  },
  "pod-probes-readiness": {
    title:
      "a container behind a Service has no readinessProbe: traffic reaches it before it is ready and while it shuts down",
    fix: "add a readinessProbe that answers when the container can serve (not when its dependencies can)",
  },
  "pod-probes-liveness": {
    title: "no livenessProbe: a deadlocked container is never restarted",
    fix: "add a livenessProbe that checks the process itself (different from the readinessProbe)",
  },
  "pod-probes-identical": {
    title:
      "the readinessProbe and livenessProbe are the same: an overloaded pod is restarted instead of taken out of rotation",
    fix: "make the livenessProbe check only that the process is alive (a cheaper endpoint, or a higher failureThreshold)",
  },
  "container-security-context-privileged": {
    title: "a privileged container: it has every capability and the host's devices",
    fix: "remove securityContext.privileged: true and add only the capabilities it needs",
  },
  "container-security-context-privilege-escalation": {
    title:
      "allowPrivilegeEscalation: true lets a process gain more privileges than its parent (setuid binaries)",
    fix: "set securityContext.allowPrivilegeEscalation: false",
  },
  "container-security-context-privilege-escalation-unset": {
    title: "allowPrivilegeEscalation is not set to false (the default allows escalation)",
    fix: "set securityContext.allowPrivilegeEscalation: false",
  },
  "container-security-context-root": {
    title: "the container is set to run as root (runAsUser: 0 or runAsNonRoot: false)",
    fix: "set runAsNonRoot: true and a runAsUser above 0 (above 10000 keeps it clear of host users)",
  },
  "container-security-context-non-root-unset": {
    title: "nothing makes the container run as non-root: the image's USER decides, root for most images",
    fix: "set securityContext.runAsNonRoot: true (and runAsUser) on the pod or the container",
  },
  "container-security-context-readonlyrootfilesystem": {
    title: "the root filesystem is writable: an intruder can change the container's binaries",
    fix: "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it must write",
  },
  "container-capabilities-added": {
    title: "the container adds a capability that amounts to root on the node (ALL, SYS_ADMIN, NET_ADMIN, …)",
    fix: "remove the capability from securityContext.capabilities.add",
  },
  "container-capabilities-not-dropped": {
    title: "the container keeps the default Linux capabilities",
    fix: "set securityContext.capabilities.drop: [ALL] and add back only what it needs",
  },
  "pod-host-namespaces": {
    title: "the pod shares the node's network, process or IPC namespace",
    fix: "remove hostNetwork/hostPID/hostIPC, or run the component as a node agent by design and waive this",
  },
  "container-image-tag": {
    title:
      "the image is untagged or latest: each node pulls whatever is newest, so pods of one ReplicaSet differ",
    fix: "pin the image to a release tag, better a digest (image:tag@sha256:…)",
  },
  "container-image-pull-policy": {
    title: "imagePullPolicy: Never: a node that does not have the image cannot start the pod",
    fix: "use IfNotPresent with a pinned tag or digest, or Always",
  },
  "deployment-replicas": {
    title: "a public service runs one replica: a node drain, a rollout or a crash takes it down",
    fix: "run at least 2 replicas (or an HPA with minReplicas ≥ 2), spread over nodes",
  },
  "deployment-has-poddisruptionbudget": {
    title:
      "no PodDisruptionBudget selects the pods of a public service: a node drain may evict them all at once",
    fix: "add a PodDisruptionBudget (policy/v1) whose selector matches the pod labels, with maxUnavailable: 1",
  },
  "deployment-has-poddisruptionbudget-internal": {
    title: "no PodDisruptionBudget selects the pods of a replicated workload",
    fix: "add a PodDisruptionBudget (policy/v1) whose selector matches the pod labels, with maxUnavailable: 1",
  },
  "poddisruptionbudget-has-policy": {
    title: "the PodDisruptionBudget sets neither minAvailable nor maxUnavailable",
    fix: "set maxUnavailable: 1 (or a minAvailable below the replica count)",
  },
  "poddisruptionbudget-blocks-eviction": {
    title: "the PodDisruptionBudget allows no disruption: node drains and cluster upgrades hang on it",
    fix: "allow at least one pod to go (maxUnavailable: 1, or minAvailable below the replica count)",
  },
  "service-targets-pod": {
    title: "the Service's selector matches no pod template in these manifests: it has no endpoints",
    fix: "make spec.selector match the labels of the workload's pod template (same namespace)",
  },
  "service-target-port": {
    title: "the Service's named targetPort is not a port name of the pods it selects",
    fix: "name the container port as the targetPort says, or use the port number",
  },
  "ingress-targets-service": {
    title: "the Ingress routes to a Service these manifests do not define",
    fix: "define the Service, correct the backend's name, or list the file that defines it in deployment.kubernetes",
  },
  "selector-matches-template": {
    title: "spec.selector does not match the pod template's labels: the API server rejects the object",
    fix: "make spec.selector.matchLabels a subset of spec.template.metadata.labels",
  },
  "default-namespace": {
    title: "the object names the default namespace: it shares it with whatever else was put there",
    fix: "give the system a namespace of its own (or leave metadata.namespace out and set it at deploy time)",
  },
};

const DANGEROUS_CAPABILITIES = new Set([
  "ALL",
  "SYS_ADMIN",
  "NET_ADMIN",
  "SYS_PTRACE",
  "SYS_MODULE",
  "DAC_READ_SEARCH",
  "BPF",
  "SYS_RAWIO",
]);
const BATCH = new Set(["Job", "CronJob"]);
const REPLICATED = new Set(["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"]);

export interface ReviewOptions {
  /** Service or workload names the spec declares `exposure: public`. */
  publicNames?: readonly string[];
}

const sameNamespace = (a: { namespace?: string }, b: { namespace?: string }) =>
  (a.namespace ?? "") === (b.namespace ?? "");

/** The Services that select a workload's pods. */
export function servicesOf(facts: KubernetesFacts, workload: WorkloadFacts): ServiceFacts[] {
  return facts.services.filter(
    (s) =>
      s.selector &&
      sameNamespace(s, workload) &&
      selectorMatches({ matchLabels: s.selector }, workload.podLabels),
  );
}

export function reviewManifests(facts: KubernetesFacts, options: ReviewOptions = {}): ManifestHit[] {
  const hits: ManifestHit[] = [];
  const publicNames = new Set(options.publicNames ?? []);
  const ingressTargets = new Set(
    facts.ingresses.flatMap((i) => i.backends.map((b) => `${i.namespace ?? ""}/${b.service}`)),
  );
  const isPublic = (s: ServiceFacts) =>
    s.type === "LoadBalancer" ||
    s.type === "NodePort" ||
    ingressTargets.has(`${s.namespace ?? ""}/${s.name}`) ||
    publicNames.has(s.name);

  for (const w of facts.workloads) {
    const subject = `${w.kind}/${w.name}`;
    const hit = (rule: string, at: Place, detail: ManifestHit["detail"] = {}, container?: ContainerFacts) =>
      hits.push({
        rule,
        subject,
        ...(w.namespace ? { namespace: w.namespace } : {}),
        ...(container ? { container: container.name } : {}),
        at,
        detail: container ? { container: container.name, ...detail } : detail,
      });
    const services = servicesOf(facts, w);
    const batch = BATCH.has(w.kind);

    if (w.selector && !selectorMatches(w.selector, w.podLabels))
      hit("selector-matches-template", w.selectorAt);
    if (w.hostNetwork || w.hostPID || w.hostIPC) {
      const shared = [w.hostNetwork && "hostNetwork", w.hostPID && "hostPID", w.hostIPC && "hostIPC"]
        .filter(Boolean)
        .join(", ");
      hit("pod-host-namespaces", w.hostAt, { shared });
    }
    for (const c of w.containers) containerRules(c, hit);

    const running = w.containers.filter((c) => !c.init || c.sidecar);
    if (!batch && services.length > 0) {
      const service = services.map((s) => s.name).join(", ");
      if (!running.some((c) => c.readiness)) {
        hit("pod-probes-readiness", running[0]?.at ?? w.at, { service }, running[0]);
      } else if (!running.some((c) => c.liveness)) {
        hit("pod-probes-liveness", running[0]?.at ?? w.at, { service }, running[0]);
      }
    }
    if (!batch) {
      for (const c of running) {
        if (c.readiness && c.liveness && c.readiness.key === c.liveness.key) {
          hit("pod-probes-identical", c.liveness.at, { probe: c.liveness.type }, c);
        }
      }
    }

    if (REPLICATED.has(w.kind)) replicaRules(facts, w, services, isPublic, hit);
  }

  for (const pdb of facts.pdbs) {
    const subject = `PodDisruptionBudget/${pdb.name}`;
    const base = { subject, ...(pdb.namespace ? { namespace: pdb.namespace } : {}), at: pdb.at };
    if (pdb.minAvailable === undefined && pdb.maxUnavailable === undefined) {
      hits.push({ ...base, rule: "poddisruptionbudget-has-policy", detail: {} });
      continue;
    }
    const selected = facts.workloads.filter(
      (w) => sameNamespace(w, pdb) && selectorMatches(pdb.selector, w.podLabels),
    );
    const replicas = Math.max(0, ...selected.map((w) => effectiveReplicas(facts, w)));
    const blocks =
      pdb.maxUnavailable === 0 ||
      pdb.maxUnavailable === "0%" ||
      pdb.minAvailable === "100%" ||
      (typeof pdb.minAvailable === "number" && selected.length > 0 && pdb.minAvailable >= replicas);
    if (blocks) hits.push({ ...base, rule: "poddisruptionbudget-blocks-eviction", detail: { replicas } });
  }

  for (const s of facts.services) {
    if (!s.selector || s.type === "ExternalName") continue;
    const subject = `Service/${s.name}`;
    const base = { subject, ...(s.namespace ? { namespace: s.namespace } : {}) };
    const selected = facts.workloads.filter(
      (w) => sameNamespace(w, s) && selectorMatches({ matchLabels: s.selector }, w.podLabels),
    );
    if (selected.length === 0) {
      hits.push({
        ...base,
        rule: "service-targets-pod",
        at: s.selectorAt,
        detail: { selector: labelText(s.selector) },
      });
      continue;
    }
    const portNames = new Set(
      selected.flatMap((w) => w.containers.flatMap((c) => c.ports.map((p) => p.name).filter(Boolean))),
    );
    for (const port of s.ports) {
      if (
        typeof port.targetPort === "string" &&
        !/^\d+$/.test(port.targetPort) &&
        !portNames.has(port.targetPort)
      ) {
        hits.push({
          ...base,
          rule: "service-target-port",
          at: s.at,
          detail: { targetPort: port.targetPort },
        });
      }
    }
  }

  const serviceNames = new Set(facts.services.map((s) => `${s.namespace ?? ""}/${s.name}`));
  for (const ingress of facts.ingresses) {
    for (const b of ingress.backends) {
      if (!serviceNames.has(`${ingress.namespace ?? ""}/${b.service}`)) {
        hits.push({
          rule: "ingress-targets-service",
          subject: `Ingress/${ingress.name}`,
          ...(ingress.namespace ? { namespace: ingress.namespace } : {}),
          at: b.at,
          detail: { service: b.service },
        });
      }
    }
  }

  for (const d of facts.defaultNamespace) {
    hits.push({
      rule: "default-namespace",
      subject: `${d.kind}/${d.name}`,
      namespace: "default",
      at: d.at,
      detail: {},
    });
  }
  return hits.sort(
    (a, b) =>
      a.at.file.localeCompare(b.at.file) ||
      a.at.line - b.at.line ||
      a.at.column - b.at.column ||
      a.rule.localeCompare(b.rule),
  );
}

type Hit = (rule: string, at: Place, detail?: ManifestHit["detail"], container?: ContainerFacts) => void;

function containerRules(c: ContainerFacts, hit: Hit): void {
  if (!c.requests.cpu || !c.requests.memory) {
    const missing = [!c.requests.cpu && "cpu", !c.requests.memory && "memory"].filter(Boolean).join(", ");
    hit("container-resource-requests", c.resourcesAt, { missing }, c);
  }
  if (!c.limits.memory) hit("container-memory-limit", c.resourcesAt, {}, c);
  if (!c.limits.cpu) hit("container-cpu-limit", c.resourcesAt, {}, c);

  if (c.privileged) hit("container-security-context-privileged", c.securityAt, {}, c);
  if (c.allowPrivilegeEscalation === true)
    hit("container-security-context-privilege-escalation", c.securityAt, {}, c);
  else if (c.allowPrivilegeEscalation === undefined && !c.privileged) {
    hit("container-security-context-privilege-escalation-unset", c.securityAt, {}, c);
  }
  if (c.runAsUser === 0 || (c.runAsNonRoot === false && !(c.runAsUser !== undefined && c.runAsUser > 0))) {
    hit("container-security-context-root", c.securityAt, { runAsUser: c.runAsUser ?? "unset" }, c);
  } else if (c.runAsNonRoot !== true && !(c.runAsUser !== undefined && c.runAsUser > 0)) {
    hit("container-security-context-non-root-unset", c.securityAt, {}, c);
  }
  if (c.readOnlyRootFilesystem !== true)
    hit("container-security-context-readonlyrootfilesystem", c.securityAt, {}, c);
  const dangerous = c.capabilitiesAdd.filter((cap) => DANGEROUS_CAPABILITIES.has(cap));
  if (dangerous.length > 0)
    hit("container-capabilities-added", c.securityAt, { capabilities: dangerous.join(", ") }, c);
  if (!c.capabilitiesDrop.includes("ALL") && !c.privileged)
    hit("container-capabilities-not-dropped", c.securityAt, {}, c);

  if (c.image !== undefined) {
    const pinning = imagePinning(c.image);
    if (pinning === "untagged" || pinning === "latest")
      hit("container-image-tag", c.imageAt, { image: c.image }, c);
  }
  if (c.imagePullPolicy === "Never") hit("container-image-pull-policy", c.imageAt, { policy: "Never" }, c);
}

/** The replicas a workload keeps at least: its HPA's minReplicas (default 1) when one scales it, else spec.replicas. */
export function effectiveReplicas(facts: KubernetesFacts, w: WorkloadFacts): number {
  const hpa = facts.hpas.find(
    (h) => sameNamespace(h, w) && h.target.kind === w.kind && h.target.name === w.name,
  );
  if (hpa) return hpa.minReplicas ?? 1;
  return w.replicas ?? 1;
}

function replicaRules(
  facts: KubernetesFacts,
  w: WorkloadFacts,
  services: ServiceFacts[],
  isPublic: (s: ServiceFacts) => boolean,
  hit: Hit,
): void {
  const replicas = effectiveReplicas(facts, w);
  const publicServices = services.filter(isPublic).map((s) => `${s.name} (${s.type})`);
  const hasPdb = facts.pdbs.some((p) => sameNamespace(p, w) && selectorMatches(p.selector, w.podLabels));
  if (publicServices.length > 0) {
    const service = publicServices.join(", ");
    if (replicas < 2) hit("deployment-replicas", w.replicasAt, { replicas, service });
    if (!hasPdb) hit("deployment-has-poddisruptionbudget", w.at, { service, replicas });
  } else if (replicas >= 2 && !hasPdb) {
    hit("deployment-has-poddisruptionbudget-internal", w.at, { replicas });
  }
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}
