// The security category's "done when", end to end with the real binary: a fragile repository and system (a GitHub
// token in code, a Slack token in YAML, a private key file, a token in a deleted file's history, a vulnerable
// lockfile entry, an open protected path, a Redis without a password, a TLS 1.0 endpoint whose certificate expires in
// days) gets a security FAIL for each at its file:line or subject and none for the decoys beside them; its sturdy
// twin gets no security FAIL and several PASSes; no secret value appears in any output. Every secret-looking value is
// made here, at run time: none is ever in git.
import { execFileSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ROOT, runCli } from "../support/cli.js";
import { freePort, spawnForTest, startRedis, waitForPort } from "../support/datastores.js";
import { requireTool } from "../support/services.js";
import { makeCa, makeLeaf, startNginxTls } from "../support/tlsServers.js";

const SECURITY_CHECKS = [
  "noSecretsInRepository",
  "dependenciesFreeOfKnownVulnerabilities",
  "codeFreeOfDangerousPatterns",
  "protectedEndpointsRequireAuth",
  "datastoresRequireAuth",
  "tlsModern",
  "securityHeadersPresent",
  "internalServicesNotExposed",
];

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const alnum = (n: number) => Array.from({ length: n }, () => ALNUM[randomInt(ALNUM.length)]).join("");
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join("");

// One cleanup list for the whole file: the systems live across its tests.
const cleanups: (() => Promise<void> | void)[] = [];
const onCleanup = (undo: () => Promise<void> | void) => {
  cleanups.push(undo);
};
afterAll(async () => {
  for (const undo of cleanups.reverse()) {
    try {
      await undo();
    } catch {
      // keep cleaning
    }
  }
});

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd: dir,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.invalid",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.invalid",
    },
  }).trim();
}

function write(dir: string, file: string, text: string): void {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), text);
}

