// Done-when of "Redaction that can be dodged" (issue "Hardening Gauntlet itself"): a supervised service that prints
// its secret in every encoding (raw, URL, JSON, hex both cases, base64 both alphabets with and without padding, inside
// longer base64 blobs at every alignment, basic auth of user:secret), split across writes and UTF-8 characters, on
// both streams, in a line longer than 64 KiB and past the 256 KiB window, assessed end to end by assess(): no file
// under .gauntlet/ or the output folder holds any of those forms, nor any 8-character piece of the secret.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { assess } from "../../../src/assess/assess.js";
import { printings } from "../../fixtures/services/leakyForms.mjs";
import { freePort } from "../../support/ports.js";

const SERVICE = path.resolve(import.meta.dirname, "../../fixtures/services/leakyService.mjs");
const USER = "leaky";
// Non-ASCII in the middle, so a chunk can end inside a character; no character a URL would need escaped.
const SECRET = `${randomBytes(9).toString("base64url")}-pä€ss-${randomBytes(6).toString("hex")}`;

let dir: string;
let outcome: Awaited<ReturnType<typeof assess>>;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "gauntlet-leaky-"));
  const port = await freePort();
  const spec = {
    version: 1,
    system: { name: "leaky", version: "1.0.0", owner: "test" },
    services: {
      api: {
        url: `http://127.0.0.1:${port}`,
        health: "/healthz",
        control: {
          process: {
            command: `node ${JSON.stringify(SERVICE)}`,
            env: {
              PORT: String(port),
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${…} reference, interpolated by the loader.
              LEAKY_SECRET: "${SECRET}",
              LEAKY_USER: USER,
              DATABASE_URL: `postgres://${USER}:\${SECRET}@127.0.0.1:1/app`,
            },
          },
        },
      },
    },
  };
  const specPath = path.join(dir, "gauntlet.yaml");
  writeFileSync(specPath, stringify(spec));
  outcome = await assess({
    specPath,
    cwd: dir,
    outDir: path.join(dir, "out"),
    only: ["healthEndpointsRespond"],
    env: { PATH: process.env.PATH, SECRET },
  });
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** Every string that must appear nowhere: each printed form, and every 8-character piece of the secret's forms. */
function forbidden(): string[] {
  const raw = Buffer.from(SECRET);
  const whole = [SECRET, raw.toString("hex"), raw.toString("hex").toUpperCase(), raw.toString("base64")];
  const pieces = whole.flatMap((form) =>
    Array.from({ length: form.length - 7 }, (_, i) => form.slice(i, i + 8)),
  );
  return [...new Set([...printings(SECRET, USER).flatMap((p) => p.forms), ...pieces])];
}

describe("a supervised service that leaks its secret in every encoding", () => {
  it("ran, and its output was kept as evidence", () => {
    const log = readFileSync(path.join(outcome.outDir, "evidence", "_system", "api.log"), "utf8");
    const health = outcome.assessment.checks.find((c) => c.checkId === "healthEndpointsRespond")!;
    expect(health.findings.map((f) => [f.subject, f.status])).toEqual([["api", "PASS"]]);
    // The window dropped the start (whole lines only, and says so) and kept the end, redacted.
    expect(log).toMatch(/^\[gauntlet\] \d+ bytes of earlier output dropped/);
    expect(log).toContain("late basic auth: Authorization: Basic [REDACTED]");
    expect(log).toContain("stopping, secret was [REDACTED]");
    for (const line of log.split("\n").slice(1, -1)) {
      expect(line).toMatch(/^(filler \d+ |late |long |listening|err |out |stopping|\[gauntlet\])/);
    }
  });

  it("leaves none of the forms, nor any 8-character piece of the secret, in any file of .gauntlet/ or --out", () => {
    const files = [...filesUnder(path.join(dir, ".gauntlet")), ...filesUnder(path.join(dir, "out"))];
    expect(files.some((f) => f.endsWith("history.db"))).toBe(true);
    expect(files.some((f) => f.endsWith(path.join("_system", "api.log")))).toBe(true);
    const leaks: string[] = [];
    const needles = forbidden().map((text) => ({ text, bytes: Buffer.from(text, "utf8") }));
    for (const file of files) {
      const content = readFileSync(file);
      for (const needle of needles) {
        if (content.includes(needle.bytes)) leaks.push(`${path.relative(dir, file)}: ${needle.text}`);
      }
    }
    expect(leaks).toEqual([]);
    expect(needles.length).toBeGreaterThan(100);
  });
});
