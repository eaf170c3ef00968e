// Judge fixtures recorded from real runs: with RECORD_JUDGE_FIXTURES=1 an integration test writes the observation it
// made (and its spec) to test/fixtures/judge/<checkId>/<case>/, so the pure judge tests run on what real servers did.
// The recorded expected.json is then written by UPDATE_SNAPSHOT=1 on the judge test, and reviewed.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";

const ROOT = path.resolve(import.meta.dirname, "../fixtures/judge");

export function recordObservation(checkId: string, name: string, observation: unknown, spec: unknown): void {
  if (process.env.RECORD_JUDGE_FIXTURES !== "1") return;
  const dir = path.join(ROOT, checkId, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "observation.json"), `${JSON.stringify(observation, null, 2)}\n`);
  writeFileSync(path.join(dir, "spec.yaml"), stringify(withoutControl(spec)));
}

/**
 * The judge never reads how services are started; their commands name this machine's paths, so they are dropped.
 * A URL's password (a test's scratch datastore) is dropped too: fixtures are committed.
 */
function withoutControl(spec: unknown): unknown {
  const copy = structuredClone(spec) as { services?: Record<string, { control?: unknown }> };
  for (const service of Object.values(copy.services ?? {})) delete service.control;
  return withoutPasswords(copy);
}

function withoutPasswords(value: unknown): unknown {
  if (typeof value === "string") return value.replace(/(:\/\/[^/@\s:]*):[^/@\s]*@/g, "$1@");
  if (Array.isArray(value)) return value.map(withoutPasswords);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutPasswords(v)]));
  }
  return value;
}
