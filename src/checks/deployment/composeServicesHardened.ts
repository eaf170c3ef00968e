// Is each compose service configured to survive production: a pinned image, a healthcheck, a restart policy, a
// memory limit, no privileged mode, no secrets written into environment:, a read-only root and a non-root user? A
// privileged container (one mount away from the host) and a literal secret (in the repository and in `docker
// inspect`) are FAILs; the rest are WARNs, because each has legitimate exceptions the file cannot show (the image may
// declare a HEALTHCHECK or a USER; some software cannot run read-only). Datastore and internal ports published on
// every interface, and network_mode: host for them, belong to internalServicesNotExposed (FAIL there), not here.
import { type CheckContext, defineCheck, type FindingInput } from "../../core/types.js";
import { composeProjectsOf } from "../../engines/compose/composeFiles.js";
import { loadComposeProject, type ProjectService } from "../../engines/compose/composeProject.js";
import { literalSecret } from "../../engines/compose/environmentSecrets.js";
import { isInternalComposeService, kindOfPort } from "../../engines/compose/publishedPorts.js";
import { imagePinning, parseImageReference } from "../../engines/images/imageReference.js";
import { mask } from "../../engines/secretScan/detect.js";
import type { Kind } from "../../spec/kinds.js";
import type { Spec } from "../../spec/schema.js";

interface At {
  line: number;
  column: number;
}

export interface ServiceFacts extends At {
  service: string;
  file: string;
  kind?: Kind;
  kindFrom?: "spec" | "image" | "port";
  image?: At & { written: string; pin: "digest" | "tag" | "latest" | "untagged" | "unknown"; tag?: string };
  build: boolean;
  healthcheck?: At & { disabled: boolean };
  restart?: At & { value: string };
  restartPolicy?: At & { condition?: string };
  limits?: At & { memory?: string; cpus?: string; from: string };
  privileged?: At & { value: boolean | "unknown" };
  networkMode?: At & { value: string };
  readOnly?: At & { value: boolean | "unknown" };
  user?: At & { value: string };
  /** Secrets written into environment:, masked (at most 4 characters shown). */
  literalSecrets: (At & { variable: string; masked: string; why: "secretName" | "urlPassword" })[];
  /** A one-shot task: another service waits for it with condition: service_completed_successfully. */
  job: boolean;
}

export interface HardeningObservation {
  declared: boolean;
  missing: string[];
  projects: { files: string[]; unreadable: string[]; services: ServiceFacts[] }[];
  evidence: string;
}

export default defineCheck<HardeningObservation>({
  meta: {
    id: "composeServicesHardened",
    category: "deployment",
    risk: "medium",
    destructive: false,
    title: "Compose services are hardened",
    objective:
      "Every compose service runs a pinned image with a healthcheck, a restart policy and a memory limit, is not privileged, keeps secrets out of environment:, and runs read-only as a non-root user where it can.",
    remediation: {
      effort: "medium",
      text: "In {{file}}, harden {{service}}: pin the image to a version tag or a digest, declare a healthcheck and restart: unless-stopped (or deploy.restart_policy), set deploy.resources.limits.memory, remove privileged: true (add only the cap_add it needs), move secrets from environment: to secrets: or an env_file kept out of the repository, and set read_only: true (with tmpfs for the paths it writes) and a non-root user.",
    },
    messages: {
      hardened: "the service passes every hardening rule",
      privileged: "privileged: true gives the container every capability and the host's devices",
      literalSecret: "a secret is written into environment: as a literal value",
      imageUnpinned: "the image is latest or has no tag, so each deploy may run something else",
      noHealthcheck:
        "no healthcheck is declared (the image may have one; compose cannot tell without pulling it)",
      healthcheckDisabled: "the healthcheck is disabled (disable: true or test: [NONE])",
      noRestartPolicy: "no restart policy (or restart: no): a crashed container stays down",
      noResourceLimits: "no memory limit: one leak can exhaust the host",
      hostNetwork: "network_mode: host shares the host's network stack: every port it opens is on the host",
      writableRoot: "the root filesystem is writable (read_only is not true)",
      noUser: "no user is set: the container runs as the image's user, root unless the image says otherwise",
      rootUser: "the service runs as root explicitly",
      composeUnreadable: "a compose file could not be read or parsed, so its services were not judged",
      noComposeFile: "no deployment.compose and no compose file in the repository",
      noServices: "the compose files define no service",
    },
    timeoutMs: 30_000,
  },

  applies() {
    return true;
  },

  async observe(ctx) {
    const found = await composeProjectsOf(ctx.spec, ctx.specDir);
    const observation: HardeningObservation = {
      declared: found.declared,
      missing: found.missing,
      projects: [],
      evidence: "",
    };
    for (const files of found.projects) {
      ctx.signal.throwIfAborted();
      const project = await loadComposeProject(files, { env: ctx.env, root: ctx.specDir });
      observation.projects.push({
        files: project.files.filter((f) => f.role === "file").map((f) => f.path),
        unreadable: project.files.filter((f) => f.error).map((f) => f.path),
        services: project.services.map((s) => factsOf(ctx, s, project.services)),
      });
    }
    observation.evidence = await ctx.evidence.writeJson("compose-hardening.json", {
      ...observation,
      evidence: undefined,
      note: "literal secrets are masked; their values were registered with the redactor",
    });
    return observation;
  },

  judge(observation, spec) {
    const evidence = [observation.evidence];
    if (!observation.declared && observation.projects.length === 0) {
      return [
        {
          status: "NA",
          messageId: "noComposeFile",
          message:
            "deployment.compose lists no compose file and system.repo holds none: no compose service to judge",
          evidence,
        },
      ];
    }
    const findings: FindingInput[] = observation.missing.map((entry) => ({
      status: "UNVERIFIED" as const,
      messageId: "composeUnreadable",
      subject: entry,
      location: { path: entry },
      message: `deployment.compose names ${entry}, which matches no file, so its services were not judged`,
      data: { file: entry },
      evidence,
      toVerify: `fix the path ${entry} in deployment.compose (relative to the spec's folder)`,
    }));
    for (const project of observation.projects) {
      for (const file of project.unreadable) {
        findings.push({
          status: "UNVERIFIED",
          messageId: "composeUnreadable",
          subject: file,
          location: { path: file },
          message: `${file} cannot be read or parsed, so its services were not judged (composeFilesValid says why)`,
          data: { file },
          evidence,
          toVerify: `fix ${file} so that it parses (see composeFilesValid's finding)`,
        });
      }
      for (const service of project.services) findings.push(...judgeService(service, spec, evidence));
    }
    if (findings.length > 0) return findings;
    return [
      {
        status: "NA",
        messageId: "noServices",
        message: "the compose files define no service",
        evidence,
      },
    ];
  },
});

