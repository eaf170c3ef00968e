// One compose file checked against composeSchema.ts, node by node, so every problem has its line and column: unknown
// keys (with the key probably meant), values of the wrong type, values outside what compose or the engine accepts,
// missing required keys, duplicate list entries, and `${…}` that compose cannot interpolate. Values are interpolated
// first, as compose does; a value that depends on an unset variable is not judged (its deploy-time value is unknown).
import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node, visit } from "yaml";
import { suggest } from "../../spec/suggest.js";
import { scalarValuePosition } from "../prometheus/yamlPosition.js";
import { evaluate, type Lookup, parseTemplate, type Template, variableUses } from "./composeInterpolation.js";
import type { ObjectShape, Shape } from "./composeSchema.js";
import { entriesOf, overrideTag, type Position, positionOf, resolved } from "./composeYaml.js";

export type ProblemKind =
  | "yamlError"
  | "unknownKey"
  | "wrongType"
  | "badValue"
  | "missingKey"
  | "duplicateEntry"
  | "invalidInterpolation"
  | "requiredVariableMissing"
  | "obsoleteVersion"
  | "undefinedService"
  | "undefinedNetwork"
  | "undefinedVolume"
  | "undefinedSecret"
  | "undefinedConfig"
  | "undefinedModel"
  | "noImageOrBuild"
  | "conflictingKeys"
  | "dependencyCycle"
  | "missingFile"
  | "unreadableReference"
  | "envFileMissing"
  | "dotenvInvalid";

export interface ComposeProblem extends Position {
  file: string;
  kind: ProblemKind;
  /** error: compose (or the engine at `up`) refuses the file; warning: it runs, with a caveat. */
  severity: "error" | "warning";
  /** Where in the compose model, e.g. services.web.restart. */
  path?: string;
  message: string;
  suggestion?: string;
}

/** What validating one file needs: its document, positions, and the environment its `${…}` read. */
export interface FileScope {
  /** Shown path (relative to the spec's folder). */
  file: string;
  /** Absolute folder of the file: its relative paths resolve against it. */
  directory: string;
  /** An override file (`-f base -f this`): keys the base may set are not required here (compose validates the merge). */
  partial: boolean;
  doc: Document;
  lines: LineCounter;
  source: string;
  lookup: Lookup;
  problems: ComposeProblem[];
  /** Every `${…}` the file reads, in file order. */
  variables: VariableReference[];
}

/** One variable a compose file reads, where it reads it first in a value, and whether it has a fallback there. */
export interface VariableReference extends Position {
  file: string;
  name: string;
  /** A default (`:-`, `-`), a `:+`/`+` form, or inside another variable's default: not needed to interpolate. */
  optional: boolean;
  /** Whether the environment or the .env file sets it. */
  set: boolean;
}

const templates = new WeakMap<Node, Template>();

function templateOf(node: Node & { value?: unknown }): Template {
  let template = templates.get(node);
  if (!template) {
    template = parseTemplate(String(node.value));
    templates.set(node, template);
  }
  return template;
}

/** Every string value of the file (extension fields too: compose interpolates the whole file), keys excepted. */
export function checkInterpolation(scope: FileScope): void {
  visit(scope.doc, {
    Scalar(key, node) {
      if (key === "key" || typeof node.value !== "string" || !node.value.includes("$")) return;
      const template = templateOf(node);
      const at = (offset: number) =>
        scalarValuePosition(scope.source, node, offset, scope.lines) ?? positionOf(node, scope.lines)!;
      for (const use of variableUses(template)) {
        scope.variables.push({
          file: scope.file,
          name: use.name,
          optional: use.optional,
          set: scope.lookup(use.name) !== undefined,
          ...at(use.offset),
        });
      }
      if (template.error) {
        scope.problems.push({
          file: scope.file,
          kind: "invalidInterpolation",
          severity: "error",
          ...at(template.error.offset),
          message: `${template.error.text} is not a variable compose can interpolate: write \${NAME}, \${NAME:-default}, or $$ for a literal $`,
        });
        return;
      }
      for (const missing of evaluate(template, scope.lookup).missingRequired) {
        scope.problems.push({
          file: scope.file,
          kind: "requiredVariableMissing",
          severity: "warning",
          ...at(0),
          message: `${missing.name} must be set (the file says ${missing.message ? `"${missing.message}"` : "so with ?"}), and is not in this environment or the .env file: compose refuses the file without it`,
        });
      }
    },
  });
}

