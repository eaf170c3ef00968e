// Do the system's Dockerfiles build an image that is pinned, runs as a non-root user, holds no secret, and is built
// the way hadolint's rules ask? Each Dockerfile is parsed (dockerfile-ast) and read by a rule pack with hadolint's DL
// ids where hadolint has the rule (src/engines/dockerfile/rules.ts); each RUN's script goes through ShellCheck with
// its positions mapped back to the Dockerfile; ENV and ARG values go through the repository's secret rules, and are
// only ever shown masked. `# hadolint ignore=DL3008,SC2086` on the line before an instruction (or `# hadolint global
// ignore=…` anywhere) silences those ids there, as hadolint does; what was silenced is named in the PASS.
//
// DESIGN principle 8: a system built into an image is judged whether or not its spec lists the Dockerfile. With no
// deployment.dockerfiles, the Dockerfiles found are judged: under the spec's folder (three folders deep, dependency
// and test folders left out) — the part of system.repo the spec describes — and, when none is there and the spec
// lives below the repository's top, at that top; none found = N/A.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { type CheckContext, defineCheck, type FindingInput, type Status } from "../../core/types.js";
import { type BuildSecretHit, findBuildSecrets } from "../../engines/dockerfile/buildSecrets.js";
import { findDockerfiles } from "../../engines/dockerfile/discover.js";
import {
  type DockerfileModel,
  type HadolintPragma,
  parseDockerfile,
  stageChain,
} from "../../engines/dockerfile/parse.js";
import { DOCKERFILE_RULES, lintDockerfile, type RuleHit } from "../../engines/dockerfile/rules.js";
import { runScripts } from "../../engines/dockerfile/runScripts.js";
import {
  type DockerShellcheckComment,
  findShellcheck,
  type ScriptLint,
  type ShellcheckTool,
  shellcheckScripts,
} from "../../engines/dockerfile/shellcheck.js";
import { expandPattern, isInside, toPosix } from "../../engines/files/glob.js";
import { imagePinning } from "../../engines/images/imageReference.js";

const MAX_BYTES = 1024 * 1024;
const TOOL_TIMEOUT_MS = 20_000;

export interface StageSummary {
  line: number;
  image: string;
  alias?: string;
  /** How the stage's base is pinned; `stage` when it builds on an earlier stage. */
  pinning: "digest" | "tag" | "latest" | "untagged" | "stage" | "scratch" | "build-arg";
}

export type ShellcheckObservation =
  | { state: "ran"; version: string | null; scripts: ScriptLint[]; comments: DockerShellcheckComment[] }
  | { state: "missing"; scripts: number }
  | { state: "no-scripts" };

export interface DockerfileObservation {
  /** Relative to the spec's folder, forward slashes. */
  file: string;
  /** Listed by deployment.dockerfiles (false: found by looking). */
  declared: boolean;
  evidence: string;
  /** Why the file could not be read: ENOENT, ENOTFILE, TOOLARGE or another errno code. */
  error?: string;
  stages?: StageSummary[];
  /** The final stage's last USER (with its stages' variables substituted); null when it sets none. */
  finalUser?: string | null;
  healthcheck?: boolean;
  hits?: RuleHit[];
  /** ENV/ARG secrets, values masked. */
  secrets?: BuildSecretHit[];
  /** Secrets the rules found elsewhere in the file (RUN, LABEL), left to noSecretsInRepository. */
  secretsElsewhere?: number;
  shellcheck?: ShellcheckObservation;
  pragmas?: HadolintPragma[];
}

export interface DockerfilesObservation {
  /** deployment.dockerfiles as the spec writes it ([] when it lists none). */
  declared: string[];
  /** Entries that matched no file. */
  unmatched: string[];
  /** Where undeclared Dockerfiles were looked for, relative to the spec's folder ([] when the spec lists some). */
  searched: string[];
  files: DockerfileObservation[];
  /** What was declared, matched and found: the evidence of a missing entry or of N/A. */
  evidence: string;
}

