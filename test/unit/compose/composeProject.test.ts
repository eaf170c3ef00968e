// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} references are part of the inputs under test.
// Compose projects loaded and validated as compose does it: the real files of docker/awesome-compose (CC0) get no
// validity error, five of them broken on purpose fail at the broken line, files that use the current spec (name,
// include, develop, models, !reset) are valid, and the rest of the loader (merge keys, overrides, extends, .env) is
// pinned down on small hand-written cases.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ComposeProject, loadComposeProject } from "../../../src/engines/compose/composeProject.js";

const FIXTURES = path.resolve(import.meta.dirname, "../../fixtures/compose");
const AWESOME = path.join(FIXTURES, "awesome-compose");
const BROKEN = path.join(FIXTURES, "broken");
const CURRENT = path.join(FIXTURES, "current-spec");

const errors = (project: ComposeProject) => project.problems.filter((p) => p.severity === "error");
const describeProblems = (project: ComposeProject) =>
  project.problems.map((p) => `${p.severity} ${p.kind} ${p.file}:${p.line}:${p.column} ${p.message}`);

function composeFileIn(folder: string): string {
  const file = ["compose.yaml", "compose.yml"].map((n) => path.join(folder, n)).find((f) => existsSync(f));
  if (!file) throw new Error(`no compose file in ${folder}`);
  return file;
}

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A folder with the given files (relative path → content). */
async function project(files: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "gauntlet-compose-"));
  scratch.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

async function load(files: Record<string, string>, env: NodeJS.ProcessEnv = {}, names = ["compose.yaml"]) {
  const dir = await project(files);
  return loadComposeProject(
    names.map((n) => path.join(dir, n)),
    { env, root: dir },
  );
}

describe("docker/awesome-compose (CC0): every real project is valid", () => {
  const projects = readdirSync(AWESOME, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);

  it("has the whole collection", () => {
    expect(projects.length).toBe(39);
  });

  it.each(projects)("%s", async (name) => {
    const loaded = await loadComposeProject(composeFileIn(path.join(AWESOME, name)), { root: AWESOME });
    expect(describeProblems(loaded).filter((p) => p.startsWith("error"))).toEqual([]);
    expect(loaded.services.length).toBeGreaterThan(0);
    // Only the obsolete `version:` key may warn.
    expect(loaded.problems.every((p) => p.kind === "obsoleteVersion")).toBe(true);
  });

  it("interpolates from the .env beside the file", async () => {
    const loaded = await loadComposeProject(composeFileIn(path.join(AWESOME, "postgresql-pgadmin")), {
      root: AWESOME,
    });
    expect(loaded.envFiles).toEqual(["postgresql-pgadmin/.env"]);
    const uses = loaded.variables.filter((v) => v.name === "POSTGRES_USER");
    expect(uses.length).toBeGreaterThan(0);
    expect(uses.every((u) => u.set)).toBe(true);
  });
});

describe("five broken files fail at the broken line", () => {
  it.each([
    ["unknown-key", "unknownKey", /helthcheck .*did you mean healthcheck\?/],
    ["bad-enum", "badValue", /restart: "sometimes" is not one of the values/],
    ["unknown-depends-on", "undefinedService", /depends_on names service "database"/],
    ["bad-indentation", "yamlError", /indented deeper than the key above it/],
    ["wrong-type", "wrongType", /ports must be a list, not a string/],
  ])("%s → %s", async (name, kind, message) => {
    const file = path.join(BROKEN, name, "compose.yaml");
    const brokenLine =
      readFileSync(file, "utf8")
        .split("\n")
        .findIndex((l) => l.includes("# broken")) + 1;
    const loaded = await loadComposeProject(file, { root: BROKEN });
    const found = errors(loaded);
    expect(found, describeProblems(loaded).join("\n")).toHaveLength(1);
    expect(found[0]).toMatchObject({ kind, line: brokenLine, file: `${name}/compose.yaml` });
    expect(found[0]!.message).toMatch(message);
    expect(found[0]!.column).toBeGreaterThan(1);
  });
});

