import { describe, expect, it } from "vitest";
import check, { deployedBy } from "../../../src/checks/operations/rollbackWithinTarget.js";
import { specSchema } from "../../../src/spec/schema.js";

const spec = (partial: Record<string, unknown>) =>
  specSchema.parse({ version: 1, system: { name: "t" }, ...partial });
const opts = { allowDestructive: false };

describe("rollbackWithinTarget meta", () => {
  it("is a high-risk operations check that is not destructive (a safe: true run asks for consent itself)", () => {
    expect(check.meta).toMatchObject({
      id: "rollbackWithinTarget",
      category: "operations",
      risk: "high",
      destructive: false,
    });
    // Longer than any rollback timeout it honours, so the spec's timeout, not the runner, ends an overrun.
    expect(check.meta.timeoutMs).toBeGreaterThan(2 * 60 * 60_000);
  });
});

describe("rollbackWithinTarget applies (principle 8)", () => {
  it("applies to a declared rollback, and to any deployed system without one", () => {
    expect(check.applies(spec({ operations: { rollback: { command: "./r.sh" } } }), opts)).toBe(true);
    for (const deployed of [
      { deployment: { deploy: { command: "./deploy.sh" } } },
      { deployment: { scripts: ["deploy.sh"] } },
      { deployment: { compose: ["compose.yaml"] } },
      { deployment: { kubernetes: ["k8s/*.yaml"] } },
      { deployment: { dockerfiles: ["Dockerfile"] } },
      { services: { api: { url: "http://127.0.0.1:1", control: { process: { command: "node api.js" } } } } },
    ]) {
      expect(check.applies(spec(deployed), opts), JSON.stringify(deployed)).toBe(true);
    }
  });

  it("is N/A only when nothing is deployed and no rollback is declared", () => {
    const remote = spec({ services: { api: { url: "https://api.example.com", health: "/healthz" } } });
    expect(check.applies(remote, opts)).toMatchObject({ applies: false });
    expect(
      check.applies(spec({ deployment: { scripts: [], env: { required: ["X"] } } }), opts),
    ).toMatchObject({
      applies: false,
    });
  });

  it("names what makes a system deployed, in the spec's terms", () => {
    expect(
      deployedBy(
        spec({
          deployment: { scripts: ["deploy.sh"], dockerfiles: ["Dockerfile"] },
          services: {
            api: { url: "http://127.0.0.1:1", control: { process: { command: "node api.js" } } },
            web: { url: "http://127.0.0.1:2" },
          },
        }),
      ),
    ).toEqual(["deployment.scripts", "deployment.dockerfiles", "services.api.control"]);
  });
});
