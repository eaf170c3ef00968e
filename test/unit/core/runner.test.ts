import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EvidenceStore } from "../../../src/core/evidence.js";
import { planChecks } from "../../../src/core/planner.js";
import { RollbackLedger } from "../../../src/core/rollbacks.js";
import { type RunEvent, runPlan } from "../../../src/core/runner.js";
import {
  type Check,
  type CheckContext,
  defineCheck,
  type FindingInput,
  notApplicable,
} from "../../../src/core/types.js";
import { Redactor } from "../../../src/secrets/redactor.js";
import { specSchema } from "../../../src/spec/schema.js";

const spec = specSchema.parse({ version: 1, system: { name: "runner-test" } });

type FakeFinding = Omit<FindingInput, "messageId"> & { messageId?: string };

/** A check whose observation is its findings; those without a messageId get the fake's one declared one. */
function fakeCheck(
  id: string,
  run: (ctx: CheckContext) => Promise<FakeFinding[]>,
  extra: { destructive?: boolean; timeoutMs?: number; applies?: Check["applies"] } = {},
): Check {
  return defineCheck<FakeFinding[]>({
    meta: {
      id,
      category: "deployment",
      risk: "high",
      destructive: extra.destructive ?? false,
      title: id,
      objective: id,
      remediation: { effort: "low", text: "fix" },
      messages: { fake: "what the fake says" },
      ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}),
    },
    applies: extra.applies ?? (() => true),
    observe: run,
    judge: (findings) =>
      Array.isArray(findings) ? findings.map((f) => ({ messageId: "fake", ...f }) as FindingInput) : findings,
  });
}

// A verdict must cite evidence written in the run (the runner refuses it otherwise), so the fakes write some.
const passWith = async (ctx: CheckContext): Promise<FakeFinding[]> => [
  { status: "PASS", message: "ok", evidence: [await ctx.evidence.write("probe.json", "{}")] },
];
const pass = passWith;

async function run(
  checks: Check[],
  opts: { allowDestructive?: boolean; signal?: AbortSignal; only?: string[]; secrets?: Redactor } = {},
) {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-runner-"));
  const events: RunEvent[] = [];
  const ledger = new RollbackLedger();
  const plan = planChecks(checks, spec, {
    allowDestructive: opts.allowDestructive ?? false,
    ...(opts.only ? { only: opts.only } : {}),
  });
  const results = await runPlan({
    plan,
    spec,
    specPath: path.join(dir, "gauntlet.yaml"),
    evidence: new EvidenceStore(path.join(dir, "evidence"), opts.secrets ?? new Redactor()),
    ledger,
    allowDestructive: opts.allowDestructive ?? false,
    ...(opts.signal ? { signal: opts.signal } : {}),
    abortGraceMs: 500,
    onEvent: (e) => events.push(e),
  });
  return { results, events, byId: (id: string) => results.find((r) => r.checkId === id)! };
}