function factsOf(ctx: CheckContext, service: ProjectService, all: ProjectService[]): ServiceFacts {
  const at = (l: { line: number; column: number }) => ({ line: l.line, column: l.column });
  const specKind = ctx.spec.services[service.name]?.kind;
  const portKind = service.ports.map((p) => kindOfPort(p.target)).find(Boolean);
  const kind = specKind ?? service.kind ?? portKind;
  const facts: ServiceFacts = {
    service: service.name,
    file: service.file,
    ...at(service),
    ...(kind ? { kind, kindFrom: specKind ? "spec" : service.kind ? "image" : "port" } : {}),
    build: service.build !== undefined,
    literalSecrets: [],
    job: all.some((other) =>
      other.dependsOn.some(
        (d) => d.service === service.name && d.condition === "service_completed_successfully",
      ),
    ),
  };
  if (service.image) {
    // A variable that decides the image (`app:${TAG}`) is a deploy-time choice: not judged.
    const value = service.image.value;
    const pin = value !== undefined ? imagePinning(value) : "unknown";
    const tag = value !== undefined ? parseImageReference(value).tag : undefined;
    facts.image = { ...at(service.image), written: service.image.written, pin, ...(tag ? { tag } : {}) };
  }
  if (service.healthcheck)
    facts.healthcheck = { ...at(service.healthcheck), disabled: service.healthcheck.disabled };
  if (service.restart) facts.restart = { ...at(service.restart), value: service.restart.value };
  if (service.restartPolicy)
    facts.restartPolicy = {
      ...at(service.restartPolicy),
      ...(service.restartPolicy.condition ? { condition: service.restartPolicy.condition } : {}),
    };
  if (service.limits) {
    const { memory, cpus, from } = service.limits;
    facts.limits = { ...at(service.limits), ...(memory ? { memory } : {}), ...(cpus ? { cpus } : {}), from };
  }
  for (const key of ["privileged", "readOnly"] as const) {
    const value = service[key];
    if (value) facts[key] = { ...at(value), value: value.value };
  }
  if (service.networkMode)
    facts.networkMode = { ...at(service.networkMode), value: service.networkMode.value };
  if (service.user) facts.user = { ...at(service.user), value: service.user.value };
  for (const env of service.environment) {
    const secret = literalSecret(env.name, env.written);
    if (!secret) continue;
    // Registered before the evidence is written; only the mask leaves this function.
    ctx.secrets.add(secret.value);
    facts.literalSecrets.push({
      ...at(env),
      variable: env.name,
      masked: mask(secret.value),
      why: secret.why,
    });
  }
  return facts;
}

