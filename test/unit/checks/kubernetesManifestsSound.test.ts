import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import check from "../../../src/checks/deployment/kubernetesManifestsSound.js";
import type { FindingInput } from "../../../src/core/types.js";
import {
  findKubernetesManifests,
  findKubernetesWorkloads,
} from "../../../src/engines/kubernetes/discover.js";
import { specSchema } from "../../../src/spec/schema.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { recordObservation } from "../../support/judgeFixtures.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures/kubernetes");
const STURDY = readFileSync(path.join(FIXTURES, "sturdy/app.yaml"), "utf8");

async function runOn(
  files: Record<string, string>,
  kubernetes: string[] = Object.keys(files),
  extra: Record<string, unknown> = {},
) {
  const input = { deployment: { kubernetes }, ...extra };
  const t = makeCheckContext(input, { checkId: "kubernetesManifestsSound" });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(t.ctx.specDir, name)), { recursive: true });
    writeFileSync(path.join(t.ctx.specDir, name), content);
  }
  const observation = await check.observe(t.ctx);
  return { ...t, observation, input, findings: check.judge(observation, t.ctx.spec) };
}

async function runOnFixtures(kubernetes: string[]) {
  const input = { deployment: { kubernetes } };
  const t = makeCheckContext(input, { checkId: "kubernetesManifestsSound" });
  cpSync(FIXTURES, t.ctx.specDir, { recursive: true });
  const observation = await check.observe(t.ctx);
  return { ...t, observation, input, findings: check.judge(observation, t.ctx.spec) };
}

const rows = (findings: FindingInput[]) =>
  findings.map((f) => [f.messageId, f.location?.path ?? null, f.location?.line ?? null]);
const lineOf = (text: string, needle: string, from = 0) =>
  text.slice(0, text.indexOf(needle, from)).split("\n").length;

describe("kubernetesManifestsSound meta", () => {
  it("is a medium-risk deployment check, N/A without deployment.kubernetes", () => {
    expect(check.meta).toMatchObject({
      id: "kubernetesManifestsSound",
      category: "deployment",
      risk: "medium",
    });
    const spec = (deployment?: unknown) =>
      specSchema.parse({ version: 1, system: { name: "t" }, deployment });
    expect(check.applies(spec(), { allowDestructive: false })).toMatchObject({ applies: false });
    expect(check.applies(spec({ kubernetes: [] }), { allowDestructive: false })).toMatchObject({
      applies: false,
    });
    expect(check.applies(spec({ kubernetes: ["k8s/"] }), { allowDestructive: false })).toBe(true);
  });
});

