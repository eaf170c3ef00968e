// A control API URL that answers 404 (a wrong path, another service) must not make an injection look done.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remoteToxics } from "../../../src/engines/faults/proxy/proxyClient.js";

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((_, res) => {
    res.writeHead(404, { "content-type": "application/json" });
    res.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

describe("remoteToxics against an API that answers 404", () => {
  it("fails an add, so no experiment runs against a fault that was never injected", async () => {
    await expect(remoteToxics(base).add({ type: "latency", attributes: { latency: 200 } })).rejects.toThrow(
      /404/,
    );
  });

  it("accepts a 404 on remove: the toxic is gone either way", async () => {
    await expect(remoteToxics(base).remove("latency_downstream")).resolves.toBeUndefined();
  });
});
