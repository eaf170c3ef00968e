// Builds the controller of every service that declares `control`: container (Docker Engine API / podman socket),
// kubernetes, commands; `control.process` services keep the supervisor's controllers (startSupervisedServices).
import path from "node:path";
import type { Spec } from "../../../spec/schema.js";
import { CommandsControl } from "./commandsControl.js";
import { ContainerControl } from "./containerControl.js";
import { KubernetesControl } from "./kubernetesControl.js";
import type { ServiceTarget, TargetLookup } from "./target.js";

export function buildTargets(
  spec: Spec,
  specDir: string,
  supervised: TargetLookup,
  env: NodeJS.ProcessEnv = process.env,
): TargetLookup {
  const built = new Map<string, ServiceTarget>();
  const unavailable = (service: string): string | undefined => {
    const kube = spec.services[service]?.control?.kubernetes;
    // The current kube context is whatever the last `kubectl config use-context` left: never a target for faults.
    if (kube && !kube.context) {
      return `services.${service}.control.kubernetes has no context; Gauntlet injects faults only into a named kubeconfig context`;
    }
    return undefined;
  };
  // Built lazily: a kubeconfig or socket problem must surface in the check that needs the target, not abort the run.
  const make = (name: string): ServiceTarget | undefined => {
    const control = spec.services[name]?.control;
    if (!control || unavailable(name)) return undefined;
    if (control.container) return new ContainerControl(name, control.container, env);
    if (control.kubernetes) return new KubernetesControl(name, control.kubernetes);
    if (control.commands)
      return new CommandsControl(name, control.commands, { cwd: path.resolve(specDir), env });
    return undefined;
  };
  return {
    unavailable,
    get(service) {
      const own = supervised.get(service);
      if (own) return own;
      if (!built.has(service)) {
        const target = make(service);
        if (target) built.set(service, target);
      }
      return built.get(service);
    },
  };
}