describe("kubernetesManifestsSound: a sturdy manifest passes, and each PASS could have failed", () => {
  it("passes a public Deployment with 3 replicas, a PDB, distinct probes, resources and a tight securityContext", async () => {
    const { findings, observation, input } = await runOn({ "k8s/app.yaml": STURDY });
    expect(rows(findings)).toEqual([["manifestsSound", "k8s/app.yaml", null]]);
    expect(findings[0]!.message).toContain(
      "4 object(s) validate (Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler)",
    );
    recordObservation("kubernetesManifestsSound", "ok.sturdy-public-web", observation, input);
  });

  const S = STURDY;
  const mutations: [string, (t: string) => string, string, number][] = [
    [
      "one replica",
      (t) => t.replace("minReplicas: 3", "minReplicas: 1"),
      "singleReplicaPublic",
      lineOf(S, "replicas: 3"),
    ],
    [
      "no PDB",
      (t) => t.replace(/---\napiVersion: policy\/v1[\s\S]*?---\n/, "---\n"),
      "noDisruptionBudget",
      lineOf(S, "kind: Deployment") - 1,
    ],
    [
      "PDB allows nothing",
      (t) => t.replace("maxUnavailable: 1", "maxUnavailable: 0"),
      "disruptionBudgetBlocksEviction",
      lineOf(S, "kind: PodDisruptionBudget") - 1,
    ],
    [
      "PDB without policy",
      (t) => t.replace("  maxUnavailable: 1\n", ""),
      "disruptionBudgetWithoutPolicy",
      lineOf(S, "kind: PodDisruptionBudget") - 1,
    ],
    [
      "identical probes",
      (t) => t.replace("path: /healthz", "path: /ready"),
      "probesIdentical",
      lineOf(S, "livenessProbe"),
    ],
    [
      "no readiness",
      (t) => t.replace(/ {10}readinessProbe:\n.*\n/, ""),
      "readinessProbeMissing",
      lineOf(S, "- name: web"),
    ],
    [
      "no liveness",
      (t) => t.replace(/ {10}livenessProbe:\n.*\n.*\n/, ""),
      "livenessProbeMissing",
      lineOf(S, "- name: web"),
    ],
    [
      "no requests",
      (t) => t.replace(/ {12}requests:.*\n/, ""),
      "resourceRequestsMissing",
      lineOf(S, "resources:"),
    ],
    [
      "no memory limit",
      (t) => t.replace('limits: { cpu: "1", memory: 256Mi }', 'limits: { cpu: "1" }'),
      "memoryLimitMissing",
      lineOf(S, "resources:"),
    ],
    [
      "no cpu limit",
      (t) => t.replace('limits: { cpu: "1", memory: 256Mi }', "limits: { memory: 256Mi }"),
      "cpuLimitMissing",
      lineOf(S, "resources:"),
    ],
    [
      "escalation allowed",
      (t) => t.replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"),
      "privilegeEscalation",
      lineOf(S, "securityContext:", S.indexOf("livenessProbe")),
    ],
    [
      "escalation unset",
      (t) => t.replace(/ {12}allowPrivilegeEscalation: false\n/, ""),
      "privilegeEscalationNotBlocked",
      lineOf(S, "securityContext:", S.indexOf("livenessProbe")),
    ],
    [
      "writable root",
      (t) => t.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"),
      "writableRootFilesystem",
      lineOf(S, "securityContext:", S.indexOf("livenessProbe")),
    ],
    [
      "privileged",
      (t) => t.replace("privileged: false", "privileged: true"),
      "privileged",
      lineOf(S, "securityContext:", S.indexOf("livenessProbe")),
    ],
    [
      "root user",
      (t) =>
        t.replace("runAsUser: 10001", "runAsUser: 0").replace("runAsNonRoot: true", "runAsNonRoot: false"),
      "runsAsRoot",
      lineOf(S, "securityContext:", S.indexOf("livenessProbe")),
    ],
    [
      "non-root not enforced",
      (t) => t.replace(/ {6}securityContext:\n.*\n.*\n/, ""),
      "nonRootNotEnforced",
      lineOf(S, "securityContext:", S.indexOf("livenessProbe")) - 3,
    ],
    [
      "capabilities kept",
      (t) => t.replace("capabilities: { drop: [ALL] }", "capabilities: { drop: [NET_RAW] }"),
      "capabilitiesNotDropped",
      lineOf(S, "securityContext:", S.indexOf("livenessProbe")),
    ],
    [
      "capability added",
      (t) => t.replace("capabilities: { drop: [ALL] }", "capabilities: { drop: [ALL], add: [NET_ADMIN] }"),
      "dangerousCapability",
      lineOf(S, "securityContext:", S.indexOf("livenessProbe")),
    ],
    [
      "latest image",
      (t) => t.replace(/image: ghcr\.io\S+/, "image: ghcr.io/example/web:latest"),
      "imageNotPinned",
      lineOf(S, "image: ghcr.io"),
    ],
    [
      "untagged image",
      (t) => t.replace(/image: ghcr\.io\S+/, "image: ghcr.io/example/web"),
      "imageNotPinned",
      lineOf(S, "image: ghcr.io"),
    ],
    [
      "pull never",
      (t) => t.replace(/(image: ghcr\.io\S+\n)/, "$1          imagePullPolicy: Never\n"),
      "imagePullNever",
      lineOf(S, "image: ghcr.io"),
    ],
    [
      "host PID",
      (t) =>
        t.replace(
          "      securityContext:\n        runAsNonRoot",
          "      hostPID: true\n      securityContext:\n        runAsNonRoot",
        ),
      "hostNamespaces",
      lineOf(S, "      securityContext:"),
    ],
    [
      "service selects nothing",
      (t) =>
        t.replace(
          "type: LoadBalancer\n  selector: { app: web }",
          "type: LoadBalancer\n  selector: { app: webb }",
        ),
      "serviceSelectsNothing",
      lineOf(S, "selector: { app: web }"),
    ],
    [
      "unknown target port",
      (t) => t.replace("targetPort: http", "targetPort: htp"),
      "serviceTargetPortUnknown",
      lineOf(S, "kind: Service") - 1,
    ],
    [
      "default namespace",
      (t) =>
        t.replace(
          "  name: web\n  namespace: shop\nspec:\n  replicas",
          "  name: web\n  namespace: default\nspec:\n  replicas",
        ),
      "defaultNamespace",
      lineOf(S, "namespace: shop"),
    ],
    [
      "selector mismatch",
      (t) => t.replace("      labels: { app: web }", "      labels: { app: web2 }"),
      "selectorMismatch",
      lineOf(S, "  selector:"),
    ],
    [
      "typo'd field",
      (t) => t.replace("readinessProbe:", "readinesProbe:"),
      "unknownField",
      lineOf(S, "readinessProbe:"),
    ],
    [
      "wrong type",
      (t) => t.replace("replicas: 3", 'replicas: "3"'),
      "schemaInvalid",
      lineOf(S, "replicas: 3"),
    ],
    [
      "removed API",
      (t) => t.replace("apiVersion: policy/v1", "apiVersion: policy/v1beta1"),
      "removedApi",
      lineOf(S, "apiVersion: policy/v1"),
    ],
    [
      "ingress to nowhere",
      (t) =>
        `${t}---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: web, namespace: shop }\nspec:\n  defaultBackend:\n    service: { name: shop-web, port: { number: 80 } }\n`,
      "ingressBackendUnknown",
      S.split("\n").length + 5,
    ],
  ];
  it.each(mutations)("%s → %s", async (_name, mutate, messageId, line) => {
    const text = mutate(STURDY);
    expect(text).not.toBe(STURDY);
    const { findings } = await runOn({ "app.yaml": text });
    const hit = findings.filter((f) => f.messageId === messageId);
    expect(hit.length, JSON.stringify(rows(findings))).toBeGreaterThan(0);
    expect(hit[0]!.status).not.toBe("PASS");
    expect(hit[0]!.location?.line).toBe(line);
    expect(findings.some((f) => f.status === "PASS")).toBe(false);
  });

  it("a ClusterIP Service is public when the spec says exposure: public", async () => {
    const internal = STURDY.replace("  type: LoadBalancer\n", "").replace("minReplicas: 3", "minReplicas: 1");
    const asInternal = await runOn({ "app.yaml": internal });
    expect(rows(asInternal.findings)).toEqual([["manifestsSound", "app.yaml", null]]);
    const asPublic = await runOn({ "app.yaml": internal }, ["app.yaml"], {
      services: { web: { url: "http://127.0.0.1:8080", exposure: "public" } },
    });
    expect(asPublic.findings.map((f) => f.messageId)).toEqual(["singleReplicaPublic"]);
  });
});

