// Reading a journal for whether any probe noticed the fault: a failure, an answer that differs from a stable
// baseline, or a big slowdown counts; a probe whose answers always change (a counter in the body) is not read by its
// answer; an added-latency fault needs the median to rise.
import { describe, expect, it } from "vitest";
import { probesThatNoticed } from "../../../src/checks/resilience/experiments/answers.js";
import type { JournalEntry, Phase } from "../../../src/engines/experiments/journal.js";

let t = 0;
function probe(phase: Phase, name: string, ok: boolean, answer: string, latencyMs = 2): JournalEntry {
  t += 200;
  return {
    t,
    at: "2026-12-01T00:00:00.000Z",
    phase,
    kind: "probe",
    name,
    ok,
    answer,
    latencyMs,
    detail: answer,
  };
}

const baseline = (name: string, answer = "HTTP 200 #a") => [
  probe("before", name, true, answer),
  probe("baseline", name, true, answer),
  probe("baseline", name, true, answer),
];

describe("probesThatNoticed", () => {
  it("nothing when every answer during the fault is the baseline's", () => {
    const journal = [
      ...baseline("api health"),
      probe("during", "api health", true, "HTTP 200 #a"),
      probe("after", "api health", true, "HTTP 200 #a"),
    ];
    expect(probesThatNoticed(journal)).toEqual([]);
  });

  it("a failure during the fault, or in the restart gap right after it", () => {
    const during = [...baseline("a"), probe("during", "a", false, "refused")];
    expect(probesThatNoticed(during)).toEqual([{ probe: "a", how: "during the fault: refused" }]);
    const after = [
      ...baseline("b"),
      probe("during", "b", true, "HTTP 200 #a"),
      probe("after", "b", false, "HTTP 503 #x"),
    ];
    expect(probesThatNoticed(after)[0]).toMatchObject({
      probe: "b",
      how: expect.stringMatching(/right after/),
    });
  });

  it("a changed answer counts only when the baseline was stable", () => {
    const degraded = [...baseline("items"), probe("during", "items", true, "HTTP 200 #degraded")];
    expect(probesThatNoticed(degraded)).toEqual([
      { probe: "items", how: "answered HTTP 200 #degraded instead of HTTP 200 #a" },
    ]);
    const counter = [
      probe("baseline", "hits", true, "HTTP 200 #1"),
      probe("baseline", "hits", true, "HTTP 200 #2"),
      probe("during", "hits", true, "HTTP 200 #3"),
    ];
    expect(probesThatNoticed(counter)).toEqual([]);
  });

  it("a slowdown far beyond the baseline (a frozen dependency)", () => {
    const frozen = [...baseline("a"), probe("during", "a", true, "HTTP 200 #a", 1_480)];
    expect(probesThatNoticed(frozen)[0]?.how).toMatch(/took 1480 ms/);
    const jitter = [...baseline("a"), probe("during", "a", true, "HTTP 200 #a", 9)];
    expect(probesThatNoticed(jitter)).toEqual([]);
  });

  it("for added latency, the median must rise by the asked shift", () => {
    const slower = [
      ...baseline("a"),
      ...[210, 205, 199].map((ms) => probe("during", "a", true, "HTTP 200 #a", ms)),
    ];
    expect(probesThatNoticed(slower, { latencyShiftMs: 100 })).toHaveLength(1);
    const untouched = [
      ...baseline("a"),
      ...[3, 2, 4].map((ms) => probe("during", "a", true, "HTTP 200 #a", ms)),
    ];
    expect(probesThatNoticed(untouched, { latencyShiftMs: 100 })).toEqual([]);
  });
});