describe("the current Compose Specification is valid", () => {
  it("name, include with its own env_file, depends_on restart/required", async () => {
    const loaded = await loadComposeProject(path.join(CURRENT, "include-name/compose.yaml"), {
      root: CURRENT,
    });
    expect(describeProblems(loaded)).toEqual([]);
    expect(loaded.name).toBe("shop");
    expect(loaded.services.map((s) => s.name).sort()).toEqual(["db", "web"]);
    expect(loaded.files.map((f) => [f.path, f.role])).toEqual([
      ["include-name/compose.yaml", "file"],
      ["include-name/db/compose.yaml", "include"],
    ]);
    // POSTGRES_VERSION comes from the included project's env_file.
    expect(loaded.services.find((s) => s.name === "db")!.image).toMatchObject({ value: "postgres:16.4" });
  });

  it("develop.watch, profiles, configs content, x- fragments merged with <<", async () => {
    const loaded = await loadComposeProject(path.join(CURRENT, "develop-watch/compose.yaml"), {
      root: CURRENT,
    });
    expect(describeProblems(loaded)).toEqual([]);
    const frontend = loaded.services.find((s) => s.name === "frontend")!;
    // restart comes from the x-service fragment, at the fragment's line.
    expect(frontend.restart).toMatchObject({ value: "unless-stopped", line: 8 });
  });

  it("models, extends from another file, post_start and pre_stop", async () => {
    const loaded = await loadComposeProject(path.join(CURRENT, "models-extends/compose.yaml"), {
      root: CURRENT,
    });
    expect(describeProblems(loaded)).toEqual([]);
    const app = loaded.services[0]!;
    expect(app.healthcheck).toMatchObject({
      test: ["CMD", "/app/healthcheck"],
      file: "models-extends/common.yaml",
    });
    expect(app.limits).toMatchObject({ memory: "256m" });
    expect(loaded.files.map((f) => f.role)).toEqual(["file", "extends"]);
  });

  it("an override file with !override and !reset", async () => {
    const dir = path.join(CURRENT, "override");
    const loaded = await loadComposeProject(
      [path.join(dir, "compose.yaml"), path.join(dir, "compose.override.yaml")],
      {
        root: CURRENT,
      },
    );
    expect(describeProblems(loaded)).toEqual([]);
    const api = loaded.services.find((s) => s.name === "api")!;
    expect(api.ports.map((p) => p.hostIp)).toEqual(["127.0.0.1"]);
    expect(api.dependsOn.map((d) => d.service)).toEqual(["cache"]);
    expect(loaded.services.find((s) => s.name === "cache")!.ports).toEqual([]);
  });
});