/** How much each rule weighs: what breaks or endangers the running service fails, what is hygiene warns. */
const RULE_JUDGEMENT: Readonly<Record<string, { status: Status; messageId: string }>> = {
  "gauntlet/not-a-dockerfile": { status: "FAIL", messageId: "notADockerfile" },
  "gauntlet/unknown-instruction": { status: "FAIL", messageId: "unknownInstruction" },
  DL3061: { status: "FAIL", messageId: "instructionBeforeFrom" },
  DL3006: { status: "FAIL", messageId: "baseImageUntagged" },
  DL3007: { status: "FAIL", messageId: "baseImageLatest" },
  "gauntlet/image-from-build-arg": { status: "UNVERIFIED", messageId: "baseImageFromBuildArg" },
  DL3002: { status: "FAIL", messageId: "runsAsRoot" },
  "gauntlet/no-user": { status: "FAIL", messageId: "noUser" },
  "gauntlet/user-from-base": { status: "WARN", messageId: "userFromBaseImage" },
  "gauntlet/user-from-entrypoint": { status: "WARN", messageId: "userFromEntrypoint" },
  "gauntlet/pipe-to-shell": { status: "FAIL", messageId: "pipeToShell" },
  "gauntlet/add-url-unchecked": { status: "WARN", messageId: "addUrlUnchecked" },
  DL3020: { status: "WARN", messageId: "addInsteadOfCopy" },
  DL3015: { status: "WARN", messageId: "aptRecommends" },
  DL3009: { status: "WARN", messageId: "aptListsKept" },
  DL3005: { status: "WARN", messageId: "aptDistUpgrade" },
  DL3003: { status: "WARN", messageId: "cdInRun" },
  DL4000: { status: "WARN", messageId: "maintainerDeprecated" },
  DL3025: { status: "WARN", messageId: "shellFormCommand" },
  DL3057: { status: "WARN", messageId: "noHealthcheck" },
  "gauntlet/build-tools-in-final-stage": { status: "WARN", messageId: "buildToolsShipped" },
};

