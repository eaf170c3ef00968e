import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import check, {
  type DockerfilesObservation,
} from "../../../src/checks/deployment/dockerfilesFollowBestPractice.js";
import type { FindingInput } from "../../../src/core/types.js";
import { DOCKERFILE_RULES } from "../../../src/engines/dockerfile/rules.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { base62, makeToken } from "../../support/secretValues.js";

const REAL = path.resolve(import.meta.dirname, "../../fixtures/dockerfiles/real");
const DIGEST = `sha256:${"4f".repeat(32)}`;

/** A Dockerfile that follows every rule: each mutation below breaks exactly one of them. */
const STURDY = `# syntax=docker/dockerfile:1
FROM node:20.11.1-bookworm-slim@${DIGEST} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20.11.1-bookworm-slim@${DIGEST}
ENV NODE_ENV=production
RUN apt-get update \\
    && apt-get install -y --no-install-recommends tini \\
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
USER node
HEALTHCHECK --interval=10s --timeout=2s CMD node dist/health.js || exit 1
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server.js"]
`;

function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(path.join(e.parentPath, e.name), "utf8"))
    .join("\n");
}

async function runOn(
  files: Record<string, string>,
  deployment: Record<string, unknown> = { dockerfiles: Object.keys(files) },
  env?: NodeJS.ProcessEnv,
) {
  const t = makeCheckContext(
    { deployment },
    { checkId: "dockerfilesFollowBestPractice", env: env ?? { PATH: process.env.PATH } },
  );
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(t.ctx.specDir, name)), { recursive: true });
    writeFileSync(path.join(t.ctx.specDir, name), content);
  }
  const observation = await check.observe(t.ctx);
  const findings = check.judge(observation, t.ctx.spec);
  return { ...t, observation, findings, input: { deployment } };
}

const brief = (findings: FindingInput[]) =>
  findings.map((f) => [f.status, f.messageId, f.location?.line ?? null]);

describe("dockerfilesFollowBestPractice meta", () => {
  it("is a medium-risk deployment check named after its file, and every rule of the pack is judged", () => {
    expect(check.meta).toMatchObject({
      id: "dockerfilesFollowBestPractice",
      category: "deployment",
      risk: "medium",
    });
    const { messages } = check.meta;
    const judged = check.judge(
      {
        declared: ["Dockerfile"],
        unmatched: [],
        searched: [],
        evidence: "dockerfiles.json",
        files: [
          {
            file: "Dockerfile",
            declared: true,
            evidence: "Dockerfile.json",
            hits: Object.keys(DOCKERFILE_RULES).map((rule, i) => ({
              rule,
              line: i + 1,
              column: 1,
              instructionLine: i + 1,
              stage: 0,
              detail: {},
            })),
            shellcheck: { state: "no-scripts" },
          },
        ],
      } satisfies DockerfilesObservation,
      {} as never,
    );
    expect(judged).toHaveLength(Object.keys(DOCKERFILE_RULES).length);
    // No rule falls back to a messageId of another rule.
    expect(new Set(judged.map((f) => f.messageId)).size).toBe(judged.length);
    for (const f of judged) expect(Object.hasOwn(messages, f.messageId)).toBe(true);
  });
});

describe("dockerfilesFollowBestPractice: the issue's case", () => {
  it("FROM node:latest, a secret in ENV and no USER: findings at those lines, and the secret in no output", async () => {
    const token = makeToken.github();
    const password = `Zq${base62(18)}7`;
    const dockerfile = `FROM node:latest\nENV API_TOKEN=${token} \\\n    DB_PASSWORD="${password}"\nWORKDIR /app\nCOPY . .\nCMD ["node", "server.js"]\n`;
    const { findings, evidenceDir, logs, observation, ctx, input } = await runOn({ Dockerfile: dockerfile });
    expect(brief(findings)).toEqual([
      ["FAIL", "baseImageLatest", 1],
      ["WARN", "noHealthcheck", 1],
      ["FAIL", "noUser", 1],
      ["FAIL", "secretInBuildConfig", 2],
      ["FAIL", "secretInBuildConfig", 3],
    ]);
    const secrets = findings.filter((f) => f.messageId === "secretInBuildConfig");
    expect(secrets.map((f) => [f.data?.name, f.data?.masked])).toEqual([
      ["API_TOKEN", "ghp_…"],
      ["DB_PASSWORD", `${password.slice(0, 2)}…`],
    ]);
    expect(secrets[0]!.message).toContain("GitHub");
    // The values are registered with the run's redactor and appear in no output.
    expect(ctx.secrets.redact(`x ${token} ${password}`)).not.toContain(token);
    const outputs = [
      allText(evidenceDir),
      JSON.stringify(findings),
      JSON.stringify(observation),
      logs.join("\n"),
    ].join("\n");
    expect(outputs).not.toContain(token);
    expect(outputs).not.toContain(password);
    expect(outputs).not.toContain(token.slice(4, 20));
    recordObservation("dockerfilesFollowBestPractice", "ng.node-latest-secret", observation, input);
  });
});

