// The Dockerfile rule pack: each rule carries hadolint's DL id where hadolint has the rule (its wiki explains it), or a
// gauntlet/ id where it has none. A rule finds facts and their place; the check decides what they weigh. What ships is
// the final stage and the stages it builds on (`FROM builder`): the rules about the running container (user,
// healthcheck, CMD form, apt lists, build tools) read only those, the rules about how the image is built read all.
// Secrets in ENV/ARG are buildSecrets.ts's, ShellCheck's comments shellcheck.ts's.
import { imagePinning, parseImageReference } from "../images/imageReference.js";
import {
  chainInstructions,
  type DockerfileModel,
  type DockerInstruction,
  isKnownKeyword,
  joinContinuations,
  stageChain,
  substituteVariables,
} from "./parse.js";
import { dockerfilePositionAt, type RunScript, runScripts } from "./runScripts.js";
import { type ShellCommand, shellCommands } from "./shellCommands.js";

export interface RuleHit {
  rule: string;
  line: number;
  column: number;
  /** The line of the instruction the hit belongs to: what an inline `# hadolint ignore=` pragma names. */
  instructionLine: number;
  stage: number;
  /** Facts for the message (image, user, package…): never a secret. */
  detail: Record<string, string | number | boolean>;
}

export interface RuleInfo {
  /** What is wrong, in one line. */
  title: string;
  /** How to fix it, in one line. */
  fix: string;
}

export const DOCKERFILE_RULES: Readonly<Record<string, RuleInfo>> = {
  "gauntlet/not-a-dockerfile": {
    title: "the file holds no FROM instruction",
    fix: "start the Dockerfile with FROM <image>:<tag> (or list only Dockerfiles in deployment.dockerfiles)",
  },
  "gauntlet/unknown-instruction": {
    title: "an instruction Docker does not know: the build stops here",
    fix: "correct the instruction's name (FROM, RUN, COPY, ENV, …)",
  },
  DL3061: {
    title: "an instruction before the first FROM (only ARG may come before it)",
    fix: "move the instruction after FROM",
  },
  DL3006: {
    title: "the base image has no tag: it is whatever `latest` is on the day of the build",
    fix: "pin the image to a release tag, better a digest (image:tag@sha256:…)",
  },
  DL3007: {
    title: "the base image is `latest`: a rebuild may pick up an incompatible release",
    fix: "pin the image to a release tag, better a digest (image:tag@sha256:…)",
  },
  "gauntlet/image-from-build-arg": {
    title:
      "the base image comes from a build argument without a default: what is built depends on who builds it",
    fix: "give the ARG a pinned default (ARG BASE=image:tag@sha256:…)",
  },
  DL3002: {
    title: "the last USER of the image is root: the container runs as root",
    fix: "add a non-root USER (e.g. USER 10001) after the steps that need root",
  },
  "gauntlet/no-user": {
    title: "the image never sets USER: the container runs as its base image's user, root for most images",
    fix: "create a user and switch to it in the final stage (RUN useradd -r app … then USER app, or USER 10001)",
  },
  "gauntlet/user-from-base": {
    title: "the final stage sets no USER and relies on its base image's (non-root by its name) default user",
    fix: "state the user explicitly (e.g. USER 65532 for distroless :nonroot) so a base image change cannot make it root",
  },
  "gauntlet/user-from-entrypoint": {
    title:
      "the final stage sets no USER; it installs a step-down tool (gosu, su-exec) for its ENTRYPOINT to drop root, which Gauntlet does not read",
    fix: "make sure the entrypoint drops to a non-root user before it starts the service, or set USER",
  },
  "gauntlet/add-url-unchecked": {
    title: "ADD downloads a URL without --checksum: the build trusts whatever the server sends",
    fix: "add --checksum=sha256:… to the ADD (or download in RUN and verify with sha256sum -c)",
  },
  DL3020: {
    title: "ADD for a local file or folder that is not an archive",
    fix: "use COPY: ADD also extracts archives and fetches URLs, COPY does only what it says",
  },
  "gauntlet/pipe-to-shell": {
    title: "a downloaded script is piped into a shell: the build runs unverified code from the network",
    fix: "download to a file, verify its checksum or signature (sha256sum -c), then run it",
  },
  DL3015: {
    title: "apt-get install without --no-install-recommends: recommended packages bloat the image",
    fix: "add --no-install-recommends to apt-get install",
  },
  DL3009: {
    title: "apt lists are left in the image after apt-get update",
    fix: "end the same RUN with rm -rf /var/lib/apt/lists/* (or use a cache mount for /var/lib/apt/lists)",
  },
  DL3005: {
    title: "apt-get dist-upgrade in a build: it may replace the base image's release packages",
    fix: "use a newer base image tag instead, or apt-get upgrade for security updates only",
  },
  DL3003: {
    title: "cd inside RUN: the directory does not carry over to the next instruction",
    fix: "use WORKDIR to switch directories",
  },
  DL4000: {
    title: "MAINTAINER is deprecated",
    fix: 'use LABEL org.opencontainers.image.authors="…"',
  },
  DL3025: {
    title:
      "CMD/ENTRYPOINT in shell form: /bin/sh -c becomes PID 1 and the application never receives SIGTERM",
    fix: 'use the JSON form (CMD ["node", "server.js"]), or start the shell form with exec',
  },
  DL3057: {
    title:
      "the final image has no HEALTHCHECK: docker and compose cannot tell a hung container from a healthy one",
    fix: "add HEALTHCHECK CMD <a command that probes the service> (Kubernetes ignores it and uses probes)",
  },
  "gauntlet/build-tools-in-final-stage": {
    title:
      "the final stage installs build tools (compilers, dev dependencies) that the running service does not need",
    fix: "build in an earlier stage and COPY --from it only what runs (multi-stage build), or remove the tools in the same RUN",
  },
};