export default defineCheck<DockerfilesObservation>({
  meta: {
    id: "dockerfilesFollowBestPractice",
    category: "deployment",
    risk: "medium",
    destructive: false,
    title: "Dockerfiles follow best practice",
    objective:
      "Every Dockerfile pins its base images, runs its final stage as a non-root USER, keeps secrets out of ENV and ARG, fetches nothing unverified, has a HEALTHCHECK and lean layers, and its RUN scripts pass ShellCheck.",
    remediation: {
      effort: "low",
      text: "At {{location}}: {{fix}} ({{rule}}). If it is right as written, say so with `# hadolint ignore={{rule}}` on the line above the instruction.",
    },
    messages: {
      notADockerfile: "the file holds no FROM instruction",
      unknownInstruction: "an instruction Docker does not know: the build fails there",
      instructionBeforeFrom: "an instruction other than ARG before the first FROM (DL3061)",
      baseImageUntagged: "a base image without a tag, i.e. whatever latest is at build time (DL3006)",
      baseImageLatest: "a base image pinned to latest (DL3007)",
      baseImageFromBuildArg:
        "a base image named by a build argument without a default: its pinning cannot be judged",
      runsAsRoot: "the final stage's last USER is root (DL3002)",
      noUser:
        "the final stage never sets USER, so the container runs as its base image's user (root for most)",
      userFromBaseImage: "no USER; the base image is non-root by its name, which Gauntlet does not verify",
      userFromEntrypoint:
        "no USER; the image installs gosu/su-exec for its entrypoint to drop root, which Gauntlet does not read",
      pipeToShell: "a downloaded script piped into a shell or interpreter (curl … | sh)",
      addUrlUnchecked: "ADD of a URL without --checksum",
      addInsteadOfCopy: "ADD of a local file that is not an archive: COPY says what it does (DL3020)",
      aptRecommends: "apt-get install without --no-install-recommends in a shipped stage (DL3015)",
      aptListsKept: "apt lists left in a shipped layer after apt-get update (DL3009)",
      aptDistUpgrade: "apt-get dist-upgrade in a build (DL3005)",
      cdInRun: "cd inside RUN instead of WORKDIR (DL3003)",
      maintainerDeprecated: "MAINTAINER is deprecated (DL4000)",
      shellFormCommand:
        "the final CMD or ENTRYPOINT in shell form: the application does not get SIGTERM (DL3025)",
      noHealthcheck: "the final image has no HEALTHCHECK, or disables it (DL3057)",
      buildToolsShipped: "the final stage installs compilers or devDependencies it does not need at run time",
      secretInBuildConfig:
        "an ENV or ARG holds a secret: it ships in the image's config or history (value masked)",
      sensitiveBuildVariable:
        "an ENV or ARG named like a secret (DL3064): a build argument lands in the image history, an ENV in its config",
      shellcheckError: "a ShellCheck error in a RUN script, at the Dockerfile's line and column",
      shellcheckWarning: "a ShellCheck warning in a RUN script, at the Dockerfile's line and column",
      shellcheckMissing: "shellcheck is not installed, so the RUN scripts were not linted",
      shellcheckFailed: "shellcheck gave no report for a RUN script",
      missing: "a deployment.dockerfiles entry matches no file",
      unreadable: "the Dockerfile cannot be read (a folder, too large, permissions)",
      followsBestPractice:
        "no rule fires: the Dockerfile was parsed, judged by every rule and its RUN scripts linted",
      noDockerfile:
        "no Dockerfile is declared and none was found in the spec's folder or at the repository's top",
    },
    timeoutMs: 120_000,
  },

  applies: () => true,

  async observe(ctx) {
    const declared = ctx.spec.deployment?.dockerfiles ?? [];
    const repoDir = path.resolve(ctx.specDir, ctx.spec.system.repo);
    const observation: DockerfilesObservation = {
      declared,
      unmatched: [],
      searched: [],
      files: [],
      evidence: "",
    };
    const targets: { absolute: string; declared: boolean }[] = [];
    for (const pattern of declared) {
      const matched = await expandPattern(ctx.specDir, pattern);
      if (matched.length === 0) observation.unmatched.push(pattern);
      for (const absolute of matched) {
        if (!targets.some((t) => t.absolute === absolute)) targets.push({ absolute, declared: true });
      }
    }
    if (declared.length === 0) {
      // The spec describes the part of the repository it sits in (a demo, a monorepo's service): look there first.
      const below = ctx.specDir !== repoDir && isInside(repoDir, ctx.specDir);
      const searches: [string, number][] = below
        ? [
            [ctx.specDir, 3],
            [repoDir, 0],
          ]
        : [[repoDir, 3]];
      for (const [dir, depth] of searches) {
        observation.searched.push(toPosix(path.relative(ctx.specDir, dir)) || ".");
        for (const relative of await findDockerfiles(dir, depth)) {
          targets.push({ absolute: path.join(dir, relative), declared: false });
        }
        if (targets.length > 0) break;
      }
    }
    const searchPath = ctx.env.PATH ?? process.env.PATH;
    const tool =
      targets.length > 0
        ? await findShellcheck(searchPath, { signal: ctx.signal, timeoutMs: toolTimeout(ctx) })
        : null;
    const env: NodeJS.ProcessEnv = {
      PATH: searchPath ?? "",
      LC_ALL: "C.UTF-8",
      HOME: process.env.HOME ?? "/",
    };
    for (const target of targets) {
      ctx.signal.throwIfAborted();
      observation.files.push(await inspect(ctx, target.absolute, target.declared, tool, env));
      ctx.keepPartial(observation);
    }
    observation.evidence = await ctx.evidence.writeJson("dockerfiles.json", {
      declared,
      unmatched: observation.unmatched,
      searched: declared.length === 0 ? observation.searched : "deployment.dockerfiles",
      shellcheck: tool ?? "not found on PATH",
      files: observation.files.map((f) => ({ file: f.file, declared: f.declared, evidence: f.evidence })),
    });
    return observation;
  },

  judge(observation) {
    const findings: FindingInput[] = [];
    for (const pattern of observation.unmatched) {
      findings.push({
        status: "FAIL",
        messageId: "missing",
        subject: pattern,
        location: { path: pattern },
        message: `deployment.dockerfiles lists ${pattern}, which matches no file`,
        data: {
          file: pattern,
          location: `deployment.dockerfiles entry ${pattern}`,
          rule: "deployment.dockerfiles",
          fix: "correct the path (relative to the spec's folder) or remove the entry",
        },
        evidence: [observation.evidence],
      });
    }
    for (const file of observation.files) findings.push(...judgeFile(file));
    if (findings.length === 0) {
      return [
        {
          status: "NA",
          messageId: "noDockerfile",
          subject: "deployment.dockerfiles",
          message: `no Dockerfile is listed in deployment.dockerfiles and none was found (Dockerfile, Containerfile, Dockerfile.*, *.Dockerfile holding a FROM) in ${observation.searched.join(" or ")}`,
          data: { searched: observation.searched },
          evidence: [observation.evidence],
        },
      ];
    }
    return findings;
  },
});

