// Is every compose file one that `docker compose` accepts, and that the engine will then start? Each file is
// validated against the current Compose Specification (a schema of Gauntlet's own that tracks compose-spec, so
// `name`, `include`, `develop`, `models` and `x-*` are valid), after interpolation with the environment and the `.env`
// beside it, and the project for what it refers to. Every problem has its file, line and column. The compose tools
// installed here give a second opinion, recorded as evidence and never the verdict (the old ones reject today's spec).
import { type CheckContext, defineCheck, type FindingInput } from "../../core/types.js";
import { composeProjectsOf } from "../../engines/compose/composeFiles.js";
import { type ComposeProblem, loadComposeProject } from "../../engines/compose/composeProject.js";
import { type RefereeVerdict, runReferees } from "../../engines/compose/composeReferee.js";
import { isSecretName, literalSecret } from "../../engines/compose/environmentSecrets.js";

export interface ProjectValidity {
  files: { path: string; role: "file" | "include" | "extends"; error?: string }[];
  name?: string;
  services: string[];
  /** `.env` files read for interpolation. */
  envFiles: string[];
  /** Includes from git or OCI, which are not fetched. */
  remoteIncludes: string[];
  problems: ComposeProblem[];
  referees: RefereeVerdict[];
}

export interface ComposeValidityObservation {
  /** false: no deployment.compose; the project (if any) was found in the repository as compose finds it. */
  declared: boolean;
  /** deployment.compose entries that match no file. */
  missing: string[];
  projects: ProjectValidity[];
  evidence: string;
}

const REFEREE_TIMEOUT_MS = 20_000;
/** Time kept for the projects still to load once the referees stop being asked. */
const REFEREE_RESERVE_MS = 30_000;

export default defineCheck<ComposeValidityObservation>({
  meta: {
    id: "composeFilesValid",
    category: "deployment",
    risk: "high",
    destructive: false,
    title: "Compose files are valid",
    objective:
      "Every compose file is valid against the current Compose Specification after interpolation, and everything it refers to (services, networks, volumes, secrets, configs) exists.",
    remediation: {
      effort: "low",
      text: "Fix {{file}} at the line and column of each finding (the message names the key, the expected value and the likely intended spelling); run `docker compose config -q` to confirm.",
    },
    messages: {
      valid: "the file is valid and everything it refers to exists",
      yamlError: "the file is not valid YAML (bad indentation, a tab, a duplicate key, …)",
      unknownKey:
        "a key the Compose Specification does not have at that place (custom keys must start with x-)",
      wrongType:
        "a value of the wrong type (a string where a list or mapping belongs, a number where a string does)",
      badValue:
        "a value compose or the engine refuses (restart: sometimes, condition: service_ok, a bad duration)",
      missingKey:
        "a required key is missing (condition in a depends_on entry, a secret's file, a watch target)",
      duplicateEntry: "a list that must hold unique entries holds one twice",
      invalidInterpolation: "a $-reference compose cannot interpolate (write $$ for a literal $)",
      requiredVariableMissing:
        "a required variable (:? or ? form) set neither here nor in .env: compose refuses the file without it",
      obsoleteVersion: "the obsolete top-level version key (compose ignores it and warns)",
      undefinedService:
        "depends_on, links, extends, volumes_from or a service: namespace names a service that does not exist",
      undefinedNetwork: "a service joins a network not declared under the top-level networks",
      undefinedVolume: "a service mounts a named volume not declared under the top-level volumes",
      undefinedSecret: "a service uses a secret not declared under the top-level secrets",
      undefinedConfig: "a service uses a config not declared under the top-level configs",
      undefinedModel: "a service uses a model not declared under the top-level models",
      noImageOrBuild: "a service has neither image nor build",
      conflictingKeys:
        "two keys that exclude each other (network_mode and networks, dockerfile and dockerfile_inline)",
      dependencyCycle: "depends_on forms a cycle",
      missingFile: "a compose file (listed, included or extended) does not exist",
      unreadableReference: "an include or extends names a file that cannot be read, or includes itself",
      envFileMissing:
        "a service's env_file does not exist here (often a gitignored file created at deploy time)",
      dotenvInvalid: "the .env file beside the compose file cannot be read the way compose reads it",
      remoteInclude: "an include from git or an OCI registry, not fetched: its services are unknown",
      noComposeFile:
        "no deployment.compose and no compose file in the repository: nothing is deployed with compose",
    },
    timeoutMs: 120_000,
  },

  applies() {
    // Principle 8: a compose file in the repository is deployed whether or not the spec lists it; observe() looks.
    return true;
  },

  async observe(ctx) {
    const found = await composeProjectsOf(ctx.spec, ctx.specDir);
    const observation: ComposeValidityObservation = {
      declared: found.declared,
      missing: found.missing,
      projects: [],
      evidence: "",
    };
    for (const files of found.projects) {
      ctx.signal.throwIfAborted();
      observation.projects.push(await validateProject(ctx, files));
      ctx.keepPartial(observation);
    }
    observation.evidence = await ctx.evidence.writeJson("compose-validation.json", {
      ...observation,
      evidence: undefined,
      note: "problems name keys and files, never values taken from the environment; referee output is redacted",
    });
    return observation;
  },

  judge(observation) {
    const evidence = [observation.evidence];
    if (!observation.declared && observation.projects.length === 0) {
      return [
        {
          status: "NA",
          messageId: "noComposeFile",
          message:
            "deployment.compose lists no compose file and system.repo holds no compose.yaml or docker-compose.yml: nothing here is deployed with compose",
          evidence,
        },
      ];
    }
    const findings: FindingInput[] = observation.missing.map((entry) => ({
      status: "FAIL",
      messageId: "missingFile",
      subject: entry,
      location: { path: entry },
      message: `deployment.compose names ${entry}, which matches no file`,
      data: { file: entry },
      evidence,
    }));
    for (const project of observation.projects) findings.push(...judgeProject(project, evidence));
    return findings;
  },
});

