// OpenSLO v1 in and out: a multi-document file with Service, SLI (by indicatorRef, a DataSource by reference) and
// SLO documents becomes the SLOs the spec would hold; the spec's SLOs written as OpenSLO read back the same; what
// burn-rate rules cannot honour is refused naming the document and the field.
import { describe, expect, it } from "vitest";
import { parseOpenSlo, toOpenSlo } from "../../../../src/engines/slo/openslo.js";
import type { SloDefinition } from "../../../../src/engines/slo/rules.js";

const DAY = 86_400_000;

const FILE = `apiVersion: openslo/v1
kind: Service
metadata: { name: api }
spec: { description: the API }
---
apiVersion: openslo/v1
kind: DataSource
metadata: { name: prom }
spec: { type: Prometheus, connectionDetails: { url: "http://127.0.0.1:9090" } }
---
apiVersion: openslo/v1
kind: SLI
metadata: { name: api-good-requests }
spec:
  ratioMetric:
    counter: true
    good:
      metricSource: { metricSourceRef: prom, spec: { query: 'sum(rate(http_requests_total{job="api",code!~"5.."}[{{.window}}]))' } }
    total:
      metricSource: { metricSourceRef: prom, spec: { query: 'sum(rate(http_requests_total{job="api"}[{{.window}}]))' } }
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-availability
  labels: { team: [orders, payments], tier: "1" }
spec:
  service: api
  indicatorRef: api-good-requests
  timeWindow: [{ duration: 4w, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ displayName: good, targetPercent: 99.5 }]
---
apiVersion: openslo/v1
kind: SLO
metadata: { name: api-errors }
spec:
  service: api
  indicator:
    metadata: { name: inline }
    spec:
      ratioMetric:
        bad: { metricSource: { type: prometheus, spec: { query: 'sum(rate(errors_total[{{window}}]))' } } }
        total: { metricSource: { type: Prometheus, spec: { query: 'sum(rate(requests_total[{{window}}]))' } } }
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.999 }]
`;

describe("OpenSLO input", () => {
  it("reads SLO, SLI, Service and DataSource documents into the spec's SLO shape", () => {
    expect(parseOpenSlo(FILE, "slos.yaml")).toEqual([
      {
        name: "api-availability",
        service: "api",
        objective: 99.5,
        window: 28 * DAY,
        labels: { team: "orders,payments", tier: "1" },
        sli: {
          errors:
            '(sum(rate(http_requests_total{job="api"}[{{window}}]))) - (sum(rate(http_requests_total{job="api",code!~"5.."}[{{window}}])))',
          total: 'sum(rate(http_requests_total{job="api"}[{{window}}]))',
        },
      },
      {
        name: "api-errors",
        service: "api",
        objective: 99.9,
        window: 30 * DAY,
        sli: {
          errors: "sum(rate(errors_total[{{window}}]))",
          total: "sum(rate(requests_total[{{window}}]))",
        },
      },
    ]);
  });

  const slo = (patch: string, replace = "budgetingMethod: Occurrences") =>
    FILE.split("---\n")[4]!.replace(replace, patch);

  it.each([
    [
      "budgetingMethod: Timeslices",
      undefined,
      /document 1 \(SLO "api-errors"\): spec\.budgetingMethod is "Timeslices"/,
    ],
    [
      "timeWindow: [{ duration: 1M, calendar: { startTime: 2024-01-01 00:00:00, timeZone: UTC } }]",
      "timeWindow: [{ duration: 30d, isRolling: true }]",
      /spec\.timeWindow\[0\]: calendar-aligned windows are not supported/,
    ],
    [
      "timeWindow: [{ duration: 1M, isRolling: true }]",
      "timeWindow: [{ duration: 30d, isRolling: true }]",
      /duration is "1M"/,
    ],
    [
      "type: Datadog",
      "type: prometheus",
      /spec\.indicator\.spec\.ratioMetric\.bad\.metricSource\.type is "Datadog"/,
    ],
    [
      "thresholdMetric: { metricSource: { type: Prometheus, spec: { query: x } } }",
      /ratioMetric:[\s\S]*requests_total\[\{\{window\}\}\]\)\)' \} \} \}/,
      /spec\.indicator\.spec\.thresholdMetric is not supported/,
    ],
    [
      "sum(rate(errors_total[5m]))",
      "sum(rate(errors_total[{{window}}]))",
      /bad\.metricSource\.spec\.query has no \{\{window\}\}/,
    ],
  ] as [string, string | RegExp | undefined, RegExp][])(
    "refuses %s, naming the document and the field",
    (patch, replace, error) => {
      const text = `apiVersion: openslo/v1\n${slo(patch, replace as string).replace(/^apiVersion: openslo\/v1\n/, "")}`;
      expect(() => parseOpenSlo(text, "slos.yaml")).toThrow(error);
    },
  );

  it("refuses a file without SLO documents and other API versions", () => {
    expect(() =>
      parseOpenSlo("apiVersion: openslo/v1\nkind: Service\nmetadata: { name: a }\nspec: {}\n", "s.yaml"),
    ).toThrow(/holds no OpenSLO document of kind SLO/);
    expect(() =>
      parseOpenSlo("apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: { name: a }\n", "s.yaml"),
    ).toThrow(/only openslo\/v1 is read/);
  });
});

describe("OpenSLO output", () => {
  const slos: SloDefinition[] = [
    {
      name: "api-availability",
      service: "api",
      objective: 99.9,
      window: 30 * DAY,
      sli: {
        errors: 'sum(rate(http_requests_total{job="api",code=~"5.."}[{{window}}]))',
        total: 'sum(rate(http_requests_total{job="api"}[{{window}}]))',
      },
      labels: { team: "orders" },
      runbook: "https://runbooks.example.internal/api",
      minTraffic: 2,
    },
    {
      name: "api-latency",
      service: "api",
      objective: 99,
      window: 28 * DAY,
      sli: { histogram: 'http_request_duration_seconds{job="api"}', threshold: 300 },
    },
  ];

  it("round-trips a ratio SLO exactly, and a histogram SLO as good / total", () => {
    const text = toOpenSlo(slos);
    expect(text.match(/^kind: (\w+)$/gm)).toEqual([
      "kind: Service",
      "kind: SLI",
      "kind: SLO",
      "kind: SLI",
      "kind: SLO",
    ]);
    const [ratio, latency] = parseOpenSlo(text, "out.yaml");
    expect(ratio).toEqual(slos[0]);
    expect(latency).toEqual({
      name: "api-latency",
      service: "api",
      objective: 99,
      window: 28 * DAY,
      sli: {
        errors:
          '(sum(rate(http_request_duration_seconds_count{job="api"}[{{window}}]))) - (sum(rate(http_request_duration_seconds_bucket{job="api", le="0.3"}[{{window}}])))',
        total: 'sum(rate(http_request_duration_seconds_count{job="api"}[{{window}}]))',
      },
    });
  });
});