describe("dockerfilesFollowBestPractice: a sturdy Dockerfile passes, and each PASS could have failed", () => {
  it("passes a pinned multi-stage build that runs as a user with a healthcheck", async () => {
    const { findings, observation, input } = await runOn({ Dockerfile: STURDY });
    expect(brief(findings)).toEqual([["PASS", "followsBestPractice", null]]);
    expect(findings[0]!.message).toContain("runs as USER node");
    expect(findings[0]!.message).toMatch(/3 RUN script\(s\) clean under ShellCheck \d/);
    recordObservation("dockerfilesFollowBestPractice", "ok.sturdy-multi-stage", observation, input);
  });

  const last = (line: string) => STURDY.split("\n").findIndex((l) => l.startsWith(line)) + 1;
  const mutations: [string, (text: string) => string, string, number][] = [
    [
      "final base image latest",
      (t) => t.replace(/FROM node:20[^\n]*\nENV/, "FROM node:latest\nENV"),
      "baseImageLatest",
      9,
    ],
    [
      "build base image untagged",
      (t) => t.replace(/FROM node:20[^\n]* AS build/, "FROM node AS build"),
      "baseImageUntagged",
      2,
    ],
    ["no USER", (t) => t.replace("USER node\n", ""), "noUser", 9],
    ["USER root", (t) => t.replace("USER node", "USER 0:0"), "runsAsRoot", last("USER")],
    ["no HEALTHCHECK", (t) => t.replace(/HEALTHCHECK[^\n]*\n/, ""), "noHealthcheck", 9],
    [
      "HEALTHCHECK NONE",
      (t) => t.replace(/HEALTHCHECK[^\n]*\n/, "HEALTHCHECK NONE\n"),
      "noHealthcheck",
      last("HEALTHCHECK"),
    ],
    [
      "curl | sh",
      (t) =>
        t.replace(
          "WORKDIR /app\nCOPY --from",
          "RUN curl -fsSL https://get.example.com/install.sh | sh\nWORKDIR /app\nCOPY --from",
        ),
      "pipeToShell",
      14,
    ],
    [
      "sh -c $(curl)",
      (t) =>
        t.replace(
          "WORKDIR /app\nCOPY --from",
          'RUN sh -c "$(wget -qO- https://get.example.com/i.sh)"\nWORKDIR /app\nCOPY --from',
        ),
      "pipeToShell",
      14,
    ],
    ["recommends", (t) => t.replace("--no-install-recommends ", ""), "aptRecommends", 12],
    ["apt lists kept", (t) => t.replace(" \\\n    && rm -rf /var/lib/apt/lists/*", ""), "aptListsKept", 11],
    [
      "shell-form CMD",
      (t) => t.replace('CMD ["node", "dist/server.js"]', "CMD node dist/server.js"),
      "shellFormCommand",
      last("CMD"),
    ],
    [
      "secret-named build arg",
      (t) => t.replace("ENV NODE_ENV", "ARG NPM_TOKEN\nENV NODE_ENV"),
      "sensitiveBuildVariable",
      10,
    ],
    [
      "ADD a URL",
      (t) =>
        t.replace(
          "WORKDIR /app\nCOPY --from",
          "ADD https://example.com/tool.tar.gz /opt/\nWORKDIR /app\nCOPY --from",
        ),
      "addUrlUnchecked",
      14,
    ],
    ["ADD a folder", (t) => t.replace("COPY . .", "ADD . ."), "addInsteadOfCopy", 6],
    ["cd in RUN", (t) => t.replace("RUN npm run build", "RUN cd /app && npm run build"), "cdInRun", 7],
    [
      "MAINTAINER",
      (t) =>
        t.replace("WORKDIR /app\nCOPY package", "MAINTAINER someone@example.com\nWORKDIR /app\nCOPY package"),
      "maintainerDeprecated",
      3,
    ],
    [
      "devDependencies shipped",
      (t) => t.replace("ENV NODE_ENV=production\n", "").replace("USER node", "RUN npm ci\nUSER node"),
      "buildToolsShipped",
      16,
    ],
    [
      "compiler shipped",
      (t) =>
        t.replace(
          "install -y --no-install-recommends tini",
          "install -y --no-install-recommends tini build-essential",
        ),
      "buildToolsShipped",
      12,
    ],
    [
      "dist-upgrade",
      (t) => t.replace("USER node", "RUN apt-get dist-upgrade -y\nUSER node"),
      "aptDistUpgrade",
      17,
    ],
    [
      "ShellCheck warning",
      (t) => t.replace("RUN npm run build", "RUN echo $undefined_thing && npm run build"),
      "shellcheckWarning",
      7,
    ],
    [
      "ShellCheck error",
      (t) => t.replace("RUN npm ci", "RUN if [ -f package.json ]; then npm ci; "),
      "shellcheckError",
      5,
    ],
    [
      "unknown instruction",
      (t) => t.replace("WORKDIR /app\nCOPY package", "WORKDIRR /app\nCOPY package"),
      "unknownInstruction",
      3,
    ],
  ];
  it.each(mutations)("%s → %s", async (_name, mutate, messageId, line) => {
    const text = mutate(STURDY);
    expect(text).not.toBe(STURDY);
    const { findings } = await runOn({ Dockerfile: text });
    const hit = findings.filter((f) => f.messageId === messageId);
    expect(hit.length, JSON.stringify(brief(findings))).toBeGreaterThan(0);
    expect(hit[0]!.status).not.toBe("PASS");
    expect(hit[0]!.location?.line).toBe(line);
    expect(findings.some((f) => f.status === "PASS")).toBe(false);
  });

  it("a literal secret in ENV is a FAIL even when its name says nothing, and a weak default is a WARN", async () => {
    const token = makeToken.stripeLive();
    const { findings, evidenceDir } = await runOn({
      Dockerfile: STURDY.replace(
        "ENV NODE_ENV=production",
        `ENV NODE_ENV=production PAYMENTS=${token} ADMIN_PASSWORD=changeme`,
      ),
    });
    expect(brief(findings)).toEqual([
      ["FAIL", "secretInBuildConfig", 10],
      ["WARN", "sensitiveBuildVariable", 10],
    ]);
    expect(findings[1]!.data).toMatchObject({ name: "ADMIN_PASSWORD", kind: "weak-value" });
    expect(allText(evidenceDir)).not.toContain(token);
  });

  it("a password in an ADD URL is masked in the finding and in the evidence", async () => {
    const password = `Pw${base62(20)}`;
    const { findings, evidenceDir } = await runOn({
      Dockerfile: STURDY.replace(
        "COPY . .",
        `ADD https://deploy:${password}@downloads.example.com/tool.tar.gz /opt/\nCOPY . .`,
      ),
    });
    expect(brief(findings)).toEqual([["WARN", "addUrlUnchecked", 6]]);
    expect(findings[0]!.data?.source).toBe("https://deploy:…@downloads.example.com/tool.tar.gz");
    expect(`${JSON.stringify(findings)}${allText(evidenceDir)}`).not.toContain(password);
  });
});