function toolTimeout(ctx: CheckContext): number {
  return Math.min(TOOL_TIMEOUT_MS, Math.max(1_000, ctx.deadline - Date.now()));
}

async function inspect(
  ctx: CheckContext,
  absolute: string,
  declared: boolean,
  tool: ShellcheckTool | null,
  env: NodeJS.ProcessEnv,
): Promise<DockerfileObservation> {
  const file = toPosix(path.relative(ctx.specDir, absolute)) || path.basename(absolute);
  const seen: Omit<DockerfileObservation, "evidence"> = { file, declared };
  const write = async (): Promise<DockerfileObservation> => ({
    ...seen,
    evidence: await ctx.evidence.writeJson(`${file.replace(/^(\.\.\/)+/, "")}.json`, seen),
  });
  let text: string;
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw Object.assign(new Error("not a file"), { code: "ENOTFILE" });
    if (info.size > MAX_BYTES) throw Object.assign(new Error("too large"), { code: "TOOLARGE" });
    text = await readFile(absolute, "utf8");
  } catch (error) {
    seen.error = (error as NodeJS.ErrnoException).code ?? "ERROR";
    return write();
  }
  const model = parseDockerfile(text);
  // Secrets first: every value is registered before anything of this file is written or logged.
  const secrets = await findBuildSecrets(model);
  for (const value of secrets.redact) ctx.secrets.add(value);
  seen.secrets = secrets.hits;
  seen.secretsElsewhere = secrets.elsewhere;
  seen.hits = lintDockerfile(model);
  seen.stages = stageSummaries(model);
  Object.assign(seen, finalStageFacts(model));
  seen.pragmas = model.pragmas;
  const scripts = runScripts(model);
  if (scripts.length === 0) {
    seen.shellcheck = { state: "no-scripts" };
  } else if (!tool) {
    seen.shellcheck = { state: "missing", scripts: scripts.length };
  } else {
    const lint = await shellcheckScripts(model, scripts, tool, {
      env,
      signal: ctx.signal,
      timeoutMs: () => toolTimeout(ctx),
    });
    seen.shellcheck = { state: "ran", version: tool.version, ...lint };
  }
  return write();
}

