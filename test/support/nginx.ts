// A real nginx for a test: its own prefix folder, config written by the test, bound to loopback on free ports,
// run in the foreground (daemon off) so the cleanup can stop it and remove its folder, also when the test fails.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Cleanup, freePort, spawnForTest, waitForPort } from "./datastores.js";
import { requireTool } from "./services.js";

export interface RunningNginx {
  /** The prefix folder: conf/, logs/, html/ (the default root), and whatever the test writes. */
  dir: string;
  /** The ports the servers listen on, in the order the test asked for them. */
  ports: number[];
}

export interface NginxOptions {
  /**
   * The `server { … }` blocks (the http context's body); `{{port0}}`, `{{port1}}`… become free loopback ports and
   * `{{dir}}` the prefix folder. Write `listen 127.0.0.1:{{port0}};` — nginx must listen on loopback only.
   */
  servers: string;
  /** How many free ports to reserve (default: as many as the config names). */
  portCount?: number;
  /** Files to write under the prefix folder before start (e.g. html/index.html, certs). */
  files?: Record<string, string>;
}

export async function startNginx(onCleanup: Cleanup, options: NginxOptions): Promise<RunningNginx> {
  const nginx = requireTool("nginx", "nginx");
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-nginx-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  for (const sub of ["conf", "logs", "html", "tmp"]) mkdirSync(path.join(dir, sub), { recursive: true });
  for (const [name, content] of Object.entries(options.files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  const count = options.portCount ?? new Set(options.servers.match(/\{\{port\d+\}\}/g) ?? []).size;
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const servers = options.servers
    .replace(/\{\{port(\d+)\}\}/g, (_m, i: string) => String(ports[Number(i)]))
    .replaceAll("{{dir}}", dir);
  const temp = path.join(dir, "tmp");
  const config = [
    "daemon off;",
    "worker_processes 1;",
    `pid ${path.join(dir, "logs/nginx.pid")};`,
    `error_log ${path.join(dir, "logs/error.log")} warn;`,
    // As root, nginx would switch its workers to www-data, which cannot read the test's temp folder.
    ...(process.getuid?.() === 0 ? ["user root;"] : []),
    "events { worker_connections 64; }",
    "http {",
    `  access_log ${path.join(dir, "logs/access.log")};`,
    `  client_body_temp_path ${temp}/body; proxy_temp_path ${temp}/proxy; fastcgi_temp_path ${temp}/fastcgi;`,
    `  uwsgi_temp_path ${temp}/uwsgi; scgi_temp_path ${temp}/scgi;`,
    "  default_type application/octet-stream;",
    "  types { text/html html; application/json json; text/plain txt; }",
    servers,
    "}",
    "",
  ].join("\n");
  const file = path.join(dir, "conf/nginx.conf");
  writeFileSync(file, config);
  try {
    execFileSync(nginx, ["-t", "-p", dir, "-c", file], { stdio: "pipe" });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? error);
    throw new Error(`the test's nginx config is invalid:\n${stderr}\n${config}`);
  }
  spawnForTest(onCleanup, nginx, ["-p", dir, "-c", file]);
  for (const port of ports) await waitForPort(port);
  return { dir, ports };
}