describe("runner", () => {
  it("a throwing check becomes ERROR for that check alone, with the stack as evidence", async () => {
    const { byId } = await run([
      fakeCheck("boom", async () => {
        throw new Error("kaboom");
      }),
      fakeCheck("fine", pass),
    ]);
    expect(byId("boom").status).toBe("ERROR");
    expect(byId("boom").findings[0]!.evidence?.[0]).toBe("boom/error.txt");
    expect(byId("fine").status).toBe("PASS");
  });

  it("a check that ignores its signal is cut off at its timeout as UNVERIFIED", async () => {
    const started = Date.now();
    const { byId } = await run([fakeCheck("hang", () => new Promise(() => {}), { timeoutMs: 300 })]);
    expect(byId("hang").status).toBe("UNVERIFIED");
    expect(byId("hang").reason).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("rollbacks run on success, on throw and on timeout, newest first", async () => {
    const order: string[] = [];
    const withRollbacks = (
      id: string,
      body: (ctx: CheckContext) => Promise<FakeFinding[]>,
      timeoutMs?: number,
    ) =>
      fakeCheck(
        id,
        async (ctx) => {
          ctx.rollbacks.add("first", () => {
            order.push(`${id}:first`);
          });
          ctx.rollbacks.add("second", () => {
            order.push(`${id}:second`);
          });
          return body(ctx);
        },
        timeoutMs ? { timeoutMs } : {},
      );
    await run([
      withRollbacks("ok", pass),
      withRollbacks("throws", async () => {
        throw new Error("x");
      }),
      withRollbacks("hangs", () => new Promise(() => {}), 200),
    ]);
    for (const id of ["ok", "throws", "hangs"]) {
      expect(order.filter((o) => o.startsWith(`${id}:`))).toEqual([`${id}:second`, `${id}:first`]);
    }
  });

  it("cancelling the run aborts running checks, runs their rollbacks and leaves the rest UNVERIFIED", async () => {
    const controller = new AbortController();
    let rolledBack = false;
    const blocker = fakeCheck(
      "blocker",
      async (ctx) => {
        ctx.rollbacks.add("undo fault", () => {
          rolledBack = true;
        });
        setTimeout(() => controller.abort(), 50);
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        return [{ status: "PASS", message: "should not count" }];
      },
      { destructive: true },
    );
    const later = fakeCheck("later", pass, { destructive: true });
    const { byId } = await run([blocker, later], { allowDestructive: true, signal: controller.signal });
    expect(rolledBack).toBe(true);
    expect(byId("blocker").status).toBe("UNVERIFIED");
    expect(byId("later").status).toBe("UNVERIFIED");
  });

  it("a fault injected after the timeout is still undone, and late evidence is refused", async () => {
    let undone = false;
    let lateWrite: unknown;
    const late = fakeCheck(
      "late",
      async (ctx) => {
        await new Promise((r) => setTimeout(r, 900)); // ignores its signal, outlives timeout + grace
        ctx.rollbacks.add("undo late fault", () => {
          undone = true;
        });
        lateWrite = await ctx.evidence.write("late.json", "{}").catch((error: Error) => error);
        return [{ status: "PASS", message: "too late" }];
      },
      { timeoutMs: 200 },
    );
    const { byId } = await run([late]);
    expect(byId("late").status).toBe("UNVERIFIED");
    await new Promise((r) => setTimeout(r, 600));
    expect(undone).toBe(true);
    expect(lateWrite).toBeInstanceOf(Error);
  });

  it("a failing rollback is reported as ERROR", async () => {
    const { byId } = await run([
      fakeCheck("badundo", async (ctx) => {
        ctx.rollbacks.add("restore", () => {
          throw new Error("could not restore");
        });
        return passWith(ctx);
      }),
    ]);
    expect(byId("badundo").status).toBe("ERROR");
    expect(byId("badundo").findings.some((f) => f.message.includes("could not restore"))).toBe(true);
  });

  it("destructive checks are UNVERIFIED without consent and run last, one at a time, with it", async () => {
    const timeline: string[] = [];
    const track =
      (id: string, ms: number) =>
      async (ctx: CheckContext): Promise<FakeFinding[]> => {
        timeline.push(`${id}+`);
        await new Promise((r) => setTimeout(r, ms));
        timeline.push(`${id}-`);
        return passWith(ctx);
      };
    const checks = [
      fakeCheck("d1", track("d1", 30), { destructive: true }),
      fakeCheck("d2", track("d2", 10), { destructive: true }),
      fakeCheck("s1", track("s1", 30)),
      fakeCheck("s2", track("s2", 30)),
    ];
    const without = await run(checks);
    // Applies but not allowed: not run, so UNVERIFIED (scores zero), never N/A (which would leave the average).
    expect(without.byId("d1").status).toBe("UNVERIFIED");
    expect(without.byId("d1").findings[0]!.toVerify).toMatch(/allow-destructive/);

    timeline.length = 0;
    await run(checks, { allowDestructive: true });
    // s1 and s2 overlap (concurrent); d1 and d2 run after both, strictly one after the other.
    expect(timeline.slice(0, 2).sort()).toEqual(["s1+", "s2+"]);
    expect(timeline.slice(4)).toEqual(["d1+", "d1-", "d2+", "d2-"]);
  });

  it("N/A carries the applies() reason; --only leaves the others UNVERIFIED, not passed", async () => {
    const { byId } = await run(
      [
        fakeCheck("na", pass, { applies: () => notApplicable("no services") }),
        fakeCheck("a", pass),
        fakeCheck("b", pass),
      ],
      { only: ["a"] },
    );
    expect(byId("na")).toMatchObject({ status: "NA", reason: "no services" });
    expect(byId("a").status).toBe("PASS");
    expect(byId("b").status).toBe("UNVERIFIED");
  });

  it("a verdict without evidence, or citing evidence never written, is an ERROR", async () => {
    const { byId } = await run([
      fakeCheck("bare", async () => [{ status: "FAIL", message: "trust me" }]),
      fakeCheck("phantom", async () => [
        { status: "PASS", message: "ok", evidence: ["phantom/made-up.json"] },
      ]),
      fakeCheck("unverified", async () => [
        { status: "UNVERIFIED", message: "tool missing", toVerify: "install it" },
      ]),
    ]);
    expect(byId("bare").status).toBe("ERROR");
    expect(byId("phantom").status).toBe("ERROR");
    expect(byId("unverified").status).toBe("UNVERIFIED");
  });

  it("an empty or invalid result is an ERROR, and secrets in findings are redacted", async () => {
    const secrets = new Redactor();
    secrets.add("hunter2-secret-value");
    const { byId } = await run(
      [
        fakeCheck("empty", async () => []),
        fakeCheck("leaky", async () => [
          { status: "FAIL", message: "password hunter2-secret-value rejected" },
        ]),
      ],
      { secrets },
    );
    expect(byId("empty").status).toBe("ERROR");
    expect(byId("leaky").findings[0]!.message).not.toContain("hunter2-secret-value");
  });

  it("a finding whose messageId the check does not declare is an ERROR, not believed", async () => {
    const { byId } = await run([
      fakeCheck("undeclared", async (ctx) => [{ ...(await passWith(ctx))[0]!, messageId: "madeUp" }]),
      fakeCheck("declared", async (ctx) => [{ ...(await passWith(ctx))[0]!, messageId: "fake" }]),
    ]);
    expect(byId("undeclared").status).toBe("ERROR");
    expect(byId("undeclared").findings[0]!.message).toMatch(/messageId "madeUp"/);
    expect(byId("declared").status).toBe("PASS");
  });

  it("emits start and end events for progress", async () => {
    const { events } = await run([fakeCheck("a", pass)]);
    expect(events.map((e) => e.type)).toEqual(["start", "end"]);
  });
});