const FETCHERS = new Set(["curl", "wget", "fetch"]);
const INTERPRETERS = new Set([
  "sh",
  "bash",
  "dash",
  "zsh",
  "ash",
  "ksh",
  "mksh",
  "python",
  "python2",
  "python3",
  "perl",
  "ruby",
  "node",
  "php",
]);
const BUILD_PACKAGES = new Set([
  "build-essential",
  "build-base",
  "gcc",
  "g++",
  "gcc-c++",
  "clang",
  "make",
  "cmake",
  "autoconf",
  "automake",
  "libtool",
  "golang",
  "golang-go",
  "rustc",
  "cargo",
]);
/** Archives ADD extracts (where ADD of a local file is the right instruction). */
const ARCHIVE =
  /\.(?:tar|tar\.gz|tgz|tar\.bz2|tbz|tbz2|tb2|tar\.xz|txz|tar\.lz|tar\.lzma|tlz|tar\.Z|tZ|tar\.zst|tzst)$/i;
const NON_ROOT_BASE = /nonroot|non-root|unprivileged|rootless/i;
/** Tools an entrypoint uses to step down from root (the official database images' pattern). */
const STEP_DOWN = new Set(["gosu", "su-exec", "setpriv", "chpst"]);
const STEP_DOWN_WORD = /(?:^|[/\s-])(?:gosu|su-exec)(?:$|[\s.-])/;

interface RunCommands {
  ins: DockerInstruction;
  script: RunScript | null;
  commands: ShellCommand[];
}

export function lintDockerfile(model: DockerfileModel): RuleHit[] {
  const hits: RuleHit[] = [];
  const hit = (
    rule: string,
    ins: DockerInstruction,
    detail: RuleHit["detail"] = {},
    at?: { line: number; column: number },
  ) =>
    hits.push({
      rule,
      line: at?.line ?? ins.line,
      column: at?.column ?? ins.column,
      instructionLine: ins.line,
      stage: ins.stage,
      detail,
    });

  const first = model.instructions[0];
  if (model.stages.length === 0) {
    hits.push({
      rule: "gauntlet/not-a-dockerfile",
      line: first?.line ?? 1,
      column: 1,
      instructionLine: first?.line ?? 1,
      stage: -1,
      detail: {},
    });
    return hits;
  }
  for (const ins of model.instructions) {
    if (!isKnownKeyword(ins.keyword)) hit("gauntlet/unknown-instruction", ins, { instruction: ins.keyword });
    else if (ins.stage < 0 && ins.keyword !== "ARG") hit("DL3061", ins, { instruction: ins.keyword });
    if (ins.keyword === "MAINTAINER") hit("DL4000", ins);
  }
  fromRules(model, hit);

  const runs = runCommandsOf(model);
  const finalStage = model.stages.length - 1;
  const shipped = new Set(stageChain(model, finalStage).map((s) => s.index));
  for (const run of runs) buildRules(run, hit, shipped.has(run.ins.stage));
  for (const ins of model.instructions) if (ins.keyword === "ADD") addRules(ins, model.escapeChar, hit);
  finalStageRules(model, runs, hit);
  return hits.sort((a, b) => a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule));
}

