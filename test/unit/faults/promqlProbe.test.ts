// The PromQL steady-state probe against a small in-test server speaking Prometheus' /api/v1/query: a condition holds
// while the query returns a non-zero sample, and fails (with the reason) when it returns none or the query errors.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promqlProbe } from "../../../src/engines/experiments/steadyState.js";

let server: http.Server;
let base: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const query = new URL(req.url ?? "/", "http://p").searchParams.get("query");
    const result =
      query === "up == 1" ? [{ metric: { job: "api" }, value: [1, "1"] }] : query === "broken" ? null : [];
    res.writeHead(result === null ? 400 : 200, { "content-type": "application/json" });
    res.end(
      JSON.stringify(
        result === null
          ? { status: "error", errorType: "bad_data", error: "parse error" }
          : { status: "success", data: { resultType: "vector", result } },
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("promqlProbe", () => {
  const signal = new AbortController().signal;
  it("holds while the condition returns a sample", async () => {
    expect(await promqlProbe(base, "up == 1").run(signal)).toMatchObject({ ok: true, answered: true });
  });
  it("fails when the condition filters every series out", async () => {
    const outcome = await promqlProbe(base, "up == 0").run(signal);
    expect(outcome).toMatchObject({ ok: false, answered: true });
    expect(outcome.detail).toMatch(/no sample/);
  });
  it("fails with the reason when the query errors", async () => {
    const outcome = await promqlProbe(base, "broken").run(signal);
    expect(outcome).toMatchObject({ ok: false, answered: false });
    expect(outcome.detail).toMatch(/query failed/);
  });
});
