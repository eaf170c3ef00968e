// User errors get one clear line each (file:line:col, what, how to fix), exit 3, never a stack trace; a closed health
// port makes the verdict NOT READY; Ctrl-C and SIGTERM leave no supervised process behind.
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, startCli } from "../support/cli.js";

const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

function specFile(yaml: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-e2e-cli-"));
  const file = path.join(dir, "gauntlet.yaml");
  writeFileSync(file, yaml);
  return { dir, file };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("spec errors", () => {
  const cases = [
    {
      name: "typo'd key",
      yaml: "version: 1\nsystem:\n  name: shop\nservices:\n  api:\n    url: http://127.0.0.1:1\n    helth: /healthz\n",
      line: /gauntlet\.yaml:7:5: .*helth.*health/,
    },
    {
      name: "bad duration",
      yaml: "version: 1\nsystem: { name: shop }\nservices:\n  api: { url: 'http://127.0.0.1:1' }\nperformance:\n  target: api\n  stages:\n    - { name: base, connections: 5, duration: 30x }\n",
      line: /gauntlet\.yaml:8:\d+: .*30x.*(ms|unit)/,
    },
    {
      name: "missing env variable",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} is spec syntax, not a template
      yaml: "version: 1\nsystem: { name: shop }\nservices:\n  db:\n    kind: postgres\n    url: postgres://app:${GAUNTLET_E2E_UNSET_PASSWORD}@127.0.0.1:5432/app\n",
      line: /gauntlet\.yaml:6:\d+: .*GAUNTLET_E2E_UNSET_PASSWORD.*export GAUNTLET_E2E_UNSET_PASSWORD/,
    },
  ];
  for (const c of cases) {
    for (const command of ["validate", "assess"]) {
      it(`${command}: ${c.name} → one clear line, exit 3, no stack trace`, async () => {
        const { dir, file } = specFile(c.yaml);
        const result = await runCli([command, file], { cwd: dir });
        expect(result.code).toBe(3);
        expect(result.stderr).toMatch(c.line);
        expect(result.stderr).not.toMatch(STACK_FRAME);
      });
    }
  }

  it("a missing spec file is a usage error, not a crash", async () => {
    const result = await runCli(["assess", "/nonexistent/gauntlet.yaml"]);
    expect(result.code).toBe(3);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it("an unknown flag or check id is a usage error", async () => {
    expect((await runCli(["assess", "--frobnicate"])).code).toBe(3);
    const unknown = await runCli(["assess", "x.yaml", "--only", "healthEndpointRespond"]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("healthEndpointsRespond");
  });
});

describe("verdicts from real probes", () => {
  it("a service whose health port is closed fails healthEndpointsRespond and is NOT READY (exit 2)", async () => {
    const port = await freePort();
    const { dir, file } = specFile(
      `version: 1\nsystem: { name: closed-port }\nservices:\n  api:\n    url: http://127.0.0.1:${port}\n    health: /healthz\n`,
    );
    const result = await runCli(["assess", file, "--json", "--no-store"], { cwd: dir });
    expect(result.code).toBe(2);
    const assessment = JSON.parse(result.stdout);
    const health = assessment.checks.find((c: { checkId: string }) => c.checkId === "healthEndpointsRespond");
    expect(health.status).toBe("FAIL");
    expect(assessment.verdict.verdict).toBe("NOT READY");
    // every check appears with its id and status
    for (const check of assessment.checks)
      expect(check).toMatchObject({ checkId: expect.any(String), status: expect.any(String) });
  });
});

describe("interruption", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal} during a run stops the supervised services and exits ${signal === "SIGINT" ? 130 : 143}`, async () => {
      const port = await freePort();
      // A service that answers health slowly keeps the run busy long enough to interrupt it mid-check.
      const { dir, file } = specFile(
        [
          "version: 1",
          "system: { name: interrupted }",
          "services:",
          "  api:",
          `    url: http://127.0.0.1:${port}`,
          "    health: /slow",
          "    control:",
          "      process:",
          `        command: node -e "require('http').createServer((q,s)=>setTimeout(()=>s.end('ok'), q.url==='/slow'?1500:0)).listen(${port},'127.0.0.1')"`,
          "        restart: always",
        ].join("\n"),
      );
      const run = startCli(["assess", file, "--no-store"], { cwd: dir });
      const deadline = Date.now() + 20_000;
      while (!(await isListening(port)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(await isListening(port)).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      run.child.kill(signal);
      const result = await run.done;
      expect(result.code).toBe(signal === "SIGINT" ? 130 : 143);
      expect(result.stderr).toMatch(/cancel/i);
      expect(await isListening(port)).toBe(false);
    }, 40_000);
  }
});

describe("history in PostgreSQL", () => {
  it("assess --store postgres://… records runs that history and diff read back", async () => {
    const base = process.env.GAUNTLET_TEST_PG_URL;
    if (!base) throw new Error("GAUNTLET_TEST_PG_URL is not set: run scripts/services.sh start");
    const { default: pg } = await import("pg");
    const database = `gauntlet_e2e_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    try {
      const url = new URL(base);
      url.pathname = `/${database}`;
      const store = url.toString();
      const port = await freePort();
      const { dir, file } = specFile(
        `version: 1\nsystem: { name: pg-history }\nservices:\n  api:\n    url: http://127.0.0.1:${port}\n    health: /healthz\n`,
      );
      for (let i = 0; i < 2; i++) {
        const run = await runCli(["assess", file, "--store", store], { cwd: dir });
        expect(run.code).toBe(2);
        expect(run.stderr).not.toContain("history not saved");
      }
      const history = await runCli(["history", "--store", store, "--json"], { cwd: dir });
      expect(history.code).toBe(0);
      expect(JSON.parse(history.stdout).map((r: { system: string }) => r.system)).toEqual([
        "pg-history",
        "pg-history",
      ]);
      const diff = await runCli(["diff", "--store", store], { cwd: dir });
      expect(diff.code).toBe(0);
      expect(diff.stdout).toMatch(/NOT READY/);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    }
  }, 60_000);
});