type Hit = (
  rule: string,
  ins: DockerInstruction,
  detail?: RuleHit["detail"],
  at?: { line: number; column: number },
) => void;

function fromRules(model: DockerfileModel, hit: Hit): void {
  for (const stage of model.stages) {
    const ins = model.instructions[stage.instructions[0]!]!;
    if (stage.parent !== undefined) continue;
    if (stage.resolvedImage === null) {
      hit("gauntlet/image-from-build-arg", ins, {
        image: stage.image,
        variables: stage.unresolved.join(", "),
      });
      continue;
    }
    const ref = parseImageReference(stage.resolvedImage);
    if (ref.repository === "scratch" && !ref.registry) continue;
    const pinning = imagePinning(ref);
    if (pinning === "untagged") hit("DL3006", ins, { image: stage.resolvedImage });
    else if (pinning === "latest") hit("DL3007", ins, { image: stage.resolvedImage });
  }
}

/** Every RUN's commands: a shell-form script tokenised, an exec form as its one command (or its `sh -c` script). */
function runCommandsOf(model: DockerfileModel): RunCommands[] {
  const scripts = new Map(runScripts(model).map((s) => [s.instruction, s]));
  const out: RunCommands[] = [];
  model.instructions.forEach((ins, index) => {
    if (ins.keyword !== "RUN") return;
    const script = scripts.get(index) ?? null;
    if (script) {
      out.push({ ins, script, commands: shellCommands(script.text) });
    } else if (ins.json && ins.json.length > 0) {
      const [program, ...args] = ins.json;
      const shellC = /(?:^|\/)(?:ba|da|z|k)?sh$/.test(program!) && args[0] === "-c" && args[1] !== undefined;
      const commands = shellC
        ? shellCommands(args[1]!).map((c) => ({ ...c, offset: 0 }))
        : [{ program: program!.split("/").at(-1)!, args, assignments: [], offset: 0, nested: false }];
      out.push({ ins, script: null, commands });
    }
  });
  return out;
}

function positionOf(run: RunCommands, command: ShellCommand): { line: number; column: number } | undefined {
  return run.script ? dockerfilePositionAt(run.script, command.offset) : undefined;
}

const isApt = (c: ShellCommand) => c.program === "apt-get" || c.program === "apt" || c.program === "aptitude";

function buildRules(run: RunCommands, hit: Hit, shipped: boolean): void {
  const { ins, commands } = run;
  for (const [index, command] of commands.entries()) {
    const at = positionOf(run, command);
    if (command.program === "cd") hit("DL3003", ins, {}, at);
    if (isApt(command) && command.args.some((a) => a === "dist-upgrade" || a === "full-upgrade")) {
      hit("DL3005", ins, {}, at);
    }
    if (shipped && isApt(command) && command.args.includes("install") && !disablesRecommends(command)) {
      hit("DL3015", ins, {}, at);
    }
    const fetched = pipedFromFetcher(commands, index);
    if (INTERPRETERS.has(command.program) && (fetched || runsFetchedScript(command))) {
      hit(
        "gauntlet/pipe-to-shell",
        ins,
        { fetcher: fetched ?? "curl/wget", interpreter: command.program },
        at,
      );
    }
  }
  if (shipped) {
    const update = commands.find((c) => isApt(c) && c.args.includes("update"));
    const cleaned = commands.some(
      (c) => c.program === "rm" && c.args.some((a) => a.replace(/\/+$/, "").startsWith("/var/lib/apt/lists")),
    );
    if (update && !cleaned && !aptListsMounted(run.script?.mounts ?? mountsOf(ins))) {
      hit("DL3009", ins, {}, positionOf(run, update));
    }
  }
}

function mountsOf(ins: DockerInstruction): string[] {
  return ins.flags.filter((f) => f.name === "mount" && f.value).map((f) => f.value!);
}

function disablesRecommends(command: ShellCommand): boolean {
  return command.args.some(
    (a) =>
      a === "--no-install-recommends" ||
      a.startsWith("--no-install-recommends=") ||
      /APT::Install-Recommends=(?:false|0|no)/i.test(a),
  );
}

/** The fetcher (curl, wget) whose output reaches this command through a pipe, if any. */
function pipedFromFetcher(commands: ShellCommand[], index: number): string | undefined {
  const seen = new Set<number>();
  let from = commands[index]!.pipeFrom;
  while (from !== undefined && !seen.has(from)) {
    seen.add(from);
    const source = commands[from]!;
    if (FETCHERS.has(source.program)) return source.program;
    from = source.pipeFrom;
  }
  return undefined;
}

