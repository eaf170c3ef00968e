// One assessment, end to end (DESIGN.md "Data flow"): load the spec, start supervised services, run the plan, seal
// the evidence, score, sign, render, store. This is the wiring layer above core, checks, scoring, report, attest and
// store; nothing below imports it. Everything the run produced lands in .gauntlet/runs/<runId>/, copied to --out when
// given, so a report folder is self-contained: reports, certificate, evidence and its manifest. With no history
// (store: false) nothing is kept under .gauntlet/: the run is written straight to --out (default gauntlet-out/).
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { loadPrivateKey } from "../attest/keys.js";
import { computeRevision } from "../attest/revision.js";
import { createCertificate, writeCertificate } from "../attest/statement.js";
import { allChecks, checkIds } from "../checks/index.js";
import type { Assessment } from "../core/assessment.js";
import { EvidenceStore, MANIFEST_FILE, sha256 } from "../core/evidence.js";
import { planChecks } from "../core/planner.js";
import { RollbackLedger } from "../core/rollbacks.js";
import { type RunEvent, runPlan } from "../core/runner.js";
import type { Check } from "../core/types.js";
import { buildTargets } from "../engines/faults/targets/registry.js";
import { UserError } from "../errors.js";
import { REPORT_FILES, type ReportFormat, render } from "../report/index.js";
import { Redactor } from "../secrets/redactor.js";
import { loadSpec } from "../spec/loader.js";
import { openStore } from "../store/store.js";
import { assembleAssessment } from "./assemble.js";
import { recordSupervision, startSupervisedServices, supervisedTargets } from "./supervision.js";

export const CERTIFICATE_FILE = "certificate.dsse.json";
/** Where an assessment that keeps no history writes its reports when no --out is given. */
export const DEFAULT_OUT_DIR = "gauntlet-out";
export const EVIDENCE_DIR = "evidence";

export type AssessEvent = RunEvent | { type: "system"; message: string } | { type: "planned"; total: number };

export interface AssessOptions {
  specPath: string;
  /** Folder holding .gauntlet/ (runs and history); defaults to the working directory. */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  only?: string[];
  skip?: string[];
  allowDestructive?: boolean;
  outDir?: string;
  keyPath?: string;
  validForMs?: number;
  formats?: ReportFormat[];
  /** History store location (see openStore); false to keep no history (and no run folder under .gauntlet/). */
  store?: string | false;
  /** The run's secrets; the caller passes its own to redact what it prints from events. */
  secrets?: Redactor;
  signal?: AbortSignal;
  onEvent?: (event: AssessEvent) => void;
  now?: () => Date;
  checks?: Check[];
  concurrency?: number;
}

export interface AssessOutcome {
  assessment: Assessment;
  runDir: string;
  outDir: string;
  files: string[];
  /** Set when the history could not be saved; the assessment itself is still complete. */
  storeWarning?: string;
  cancelled: boolean;
}