/** A scalar's value after interpolation; `unknown` when an unset variable (or a bad template) decides it. */
export function interpolated(
  node: Node & { value?: unknown },
  lookup: Lookup,
): { value: unknown; unknown: boolean } {
  if (typeof node.value !== "string" || !node.value.includes("$"))
    return { value: node.value, unknown: false };
  const template = templateOf(node);
  if (template.error) return { value: node.value, unknown: true };
  const result = evaluate(template, lookup);
  return { value: result.value, unknown: result.unset.length > 0 || result.missingRequired.length > 0 };
}

export function validateDocument(scope: FileScope, root: Node | null, shape: ObjectShape): void {
  if (!isMap(root)) {
    const where = positionOf(root, scope.lines) ?? { line: 1, column: 1 };
    scope.problems.push({
      file: scope.file,
      kind: "wrongType",
      severity: "error",
      ...where,
      message: "a compose file must be a mapping (services:, networks:, …) at its top level",
    });
    return;
  }
  validate(scope, root, shape, [], root);
  const version = entriesOf(root, scope.doc).find((e) => e.key === "version");
  if (version) {
    scope.problems.push({
      file: scope.file,
      kind: "obsoleteVersion",
      severity: "warning",
      path: "version",
      ...positionOf(version.keyNode, scope.lines)!,
      message:
        "version is obsolete: Compose ignores it (and warns) since the Compose Specification replaced the 2.x/3.x formats; remove it",
    });
  }
}

function validate(scope: FileScope, node: Node | null, shape: Shape, path: string[], keyNode: Node): void {
  if (overrideTag(node) === "reset") return;
  const problems = check(scope, node, shape, path, keyNode);
  scope.problems.push(...problems);
}

/** The problems of one node against one shape (collected, so that oneOf can compare its branches). */
function check(
  scope: FileScope,
  node: Node | null,
  shape: Shape,
  path: string[],
  keyNode: Node,
): ComposeProblem[] {
  const problems: ComposeProblem[] = [];
  const where = () =>
    positionOf(node, scope.lines) ?? positionOf(keyNode, scope.lines) ?? { line: 1, column: 1 };
  const dotted = path.join(".");
  const wrongType = (expected: string) =>
    problems.push({
      file: scope.file,
      kind: "wrongType",
      severity: "error",
      path: dotted,
      ...where(),
      message: `${dotted || "the file"} must be ${expected}, not ${describeNode(node)}`,
    });
  switch (shape.kind) {
    case "any":
      return problems;
    case "oneOf": {
      const fitting = shape.options.filter((option) => fits(option, node));
      if (fitting.length === 0) {
        wrongType(describe(shape));
        return problems;
      }
      let best: ComposeProblem[] | undefined;
      for (const option of fitting) {
        const found = check(scope, node, option, path, keyNode);
        if (!best || found.length < best.length) best = found;
        if (found.length === 0) break;
      }
      return best!;
    }
    case "cast": {
      if (isScalar(node) && typeof node.value === "string") {
        const { value, unknown } = interpolated(node, scope.lookup);
        if (unknown) return problems;
        if (castValue(String(value), shape.to) === undefined) {
          problems.push({
            file: scope.file,
            kind: "badValue",
            severity: "error",
            path: dotted,
            ...where(),
            message: `${dotted} must be ${shape.to === "boolean" ? "true or false" : `a${shape.to === "integer" ? "n integer" : " number"}`}, and ${quoted(node)} cannot be read as one`,
          });
        }
        return problems;
      }
      return check(scope, node, shape.inner, path, keyNode);
    }
    case "object":
      if (!isMap(node)) {
        wrongType(describe(shape));
        return problems;
      }
      checkObject(scope, node, shape, path, keyNode, problems);
      return problems;
    case "array": {
      if (!isSeq(node)) {
        wrongType(describe(shape));
        return problems;
      }
      const seen = new Map<string, number>();
      node.items.forEach((item, index) => {
        const value = resolved(item, scope.doc);
        problems.push(...check(scope, value, shape.items, [...path, String(index)], keyNode));
        if (shape.unique && isScalar(value) && value.value !== null) {
          const text = String(value.value);
          // NAME=value entries (environment, labels) are named by NAME only: the value may be a secret.
          const shownItem = JSON.stringify(text.includes("=") ? `${text.split("=")[0]}=…` : text);
          if (seen.has(text)) {
            problems.push({
              file: scope.file,
              kind: "duplicateEntry",
              severity: "error",
              path: `${dotted}.${index}`,
              ...(positionOf(value, scope.lines) ?? where()),
              message: `${dotted} lists ${shownItem} twice (also item ${seen.get(text)! + 1}): compose requires its entries to be unique`,
            });
          } else seen.set(text, index);
        }
      });
      return problems;
    }
    default:
      checkScalar(scope, node, shape, dotted, where, wrongType, problems);
      return problems;
  }
}

