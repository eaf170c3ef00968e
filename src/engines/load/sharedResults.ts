// One load run per assessment: the checks that judge load results (thresholds, SLOs) share it instead of loading the
// target twice. Keyed by the spec object, so a new assessment (a new spec) never sees an old run.
import type { Spec } from "../../spec/schema.js";
import type { LoadRunResult } from "./run.js";

export interface SharedLoad {
  service: string;
  url: string;
  result: LoadRunResult;
  /** Evidence files written for this run, relative to the evidence root. */
  evidence: string[];
}

const runs = new WeakMap<Spec, Map<string, Promise<SharedLoad>>>();

/** The run for `service` in this assessment: started by the first caller, awaited by the others. */
export function sharedLoad(
  spec: Spec,
  service: string,
  start: () => Promise<SharedLoad>,
): Promise<SharedLoad> {
  let byService = runs.get(spec);
  if (!byService) {
    byService = new Map();
    runs.set(spec, byService);
  }
  let run = byService.get(service);
  if (!run) {
    run = start();
    byService.set(service, run);
    // A failed or cancelled run is not kept: the next check may try again.
    run.then(
      (r) => {
        if (r.result.cancelled) byService.delete(service);
      },
      () => byService.delete(service),
    );
  }
  return run;
}
