// `gauntlet verify`: checks a certificate's envelope, signature, statement, validity window, evidence digests and,
// when a spec is at hand, that its subject is still the system's current revision. Every check is reported, so one
// run shows every problem; the certificate is valid only when none fails.
//   key       --key PUB, else .gauntlet/keys/gauntlet.pub in cwd; the key's keyid must be a signer's. A key found
//             beside the certificate is never trusted: whoever can replace the certificate can replace it too.
//   signature every signature must verify against that key; each one that does not is named (keyid and why).
//   evidence  --evidence DIR, else <certificate folder>/evidence. No folder is a failure ("not checked"), because a
//             certificate whose evidence cannot be shown is not verified; --no-evidence skips it, visibly. Only regular
//             files belong there: links (never followed), FIFOs, sockets, devices and empty folders are named.
//   subject   --spec PATH, else ./gauntlet.yaml when it names the same system; otherwise skipped, visibly.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { listEvidence, MANIFEST_FILE, readEvidenceFile, sha256 } from "../core/evidence.js";
import { CATEGORIES, RISKS, STATUSES } from "../core/types.js";
import { UserError } from "../errors.js";
import { parseSpec } from "../spec/loader.js";
import { SpecError } from "../spec/problems.js";
import type { Spec } from "../spec/schema.js";
import {
  type DsseEnvelope,
  decodeBase64,
  IN_TOTO_PAYLOAD_TYPE,
  parseEnvelope,
  type SignatureCheck,
  verifyEnvelope,
} from "./dsse.js";
import { DEFAULT_KEY_DIR, loadPublicKey, PUBLIC_KEY_FILE, type VerifyingKey } from "./keys.js";
import { computeRevision } from "./revision.js";
import {
  READINESS_PREDICATE_TYPE,
  type ReadinessStatement,
  STATEMENT_TYPE,
  type StatementSubject,
  subjectFor,
} from "./statement.js";

export interface VerifyOptions {
  certPath: string;
  /** Public key PEM; without it, .gauntlet/keys/gauntlet.pub in cwd (a key beside the certificate is never trusted). */
  publicKeyPath?: string;
  /** Evidence folder; default `<certificate folder>/evidence`. false = do not check evidence (reported as skipped). */
  evidenceDir?: string | false;
  /** Spec whose revision the subject must match; without it, gauntlet.yaml in cwd when it describes the same system. */
  repoCheck?: { specPath: string };
  now?: Date;
  /** Where to look for .gauntlet/keys and gauntlet.yaml; default process.cwd(). */
  cwd?: string;
}

export type VerifyCheckName =
  | "envelope"
  | "payloadType"
  | "key"
  | "signature"
  | "statement"
  | "validity"
  | "evidence"
  | "reports"
  | "subject";

export interface VerifyCheckResult {
  check: VerifyCheckName;
  ok: boolean;
  detail: string;
  /** The check did not run and does not count against the certificate (e.g. --no-evidence, no spec to compare). */
  skipped?: boolean;
  /** Every problem found, when detail can show only the first few (evidence). */
  problems?: string[];
}

export interface VerifyResult {
  ok: boolean;
  results: VerifyCheckResult[];
  /** The statement, once it parsed and had the expected shape (trust it only when ok). */
  statement?: ReadinessStatement;
  /** Each signature of the envelope as checked against the pinned key, once a key was found. */
  signatures?: SignatureCheck[];
}

const SPEC_FILES = ["gauntlet.yaml", "gauntlet.yml"];
const MAX_LISTED_PROBLEMS = 5;
const UNSET_PLACEHOLDER = "unset-during-gauntlet-verify";