describe("kubernetesManifestsSound: broken manifests fail at the broken line", () => {
  it("bad indentation, typos, wrong types, removed APIs, an insecure agent, a template and an empty file", async () => {
    const { findings, observation, input } = await runOnFixtures(["broken"]);
    const by = (file: string) => rows(findings.filter((f) => f.location?.path === `broken/${file}`));
    expect(by("bad-indentation.yaml")).toEqual([["yamlInvalid", "broken/bad-indentation.yaml", 5]]);
    expect(by("empty.yaml")).toEqual([["noObjects", "broken/empty.yaml", null]]);
    expect(by("helm-template.yaml")).toEqual([["template", "broken/helm-template.yaml", 4]]);
    expect(findings.find((f) => f.messageId === "template")).toMatchObject({
      status: "UNVERIFIED",
      toVerify: expect.stringContaining("helm template"),
    });
    const typos = by("typos.yaml");
    expect(typos.slice(0, 5)).toEqual([
      ["schemaInvalid", "broken/typos.yaml", 6],
      ["schemaInvalid", "broken/typos.yaml", 20],
      ["unknownField", "broken/typos.yaml", 16],
      ["unknownField", "broken/typos.yaml", 17],
      ["schemaInvalid", "broken/typos.yaml", 27],
    ]);
    const messages = findings.filter((f) => f.location?.path === "broken/typos.yaml").map((f) => f.message);
    expect(messages[2]).toContain('did you mean "imagePullPolicy"');
    expect(messages[3]).toContain('did you mean "readinessProbe"');
    expect(messages[4]).toContain('did you mean "LoadBalancer"');
    expect(by("removed-apis.yaml")).toEqual([
      ["removedApi", "broken/removed-apis.yaml", 1],
      ["removedApi", "broken/removed-apis.yaml", 8],
      ["ingressBackendUnknown", "broken/removed-apis.yaml", 6],
    ]);
    const insecure = new Map<unknown, unknown>();
    for (const [id, , line] of by("insecure.yaml")) if (!insecure.has(id)) insecure.set(id, line);
    for (const [id, line] of [
      ["defaultNamespace", 5],
      ["selectorMismatch", 8],
      ["hostNamespaces", 14],
      ["imageNotPinned", 17],
      ["imagePullNever", 17],
      ["privileged", 19],
      ["runsAsRoot", 19],
      ["dangerousCapability", 19],
      ["serviceSelectsNothing", 31],
      ["disruptionBudgetWithoutPolicy", 34],
    ] as const) {
      expect(insecure.get(id), id).toBe(line);
    }
    // Every finding that is not a PASS is about a broken file, and none is a PASS.
    expect(findings.some((f) => f.status === "PASS")).toBe(false);
    recordObservation("kubernetesManifestsSound", "ng.broken-manifests", observation, input);
  });

  it("fails an entry that matches no manifest file", async () => {
    const { findings } = await runOn({ "k8s/app.yaml": STURDY, "k8s/README.md": "not yaml" }, [
      "k8s",
      "missing/*.yaml",
    ]);
    expect(findings.map((f) => [f.status, f.messageId, f.subject])).toEqual([
      ["FAIL", "missing", "missing/*.yaml"],
      ["PASS", "manifestsSound", "k8s/app.yaml"],
    ]);
  });

  it("a file of custom resources only is UNVERIFIED, and beside known kinds they are noted in the PASS", async () => {
    const monitor =
      "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: { name: web, namespace: shop }\nspec:\n  selector: { matchLabels: { app: web } }\n";
    const { findings } = await runOn({ "crs.yaml": monitor, "app.yaml": `${STURDY}---\n${monitor}` });
    expect(findings.map((f) => [f.status, f.messageId, f.subject])).toEqual([
      ["UNVERIFIED", "noKnownObjects", "crs.yaml"],
      ["PASS", "manifestsSound", "app.yaml"],
    ]);
    expect(findings[1]!.message).toContain(
      "not validated (no schema here, e.g. custom resources): ServiceMonitor",
    );
  });
});

