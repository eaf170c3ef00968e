// Is every required environment variable set to something real? Values are secrets as often as not: they are handed
// to the redactor first, and nothing this check writes carries a value, only its name, whether it is set, its length
// and the placeholder rule it matched.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { MIN_SECRET_LENGTH } from "../../secrets/redactor.js";

/** Rules for values that were obviously never filled in; matched against the whole trimmed value, any case. */
// Rule names describe the pattern, never the value itself: the value is a registered secret and would be redacted.
export const PLACEHOLDER_RULES: ReadonlyArray<{ rule: string; test: (value: string) => boolean }> = [
  { rule: "empty", test: (v) => v.length === 0 },
  { rule: "whitespace", test: (v) => v.length > 0 && v.trim().length === 0 },
  { rule: "change-me-word", test: (v) => /^change[-_ .]?me$/i.test(v.trim()) },
  { rule: "replace-me-word", test: (v) => /^replace[-_ .]?me$/i.test(v.trim()) },
  { rule: "to-do-marker", test: (v) => /^todo$/i.test(v.trim()) },
  { rule: "run-of-x", test: (v) => /^x{3,}$/i.test(v.trim()) },
  { rule: "angle-brackets", test: (v) => /^<[^<>]*>$/.test(v.trim()) },
  { rule: "unexpanded-variable", test: (v) => /^\$\{[^}]*\}$/.test(v.trim()) },
  { rule: "placeholder-word", test: (v) => /^placeholder$/i.test(v.trim()) },
  { rule: "generic-secret-word", test: (v) => /^secret$/i.test(v.trim()) },
  { rule: "generic-password-word", test: (v) => /^password$/i.test(v.trim()) },
  { rule: "example-word", test: (v) => /^example$/i.test(v.trim()) },
  { rule: "dummy-word", test: (v) => /^dummy$/i.test(v.trim()) },
  { rule: "your-prefix", test: (v) => /^your[-_]/i.test(v.trim()) },
];

/** The name of the first placeholder rule the value matches, or null for a value that looks real. */
export function placeholderRule(value: string): string | null {
  return PLACEHOLDER_RULES.find((r) => r.test(value))?.rule ?? null;
}

/** What is known about one value: never the value itself. */
interface ValueFacts {
  variable: string;
  source: string;
  set: boolean;
  length: number;
  placeholderRule: string | null;
}

export default defineCheck({
  meta: {
    id: "requiredEnvPresent",
    category: "deployment",
    risk: "high",
    destructive: false,
    title: "Required environment variables are set",
    objective:
      "Every variable in deployment.env.required is set to a real value (not empty or a placeholder) and documented in the example file.",
    remediation: {
      effort: "low",
      text: "Set {{variable}} to its real value in the deployment environment (or in the control.process.env of the service that needs it), and list it in the deployment.env.example file so the next deploy knows it is needed.",
    },
    timeoutMs: 5_000,
  },

  applies(spec) {
    const required = spec.deployment?.env?.required ?? [];
    return required.length > 0 ? true : notApplicable("deployment.env.required lists no variable");
  },

  async run(ctx) {
    const required = [...new Set(ctx.spec.deployment?.env?.required ?? [])];
    const processEnvs = Object.entries(ctx.spec.services).flatMap(([name, s]) =>
      s.control?.process?.env ? [{ service: name, env: s.control.process.env }] : [],
    );
    // Before anything is logged or written: every value a required name has, anywhere, is a secret.
    for (const variable of required) {
      ctx.secrets.add(ctx.env[variable]);
      for (const { env } of processEnvs) ctx.secrets.add(env[variable]);
    }

    const findings: FindingInput[] = [];
    const facts: ValueFacts[] = [];
    const exampleFile = ctx.spec.deployment?.env?.example;
    const example = exampleFile ? await readExample(ctx, exampleFile) : null;

    for (const variable of required) {
      const global = ctx.env[variable];
      const overrides = processEnvs.filter((p) => p.env[variable] !== undefined);
      if (global !== undefined) {
        facts.push(factsOf(variable, "environment", global));
      }
      for (const { service, env } of overrides) {
        facts.push(factsOf(variable, `services.${service}.control.process.env`, env[variable]!, service));
      }
      if (global === undefined && overrides.length === 0) {
        facts.push({ variable, source: "environment", set: false, length: 0, placeholderRule: null });
      }
    }

    const evidence = await ctx.evidence.writeJson("required-env.json", {
      required,
      values: facts,
      example: example
        ? {
            file: example.file,
            found: example.found,
            documented: example.found ? required.filter((v) => example.names.has(v)) : [],
          }
        : null,
      note: "values are never recorded; only whether each is set, its length and the placeholder rule it matched",
    });

    for (const f of facts) findings.push(judge(f, evidence));
    if (example && exampleFile) findings.push(...judgeExample(example, required, evidence));
    ctx.log.info(
      `checked ${required.length} required variable(s): ${facts.filter((f) => f.set && !f.placeholderRule).length} set to a real value`,
    );
    return findings;
  },
});

