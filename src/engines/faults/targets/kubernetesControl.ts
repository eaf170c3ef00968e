// ServiceTarget over a Kubernetes workload (`control.kubernetes`): the pods a label selector picks in a namespace.
// A crash is a pod delete with no grace; the workload's controller (Deployment, StatefulSet) must replace it, which is
// exactly what the resilience checks measure. Kubernetes has no pause, and no host pid or RSS to report.
import type { CoreV1Api, KubeConfig, V1Pod } from "@kubernetes/client-node";
import { type ServiceTarget, UnsupportedOperation } from "./target.js";

export interface KubernetesSpec {
  namespace: string;
  selector: string;
  context?: string;
  container?: string;
}

const REPLACEMENT_TIMEOUT_MS = 120_000;

export class KubernetesControl implements ServiceTarget {
  readonly kind = "kubernetes" as const;
  readonly service: string;
  readonly spec: KubernetesSpec;
  readonly #config: KubeConfig | undefined;
  #client: Promise<CoreV1Api> | undefined;

  /** `config` defaults to the usual kubeconfig (KUBECONFIG, ~/.kube/config or in-cluster) at spec.context. */
  constructor(service: string, spec: KubernetesSpec, config?: KubeConfig) {
    this.service = service;
    this.spec = spec;
    this.#config = config;
  }

  /** The API client, made on first use: the client library takes about a second to load, which no CLI start should pay. */
  #api(): Promise<CoreV1Api> {
    this.#client ??= import("@kubernetes/client-node").then(({ KubeConfig, CoreV1Api }) => {
      let kc = this.#config;
      if (!kc) {
        kc = new KubeConfig();
        kc.loadFromDefault();
        if (this.spec.context) kc.setCurrentContext(this.spec.context);
      }
      return kc.makeApiClient(CoreV1Api);
    });
    return this.#client;
  }

  async pods(): Promise<V1Pod[]> {
    const list = await (await this.#api()).listNamespacedPod({
      namespace: this.spec.namespace,
      labelSelector: this.spec.selector,
    });
    return list.items.filter((pod) => !pod.metadata?.deletionTimestamp);
  }

  async isRunning(): Promise<boolean> {
    return (await this.pods()).some(isReady);
  }

  /** Deletes every selected pod at once with no grace period: the workload is down until replaced. */
  async kill(): Promise<void> {
    await this.#deleteAll(0);
  }

  async stop(): Promise<void> {
    await this.#deleteAll(undefined);
  }

  /** The workload's controller starts pods; Gauntlet waits for one to be ready. */
  async start(): Promise<void> {
    await this.waitForReplacement(new Set());
  }

  async restart(): Promise<void> {
    const before = await this.#deleteAll(undefined);
    await this.waitForReplacement(before);
  }

  async pause(): Promise<void> {
    throw new UnsupportedOperation(
      this,
      "pause",
      "Kubernetes cannot freeze a pod; use a fault proxy instead",
    );
  }

  async resume(): Promise<void> {
    throw new UnsupportedOperation(this, "resume", "Kubernetes cannot freeze a pod");
  }

  async pid(): Promise<number | undefined> {
    return undefined;
  }

  async memoryBytes(): Promise<number | undefined> {
    return undefined;
  }

  /** Waits until a ready pod that is not one of `replaced` (by uid) exists. */
  async waitForReplacement(replaced: Set<string>, timeoutMs = REPLACEMENT_TIMEOUT_MS): Promise<V1Pod> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const fresh = (await this.pods()).find((p) => isReady(p) && !replaced.has(p.metadata?.uid ?? ""));
      if (fresh) return fresh;
      if (performance.now() > deadline) {
        throw new Error(
          `${this.service}: no ready replacement pod for ${this.spec.selector} in ${this.spec.namespace} within ${timeoutMs / 1000} s`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  async #deleteAll(gracePeriodSeconds: number | undefined): Promise<Set<string>> {
    const pods = await this.pods();
    if (pods.length === 0)
      throw new Error(`${this.service}: no pod matches ${this.spec.selector} in ${this.spec.namespace}`);
    for (const pod of pods) {
      await (await this.#api()).deleteNamespacedPod({
        name: pod.metadata!.name!,
        namespace: this.spec.namespace,
        ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}),
      });
    }
    return new Set(pods.map((p) => p.metadata?.uid ?? ""));
  }
}

function isReady(pod: V1Pod): boolean {
  return (
    pod.status?.phase === "Running" &&
    (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
  );
}
