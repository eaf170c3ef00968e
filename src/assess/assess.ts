// One assessment, end to end (DESIGN.md "Data flow"): load the spec, start supervised services, run the plan, seal
// the evidence, score, render, store, sign — the history row before the certificate, so no certificate goes
// unrecorded. This is the wiring layer above core, checks, scoring, report, attest and store; nothing below imports it.
// Everything the run produced lands in .gauntlet/runs/<runId>/ (folders 0700, files 0600), copied to --out when given,
// so a report folder is self-contained: reports, certificate, evidence and its manifest. With no history
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
import { EvidenceStore, IN_PROGRESS_FILE, MANIFEST_FILE, outputModes, sha256 } from "../core/evidence.js";
import { FaultJournal, reconcileLeftovers } from "../core/faultJournal.js";
import { planChecks } from "../core/planner.js";
import { RollbackLedger } from "../core/rollbacks.js";
import { type RunEvent, runPlan } from "../core/runner.js";
import type { Check } from "../core/types.js";
import { buildTargets } from "../engines/faults/targets/registry.js";
import { UserError } from "../errors.js";
import { REPORT_FILES, type ReportFormat, render } from "../report/index.js";
import { Redactor } from "../secrets/redactor.js";
import { loadSpec } from "../spec/loader.js";
import { openStore, runFolder } from "../store/store.js";
import { assembleAssessment } from "./assemble.js";
import {
  recordSupervision,
  SYSTEM_EVIDENCE,
  startSupervisedServices,
  supervisedTargets,
} from "./supervision.js";

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
  /** Sign even with a private key that group or others can read (--insecure-key-permissions); it warns instead. */
  insecureKeyPermissions?: boolean;
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
  const signer = options.keyPath
    ? await loadPrivateKey(options.keyPath, {
        allowInsecurePermissions: Boolean(options.insecureKeyPermissions),
      })
    : undefined;
  for (const warning of signer?.warnings ?? []) emit({ type: "system", message: `warning: ${warning}` });
  // Evidence can hold sensitive data: folders 0700, files 0600, unless $GAUNTLET_UMASK says otherwise.
  const modes = outputModes(env);

  const startedAt = now();
  const runId = newRunId(startedAt);
  const keepHistory = options.store !== false;
  const runDir = keepHistory ? runFolder(cwd, runId) : path.resolve(cwd, options.outDir ?? DEFAULT_OUT_DIR);
  if (!keepHistory) await clearPreviousOutput(runDir);
  const evidence = new EvidenceStore(path.join(runDir, EVIDENCE_DIR), secrets, modes);
  await mkdir(evidence.dir, { recursive: true, mode: modes.dir });
  // Until sealed, the folder says it is a run of ours in progress: a killed run's --out can then be cleared.
  await writeFile(path.join(evidence.dir, IN_PROGRESS_FILE), `${runId}\n`, { mode: modes.file });
  const allowDestructive = options.allowDestructive ?? spec.destructive;
  const plan = planChecks(options.checks ?? allChecks(), spec, {
    allowDestructive,
    ...(options.only ? { only: options.only } : {}),
    ...(options.skip ? { skip: options.skip } : {}),
  });
  emit({ type: "planned", total: plan.length });

  // What a killed earlier run left behind in this folder (its fault journal) is undone and reported first.
  const gauntletDir = path.join(cwd, ".gauntlet");
  const leftovers = await reconcileLeftovers(gauntletDir);
  for (const l of leftovers) {
    emit({
      type: "system",
      message: `left behind by run ${l.runId} (${l.check}), ${l.outcome}: ${l.detail}`,
    });
  }
  const journal = new FaultJournal(gauntletDir, runId);
  const ledger = new RollbackLedger(journal);
  const log = (message: string) => emit({ type: "system", message });
  let results: Awaited<ReturnType<typeof runPlan>>;
  try {
    const supervised = await startSupervisedServices(spec, loaded.dir, ledger, log, options.signal, secrets);
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
      journal.close();
      await recordSupervision(evidence, supervised);
      if (leftovers.length > 0)
        await evidence.writerFor(SYSTEM_EVIDENCE).writeJson("leftovers.json", leftovers);
    }
  } catch (error) {
    await ledger.closeAll();
    journal.close();
    throw error;
  }
  const cancelled = Boolean(options.signal?.aborted);

  const sealed = await evidence.seal();
  for (const entry of sealed.unexpected) {
    log(
      `warning: evidence/${entry.path} is a ${entry.kind}, not a file the run wrote: the certificate will not verify`,
    );
  }
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
    leftovers,
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
    await writeFile(path.join(runDir, REPORT_FILES[format]), text, { mode: modes.file });
    reportDigests[REPORT_FILES[format]] = sha256(text);
    files.push(REPORT_FILES[format]);
  }
  // History first, certificate second: a run killed between the two leaves a history row without a certificate
  // (history and report say so), never a certificate the history does not know about.
  let storeWarning: string | undefined;
  if (keepHistory && !cancelled) {
    try {
      const store = await openStore(options.store || undefined, { cwd, secrets, modes });
      try {
        await store.save(assessment);
      } finally {
        await store.close();
      }
    } catch (error) {
      storeWarning = `history not saved: ${secrets.redact(error instanceof Error ? error.message : String(error))}`;
    }
  }
  if (!cancelled) {
    // A cancelled run is reported (honestly, with its UNVERIFIED checks) but never certified.
    const certificate = await createCertificate(assessment, sealed.manifest, sealed.digest, {
      ...(signer ? { key: signer } : {}),
      validForMs,
      now: finishedAt,
      reports: reportDigests,
    });
    await writeCertificate(path.join(runDir, CERTIFICATE_FILE), certificate.envelope, modes.file);
    files.unshift(CERTIFICATE_FILE);
  }

  const outDir = options.outDir ? path.resolve(cwd, options.outDir) : runDir;
  if (outDir !== runDir) {
    await clearPreviousOutput(outDir);
    // A new --out folder is private like the run's; an existing one is the user's, left as it is. cp keeps the modes.
    await mkdir(outDir, { recursive: true, mode: modes.dir });
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
 * they are removed first — but only files Gauntlet writes, and only an evidence folder that holds its manifest (or
 * the in-progress mark of a run that was killed before sealing it).
 */
async function clearPreviousOutput(outDir: string): Promise<void> {
  const evidenceDir = path.join(outDir, EVIDENCE_DIR);
  if (existsSync(evidenceDir)) {
    if (
      !existsSync(path.join(evidenceDir, MANIFEST_FILE)) &&
      !existsSync(path.join(evidenceDir, IN_PROGRESS_FILE))
    ) {
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
