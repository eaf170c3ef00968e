import { describe, expect, it } from "vitest";
import { formatOf, parseExposition } from "../../../src/engines/metrics/exposition.js";
import { findRedSignals } from "../../../src/engines/metrics/redSignals.js";

describe("parseExposition (Prometheus text 0.0.4)", () => {
  it("parses HELP, TYPE, labels with escapes, special values and timestamps", () => {
    const text = [
      "# HELP http_requests_total Requests \\\\ handled.\\nSecond line.",
      "# TYPE http_requests_total counter",
      'http_requests_total{method="GET",path="/a b,c}",msg="say \\"hi\\"\\n"} 1027 1395066363000',
      'http_requests_total{ method = "POST" , } 3',
      "# a plain comment",
      "",
      "# TYPE temp gauge",
      "temp NaN",
      'temp{x="1"} +Inf',
      'temp{x="2"} -Inf',
      'temp{x="3"} 1.5e-3',
      "untyped_thing 42",
    ].join("\n");
    const exp = parseExposition(`${text}\n`);
    expect(exp.errors).toEqual([]);
    const requests = exp.families.get("http_requests_total")!;
    expect(requests.type).toBe("counter");
    expect(requests.help).toBe("Requests \\ handled.\nSecond line.");
    expect(requests.samples[0]).toMatchObject({
      labels: { method: "GET", path: "/a b,c}", msg: 'say "hi"\n' },
      value: 1027,
      timestampMs: 1395066363000,
      line: 3,
    });
    expect(requests.samples[1]!.labels).toEqual({ method: "POST" });
    const temp = exp.families.get("temp")!.samples.map((s) => s.value);
    expect(Number.isNaN(temp[0])).toBe(true);
    expect(temp.slice(1)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.0015]);
    expect(exp.families.get("untyped_thing")!.type).toBe("untyped");
    expect(exp.sampleCount).toBe(7);
  });

  it("groups histogram and summary series under their family", () => {
    const exp = parseExposition(
      [
        "# TYPE d histogram",
        'd_bucket{le="0.1"} 1',
        'd_bucket{le="+Inf"} 2',
        "d_sum 0.3",
        "d_count 2",
        "# TYPE s summary",
        's{quantile="0.5"} 0.1',
        "s_sum 1",
        "s_count 3",
      ].join("\n"),
    );
    expect([...exp.families.keys()]).toEqual(["d", "s"]);
    expect(exp.families.get("d")!.samples.map((s) => s.name)).toEqual([
      "d_bucket",
      "d_bucket",
      "d_sum",
      "d_count",
    ]);
    expect(exp.families.get("s")!.samples).toHaveLength(3);
  });

  it("reports errors with line and column", () => {
    const exp = parseExposition(
      ["ok 1", 'bad{a="1" 2', "novalue", 'esc{a="\\q"} 1', "x 1 12.5", "# TYPE t sometype"].join("\n"),
    );
    expect(exp.errors.map((e) => [e.line, e.column])).toEqual([
      [2, 11],
      [3, 8],
      [4, 8],
      [5, 5],
      [6, 10],
    ]);
    expect(exp.errors[4]!.message).toContain("unknown metric type");
  });
});

describe("parseExposition (OpenMetrics)", () => {
  const om = [
    "# TYPE http_requests counter",
    "# HELP http_requests Requests.",
    "# UNIT http_requests_duration seconds",
    'http_requests_total{code="200"} 10 1520879607.789 # {trace_id="abc"} 1 1520879607.7',
    'http_requests_created{code="200"} 1520430000.123',
    "# TYPE http_requests_duration histogram",
    'http_requests_duration_bucket{le="1.0"} 3 # {trace_id="x"} 0.5',
    'http_requests_duration_bucket{le="+Inf"} 4',
    "http_requests_duration_count 4",
    "http_requests_duration_sum 2.5",
    "# EOF",
  ];

  it("parses counters without _total in TYPE, seconds timestamps and ignores exemplars", () => {
    const exp = parseExposition(`${om.join("\n")}\n`, "openmetrics");
    expect(exp.errors).toEqual([]);
    const counter = exp.families.get("http_requests")!;
    expect(counter.type).toBe("counter");
    expect(counter.samples[0]).toMatchObject({
      name: "http_requests_total",
      value: 10,
      timestampMs: 1520879607789,
    });
    expect(counter.samples).toHaveLength(2);
    expect(exp.families.get("http_requests_duration")!.samples).toHaveLength(4);
    expect(exp.families.get("http_requests_duration")!.unit).toBe("seconds");
  });

  it("requires # EOF and nothing after it", () => {
    expect(parseExposition(om.slice(0, -1).join("\n"), "openmetrics").errors[0]!.message).toContain("# EOF");
    const after = parseExposition(`${om.join("\n")}\nx 1\n`, "openmetrics");
    expect(after.errors[0]).toMatchObject({ line: 12, message: "content after # EOF" });
  });

  it("detects the format from Content-Type", () => {
    expect(formatOf("application/openmetrics-text; version=1.0.0; charset=utf-8")).toBe("openmetrics");
    expect(formatOf("text/plain; version=0.0.4")).toBe("prometheus");
    expect(formatOf(undefined)).toBe("prometheus");
  });
});

describe("findRedSignals", () => {
  it("finds rate, errors by status label and a latency histogram", () => {
    const exp = parseExposition(
      [
        "# TYPE http_requests_total counter",
        'http_requests_total{code="500"} 1',
        "# TYPE http_request_duration_seconds histogram",
        'http_request_duration_seconds_bucket{le="+Inf"} 1',
      ].join("\n"),
    );
    expect(findRedSignals(exp)).toEqual({
      rate: "http_requests_total",
      errors: "http_requests_total by code",
      latency: "http_request_duration_seconds",
    });
  });

  it("names a summary that stands in for a histogram, and an empty request counter", () => {
    const exp = parseExposition(
      [
        "# TYPE requests_total counter",
        "# TYPE rpc_latency_seconds summary",
        'rpc_latency_seconds{quantile="0.9"} 1',
      ].join("\n"),
    );
    expect(findRedSignals(exp)).toEqual({
      rate: "requests_total",
      requestCounterEmpty: true,
      latencySummary: "rpc_latency_seconds",
    });
  });
});
