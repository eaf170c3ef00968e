// The workbook's factors ("Alerting on SLOs", table 5-8) for the 30-day window it was written for, and scaled to 28 days.
import { describe, expect, it } from "vitest";
import {
  burnFactor,
  burnWindows,
  errorBudgetRatio,
  shortWindowMs,
} from "../../../../src/engines/slo/burnRate.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const pairs = (windowMs: number) =>
  burnWindows(windowMs).map((w) => [w.severity, w.longMs, w.shortMs, Number(w.factor.toFixed(6))]);

describe("burn-rate windows", () => {
  it("are the workbook's 14.4×, 6× and 1× for a 30-day SLO", () => {
    expect(pairs(30 * DAY)).toEqual([
      ["page", HOUR, 5 * 60_000, 14.4],
      ["page", 6 * HOUR, 30 * 60_000, 6],
      ["ticket", 3 * DAY, 6 * HOUR, 1],
    ]);
  });

  it("scale to 13.44×, 5.6× and 0.9333× for a 28-day SLO (same budget shares: 2 %, 5 %, 10 %)", () => {
    expect(pairs(28 * DAY)).toEqual([
      ["page", HOUR, 5 * 60_000, 13.44],
      ["page", 6 * HOUR, 30 * 60_000, 5.6],
      ["ticket", 3 * DAY, 6 * HOUR, 0.933333],
    ]);
    expect(burnFactor(0.1, 28 * DAY, 3 * DAY)).toBeCloseTo(28 / 30, 12);
  });

  it("leave out a pair whose long window is not shorter than the SLO window", () => {
    expect(burnWindows(3 * DAY).map((w) => w.longMs)).toEqual([HOUR, 6 * HOUR]);
  });

  it("pair each long window with one of 1/12 its length", () => {
    expect(shortWindowMs(HOUR)).toBe(5 * 60_000);
    expect(shortWindowMs(3 * DAY)).toBe(6 * HOUR);
  });

  it("read the budget of an objective without float noise", () => {
    expect(errorBudgetRatio(99.9)).toBe(0.001);
    expect(errorBudgetRatio(99.95)).toBe(0.0005);
  });
});