describe("validation", () => {
  const kinds = (loaded: ComposeProject) => loaded.problems.map((p) => [p.kind, p.line]);

  it("enums and patterns of the spec and the engine", async () => {
    const loaded = await load({
      "compose.yaml": [
        "services:",
        "  web:",
        "    image: nginx:1.27",
        "    depends_on:",
        "      db: {condition: service_ok}",
        "    healthcheck: {interval: 30 seconds}",
        "    deploy: {restart_policy: {condition: always}, resources: {limits: {memory: 1 gigabyte}}}",
        "    ports: [{target: 80, protocol: tcpp}]",
        "    pull_policy: sometimes",
        "  db:",
        "    image: postgres:16",
        "    restart: on-failure:3",
        "",
      ].join("\n"),
    });
    expect(kinds(loaded)).toEqual([
      ["badValue", 5],
      ["badValue", 6],
      ["badValue", 7],
      ["badValue", 7],
      ["badValue", 8],
      ["badValue", 9],
    ]);
    expect(loaded.problems[0]!.message).toMatch(
      /"service_ok" is not one of the values compose accepts \(service_started, service_healthy/,
    );
  });

  it("interpolates before judging a value, and leaves values of unset variables alone", async () => {
    const compose =
      "services:\n  web:\n    image: nginx:1.27\n    restart: ${RESTART}\n    privileged: ${PRIV:-false}\n";
    expect(kinds(await load({ "compose.yaml": compose }, { RESTART: "always" }))).toEqual([]);
    expect(kinds(await load({ "compose.yaml": compose }, { RESTART: "sometimes" }))).toEqual([
      ["badValue", 4],
    ]);
    expect(kinds(await load({ "compose.yaml": compose }, {}))).toEqual([]);
    expect(kinds(await load({ "compose.yaml": compose }, { PRIV: "perhaps" }))).toEqual([["badValue", 5]]);
    // The .env file is read when the environment does not set the variable; the environment wins over it.
    expect(kinds(await load({ "compose.yaml": compose, ".env": "RESTART=never\n" }))).toEqual([
      ["badValue", 4],
    ]);
    expect(
      kinds(await load({ "compose.yaml": compose, ".env": "RESTART=never\n" }, { RESTART: "no" })),
    ).toEqual([]);
  });

  it("a message never quotes a value that came from the environment", async () => {
    const loaded = await load(
      { "compose.yaml": "services:\n  web:\n    image: nginx:1.27\n    restart: ${RESTART}\n" },
      { RESTART: "hunter2-not-a-policy" },
    );
    expect(loaded.problems).toHaveLength(1);
    expect(JSON.stringify(loaded.problems)).not.toContain("hunter2");
  });

  it("invalid interpolation anywhere, extension fields included, and ${VAR:?} unset", async () => {
    const loaded = await load({
      "compose.yaml": "x-note: ${ bad }\nservices:\n  web:\n    image: nginx:${TAG:?set TAG}\n",
    });
    expect(kinds(loaded)).toEqual([
      ["invalidInterpolation", 1],
      ["requiredVariableMissing", 4],
    ]);
    expect(loaded.problems[1]!.severity).toBe("warning");
  });

  it("unknown keys get the closest known key, or the x- hint", async () => {
    const loaded = await load({
      "compose.yaml":
        "servics:\n  web: {}\nservices:\n  web:\n    image: a:1\n    enviroment: {A: 1}\n    zzz: 1\n",
    });
    expect(loaded.problems.map((p) => [p.kind, p.line, p.suggestion])).toEqual([
      ["unknownKey", 1, "services"],
      ["unknownKey", 6, "environment"],
      ["unknownKey", 7, undefined],
    ]);
    expect(loaded.problems[2]!.message).toMatch(/custom keys must start with x-/);
  });

  it("types: lists, mappings, strings, booleans, integers, and what the casts accept", async () => {
    const loaded = await load({
      "compose.yaml": [
        "services:",
        "  web:",
        "    image: 1.5",
        "    environment: PASSWORD=x",
        "    expose: [3306, '33060']",
        "    depends_on: {db: {condition: service_started, required: 'false'}}",
        "    deploy: {replicas: '2'}",
        "    use_api_socket: 'yes'",
        "    cpu_percent: 120",
        "  db: {image: 'postgres:16'}",
        "",
      ].join("\n"),
    });
    expect(kinds(loaded)).toEqual([
      ["wrongType", 3],
      ["wrongType", 4],
      ["wrongType", 8],
      ["badValue", 9],
    ]);
    expect(JSON.stringify(loaded.problems)).not.toContain("PASSWORD=x");
  });

  it("YAML problems: a line indented too little, a tab, a duplicate key", async () => {
    const dedent = await load({ "compose.yaml": "services:\n  web:\n    image: a:1\n   ports: []\n" });
    expect(kinds(dedent)).toEqual([["yamlError", 4]]);
    const tab = await load({ "compose.yaml": "services:\n\tweb:\n    image: a:1\n" });
    expect(kinds(tab)).toEqual([["yamlError", 2]]);
    const duplicate = await load({ "compose.yaml": "services:\n  web:\n    image: a:1\n    image: b:1\n" });
    expect(kinds(duplicate)).toEqual([["yamlError", 4]]);
    expect(dedent.services).toEqual([]);
  });

  it("a top level that is not a mapping", async () => {
    expect(kinds(await load({ "compose.yaml": "- just\n- a list\n" }))).toEqual([["wrongType", 1]]);
  });

  it("duplicate list entries, naming only the key of KEY=value", async () => {
    const loaded = await load({
      "compose.yaml":
        "services:\n  web:\n    image: a:1\n    environment:\n      - TOKEN=abc123456\n      - TOKEN=abc123456\n",
    });
    expect(kinds(loaded)).toEqual([["duplicateEntry", 6]]);
    expect(loaded.problems[0]!.message).toContain('"TOKEN=…"');
    expect(loaded.problems[0]!.message).not.toContain("abc123456");
  });
});

describe("references", () => {
  const kinds = (loaded: ComposeProject) => loaded.problems.map((p) => [p.kind, p.line]);

  it("services, networks, volumes, secrets, configs, models that do not exist", async () => {
    const loaded = await load({
      "compose.yaml": [
        "services:", // 1
        "  web:", // 2
        "    image: nginx:1.27", // 3
        "    links: [cache:c]", // 4
        "    networks: [front, default]", // 5
        "    volumes:", // 6
        "      - data:/data", // 7
        "      - ./src:/src", // 8
        "      - /var/run/x:/x", // 9
        "      - {type: volume, source: logs, target: /logs}", // 10
        "    secrets: [pw]", // 11
        "    configs: [{source: conf, target: /c}]", // 12
        "    volumes_from: [worker:ro, container:other]", // 13
        "    ipc: service:worker", // 14
        "    models: [llm]", // 15
        "  api:", // 16
        "    build: .", // 17
        "    network_mode: service:nope", // 18
        "    depends_on: {optional: {condition: service_started, required: false}}", // 19
        "  bare:", // 20
        "    restart: always", // 21
        "networks: {back: {}}", // 22
        "",
      ].join("\n"),
    });
    expect(kinds(loaded).sort(byLine)).toEqual(
      [
        ["noImageOrBuild", 20],
        ["undefinedService", 4],
        ["undefinedService", 13],
        ["undefinedService", 14],
        ["undefinedNetwork", 5],
        ["undefinedVolume", 7],
        ["undefinedVolume", 10],
        ["undefinedSecret", 11],
        ["undefinedConfig", 12],
        ["undefinedModel", 15],
        ["undefinedService", 18],
      ].sort(byLine),
    );
  });

  it("a depends_on cycle, and keys that exclude each other", async () => {
    const loaded = await load({
      "compose.yaml": [
        "services:",
        "  a: {image: a:1, depends_on: [b]}",
        "  b: {image: b:1, depends_on: [c]}",
        "  c: {image: c:1, depends_on: [a], network_mode: host, networks: [default]}",
        "  d: {build: {context: ., dockerfile: Dockerfile, dockerfile_inline: 'FROM scratch'}}",
        "",
      ].join("\n"),
    });
    expect(kinds(loaded).sort(byLine)).toEqual(
      [
        ["dependencyCycle", 4],
        ["conflictingKeys", 4],
        ["conflictingKeys", 5],
      ].sort(byLine),
    );
    expect(loaded.problems.find((p) => p.kind === "dependencyCycle")!.message).toMatch(/a → b → c → a/);
  });

  it("extends: a service of the same file, of another file, and ones that do not exist", async () => {
    const loaded = await load({
      "compose.yaml": [
        "services:",
        "  base: {image: base:1, restart: always}",
        "  same: {extends: base}",
        "  other: {extends: {file: common.yaml, service: worker}}",
        "  missingService: {extends: {service: nothere}}",
        "  missingFile: {image: x:1, extends: {file: nothere.yaml, service: x}}",
        "",
      ].join("\n"),
      "common.yaml": "services:\n  worker:\n    image: worker:2\n    mem_limit: 512m\n",
    });
    expect(kinds(loaded).sort(byLine)).toEqual([
      ["noImageOrBuild", 5],
      ["undefinedService", 5],
      ["unreadableReference", 6],
    ]);
    const same = loaded.services.find((s) => s.name === "same")!;
    expect(same.image).toMatchObject({ value: "base:1" });
    expect(loaded.services.find((s) => s.name === "other")!.limits).toMatchObject({
      memory: "512m",
      from: "mem_limit",
    });
  });

  it("include: services of the included file count, a missing include fails at its line", async () => {
    const loaded = await load({
      "compose.yaml":
        "include:\n  - db/compose.yaml\n  - nothere.yaml\nservices:\n  web: {image: a:1, depends_on: [db]}\n",
      "db/compose.yaml": "services:\n  db: {image: 'postgres:${PG}'}\n",
      "db/.env": "PG=16\n",
    });
    expect(loaded.problems.map((p) => [p.kind, p.file, p.line])).toEqual([
      ["unreadableReference", "compose.yaml", 3],
    ]);
    expect(loaded.services.find((s) => s.name === "db")!.image).toMatchObject({ value: "postgres:16" });
  });

  it("an include cycle is refused, not followed forever", async () => {
    const loaded = await load({
      "compose.yaml": "include: [other.yaml]\nservices:\n  a: {image: a:1}\n",
      "other.yaml": "include: [compose.yaml]\nservices:\n  b: {image: b:1}\n",
    });
    expect(loaded.problems.map((p) => [p.kind, p.file])).toEqual([["unreadableReference", "other.yaml"]]);
  });

  it("-f a -f b: the override may leave out image and condition, and name services of the base", async () => {
    const loaded = await load(
      {
        "compose.yaml":
          "services:\n  web: {image: a:1}\n  db:\n    image: 'postgres:16'\n    depends_on: {cache: {condition: service_started}}\n",
        "compose.prod.yaml":
          "services:\n  web: {depends_on: [db], restart: always}\n  db:\n    depends_on: {cache: {restart: true}}\n  cache: {image: 'redis:7'}\n",
      },
      {},
      ["compose.yaml", "compose.prod.yaml"],
    );
    expect(loaded.problems).toEqual([]);
    expect(loaded.services.find((s) => s.name === "web")).toMatchObject({
      image: { value: "a:1", file: "compose.yaml" },
      restart: { value: "always", file: "compose.prod.yaml" },
    });
  });

  it("a missing env_file is a warning (often created at deploy time); required: false is not", async () => {
    const loaded = await load({
      "compose.yaml":
        "services:\n  web:\n    image: a:1\n    env_file:\n      - web.env\n      - {path: local.env, required: false}\n",
    });
    expect(loaded.problems.map((p) => [p.kind, p.severity, p.line])).toEqual([
      ["envFileMissing", "warning", 5],
    ]);
  });

  it("a file that does not exist", async () => {
    const dir = await project({});
    const loaded = await loadComposeProject(path.join(dir, "compose.yaml"), { root: dir });
    expect(loaded.problems.map((p) => [p.kind, p.message])).toEqual([
      ["missingFile", "compose.yaml does not exist"],
    ]);
  });
});

describe("scale", () => {
  it("1 500 services that merge one anchor load in seconds, not minutes (aliases resolved through an index)", async () => {
    const services = Array.from(
      { length: 1_500 },
      (_, i) =>
        `  s${i}:\n    <<: *defaults\n    image: app:${i}\n${i > 0 ? `    depends_on: [s${i - 1}]\n` : ""}`,
    );
    const text = `x-defaults: &defaults\n  restart: always\n  environment: {A: "1"}\nservices:\n${services.join("")}`;
    const started = performance.now();
    const loaded = await load({ "compose.yaml": text });
    const elapsed = performance.now() - started;
    expect(loaded.problems).toEqual([]);
    expect(loaded.services).toHaveLength(1_500);
    expect(loaded.services[1_499]!.restart).toMatchObject({ value: "always", line: 2 });
    // ~0.8 s here; with one document walk per alias it took 10.5 s.
    expect(elapsed).toBeLessThan(6_000);
  });
});

describe("the service model (for hardening and gauntlet init)", () => {
  it("reads what each service runs, publishes and waits for, with positions", async () => {
    const loaded = await loadComposeProject(composeFileIn(path.join(AWESOME, "nginx-golang-postgres")), {
      root: AWESOME,
    });
    const byName = Object.fromEntries(loaded.services.map((s) => [s.name, s]));
    expect(byName.backend).toMatchObject({
      build: { context: "backend" },
      dependsOn: [{ service: "db", condition: "service_healthy", required: true, line: 9 }],
      file: "nginx-golang-postgres/compose.yaml",
      line: 2,
    });
    expect(byName.db).toMatchObject({
      image: { written: "postgres", line: 13 },
      kind: "postgres",
      user: { value: "postgres" },
      restart: { value: "always" },
      healthcheck: { test: ["CMD", "pg_isready"], interval: "10s", disabled: false },
      expose: ["5432"],
    });
    expect(byName.proxy!.ports).toMatchObject([{ hostIp: "", published: "80", target: "80/tcp", line: 39 }]);
    expect(byName.db!.environment.map((e) => e.name)).toEqual(["POSTGRES_DB", "POSTGRES_PASSWORD_FILE"]);
  });
});

function byLine(a: (string | number)[], b: (string | number)[]): number {
  return Number(a[1]) - Number(b[1]) || String(a[0]).localeCompare(String(b[0]));
}
