// Which experiments the resilience checks run: the spec's own, or defaults derived from dependsOn; which proxy
// carries a dependency's traffic; which probes watch a service.
import { describe, expect, it } from "vitest";
import crash from "../../../src/checks/resilience/crashRecovered.js";
import blink from "../../../src/checks/resilience/dependencyBlinkSurvived.js";
import latency from "../../../src/checks/resilience/dependencyLatencyTolerated.js";
import outage from "../../../src/checks/resilience/dependencyOutageDegradesGracefully.js";
import overload from "../../../src/checks/resilience/overloadShedGracefully.js";
import {
  dependencies,
  experimentsFor,
  probesAround,
  proxyApiFor,
} from "../../../src/engines/experiments/resilienceSpec.js";
import { type SpecInput, specSchema } from "../../../src/spec/schema.js";

const parse = (input: Omit<SpecInput, "version" | "system">) =>
  specSchema.parse({ version: 1, system: { name: "t" }, ...input });

const shopInput: Omit<SpecInput, "version" | "system"> = {
  services: {
    db: { kind: "postgres", url: "postgres://127.0.0.1:5432/app" },
    cache: { kind: "redis", url: "redis://127.0.0.1:6379" },
    api: { url: "http://127.0.0.1:8080", health: "/healthz", dependsOn: ["db", "cache"] },
    web: { url: "http://127.0.0.1:8081", health: "/healthz", dependsOn: ["api"] },
  },
  performance: { target: "api", requests: [{ path: "/api/items" }, { method: "POST", path: "/api/orders" }] },
};
const shop = parse(shopInput);

describe("resilience spec", () => {
  it("derives experiments from dependsOn when the spec lists none", () => {
    expect(dependencies(shop)).toEqual(["db", "cache", "api"]);
    const derived = experimentsFor(shop, ["restart"], () => [
      { name: "d", target: "db", fault: "restart", recoverWithinMs: 1 },
    ]);
    expect(derived.map((e) => e.target)).toEqual(["db"]);
  });

  it("uses only the spec's experiments of the asked faults when it lists some", () => {
    const spec = parse({
      ...shopInput,
      resilience: {
        experiments: [
          { name: "a", target: "api", fault: "kill", recoverWithin: "5s" },
          { name: "b", target: "cache", fault: "latency", latency: "300ms" },
        ],
      },
    });
    expect(experimentsFor(spec, ["kill"], () => [])).toEqual([
      { name: "a", target: "api", fault: "kill", recoverWithinMs: 5_000 },
    ]);
    expect(experimentsFor(spec, ["latency"], () => [])[0]).toMatchObject({ latencyMs: 300 });
  });

  it("watches dependants with health and performance GET probes, the rest as bystanders", () => {
    const { dependants, bystanders } = probesAround(shop, "cache");
    expect(dependants.map((p) => p.probe.name)).toEqual(["api health", "api GET /api/items"]);
    expect(bystanders.map((p) => p.probe.name)).toEqual(["web health"]);
  });

  it("reads the proxy of a dependency from resilience.proxies", () => {
    const spec = parse({ services: shopInput.services });
    expect(proxyApiFor(spec, "cache")).toBeUndefined();
    spec.resilience = { experiments: [] };
    (spec.resilience as Record<string, unknown>).proxies = { cache: { api: "http://127.0.0.1:8474" } };
    expect(proxyApiFor(spec, "cache")).toBe("http://127.0.0.1:8474");
  });

  it("every resilience check is destructive, in the resilience category, and applies to the shop", () => {
    for (const check of [blink, crash, latency, outage, overload]) {
      expect(check.meta).toMatchObject({ category: "resilience", destructive: true });
      expect(check.applies(shop, { allowDestructive: true })).toBe(true);
    }
    const lone = parse({ services: { cache: { kind: "redis" } } });
    for (const check of [blink, crash, latency, outage, overload]) {
      expect(check.applies(lone, { allowDestructive: true })).not.toBe(true);
    }
  });
});
