// The Kubernetes Indexed Job that runs N load workers (`gauntlet worker --manifest`): one pod per index, named by it,
// validated against the Kubernetes schema (kubernetes-models) before it is printed. A Redis URL with a password is
// read from a Secret, never written into the manifest.
import { Job } from "kubernetes-models/batch/v1";
import { Document } from "yaml";
import { UserError } from "../../../errors.js";
import { DEFAULT_PREFIX, prefixProblem, redisLabel } from "./protocol.js";
import { redisUrlProblem } from "./redisConnection.js";

export interface ManifestOptions {
  workers: number;
  image: string;
  /** The Job's name; the workers are named `<name>-<index>`. */
  name: string;
  namespace?: string;
  /** Inline when it holds no password; otherwise only its shape appears, in the Secret's instructions. */
  redis?: string;
  prefix?: string;
  /** The workers' --idle-timeout as written (e.g. 10m): they end, and the Job completes, after that long idle. */
  idleTimeout: string;
}

export interface WorkerManifest {
  /** The Job as an object (what was validated). */
  job: Record<string, unknown>;
  /** The YAML to apply, with comments. */
  yaml: string;
  /** The Secret the Job reads the Redis URL from, when it does. */
  secret?: { name: string; key: string };
}

export const REDIS_ENV = "GAUNTLET_REDIS_URL";
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function workerJobManifest(o: ManifestOptions): WorkerManifest {
  if (!DNS_LABEL.test(o.name) || o.name.length > 50) {
    throw new UserError(
      `--name ${o.name}: a Job name is lower-case letters, digits and '-', starting and ending with a letter or digit, at most 50 characters, e.g. gauntlet-load`,
    );
  }
  if (o.namespace !== undefined && (!DNS_LABEL.test(o.namespace) || o.namespace.length > 63)) {
    throw new UserError(`--namespace ${o.namespace}: a namespace is a DNS label, e.g. load-testing`);
  }
  if (!Number.isInteger(o.workers) || o.workers < 1) {
    throw new UserError(`--workers takes a whole number above 0, not ${o.workers}`);
  }
  if (!o.image.trim() || /\s/.test(o.image))
    throw new UserError(`--image "${o.image}" is not an image reference`);
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  const prefixIssue = prefixProblem(prefix);
  if (prefixIssue) throw new UserError(`--redis-prefix: ${prefixIssue}`);
  if (o.redis !== undefined) {
    const problem = redisUrlProblem(o.redis);
    if (problem) throw new UserError(`--redis: ${problem}`);
  }
  const inline = o.redis !== undefined && !hasPassword(o.redis);
  const secret = inline ? undefined : { name: `${o.name}-redis`, key: "url" };
  const labels = { "app.kubernetes.io/name": "gauntlet-load-worker", "app.kubernetes.io/instance": o.name };
  const args = ["worker", "--idle-timeout", o.idleTimeout];
  if (prefix !== DEFAULT_PREFIX) args.push("--redis-prefix", prefix);

  const job = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}), labels },
    spec: {
      completionMode: "Indexed",
      completions: o.workers,
      parallelism: o.workers,
      // A worker that dies fails the load run it was part of; a new pod would not resume its share of that run.
      backoffLimit: 0,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
          },
          // Generators sharing a node share its CPU and network: spread them when the cluster can.
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: labels },
            },
          ],
          containers: [
            {
              name: "worker",
              image: o.image,
              command: ["gauntlet"],
              args,
              env: [
                secret
                  ? { name: REDIS_ENV, valueFrom: { secretKeyRef: { name: secret.name, key: secret.key } } }
                  : { name: REDIS_ENV, value: o.redis },
                // With JOB_COMPLETION_INDEX (set by Kubernetes), the worker's name: <job>-<index>.
                { name: "GAUNTLET_JOB_NAME", value: o.name },
              ],
              // CPU above the request is allowed up to the limit: a throttled generator would add its own latency.
              resources: {
                requests: { cpu: "1", memory: "256Mi" },
                limits: { cpu: "2", memory: "512Mi" },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
        },
      },
    },
  };
  try {
    new Job(job as ConstructorParameters<typeof Job>[0]).validate();
  } catch (error) {
    // A bug here, not the user's: every field above is ours.
    throw new Error(`the generated worker Job does not validate: ${(error as Error).message}`);
  }
  // Plain YAML for kubectl and reviewers: the shared labels object written out twice, not as an anchor and alias.
  const doc = new Document(job, { aliasDuplicateObjects: false });
  doc.commentBefore = comments(o, prefix, secret);
  return { job, yaml: doc.toString({ lineWidth: 0 }), ...(secret ? { secret } : {}) };
}

function comments(
  o: ManifestOptions,
  prefix: string,
  secret: { name: string; key: string } | undefined,
): string {
  const ns = o.namespace ? ` -n ${o.namespace}` : "";
  const flags = `--redis REDIS_URL${prefix === DEFAULT_PREFIX ? "" : ` --redis-prefix ${prefix}`}`;
  const lines = [
    ` Gauntlet load workers: an Indexed Job of ${o.workers} pod${o.workers === 1 ? "" : "s"}, named ${o.name}-0 … ${o.name}-${o.workers - 1}.`,
    ` Apply it, then run the load from anywhere that reaches the same Redis:`,
    `   gauntlet load URL --workers ${o.workers} ${flags}`,
    ` (or performance.distributed: { redis, workers: ${o.workers} } in gauntlet.yaml).`,
  ];
  if (secret) {
    lines.push(
      ` The Redis URL ${o.redis ? `(${redisLabel(o.redis)}) holds a password` : "was not given"}, so the Job reads it from the Secret`,
      ` ${secret.name} (key ${secret.key}) instead of carrying it inline; create the Secret first, with REDIS_URL`,
      ` holding the whole URL, password included:`,
      `   kubectl create secret generic ${secret.name}${ns} --from-literal=${secret.key}="$REDIS_URL"`,
    );
  } else {
    lines.push(` The Redis URL holds no password, so it is written inline (${REDIS_ENV}).`);
  }
  lines.push(
    ` backoffLimit 0 and restartPolicy Never: a worker that dies fails the load run anyway (never silently shrinks).`,
    ` Workers end after ${o.idleTimeout} without a run (--idle-timeout), which completes the Job.`,
    ` The image must have gauntlet on its PATH (e.g. node:20 with npm install -g gauntlet-cert); pass --image.`,
  );
  return lines.join("\n");
}

function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== "";
  } catch {
    return true;
  }
}