function stageSummaries(model: DockerfileModel): StageSummary[] {
  return model.stages.map((s) => {
    const image = s.resolvedImage ?? s.image;
    const pinning: StageSummary["pinning"] =
      s.parent !== undefined
        ? "stage"
        : s.resolvedImage === null
          ? "build-arg"
          : image === "scratch"
            ? "scratch"
            : imagePinning(image);
    return { line: s.line, image, ...(s.alias ? { alias: s.alias } : {}), pinning };
  });
}

function finalStageFacts(model: DockerfileModel): Pick<DockerfileObservation, "finalUser" | "healthcheck"> {
  if (model.stages.length === 0) return { finalUser: null, healthcheck: false };
  const chain = stageChain(model, model.stages.length - 1)
    .reverse()
    .flatMap((s) => s.instructions.map((i) => model.instructions[i]!));
  const user = chain.filter((i) => i.keyword === "USER").at(-1);
  const healthcheck = chain.filter((i) => i.keyword === "HEALTHCHECK").at(-1);
  return {
    finalUser: user ? user.args.trim() : null,
    healthcheck: healthcheck !== undefined && !/^NONE\b/i.test(healthcheck.args.trim()),
  };
}

interface Candidate {
  /** The id a pragma names: a DL or gauntlet/ rule, or SC1234. */
  id: string;
  instructionLine: number;
  finding: FindingInput;
}

function judgeFile(o: DockerfileObservation): FindingInput[] {
  const { file, evidence } = o;
  const base = { subject: file, evidence: [evidence] };
  if (o.error) {
    const [messageId, what] =
      o.error === "ENOENT"
        ? ["missing", "does not exist"]
        : o.error === "ENOTFILE"
          ? ["unreadable", "is not a file"]
          : o.error === "TOOLARGE"
            ? ["unreadable", `is larger than ${MAX_BYTES / 1024} KiB: not a Dockerfile`]
            : ["unreadable", `cannot be read (${o.error})`];
    return [
      {
        ...base,
        status: "FAIL",
        messageId,
        location: { path: file },
        message: `${file} ${what}`,
        data: {
          file,
          location: file,
          rule: "deployment.dockerfiles",
          fix: "list the Dockerfile's path, relative to the spec's folder",
        },
      },
    ];
  }
  const where = (line: number, column: number) => ({
    location: { path: file, line, column },
    data: { file, line, column, location: `${file}:${line}:${column}` },
  });
  const candidates: Candidate[] = [];
  for (const hit of o.hits ?? []) {
    // Every rule of the pack has a judgement (a test holds them together); one without is a bug, reported as ERROR.
    const judgement = RULE_JUDGEMENT[hit.rule];
    if (!judgement) throw new Error(`dockerfile rule ${hit.rule} has no judgement`);
    const info = DOCKERFILE_RULES[hit.rule];
    const at = where(hit.line, hit.column);
    const detail = describeDetail(hit.detail);
    candidates.push({
      id: hit.rule,
      instructionLine: hit.instructionLine,
      finding: {
        ...base,
        status: judgement.status,
        messageId: judgement.messageId,
        location: at.location,
        message: `${at.data.location}: ${info?.title ?? hit.rule}${detail} [${hit.rule}]`,
        data: { ...at.data, rule: hit.rule, fix: info?.fix ?? "see the rule's documentation", ...hit.detail },
        ...(judgement.status === "UNVERIFIED"
          ? {
              toVerify: `give the build argument a pinned default in ${file} so the base image can be judged`,
            }
          : {}),
      },
    });
  }
  for (const secret of o.secrets ?? [])
    candidates.push({
      id: secret.rule,
      instructionLine: secret.instructionLine,
      finding: secretFinding(o, secret),
    });
  candidates.push(...shellcheckCandidates(o));

  const ignored: { id: string; line: number; pragma: number }[] = [];
  const kept: FindingInput[] = [];
  for (const c of candidates) {
    const pragma = (o.pragmas ?? []).find(
      (p) => p.ids.includes(c.id.toUpperCase()) && (p.global || p.appliesTo === c.instructionLine),
    );
    if (pragma)
      ignored.push({ id: c.id, line: c.finding.location?.line ?? c.instructionLine, pragma: pragma.line });
    else kept.push(c.finding);
  }
  if (o.shellcheck?.state === "missing") {
    kept.push({
      ...base,
      status: "UNVERIFIED",
      messageId: "shellcheckMissing",
      location: { path: file },
      message: `${file}: shellcheck is not installed, so its ${o.shellcheck.scripts} RUN script(s) were not linted (the other rules ran)`,
      data: { file },
      toVerify: "install shellcheck (apt-get install shellcheck, brew install shellcheck) or put it on PATH",
    });
  }
  if (kept.length > 0) {
    const at = (f: FindingInput) =>
      [f.location?.line ?? Number.MAX_SAFE_INTEGER, f.location?.column ?? 0] as const;
    return kept.sort((a, b) => at(a)[0] - at(b)[0] || at(a)[1] - at(b)[1]);
  }
  return [passFinding(o, ignored)];
}