async function validateProject(ctx: CheckContext, files: string[]): Promise<ProjectValidity> {
  const project = await loadComposeProject(files, { env: ctx.env, root: ctx.specDir });
  // Before any tool output is kept: values of secret-named variables, and secrets written into environment:.
  for (const variable of project.variables)
    if (isSecretName(variable.name)) ctx.secrets.add(ctx.env[variable.name]);
  for (const service of project.services) {
    for (const env of service.environment) ctx.secrets.add(literalSecret(env.name, env.written)?.value);
  }
  // The referees are a second opinion: with many projects, they must not use up the time the judge needs.
  const left = ctx.deadline - Date.now();
  const referees =
    left < REFEREE_RESERVE_MS
      ? []
      : await runReferees(files, {
          env: ctx.env,
          signal: ctx.signal,
          timeoutMs: Math.min(REFEREE_TIMEOUT_MS, left - REFEREE_RESERVE_MS / 2),
          redact: (text) => ctx.secrets.redact(text),
        });
  if (left < REFEREE_RESERVE_MS)
    ctx.log.info(`compose referees skipped for ${files[0]}: the check's time is nearly up`);
  for (const verdict of referees) {
    ctx.log.info(
      `${verdict.tool} ${verdict.version ?? ""} config on ${files.length} file(s): ${verdict.accepted === null ? (verdict.note ?? "no verdict") : verdict.accepted ? "accepted" : "rejected"} (evidence only)`,
    );
  }
  return {
    files: project.files.map((f) => ({ path: f.path, role: f.role, ...(f.error ? { error: f.error } : {}) })),
    ...(project.name ? { name: project.name } : {}),
    services: project.services.map((s) => s.name),
    envFiles: project.envFiles,
    remoteIncludes: project.remoteIncludes,
    problems: project.problems,
    referees,
  };
}

function judgeProject(project: ProjectValidity, evidence: string[]): FindingInput[] {
  const findings: FindingInput[] = [];
  for (const problem of project.problems) {
    findings.push({
      status: problem.severity === "error" ? "FAIL" : "WARN",
      messageId: problem.kind,
      subject: problem.file,
      location: { path: problem.file, line: problem.line, column: problem.column },
      message: `${problem.file}:${problem.line}:${problem.column}: ${problem.message}`,
      data: {
        file: problem.file,
        ...(problem.path ? { key: problem.path } : {}),
        ...(problem.suggestion ? { suggestion: problem.suggestion } : {}),
      },
      evidence,
    });
  }
  for (const include of project.remoteIncludes) {
    const file = project.files[0]!.path;
    findings.push({
      status: "UNVERIFIED",
      messageId: "remoteInclude",
      subject: file,
      location: { path: file },
      message: `${file} includes ${include}, which Gauntlet does not fetch: the services it adds are not validated`,
      data: { file, include },
      evidence,
      toVerify: `vendor ${include} into the repository and include it by path, or validate it with docker compose config`,
    });
  }
  const referees = project.referees.map(
    (r) =>
      `${r.tool}${r.version ? ` ${r.version}` : ""}: ${r.accepted === null ? (r.note ?? "no verdict") : r.accepted ? "accepted" : "rejected"}`,
  );
  for (const file of project.files) {
    if (file.error || project.problems.some((p) => p.file === file.path)) continue;
    const services = file.role === "file" ? ` (${project.services.length} service(s) in the project)` : "";
    findings.push({
      status: "PASS",
      messageId: "valid",
      subject: file.path,
      location: { path: file.path },
      message: `${file.path} is valid against the Compose Specification${services}${file.role === "include" ? ", included by the project" : file.role === "extends" ? ", extended by one of its services" : ""}`,
      data: { file: file.path, role: file.role, ...(referees.length > 0 ? { referees } : {}) },
      evidence,
    });
  }
  return findings;
}
