// `gauntlet init` through the real binary: on real compose projects (docker/awesome-compose, CC0), on the sturdy
// demo's folder without its spec, and on a project with one of every kind of file init reads. Each spec it writes
// must pass `gauntlet validate` (also through the binary) and name every compose service; a spec already there is
// never overwritten without --force; no secret of the project reaches the file or the terminal.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadSpec } from "../../src/spec/loader.js";
import { ROOT, runCli } from "../support/cli.js";

const AWESOME = path.join(ROOT, "test/fixtures/compose/awesome-compose");
const temporary: string[] = [];
afterEach(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

function write(dir: string, name: string, text: string): void {
  mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  writeFileSync(path.join(dir, name), text, { mode: name.endsWith(".sh") ? 0o755 : 0o644 });
}

/** An empty environment but PATH: the written spec must validate before any variable is set. */
const bare = { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/" } };

async function initAndValidate(dir: string): Promise<{ stdout: string; spec: string }> {
  const init = await runCli(["init", "--dir", dir], bare);
  expect(init.stderr, `init in ${dir}`).toBe("");
  expect(init.code, `init in ${dir}: ${init.stdout}`).toBe(0);
  const file = path.join(dir, "gauntlet.yaml");
  const validate = await runCli(["validate", file], bare);
  expect(validate.code, `validate ${file}: ${validate.stderr}\n${readFileSync(file, "utf8")}`).toBe(0);
  return { stdout: init.stdout, spec: readFileSync(file, "utf8") };
}

/** Service names of a compose file as the YAML says them (independently of Gauntlet's compose reader). */
function composeServiceNames(file: string): string[] {
  const doc = parse(readFileSync(file, "utf8")) as { services?: Record<string, unknown> };
  return Object.keys(doc.services ?? {});
}

const projects = readdirSync(AWESOME, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe("gauntlet init on real compose projects (docker/awesome-compose)", () => {
  it("has projects to try", () => {
    expect(projects.length).toBeGreaterThanOrEqual(10);
  });

  // One after the other: run concurrently, the CLI starts of a loaded machine only slow each other down.
  it.for(projects)(
    "%s: writes a spec that validates and names every compose service",
    { timeout: 60_000 },
    async (project) => {
      const dir = tempDir("gauntlet-init-");
      cpSync(path.join(AWESOME, project), dir, { recursive: true });
      const composeFile = readdirSync(dir).find((f) => /^(docker-)?compose\.ya?ml$/.test(f))!;
      const init = await runCli(["init", "--dir", dir], bare);
      expect(init.stderr).toBe("");
      expect(init.code).toBe(0);
      const file = path.join(dir, "gauntlet.yaml");
      const validate = await runCli(["validate", file], bare);
      expect(validate.code, `${validate.stderr}\n${readFileSync(file, "utf8")}`).toBe(0);
      const { spec } = await loadSpec(file, { env: {} });
      const names = Object.keys(spec.services);
      for (const service of composeServiceNames(path.join(dir, composeFile))) {
        const expected = /^[A-Za-z]/.test(service) ? service : `svc-${service}`;
        expect(names, `${project}: ${service}`).toContain(expected);
      }
      expect(spec.deployment?.compose).toEqual([composeFile]);
      expect(init.stdout).toContain(`compose: ${composeFile}`);
      // A compose project is deployed by compose: the deploy command is proposed, commented, never set.
      expect(spec.deployment?.deploy).toBeUndefined();
    },
  );

  it("reads what compose says: published ports, healthcheck paths, image kinds, depends_on, exposure", async () => {
    const dir = tempDir("gauntlet-init-");
    cpSync(path.join(AWESOME, "nginx-wsgi-flask"), dir, { recursive: true });
    await initAndValidate(dir);
    const { spec } = await loadSpec(path.join(dir, "gauntlet.yaml"), { env: {} });
    // Both publish a port on every interface and their healthchecks curl a path of their own.
    expect(spec.services["nginx-proxy"]).toMatchObject({
      kind: "http",
      url: "http://127.0.0.1:80",
      health: "/health-check",
      exposure: "public",
      dependsOn: ["flask-app"],
    });
    expect(spec.services["flask-app"]).toMatchObject({
      url: "http://127.0.0.1:8000",
      health: "/flask-health-check",
      exposure: "public",
    });

    const mongo = tempDir("gauntlet-init-");
    cpSync(path.join(AWESOME, "react-express-mongodb"), mongo, { recursive: true });
    const { spec: text } = await initAndValidate(mongo);
    const { spec: parsed } = await loadSpec(path.join(mongo, "gauntlet.yaml"), { env: {} });
    expect(parsed.services.mongo).toMatchObject({ kind: "mongodb", exposure: "internal" });
    expect(parsed.services.backend!.dependsOn).toEqual(["mongo"]);
    // Not published: no URL, and a TODO with the URL to complete, its password as ${VAR} in a comment.
    expect(parsed.services.mongo!.url).toBeUndefined();
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} reference the spec asks for.
    expect(text).toContain("# url: mongodb://USER:${MONGO_PASSWORD}@127.0.0.1:27017/DB");
  });
});

describe("gauntlet init on a project with every kind of file it reads", () => {
  const dbPassword = `pw-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const project = () => {
    const dir = tempDir("gauntlet-init-full-");
    write(
      dir,
      "compose.yaml",
      [
        "name: orders",
        "services:",
        "  api:",
        "    build: .",
        "    ports: ['8080:8080']",
        "    depends_on:",
        "      db: { condition: service_healthy }",
        "      cache: { condition: service_started }",
        "    healthcheck:",
        `      test: ["CMD-SHELL", "curl -fsS -H 'X-Token: ${dbPassword}' http://localhost:8080/healthz || exit 1"]`,
        "  db:",
        "    image: postgres:16",
        "    ports: ['127.0.0.1:5432:5432']",
        "    environment:",
        "      POSTGRES_USER: shop",
        "      POSTGRES_DB: orders",
        `      POSTGRES_PASSWORD: ${dbPassword}`,
        "  cache:",
        "    image: redis:7-alpine",
        "    expose: ['6379']",
        "",
      ].join("\n"),
    );
    write(dir, "Dockerfile", 'FROM node:20-alpine\nCOPY . .\nCMD ["node", "server.js"]\n');
    write(dir, "scripts/deploy.sh", "#!/bin/sh\nset -e\ndocker compose up -d --wait\n");
    write(dir, "scripts/rollback.sh", "#!/bin/sh\nset -e\necho rollback\n");
    write(
      dir,
      "package.json",
      JSON.stringify({
        name: "@shop/orders",
        version: "2.3.1",
        scripts: { test: "vitest run", coverage: "vitest run --coverage" },
      }),
    );
    write(dir, ".env.example", "# what the deployment needs\nDB_PASSWORD=\nexport API_TOKEN=changeme\n");
    write(dir, ".env", `DB_PASSWORD=${dbPassword}\n`);
    write(
      dir,
      "monitoring/alerts/api.rules.yml",
      'groups:\n  - name: api\n    rules:\n      - alert: ApiDown\n        expr: up{job="api"} == 0\n',
    );
    write(dir, "coverage/lcov.info", "TN:\nSF:server.js\nLF:10\nLH:9\nend_of_record\n");
    write(dir, "docs/runbooks/ApiDown.md", "# ApiDown\n");
    write(
      dir,
      ".github/workflows/ci.yml",
      "on: push\njobs: { test: { runs-on: ubuntu-latest, steps: [] } }\n",
    );
    write(dir, "backups/orders-2024-01-01.dump", "PGDMP");
    write(
      dir,
      "k8s/web.yaml",
      [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata: { name: web, namespace: shop }",
        "spec:",
        "  selector: { matchLabels: { app: web } }",
        "  template:",
        "    metadata: { labels: { app: web } }",
        "    spec:",
        "      containers:",
        "        - name: web",
        "          image: ghcr.io/shop/web:1.4.0",
        "          readinessProbe: { httpGet: { path: /ready, port: 8080 } }",
        "---",
        "apiVersion: v1",
        "kind: Service",
        "metadata: { name: web, namespace: shop }",
        "spec:",
        "  type: LoadBalancer",
        "  selector: { app: web }",
        "  ports: [{ port: 80, targetPort: 8080 }]",
        "",
      ].join("\n"),
    );
    return dir;
  };

  it("describes each of them in the spec, and says what is left to fill in", async () => {
    const dir = project();
    const { stdout, spec: text } = await initAndValidate(dir);
    const { spec } = await loadSpec(path.join(dir, "gauntlet.yaml"), { env: {} });
    expect(spec.system).toMatchObject({ name: "orders", version: "2.3.1", repo: "." });
    expect(spec.destructive).toBe(false);
    expect(spec.services.api).toMatchObject({
      kind: "http",
      url: "http://127.0.0.1:8080",
      health: "/healthz",
      exposure: "public",
      dependsOn: ["db", "cache"],
    });
    expect(spec.services.db).toMatchObject({
      kind: "postgres",
      url: "postgres://127.0.0.1:5432",
      exposure: "internal",
    });
    expect(spec.services.cache).toMatchObject({ kind: "redis", exposure: "internal" });
    expect(spec.services.web).toMatchObject({ exposure: "public", health: "/ready" });
    expect(spec.deployment).toMatchObject({
      compose: ["compose.yaml"],
      dockerfiles: ["Dockerfile"],
      kubernetes: ["k8s/web.yaml"],
      scripts: ["scripts/deploy.sh", "scripts/rollback.sh"],
      env: { required: ["DB_PASSWORD", "API_TOKEN"], example: ".env.example" },
    });
    expect(spec.monitoring?.rules).toEqual(["monitoring/alerts/api.rules.yml"]);
    expect(spec.operations).toMatchObject({
      runbooks: "docs/runbooks",
      coverage: { report: "coverage/lcov.info", minimum: 80 },
      ci: [".github/workflows/*.yml"],
    });
    expect(spec.recovery?.backups).toEqual([
      expect.objectContaining({ service: "db", path: "backups/*.dump", maxAge: 86_400_000 }),
    ]);
    // Commands that act on the system are proposed, commented: never run without the user saying so.
    expect(spec.deployment?.deploy).toBeUndefined();
    expect(spec.operations?.rollback).toBeUndefined();
    expect(text).toContain('# deploy: { command: "./scripts/deploy.sh", timeout: 10m }');
    expect(text).toContain('# rollback: { command: "./scripts/rollback.sh", timeout: 15m }');
    // The database's URL with its user and database from compose and its password as a variable, in a TODO.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} reference the spec asks for.
    expect(text).toContain("# url: postgres://shop:${DB_PASSWORD}@127.0.0.1:5432/orders");

    // The terminal lists what was found, and every TODO with the line it is on.
    expect(stdout).toMatch(/^wrote .*gauntlet\.yaml: 4 services, valid as written$/m);
    for (const found of [
      "compose: compose.yaml",
      "Kubernetes manifests: k8s/web.yaml",
      "Dockerfiles: Dockerfile",
      "deploy scripts: scripts/deploy.sh",
      "environment example: .env.example (2 variables)",
      "Prometheus rule files: monitoring/alerts/api.rules.yml",
      "coverage report: coverage/lcov.info (lcov)",
      "runbooks: docs/runbooks/",
      "CI pipelines: .github/workflows/ci.yml",
      "backups folder: backups/",
    ]) {
      expect(stdout).toContain(found);
    }
    const lines = text.split("\n");
    const todos = [...stdout.matchAll(/gauntlet\.yaml:(\d+) {2}([\w.-]+): /g)].map(
      (m) => [Number(m[1]), m[2]] as const,
    );
    expect(todos.map(([, key]) => key)).toEqual(
      expect.arrayContaining([
        "services.db.url",
        "deployment.deploy",
        "operations.rollback",
        "monitoring.prometheus",
      ]),
    );
    for (const [line] of todos) expect(lines[line - 1]).toMatch(/^\s*# TODO: /);

    // No secret of the project (the compose password, the .env value, the healthcheck's header) is copied anywhere.
    expect(text).not.toContain(dbPassword);
    expect(stdout).not.toContain(dbPassword);
  });

  it("never overwrites a spec without --force, and replaces it with --force", async () => {
    const dir = project();
    const mine = "version: 1\nsystem: { name: mine }\n";
    writeFileSync(path.join(dir, "gauntlet.yaml"), mine);
    const refused = await runCli(["init", "--dir", dir], bare);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(
      /gauntlet\.yaml already exists: gauntlet init never overwrites a spec.*--force/,
    );
    expect(readFileSync(path.join(dir, "gauntlet.yaml"), "utf8")).toBe(mine);

    const forced = await runCli(["init", "--dir", dir, "--force"], bare);
    expect(forced.code).toBe(0);
    expect(readFileSync(path.join(dir, "gauntlet.yaml"), "utf8")).toContain("name: orders");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);

    const other = tempDir("gauntlet-init-yml-");
    writeFileSync(path.join(other, "gauntlet.yml"), mine);
    expect((await runCli(["init", "--dir", other], bare)).code).toBe(3);
    expect(existsSync(path.join(other, "gauntlet.yaml"))).toBe(false);
  });

  it("says so when --dir is not a folder, and writes a valid spec for an empty one", async () => {
    const missing = await runCli(["init", "--dir", path.join(tmpdir(), "gauntlet-no-such-folder")], bare);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("is not a folder");
    const empty = tempDir("gauntlet-init-empty-");
    const { stdout, spec } = await initAndValidate(empty);
    expect(stdout).toContain("found nothing Gauntlet recognises");
    expect(spec).toContain("services: {}");
  });
});

describe("gauntlet init on the sturdy demo's folder, without its spec", () => {
  it("finds its scripts, rules, runbooks, coverage, CI, backups and env example", async () => {
    const dir = tempDir("gauntlet-init-sturdy-");
    cpSync(path.join(ROOT, "examples/sturdy"), dir, {
      recursive: true,
      filter: (source) => path.basename(source) !== "gauntlet.yaml",
    });
    const { spec: text } = await initAndValidate(dir);
    const { spec } = await loadSpec(path.join(dir, "gauntlet.yaml"), { env: {} });
    expect(spec.deployment?.scripts).toEqual(["scripts/deploy.sh", "scripts/rollback.sh"]);
    expect(spec.deployment?.env?.required).toEqual([
      "DEMO_API_TOKEN",
      "DEMO_REDIS_PASSWORD",
      "DEMO_PG_PASSWORD",
    ]);
    expect(spec.monitoring?.rules?.length).toBeGreaterThan(0);
    expect(spec.operations?.runbooks).toBe("monitoring/runbooks");
    expect(spec.operations?.ci).toEqual([".github/workflows/*.yml"]);
    expect(text).toContain('# deploy: { command: "./scripts/deploy.sh", timeout: 10m }');
  });
});
