// .gitignore rules as git applies them in a work tree: every .gitignore from the top folder down to a path's folder,
// each pattern relative to the folder holding its file, the deepest file deciding first. Outside git the "top" is the
// folder the system lives in; .git/info/exclude and core.excludesFile belong to a repository and are not read.
import { readFile } from "node:fs/promises";
import path from "node:path";
import ignore, { type Ignore } from "ignore";
import { isInside, toPosix } from "./glob.js";

const GITIGNORE = ".gitignore";

interface Layer {
  dir: string;
  lines: readonly string[];
  rules: Ignore;
}

function layer(dir: string, lines: readonly string[]): Layer {
  return { dir, lines, rules: ignore().add(lines) };
}

export class GitignoreRules {
  private constructor(private readonly layers: readonly Layer[]) {}

  static readonly none = new GitignoreRules([]);

  /**
   * The rules from the .gitignore files above `walkRoot`, from `top` down (its own is read when the walk enters it).
   * A root the spec names is walked even when a rule ignores it or a folder above it: the spec says it is part of the
   * system, so those rules are set aside for this walk and every other rule (a `*.log`) still applies inside it.
   */
  static async forWalk(top: string, walkRoot: string): Promise<GitignoreRules> {
    if (walkRoot === top || !isInside(top, walkRoot)) return GitignoreRules.none;
    let rules = await GitignoreRules.none.enter(top);
    const chain: string[] = [];
    for (const segment of path.relative(top, walkRoot).split(path.sep)) {
      const dir = path.join(chain.at(-1) ?? top, segment);
      chain.push(dir);
      if (dir !== walkRoot) rules = await rules.enter(dir);
    }
    return chain.some((dir) => rules.ignores(dir, true)) ? rules.without(chain) : rules;
  }

  /** These rules without the lines that ignore one of these folders. */
  private without(folders: readonly string[]): GitignoreRules {
    return new GitignoreRules(
      this.layers.map(({ dir, lines }) => {
        const inside = folders
          .filter((folder) => folder !== dir && isInside(dir, folder))
          .map((folder) => `${toPosix(path.relative(dir, folder))}/`);
        const kept = lines.filter((line) => {
          const single = ignore().add(line);
          return !inside.some((folder) => single.test(folder).ignored);
        });
        return layer(dir, kept);
      }),
    );
  }

  /** These rules plus dir's own .gitignore, if it has one (`hasFile` false skips the read). */
  async enter(dir: string, hasFile = true): Promise<GitignoreRules> {
    if (!hasFile) return this;
    const text = await readFile(path.join(dir, GITIGNORE), "utf8").catch(() => null);
    if (text === null) return this;
    return new GitignoreRules([...this.layers, layer(dir, text.split(/\r?\n/))]);
  }

  /**
   * Whether git would ignore this path. The caller walks top-down and never enters an ignored folder, so a path here
   * has no ignored folder above it. A deeper `!build/` re-including a folder an outer `build/` ignores re-includes
   * the folder but not what it holds (the outer file still matches the parent): rare, and errs on leaving out.
   */
  ignores(file: string, isDirectory: boolean): boolean {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i]!;
      const relative = toPosix(path.relative(layer.dir, file));
      if (!relative || relative === ".." || relative.startsWith("../")) continue;
      const result = layer.rules.test(isDirectory ? `${relative}/` : relative);
      if (result.ignored) return true;
      if (result.unignored) return false;
    }
    return false;
  }
}
