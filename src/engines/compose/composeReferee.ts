// A second opinion from the compose tools installed here: `docker compose config -q`, `docker-compose config -q`
// (1.x) and `podman-compose config`. None needs a running engine for `config`. Their verdict is evidence only, never
// the judge: Debian's docker-compose 1.29 and older podman-compose predate the Compose Specification's `name`,
// `include` and `develop`, and the v2 plugin checks fewer references than the engine does at `up`.
import path from "node:path";
import { runCommand, which } from "../shell/run.js";

export interface RefereeVerdict {
  tool: "docker compose" | "docker-compose" | "podman-compose";
  version?: string;
  /** The command line, with file paths relative to the project folder. */
  command: string;
  /** true: exit 0; false: it refused the project; null: it could not judge (no config command, timeout, crash). */
  accepted: boolean | null;
  exitCode: number | null;
  durationMs: number;
  /** The last lines of what it printed on stderr (stdout is discarded: it holds the resolved file, secrets too). */
  output: string;
  note?: string;
}

const TAIL_LINES = 15;

interface Tool {
  tool: RefereeVerdict["tool"];
  command: string;
  prefix: string[];
  /** `config` arguments after the -f flags. */
  config: string[];
}

async function availableTools(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Tool[]> {
  const tools: Tool[] = [];
  const docker = await which("docker", env.PATH);
  if (docker) {
    const probe = await runCommand(docker, ["compose", "version"], { env, timeoutMs: 10_000, signal });
    if (probe.exitCode === 0)
      tools.push({ tool: "docker compose", command: docker, prefix: ["compose"], config: ["config", "-q"] });
  }
  const legacy = await which("docker-compose", env.PATH);
  if (legacy) tools.push({ tool: "docker-compose", command: legacy, prefix: [], config: ["config", "-q"] });
  const podman = await which("podman-compose", env.PATH);
  if (podman) tools.push({ tool: "podman-compose", command: podman, prefix: [], config: ["config"] });
  return tools;
}

async function versionOf(
  tool: Tool,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const run = await runCommand(tool.command, [...tool.prefix, "version"], { env, timeoutMs: 10_000, signal });
  const text = `${run.stdout}\n${run.stderr}`;
  const match =
    tool.tool === "podman-compose"
      ? /podman-composer? version:?\s+v?([\w.+-]+)/i.exec(text)
      : /version[:\s]+v?([\w.+-]+)/i.exec(text);
  return match?.[1]?.replace(/,$/, "");
}

/** Runs every compose tool found on PATH against the project's files, in the project's folder. */
export async function runReferees(
  files: readonly string[],
  options: {
    env: NodeJS.ProcessEnv;
    signal?: AbortSignal;
    timeoutMs?: number;
    redact: (text: string) => string;
  },
): Promise<RefereeVerdict[]> {
  const cwd = path.dirname(files[0]!);
  const verdicts: RefereeVerdict[] = [];
  for (const tool of await availableTools(options.env, options.signal)) {
    const version = await versionOf(tool, options.env, options.signal);
    const fileArgs = files.flatMap((f) => ["-f", path.relative(cwd, f) || path.basename(f)]);
    const args = [...tool.prefix, ...fileArgs, ...tool.config];
    const run = await runCommand(tool.command, args, {
      cwd,
      env: options.env,
      timeoutMs: options.timeoutMs ?? 20_000,
      signal: options.signal,
      maxOutputBytes: 256 * 1024,
    });
    // Paths inside the project are shown relative to it, like the command line.
    const relative = run.stderr.replaceAll(`${cwd}${path.sep}`, `.${path.sep}`);
    const noConfig = tool.tool === "podman-compose" && /invalid choice: 'config'/.test(run.stderr);
    const lines = options.redact(relative).trimEnd().split("\n");
    const stderr = (noConfig ? lines.filter((l) => /invalid choice/.test(l)) : lines)
      .slice(-TAIL_LINES)
      .join("\n");
    const base = {
      tool: tool.tool,
      ...(version ? { version } : {}),
      command: [tool.tool, ...fileArgs, ...tool.config].join(" "),
      exitCode: run.exitCode,
      durationMs: Math.round(run.durationMs),
      output: stderr,
    };
    if (run.timedOut) verdicts.push({ ...base, accepted: null, note: "timed out" });
    else if (run.spawnError)
      verdicts.push({ ...base, accepted: null, note: `could not start (${run.spawnError.code})` });
    else if (noConfig)
      verdicts.push({ ...base, accepted: null, note: "this podman-compose has no config command" });
    else verdicts.push({ ...base, accepted: run.exitCode === 0 });
  }
  return verdicts;
}