export async function verifyCertificate(options: VerifyOptions): Promise<VerifyResult> {
  const cwd = options.cwd ?? process.cwd();
  const certPath = path.resolve(cwd, options.certPath);
  const certDir = path.dirname(certPath);
  const results: VerifyCheckResult[] = [];
  let signatures: SignatureCheck[] | undefined;
  const add = (check: VerifyCheckName, ok: boolean, detail: string, skipped = false, problems?: string[]) => {
    results.push({ check, ok, detail, ...(skipped ? { skipped } : {}), ...(problems ? { problems } : {}) });
  };
  const finish = (statement?: ReadinessStatement): VerifyResult => {
    const result: VerifyResult = { ok: results.every((r) => r.ok), results };
    if (statement) result.statement = statement;
    if (signatures) result.signatures = signatures;
    return result;
  };

  const bytes = await readFile(certPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") throw new UserError(`no certificate at ${options.certPath}.`);
    throw new UserError(`cannot read certificate ${options.certPath}: ${error.message}.`);
  });

  const parsed = parseEnvelope(bytes);
  if (!parsed.ok) {
    add("envelope", false, `${options.certPath} is not a valid certificate: ${parsed.detail}`);
    return finish();
  }
  const envelope = parsed.envelope;
  const count = envelope.signatures.length;
  add("envelope", true, `DSSE envelope with ${count} signature${count === 1 ? "" : "s"}`);

  add(
    "payloadType",
    envelope.payloadType === IN_TOTO_PAYLOAD_TYPE,
    envelope.payloadType === IN_TOTO_PAYLOAD_TYPE
      ? IN_TOTO_PAYLOAD_TYPE
      : `expected ${IN_TOTO_PAYLOAD_TYPE}, found ${JSON.stringify(envelope.payloadType)}`,
  );

  if (count === 0) {
    add("key", true, "not needed: the certificate carries no signature", true);
    add(
      "signature",
      false,
      "certificate is unsigned: it was issued without --key, so nothing proves who issued it",
    );
  } else {
    const key = await resolveKey(envelope, options, certDir, cwd);
    add("key", key.ok, key.detail);
    if (key.key) {
      const check = verifyEnvelope(envelope, key.key.publicKey, key.key.keyid);
      add("signature", check.ok, check.detail);
      signatures = check.signatures;
    } else {
      add("signature", false, "not checked: no public key matches the signature");
    }
  }

  const statement = readStatement(envelope);
  if (!statement.ok) {
    add("statement", false, statement.detail);
    add("validity", false, "not checked: the statement is unreadable");
    add("evidence", false, "not checked: the statement is unreadable");
    add("reports", false, "not checked: the statement is unreadable");
    add("subject", false, "not checked: the statement is unreadable");
    return finish();
  }
  const { predicate } = statement.value;
  add(
    "statement",
    true,
    `${predicate.system.name}: ${predicate.verdict}, overall ${predicate.overall ?? "n/a"}, ${predicate.checks.length} checks`,
  );

  const validity = checkValidity(predicate.issuedAt, predicate.validUntil, options.now ?? new Date());
  add("validity", validity.ok, validity.detail);

  const evidence = await checkEvidence(statement.value, options, certDir, cwd);
  add("evidence", evidence.ok, evidence.detail, evidence.skipped, evidence.problems);

  const reports = await checkReports(statement.value, certDir);
  add("reports", reports.ok, reports.detail, reports.skipped);

  const subject = await checkSubject(statement.value, options, cwd);
  add("subject", subject.ok, subject.detail, subject.skipped);

  return finish(statement.value);
}

interface Outcome {
  ok: boolean;
  detail: string;
  skipped?: boolean;
  problems?: string[];
}

