// The Assessment of a run, assembled from what the run produced: the check results (scored here, with waivers and
// exclusions, by the pure scoring functions) and the facts around them. Pure: the report goldens are built with it
// from hand-written results, so they show exactly what a real run would.
import type { Assessment, CheckResult, Revision } from "../core/assessment.js";
import { ASSESSMENT_SCHEMA_VERSION } from "../core/assessment.js";
import type { Leftover } from "../core/faultJournal.js";
import { evaluate } from "../scoring/evaluate.js";
import { exclusionUses } from "../scoring/exclusions.js";
import type { Spec } from "../spec/schema.js";
import { TOOL_VERSION } from "../version.js";

export interface RunFacts {
  spec: Spec;
  runId: string;
  revision: Revision;
  specPath: string;
  startedAt: Date;
  finishedAt: Date;
  environment: Assessment["environment"];
  options: Assessment["options"];
  results: CheckResult[];
  evidence: Assessment["evidence"];
  certificate?: Assessment["certificate"];
  toolVersion?: string;
  /** What earlier, killed runs left behind and this run undid (or could not). */
  leftovers?: Leftover[];
}

export function assembleAssessment(facts: RunFacts): Assessment {
  const { spec } = facts;
  const evaluation = evaluate(facts.results, spec.scoring, facts.finishedAt);
  return {
    schemaVersion: ASSESSMENT_SCHEMA_VERSION,
    runId: facts.runId,
    tool: { name: "gauntlet", version: facts.toolVersion ?? TOOL_VERSION },
    system: {
      name: spec.system.name,
      ...(spec.system.version !== undefined ? { version: spec.system.version } : {}),
      ...(spec.system.owner !== undefined ? { owner: spec.system.owner } : {}),
    },
    revision: facts.revision,
    specPath: facts.specPath,
    startedAt: facts.startedAt.toISOString(),
    finishedAt: facts.finishedAt.toISOString(),
    durationMs: facts.finishedAt.getTime() - facts.startedAt.getTime(),
    environment: facts.environment,
    options: facts.options,
    checks: evaluation.checks,
    scores: evaluation.scores,
    verdict: evaluation.verdict,
    scoring: {
      certifyAt: spec.scoring.certifyAt,
      conditionalAt: spec.scoring.conditionalAt,
      categoryMinimum: spec.scoring.categoryMinimum,
      weights: evaluation.weights,
    },
    waivers: evaluation.waivers,
    exclusions: exclusionUses(evaluation.checks, spec.resilience?.exclude ?? []),
    roadmap: evaluation.roadmap,
    ...(facts.leftovers && facts.leftovers.length > 0 ? { leftovers: facts.leftovers } : {}),
    evidence: facts.evidence,
    certificate: facts.certificate ?? null,
  };
}
