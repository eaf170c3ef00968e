// ServiceTarget over a container through the Docker Engine API (dockerode), which the podman API socket also speaks
// (`podman system service`). Kill, stop, start, restart, pause and unpause are the engine's own operations.
import type Docker from "dockerode";
import type { UndoDescriptor } from "../undoDescriptor.js";
import type { ServiceTarget } from "./target.js";

export interface ContainerSpec {
  name: string;
  engine: "docker" | "podman";
  socket?: string;
}

/** The API socket: the spec's, then DOCKER_HOST (unix://), then the engine's usual path. */
export function containerSocket(spec: ContainerSpec, env: NodeJS.ProcessEnv = process.env): string {
  if (spec.socket) return spec.socket.replace(/^unix:\/\//, "");
  const host = env.DOCKER_HOST;
  if (host?.startsWith("unix://")) return host.slice("unix://".length);
  if (spec.engine === "podman") {
    const runtime = env.XDG_RUNTIME_DIR;
    return process.getuid?.() === 0 || !runtime ? "/run/podman/podman.sock" : `${runtime}/podman/podman.sock`;
  }
  return "/var/run/docker.sock";
}

const STOP_TIMEOUT_S = 10;

export class ContainerControl implements ServiceTarget {
  readonly kind = "container" as const;
  readonly service: string;
  readonly containerName: string;
  readonly socketPath: string;
  #docker: Promise<Docker> | undefined;

  constructor(service: string, spec: ContainerSpec, env: NodeJS.ProcessEnv = process.env) {
    this.service = service;
    this.containerName = spec.name;
    this.socketPath = containerSocket(spec, env);
  }

  /** The container's API handle; dockerode is loaded on first use, so no CLI start pays for it. */
  async #handle(): Promise<Docker.Container> {
    this.#docker ??= import("dockerode").then(
      ({ default: Docker }) => new Docker({ socketPath: this.socketPath }),
    );
    return (await this.#docker).getContainer(this.containerName);
  }

  async #state(): Promise<{ Running: boolean; Paused: boolean; Pid: number }> {
    const info = await (await this.#handle()).inspect();
    return info.State as { Running: boolean; Paused: boolean; Pid: number };
  }

  async isRunning(): Promise<boolean> {
    const state = await this.#state();
    return state.Running && !state.Paused;
  }

  /**
   * A crash, not a stop: SIGKILL to the container's main process from the host. The engine takes an API kill as a
   * deliberate stop and does not apply the restart policy (podman 4.3 leaves the container exited), which would hide
   * exactly what a crash test measures. Falls back to the API when the pid is not visible from here.
   */
  async kill(): Promise<void> {
    const pid = await this.pid();
    if (pid && pid > 1) {
      try {
        process.kill(pid, "SIGKILL");
        return;
      } catch {
        // another pid namespace: let the engine do it
      }
    }
    await (await this.#handle()).kill({ signal: "SIGKILL" });
  }

  async stop(): Promise<void> {
    await ignoreNotModified((await this.#handle()).stop({ t: STOP_TIMEOUT_S }));
  }

  async start(): Promise<void> {
    const state = await this.#state();
    if (state.Paused) await (await this.#handle()).unpause();
    else await ignoreNotModified((await this.#handle()).start());
  }

  async restart(): Promise<void> {
    await (await this.#handle()).restart({ t: STOP_TIMEOUT_S });
  }

  async pause(): Promise<void> {
    await (await this.#handle()).pause();
  }

  async resume(): Promise<void> {
    if ((await this.#state()).Paused) await (await this.#handle()).unpause();
  }

  async pid(): Promise<number | undefined> {
    const state = await this.#state();
    return state.Running && state.Pid > 0 ? state.Pid : undefined;
  }

  async undoFor(operation: "kill" | "stop" | "restart" | "pause"): Promise<UndoDescriptor | undefined> {
    const where = { socket: this.socketPath, name: this.containerName, service: this.service };
    return operation === "pause"
      ? { kind: "unpauseContainer", ...where }
      : { kind: "startContainer", ...where };
  }

  async memoryBytes(): Promise<number | undefined> {
    const stats = (await (await this.#handle()).stats({ stream: false })) as {
      memory_stats?: { usage?: number };
    };
    return stats.memory_stats?.usage;
  }
}

// 304: the container already was in the asked state (started, stopped); for an undo that is success.
async function ignoreNotModified(operation: Promise<unknown>): Promise<void> {
  try {
    await operation;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 304) throw error;
  }
}