export async function assess(options: AssessOptions): Promise<AssessOutcome> {
  const now = options.now ?? (() => new Date());
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const emit = options.onEvent ?? (() => {});
  const secrets = options.secrets ?? new Redactor();
  const loaded = await loadSpec(options.specPath, { env, checkIds: checkIds(), secrets });
  const { spec } = loaded;
  // A missing or unusable key must stop the run before minutes of checks, not after.
  const signer = options.keyPath ? await loadPrivateKey(options.keyPath) : undefined;
  for (const warning of signer?.warnings ?? []) emit({ type: "system", message: `warning: ${warning}` });

  const startedAt = now();
  const runId = newRunId(startedAt);
  const keepHistory = options.store !== false;
  const runDir = keepHistory
    ? path.join(cwd, ".gauntlet", "runs", runId)
    : path.resolve(cwd, options.outDir ?? DEFAULT_OUT_DIR);
  if (!keepHistory) await clearPreviousOutput(runDir);
  const evidence = new EvidenceStore(path.join(runDir, EVIDENCE_DIR), secrets);
  await mkdir(evidence.dir, { recursive: true });
  const allowDestructive = options.allowDestructive ?? spec.destructive;
  const plan = planChecks(options.checks ?? allChecks(), spec, {
    allowDestructive,
    ...(options.only ? { only: options.only } : {}),
    ...(options.skip ? { skip: options.skip } : {}),
  });
  emit({ type: "planned", total: plan.length });

  const ledger = new RollbackLedger();
  const log = (message: string) => emit({ type: "system", message });
  let results: Awaited<ReturnType<typeof runPlan>>;
  try {
    const supervised = await startSupervisedServices(spec, loaded.dir, ledger, log, options.signal);
    try {
      results = await runPlan({
        plan,
        spec,
        specPath: loaded.path,
        evidence,
        ledger,
        env,
        allowDestructive,
        targets: buildTargets(spec, loaded.dir, supervisedTargets(supervised), env),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        onEvent: emit,
      });
    } finally {
      const failures = await ledger.closeAll();
      for (const f of failures) log(`cleanup "${f.name}" failed: ${f.error}`);
      await recordSupervision(evidence, supervised);
    }
  } catch (error) {
    await ledger.closeAll();
    throw error;
  }
  const cancelled = Boolean(options.signal?.aborted);

  const sealed = await evidence.seal();
  const finishedAt = now();
  const assessment = assembleAssessment({
    spec,
    runId,
    revision: await computeRevision(loaded.path, spec),
    specPath: path.relative(cwd, loaded.path) || loaded.path,
    startedAt,
    finishedAt,
    environment: {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      hostname: hostname(),
    },
    options: { allowDestructive, only: options.only ?? [], skip: options.skip ?? [] },
    results,
    evidence: {
      dir: EVIDENCE_DIR,
      manifestDigest: sealed.digest,
      files: Object.keys(sealed.manifest.files).length,
    },
  });

  // Reports are rendered before signing so the certificate can bind their digests; what they say about the
  // certificate (key, validity) is known before the signature exists.
  const validForMs = options.validForMs ?? spec.certificate.validFor;
  if (!cancelled) {
    assessment.certificate = {
      file: CERTIFICATE_FILE,
      signed: signer !== undefined,
      ...(signer ? { keyid: signer.keyid } : {}),
      validUntil: new Date(finishedAt.getTime() + validForMs).toISOString(),
      ...(signer
        ? {}
        : {
            note: "no signing key was given (gauntlet keygen, then --key)",
          }),
    };
  }
  const files: string[] = [];
  const reportDigests: Record<string, string> = {};
  for (const format of options.formats ?? (Object.keys(REPORT_FILES) as ReportFormat[])) {
    const text = render(format, assessment, secrets);
    await writeFile(path.join(runDir, REPORT_FILES[format]), text);
    reportDigests[REPORT_FILES[format]] = sha256(text);
    files.push(REPORT_FILES[format]);
  }
  if (!cancelled) {
    // A cancelled run is reported (honestly, with its UNVERIFIED checks) but never certified.
    const certificate = await createCertificate(assessment, sealed.manifest, sealed.digest, {
      ...(signer ? { key: signer } : {}),
      validForMs,
      now: finishedAt,
      reports: reportDigests,
    });
    await writeCertificate(path.join(runDir, CERTIFICATE_FILE), certificate.envelope);
    files.unshift(CERTIFICATE_FILE);
  }

  let storeWarning: string | undefined;
  if (keepHistory && !cancelled) {
    try {
      const store = await openStore(options.store || undefined, { cwd, secrets });
      try {
        await store.save(assessment);
      } finally {
        await store.close();
      }
    } catch (error) {
      storeWarning = `history not saved: ${secrets.redact(error instanceof Error ? error.message : String(error))}`;
    }
  }

  const outDir = options.outDir ? path.resolve(cwd, options.outDir) : runDir;
  if (outDir !== runDir) {
    await clearPreviousOutput(outDir);
    await mkdir(outDir, { recursive: true });
    await cp(runDir, outDir, { recursive: true, force: true });
  }
  return {
    assessment,
    runDir,
    outDir,
    files,
    cancelled,
    ...(storeWarning ? { storeWarning } : {}),
  };
}

/**
 * A previous run's files in --out would mix with this run's (and an unlisted evidence file fails verification), so
 * they are removed first — but only files Gauntlet writes, and only an evidence folder that holds its manifest.
 */
async function clearPreviousOutput(outDir: string): Promise<void> {
  const evidenceDir = path.join(outDir, EVIDENCE_DIR);
  if (existsSync(evidenceDir)) {
    if (!existsSync(path.join(evidenceDir, MANIFEST_FILE))) {
      throw new UserError(
        `--out ${outDir}: it has an evidence/ folder that Gauntlet did not write (no manifest.json); choose another folder`,
      );
    }
    await rm(evidenceDir, { recursive: true, force: true });
  }
  for (const file of [...Object.values(REPORT_FILES), CERTIFICATE_FILE, "gauntlet.pub"]) {
    await rm(path.join(outDir, file), { force: true });
  }
}

/** Sortable and unique: 20261122T104500Z-3f9a1c. */
export function newRunId(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}
