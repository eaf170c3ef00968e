import { describe, expect, it } from "vitest";
import { parseManifestText } from "../../../../src/engines/kubernetes/manifests.js";
import { validateManifestObject } from "../../../../src/engines/kubernetes/schema.js";
import { kubernetesFacts, selectorMatches } from "../../../../src/engines/kubernetes/workloads.js";

describe("parseManifestText", () => {
  it("reads every document with its position, expands kind: List, and places fields", () => {
    const text = [
      "# header comment",
      "---",
      "apiVersion: v1",
      "kind: List",
      "items:",
      "  - apiVersion: v1",
      "    kind: ConfigMap",
      "    metadata: { name: a, namespace: prod }",
      "    data:",
      "      enabled: on",
      "---",
      "",
      "---",
      "apiVersion: v1",
      "kind: Service",
      "metadata:",
      "  name: b",
      "spec:",
      "  ports:",
      "    - port: 80",
      "",
    ].join("\n");
    const parsed = parseManifestText(text, "m.yaml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.objects.map((o) => [o.kind, o.name, o.namespace ?? null, o.document, o.line])).toEqual([
      ["ConfigMap", "a", "prod", 0, 6],
      ["Service", "b", null, 2, 14],
    ]);
    // YAML 1.1, as kubectl reads it: `on` is a boolean.
    expect((parsed.objects[0]!.value.data as Record<string, unknown>).enabled).toBe(true);
    expect(parsed.objects[1]!.positionOf(["spec", "ports", 0, "port"])).toEqual({ line: 20, column: 7 });
    // An absent field is placed at its nearest written ancestor.
    expect(parsed.objects[1]!.positionOf(["spec", "selector", "app"])).toEqual({ line: 18, column: 1 });
  });

  it("reports YAML errors (a duplicate key) at their line, documents that are not objects, and templates", () => {
    const duplicate = parseManifestText("apiVersion: v1\nkind: Service\nkind: Pod\n", "d.yaml");
    expect(duplicate.problems).toEqual([
      expect.objectContaining({ line: 3, message: expect.stringContaining("not valid YAML") }),
    ]);
    expect(parseManifestText("replicas: 3\n", "v.yaml").notObjects).toEqual([{ line: 1, column: 1 }]);
    expect(
      parseManifestText("{{- if .Values.enabled }}\napiVersion: v1\n{{- end }}\n", "t.yaml").problems,
    ).toEqual([expect.objectContaining({ line: 1, template: true })]);
    // Go templates inside quoted strings (alert annotations in a ConfigMap) are data, not a chart.
    const data = parseManifestText(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata:\n  summary: "{{ $labels.instance }} down"\n',
      "c.yaml",
    );
    expect(data.problems).toEqual([]);
    expect(data.objects).toHaveLength(1);
  });
});

describe("validateManifestObject", () => {
  it("knows built-in kinds, not custom resources nor nested types named like a kind", async () => {
    expect(await validateManifestObject("monitoring.coreos.com/v1", "ServiceMonitor", {})).toEqual({
      known: false,
      problems: [],
    });
    expect((await validateManifestObject("apps/v1", "DeploymentSpec", {})).known).toBe(false);
    expect((await validateManifestObject("../../x", "Pod", {})).known).toBe(false);
    const ok = await validateManifestObject("v1", "ConfigMap", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x" },
      data: { a: "b" },
    });
    expect(ok).toEqual({ known: true, problems: [] });
  });

  it("finds unknown fields deep in a pod template, with did-you-mean, and removed apiVersions", async () => {
    const verdict = await validateManifestObject("batch/v1", "CronJob", {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "x", labelz: {} },
      spec: {
        schedule: "* * * * *",
        jobTemplate: {
          spec: {
            template: {
              spec: { restartPolicy: "Never", containers: [{ name: "c", image: "i:1", comand: ["x"] }] },
            },
          },
        },
      },
    });
    expect(verdict.problems.map((p) => [p.kind, p.path.join(".")])).toEqual([
      ["unknownField", "metadata.labelz"],
      ["unknownField", "spec.jobTemplate.spec.template.spec.containers.0.comand"],
    ]);
    expect(verdict.problems[1]!.message).toContain('did you mean "command"');
    expect(await validateManifestObject("batch/v1beta1", "CronJob", {})).toMatchObject({
      removed: { since: "1.25", use: "batch/v1" },
    });
  });
});

describe("selectors", () => {
  it("match labels and expressions; an empty selector selects nothing", () => {
    const labels = { app: "web", tier: "front" };
    expect(selectorMatches({ matchLabels: { app: "web" } }, labels)).toBe(true);
    expect(
      selectorMatches(
        { matchExpressions: [{ key: "tier", operator: "In", values: ["front", "back"] }] },
        labels,
      ),
    ).toBe(true);
    expect(
      selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["front"] }] }, labels),
    ).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] }, labels)).toBe(
      true,
    );
    expect(selectorMatches({}, labels)).toBe(false);
  });

  it("reads a container's effective security context: the container's value, else the pod's", () => {
    const [object] = parseManifestText(
      "apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  securityContext: { runAsNonRoot: true, runAsUser: 1000 }\n  containers:\n    - name: a\n      image: x:1\n      securityContext: { runAsUser: 0 }\n    - name: b\n      image: x:1\n",
      "p.yaml",
    ).objects;
    const [a, b] = kubernetesFacts([object!]).workloads[0]!.containers;
    expect([a!.runAsUser, a!.runAsNonRoot, a!.securityAt.line]).toEqual([0, true, 9]);
    expect([b!.runAsUser, b!.runAsNonRoot, b!.securityAt.line]).toEqual([1000, true, 10]);
  });
});
