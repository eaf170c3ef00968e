// noSecretsInRepository on a real git repository built here: a token committed and deleted since (history only), a
// token edited out of a file, a clear and an encrypted OpenSSH key from ssh-keygen, a PKCS#8 key from openssl, a Slack
// token in YAML, a GitHub token in code, an untracked file, and the decoys of test/fixtures/secretScan/decoys; what
// must be left out (.gitignore'd, vendored, excluded, too large, binary, Gauntlet's own output) is left out and
// counted. Every value is made at test time. Through assess(), each finding is at its file:line:column in every
// report, and no value is in any file Gauntlet wrote, nor in what `gauntlet secrets` prints.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { assess } from "../../../src/assess/assess.js";
import check from "../../../src/checks/security/noSecretsInRepository.js";
import { memoryIO } from "../../../src/cli/io.js";
import { secretsCommand } from "../../../src/cli/secrets.js";
import type { Finding } from "../../../src/core/types.js";
import { makeCheckContext } from "../../support/checkContext.js";
import { runCli } from "../../support/cli.js";
import { recordObservation } from "../../support/judgeFixtures.js";
import { makeToken } from "../../support/secretValues.js";

const DECOYS = path.resolve(import.meta.dirname, "../../fixtures/secretScan/decoys");

let root: string;
let repo: string;
let firstCommit: string;
const secrets = {
  deletedStripe: makeToken.stripeLive(),
  editedGithub: makeToken.github(),
  github: makeToken.github(),
  slack: makeToken.slackBot(),
  google: makeToken.googleApi(),
  ignored: makeToken.github(),
  vendored: makeToken.github(),
  excluded: makeToken.github(),
  large: makeToken.github(),
  binary: makeToken.github(),
  output: makeToken.github(),
};
/** Lines of key material of the generated keys (each must appear nowhere either). */
const keyLines: string[] = [];

function git(...args: string[]): string {
  return execFileSync("git", args, {
    cwd: repo,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "test",
      GIT_AUTHOR_EMAIL: "test@example.invalid",
      GIT_COMMITTER_NAME: "test",
      GIT_COMMITTER_EMAIL: "test@example.invalid",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
    },
  }).trim();
}

function write(file: string, content: string | Buffer): void {
  mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
  writeFileSync(path.join(repo, file), content);
}

