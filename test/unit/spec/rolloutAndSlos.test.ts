// The spec keys #13 adds: slos[].sli in its two forms, and the rollout section. Problems are located and say the fix.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpec } from "../../../src/spec/loader.js";
import { type Problem, SpecError } from "../../../src/spec/problems.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gauntlet-spec-rollout-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SERVICES = `version: 1
system: { name: shop }
services:
  entry: { url: "http://127.0.0.1:8080" }
  stable: { url: "http://127.0.0.1:8081" }
  canary: { url: "http://127.0.0.1:8082" }
`;

async function load(body: string) {
  const file = join(dir, `spec-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, SERVICES + body);
  return loadSpec(file, { env: {} });
}

async function problems(body: string): Promise<Problem[]> {
  const error = await load(body).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SpecError);
  return (error as SpecError).problems;
}

describe("slos[].sli", () => {
  it("takes a ratio of errors and total, and a histogram with the SLO's latency as its threshold", async () => {
    const { spec } = await load(`slos:
  - name: availability
    service: entry
    objective: 99.9%
    window: 30d
    mttr: 5m
    minTraffic: 1/s
    sli: { errors: 'sum(rate(x{code=~"5.."}[{{window}}]))', total: 'sum(rate(x[{{window}}]))' }
  - { name: latency, service: entry, objective: 99%, window: 28d, latency: 300ms, sli: { histogram: 'h{job="a"}' } }
`);
    expect(spec.slos?.[0]).toMatchObject({ mttr: 300_000, minTraffic: 1, window: 30 * 86_400_000 });
    expect(spec.slos?.[1]?.sli).toEqual({ histogram: 'h{job="a"}' });
  });

  it("refuses half a ratio, both forms at once, and a histogram without a threshold", async () => {
    const found = await problems(`slos:
  - { name: a, service: entry, objective: 99%, window: 30d, sli: { errors: "e" } }
  - { name: b, service: entry, objective: 99%, window: 30d, sli: { errors: "e", total: "t", histogram: "h" } }
  - { name: c, service: entry, objective: 99%, window: 30d, sli: { histogram: "h" } }
  - { name: c, service: entry, objective: 99%, window: 30d }
`);
    const text = found.map((p) => `${p.line} ${p.message}`).join("\n");
    expect(found).toHaveLength(4);
    expect(text).toMatch(/^8 .*needs both errors and total/m);
    expect(text).toMatch(/^9 .*either errors \+ total or a histogram/m);
    expect(text).toMatch(/^10 .*needs the latency that counts as good/m);
    expect(text).toMatch(/^11 .*two SLOs are named "c"/m);
  });
});

describe("rollout", () => {
  it("fills the defaults: steps, bake, one failed analysis aborts, 50 samples a side at least", async () => {
    const { spec } =
      await load(`rollout: { service: entry, baseline: stable, canary: canary, shift: "./shift.sh {{percent}}" }
`);
    expect(spec.rollout).toMatchObject({
      steps: [5, 25, 75, 100],
      bake: 120_000,
      analysis: { rate: 50, sampleRate: 20, minSamples: 50, failureLimit: 1, alpha: 0.05 },
    });
  });

  it("refuses unknown services, the same baseline and canary, falling steps, bad thresholds and a rehearsal without undo", async () => {
    const found = await problems(`rollout:
  service: entry
  baseline: canary
  canary: canray
  shift: "./shift.sh {{percent}}"
  steps: [25, 5]
  rollbackOn: ["p99>300ms"]
  rehearsal: { command: "./slow.sh" }
`);
    const text = found.map((p) => `${p.line} ${p.message}`).join("\n");
    expect(text).toMatch(/^10 .*no service named "canray"/m);
    expect(text).toMatch(/^12 .*steps must rise/m);
    expect(text).toMatch(/^13 .*not understood/m);
    expect(text).toMatch(/^14 .*needs an undo command/m);
  });
});