function judgeService(facts: ServiceFacts, spec: Spec, evidence: string[]): FindingInput[] {
  const name = facts.service;
  const findings: FindingInput[] = [];
  const add = (
    status: "FAIL" | "WARN",
    messageId: string,
    where: At,
    message: string,
    data: Record<string, unknown> = {},
  ) =>
    findings.push({
      status,
      messageId,
      subject: name,
      location: { path: facts.file, line: where.line, column: where.column },
      message: `${facts.file}:${where.line}: ${message}`,
      data: { service: name, file: facts.file, ...data },
      evidence,
    });

  if (facts.privileged?.value === true) {
    add(
      "FAIL",
      "privileged",
      facts.privileged,
      `${name} runs privileged: every capability and every host device, so a compromise of it is a compromise of the host; grant only the cap_add it needs`,
    );
  }
  for (const secret of facts.literalSecrets) {
    const what = secret.why === "urlPassword" ? "the password of a URL" : "a literal secret";
    add(
      "FAIL",
      "literalSecret",
      secret,
      `${name}: environment ${secret.variable} holds ${what} (${secret.masked}): it is in the repository and in docker inspect; use secrets: or an env_file kept out of git, or \${${secret.variable}} from the deploy environment`,
      { variable: secret.variable, masked: secret.masked },
    );
  }
  if (facts.image && !facts.build && (facts.image.pin === "latest" || facts.image.pin === "untagged")) {
    add(
      "WARN",
      "imageUnpinned",
      facts.image,
      `${name} runs ${facts.image.written}, ${facts.image.pin === "latest" ? "the moving latest tag" : "with no tag (= latest)"}: each pull may deploy a different version; pin a version tag or a digest`,
      { image: facts.image.written },
    );
  }
  if (!facts.job) {
    if (!facts.healthcheck) {
      add(
        "WARN",
        "noHealthcheck",
        facts,
        `${name} declares no healthcheck: unless its image has a HEALTHCHECK (compose cannot tell without pulling it), nothing notices it hang, and depends_on: service_healthy cannot wait for it`,
      );
    } else if (facts.healthcheck.disabled) {
      add("WARN", "healthcheckDisabled", facts.healthcheck, `${name} disables its healthcheck`);
    }
    const restart = facts.restart?.value;
    const condition = facts.restartPolicy?.condition;
    if ((!restart || restart === "no") && (!facts.restartPolicy || condition === "none")) {
      add(
        "WARN",
        "noRestartPolicy",
        facts.restart ?? facts.restartPolicy ?? facts,
        `${name} has ${restart === "no" || condition === "none" ? "restart disabled" : "no restart policy"}: after a crash or a host reboot it stays down; set restart: unless-stopped (or on-failure)`,
      );
    }
  }
  if (!facts.limits?.memory) {
    add(
      "WARN",
      "noResourceLimits",
      facts.limits ?? facts,
      `${name} has no memory limit${facts.limits?.cpus ? ` (only cpus: ${facts.limits.cpus})` : ""}: one leak can take the host's memory from every other service; set deploy.resources.limits.memory`,
    );
  }
  if (
    facts.networkMode?.value === "host" &&
    !isInternalComposeService({ name, ...(facts.kind ? { kind: facts.kind } : {}) }, spec)
  ) {
    if (spec.services[name]?.exposure !== "public") {
      add(
        "WARN",
        "hostNetwork",
        facts.networkMode,
        `${name} uses network_mode: host: every port it opens listens on the host's interfaces, unfiltered by compose; use ports: (or mark it exposure: public in the spec if it must be reachable)`,
      );
    }
  }
  if (facts.readOnly?.value !== true) {
    add(
      "WARN",
      "writableRoot",
      facts.readOnly ?? facts,
      `${name}'s root filesystem is writable: an intruder can change its binaries; set read_only: true with tmpfs or volumes for the paths it writes, where the software allows`,
    );
  }
  if (!facts.user) {
    add(
      "WARN",
      "noUser",
      facts,
      `${name} sets no user: it runs as the image's USER, which is root unless the image says otherwise; set user: to a non-root UID`,
    );
  } else if (/^(?:root|0)(?::.*)?$/.test(facts.user.value)) {
    add(
      "WARN",
      "rootUser",
      facts.user,
      `${name} runs as root (user: ${facts.user.value}); use a non-root UID`,
    );
  }
  if (findings.length > 0) return findings;
  return [
    {
      status: "PASS",
      messageId: "hardened",
      subject: name,
      location: { path: facts.file, line: facts.line, column: facts.column },
      message: `${name} is hardened: pinned image, healthcheck, restart policy, memory limit, not privileged, no literal secret, read-only root, non-root user`,
      data: { service: name, file: facts.file },
      evidence,
    },
  ];
}