describe("dockerfilesFollowBestPractice: ShellCheck", () => {
  it("maps ShellCheck's positions through continuations, comment lines and here-documents to the Dockerfile", async () => {
    const text = `${STURDY.replace("RUN npm ci", "RUN npm ci && \\\n    # the build\n    echo $undefined_a")}RUN <<EOF\nset -e\necho $undefined_b\nEOF\n`;
    const { findings } = await runOn({ Dockerfile: text });
    const warnings = findings.filter((f) => f.messageId === "shellcheckWarning");
    expect(warnings.map((f) => [f.data?.rule, f.location?.line, f.location?.column])).toEqual([
      ["SC2154", 7, 10],
      ["SC2154", 26, 6],
    ]);
    expect(warnings[0]!.message).toContain("in the RUN at line 5");
  });

  it("honours # hadolint ignore= for DL and SC ids, on the next instruction or the whole file, and names them", async () => {
    const text = STURDY.replace(
      "FROM node:20.11.1-bookworm-slim@" + DIGEST + " AS build",
      "# hadolint ignore=DL3006 # the registry pins it\nFROM node AS build",
    )
      .replace(
        "RUN npm run build",
        "# hadolint ignore=SC2154,DL3003\nRUN cd /app && echo $undefined_thing && npm run build",
      )
      .replace("USER node\n", "# hadolint global ignore=gauntlet/no-user\n");
    const { findings } = await runOn({ Dockerfile: text });
    expect(brief(findings)).toEqual([["PASS", "followsBestPractice", null]]);
    expect(findings[0]!.data?.ignored).toEqual(["DL3006@3", "DL3003@9", "gauntlet/no-user@11", "SC2154@9"]);
    expect(findings[0]!.message).toContain("silenced by hadolint pragma");
    // A pragma silences only what it names, only where it stands.
    const other = await runOn({
      Dockerfile: STURDY.replace("RUN npm ci", "# hadolint ignore=DL3003\nRUN npm ci\nRUN cd /x || exit 1"),
    });
    expect(brief(other.findings)).toEqual([["WARN", "cdInRun", 7]]);
  });

  it("without shellcheck on PATH the lint part is UNVERIFIED and the other rules still judge", async () => {
    const { findings } = await runOn({ Dockerfile: STURDY.replace("USER node\n", "") }, undefined, {
      PATH: "/nonexistent",
    });
    expect(brief(findings)).toEqual([
      ["FAIL", "noUser", 9],
      ["UNVERIFIED", "shellcheckMissing", null],
    ]);
    expect(findings[1]!.toVerify).toContain("shellcheck");
  });
});

