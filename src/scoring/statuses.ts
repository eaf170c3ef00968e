// Status arithmetic shared by scoring, reporters and diff: values and risk weights (which status wins is core's).
import type { Effort, Risk, Status } from "../core/types.js";

export const RISK_WEIGHT: Record<Risk, number> = { critical: 10, high: 7.5, medium: 5, low: 2.5 };

/** DESIGN.md: PASS 1, WARN 0.5, FAIL/UNVERIFIED/ERROR 0; NA leaves the average (null). */
export const STATUS_VALUE: Record<Status, number | null> = {
  PASS: 1,
  WARN: 0.5,
  FAIL: 0,
  UNVERIFIED: 0,
  ERROR: 0,
  NA: null,
};

export { isUnverified, isVerified, worstStatus } from "../core/status.js";

export const RISK_ORDER: Record<Risk, number> = { critical: 0, high: 1, medium: 2, low: 3 };
export const EFFORT_ORDER: Record<Effort, number> = { low: 0, medium: 1, high: 2 };

export function emptyCounts(): Record<Status, number> {
  return { PASS: 0, WARN: 0, FAIL: 0, UNVERIFIED: 0, ERROR: 0, NA: 0 };
}