/** Lockfile v3 with one package at the given version; integrity hashes are decoys the secret scan must not report. */
function packageLock(lodash: string): string {
  const integrity = `sha512-${randomBytes(64).toString("base64")}`;
  return `${JSON.stringify(
    {
      name: "shop",
      version: "1.0.0",
      lockfileVersion: 3,
      requires: true,
      packages: {
        "": { name: "shop", version: "1.0.0", dependencies: { lodash: `^${lodash}` } },
        "node_modules/lodash": {
          version: lodash,
          resolved: `https://registry.npmjs.org/lodash/-/lodash-${lodash}.tgz`,
          integrity,
          license: "MIT",
        },
      },
    },
    null,
    2,
  )}\n`;
}

/** The shop's API: `/admin` open (fragile) or behind a bearer token (sturdy). */
const SERVER = `import http from "node:http";
const open = process.env.ADMIN_OPEN === "1";
const token = process.env.ADMIN_TOKEN ?? "";
const headers = { "content-type": "application/json", "x-content-type-options": "nosniff" };
http
  .createServer((req, res) => {
    if (req.url === "/healthz") return res.writeHead(200, headers).end('{"status":"ok"}');
    if (req.url === "/admin") {
      if (open || req.headers.authorization === \`Bearer \${token}\`) {
        return res.writeHead(200, headers).end('{"admin":true,"orders":12}');
      }
      return res.writeHead(401, { ...headers, "www-authenticate": 'Bearer realm="admin"' }).end('{"error":"unauthorized"}');
    }
    res.writeHead(404, headers).end('{"error":"not found"}');
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
`;

interface Shop {
  dir: string;
  specPath: string;
  /** Every secret value of this shop: none may appear in any output. */
  secrets: string[];
  /** Where each planted secret is, for the assertions. */
  planted: { github?: string; slack?: string; key?: string; history?: string };
}

async function buildShop(flavour: "fragile" | "sturdy"): Promise<Shop> {
  const dir = mkdtempSync(path.join(tmpdir(), `gauntlet-e2e-security-${flavour}-`));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const fragile = flavour === "fragile";
  const secrets: string[] = [];
  const planted: Shop["planted"] = {};
  git(dir, "init", "-q", "-b", "main");

  // Decoys, in both: placeholders in an example env file, a UUID, an image digest, a commit id, integrity hashes.
  write(dir, ".env.example", "STRIPE_API_KEY=your-api-key-here\nDB_PASSWORD=changeme\nSLACK_TOKEN=<token>\n");
  write(
    dir,
    "docs/RELEASES.md",
    [
      "# Releases",
      `- request id ${crypto.randomUUID()} fixed`,
      `- image shop@sha256:${randomBytes(32).toString("hex")}`,
      `- reverted ${randomBytes(20).toString("hex")}`,
      "",
    ].join("\n"),
  );
  write(
    dir,
    "package.json",
    '{ "name": "shop", "version": "1.0.0", "dependencies": { "lodash": "^4.17.11" } }\n',
  );
  write(dir, "package-lock.json", packageLock(fragile ? "4.17.11" : "4.17.21"));
  write(dir, "server.mjs", SERVER);

  if (fragile) {
    // A token committed, then deleted: still in history, still a leak.
    const stripe = `sk_live_${alnum(24)}`;
    secrets.push(stripe);
    write(dir, "config/payments.env", `STRIPE_SECRET_KEY=${stripe}\n`);
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "payments config");
    git(dir, "rm", "-q", "config/payments.env");
    git(dir, "commit", "-q", "-m", "remove payments config");
    planted.history = "config/payments.env";

    const github = `ghp_${alnum(36)}`;
    secrets.push(github);
    write(
      dir,
      "src/release.js",
      `// Publishes release notes.\nconst client = { token: "${github}" };\nexport default client;\n`,
    );
    planted.github = "src/release.js";

    const slack = `xoxb-${digits(12)}-${digits(13)}-${alnum(24)}`;
    secrets.push(slack);
    write(dir, "config/notifications.yaml", `slack:\n  channel: "#orders"\n  botToken: ${slack}\n`);
    planted.slack = "config/notifications.yaml";

    mkdirSync(path.join(dir, "deploy"));
    execFileSync(requireTool("ssh-keygen", "openssh-client"), [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      "",
      "-f",
      path.join(dir, "deploy/id_ed25519"),
    ]);
    const keyLines = readFileSync(path.join(dir, "deploy/id_ed25519"), "utf8").split("\n");
    secrets.push(keyLines[1]!, keyLines[2]!);
    planted.key = "deploy/id_ed25519";
  }
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "shop");

  // The running system.
  const apiPort = await freePort();
  const adminToken = `admin-${randomBytes(16).toString("hex")}`;
  secrets.push(adminToken);
  // The server reads its settings from the environment: /usr/bin/env sets them for it alone.
  const server = spawnForTest(onCleanup, "/usr/bin/env", [
    `PORT=${apiPort}`,
    `ADMIN_OPEN=${fragile ? "1" : "0"}`,
    `ADMIN_TOKEN=${adminToken}`,
    process.execPath,
    path.join(dir, "server.mjs"),
  ]);
  server.once("error", () => {});
  await waitForPort(apiPort);

  const redisPassword = `redis-${randomBytes(12).toString("hex")}`;
  if (!fragile) secrets.push(redisPassword);
  const redis = await startRedis(onCleanup, fragile ? {} : { password: redisPassword });

  const ca = makeCa(onCleanup);
  const names = ["DNS:localhost", "IP:127.0.0.1"];
  const leaf = makeLeaf(ca, "shop", { days: fragile ? 3 : 300, names });
  const [tlsPort] = await startNginxTls(onCleanup, [
    fragile
      ? { leaf, protocols: "TLSv1 TLSv1.1 TLSv1.2", ciphers: "DEFAULT@SECLEVEL=0" }
      : { leaf, protocols: "TLSv1.2 TLSv1.3" },
  ]);

  const spec = {
    version: 1,
    system: { name: `shop-${flavour}`, repo: "." },
    services: {
      api: {
        url: `http://127.0.0.1:${apiPort}`,
        health: "/healthz",
        exposure: "public",
        protected: ["/admin"],
        dependsOn: ["cache"],
      },
      cache: { kind: "redis", url: redis.url, exposure: "internal", durable: false },
    },
    security: {
      advisories: path.join(ROOT, "test/fixtures/osv"),
      tls: [{ url: `https://localhost:${tlsPort}`, ca: ca.cert }],
    },
  };
  const specPath = path.join(dir, "gauntlet.yaml");
  writeFileSync(specPath, stringify(spec));
  return { dir, specPath, secrets, planted };
}

interface ReportFinding {
  checkId: string;
  status: string;
  messageId?: string;
  subject?: string;
  message: string;
  location?: { path: string; line?: number; column?: number };
  data?: Record<string, unknown>;
}

async function assessShop(shop: Shop) {
  const out = path.join(shop.dir, "out");
  const result = await runCli(
    ["assess", shop.specPath, "--only", SECURITY_CHECKS.join(","), "--no-store", "--out", out],
    { cwd: shop.dir },
  );
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  const report = JSON.parse(readFileSync(path.join(out, "report.json"), "utf8"));
  const checks = report.checks as { checkId: string; status: string; findings: ReportFinding[] }[];
  const findings = checks.flatMap((c) => c.findings.map((f) => ({ ...f, checkId: c.checkId })));
  return { out, result, checks, findings, report };
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe("the security category end to end", () => {
  let fragile: Shop;
  let sturdy: Shop;
  let fragileRun: Awaited<ReturnType<typeof assessShop>>;
  let sturdyRun: Awaited<ReturnType<typeof assessShop>>;

  beforeAll(async () => {
    fragile = await buildShop("fragile");
    sturdy = await buildShop("sturdy");
    fragileRun = await assessShop(fragile);
    sturdyRun = await assessShop(sturdy);
  }, 240_000);

  it("fragile: a FAIL for every planted problem, at its file:line or subject", () => {
    const fails = fragileRun.findings.filter((f) => f.status === "FAIL");
    const secretFail = (file: string) =>
      fails.find((f) => f.checkId === "noSecretsInRepository" && f.location?.path === file);
    for (const file of [fragile.planted.github!, fragile.planted.slack!, fragile.planted.key!]) {
      const finding = secretFail(file);
      expect(finding, `no secret FAIL for ${file}: ${JSON.stringify(fails)}`).toBeDefined();
      expect(finding!.location!.line).toBeGreaterThan(0);
    }
    expect(secretFail(fragile.planted.github!)!.location!.line).toBe(2);
    expect(secretFail(fragile.planted.slack!)!.location!.line).toBe(3);
    const history = fails.find(
      (f) => f.checkId === "noSecretsInRepository" && f.messageId === "secretInHistory",
    );
    expect(history?.location?.path ?? history?.message).toContain(fragile.planted.history!);

    const vulnerable = fails.find((f) => f.checkId === "dependenciesFreeOfKnownVulnerabilities");
    expect(vulnerable?.message).toMatch(/GHSA-/);
    expect(vulnerable?.message).toMatch(/4\.17\.\d+/);
    expect(vulnerable?.location?.path).toBe("package-lock.json");

    expect(fails.find((f) => f.checkId === "protectedEndpointsRequireAuth")).toMatchObject({
      subject: "api",
      messageId: "openToAnonymous",
    });
    expect(fails.find((f) => f.checkId === "datastoresRequireAuth")).toMatchObject({
      subject: "cache",
      messageId: "acceptsNoPassword",
    });
    const tls = fails.filter((f) => f.checkId === "tlsModern").map((f) => f.messageId);
    expect(tls).toEqual(expect.arrayContaining(["legacyProtocol", "expiresSoon"]));
  });

  it("fragile: no finding on the decoys (placeholders, UUIDs, digests, commit ids, integrity hashes)", () => {
    const decoyFiles = [".env.example", "docs/RELEASES.md", "package-lock.json"];
    const onDecoys = fragileRun.findings.filter(
      (f) =>
        f.checkId === "noSecretsInRepository" && decoyFiles.includes(f.location?.path ?? f.subject ?? ""),
    );
    expect(onDecoys).toEqual([]);
  });

  it("sturdy: no security FAIL, and at least three security PASSes", () => {
    const fails = sturdyRun.findings.filter((f) => f.status === "FAIL");
    expect(fails, JSON.stringify(fails, null, 2)).toEqual([]);
    const passed = sturdyRun.checks.filter((c) => c.status === "PASS").map((c) => c.checkId);
    expect(passed.length, `passed: ${passed.join(", ")}`).toBeGreaterThanOrEqual(3);
    expect(passed).toEqual(
      expect.arrayContaining(["noSecretsInRepository", "datastoresRequireAuth", "tlsModern"]),
    );
    expect(
      sturdyRun.findings.filter((f) => f.checkId === "noSecretsInRepository" && f.status !== "PASS"),
    ).toEqual([]);
  });

  it("no secret value appears in any output of either run", () => {
    for (const [shop, run] of [
      [fragile, fragileRun],
      [sturdy, sturdyRun],
    ] as const) {
      const files = allFiles(run.out);
      expect(files.length).toBeGreaterThan(5);
      const outputs = [
        ...files.map((f) => ({ f, bytes: readFileSync(f) })),
        { f: "stdout", bytes: Buffer.from(run.result.stdout + run.result.stderr) },
      ];
      for (const secret of shop.secrets) {
        const leaks = outputs.filter(({ bytes }) => bytes.includes(secret)).map(({ f }) => f);
        expect(leaks, `${secret.slice(0, 6)}… leaked`).toEqual([]);
      }
    }
  });
});
