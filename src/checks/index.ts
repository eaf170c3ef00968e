// The check registry: one import and one line per check, sorted by id. The file name of each check is its id; a
// meta-test (test/unit/checks/registry.test.ts) fails when a check lacks a test file or a docs/checks.md line.
import type { Check } from "../core/types.js";
import composeFilesValid from "./deployment/composeFilesValid.js";
import composeServicesHardened from "./deployment/composeServicesHardened.js";
import deploymentRepeatable from "./deployment/deploymentRepeatable.js";
import deployScriptsValid from "./deployment/deployScriptsValid.js";
import dockerfilesFollowBestPractice from "./deployment/dockerfilesFollowBestPractice.js";
import kubernetesManifestsSound from "./deployment/kubernetesManifestsSound.js";
import requiredEnvPresent from "./deployment/requiredEnvPresent.js";
import rolloutAbortsOnRegression from "./deployment/rolloutAbortsOnRegression.js";
import alertRulesCoverGoldenSignals from "./observability/alertRulesCoverGoldenSignals.js";
import alertRulesLoaded from "./observability/alertRulesLoaded.js";
import alertRulesValid from "./observability/alertRulesValid.js";
import alertsDelivered from "./observability/alertsDelivered.js";
import healthEndpointsRespond from "./observability/healthEndpointsRespond.js";
import logsStructured from "./observability/logsStructured.js";
import metricsExposed from "./observability/metricsExposed.js";
import metricsScraped from "./observability/metricsScraped.js";
import sloAlertsDefined from "./observability/sloAlertsDefined.js";
import ciPipelineGuardsMain from "./operations/ciPipelineGuardsMain.js";
import rollbackWithinTarget from "./operations/rollbackWithinTarget.js";
import runbooksCoverAlerts from "./operations/runbooksCoverAlerts.js";
import testCoverageAtLeast from "./operations/testCoverageAtLeast.js";
import capacityFound from "./performance/capacityFound.js";
import datastoreLatency from "./performance/datastoreLatency.js";
import errorBudgetRemaining from "./performance/errorBudgetRemaining.js";
import latencySloMet from "./performance/latencySloMet.js";
import loadStagesWithinThresholds from "./performance/loadStagesWithinThresholds.js";
import noMemoryGrowthUnderLoad from "./performance/noMemoryGrowthUnderLoad.js";
import backupsFresh from "./recovery/backupsFresh.js";
import recoveryPointObjectiveMet from "./recovery/recoveryPointObjectiveMet.js";
import restoreDrillSucceeds from "./recovery/restoreDrillSucceeds.js";
import crashRecovered from "./resilience/crashRecovered.js";
import dependencyBlinkSurvived from "./resilience/dependencyBlinkSurvived.js";
import dependencyLatencyTolerated from "./resilience/dependencyLatencyTolerated.js";
import dependencyOutageDegradesGracefully from "./resilience/dependencyOutageDegradesGracefully.js";
import mttrWithinObjective from "./resilience/mttrWithinObjective.js";
import overloadShedGracefully from "./resilience/overloadShedGracefully.js";
import writesSurviveCrash from "./resilience/writesSurviveCrash.js";
import codeFreeOfDangerousPatterns from "./security/codeFreeOfDangerousPatterns.js";
import datastoresRequireAuth from "./security/datastoresRequireAuth.js";
import dependenciesFreeOfKnownVulnerabilities from "./security/dependenciesFreeOfKnownVulnerabilities.js";
import internalServicesNotExposed from "./security/internalServicesNotExposed.js";
import noSecretsInRepository from "./security/noSecretsInRepository.js";
import protectedEndpointsRequireAuth from "./security/protectedEndpointsRequireAuth.js";
import securityHeadersPresent from "./security/securityHeadersPresent.js";
import tlsModern from "./security/tlsModern.js";

export const CHECKS: ReadonlyMap<string, Check> = new Map(
  [
    alertRulesCoverGoldenSignals,
    alertRulesLoaded,
    alertRulesValid,
    alertsDelivered,
    backupsFresh,
    capacityFound,
    ciPipelineGuardsMain,
    codeFreeOfDangerousPatterns,
    composeFilesValid,
    composeServicesHardened,
    crashRecovered,
    datastoreLatency,
    datastoresRequireAuth,
    dependenciesFreeOfKnownVulnerabilities,
    dependencyBlinkSurvived,
    dependencyLatencyTolerated,
    dependencyOutageDegradesGracefully,
    deploymentRepeatable,
    deployScriptsValid,
    dockerfilesFollowBestPractice,
    errorBudgetRemaining,
    healthEndpointsRespond,
    internalServicesNotExposed,
    kubernetesManifestsSound,
    latencySloMet,
    loadStagesWithinThresholds,
    logsStructured,
    metricsExposed,
    metricsScraped,
    mttrWithinObjective,
    noMemoryGrowthUnderLoad,
    noSecretsInRepository,
    overloadShedGracefully,
    protectedEndpointsRequireAuth,
    recoveryPointObjectiveMet,
    requiredEnvPresent,
    restoreDrillSucceeds,
    rollbackWithinTarget,
    rolloutAbortsOnRegression,
    runbooksCoverAlerts,
    securityHeadersPresent,
    sloAlertsDefined,
    testCoverageAtLeast,
    tlsModern,
    writesSurviveCrash,
  ]
    .sort((a, b) => a.meta.id.localeCompare(b.meta.id))
    .map((check) => [check.meta.id, check]),
);

export function allChecks(): Check[] {
  return [...CHECKS.values()];
}

export function checkIds(): string[] {
  return [...CHECKS.keys()];
}