describe("dockerfilesFollowBestPractice: which Dockerfiles", () => {
  it("judges the Dockerfiles found in system.repo when the spec lists none, and is N/A when there are none", async () => {
    const found = await runOn(
      {
        "api/Dockerfile": STURDY,
        "web/web.Dockerfile": STURDY,
        "test/fixtures/Dockerfile": "FROM x\n",
        "node_modules/a/Dockerfile": "FROM x\n",
      },
      {},
    );
    expect(found.findings.map((f) => [f.subject, f.status])).toEqual([
      ["api/Dockerfile", "PASS"],
      ["web/web.Dockerfile", "PASS"],
    ]);
    expect(found.findings[0]!.message).toContain("list it in deployment.dockerfiles");
    const none = await runOn({ "README.md": "no image here" }, {});
    expect(brief(none.findings)).toEqual([["NA", "noDockerfile", null]]);
  });

  it("looks in the spec's folder first (a demo or a service of a monorepo), then at the repository's top only", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "gauntlet-repo-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const place = (file: string, text: string) => {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), text);
    };
    place("shop/Dockerfile", STURDY);
    place("other/Dockerfile", "FROM node:latest\n");
    place("Dockerfile", STURDY);
    place("deploy/gauntlet.yaml", "");
    const run = async (specFolder: string) => {
      const t = makeCheckContext(
        { system: { name: "t", repo: ".." } },
        { specDir: path.join(root, specFolder), env: { PATH: process.env.PATH } },
      );
      return check.run(t.ctx);
    };
    expect((await run("shop")).map((f) => [f.subject, f.status])).toEqual([["Dockerfile", "PASS"]]);
    // No Dockerfile under deploy/: the repository's top is searched, not its other folders.
    expect((await run("deploy")).map((f) => [f.subject, f.status])).toEqual([["../Dockerfile", "PASS"]]);
  });

  it("fails an entry that matches nothing, and a path that is a folder", async () => {
    const { findings } = await runOn(
      { "app/Dockerfile": STURDY },
      { dockerfiles: ["missing/Dockerfile", "app/Dockerfile", "docker/*.Dockerfile"] },
    );
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([
      ["missing/Dockerfile", "FAIL", "missing"],
      ["docker/*.Dockerfile", "FAIL", "missing"],
      ["app/Dockerfile", "PASS", "followsBestPractice"],
    ]);
  });
});