function factsOf(
  variable: string,
  source: string,
  value: string,
  service?: string,
): ValueFacts & { service?: string } {
  const facts: ValueFacts & { service?: string } = {
    variable,
    source,
    set: true,
    length: value.length,
    placeholderRule: placeholderRule(value),
  };
  if (service) facts.service = service;
  return facts;
}

function judge(f: ValueFacts & { service?: string }, evidence: string): FindingInput {
  const subject = f.service ?? f.variable;
  const where = f.service ? ` for service ${f.service} (${f.source})` : "";
  const data: Record<string, unknown> = {
    variable: f.variable,
    source: f.source,
    set: f.set,
    length: f.length,
    placeholderRule: f.placeholderRule,
  };
  if (f.service) data.service = f.service;
  const common = { subject, data, evidence: [evidence] };
  if (!f.set) return { ...common, status: "FAIL", message: `${f.variable} is required but not set` };
  if (f.placeholderRule) {
    return {
      ...common,
      status: "FAIL",
      message: `${f.variable}${where} is set to a placeholder (rule: ${f.placeholderRule}, length ${f.length})`,
    };
  }
  if (f.length < MIN_SECRET_LENGTH) {
    // Too short for the redactor to mask without mangling ordinary text, and too short to be a real secret.
    return {
      ...common,
      status: "WARN",
      message: `${f.variable}${where} is only ${f.length} characters: too short to be redacted from output, or to be a strong secret`,
    };
  }
  return { ...common, status: "PASS", message: `${f.variable}${where} is set (length ${f.length})` };
}

interface ExampleFile {
  file: string;
  found: boolean;
  names: Set<string>;
  error?: string;
}

async function readExample(ctx: CheckContext, exampleFile: string): Promise<ExampleFile> {
  const absolute = path.resolve(ctx.specDir, exampleFile);
  const file = path.relative(ctx.specDir, absolute).split(path.sep).join("/") || exampleFile;
  try {
    const text = await readFile(absolute, "utf8");
    return { file, found: true, names: exampleNames(text) };
  } catch (error) {
    return {
      file,
      found: false,
      names: new Set(),
      error: (error as NodeJS.ErrnoException).code ?? String(error),
    };
  }
}

/** Variable names an .env example defines (NAME=…, export NAME=…); commented-out lines do not count. */
export function exampleNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    if (match) names.add(match[1]!);
  }
  return names;
}

function judgeExample(example: ExampleFile, required: string[], evidence: string): FindingInput[] {
  const location = { path: example.file };
  if (!example.found) {
    return [
      {
        status: "WARN",
        subject: example.file,
        location,
        data: { file: example.file, variable: required.join(", "), error: example.error },
        evidence: [evidence],
        message: `deployment.env.example names ${example.file}, which cannot be read (${example.error})`,
      },
    ];
  }
  const missing = required.filter((v) => !example.names.has(v));
  if (missing.length === 0) {
    return [
      {
        status: "PASS",
        subject: example.file,
        location,
        data: { file: example.file },
        evidence: [evidence],
        message: `${example.file} documents all ${required.length} required variable(s)`,
      },
    ];
  }
  return missing.map((variable) => ({
    status: "WARN" as const,
    subject: example.file,
    location,
    data: { file: example.file, variable },
    evidence: [evidence],
    message: `${variable} is required but missing from ${example.file}`,
  }));
}
