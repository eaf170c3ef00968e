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
export interface ValueFacts {
  variable: string;
  /** "environment", or services.<name>.control.process.env */
  source: string;
  /** Set when the value comes from that service's control.process.env. */
  service?: string;
  set: boolean;
  length: number;
  placeholderRule: string | null;
}

export interface RequiredEnvObservation {
  required: string[];
  /** One entry per place a required variable is set (or one unset entry when it is set nowhere). */
  values: ValueFacts[];
  /** deployment.env.example, when the spec names one: which required names it defines. */
  example: { file: string; found: boolean; error?: string; documented: string[] } | null;
  evidence: string;
}

export default defineCheck<RequiredEnvObservation>({
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
    messages: {
      set: "the variable is set to a value that looks real",
      unset: "the variable is required but set nowhere",
      placeholder: "the variable is set to a placeholder (empty, changeme, <…>, your-…)",
      tooShort: "the value is too short to be redacted from output, or to be a strong secret",
      exampleComplete: "the example file defines every required variable",
      undocumented: "a required variable is missing from the example file",
      exampleUnreadable: "the example file the spec names cannot be read",
    },
    timeoutMs: 5_000,
  },

  applies(spec) {
    const required = spec.deployment?.env?.required ?? [];
    return required.length > 0 ? true : notApplicable("deployment.env.required lists no variable");
  },

  async observe(ctx) {
    const required = [...new Set(ctx.spec.deployment?.env?.required ?? [])];
    const processEnvs = Object.entries(ctx.spec.services).flatMap(([name, s]) =>
      s.control?.process?.env ? [{ service: name, env: s.control.process.env }] : [],
    );
    // Before anything is logged or written: every value a required name has, anywhere, is a secret.
    for (const variable of required) {
      ctx.secrets.add(ctx.env[variable]);
      for (const { env } of processEnvs) ctx.secrets.add(env[variable]);
    }

    const values: ValueFacts[] = [];
    for (const variable of required) {
      const global = ctx.env[variable];
      const overrides = processEnvs.filter((p) => p.env[variable] !== undefined);
      if (global !== undefined) values.push(factsOf(variable, "environment", global));
      for (const { service, env } of overrides) {
        values.push(factsOf(variable, `services.${service}.control.process.env`, env[variable]!, service));
      }
      if (global === undefined && overrides.length === 0) {
        values.push({ variable, source: "environment", set: false, length: 0, placeholderRule: null });
      }
    }
    const exampleFile = ctx.spec.deployment?.env?.example;
    const read = exampleFile ? await readExample(ctx, exampleFile) : null;
    const example = read
      ? {
          file: read.file,
          found: read.found,
          ...(read.error ? { error: read.error } : {}),
          documented: required.filter((v) => read.names.has(v)),
        }
      : null;
    const evidence = await ctx.evidence.writeJson("required-env.json", {
      required,
      values,
      example: example && { file: example.file, found: example.found, documented: example.documented },
      note: "values are never recorded; only whether each is set, its length and the placeholder rule it matched",
    });
    ctx.log.info(
      `checked ${required.length} required variable(s): ${values.filter((f) => f.set && !f.placeholderRule).length} set to a real value`,
    );
    return { required, values, example, evidence };
  },

  judge(observation) {
    const findings = observation.values.map((f) => judgeValue(f, observation.evidence));
    if (observation.example) findings.push(...judgeExample(observation, observation.example));
    return findings;
  },
});

function factsOf(variable: string, source: string, value: string, service?: string): ValueFacts {
  return {
    variable,
    source,
    ...(service ? { service } : {}),
    set: true,
    length: value.length,
    placeholderRule: placeholderRule(value),
  };
}

function judgeValue(f: ValueFacts, evidence: string): FindingInput {
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
  if (!f.set) {
    return {
      ...common,
      status: "FAIL",
      messageId: "unset",
      message: `${f.variable} is required but not set`,
    };
  }
  if (f.placeholderRule) {
    return {
      ...common,
      status: "FAIL",
      messageId: "placeholder",
      message: `${f.variable}${where} is set to a placeholder (rule: ${f.placeholderRule}, length ${f.length})`,
    };
  }
  if (f.length < MIN_SECRET_LENGTH) {
    // Too short for the redactor to mask without mangling ordinary text, and too short to be a real secret.
    return {
      ...common,
      status: "WARN",
      messageId: "tooShort",
      message: `${f.variable}${where} is only ${f.length} characters: too short to be redacted from output, or to be a strong secret`,
    };
  }
  return {
    ...common,
    status: "PASS",
    messageId: "set",
    message: `${f.variable}${where} is set (length ${f.length})`,
  };
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

function judgeExample(
  observation: RequiredEnvObservation,
  example: NonNullable<RequiredEnvObservation["example"]>,
): FindingInput[] {
  const { required, evidence } = observation;
  const common = { subject: example.file, location: { path: example.file }, evidence: [evidence] };
  if (!example.found) {
    return [
      {
        ...common,
        status: "WARN",
        messageId: "exampleUnreadable",
        data: { file: example.file, variable: required.join(", "), error: example.error },
        message: `deployment.env.example names ${example.file}, which cannot be read (${example.error})`,
      },
    ];
  }
  const missing = required.filter((v) => !example.documented.includes(v));
  if (missing.length === 0) {
    return [
      {
        ...common,
        status: "PASS",
        messageId: "exampleComplete",
        data: { file: example.file },
        message: `${example.file} documents all ${required.length} required variable(s)`,
      },
    ];
  }
  return missing.map((variable) => ({
    ...common,
    status: "WARN" as const,
    messageId: "undocumented",
    data: { file: example.file, variable },
    message: `${variable} is required but missing from ${example.file}`,
  }));
}
