// Dockerfiles in a repository, by the names Docker, BuildKit and Podman look for: `Dockerfile`, `Containerfile`,
// `Dockerfile.<variant>`, `<variant>.Dockerfile` (any case). Used when the spec lists none (a system built into an
// image is judged whether or not the spec says so) and by `gauntlet init`. Dependency, build-output and test-fixture
// folders are not searched: what is found there is not what this system ships.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

const NAME = /^(?:dockerfile|containerfile)(?:\.[\w.-]+)?$|^[\w.-]+\.(?:dockerfile|containerfile)$/i;
const SKIPPED = new Set([
  ".git",
  "node_modules",
  ".gauntlet",
  "vendor",
  "dist",
  "build",
  "target",
  ".venv",
  "venv",
  "__pycache__",
  "test",
  "tests",
  "__tests__",
  "fixtures",
  "__fixtures__",
  "testdata",
]);

/** Variants are named for their purpose (Dockerfile.dev, Dockerfile.alpine); these endings are other files. */
const NOT_A_VARIANT = /\.(?:md|txt|orig|bak|swp|ts|js|mjs|cjs|map|py|go|rs|json|ya?ml|sh|toml|lock)$/i;

export function isDockerfileName(name: string): boolean {
  return NAME.test(name) && !NOT_A_VARIANT.test(name);
}

/** Dockerfiles under `repoDir` down to `maxDepth` folders below it, relative with forward slashes, sorted. */
export async function findDockerfiles(repoDir: string, maxDepth = 3): Promise<string[]> {
  const found: string[] = [];
  const visit = async (relative: string, depth: number): Promise<void> => {
    const entries = await readdir(path.join(repoDir, relative), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (depth < maxDepth && !SKIPPED.has(entry.name) && !entry.name.startsWith("."))
          await visit(child, depth + 1);
      } else if (entry.isFile() && isDockerfileName(entry.name)) {
        // A file of that name holding no FROM is something else (a template's fragment, a note).
        const text = await readFile(path.join(repoDir, child), "utf8").catch(() => "");
        if (/^\s*FROM\s/im.test(text)) found.push(child);
      }
    }
  };
  await visit("", 0);
  return found.sort();
}
