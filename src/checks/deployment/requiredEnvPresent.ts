// Is every required environment variable set to something real? Values are secrets as often as not: they are handed
// to the redactor first, and nothing this check writes carries a value, only its name, whether it is set, its length
// and the placeholder rule it matched.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { type CheckContext, defineCheck, type FindingInput, notApplicable } from "../../core/types.js";
import { composeProjectsOf } from "../../engines/compose/composeFiles.js";
import { loadComposeProject } from "../../engines/compose/composeProject.js";
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
  /** The variables the compose files interpolate without a default, at their first use; absent without compose. */
  compose?: { files: string[]; unreadable?: string[]; variables: ComposeVariable[] };
  evidence: string;
}

/** A variable a compose file needs (no default), where it is first used, and whether the example file names it. */
export interface ComposeVariable {
  variable: string;
  file: string;
  line: number;
  column: number;
  documented: boolean;
}

export default defineCheck<RequiredEnvObservation>({
  meta: {
    id: "requiredEnvPresent",
    category: "deployment",
    risk: "high",
    destructive: false,
    title: "Required environment variables are set",
    objective:
      "Every variable in deployment.env.required is set to a real value (not empty or a placeholder) and documented in the example file, as is every variable a compose file interpolates without a default.",
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
      composeVariablesDocumented:
        "every variable the compose files interpolate without a default is in the example file",
      composeVariableUndocumented:
        "a compose file interpolates a variable without a default that the example file does not document",
      composeVariablesNoExample:
        "compose files interpolate variables without a default, and the spec names no deployment.env.example",
      composeUnreadable:
        "a compose file cannot be read or parsed, so the variables it interpolates are unknown",
    },
    timeoutMs: 5_000,
  },

  applies(spec) {
    const required = spec.deployment?.env?.required ?? [];
    if (required.length > 0 || (spec.deployment?.compose?.length ?? 0) > 0) return true;
    return notApplicable("deployment.env.required lists no variable and deployment.compose no compose file");
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
    const compose = await composeVariables(ctx, read?.names ?? new Set());
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
      ...(compose ? { compose } : {}),
      note: "values are never recorded; only whether each is set, its length and the placeholder rule it matched",
    });
    ctx.log.info(
      `checked ${required.length} required variable(s): ${values.filter((f) => f.set && !f.placeholderRule).length} set to a real value`,
    );
    return { required, values, example, ...(compose ? { compose } : {}), evidence };
  },

  judge(observation) {
    const findings = observation.values.map((f) => judgeValue(f, observation.evidence));
    const example = observation.example;
    if (example && (observation.required.length > 0 || !example.found))
      findings.push(...judgeExample(observation, example));
    if (observation.compose) findings.push(...judgeCompose(observation, observation.compose));
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
        data: {
          file: example.file,
          variable:
            [...required, ...(observation.compose?.variables.map((v) => v.variable) ?? [])].join(", ") ||
            "the variables it should list",
          error: example.error,
        },
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

/**
 * The variables the compose projects read without a default (`${VAR}`, `$VAR`, `${VAR:?err}`), each at its first such
 * use; uses with a default, or inside another variable's default, do not count.
 */
async function composeVariables(
  ctx: CheckContext,
  documented: Set<string>,
): Promise<RequiredEnvObservation["compose"]> {
  const found = await composeProjectsOf(ctx.spec, ctx.specDir);
  if (found.projects.length === 0) return undefined;
  const files: string[] = [];
  const unreadable: string[] = [];
  const variables = new Map<string, ComposeVariable>();
  for (const project of found.projects) {
    const loaded = await loadComposeProject(project, { env: ctx.env, root: ctx.specDir });
    files.push(...loaded.files.filter((f) => !f.error).map((f) => f.path));
    unreadable.push(...loaded.files.filter((f) => f.error).map((f) => f.path));
    for (const use of loaded.variables) {
      if (use.optional || variables.has(use.name)) continue;
      variables.set(use.name, {
        variable: use.name,
        file: use.file,
        line: use.line,
        column: use.column,
        documented: documented.has(use.name),
      });
    }
  }
  return { files, ...(unreadable.length > 0 ? { unreadable } : {}), variables: [...variables.values()] };
}

function judgeCompose(
  observation: RequiredEnvObservation,
  compose: NonNullable<RequiredEnvObservation["compose"]>,
): FindingInput[] {
  const evidence = [observation.evidence];
  const at = (v: ComposeVariable) => ({ path: v.file, line: v.line, column: v.column });
  const example = observation.example;
  if (example && !example.found) return []; // exampleUnreadable already says so
  // A file that does not parse reads unknown variables: never a pass (composeFilesValid says what is wrong).
  const unverified: FindingInput[] = (compose.unreadable ?? []).map((file) => ({
    status: "UNVERIFIED",
    messageId: "composeUnreadable",
    subject: file,
    location: { path: file },
    message: `${file} cannot be read or parsed, so the variables it interpolates are unknown`,
    data: { file },
    evidence,
    toVerify: `fix ${file} so that it parses (see composeFilesValid's finding)`,
  }));
  if (!example) {
    if (compose.variables.length === 0) return unverified;
    const first = compose.variables[0]!;
    const names = compose.variables.map((v) => v.variable);
    return [
      ...unverified,
      {
        status: "WARN",
        messageId: "composeVariablesNoExample",
        subject: first.file,
        location: at(first),
        message: `the compose files interpolate ${names.length} variable(s) without a default (${names.join(", ")}), and the spec names no deployment.env.example to document them`,
        data: { file: first.file, variable: names.join(", ") },
        evidence,
      },
    ];
  }
  const missing = compose.variables.filter((v) => !v.documented);
  if (unverified.length > 0 && missing.length === 0) return unverified;
  if (missing.length === 0) {
    return [
      {
        status: "PASS",
        messageId: "composeVariablesDocumented",
        subject: example.file,
        location: { path: example.file },
        message:
          compose.variables.length === 0
            ? `the compose files (${compose.files.join(", ")}) interpolate no variable without a default`
            : `${example.file} documents all ${compose.variables.length} variable(s) the compose files interpolate without a default`,
        data: { file: example.file },
        evidence,
      },
    ];
  }
  return [
    ...unverified,
    ...missing.map((v) => ({
      status: "WARN" as const,
      messageId: "composeVariableUndocumented",
      subject: v.file,
      location: at(v),
      message: `${v.file}:${v.line}: \${${v.variable}} has no default and is missing from ${example.file}: a deploy without it gets an empty value`,
      data: { file: example.file, variable: v.variable, compose: v.file },
      evidence,
    })),
  ];
}
