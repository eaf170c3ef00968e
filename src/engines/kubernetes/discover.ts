// Kubernetes manifests in a repository and what they run, for `gauntlet init`: the YAML files that hold Kubernetes
// objects (a shallow walk; dependency, build-output, test-fixture and chart-template folders left out), and the
// Services and workloads they define with their ports, replicas and probes, so a spec can name each service with its
// health path.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { type ManifestProblem, parseManifestText } from "./manifests.js";
import { effectiveReplicas } from "./review.js";
import { kubernetesFacts, type ProbeFacts, selectorMatches } from "./workloads.js";

const SKIPPED = new Set([
  ".git",
  "node_modules",
  ".gauntlet",
  "vendor",
  "dist",
  "build",
  "target",
  "test",
  "tests",
  "fixtures",
  "testdata",
  "templates",
  "charts",
]);
const OBJECT = /^apiVersion:\s*\S+/m;
const KIND = /^kind:\s*[A-Z]\w*/m;

/** YAML files under repoDir (down to maxDepth folders) that hold Kubernetes objects, relative, sorted. */
export async function findKubernetesManifests(repoDir: string, maxDepth = 3): Promise<string[]> {
  const found: string[] = [];
  const visit = async (relative: string, depth: number): Promise<void> => {
    const entries = await readdir(path.join(repoDir, relative), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (depth < maxDepth && !SKIPPED.has(entry.name) && !entry.name.startsWith("."))
          await visit(child, depth + 1);
      } else if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) {
        const text = await readFile(path.join(repoDir, child), "utf8").catch(() => "");
        // Compose files and CI pipelines are YAML too: only files with apiVersion and kind at the top level count.
        if (OBJECT.test(text) && KIND.test(text) && !/^services:/m.test(text)) found.push(child);
      }
    }
  };
  await visit("", 0);
  return found.sort();
}

export interface ProbeSummary {
  type: ProbeFacts["type"];
  path?: string;
  port?: string | number;
}

export interface KubernetesServiceSummary {
  name: string;
  namespace?: string;
  type: string;
  selector?: Record<string, string>;
  ports: { name?: string; port?: number; targetPort?: string | number; nodePort?: number }[];
  /** The workloads whose pods it selects. */
  workloads: string[];
  file: string;
  line: number;
}

export interface KubernetesWorkloadSummary {
  kind: string;
  name: string;
  namespace?: string;
  /** The replicas it keeps at least (an HPA's minReplicas when one scales it). */
  replicas: number;
  containers: {
    name: string;
    image?: string;
    ports: { name?: string; containerPort?: number }[];
    readiness?: ProbeSummary;
    liveness?: ProbeSummary;
  }[];
  file: string;
  line: number;
}

export interface KubernetesInventory {
  services: KubernetesServiceSummary[];
  workloads: KubernetesWorkloadSummary[];
  /** Files that could not be read or parsed (a template, broken YAML), with where. */
  problems: ManifestProblem[];
}

/** The Services and workloads the manifest files define (paths relative to baseDir are shown as given). */
export async function findKubernetesWorkloads(
  files: string[],
  baseDir = process.cwd(),
): Promise<KubernetesInventory> {
  const objects = [];
  const problems: ManifestProblem[] = [];
  for (const file of files) {
    const text = await readFile(path.resolve(baseDir, file), "utf8").catch((error: NodeJS.ErrnoException) => {
      problems.push({ file, line: 1, column: 1, message: `cannot read (${error.code ?? "error"})` });
      return null;
    });
    if (text === null) continue;
    const parsed = parseManifestText(text, file);
    objects.push(...parsed.objects);
    problems.push(...parsed.problems);
  }
  const facts = kubernetesFacts(objects);
  const probe = (p: ProbeFacts | undefined): ProbeSummary | undefined =>
    p
      ? {
          type: p.type,
          ...(p.path !== undefined ? { path: p.path } : {}),
          ...(p.port !== undefined ? { port: p.port } : {}),
        }
      : undefined;
  const workloads: KubernetesWorkloadSummary[] = facts.workloads.map((w) => ({
    kind: w.kind,
    name: w.name,
    ...(w.namespace ? { namespace: w.namespace } : {}),
    replicas: effectiveReplicas(facts, w),
    containers: w.containers
      .filter((c) => !c.init || c.sidecar)
      .map((c) => {
        const readiness = probe(c.readiness);
        const liveness = probe(c.liveness);
        return {
          name: c.name,
          ...(c.image ? { image: c.image } : {}),
          ports: c.ports,
          ...(readiness ? { readiness } : {}),
          ...(liveness ? { liveness } : {}),
        };
      }),
    file: w.at.file,
    line: w.at.line,
  }));
  const services: KubernetesServiceSummary[] = facts.services.map((s) => ({
    name: s.name,
    ...(s.namespace ? { namespace: s.namespace } : {}),
    type: s.type,
    ...(s.selector ? { selector: s.selector } : {}),
    ports: s.ports,
    workloads: facts.workloads
      .filter(
        (w) =>
          (w.namespace ?? "") === (s.namespace ?? "") &&
          selectorMatches({ matchLabels: s.selector }, w.podLabels),
      )
      .map((w) => `${w.kind}/${w.name}`),
    file: s.at.file,
    line: s.at.line,
  }));
  return { services, workloads, problems };
}