function checkObject(
  scope: FileScope,
  node: Node,
  shape: ObjectShape,
  path: string[],
  keyNode: Node,
  problems: ComposeProblem[],
): void {
  const entries = entriesOf(node as never, scope.doc);
  const known = Object.keys(shape.properties);
  for (const entry of entries) {
    const childPath = [...path, entry.key];
    const property = Object.hasOwn(shape.properties, entry.key) ? shape.properties[entry.key] : undefined;
    if (property) {
      if (overrideTag(entry.value) !== "reset")
        problems.push(...check(scope, entry.value, property, childPath, entry.keyNode));
      continue;
    }
    if (shape.extensions && entry.key.startsWith("x-")) continue;
    if (shape.additional) {
      if (shape.keys && !shape.keys.pattern.test(entry.key)) {
        problems.push({
          file: scope.file,
          kind: "badValue",
          severity: "error",
          path: childPath.join("."),
          ...positionOf(entry.keyNode, scope.lines)!,
          message: `${JSON.stringify(entry.key)} is not a valid name under ${path.join(".") || "the top level"}: ${shape.keys.expect}`,
        });
        continue;
      }
      if (overrideTag(entry.value) !== "reset")
        problems.push(...check(scope, entry.value, shape.additional, childPath, entry.keyNode));
      continue;
    }
    const suggestion = suggest(entry.key, known);
    const where =
      path.length === 0 ? "at the top level of a compose file" : `in ${shape.what ?? path.join(".")}`;
    problems.push({
      file: scope.file,
      kind: "unknownKey",
      severity: "error",
      path: childPath.join("."),
      ...positionOf(entry.keyNode, scope.lines)!,
      message: `${entry.key} is not a key compose knows ${where}${path.length > 0 ? ` (${path.join(".")})` : ""}${suggestion ? `: did you mean ${suggestion}?` : shape.extensions ? "; custom keys must start with x-" : ""}`,
      ...(suggestion ? { suggestion } : {}),
    });
  }
  for (const required of scope.partial ? [] : (shape.required ?? [])) {
    if (entries.some((e) => e.key === required)) continue;
    problems.push({
      file: scope.file,
      kind: "missingKey",
      severity: "error",
      path: path.join("."),
      ...(positionOf(keyNode, scope.lines) ?? positionOf(node, scope.lines)!),
      message: `${path.join(".") || "the file"} needs ${required}: ${shape.what ?? "this mapping"} without it is refused`,
    });
  }
}

