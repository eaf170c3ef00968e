import { describe, expect, it } from "vitest";
import check, { deployables, toolsNamed } from "../../../src/checks/deployment/deploymentRepeatable.js";
import { planChecks } from "../../../src/core/planner.js";
import { specSchema } from "../../../src/spec/schema.js";

const spec = (partial: Record<string, unknown>) =>
  specSchema.parse({ version: 1, system: { name: "t" }, ...partial });
const opts = { allowDestructive: false };

describe("deploymentRepeatable meta", () => {
  it("is a high-risk destructive deployment check, planned only with consent", () => {
    expect(check.meta).toMatchObject({
      id: "deploymentRepeatable",
      category: "deployment",
      risk: "high",
      destructive: true,
    });
    const declared = spec({ deployment: { deploy: { command: "./deploy.sh" } } });
    expect(planChecks([check], declared, { allowDestructive: false })[0]).toMatchObject({
      action: "excluded",
    });
    expect(planChecks([check], declared, { allowDestructive: true })[0]).toMatchObject({ action: "run" });
    // Two runs of up to an hour each.
    expect(check.meta.timeoutMs).toBeGreaterThan(2 * 60 * 60_000);
  });
});

describe("deploymentRepeatable applies (principle 8)", () => {
  it("applies to a declared deploy, and to any system with deployment files or deployed workloads", () => {
    for (const deployed of [
      { deployment: { deploy: { command: "./deploy.sh" } } },
      { deployment: { scripts: ["deploy.sh"] } },
      { deployment: { compose: ["compose.yaml"] } },
      { deployment: { kubernetes: ["k8s/*.yaml"] } },
      { deployment: { dockerfiles: ["Dockerfile"] } },
      { services: { api: { url: "http://127.0.0.1:1", control: { container: { name: "api" } } } } },
    ]) {
      expect(check.applies(spec(deployed), opts), JSON.stringify(deployed)).toBe(true);
    }
  });

  it("is N/A when nothing is deployable: a remote URL, or a process Gauntlet starts from the spec", () => {
    expect(
      check.applies(spec({ services: { api: { url: "https://api.example.com" } } }), opts),
    ).toMatchObject({
      applies: false,
    });
    const supervised = spec({
      services: { api: { url: "http://127.0.0.1:1", control: { process: { command: "node api.js" } } } },
      deployment: { env: { required: ["X"] } },
    });
    expect(check.applies(supervised, opts)).toMatchObject({ applies: false });
  });

  it("names what is deployable, in the spec's terms", () => {
    expect(
      deployables(
        spec({
          deployment: { scripts: ["deploy.sh"], dockerfiles: ["Dockerfile"] },
          services: {
            api: {
              url: "http://127.0.0.1:1",
              control: { kubernetes: { namespace: "p", selector: "app=api" } },
            },
            web: { url: "http://127.0.0.1:2", control: { process: { command: "node web.js" } } },
          },
        }),
      ),
    ).toEqual(["deployment.scripts", "deployment.dockerfiles", "services.api.control.kubernetes"]);
  });
});

describe("toolsNamed", () => {
  it("finds the programs that act outside the copy, not words that contain them or comments", () => {
    expect(toolsNamed("./deploy.sh")).toEqual([]);
    expect(
      toolsNamed(
        [
          "#!/bin/sh",
          "# docker is not used here, kubectl neither",
          "docker compose up -d --wait",
          "docker-compose ps",
          'ssh deploy@host "restart"',
          "$(kubectl get pods)",
          "echo dockerfile mydocker sshd",
          "/usr/bin/helm upgrade shop ./chart",
        ].join("\n"),
      ),
    ).toEqual(["docker", "docker-compose", "ssh", "kubectl", "helm"]);
  });
});
