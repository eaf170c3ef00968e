// The SRE workbook's multiwindow, multi-burn-rate alerts ("Alerting on SLOs", table 5-8): page when 2 % of the error
// budget is spent in 1 h or 5 % in 6 h, open a ticket when 10 % is spent in 3 d; each long window is paired with a short
// one of 1/12 its length so the alert resets soon after the burn stops. The workbook's factors (14.4, 6, 1) are for a
// 30-day SLO: factor = budget share × SLO window / long window, so they scale with each SLO's own window.

export type Severity = "page" | "ticket";

export interface BurnWindow {
  severity: Severity;
  /** The share of the whole error budget an alert of this pair stands for, 0–1 (0.02 = 2 %). */
  budgetShare: number;
  longMs: number;
  shortMs: number;
  /** How many times faster than "exactly spent at the end of the window" the budget burns. */
  factor: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The workbook's recommended table: budget share consumed over the long window, and who is told. */
export const WORKBOOK_PAIRS: readonly { severity: Severity; budgetShare: number; longMs: number }[] = [
  { severity: "page", budgetShare: 0.02, longMs: HOUR },
  { severity: "page", budgetShare: 0.05, longMs: 6 * HOUR },
  { severity: "ticket", budgetShare: 0.1, longMs: 3 * DAY },
];

/**
 * Long windows a hand-written alert may use, with the budget share that makes its factor right: the workbook's, and
 * Sloth's extra (1 d, 2 h) ticket pair at 10 %, which is common in the wild.
 */
export const KNOWN_LONG_WINDOWS: readonly { severity: Severity; budgetShare: number; longMs: number }[] = [
  ...WORKBOOK_PAIRS,
  { severity: "ticket", budgetShare: 0.1, longMs: DAY },
];

/** The short window of a pair: 1/12 of the long one (1 h → 5 m, 6 h → 30 m, 3 d → 6 h). */
export function shortWindowMs(longMs: number): number {
  return Math.round(longMs / 12);
}

/** budget share × SLO window / long window: 0.02 × 30 d / 1 h = 14.4. */
export function burnFactor(budgetShare: number, sloWindowMs: number, longMs: number): number {
  return (budgetShare * sloWindowMs) / longMs;
}

/**
 * The workbook's pairs scaled to an SLO window. A pair whose long window is not shorter than the SLO window is left
 * out: it would watch more time than the budget covers.
 */
export function burnWindows(sloWindowMs: number): BurnWindow[] {
  return WORKBOOK_PAIRS.filter((p) => p.longMs < sloWindowMs).map((p) => ({
    severity: p.severity,
    budgetShare: p.budgetShare,
    longMs: p.longMs,
    shortMs: shortWindowMs(p.longMs),
    factor: burnFactor(p.budgetShare, sloWindowMs, p.longMs),
  }));
}

/** The share of events an objective in percent (99.9) allows to fail, 0–1, without the float's last digit (0.001). */
export function errorBudgetRatio(objectivePercent: number): number {
  return Number(((100 - objectivePercent) / 100).toPrecision(12));
}

/** A number as rules print it: at most 6 significant digits (0.933333), no float noise (14.4, not 14.399999). */
export function ruleNumber(value: number): string {
  return String(Number(value.toPrecision(6)));
}