describe("dockerfilesFollowBestPractice on real public Dockerfiles", () => {
  // What each real file gets, reviewed by hand against the file: [messageId, line] (ShellCheck warnings by code).
  const expected: Record<string, [string, number][]> = {
    // Pinned by digest, USER 1000, exec-form ENTRYPOINT: only the healthcheck is missing (Kubernetes probes it).
    "boutique-cartservice": [["noHealthcheck", 36]],
    // The final stage is distroless/static without a tag and without USER (the manifests set runAsUser instead).
    "boutique-frontend": [
      ["baseImageUntagged", 32],
      ["noHealthcheck", 32],
      ["noUser", 32],
    ],
    // The final stage builds on the development stage, whose `npm ci` installs devDependencies; apt lists are kept.
    "compose-react-express-mongodb-backend": [
      ["buildToolsShipped", 10],
      ["noHealthcheck", 18],
      ["noUser", 18],
      ["aptListsKept", 20],
    ],
    // USER nonroot, exec-form CMD, python:3.9.2-alpine by tag.
    "compose-nginx-wsgi-flask": [["noHealthcheck", 1]],
    // `curl … | bash` installs WasmEdge; the final stage is scratch with no USER.
    "compose-wasmedge-kafka-mysql-etl": [
      ["pipeToShell", 12],
      ["noHealthcheck", 25],
      ["noUser", 25],
    ],
    // The official image: no USER (its entrypoint does not step down), cd in RUN, and ShellCheck's warnings.
    "node-22-alpine": [
      ["noHealthcheck", 1],
      ["noUser", 1],
      ["shellcheckWarning:SC1007", 11],
      ["shellcheckWarning:SC2155", 41],
      ["cdInRun", 64],
      ["shellcheckWarning:SC2046", 66],
      ["cdInRun", 69],
      ["shellcheckWarning:SC2155", 86],
      ["shellcheckWarning:SC2043", 88],
    ],
    // The official image steps down from root with gosu in its entrypoint: a WARN, not a FAIL.
    "redis-7.2-debian": [
      ["noHealthcheck", 7],
      ["shellcheckWarning:SC2155", 47],
      ["userFromEntrypoint", 147],
    ],
  };

  for (const [name, rows] of Object.entries(expected)) {
    it(name, async () => {
      const t = makeCheckContext(
        { deployment: { dockerfiles: [`${name}/Dockerfile`] } },
        { checkId: "dockerfilesFollowBestPractice", env: { PATH: process.env.PATH } },
      );
      cpSync(path.join(REAL, name), path.join(t.ctx.specDir, name), { recursive: true });
      const observation = await check.observe(t.ctx);
      const findings = check.judge(observation, t.ctx.spec);
      if (name === "boutique-frontend" || name === "redis-7.2-debian") {
        recordObservation(
          "dockerfilesFollowBestPractice",
          `ng.real-${name.replace(/\./g, "-")}`,
          observation,
          {
            deployment: { dockerfiles: [`${name}/Dockerfile`] },
          },
        );
      }
      const actual = findings
        .map((f): [string, number] => [
          f.messageId === "shellcheckWarning" || f.messageId === "shellcheckError"
            ? `${f.messageId}:${f.data?.rule}`
            : f.messageId,
          f.location?.line ?? 0,
        ])
        .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
      expect(actual).toEqual([...rows].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])));
      // Every finding names the file and line it is about, so a reviewer can open it.
      for (const f of findings) expect(f.message).toContain(`${name}/Dockerfile:`);
    });
  }
});

describe("dockerfilesFollowBestPractice on the demos' Dockerfiles", () => {
  const examples = path.resolve(import.meta.dirname, "../../../examples");
  const judge = async (demo: string) => {
    const t = makeCheckContext(
      { deployment: { dockerfiles: ["Dockerfile"] } },
      { specDir: path.join(examples, demo), env: { PATH: process.env.PATH } },
    );
    return check.run(t.ctx);
  };

  it("the sturdy shop's passes", async () => {
    expect(brief(await judge("sturdy"))).toEqual([["PASS", "followsBestPractice", null]]);
  });

  it("the fragile shop's fails where it was written carelessly", async () => {
    expect(brief(await judge("fragile"))).toEqual([
      ["FAIL", "baseImageLatest", 3],
      ["WARN", "noHealthcheck", 3],
      ["FAIL", "noUser", 3],
      ["WARN", "sensitiveBuildVariable", 4],
      ["WARN", "sensitiveBuildVariable", 5],
      ["FAIL", "pipeToShell", 6],
      ["WARN", "aptListsKept", 7],
      ["WARN", "aptRecommends", 7],
      ["WARN", "buildToolsShipped", 7],
      ["WARN", "buildToolsShipped", 10],
      ["WARN", "shellFormCommand", 11],
    ]);
  });
});