async function resolveKey(
  envelope: DsseEnvelope,
  options: VerifyOptions,
  certDir: string,
  cwd: string,
): Promise<Outcome & { key?: VerifyingKey }> {
  const signers = new Set(envelope.signatures.map((s) => s.keyid));
  const signerList = [...signers].map(short).join(", ");
  if (options.publicKeyPath) {
    // A key the user names must load: a missing or wrong file is a usage error, not an invalid certificate.
    const key = await loadPublicKey(path.resolve(cwd, options.publicKeyPath));
    if (!signers.has(key.keyid)) {
      return {
        ok: false,
        detail: `${options.publicKeyPath} (keyid ${short(key.keyid)}) did not sign this certificate (signed by ${signerList})`,
      };
    }
    return { ok: true, detail: `${options.publicKeyPath} (keyid ${short(key.keyid)})`, key };
  }
  // Only a key the verifier controls is trusted: --key, or their own key store. A key lying beside the certificate
  // proves nothing — whoever can replace the certificate can replace that key too.
  const trusted = path.join(cwd, DEFAULT_KEY_DIR, PUBLIC_KEY_FILE);
  const seen: string[] = [];
  if (await isFile(trusted)) {
    const shown = path.relative(cwd, trusted) || trusted;
    try {
      const key = await loadPublicKey(trusted);
      if (signers.has(key.keyid)) return { ok: true, detail: `${shown} (keyid ${short(key.keyid)})`, key };
      seen.push(`${shown} (keyid ${short(key.keyid)})`);
    } catch (error) {
      seen.push(`${shown} (${(error as Error).message})`);
    }
  }
  const beside = path.join(certDir, PUBLIC_KEY_FILE);
  if (await isFile(beside)) {
    seen.push(
      `${path.relative(cwd, beside) || beside} beside the certificate (never trusted: pin the issuer's key)`,
    );
  }
  const found = seen.length ? `; found ${seen.join(", ")}, none with keyid ${signerList}` : "";
  return { ok: false, detail: `no public key: pass --key PATH${found}` };
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "expected a hex sha256");
const timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "expected an ISO 8601 timestamp");
const statementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z
    .array(z.object({ name: z.string().min(1), digest: z.record(z.string(), z.string().min(1)) }))
    .min(1),
  predicateType: z.literal(READINESS_PREDICATE_TYPE),
  predicate: z.object({
    system: z.looseObject({ name: z.string().min(1) }),
    verdict: z.enum(["CERTIFIED", "CONDITIONAL", "NOT READY"]),
    conditions: z.array(z.string()),
    overall: z.number().nullable(),
    coverage: z.number(),
    categories: z.record(z.string(), z.number().nullable()),
    checks: z.array(
      z.object({
        id: z.string().min(1),
        category: z.enum(CATEGORIES),
        risk: z.enum(RISKS),
        status: z.enum(STATUSES),
        evidence: z.record(z.string(), hex64),
      }),
    ),
    evidence: z.object({ manifestDigest: hex64, files: z.number().int().min(0) }),
    reports: z.record(z.string().regex(/^[\w.-]+$/, "a plain file name"), hex64).optional(),
    issuedAt: timestamp,
    validUntil: timestamp,
    runId: z.string(),
    tool: z.object({ name: z.string(), version: z.string() }),
    environment: z.record(z.string(), z.unknown()),
    revision: z.object({
      kind: z.enum(["git", "spec"]),
      digest: z.string().min(1),
      dirty: z.boolean().optional(),
      worktree: hex64.optional(),
    }),
  }),
});

function readStatement(
  envelope: DsseEnvelope,
): { ok: true; value: ReadinessStatement } | { ok: false; detail: string } {
  const payload = decodeBase64(envelope.payload);
  if (!payload) return { ok: false, detail: "payload is not canonical base64" };
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch (error) {
    return { ok: false, detail: `payload is not JSON (${(error as Error).message})` };
  }
  const result = statementSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length ? issue.path.join(".") : "statement";
    return { ok: false, detail: `not a Gauntlet readiness statement: ${where}: ${issue.message}` };
  }
  const statement = result.data as ReadinessStatement;
  const { predicate } = statement;
  const expected = subjectFor(predicate.system.name, predicate.revision);
  if (!sameSubject(statement.subject[0]!, expected)) {
    return {
      ok: false,
      detail: `subject ${describeSubject(statement.subject[0]!)} does not match the predicate's revision ${describeSubject(expected)}`,
    };
  }
  return { ok: true, value: statement };
}

