// A stage cut into one segment per worker process. Unlike threads (runStage uses fewer when there are fewer
// connections), a distributed run uses exactly the workers asked for, or refuses: it never silently shrinks.
import { UserError } from "../../../errors.js";
import type { StagePlan } from "../loadLoop.js";
import { split } from "../stage.js";

export function segmentsOf(plan: StagePlan, workers: number): StagePlan[] {
  if (!Number.isInteger(workers) || workers < 1) {
    throw new UserError(`distributed load needs a whole number of workers above 0, not ${workers}`);
  }
  if (plan.rate === undefined) {
    if (plan.connections < workers) {
      throw new UserError(
        `stage ${plan.name} has ${plan.connections} connection${plan.connections === 1 ? "" : "s"} for ${workers} workers: each worker needs at least one; use at least ${workers} connections or fewer workers`,
      );
    }
    return split(plan, workers);
  }
  // Open model: the rate is the load, shared exactly; the pool only serves it, so every worker gets at least one
  // connection even when the pool is smaller than the number of workers.
  return split({ ...plan, connections: Math.max(plan.connections, workers) }, workers);
}
