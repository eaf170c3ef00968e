// Planning: which checks run, which are N/A and why. A check that applies but is not run — left out by --only/--skip,
// or destructive without consent — is UNVERIFIED ("not run"), so a partial run cannot look like a clean one.
import type { Spec } from "../spec/schema.js";
import type { Check } from "./types.js";

export type PlanEntry =
  | { check: Check; action: "run" }
  | { check: Check; action: "na"; reason: string }
  | { check: Check; action: "excluded"; reason: string; toVerify: string }
  | { check: Check; action: "error"; reason: string };

export interface PlanOptions {
  allowDestructive: boolean;
  only?: string[];
  skip?: string[];
}

export function planChecks(checks: Check[], spec: Spec, options: PlanOptions): PlanEntry[] {
  const only = options.only?.length ? new Set(options.only) : null;
  const skip = new Set(options.skip ?? []);
  const entries = checks.map((check): PlanEntry => {
    let applies: ReturnType<Check["applies"]>;
    try {
      applies = check.applies(spec, { allowDestructive: options.allowDestructive });
    } catch (error) {
      // A bug in applies() must not hide the check as N/A: it becomes ERROR and counts as unverified.
      return {
        check,
        action: "error",
        reason: `applies() failed: ${error instanceof Error ? error.message : error}`,
      };
    }
    if (applies !== true) return { check, action: "na", reason: applies.reason };
    if (check.meta.destructive && !options.allowDestructive) {
      // It applies but was not run: UNVERIFIED, never N/A, or a system would certify without a single fault test.
      return {
        check,
        action: "excluded",
        reason: "not run: destructive (it loads, faults or deploys the system) and not allowed for this run",
        toVerify: "allow destructive checks: `destructive: true` in the spec or --allow-destructive",
      };
    }
    if (only && !only.has(check.meta.id)) {
      return {
        check,
        action: "excluded",
        reason: "not run: left out by --only",
        toVerify: "run it (add it to --only)",
      };
    }
    if (skip.has(check.meta.id)) {
      return {
        check,
        action: "excluded",
        reason: "not run: left out by --skip",
        toVerify: "run it (drop it from --skip)",
      };
    }
    return { check, action: "run" };
  });
  // Non-destructive first (they may run concurrently), destructive last and one at a time.
  return [
    ...entries.filter((e) => !e.check.meta.destructive),
    ...entries.filter((e) => e.check.meta.destructive),
  ];
}