function checkValidity(issuedAt: string, validUntil: string, now: Date): Outcome {
  const from = new Date(issuedAt);
  const until = new Date(validUntil);
  if (until.getTime() <= from.getTime()) {
    return { ok: false, detail: `validUntil ${validUntil} is not after issuedAt ${issuedAt}` };
  }
  if (now.getTime() < from.getTime()) {
    return {
      ok: false,
      detail: `not yet valid: issued at ${issuedAt}, now is ${now.toISOString()} (check the clock)`,
    };
  }
  if (now.getTime() > until.getTime()) {
    return {
      ok: false,
      detail: `expired on ${validUntil} (${days(now.getTime() - until.getTime())} ago); run the assessment again`,
    };
  }
  return {
    ok: true,
    detail: `issued ${issuedAt}, valid until ${validUntil} (${days(until.getTime() - now.getTime())} left)`,
  };
}

/** The reports beside the certificate must be the ones it signed; a report that was not copied along is only noted. */
async function checkReports(statement: ReadinessStatement, certDir: string): Promise<Outcome> {
  const reports = statement.predicate.reports;
  if (!reports || Object.keys(reports).length === 0) {
    return { ok: true, skipped: true, detail: "the certificate binds no report files" };
  }
  const matched: string[] = [];
  const absent: string[] = [];
  for (const [name, digest] of Object.entries(reports).sort()) {
    const bytes = await readFile(path.join(certDir, name)).catch(() => null);
    if (!bytes) {
      absent.push(name);
      continue;
    }
    if (sha256(bytes) !== digest) {
      return {
        ok: false,
        detail: `${name} was changed after signing (sha256 differs from the signed digest)`,
      };
    }
    matched.push(name);
  }
  const note = absent.length ? `; not present here: ${absent.join(", ")}` : "";
  return {
    ok: true,
    detail: `${matched.length ? matched.join(", ") : "no report"} match${matched.length === 1 ? "es" : ""} the signed digests${note}`,
  };
}

async function checkEvidence(
  statement: ReadinessStatement,
  options: VerifyOptions,
  certDir: string,
  cwd: string,
): Promise<Outcome> {
  if (options.evidenceDir === false) {
    return {
      ok: true,
      skipped: true,
      detail: "skipped (--no-evidence): the evidence files were not compared with their signed digests",
    };
  }
  let dir: string;
  if (options.evidenceDir !== undefined) {
    dir = path.resolve(cwd, options.evidenceDir);
    if (!(await isDirectory(dir))) throw new UserError(`no evidence folder at ${options.evidenceDir}.`);
  } else {
    dir = path.join(certDir, "evidence");
    if (!(await isDirectory(dir))) {
      return {
        ok: false,
        detail: `not checked: no evidence folder at ${path.relative(cwd, dir) || dir}; pass --evidence DIR, or --no-evidence to verify the certificate without its evidence`,
      };
    }
  }
  const shown = path.relative(cwd, dir) || dir;
  const { predicate } = statement;
  const manifestBytes = await readFile(path.join(dir, MANIFEST_FILE)).catch(() => null);
  if (!manifestBytes) return { ok: false, detail: `no ${MANIFEST_FILE} in ${shown}` };
  const manifestDigest = sha256(manifestBytes);
  if (manifestDigest !== predicate.evidence.manifestDigest) {
    return {
      ok: false,
      detail: `${MANIFEST_FILE} has sha256 ${short(manifestDigest)} but the certificate signs ${short(predicate.evidence.manifestDigest)}: the manifest was altered or belongs to another run`,
    };
  }
  const listed = readManifestFiles(manifestBytes);
  if (!listed) return { ok: false, detail: `${MANIFEST_FILE} in ${shown} is not a sha256 evidence manifest` };

  const problems: string[] = [];
  const names = Object.keys(listed).sort();
  if (names.length !== predicate.evidence.files) {
    problems.push(
      `${MANIFEST_FILE} lists ${names.length} files, the certificate ${predicate.evidence.files}`,
    );
  }
  // Evidence is regular files only: a link, FIFO, socket, device or empty folder was not written by the run.
  const found = await listEvidence(dir);
  const special = new Set(found.unexpected.map((e) => e.path));
  for (const name of names) {
    if (!isSafeRelative(name)) {
      problems.push(`${name}: not a path inside the evidence folder`);
      continue;
    }
    if (special.has(name)) continue;
    const content = await readEvidenceFile(path.join(dir, name)).catch(() => null);
    if (!content) problems.push(`${name}: missing`);
    else if (sha256(content) !== listed[name])
      problems.push(`${name}: altered (sha256 differs from the manifest)`);
  }
  const present = new Set(names);
  for (const file of found.files) {
    if (file !== MANIFEST_FILE && !present.has(file))
      problems.push(`${file}: not in the manifest (added later)`);
  }
  for (const entry of found.unexpected) {
    // A folder emptied by removing a listed file is that file's "missing", not something added.
    if (entry.kind === "empty folder" && names.some((name) => name.startsWith(`${entry.path}/`))) continue;
    problems.push(
      entry.kind === "empty folder"
        ? `${entry.path}/: an empty folder, which the run did not write`
        : `${entry.path}: a ${entry.kind}, not a regular file (evidence is only files the run wrote)`,
    );
  }
  for (const check of predicate.checks) {
    for (const [name, digest] of Object.entries(check.evidence)) {
      if (listed[name] !== digest)
        problems.push(`${check.id} names ${name} with a digest the manifest does not hold`);
    }
  }
  if (problems.length > 0) {
    const more =
      problems.length > MAX_LISTED_PROBLEMS ? ` …and ${problems.length - MAX_LISTED_PROBLEMS} more` : "";
    return {
      ok: false,
      detail: `${problems.length} problem${problems.length === 1 ? "" : "s"} in ${shown}: ${problems.slice(0, MAX_LISTED_PROBLEMS).join("; ")}${more}`,
      problems,
    };
  }
  return {
    ok: true,
    detail: `${shown}: manifest and ${plural(names.length, "file")} match their signed digests`,
  };
}

