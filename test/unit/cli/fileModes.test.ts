// What a run writes can hold sensitive data (issue "Hardening Gauntlet itself", item 5): .gauntlet/, the run folder
// and evidence/ are 0700, every file in them and history.db 0600 — under the usual umask 022, in --out copies too —
// unless GAUNTLET_UMASK explicitly asks for more. A private key others can read is refused without
// --insecure-key-permissions.
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { assess } from "../../../src/assess/assess.js";
import { generateKeyPair } from "../../../src/attest/keys.js";
import { registerAssess } from "../../../src/cli/assess.js";
import { memoryIO, UserError } from "../../../src/cli/io.js";
import { reportCommand } from "../../../src/cli/report.js";
import { type Check, defineCheck, type FindingInput } from "../../../src/core/types.js";
import { openStore } from "../../../src/store/store.js";

const posix = process.platform !== "win32";
const modeOf = (file: string) => statSync(file).mode & 0o777;

let previousUmask = 0;
const dirs: string[] = [];
beforeEach(() => {
  // The usual default, which made everything 0755/0644 before.
  previousUmask = process.umask(0o022);
});
afterEach(() => {
  process.umask(previousUmask);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function system(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-modes-"));
  dirs.push(dir);
  writeFileSync(path.join(dir, "gauntlet.yaml"), "version: 1\nsystem: { name: modes }\n");
  return dir;
}

/** A check that writes one evidence file, in a folder of its own. */
const writesEvidence: Check = defineCheck<FindingInput[]>({
  meta: {
    id: "writesEvidence",
    category: "deployment",
    risk: "low",
    destructive: false,
    title: "writesEvidence",
    objective: "writesEvidence",
    remediation: { effort: "low", text: "fix" },
    messages: { ok: "ok" },
  },
  applies: () => true,
  observe: async (ctx) => [
    {
      status: "PASS",
      messageId: "ok",
      message: "ok",
      evidence: [await ctx.evidence.write("probe.json", '{"token":"sensitive"}\n')],
    },
  ],
  judge: (findings) => findings,
});

/** Every folder and file below root (root included), relative, with its mode. */
function modesBelow(root: string): Record<string, number> {
  const modes: Record<string, number> = { ".": modeOf(root) };
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const absolute = path.join(entry.parentPath, entry.name);
    modes[path.relative(root, absolute)] = modeOf(absolute);
  }
  return modes;
}

function expectPrivate(modes: Record<string, number>, dir: number, file: number, root: string): void {
  for (const [name, mode] of Object.entries(modes)) {
    const expected = statSync(path.join(root, name)).isDirectory() ? dir : file;
    expect(`${name} ${mode.toString(8)}`).toBe(`${name} ${expected.toString(8)}`);
  }
}

describe("output file modes", () => {
  it("a run's folders are 0700 and its files 0600, in .gauntlet/ and in the --out copy", async () => {
    if (!posix) return;
    const dir = system();
    const keys = await generateKeyPair(path.join(dir, "keys"));
    const outcome = await assess({
      specPath: path.join(dir, "gauntlet.yaml"),
      cwd: dir,
      checks: [writesEvidence],
      keyPath: keys.privateKeyPath,
      outDir: "out",
      env: {},
    });
    const gauntlet = path.join(dir, ".gauntlet");
    expect(modeOf(gauntlet)).toBe(0o700);
    expect(modeOf(path.join(gauntlet, "runs"))).toBe(0o700);
    expect(modeOf(path.join(gauntlet, "history.db"))).toBe(0o600);
    const run = modesBelow(outcome.runDir);
    expect(Object.keys(run)).toEqual(
      expect.arrayContaining([
        "certificate.dsse.json",
        "report.md",
        "report.json",
        "evidence",
        path.join("evidence", "manifest.json"),
        path.join("evidence", "writesEvidence"),
        path.join("evidence", "writesEvidence", "probe.json"),
      ]),
    );
    expectPrivate(run, 0o700, 0o600, outcome.runDir);
    expectPrivate(modesBelow(outcome.outDir), 0o700, 0o600, outcome.outDir);
  });

  it("history.db and its -wal and -shm files are 0600 while the store is open", async () => {
    if (!posix) return;
    const dir = system();
    const file = path.join(dir, "nested", "history.db");
    const store = await openStore(file, { cwd: dir });
    try {
      await store.list();
      expect(modeOf(path.dirname(file))).toBe(0o700);
      for (const name of ["history.db", "history.db-wal", "history.db-shm"]) {
        expect(existsSync(path.join(dir, "nested", name)), name).toBe(true);
        expect(`${name} ${modeOf(path.join(dir, "nested", name)).toString(8)}`).toBe(`${name} 600`);
      }
    } finally {
      await store.close();
    }
  });

  it("GAUNTLET_UMASK=027 lets the group read, and the process umask still narrows it", async () => {
    if (!posix) return;
    const dir = system();
    const outcome = await assess({
      specPath: path.join(dir, "gauntlet.yaml"),
      cwd: dir,
      checks: [writesEvidence],
      env: { GAUNTLET_UMASK: "027" },
    });
    expect(modeOf(path.join(dir, ".gauntlet"))).toBe(0o750);
    expect(modeOf(path.join(dir, ".gauntlet", "history.db"))).toBe(0o640);
    expectPrivate(modesBelow(outcome.runDir), 0o750, 0o640, outcome.runDir);

    process.umask(0o077);
    const strict = system();
    const narrowed = await assess({
      specPath: path.join(strict, "gauntlet.yaml"),
      cwd: strict,
      checks: [writesEvidence],
      env: { GAUNTLET_UMASK: "022" },
    });
    expectPrivate(modesBelow(narrowed.runDir), 0o700, 0o600, narrowed.runDir);
  });

  it("refuses a GAUNTLET_UMASK that is not an octal umask, before anything runs", async () => {
    const dir = system();
    for (const value of ["abc", "0999", "700"]) {
      const error = await assess({
        specPath: path.join(dir, "gauntlet.yaml"),
        cwd: dir,
        checks: [writesEvidence],
        env: { GAUNTLET_UMASK: value },
      }).catch((e: unknown) => e);
      expect(error, value).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(/GAUNTLET_UMASK/);
    }
    expect(existsSync(path.join(dir, ".gauntlet"))).toBe(false);
  });

  it("gauntlet report --output writes a 0600 file", async () => {
    if (!posix) return;
    const dir = system();
    await assess({ specPath: path.join(dir, "gauntlet.yaml"), cwd: dir, checks: [], env: {} });
    const output = path.join(dir, "again.md");
    expect(await reportCommand("latest", { cwd: dir, output }, memoryIO())).toBe(0);
    expect(modeOf(output)).toBe(0o600);
  });
});

describe("a private key others can read", () => {
  it("is refused before the run, naming chmod and --insecure-key-permissions", async () => {
    if (!posix) return;
    const dir = system();
    const keys = await generateKeyPair(path.join(dir, "keys"));
    chmodSync(keys.privateKeyPath, 0o644);
    const error = await assess({
      specPath: path.join(dir, "gauntlet.yaml"),
      cwd: dir,
      checks: [writesEvidence],
      keyPath: keys.privateKeyPath,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(
      /readable by group or others \(mode 0644\).*chmod 600 .*--insecure-key-permissions/,
    );
    expect(existsSync(path.join(dir, ".gauntlet"))).toBe(false);
  });

  it("signs with --insecure-key-permissions, and warns", async () => {
    if (!posix) return;
    const dir = system();
    const keys = await generateKeyPair(path.join(dir, "keys"));
    chmodSync(keys.privateKeyPath, 0o640);
    const messages: string[] = [];
    await assess({
      specPath: path.join(dir, "gauntlet.yaml"),
      cwd: dir,
      checks: [writesEvidence],
      keyPath: keys.privateKeyPath,
      insecureKeyPermissions: true,
      onEvent: (e) => {
        if (e.type === "system") messages.push(e.message);
      },
    });
    expect(messages.join("\n")).toMatch(/warning: private key .* readable by group or others \(mode 0640\)/);

    // The flag, through the command line (--only keeps the run to one quick check).
    const codes: number[] = [];
    const program = new Command().exitOverride();
    registerAssess(program, memoryIO(), (code) => codes.push(code));
    const out = path.join(dir, "cli-out");
    await program.parseAsync(
      [
        "assess",
        path.join(dir, "gauntlet.yaml"),
        "--key",
        keys.privateKeyPath,
        "--insecure-key-permissions",
        "--only",
        "requiredEnvPresent",
        "--no-store",
        "--out",
        out,
      ],
      { from: "user" },
    );
    expect(codes).toHaveLength(1);
    const envelope = JSON.parse(readFileSync(path.join(out, "certificate.dsse.json"), "utf8"));
    expect(envelope.signatures).toHaveLength(1);
  });
});
