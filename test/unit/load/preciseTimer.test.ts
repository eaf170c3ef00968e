import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { PreciseTimer } from "../../../src/engines/load/preciseTimer.js";

const now = () => performance.timeOrigin + performance.now();
const timers: PreciseTimer[] = [];
afterEach(() => {
  for (const t of timers.splice(0)) t.close();
});

function timer(onFire: () => void): Promise<PreciseTimer> {
  return new Promise((resolve) => {
    const t = new PreciseTimer(onFire, () => resolve(t));
    timers.push(t);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("PreciseTimer", () => {
  it("fires once per set, never before the time it was given, in order", async () => {
    const fired: number[] = [];
    let dueAt = 0;
    let resolveFire: () => void = () => {};
    const t = await timer(() => {
      fired.push(now() - dueAt);
      resolveFire();
    });
    for (const delay of [0.3, 2.5, 0.05, 7]) {
      const done = new Promise<void>((r) => {
        resolveFire = r;
      });
      dueAt = now() + delay;
      t.set(dueAt);
      await done;
    }
    expect(fired).toHaveLength(4);
    for (const early of fired) expect(early).toBeGreaterThanOrEqual(0);
  });

  it("a new set replaces the pending one, and cancel or close stops it firing", async () => {
    let count = 0;
    const t = await timer(() => {
      count++;
    });
    t.set(now() + 200);
    t.set(now() + 5);
    await sleep(300);
    expect(count).toBe(1);
    t.set(now() + 20);
    t.cancel();
    await sleep(80);
    expect(count).toBe(1);
    t.set(now() + 20);
    t.close();
    await sleep(80);
    expect(count).toBe(1);
  });
});