/** 1-based [line, column] of needle in a repository file. */
function position(file: string, needle: string): [number, number] {
  const content = readFileSync(path.join(repo, file), "utf8");
  const before = content.slice(0, content.indexOf(needle)).split("\n");
  return [before.length, before.at(-1)!.length + 1];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** What must appear nowhere: every value, and every 8-character piece of each token's random part. */
function forbidden(): string[] {
  const values = Object.values(secrets);
  const pieces = values.flatMap((v) =>
    Array.from({ length: v.length - 12 }, (_, i) => v.slice(i + 5, i + 13)),
  );
  return [...values, ...pieces, ...keyLines];
}

function expectNoValueIn(text: string, where: string): void {
  for (const value of forbidden()) {
    if (text.includes(value)) throw new Error(`${where} holds a secret value (${value.slice(0, 4)}…)`);
  }
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "gauntlet-secrets-"));
  repo = path.join(root, "repo");
  mkdirSync(repo);
  git("init", "-q", "-b", "main");

  // Commit 1: two secrets that are later removed (a deleted file, an edited one) and the GitHub token of src/.
  write("config/old-settings.yml", `payments:\n  provider: stripe\n  key: ${secrets.deletedStripe}\n`);
  write("app/settings.py", `import os\n\nAPI_TOKEN = "${secrets.editedGithub}"\n`);
  write("src/github.ts", `// GitHub client\nexport const token = "${secrets.github}";\n`);
  git("add", "-A");
  git("commit", "-q", "-m", "first");
  firstCommit = git("rev-parse", "HEAD");

  // Commit 2: the deleted file, the edited token, and the same GitHub token still in src/ under another blob.
  git("rm", "-q", "config/old-settings.yml");
  write("app/settings.py", 'import os\n\nAPI_TOKEN = os.environ["API_TOKEN"]\n');
  write(
    "src/github.ts",
    `// GitHub client\nexport const token = "${secrets.github}";\nexport const org = "acme";\n`,
  );
  git("add", "-A");
  git("commit", "-q", "-m", "tokens from the environment");

  // Commit 3: keys, the Slack token, decoys, and what must be left out.
  mkdirSync(path.join(repo, "deploy"), { recursive: true });
  execFileSync("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    "deploy",
    "-f",
    path.join(repo, "deploy/id_ed25519"),
  ]);
  execFileSync("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "a long pass phrase",
    "-f",
    path.join(repo, "deploy/ci_key"),
  ]);
  execFileSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", path.join(repo, "deploy/tls.key")], {
    stdio: "ignore",
  });
  for (const file of ["deploy/id_ed25519", "deploy/ci_key", "deploy/tls.key"]) {
    const text = readFileSync(path.join(repo, file), "utf8");
    keyLines.push(...text.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----")));
  }
  write("config/slack.yaml", `notifications:\n  channel: "#deploys"\n  bot_token: ${secrets.slack}\n`);
  cpSync(DECOYS, path.join(repo, "decoys"), { recursive: true });
  write(".gitignore", ".env\n");
  write(".env", `GITHUB_TOKEN=${secrets.ignored}\n`);
  write("vendor/acme/client.go", `package acme\n\nconst token = "${secrets.vendored}"\n`);
  write("generated/api.ts", `export const token = "${secrets.excluded}";\n`);
  write("data/dump.txt", `${"x".repeat(70_000)}\ntoken=${secrets.large}\n`);
  write(
    "assets/logo.png",
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]), Buffer.from(secrets.binary)]),
  );
  write("old-run/certificate.dsse.json", "{}\n");
  write("old-run/report.md", `token ${secrets.output}\n`);
  write(
    "gauntlet.yaml",
    stringify({
      version: 1,
      system: { name: "leaky", repo: "." },
      security: { scan: { exclude: ["generated/**"], maxFileSize: "64KB" } },
    }),
  );
  git("add", "-A");
  git("commit", "-q", "-m", "deploy keys and notifications");

  // Untracked and not ignored: `git add .` would commit it, so it is scanned.
  write("notes/todo.txt", `maps key for the demo: ${secrets.google}\n`);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function expectedFindings(): [string, string, string, number, number][] {
  return [
    ["app/settings.py", "FAIL", "secretInHistory", 3, 14],
    ["config/old-settings.yml", "FAIL", "secretInHistory", 3, 8],
    ["config/slack.yaml", "FAIL", "secretInFile", ...position("config/slack.yaml", secrets.slack)],
    ["deploy/ci_key", "WARN", "encryptedKeyInFile", 1, 1],
    ["deploy/id_ed25519", "FAIL", "secretInFile", 1, 1],
    ["deploy/tls.key", "FAIL", "secretInFile", 1, 1],
    ["notes/todo.txt", "FAIL", "secretInFile", ...position("notes/todo.txt", secrets.google)],
    ["src/github.ts", "FAIL", "secretInFile", ...position("src/github.ts", secrets.github)],
  ];
}

function rows(findings: readonly Pick<Finding, "subject" | "status" | "messageId" | "location">[]) {
  return findings
    .map((f) => [f.subject, f.status, f.messageId, f.location?.line, f.location?.column])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
}