describe("kubernetesManifestsSound on real public manifests", () => {
  it("Online Boutique: hardened pods, but identical probes, one public replica without a PDB, a bare init container", async () => {
    const { findings, observation, input } = await runOnFixtures(["real/online-boutique.yaml"]);
    const counts = new Map<string, number>();
    for (const f of findings) counts.set(f.messageId, (counts.get(f.messageId) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({
      noDisruptionBudget: 1,
      singleReplicaPublic: 1,
      probesIdentical: 11,
      cpuLimitMissing: 1,
      memoryLimitMissing: 1,
      resourceRequestsMissing: 1,
    });
    // The frontend is public through its LoadBalancer Service; loadgenerator's init container sets no resources.
    expect(findings.find((f) => f.messageId === "singleReplicaPublic")).toMatchObject({
      subject: "Deployment/frontend",
      data: { service: "frontend-external (LoadBalancer)" },
    });
    expect(findings.find((f) => f.messageId === "resourceRequestsMissing")).toMatchObject({
      subject: "Deployment/loadgenerator",
      data: { container: "frontend-check" },
      location: { line: 468 },
    });
    // 26 objects validated, so no security WARN means their securityContext was read and is tight.
    expect(observation.objects.filter((o) => o.known && o.problems.length === 0)).toHaveLength(
      observation.objects.length,
    );
    expect(observation.objects.length).toBeGreaterThan(20);
    recordObservation("kubernetesManifestsSound", "ng.real-online-boutique", observation, input);
  });

  it("guestbook: no probes, no limits, no securityContext; the NodePort frontend has 3 replicas but no PDB", async () => {
    const { findings } = await runOnFixtures(["real/guestbook-all-in-one.yaml"]);
    const frontend = findings
      .filter((f) => f.subject === "Deployment/frontend")
      .map((f) => f.messageId)
      .sort();
    expect(frontend).toEqual([
      "capabilitiesNotDropped",
      "cpuLimitMissing",
      "memoryLimitMissing",
      "noDisruptionBudget",
      "nonRootNotEnforced",
      "privilegeEscalationNotBlocked",
      "readinessProbeMissing",
      "writableRootFilesystem",
    ]);
    expect(findings.filter((f) => f.messageId === "singleReplicaPublic")).toEqual([]);
    expect(
      findings.find(
        (f) => f.subject === "Deployment/redis-replica" && f.messageId === "noDisruptionBudgetInternal",
      )?.status,
    ).toBe("WARN");
  });

  it("guestbook-go: a ReplicationController's plain selector matches its template (no false mismatch)", async () => {
    const { findings } = await runOnFixtures(["real/guestbook-go-controller.yaml"]);
    expect(findings.map((f) => f.messageId)).not.toContain("selectorMismatch");
    expect(findings.map((f) => f.messageId)).toContain("resourceRequestsMissing");
  });

  it("cassandra: the headless Service selects the StatefulSet, whose probes and resources are set", async () => {
    const { findings } = await runOnFixtures([
      "real/cassandra-statefulset.yaml",
      "real/cassandra-service.yaml",
    ]);
    expect(rows(findings)).toEqual([
      ["noDisruptionBudgetInternal", "real/cassandra-statefulset.yaml", 1],
      ["capabilitiesNotDropped", "real/cassandra-statefulset.yaml", 39],
      ["nonRootNotEnforced", "real/cassandra-statefulset.yaml", 39],
      ["privilegeEscalationNotBlocked", "real/cassandra-statefulset.yaml", 39],
      ["writableRootFilesystem", "real/cassandra-statefulset.yaml", 39],
      ["manifestsSound", "real/cassandra-service.yaml", null],
    ]);
  });

  it("tf-serving: a ClusterIP Service behind an Ingress is public, so one replica without a PDB fails", async () => {
    const { findings } = await runOnFixtures(["real/tf-serving"]);
    expect(
      findings
        .filter((f) => f.status === "FAIL")
        .map((f) => f.messageId)
        .sort(),
    ).toEqual([
      "memoryLimitMissing",
      "noDisruptionBudget",
      "readinessProbeMissing",
      "resourceRequestsMissing",
      "singleReplicaPublic",
    ]);
    expect(findings.filter((f) => f.status === "PASS").map((f) => f.subject)).toEqual([
      "real/tf-serving/ingress.yaml",
      "real/tf-serving/service.yaml",
    ]);
    // Those PASSes could have failed: without the Deployment the Service selects nothing, without the Service the
    // Ingress routes nowhere.
    const alone = await runOnFixtures(["real/tf-serving/service.yaml", "real/tf-serving/ingress.yaml"]);
    expect(alone.findings.map((f) => [f.status, f.messageId])).toEqual([
      ["FAIL", "serviceSelectsNothing"],
      ["PASS", "manifestsSound"],
    ]);
    const ingressAlone = await runOnFixtures(["real/tf-serving/ingress.yaml"]);
    expect(ingressAlone.findings.map((f) => [f.status, f.messageId])).toEqual([
      ["WARN", "ingressBackendUnknown"],
    ]);
  });
});

describe("findKubernetesWorkloads (for gauntlet init)", () => {
  it("names Services and Deployments with ports, replicas and probes, and finds manifest files", async () => {
    const inventory = await findKubernetesWorkloads(
      ["real/online-boutique.yaml", "broken/helm-template.yaml"],
      FIXTURES,
    );
    const frontend = inventory.services.find((s) => s.name === "frontend-external")!;
    expect(frontend).toMatchObject({
      type: "LoadBalancer",
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      workloads: ["Deployment/frontend"],
    });
    const deployment = inventory.workloads.find((w) => w.name === "frontend")!;
    expect(deployment).toMatchObject({ kind: "Deployment", replicas: 1 });
    expect(deployment.containers[0]).toMatchObject({
      name: "server",
      ports: [{ containerPort: 8080 }],
      readiness: { type: "httpGet", path: "/_healthz", port: 8080 },
    });
    expect(inventory.problems).toEqual([
      expect.objectContaining({ file: "broken/helm-template.yaml", template: true }),
    ]);
    const files = await findKubernetesManifests(FIXTURES);
    expect(files).toContain("real/online-boutique.yaml");
    expect(files).toContain("sturdy/app.yaml");
    expect(files).not.toContain("broken/empty.yaml");
  });
});

describe("kubernetesManifestsSound on the demos' manifests", () => {
  const examples = path.resolve(import.meta.dirname, "../../../examples");
  const judge = async (demo: string) => {
    const t = makeCheckContext(
      { deployment: { kubernetes: ["deploy/kubernetes.yaml"] } },
      { specDir: path.join(examples, demo) },
    );
    return check.run(t.ctx);
  };

  it("the sturdy shop's pass", async () => {
    expect(rows(await judge("sturdy"))).toEqual([["manifestsSound", "deploy/kubernetes.yaml", null]]);
  });

  it("the fragile shop's fail at the careless lines", async () => {
    const findings = await judge("fragile");
    const failed = findings.filter((f) => f.status === "FAIL").map((f) => [f.messageId, f.location?.line]);
    expect(failed).toEqual([
      ["unknownField", 19],
      ["noDisruptionBudget", 3],
      ["singleReplicaPublic", 8],
      ["memoryLimitMissing", 16],
      ["resourceRequestsMissing", 16],
      ["readinessProbeMissing", 16],
      ["imageNotPinned", 17],
      ["runsAsRoot", 21],
    ]);
    expect(findings.find((f) => f.messageId === "unknownField")?.message).toContain(
      'did you mean "readinessProbe"',
    );
  });
});