function describeDetail(detail: RuleHit["detail"]): string {
  const parts: string[] = [];
  if (detail.image) parts.push(`image ${detail.image}`);
  if (detail.user) parts.push(`USER ${detail.user}`);
  if (detail.source) parts.push(`source ${detail.source}`);
  if (detail.tools) parts.push(String(detail.tools));
  if (detail.fetcher) parts.push(`${detail.fetcher} | ${detail.interpreter}`);
  if (detail.instruction) parts.push(String(detail.instruction));
  if (detail.state === "disabled") parts.push("HEALTHCHECK NONE");
  if (detail.installedAt) parts.push(`step-down tool installed at line ${detail.installedAt}`);
  if (detail.variables) parts.push(`no default for ${detail.variables}`);
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}

function secretFinding(o: DockerfileObservation, secret: BuildSecretHit): FindingInput {
  const { file } = o;
  const location = `${file}:${secret.line}:${secret.column}`;
  const value = secret.masked ? ` = ${secret.masked}` : "";
  const why: Record<BuildSecretHit["kind"], string> = {
    detected: `holds a ${secret.label ?? "secret"}`,
    literal: "is named like a secret and holds a literal that looks generated",
    reference: "is named like a secret and copies a variable into the image's configuration",
    "no-value":
      "is a secret-named build argument: the value given with --build-arg is recorded in the image history",
    "weak-value": `is named like a secret and holds a literal (${secret.reason ?? "weak"}): a default credential baked into the image`,
  };
  const fail = secret.rule === "gauntlet/secret-in-build-config";
  return {
    status: fail ? "FAIL" : "WARN",
    messageId: fail ? "secretInBuildConfig" : "sensitiveBuildVariable",
    subject: file,
    location: { path: file, line: secret.line, column: secret.column },
    message: `${location}: ${secret.instruction} ${secret.name}${value} ${why[secret.kind]} [${secret.rule}]`,
    data: {
      file,
      line: secret.line,
      column: secret.column,
      location,
      rule: secret.rule,
      name: secret.name,
      kind: secret.kind,
      ...(secret.masked ? { masked: secret.masked } : {}),
      fix:
        secret.instruction === "ARG"
          ? "pass the secret with RUN --mount=type=secret,id=… (docker build --secret) instead of a build argument"
          : "remove the value from the Dockerfile: give it at run time (an env file, the orchestrator's secrets) or mount it with RUN --mount=type=secret during the build",
      ...(fail
        ? { rotate: "the value is in the repository and in every image built from it: rotate it" }
        : {}),
    },
    evidence: [o.evidence],
  };
}