describe("noSecretsInRepository on a real repository", () => {
  it("finds each secret at its file:line:column, history ones with their commit, and nothing else", async () => {
    const { ctx, evidenceDir, logs } = makeCheckContext(
      {
        system: { name: "leaky", repo: "." },
        security: { scan: { exclude: ["generated/**"], maxFileSize: "64KB" } },
      },
      { specDir: repo, checkId: check.meta.id },
    );
    const observation = await check.observe(ctx);
    // Masked before any redaction: the observation itself holds no value.
    expectNoValueIn(JSON.stringify(observation), "the observation");
    const findings = check.judge(observation, ctx.spec);
    recordObservation(check.meta.id, "ng.real-repository", observation, ctx.spec);
    expect(rows(findings)).toEqual(expectedFindings());

    const deleted = findings.find((f) => f.subject === "config/old-settings.yml")!;
    expect(deleted.data).toMatchObject({
      rule: "gauntlet/stripe-live-key",
      commit: firstCommit.slice(0, 12),
      masked: `${secrets.deletedStripe.slice(0, 4)}…`,
    });
    expect(deleted.message).toContain("in history only");
    expect(deleted.message).toContain(firstCommit.slice(0, 12));
    expect(deleted.message).toContain("rotate it");
    expect(findings.find((f) => f.subject === "deploy/id_ed25519")!.data).toMatchObject({
      rule: "gauntlet/private-key",
      keyFile: true,
      encrypted: false,
    });
    expect(findings.find((f) => f.subject === "src/github.ts")!.data).toMatchObject({
      rule: "@secretlint/secretlint-rule-github",
    });

    const scan = observation.scan;
    expect(scan.paths).toEqual([{ path: ".", state: "scanned", listedBy: "git" }]);
    expect(scan.files.excluded).toMatchObject({ gitignore: 1, vendored: 1, exclude: 1, gauntletOutput: 2 });
    expect(scan.files.skipped).toEqual({ tooLarge: 1, binary: 1 });
    expect(scan.files.tooLarge).toEqual(["data/dump.txt"]);
    expect(scan.history.state).toBe("scanned");
    expect(scan.history.repositories).toHaveLength(1);
    const history = scan.history.repositories[0]!;
    expect(history.commits).toBe(3);
    expect(history.shallow).toBe(false);
    // Commit 1's three blobs are the ones not in the working tree at the same content.
    expect(history.scannedBlobs).toBe(3);
    expect(history.skipped.inWorktree).toBeGreaterThan(10);

    const written = filesUnder(evidenceDir).map((f) => readFileSync(f, "utf8"));
    expect(written.length).toBeGreaterThanOrEqual(3);
    for (const [i, text] of written.entries()) expectNoValueIn(text, `evidence file ${i}`);
    expectNoValueIn(logs.join("\n"), "the log");
    const sarif = JSON.parse(readFileSync(path.join(evidenceDir, observation.evidence[1]!), "utf8"));
    expect(sarif.runs[0].results).toHaveLength(8);
  }, 60_000);

  it("through assess(): every report shows the findings at their location, no output holds a value", async () => {
    const work = path.join(root, "work");
    mkdirSync(work, { recursive: true });
    const outcome = await assess({
      specPath: path.join(repo, "gauntlet.yaml"),
      cwd: work,
      outDir: path.join(work, "out"),
      only: ["noSecretsInRepository"],
      env: { PATH: process.env.PATH },
    });
    const result = outcome.assessment.checks.find((c) => c.checkId === "noSecretsInRepository")!;
    expect(result.status).toBe("FAIL");
    expect(rows(result.findings)).toEqual(expectedFindings());
    expect(outcome.assessment.verdict.verdict).toBe("NOT READY");

    const sarif = JSON.parse(readFileSync(path.join(work, "out", "report.sarif"), "utf8"));
    const located = sarif.runs[0].results
      .map(
        (r: { locations: { physicalLocation?: { artifactLocation: { uri: string }; region: unknown } }[] }) =>
          r.locations[0]!.physicalLocation,
      )
      .filter(Boolean)
      .map((p: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } }) => [
        p.artifactLocation.uri,
        p.region.startLine,
        p.region.startColumn,
      ])
      .sort((a: string[], b: string[]) => a[0]!.localeCompare(b[0]!));
    expect(located).toEqual(expectedFindings().map(([file, , , line, column]) => [file, line, column]));

    const outputs = [...filesUnder(work)];
    expect(outputs.some((f) => f.endsWith("report.md"))).toBe(true);
    for (const file of outputs) {
      const text = readFileSync(file).toString("latin1");
      expectNoValueIn(text, path.relative(work, file));
    }
  }, 120_000);

  it("a shallow clone is UNVERIFIED for its history: what was cut off cannot be said clean", async () => {
    const shallow = path.join(root, "shallow");
    execFileSync("git", ["clone", "-q", "--depth", "1", `file://${repo}`, shallow]);
    const { ctx } = makeCheckContext(
      {
        system: { name: "leaky", repo: "." },
        security: { scan: { exclude: ["generated/**"], maxFileSize: "64KB" } },
      },
      { specDir: shallow, checkId: check.meta.id },
    );
    const findings = check.judge(await check.observe(ctx), ctx.spec);
    const ids = findings.map((f) => [f.subject, f.status, f.messageId]);
    expect(ids).toContainEqual([".", "UNVERIFIED", "historyShallow"]);
    expect(ids).toContainEqual(["src/github.ts", "FAIL", "secretInFile"]);
    // The deleted secret is in commits the clone does not have.
    expect(findings.filter((f) => f.messageId === "secretInHistory")).toEqual([]);
  }, 60_000);

  it("gauntlet secrets prints masked findings, writes a baseline, and the baseline makes the check PASS", async () => {
    const spec = path.join(repo, "gauntlet.yaml");
    const io = memoryIO();
    expect(await secretsCommand({ spec }, io, { PATH: process.env.PATH })).toBe(1);
    const printed = [...io.stdout, ...io.stderr].join("\n");
    expectNoValueIn(printed, "gauntlet secrets output");
    const [line, column] = position("src/github.ts", secrets.github);
    expect(printed).toContain(`FAIL  src/github.ts:${line}:${column}  GitHub token ghp_…`);
    expect(printed).toContain(`in history only (commit ${firstCommit.slice(0, 12)}`);
    expect(printed).toContain("8 finding(s)");

    // Without a spec: the folder with the default settings (so the excluded and the large file are read too).
    const bare = memoryIO();
    expect(await secretsCommand({ spec: "gauntlet.yaml", repo }, bare, {})).toBe(1);
    expectNoValueIn([...bare.stdout, ...bare.stderr].join("\n"), "gauntlet secrets --repo output");
    expect(bare.stdout.join("\n")).toContain("10 finding(s)");

    // The built CLI, as a user runs it.
    const cli = await runCli(["secrets", "--spec", spec], { env: { PATH: process.env.PATH } });
    expect(cli.code).toBe(1);
    expectNoValueIn(cli.stdout + cli.stderr, "the CLI's output");
    expect(cli.stdout).toContain("src/github.ts");

    const baseline = path.join(repo, ".gauntlet-secrets-baseline.json");
    const writing = memoryIO();
    expect(await secretsCommand({ spec, writeBaseline: baseline }, writing, { PATH: process.env.PATH })).toBe(
      0,
    );
    expect(writing.stdout.join("\n")).toContain("wrote 8 accepted finding(s)");
    expect(writing.stdout.join("\n")).toContain("baseline: .gauntlet-secrets-baseline.json");
    const baselineText = readFileSync(baseline, "utf8");
    expectNoValueIn(baselineText, "the baseline");
    // One stale entry: a fingerprint nothing matches.
    const file = JSON.parse(baselineText);
    file.findings.push({ fingerprint: "0".repeat(32), ruleId: "gauntlet/jwt", path: "gone.ts" });
    writeFileSync(baseline, JSON.stringify(file, null, 2));

    const { ctx } = makeCheckContext(
      {
        system: { name: "leaky", repo: "." },
        security: {
          scan: {
            exclude: ["generated/**"],
            maxFileSize: "64KB",
            baseline: ".gauntlet-secrets-baseline.json",
          },
        },
      },
      { specDir: repo, checkId: check.meta.id },
    );
    const observation = await check.observe(ctx);
    const findings = check.judge(observation, ctx.spec);
    recordObservation(check.meta.id, "ok.baselined", observation, ctx.spec);
    expect(findings.map((f) => [f.subject, f.status, f.messageId])).toEqual([[".", "PASS", "clean"]]);
    expect(findings[0]!.data).toMatchObject({
      baselined: 8,
      staleBaseline: [{ fingerprint: "0".repeat(32) }],
    });
    expect(findings[0]!.message).toContain("8 finding(s) accepted by .gauntlet-secrets-baseline.json");
    expect(findings[0]!.message).toContain("1 baseline entry matches nothing any more: remove it");
    expect(findings[0]!.message).toContain(
      "not read: 1 file(s) over 64.0 KB (data/dump.txt), 1 binary file(s)",
    );
    const accepted = await secretsCommand({ spec }, memoryIO(), { PATH: process.env.PATH });
    // The spec does not name the baseline: without it, the findings are reported again.
    expect(accepted).toBe(1);
    rmSync(baseline);
  }, 120_000);
});
