// Which experiments the resilience checks plan (DESIGN principle 8): defaults from what the system is, refined (never
// replaced wholesale) by the experiments the spec lists, minus the exclusions it gives reasons for.
import { describe, expect, it } from "vitest";
import crash from "../../../src/checks/resilience/crashRecovered.js";
import blink from "../../../src/checks/resilience/dependencyBlinkSurvived.js";
import latency from "../../../src/checks/resilience/dependencyLatencyTolerated.js";
import outage from "../../../src/checks/resilience/dependencyOutageDegradesGracefully.js";
import {
  dependencies,
  planExperiments,
  proxyApiFor,
  transitiveDependentsOf,
} from "../../../src/checks/resilience/experiments/plan.js";
import {
  bystanderProbes,
  dependantProbes,
  targetProbe,
} from "../../../src/checks/resilience/experiments/probes.js";
import overload from "../../../src/checks/resilience/overloadShedGracefully.js";
import durability from "../../../src/checks/resilience/writesSurviveCrash.js";
import type { Check } from "../../../src/core/types.js";
import { type SpecInput, specSchema } from "../../../src/spec/schema.js";

const parse = (input: Omit<SpecInput, "version" | "system">) =>
  specSchema.parse({ version: 1, system: { name: "t" }, ...input });

const services: SpecInput["services"] = {
  db: { kind: "postgres", url: "postgres://app@127.0.0.1:5432/app" },
  pool: { kind: "pgbouncer", url: "postgres://app@127.0.0.1:6432/app", dependsOn: ["db"] },
  cache: { kind: "redis", url: "redis://127.0.0.1:6379", durable: false },
  api: { url: "http://127.0.0.1:8080", health: "/healthz", dependsOn: ["pool", "cache"] },
  web: { url: "http://127.0.0.1:8081", health: "/healthz" },
};
const shop = parse({ services, performance: { target: "api", requests: [{ path: "/api/items" }] } });

const targets = (check: Pick<Check, "applies">, spec = shop) =>
  check.applies(spec, { allowDestructive: true }) === true;

describe("planning experiments", () => {
  it("derives one experiment per eligible target when the spec lists none", () => {
    const planned = planExperiments(shop, "crashRecovered", ["kill"], (s) =>
      Object.keys(s.services).map((t) => ({
        name: `${t}-crash`,
        target: t,
        fault: "kill",
        recoverWithinMs: 1,
        declared: false,
      })),
    ).planned;
    expect(planned.map((e) => e.target)).toEqual(["db", "pool", "cache", "api", "web"]);
    expect(dependencies(shop)).toEqual(["db", "pool", "cache"]);
  });

  it("a listed experiment refines the default for its target; the other targets keep theirs", () => {
    const spec = parse({
      services,
      resilience: {
        experiments: [{ name: "api-crash", target: "api", fault: "kill", recoverWithin: "30s" }],
      },
    });
    const defaults = (s: typeof spec) =>
      Object.keys(s.services).map((t) => ({
        name: `${t}-crash`,
        target: t,
        fault: "kill" as const,
        recoverWithinMs: 10_000,
        declared: false,
      }));
    const { planned } = planExperiments(spec, "crashRecovered", ["kill"], defaults);
    expect(planned.map((e) => [e.name, e.recoverWithinMs, e.declared])).toEqual([
      ["db-crash", 10_000, false],
      ["pool-crash", 10_000, false],
      ["cache-crash", 10_000, false],
      ["api-crash", 30_000, true],
      ["web-crash", 10_000, false],
    ]);
  });

  it("listing only other faults switches no check off (the crashRecovered regression)", () => {
    const spec = parse({
      services,
      resilience: { experiments: [{ name: "cache-blink", target: "cache", fault: "restart" }] },
    });
    for (const check of [crash, blink, outage, latency, overload, durability])
      expect(targets(check, spec)).toBe(true);
  });

  it("a listed kill of an API refines crashRecovered, not writesSurviveCrash (a datastore check)", () => {
    const spec = parse({
      services: { web: { url: "http://127.0.0.1:1", health: "/h" } },
      resilience: { experiments: [{ name: "web-crash", target: "web", fault: "kill" }] },
    });
    expect(targets(crash, spec)).toBe(true);
    expect(durability.applies(spec, { allowDestructive: true })).toEqual({
      applies: false,
      reason: expect.stringMatching(/no datastore/),
    });
  });

  it("an exclusion leaves its (check, subject) out with the reason; without a subject, every subject", () => {
    const spec = parse({
      services,
      resilience: {
        exclude: [
          { check: "crashRecovered", subject: "db", reason: "managed by the cloud provider" },
          { check: "dependencyLatencyTolerated", reason: "no proxy in this environment" },
        ],
      },
    });
    const crashPlan = planExperiments(spec, "crashRecovered", ["kill"], (s) =>
      ["db", "api"].map((t) => ({
        name: t,
        target: t,
        fault: "kill" as const,
        recoverWithinMs: 1,
        declared: false,
        ...(s ? {} : {}),
      })),
    );
    expect(crashPlan.planned.map((e) => e.target)).toEqual(["api"]);
    expect(crashPlan.excluded).toEqual([
      { experiment: expect.objectContaining({ target: "db" }), reason: "managed by the cloud provider" },
    ]);
    const latencyPlan = planExperiments(spec, "dependencyLatencyTolerated", ["latency"], () => [
      { name: "x", target: "cache", fault: "latency", recoverWithinMs: 1, declared: false },
    ]);
    expect(latencyPlan.planned).toEqual([]);
    expect(latencyPlan.excluded).toHaveLength(1);
    // An excluded check still applies: its N/A findings carry the reason onto every report.
    expect(targets(latency, spec)).toBe(true);
  });

  it("dependants are transitive (api reaches db through the pool), bystanders are the rest", () => {
    expect(transitiveDependentsOf(shop, "db")).toEqual(["pool", "api"]);
    expect(dependantProbes(shop, "db").map((p) => p.probe.name)).toEqual([
      "pool SELECT 1",
      "api health",
      "api GET /api/items",
    ]);
    expect(bystanderProbes(shop, "db").map((p) => p.probe.name)).toEqual(["cache PING", "web health"]);
  });

  it("a datastore is watched by its own no-op, an HTTP service by its health endpoint", () => {
    expect(targetProbe(shop, "cache")?.probe.name).toBe("cache PING");
    expect(targetProbe(shop, "db")?.probe.name).toBe("db SELECT 1");
    expect(targetProbe(shop, "api")?.probe.name).toBe("api health");
  });

  it("reads the proxy of a dependency from resilience.proxies", () => {
    expect(proxyApiFor(shop, "cache")).toBeUndefined();
    const spec = parse({ services, resilience: { proxies: { cache: { api: "http://127.0.0.1:8474" } } } });
    expect(proxyApiFor(spec, "cache")).toBe("http://127.0.0.1:8474");
  });

  it("every resilience check is destructive, in the resilience category; with nothing to test it is N/A", () => {
    const lone = parse({ services: { web: { url: "http://127.0.0.1:1" } } });
    for (const check of [blink, crash, latency, outage, overload, durability]) {
      expect(check.meta).toMatchObject({ category: "resilience", destructive: true });
      expect(check.applies(lone, { allowDestructive: true })).not.toBe(true);
    }
  });
});
