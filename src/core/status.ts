// Which status wins when a check has several findings, and which statuses count as verified. Shared by the runner
// (a check's status), scoring, reporters and diff.
import type { Status } from "./types.js";

// FAIL outranks ERROR/UNVERIFIED because it is a measured problem.
const SEVERITY: Record<Status, number> = { FAIL: 5, ERROR: 4, UNVERIFIED: 3, WARN: 2, PASS: 1, NA: 0 };

export function worstStatus(statuses: Iterable<Status>): Status {
  let worst: Status = "NA";
  for (const status of statuses) if (SEVERITY[status] > SEVERITY[worst]) worst = status;
  return worst;
}

/** Verified = a probe ran and judged: PASS, WARN or FAIL. */
export function isVerified(status: Status): boolean {
  return status === "PASS" || status === "WARN" || status === "FAIL";
}

export function isUnverified(status: Status): boolean {
  return status === "UNVERIFIED" || status === "ERROR";
}