async function checkSubject(
  statement: ReadinessStatement,
  options: VerifyOptions,
  cwd: string,
): Promise<Outcome> {
  const certified = statement.subject[0]!;
  const systemName = statement.predicate.system.name;
  let specPath: string | undefined;
  if (options.repoCheck) {
    specPath = path.resolve(cwd, options.repoCheck.specPath);
    if (!(await isFile(specPath))) throw new UserError(`no spec at ${options.repoCheck.specPath}.`);
  } else {
    for (const name of SPEC_FILES) {
      if (await isFile(path.join(cwd, name))) {
        specPath = path.join(cwd, name);
        break;
      }
    }
    if (!specPath) {
      return {
        ok: true,
        skipped: true,
        detail: `not checked: run verify in the system's folder (beside gauntlet.yaml) or pass --spec PATH to compare ${describeSubject(certified)} with the current revision`,
      };
    }
  }
  const shown = path.relative(cwd, specPath) || specPath;
  const spec = await readSpec(specPath, cwd);
  if (!spec.ok) return { ok: false, detail: `cannot compare the subject: ${spec.detail}` };
  if (spec.value.system.name !== systemName) {
    if (!options.repoCheck) {
      return {
        ok: true,
        skipped: true,
        detail: `not checked: ${shown} describes system ${spec.value.system.name}, the certificate ${systemName}`,
      };
    }
    return {
      ok: false,
      detail: `${shown} describes system ${spec.value.system.name}, the certificate ${systemName}`,
    };
  }
  const revision = await computeRevision(specPath, spec.value);
  const current = subjectFor(systemName, revision);
  if (sameSubject(certified, current)) {
    if (revision.kind === "git") {
      // Same commit is not enough: uncommitted changes are part of what was (or was not) certified.
      const certifiedTree = statement.predicate.revision.worktree;
      if (certifiedTree !== revision.worktree) {
        const now = revision.worktree
          ? "the work tree now has uncommitted changes"
          : "the work tree is now clean";
        const then = certifiedTree ? "certified uncommitted changes on top of it" : "certified it clean";
        return {
          ok: false,
          detail: `HEAD ${revision.digest.slice(0, 12)} is the certified commit, but the certificate ${then} and ${now}${revision.worktree && certifiedTree ? " that differ" : ""}`,
        };
      }
      const note = certifiedTree ? " with the same uncommitted changes (bound by their digest)" : "";
      return { ok: true, detail: `HEAD ${revision.digest.slice(0, 12)} is the certified commit${note}` };
    }
    return {
      ok: true,
      detail: `${shown} and the ${plural((revision.files?.length ?? 1) - 1, "file")} it names match the certified digest`,
    };
  }
  const certifiedCommit = certified.digest.gitCommit;
  if (certifiedCommit && revision.kind === "git") {
    return {
      ok: false,
      detail: `the certificate names commit ${certifiedCommit.slice(0, 12)} but HEAD is ${revision.digest.slice(0, 12)}: the system changed since it was certified`,
    };
  }
  if (certifiedCommit) {
    return {
      ok: false,
      detail: `the certificate names commit ${certifiedCommit.slice(0, 12)} but ${shown} is not in a git work tree with commits (spec digest ${short(revision.digest)})`,
    };
  }
  if (revision.kind === "git") {
    return {
      ok: false,
      detail: `the certificate names a spec digest ${short(certified.digest.sha256 ?? "")}, but the system is now a git work tree at ${revision.digest.slice(0, 12)}`,
    };
  }
  return {
    ok: false,
    detail: `the certificate names spec digest ${short(certified.digest.sha256 ?? "")} but ${shown} and the files it names now hash to ${short(revision.digest)}: the system changed since it was certified`,
  };
}

