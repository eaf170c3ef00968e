// `gauntlet init [--dir DIR] [--force]`: writes a first gauntlet.yaml from what the folder holds (compose
// services, Kubernetes Services, Dockerfiles, deploy and rollback scripts, package.json, .env.example, Prometheus
// rules, coverage reports, runbooks, CI pipelines, backups; src/engines/discovery/), commented, with a TODO for every
// value only the user knows. It never overwrites a spec unless --force; the text it writes is validated first, as
// `gauntlet validate` would (a draft that does not validate is a bug: exit 4, nothing written).
import { randomBytes } from "node:crypto";
import { rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { CHECK_IDS } from "../checks/ids.js";
import { displayPath, SpecError } from "../spec/problems.js";
import { type CliIO, UserError } from "./io.js";
import { terminalText } from "./terminal.js";

export interface InitFlags {
  dir: string;
  force?: boolean;
}

const SPEC_NAMES = ["gauntlet.yaml", "gauntlet.yml"];

export async function initCommand(flags: InitFlags, io: CliIO): Promise<number> {
  const dir = path.resolve(flags.dir);
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) {
    throw new UserError(
      `${displayPath(dir)} is not a folder: pass --dir with the folder of the system to describe`,
    );
  }
  const target = path.join(dir, "gauntlet.yaml");
  if (!flags.force) {
    for (const name of SPEC_NAMES) {
      const existing = path.join(dir, name);
      if (await stat(existing).catch(() => null)) {
        throw new UserError(
          `${displayPath(existing)} already exists: gauntlet init never overwrites a spec. Edit it, or run gauntlet init --force to replace it with a new draft`,
        );
      }
    }
  }

  const [{ discoverSystem }, { renderSpecDraft }, { parseSpec }] = await Promise.all([
    import("../engines/discovery/discover.js"),
    import("../engines/discovery/specDraft.js"),
    import("../spec/loader.js"),
  ]);
  // The shell's environment fills compose's ${VAR}s (ports), as `docker compose` would; no value of it is written.
  const draft = await discoverSystem(dir, process.env);
  const { text, todos } = renderSpecDraft(draft, { tool: "gauntlet init" });
  try {
    // With an empty environment: the draft must validate before anything is set (its ${VAR}s are in comments).
    parseSpec(text, target, { env: {}, checkIds: CHECK_IDS });
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    throw new Error(`the spec gauntlet init drafted does not validate (a bug): ${error.format()}`);
  }

  await writeSpec(target, text, flags.force === true);
  const shown = terminalText(displayPath(target));
  io.out(
    `wrote ${shown}: ${draft.services.length} service${draft.services.length === 1 ? "" : "s"}, valid as written`,
  );
  io.out(
    draft.found.length
      ? "found:"
      : "found nothing Gauntlet recognises (no compose file, manifest, Dockerfile or script)",
  );
  for (const line of draft.found) io.out(`  ${terminalText(line)}`);
  for (const note of draft.notes) io.out(`  note: ${terminalText(note)}`);
  if (todos.length) {
    io.out(`still to fill in (TODO in ${shown}):`);
    for (const todo of todos) io.out(`  ${shown}:${todo.line}  ${todo.key}: ${terminalText(todo.text)}`);
  }
  io.out(`next: gauntlet validate ${shown}, then gauntlet assess ${shown}`);
  return 0;
}

/** Writes the spec without replacing one unless `force` (then atomically: a reader sees the old file or the new one). */
async function writeSpec(target: string, text: string, force: boolean): Promise<void> {
  if (!force) {
    try {
      await writeFile(target, text, { flag: "wx", mode: 0o644 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw new UserError(
          `${displayPath(target)} appeared meanwhile: gauntlet init never overwrites a spec (--force to replace it)`,
        );
      }
      throw userWriteError(target, error);
    }
    return;
  }
  const temporary = `${target}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, text, { flag: "wx", mode: 0o644 });
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw userWriteError(target, error);
  }
}

function userWriteError(target: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return new UserError(`cannot write ${displayPath(target)} (${code}): pick a folder you can write to`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

export function registerInit(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("init")
    .description(
      "write a first gauntlet.yaml from the compose files, manifests, scripts and reports in a folder",
    )
    .option("--dir <dir>", "the folder of the system (the spec is written there)", ".")
    .option("--force", "replace an existing gauntlet.yaml")
    .action(async (flags: InitFlags) => setExit(await initCommand(flags, io)));
}
