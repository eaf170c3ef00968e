// Secrets in ENV and ARG: an ENV value is part of the image's configuration (`docker inspect` prints it) and an ARG's
// value is recorded in the image's history (`docker history`), so a secret in either ships to everyone who can pull
// the image. Values are found by the repository's own secret rules (secretlint's preset and Gauntlet's, as
// noSecretsInRepository runs them) and by name (hadolint's DL3064: a PASSWORD, TOKEN, SECRET or KEY). What leaves
// this module is masked; the values to redact are returned for the caller to register before anything is written.
import { detectSecrets, mask } from "../secretScan/detect.js";
import { assignedValueReason, namesSecret } from "../secretScan/rules.js";
import type { DockerfileModel, DockerInstruction, DockerProperty } from "./parse.js";

export type BuildSecretKind =
  /** The value is a secret by its format (a GitHub token, a private key, a password in a URL…). */
  | "detected"
  /** A secret-named variable holds a literal that looks generated (entropy, mixed characters). */
  | "literal"
  /** A secret-named ENV copies a build argument or variable into the image (`ENV TOKEN=$TOKEN`). */
  | "reference"
  /** A secret-named ARG without a default: the value given with --build-arg lands in the image history. */
  | "no-value"
  /** A secret-named variable with a weak or placeholder literal (a default password, `changeme`). */
  | "weak-value";

export interface BuildSecretHit {
  rule: "gauntlet/secret-in-build-config" | "DL3064";
  instruction: "ENV" | "ARG";
  name: string;
  kind: BuildSecretKind;
  line: number;
  column: number;
  instructionLine: number;
  stage: number;
  /** The value with at most its first 4 characters shown; absent without a value. */
  masked?: string;
  /** What the secret rules took it for ("GitHub token"), for a detected one. */
  label?: string;
  secretRule?: string;
  /** Why a weak value was not taken for a real secret ("too short", "placeholder…"). */
  reason?: string;
}

export interface BuildSecrets {
  hits: BuildSecretHit[];
  /** Every value to register with the run's redactor before anything is written. */
  redact: string[];
  /** Secrets the rules found elsewhere in the file (RUN, LABEL): noSecretsInRepository reports them. */
  elsewhere: number;
}

const REFERENCE = /^\$(?:\{[A-Za-z_][A-Za-z0-9_]*(?::?[-+?][^}]*)?\}|[A-Za-z_][A-Za-z0-9_]*)$/;

export async function findBuildSecrets(model: DockerfileModel): Promise<BuildSecrets> {
  // The fixed name keeps the repository's test/example classification out: a Dockerfile is configuration wherever it is.
  const detections = await detectSecrets({ file: "Dockerfile", content: model.lines.join("\n") });
  const redact = detections.flatMap((d) => d.redact);
  const hits: BuildSecretHit[] = [];
  const claimed = new Set<number>();
  const variables = model.instructions.filter((i) => i.keyword === "ENV" || i.keyword === "ARG");

  for (const ins of variables) {
    const detectedIn = new Map<DockerProperty, (typeof detections)[number]>();
    detections.forEach((d, index) => {
      if (d.line < ins.line || d.line > ins.endLine) return;
      claimed.add(index);
      const property = propertyAt(ins, d.line, d.column);
      if (property && !detectedIn.has(property)) detectedIn.set(property, d);
    });
    for (const p of ins.properties) {
      const base = {
        instruction: ins.keyword as "ENV" | "ARG",
        name: p.name,
        line: p.line,
        column: p.column,
        instructionLine: ins.line,
        stage: ins.stage,
      };
      const detection = detectedIn.get(p);
      if (detection) {
        hits.push({
          ...base,
          rule: "gauntlet/secret-in-build-config",
          kind: "detected",
          masked: detection.masked,
          label: detection.label,
          secretRule: detection.ruleId,
        });
        continue;
      }
      if (!namesSecret(p.name)) continue;
      if (p.value === null) {
        hits.push({ ...base, rule: "DL3064", kind: "no-value" });
      } else if (REFERENCE.test(p.value.trim())) {
        hits.push({ ...base, rule: "DL3064", kind: "reference", masked: p.value.trim() });
      } else {
        const reason = assignedValueReason(p.value, p.quoted, "config", p.name);
        if (reason === null) {
          redact.push(p.value);
          hits.push({
            ...base,
            rule: "gauntlet/secret-in-build-config",
            kind: "literal",
            masked: mask(p.value),
          });
        } else {
          hits.push({ ...base, rule: "DL3064", kind: "weak-value", masked: mask(p.value), reason });
        }
      }
    }
  }
  return { hits, redact, elsewhere: detections.length - claimed.size };
}

/** The property whose value starts last at or before line:column (the detection lies in its value). */
function propertyAt(ins: DockerInstruction, line: number, column: number): DockerProperty | undefined {
  let found: DockerProperty | undefined;
  for (const p of ins.properties) {
    const start =
      p.valueLine === undefined
        ? { line: p.line, column: p.column }
        : { line: p.valueLine, column: p.valueColumn! };
    if (start.line < line || (start.line === line && start.column <= column)) found = p;
  }
  return found ?? ins.properties[0];
}