async function readSpec(
  specPath: string,
  cwd: string,
): Promise<{ ok: true; value: Spec } | { ok: false; detail: string }> {
  let text: string;
  try {
    text = await readFile(specPath, "utf8");
  } catch (error) {
    return { ok: false, detail: `cannot read it (${(error as Error).message})` };
  }
  // The revision depends on names and paths only: a secret the verifier does not have must not stop the comparison.
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const match of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    if (!env[match[1]!]) env[match[1]!] = UNSET_PLACEHOLDER;
  }
  try {
    return { ok: true, value: parseSpec(text, specPath, { env }) };
  } catch (error) {
    if (error instanceof SpecError) return { ok: false, detail: error.format(cwd).split("\n")[0]! };
    throw error;
  }
}

function readManifestFiles(bytes: Buffer): Record<string, string> | null {
  try {
    const value = JSON.parse(bytes.toString("utf8")) as { algorithm?: unknown; files?: unknown };
    if (value.algorithm !== "sha256" || typeof value.files !== "object" || value.files === null) return null;
    const files = value.files as Record<string, unknown>;
    for (const digest of Object.values(files)) {
      if (typeof digest !== "string" || !/^[0-9a-f]{64}$/.test(digest)) return null;
    }
    return files as Record<string, string>;
  } catch {
    return null;
  }
}

function isSafeRelative(name: string): boolean {
  return (
    name.length > 0 &&
    !name.startsWith("/") &&
    !/^[A-Za-z]:/.test(name) &&
    !name.split(/[\\/]/).includes("..")
  );
}

function sameSubject(a: StatementSubject, b: StatementSubject): boolean {
  const keys = Object.keys(b.digest);
  return (
    a.name === b.name &&
    Object.keys(a.digest).length === keys.length &&
    keys.every((k) => a.digest[k] === b.digest[k])
  );
}

function describeSubject(subject: StatementSubject): string {
  const digests = Object.entries(subject.digest)
    .map(([algorithm, value]) => `${algorithm}:${value.slice(0, 12)}`)
    .join(", ");
  return `${subject.name} (${digests})`;
}

function days(ms: number): string {
  const d = ms / 86_400_000;
  if (d >= 1) return `${Math.floor(d)} day${Math.floor(d) === 1 ? "" : "s"}`;
  const h = Math.floor(ms / 3_600_000);
  if (h >= 1) return `${h} hour${h === 1 ? "" : "s"}`;
  return `${Math.max(1, Math.floor(ms / 60_000))} min`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function short(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 16)}…` : hex || "(empty)";
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isFile() ?? false;
}

async function isDirectory(dir: string): Promise<boolean> {
  return (await stat(dir).catch(() => null))?.isDirectory() ?? false;
}
