// `gauntlet worker --manifest`: a Kubernetes Indexed Job that validates against the Kubernetes schema, reads a Redis
// password from a Secret, and whose pods name themselves by their index (checked with a real worker process).
import { Job } from "kubernetes-models/batch/v1";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { validateManifestObject } from "../../../src/engines/kubernetes/schema.js";
import { cleanupAfterEach } from "../../support/cleanups.js";
import { runCli, startCli } from "../../support/cli.js";
import { keysUnder, testPrefix } from "../../support/loadWorkers.js";
import { sharedRedisUrl } from "../../support/services.js";

const onCleanup = cleanupAfterEach();

interface Container {
  command: string[];
  args: string[];
  image: string;
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
}

describe("gauntlet worker --manifest", () => {
  it("prints a valid Indexed Job that takes a Redis password from a Secret", async () => {
    const password = "manifest-pw-7781";
    const result = await runCli([
      "worker",
      "--manifest",
      "--workers",
      "4",
      "--redis",
      `redis://:${password}@redis.load.svc:6379`,
      "--namespace",
      "load",
      "--name",
      "gl",
      "--image",
      "registry.example/gauntlet:1",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(password);
    expect(result.stdout).toContain("kubectl create secret generic gl-redis -n load");
    const job = parse(result.stdout);
    expect(job).toMatchObject({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "gl", namespace: "load" },
      spec: { completionMode: "Indexed", completions: 4, parallelism: 4, backoffLimit: 0 },
    });
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    const container = pod.containers[0] as Container;
    expect(container.image).toBe("registry.example/gauntlet:1");
    expect([...container.command, ...container.args].slice(0, 2)).toEqual(["gauntlet", "worker"]);
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(container.resources.requests.cpu).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
    const redisEnv = container.env.find((e) => e.name === "GAUNTLET_REDIS_URL");
    expect(redisEnv).toEqual({
      name: "GAUNTLET_REDIS_URL",
      valueFrom: { secretKeyRef: { name: "gl-redis", key: "url" } },
    });
    new Job(job).validate();
    const verdict = await validateManifestObject("batch/v1", "Job", job);
    expect(verdict).toEqual({ known: true, problems: [] });
    // The validation is not a formality: the same Job with a wrong field type is refused.
    expect(() => new Job({ ...job, spec: { ...job.spec, completions: "four" } }).validate()).toThrow();
  });

  it("writes a password-less URL inline, and refuses bad flags by name", async () => {
    const plain = await runCli([
      "worker",
      "--manifest",
      "--workers",
      "2",
      "--redis",
      "redis://redis.load.svc:6379",
    ]);
    expect(plain.code).toBe(0);
    const job = parse(plain.stdout);
    expect(job.spec.completions).toBe(2);
    const env = (job.spec.template.spec.containers[0] as Container).env;
    expect(env.find((e) => e.name === "GAUNTLET_REDIS_URL")?.value).toBe("redis://redis.load.svc:6379");
    expect(plain.stdout).toContain("holds no password, so it is written inline");

    const zero = await runCli(["worker", "--manifest", "--workers", "0"]);
    expect(zero.code).toBe(3);
    expect(zero.stderr).toContain('--workers takes a whole number above 0, not "0"');
    const badName = await runCli(["worker", "--manifest", "--name", "Bad_Name"]);
    expect(badName.code).toBe(3);
    expect(badName.stderr).toContain("--name Bad_Name: a Job name is lower-case letters");
    const noManifest = await runCli(["worker", "--image", "x", "--redis", "redis://127.0.0.1:1"]);
    expect(noManifest.code).toBe(3);
    expect(noManifest.stderr).toContain("--image only applies with --manifest");
  });

  it("a worker in an Indexed Job's pod is named <job>-<index> and reads the URL from GAUNTLET_REDIS_URL", async () => {
    const redis = sharedRedisUrl();
    const prefix = testPrefix(onCleanup, redis);
    const worker = startCli(["worker", "--redis-prefix", prefix], {
      env: { GAUNTLET_REDIS_URL: redis, JOB_COMPLETION_INDEX: "2", GAUNTLET_JOB_NAME: "gl" },
    });
    onCleanup(async () => {
      if (worker.child.exitCode === null) worker.child.kill("SIGTERM");
      await worker.done;
    });
    const deadline = Date.now() + 10_000;
    let keys: string[] = [];
    while (Date.now() < deadline) {
      keys = await keysUnder(redis, prefix);
      if (keys.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(keys).toEqual([`${prefix}:worker:gl-2`]);
    worker.child.kill("SIGTERM");
    const done = await worker.done;
    expect(done.code).toBe(0);
    expect(done.stderr).toContain("worker stopped (SIGTERM) after 0 runs");
    // It deregistered: its heartbeat is deleted, not left to expire.
    expect(await keysUnder(redis, prefix)).toEqual([]);
  });
});
