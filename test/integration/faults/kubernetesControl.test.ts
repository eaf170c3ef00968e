// KubernetesControl against a small in-test HTTP server that speaks the pod endpoints it uses (list by label
// selector, delete) and plays a Deployment: a deleted pod is replaced by a new one that turns ready shortly after.
import http from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { KubernetesControl } from "../../../src/engines/faults/targets/kubernetesControl.js";

interface Pod {
  metadata: { name: string; namespace: string; uid: string; labels: Record<string, string> };
  status: { phase: string; conditions: { type: string; status: string }[] };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function fakeCluster(readyAfterMs: number) {
  let counter = 0;
  const pods: Pod[] = [];
  const requests: string[] = [];
  const newPod = () => {
    counter += 1;
    const pod: Pod = {
      metadata: { name: `api-${counter}`, namespace: "shop", uid: `uid-${counter}`, labels: { app: "api" } },
      status: { phase: "Pending", conditions: [{ type: "Ready", status: "False" }] },
    };
    pods.push(pod);
    setTimeout(() => {
      pod.status = { phase: "Running", conditions: [{ type: "Ready", status: "True" }] };
    }, readyAfterMs);
    return pod;
  };
  const first = newPod();
  first.status = { phase: "Running", conditions: [{ type: "Ready", status: "True" }] };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://k8s");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    const list = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
    if (req.method === "GET" && list) {
      const [key, value] = (url.searchParams.get("labelSelector") ?? "").split("=");
      const items = pods.filter((p) => p.metadata.namespace === list[1] && p.metadata.labels[key!] === value);
      return json(200, { apiVersion: "v1", kind: "PodList", metadata: {}, items });
    }
    const one = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url.pathname);
    if (req.method === "DELETE" && one) {
      const index = pods.findIndex((p) => p.metadata.name === one[2]);
      if (index < 0) return json(404, { kind: "Status", code: 404 });
      const [gone] = pods.splice(index, 1);
      newPod(); // the Deployment's replacement
      return json(200, gone);
    }
    json(404, { kind: "Status", code: 404, message: `no route ${url.pathname}` });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push(server);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: "fake",
        server: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: "tester" }],
    contexts: [{ name: "fake", cluster: "fake", user: "tester" }],
    currentContext: "fake",
  });
  return { kc, pods, requests };
}

describe("KubernetesControl", () => {
  it("kill deletes the selected pods without grace; the replacement is awaited by start()", async () => {
    const cluster = await fakeCluster(300);
    const target = new KubernetesControl("api", { namespace: "shop", selector: "app=api" }, cluster.kc);
    expect(await target.isRunning()).toBe(true);
    await target.kill();
    expect(cluster.requests).toContainEqual(
      expect.stringMatching(/^DELETE \/api\/v1\/namespaces\/shop\/pods\/api-1/),
    );
    expect(cluster.requests.some((r) => r.includes("gracePeriodSeconds=0"))).toBe(true);
    expect(await target.isRunning()).toBe(false); // the replacement is not ready yet
    const started = performance.now();
    await target.start();
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    expect(await target.isRunning()).toBe(true);
    expect(cluster.pods.map((p) => p.metadata.name)).toEqual(["api-2"]);
  });

  it("restart waits for a ready pod that is not the one it deleted", async () => {
    const cluster = await fakeCluster(200);
    const target = new KubernetesControl("api", { namespace: "shop", selector: "app=api" }, cluster.kc);
    await target.restart();
    const [pod] = await target.pods();
    expect(pod?.metadata?.uid).toBe("uid-2");
    expect(await target.isRunning()).toBe(true);
  });

  it("has no pause, and says so", async () => {
    const cluster = await fakeCluster(0);
    const target = new KubernetesControl("api", { namespace: "shop", selector: "app=api" }, cluster.kc);
    await expect(target.pause()).rejects.toThrow(/cannot pause/);
  });
});