function checkScalar(
  scope: FileScope,
  node: Node | null,
  shape: Extract<Shape, { kind: "string" | "number" | "boolean" | "null" }>,
  dotted: string,
  where: () => Position,
  wrongType: (expected: string) => void,
  problems: ComposeProblem[],
): void {
  const raw = node === null ? null : isScalar(node) ? node.value : undefined;
  if (raw === undefined) {
    wrongType(describe(shape));
    return;
  }
  if (shape.kind === "null") {
    if (raw !== null) wrongType("empty");
    return;
  }
  if (shape.kind === "boolean") {
    if (typeof raw !== "boolean") wrongType("true or false");
    return;
  }
  if (shape.kind === "number") {
    if (typeof raw !== "number" || (shape.integer && !Number.isInteger(raw))) {
      wrongType(describe(shape));
      return;
    }
    const outside =
      (shape.min !== undefined && raw < shape.min) || (shape.max !== undefined && raw > shape.max);
    if (outside) {
      problems.push({
        file: scope.file,
        kind: "badValue",
        severity: "error",
        path: dotted,
        ...where(),
        message: `${dotted} must be between ${shape.min ?? "-∞"} and ${shape.max ?? "∞"}, not ${raw}`,
      });
    }
    return;
  }
  if (typeof raw !== "string") {
    wrongType(raw === null ? "a string" : "a string (put it in quotes)");
    return;
  }
  if (!shape.values && !shape.pattern) return;
  const { value, unknown } = interpolated(node!, scope.lookup);
  if (unknown) return;
  const text = String(value);
  const allowed = shape.values ? shape.values.includes(text) : shape.pattern!.test(text);
  if (allowed) return;
  const suggestion = shape.values ? suggest(text, shape.values) : undefined;
  const expected = shape.values ? shape.values.join(", ") : shape.expect;
  const shown =
    text === raw ? JSON.stringify(text) : `${JSON.stringify(raw)} (which interpolates to a value that)`;
  problems.push({
    file: scope.file,
    kind: "badValue",
    severity: "error",
    path: dotted,
    ...where(),
    message: `${dotted}: ${shown} is not one of the values compose accepts (${expected})${suggestion ? `: did you mean ${suggestion}?` : ""}`,
    ...(suggestion ? { suggestion } : {}),
  });
}

/** Whether a node is of a kind the shape can describe (oneOf picks among the options that fit). */
function fits(shape: Shape, node: Node | null): boolean {
  switch (shape.kind) {
    case "any":
      return true;
    case "oneOf":
      return shape.options.some((o) => fits(o, node));
    case "cast":
      return (isScalar(node) && typeof node.value === "string") || fits(shape.inner, node);
    case "object":
      return isMap(node);
    case "array":
      return isSeq(node);
    case "null":
      return node === null || (isScalar(node) && node.value === null);
    default: {
      if (!isScalar(node)) return false;
      const value = node.value;
      if (shape.kind === "string") return typeof value === "string";
      if (shape.kind === "boolean") return typeof value === "boolean";
      return typeof value === "number" && (!shape.integer || Number.isInteger(value));
    }
  }
}

export function describe(shape: Shape): string {
  switch (shape.kind) {
    case "string":
      return shape.values ? `one of ${shape.values.join(", ")}` : "a string";
    case "number":
      return shape.integer ? "an integer" : "a number";
    case "boolean":
      return "true or false";
    case "null":
      return "empty";
    case "any":
      return "anything";
    case "object":
      return "a mapping";
    case "array":
      return "a list";
    case "cast":
      return describe(shape.inner);
    case "oneOf": {
      const names = [...new Set(shape.options.map(describe))];
      return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
    }
  }
}

function describeNode(node: Node | null): string {
  if (node === null) return "empty";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    const value = node.value;
    if (value === null) return "empty";
    if (typeof value === "boolean") return `${value}`;
    if (typeof value === "number") return `the number ${node.source ?? value}`;
    // Not quoted: a string in the wrong place may be an environment value, i.e. a secret.
    return "a string";
  }
  return "something else";
}

function quoted(node: Node): string {
  const value = isScalar(node) ? node.value : undefined;
  const text = typeof value === "string" ? value : String(value);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** compose-go's casts after interpolation (toBoolean accepts YAML 1.1 yes/no/on/off with a warning). */
export function castValue(text: string, to: "boolean" | "integer" | "number"): unknown {
  if (to === "boolean") {
    const lower = text.toLowerCase();
    if (["true", "y", "yes", "on"].includes(lower)) return true;
    if (["false", "n", "no", "off"].includes(lower)) return false;
    return undefined;
  }
  if (to === "integer") return /^[-+]?\d+$/.test(text.trim()) ? Number.parseInt(text, 10) : undefined;
  return /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(text.trim()) ? Number(text) : undefined;
}
