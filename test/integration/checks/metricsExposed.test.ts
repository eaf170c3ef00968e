// Real node:http services on loopback exposing good, empty-until-used, broken, incomplete and OpenMetrics expositions.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import check from "../../../src/checks/observability/metricsExposed.js";
import type { FindingInput } from "../../../src/core/types.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { freePort, verdictsWithoutEvidence } from "../../support/monitoring.js";

const servers: http.Server[] = [];
async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
const text =
  (body: string, type = "text/plain; version=0.0.4"): http.RequestListener =>
  (_req, res) => {
    res.writeHead(200, { "content-type": type });
    res.end(body);
  };

const HISTOGRAM =
  '# TYPE http_request_duration_seconds histogram\nhttp_request_duration_seconds_bucket{le="+Inf"} 0\n';
let findings: FindingInput[];
const of = (subject: string) => findings.find((f) => f.subject === subject)!;

beforeAll(async () => {
  let requests = 0;
  // Like the demo api: the counter has no series until the first request.
  const lazy = await serve((req, res) => {
    if (req.url === "/healthz") {
      requests++;
      res.writeHead(200).end("ok");
      return;
    }
    const counter = requests > 0 ? `http_requests_total{route="/healthz",code="200"} ${requests}\n` : "";
    text(`# TYPE http_requests_total counter\n${counter}${HISTOGRAM}`)(req, res);
  });
  const broken = await serve(text('# TYPE http_requests_total counter\nhttp_requests_total{code="200" 3\n'));
  const noHistogram = await serve(
    text('# TYPE http_requests_total counter\nhttp_requests_total{code="200"} 3\n'),
  );
  const openMetrics = await serve(
    text(
      `# TYPE rpc_requests counter\nrpc_requests_total{grpc_code="OK"} 1 # {trace_id="a"} 1\n# TYPE rpc_duration_seconds histogram\nrpc_duration_seconds_bucket{le="+Inf"} 1\nrpc_duration_seconds_count 1\nrpc_duration_seconds_sum 0.1\n# EOF\n`,
      "application/openmetrics-text; version=1.0.0",
    ),
  );
  const { ctx } = makeCheckContext({
    services: {
      lazy: { url: lazy, health: "/healthz", metrics: "/metrics" },
      broken: { url: broken, metrics: "/metrics" },
      noHistogram: { url: noHistogram, metrics: "/metrics" },
      openMetrics: { metrics: `${openMetrics}/metrics` },
      down: { url: `http://127.0.0.1:${await freePort()}`, metrics: "/metrics" },
      noMetrics: { url: lazy },
    },
  });
  findings = await check.run(ctx);
}, 20_000);

afterAll(async () => {
  for (const server of servers) await new Promise((r) => server.close(r));
});

describe("metricsExposed", () => {
  it("cites evidence for every verdict", () => {
    expect(verdictsWithoutEvidence(findings)).toEqual([]);
  });

  it("checks only services with a metrics endpoint", () => {
    expect(findings.map((f) => f.subject)).toEqual(["lazy", "broken", "noHistogram", "openMetrics", "down"]);
  });

  it("passes RED metrics, priming an empty request counter with one health request", () => {
    expect(of("lazy")).toMatchObject({
      status: "PASS",
      data: {
        red: {
          rate: "http_requests_total",
          errors: "http_requests_total by code",
          latency: "http_request_duration_seconds",
        },
      },
    });
  });

  it("fails an exposition that does not parse, naming the line", () => {
    expect(of("broken").status).toBe("FAIL");
    expect(of("broken").message).toContain("line 2");
  });

  it("names the missing latency histogram", () => {
    expect(of("noHistogram")).toMatchObject({ status: "FAIL", data: { missing: "latency histogram" } });
  });

  it("parses OpenMetrics", () => {
    expect(of("openMetrics")).toMatchObject({ status: "PASS", data: { format: "openmetrics" } });
  });

  it("fails a metrics endpoint that refuses connections", () => {
    expect(of("down").status).toBe("FAIL");
  });
});