function shellcheckCandidates(o: DockerfileObservation): Candidate[] {
  const sc = o.shellcheck;
  if (sc?.state !== "ran") return [];
  const { file } = o;
  const out: Candidate[] = [];
  for (const c of sc.comments) {
    if (c.level !== "error" && c.level !== "warning") continue;
    const location = `${file}:${c.line}:${c.column}`;
    out.push({
      id: c.code,
      instructionLine: c.instructionLine,
      finding: {
        status: c.level === "error" ? "FAIL" : "WARN",
        messageId: c.level === "error" ? "shellcheckError" : "shellcheckWarning",
        subject: file,
        location: { path: file, line: c.line, column: c.column },
        message: `${location}: ${c.code} (${c.level}) in the RUN at line ${c.instructionLine}: ${c.message}`,
        data: {
          file,
          line: c.line,
          column: c.column,
          location,
          rule: c.code,
          level: c.level,
          fix: `see https://www.shellcheck.net/wiki/${c.code}`,
        },
        evidence: [o.evidence],
      },
    });
  }
  for (const s of sc.scripts) {
    if (s.state !== "failed") continue;
    out.push({
      id: "SHELLCHECK",
      instructionLine: s.instructionLine,
      finding: {
        status: "UNVERIFIED",
        messageId: "shellcheckFailed",
        subject: file,
        location: { path: file, line: s.instructionLine },
        message: `${file}:${s.instructionLine}: ${s.reason ?? "shellcheck gave no report"} for the RUN script`,
        data: { file, line: s.instructionLine },
        toVerify: "run shellcheck -s sh on the RUN's script by hand and fix what stops it",
        evidence: [o.evidence],
      },
    });
  }
  return out;
}

function passFinding(
  o: DockerfileObservation,
  ignored: { id: string; line: number; pragma: number }[],
): FindingInput {
  const { file } = o;
  const stages = o.stages ?? [];
  const bases = stages
    .filter((s) => s.pinning !== "stage")
    .map(
      (s) =>
        `${s.image} (${s.pinning === "digest" ? "by digest" : s.pinning === "tag" ? "by tag; a digest pins it exactly" : s.pinning})`,
    );
  const sc = o.shellcheck;
  const lint =
    sc?.state === "ran"
      ? (() => {
          const linted = sc.scripts.filter((s) => s.state === "linted").length;
          const skipped = sc.scripts.filter((s) => s.state === "skipped");
          const notes = sc.comments.filter((c) => c.level === "info" || c.level === "style").length;
          return (
            `${linted} RUN script(s) clean under ShellCheck ${sc.version ?? ""}`.trim() +
            (notes ? ` (${notes} info/style notes in the evidence)` : "") +
            (skipped.length
              ? `; ${skipped.length} not linted (${skipped.map((s) => s.shell).join(", ")})`
              : "")
          );
        })()
      : "no RUN script to lint";
  const silenced =
    ignored.length > 0
      ? `; silenced by hadolint pragma: ${ignored.map((i) => `${i.id} at line ${i.line} (pragma line ${i.pragma})`).join(", ")}`
      : "";
  const found = o.declared ? "" : " (found, not declared: list it in deployment.dockerfiles)";
  return {
    status: "PASS",
    messageId: "followsBestPractice",
    subject: file,
    location: { path: file },
    message: `${file}${found}: ${stages.length} stage(s), base ${bases.join(", ") || "from earlier stages"}; ${o.finalUser ? `runs as USER ${o.finalUser}` : "no USER"}; ${o.healthcheck ? "HEALTHCHECK present" : "no HEALTHCHECK"}; no secret in ENV/ARG; ${lint}${silenced}`,
    data: {
      file,
      stages: stages.length,
      user: o.finalUser ?? null,
      ignored: ignored.map((i) => `${i.id}@${i.line}`),
    },
    evidence: [o.evidence],
    measurements: [
      { name: "dockerfile.stages", value: stages.length, unit: "stages", evidence: o.evidence },
      {
        name: "dockerfile.runScriptsLinted",
        value: sc?.state === "ran" ? sc.scripts.filter((s) => s.state === "linted").length : 0,
        unit: "scripts",
        evidence: o.evidence,
      },
    ],
  };
}