/** `sh -c "$(curl …)"` and `bash <(curl …)`: a downloaded script run without a pipe. */
function runsFetchedScript(command: ShellCommand): boolean {
  const c = command.args.indexOf("-c");
  if (c >= 0 && /(?:\$\(|`)\s*(?:curl|wget)\b/.test(command.args[c + 1] ?? "")) return true;
  return command.args.some((a) => /^<\(\s*(?:curl|wget)\b/.test(a));
}

/** A cache or tmpfs mount on the apt lists keeps them out of the image. */
function aptListsMounted(mounts: string[]): boolean {
  const targets = mounts
    .map((m) => Object.fromEntries(m.split(",").map((kv) => kv.split("=", 2) as [string, string])))
    .filter((m) => m.type === "cache" || m.type === "tmpfs")
    .map((m) => (m.target ?? m.dst ?? m.destination ?? "").replace(/\/+$/, ""));
  return (
    targets.includes("/var/lib/apt/lists") ||
    (targets.includes("/var/lib/apt") && targets.includes("/var/cache/apt"))
  );
}

function addRules(ins: DockerInstruction, escapeChar: string, hit: Hit): void {
  const words = ins.json ?? splitWords(ins.args, escapeChar);
  const sources = words.slice(0, -1).filter((w) => !w.startsWith("<<"));
  const checksum = ins.flags.some((f) => f.name === "checksum" && f.value);
  for (const source of sources) {
    const url = /^(?:https?|ftp):\/\//i.test(source);
    const git = /^git@|\.git(?:#|$)/.test(source);
    if (url || git) {
      const pinnedCommit = git && /#[0-9a-f]{40}$/i.test(source);
      // A URL's password never leaves as a fact (the secret rules register it for redaction as well).
      const shown = source.replace(/(\/\/[^/@:\s]*):[^/@\s]*@/, "$1:…@");
      if (!checksum && !pinnedCommit) hit("gauntlet/add-url-unchecked", ins, { source: shown });
    } else if (!ARCHIVE.test(source)) {
      hit("DL3020", ins, { source });
    }
  }
}

/** ADD's words as Docker splits them: on blanks, quotes removed (escaped line ends already joined). */
function splitWords(args: string, escapeChar: string): string[] {
  const words: string[] = [];
  for (const match of joinContinuations(args, escapeChar).matchAll(/"((?:\\.|[^"\\])*)"|'([^']*)'|(\S+)/g)) {
    words.push(match[1] ?? match[2] ?? match[3]!);
  }
  return words;
}

function finalStageRules(model: DockerfileModel, runs: RunCommands[], hit: Hit): void {
  const finalIndex = model.stages.length - 1;
  const finalStage = model.stages[finalIndex]!;
  const fromIns = model.instructions[finalStage.instructions[0]!]!;
  const chain = chainInstructions(model, finalIndex);
  const variables: Record<string, string | null> = { ...model.globalArgs };
  let user: DockerInstruction | undefined;
  let userName = "";
  let healthcheck: DockerInstruction | undefined;
  let cmd: DockerInstruction | undefined;
  let entrypoint: DockerInstruction | undefined;
  for (const ins of chain) {
    if (ins.keyword === "ENV" || ins.keyword === "ARG") {
      for (const p of ins.properties)
        if (p.value !== null || ins.keyword === "ARG") variables[p.name] = p.value;
    }
    if (ins.keyword === "USER") {
      user = ins;
      userName = substituteVariables(ins.args.trim(), variables).text || ins.args.trim();
    }
    if (ins.keyword === "HEALTHCHECK") healthcheck = ins;
    if (ins.keyword === "CMD") cmd = ins;
    if (ins.keyword === "ENTRYPOINT") entrypoint = ins;
  }

  if (!user) {
    const base = stageChain(model, finalIndex).at(-1)!;
    const inChain = new Set(chain);
    const stepDown = runs.find(
      (r) =>
        inChain.has(r.ins) &&
        r.commands.some((c) => STEP_DOWN.has(c.program) || c.args.some((a) => STEP_DOWN_WORD.test(a))),
    );
    if (base.resolvedImage && NON_ROOT_BASE.test(base.resolvedImage)) {
      hit("gauntlet/user-from-base", fromIns, { image: base.resolvedImage });
    } else if (stepDown && entrypoint) {
      hit("gauntlet/user-from-entrypoint", entrypoint, { installedAt: stepDown.ins.line });
    } else {
      hit("gauntlet/no-user", fromIns, { image: base.resolvedImage ?? base.image });
    }
  } else if (/^(?:root|0)(?::.*)?$/.test(userName)) {
    hit("DL3002", user, { user: userName });
  }

  if (!healthcheck) hit("DL3057", fromIns, { state: "missing" });
  else if (/^NONE\b/i.test(healthcheck.args.trim())) hit("DL3057", healthcheck, { state: "disabled" });

  for (const ins of [cmd, entrypoint]) {
    if (ins && ins.json === null && ins.args.trim() !== "" && !/^exec\s/.test(ins.args.trim())) {
      hit("DL3025", ins, { instruction: ins.keyword });
    }
  }

  buildToolRules(runs, chain, hit);
}

function buildToolRules(runs: RunCommands[], chain: DockerInstruction[], hit: Hit): void {
  const inChain = new Set(chain);
  const chainRuns = runs.filter((r) => inChain.has(r.ins));
  let nodeEnvProduction = false;
  const pruned = chainRuns.some((r) => r.commands.some(prunesDevDependencies));
  for (const ins of chain) {
    if (ins.keyword === "ENV" || ins.keyword === "ARG") {
      for (const p of ins.properties) if (p.name === "NODE_ENV") nodeEnvProduction = p.value === "production";
    }
    const run = chainRuns.find((r) => r.ins === ins);
    if (!run) continue;
    const removes = run.commands.some(removesPackages);
    for (const command of run.commands) {
      const at = positionOf(run, command);
      if (!removes) {
        const tools = installedPackages(command).filter((p) => BUILD_PACKAGES.has(p));
        if (tools.length > 0)
          hit("gauntlet/build-tools-in-final-stage", ins, { tools: tools.join(", ") }, at);
      }
      const production = nodeEnvProduction || command.assignments.some((a) => a === "NODE_ENV=production");
      if (!production && !pruned && installsDevDependencies(command)) {
        hit("gauntlet/build-tools-in-final-stage", ins, { tools: `${command.program} devDependencies` }, at);
      }
    }
  }
}

/** The packages an install command names (apt-get/apt install, apk add, yum/dnf/microdnf install), versions cut. */
function installedPackages(command: ShellCommand): string[] {
  const { program, args } = command;
  const verb =
    isApt(command) || ["yum", "dnf", "microdnf", "zypper"].includes(program)
      ? "install"
      : program === "apk"
        ? "add"
        : null;
  if (!verb) return [];
  const at = args.indexOf(verb);
  if (at < 0) return [];
  return args
    .slice(at + 1)
    .filter((a) => !a.startsWith("-") && !a.startsWith("$"))
    .map((a) => a.split(/[=<>]/)[0]!.toLowerCase());
}

function removesPackages(command: ShellCommand): boolean {
  const { program, args } = command;
  if (isApt(command)) return args.some((a) => a === "purge" || a === "remove" || a === "autoremove");
  if (program === "apk") return args.includes("del");
  if (["yum", "dnf", "microdnf", "zypper"].includes(program)) {
    return args.some((a) => a === "remove" || a === "erase" || a === "autoremove");
  }
  return false;
}

const PRODUCTION_FLAGS = /^(?:--production(?:=true)?|--prod|-P|--omit=dev|--only=prod(?:uction)?)$/;

function installsDevDependencies(command: ShellCommand): boolean {
  const { program, args } = command;
  const production = args.some(
    (a, i) => PRODUCTION_FLAGS.test(a) || (a === "--omit" && args[i + 1] === "dev"),
  );
  if (production || args.includes("-g") || args.includes("--global")) return false;
  const positional = (from: number) => args.slice(from).filter((a) => !a.startsWith("-"));
  if (program === "npm") {
    const verb = args[0];
    return (verb === "install" || verb === "i" || verb === "ci") && positional(1).length === 0;
  }
  if (program === "yarn") {
    if (args.some((a) => /^(?:-v|--version|-h|--help)$/.test(a))) return false;
    return args.length === 0 || args[0] === "install" || args[0]!.startsWith("-");
  }
  if (program === "pnpm") {
    const verb = args[0];
    return (verb === "install" || verb === "i") && positional(1).length === 0;
  }
  return false;
}

function prunesDevDependencies(command: ShellCommand): boolean {
  const { program, args } = command;
  const production = args.some(
    (a, i) => PRODUCTION_FLAGS.test(a) || (a === "--omit" && args[i + 1] === "dev"),
  );
  if ((program === "npm" || program === "pnpm") && args[0] === "prune") return production;
  return false;
}
