// Podman for the container tests: scripts/podman.sh sets up runc, the ulimits this sandbox needs, a local busybox
// image and the Docker-compatible API socket; containers are created through that socket (dockerode) on the host
// network, bound to 127.0.0.1 only, and removed by the test that made them.
import { execFileSync } from "node:child_process";
import path from "node:path";
import Docker from "dockerode";

const root = path.resolve(import.meta.dirname, "../..");

export interface Podman {
  socket: string;
  image: string;
  docker: Docker;
}

let cached: Podman | null | undefined;

/** Starts (once) the podman API service; null when podman cannot run here, with the reason on stderr. */
export function podman(): Podman | null {
  if (cached !== undefined) return cached;
  try {
    const output = execFileSync("bash", [path.join(root, "scripts/podman.sh"), "start"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 120_000,
    });
    const values = Object.fromEntries(
      output
        .split("\n")
        .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, m[2]!]),
    );
    const socket = values.GAUNTLET_PODMAN_SOCKET!;
    cached = { socket, image: values.GAUNTLET_PODMAN_IMAGE!, docker: new Docker({ socketPath: socket }) };
  } catch (error) {
    process.stderr.write(`podman unavailable: ${(error as Error).message}\n`);
    cached = null;
  }
  return cached;
}

/** A busybox httpd container on 127.0.0.1:port serving /healthz; started. */
export async function httpContainer(
  p: Podman,
  name: string,
  port: number,
  restart: "always" | "no",
): Promise<Docker.Container> {
  await p.docker
    .getContainer(name)
    .remove({ force: true })
    .catch(() => {});
  const container = await p.docker.createContainer({
    name,
    Image: p.image,
    Cmd: ["httpd", "-f", "-p", `127.0.0.1:${port}`, "-h", "/www"],
    HostConfig: { NetworkMode: "host", RestartPolicy: { Name: restart } },
  });
  await container.start();
  return container;
}

/** Podman for a test that needs it: a test fails with the reason when podman cannot run here, it is never skipped. */
export function requirePodman(): Podman {
  const p = podman();
  if (!p) {
    throw new Error(
      "podman cannot run here (the reason is on stderr): bash scripts/install-test-deps.sh installs podman, runc and busybox-static",
    );
  }
  return p;
}
