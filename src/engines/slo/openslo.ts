// OpenSLO v1 in and out. In: the documents of one YAML file (multi-document, or one list) — SLO, SLI, Service and
// DataSource — become the SLOs `slos[]` holds: a ratioMetric's bad (or total − good) and total Prometheus queries,
// the objective's target, the rolling window. What the rules cannot honour (Timeslices, thresholdMetric, raw ratios,
// other sources, calendar windows, composite SLOs) is an error naming the document and the field. Out: a Service per
// service, an SLI and an SLO per SLO. Alert policies are ignored: the burn-rate alerts are generated, not declared.
import { parseAllDocuments, stringify } from "yaml";
import { UserError } from "../../errors.js";
import { parseHistogramSli, thresholdInUnit } from "./errorBudget.js";
import { leMatcher, type SloDefinition } from "./rules.js";

const API_VERSION = "openslo/v1";
const WINDOW = /\{\{\s*\.?window\s*\}\}/g;
const HAS_WINDOW = /\{\{\s*\.?window\s*\}\}/;
/** Gauntlet's own keys that OpenSLO has no field for, kept as annotations so a round trip keeps them. */
const RUNBOOK_ANNOTATION = "gauntlet.dev/runbook";
const MIN_TRAFFIC_ANNOTATION = "gauntlet.dev/min-traffic";
const IGNORED_KINDS = new Set(["AlertPolicy", "AlertCondition", "AlertNotificationTarget"]);
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

type Json = Record<string, unknown>;

interface Document {
  kind: string;
  name: string;
  body: Json;
  where: string;
}

/** The SLOs of an OpenSLO v1 file; `file` names it in every error. */
export function parseOpenSlo(text: string, file: string): SloDefinition[] {
  const documents = readDocuments(text, file);
  const byKind = (kind: string) => new Map(documents.filter((d) => d.kind === kind).map((d) => [d.name, d]));
  const slis = byKind("SLI");
  const sources = byKind("DataSource");
  const slos = documents.filter((d) => d.kind === "SLO");
  if (slos.length === 0) throw new UserError(`${file} holds no OpenSLO document of kind SLO`);
  return slos.map((doc) => toSlo(doc, slis, sources));
}

function readDocuments(text: string, file: string): Document[] {
  const parsed = parseAllDocuments(text);
  const docs = Array.isArray(parsed) ? parsed : [parsed];
  const objects: { value: unknown; where: string }[] = [];
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length > 0)
      throw new UserError(
        `${file}: document ${i + 1} is not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`,
      );
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    // A document may also be a list of objects (OpenSLO's examples write both).
    if (Array.isArray(value)) {
      for (const [j, v] of value.entries())
        objects.push({ value: v, where: `${file}: document ${i + 1}, item ${j + 1}` });
      continue;
    }
    objects.push({ value, where: `${file}: document ${i + 1}` });
  }
  const out: Document[] = [];
  for (const { value, where } of objects) {
    if (!isObject(value))
      throw new UserError(`${where} is not a mapping with apiVersion, kind, metadata and spec`);
    if (value.apiVersion !== API_VERSION)
      throw new UserError(
        `${where}: apiVersion is ${JSON.stringify(value.apiVersion)}; only ${API_VERSION} is read (write apiVersion: ${API_VERSION})`,
      );
    const kind = String(value.kind ?? "");
    const name = isObject(value.metadata) ? value.metadata.name : undefined;
    if (typeof name !== "string" || !name)
      throw new UserError(`${where} (kind ${kind}): metadata.name is missing`);
    const label = `${where} (${kind} "${name}")`;
    if (IGNORED_KINDS.has(kind)) continue;
    if (!["SLO", "SLI", "Service", "DataSource"].includes(kind))
      throw new UserError(
        `${label}: unknown kind "${kind}" (SLO, SLI, Service, DataSource or an alert kind)`,
      );
    out.push({ kind, name, body: value, where: label });
  }
  return out;
}

function toSlo(doc: Document, slis: Map<string, Document>, sources: Map<string, Document>): SloDefinition {
  const spec = objectAt(doc.body, "spec", doc.where);
  const at = (field: string) => `${doc.where}: spec.${field}`;
  const service = spec.service;
  if (typeof service !== "string" || !service)
    throw new UserError(`${at("service")} is missing: name the service the SLO is about`);
  const method = spec.budgetingMethod;
  if (method !== "Occurrences")
    throw new UserError(
      `${at("budgetingMethod")} is ${JSON.stringify(method)}: only Occurrences (good or bad events / total events) can be turned into burn-rate rules`,
    );
  const objectives = spec.objectives;
  if (!Array.isArray(objectives) || objectives.length !== 1)
    throw new UserError(
      `${at("objectives")} must hold exactly one objective (this file has ${Array.isArray(objectives) ? objectives.length : "none"}): write one SLO per target`,
    );
  const objective = objectives[0];
  if (!isObject(objective)) throw new UserError(`${at("objectives[0]")} is not a mapping`);
  for (const field of ["indicator", "indicatorRef"])
    if (objective[field] !== undefined)
      throw new UserError(
        `${at(`objectives[0].${field}`)}: composite SLOs are not supported; give the SLO one spec.indicator`,
      );
  for (const field of ["op", "value", "timeSliceTarget", "timeSliceWindow"])
    if (objective[field] !== undefined)
      throw new UserError(
        `${at(`objectives[0].${field}`)} belongs to thresholdMetric or Timeslices SLOs, which are not supported`,
      );
  const target =
    typeof objective.target === "number"
      ? objective.target * 100
      : typeof objective.targetPercent === "number"
        ? objective.targetPercent
        : undefined;
  if (target === undefined || !(target > 0 && target < 100))
    throw new UserError(
      `${at("objectives[0].target")} must be a number in (0, 1), e.g. 0.999 (or targetPercent: 99.9)`,
    );
  const slo: SloDefinition = {
    name: doc.name,
    service,
    objective: Number(target.toPrecision(12)),
    window: windowOf(spec.timeWindow, at("timeWindow")),
    sli: indicatorOf(spec, doc, slis, sources),
  };
  const metadata = isObject(doc.body.metadata) ? doc.body.metadata : {};
  const labels = labelsOf(metadata.labels);
  if (labels) slo.labels = labels;
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  if (typeof annotations[RUNBOOK_ANNOTATION] === "string") slo.runbook = annotations[RUNBOOK_ANNOTATION];
  const minTraffic = Number(annotations[MIN_TRAFFIC_ANNOTATION]);
  if (annotations[MIN_TRAFFIC_ANNOTATION] !== undefined) {
    if (!(minTraffic > 0))
      throw new UserError(
        `${doc.where}: metadata.annotations["${MIN_TRAFFIC_ANNOTATION}"] must be requests per second above 0`,
      );
    slo.minTraffic = minTraffic;
  }
  return slo;
}

function windowOf(value: unknown, where: string): number {
  if (!Array.isArray(value) || value.length !== 1 || !isObject(value[0]))
    throw new UserError(`${where} must hold exactly one window, e.g. [{ duration: 30d, isRolling: true }]`);
  const window = value[0];
  if (window.calendar !== undefined || window.isRolling === false)
    throw new UserError(
      `${where}[0]: calendar-aligned windows are not supported; write a rolling one: { duration: 30d, isRolling: true }`,
    );
  const match = /^(\d+)([a-zA-Z])$/.exec(String(window.duration ?? ""));
  const unit = match ? UNIT_MS[match[2]!] : undefined;
  if (!match || unit === undefined)
    throw new UserError(
      `${where}[0].duration is ${JSON.stringify(window.duration)}: write a number of minutes, hours, days or weeks (30d, 4w); months, quarters and years have no fixed length`,
    );
  return Number(match[1]) * unit;
}

function indicatorOf(
  spec: Json,
  doc: Document,
  slis: Map<string, Document>,
  sources: Map<string, Document>,
): NonNullable<SloDefinition["sli"]> {
  let sliSpec: Json;
  let where: string;
  if (spec.indicator !== undefined) {
    const indicator = objectAt(spec, "indicator", `${doc.where}: spec`);
    sliSpec = objectAt(indicator, "spec", `${doc.where}: spec.indicator`);
    where = `${doc.where}: spec.indicator.spec`;
  } else if (typeof spec.indicatorRef === "string") {
    const sli = slis.get(spec.indicatorRef);
    if (!sli)
      throw new UserError(
        `${doc.where}: spec.indicatorRef names SLI "${spec.indicatorRef}", which no document of kind SLI in the file defines`,
      );
    sliSpec = objectAt(sli.body, "spec", sli.where);
    where = `${sli.where}: spec`;
  } else {
    throw new UserError(
      `${doc.where}: spec.indicator or spec.indicatorRef is missing: say which SLI measures the SLO`,
    );
  }
  if (sliSpec.thresholdMetric !== undefined)
    throw new UserError(
      `${where}.thresholdMetric is not supported: burn-rate rules need a ratioMetric (bad or good, and total)`,
    );
  const ratio = objectAt(sliSpec, "ratioMetric", where);
  if (ratio.raw !== undefined || ratio.rawType !== undefined)
    throw new UserError(
      `${where}.ratioMetric.raw is not supported: give the good (or bad) and total queries instead of a precomputed ratio`,
    );
  const query = (part: string) => queryOf(ratio[part], `${where}.ratioMetric.${part}`, sources);
  if (ratio.total === undefined) throw new UserError(`${where}.ratioMetric.total is missing`);
  const total = query("total");
  if (ratio.bad !== undefined) return { errors: query("bad"), total };
  if (ratio.good !== undefined) return { errors: `(${total}) - (${query("good")})`, total };
  throw new UserError(`${where}.ratioMetric needs good or bad beside total`);
}

function queryOf(value: unknown, where: string, sources: Map<string, Document>): string {
  const source = isObject(value) && isObject(value.metricSource) ? value.metricSource : undefined;
  if (!source) throw new UserError(`${where}.metricSource is missing`);
  let type = source.type;
  if (type === undefined && typeof source.metricSourceRef === "string") {
    const ref = sources.get(source.metricSourceRef);
    if (!ref)
      throw new UserError(
        `${where}.metricSource.metricSourceRef names DataSource "${source.metricSourceRef}", which the file does not define: add it or write type: Prometheus`,
      );
    type = isObject(ref.body.spec) ? ref.body.spec.type : undefined;
  }
  if (typeof type !== "string" || type.toLowerCase() !== "prometheus")
    throw new UserError(
      `${where}.metricSource.type is ${JSON.stringify(type)}: only Prometheus sources can be turned into Prometheus rules`,
    );
  const spec = isObject(source.spec) ? source.spec : {};
  const text = spec.query;
  if (typeof text !== "string" || !text.trim())
    throw new UserError(`${where}.metricSource.spec.query is missing: write the PromQL`);
  if (!HAS_WINDOW.test(text))
    throw new UserError(
      `${where}.metricSource.spec.query has no {{window}}: write its range as [{{window}}] (Sloth's {{.window}} works too), e.g. sum(rate(http_requests_total{job="api"}[{{window}}])), so the rules can measure every window`,
    );
  return text.trim().replace(WINDOW, "{{window}}");
}

function labelsOf(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = key.replace(/[^a-zA-Z0-9_]/g, "_").replace(/^(\d)/, "_$1");
    out[name] = Array.isArray(v) ? v.map(String).join(",") : String(v);
  }
  return Object.keys(out).length ? out : undefined;
}

/** OpenSLO v1 documents for the SLOs: a Service per service, then an SLI and an SLO per SLO. */
export function toOpenSlo(slos: readonly SloDefinition[]): string {
  const docs: Json[] = [];
  for (const service of [...new Set(slos.map((s) => s.service))])
    docs.push({ apiVersion: API_VERSION, kind: "Service", metadata: { name: service }, spec: {} });
  for (const slo of slos) {
    const sli = sliQueries(slo);
    const source = (query: string) => ({ metricSource: { type: "Prometheus", spec: { query } } });
    docs.push({
      apiVersion: API_VERSION,
      kind: "SLI",
      metadata: { name: `${slo.name}-sli` },
      spec: {
        ratioMetric: {
          counter: true,
          ...(sli.bad !== undefined ? { bad: source(sli.bad) } : { good: source(sli.good!) }),
          total: source(sli.total),
        },
      },
    });
    const annotations: Record<string, string> = {};
    if (slo.runbook) annotations[RUNBOOK_ANNOTATION] = slo.runbook;
    if (slo.minTraffic !== undefined) annotations[MIN_TRAFFIC_ANNOTATION] = String(slo.minTraffic);
    docs.push({
      apiVersion: API_VERSION,
      kind: "SLO",
      metadata: {
        name: slo.name,
        ...(slo.labels ? { labels: slo.labels } : {}),
        ...(Object.keys(annotations).length ? { annotations } : {}),
      },
      spec: {
        service: slo.service,
        indicatorRef: `${slo.name}-sli`,
        timeWindow: [{ duration: shorthand(slo.window, slo.name), isRolling: true }],
        budgetingMethod: "Occurrences",
        objectives: [{ target: Number((slo.objective / 100).toPrecision(12)) }],
      },
    });
  }
  return docs.map((d) => `---\n${stringify(d, { lineWidth: 0 })}`).join("");
}

function sliQueries(slo: SloDefinition): { bad?: string; good?: string; total: string } {
  const sli = slo.sli;
  if (sli?.errors !== undefined && sli.total !== undefined) return { bad: sli.errors, total: sli.total };
  const histogram = sli?.histogram ? parseHistogramSli(sli.histogram) : undefined;
  const threshold = sli?.threshold ?? slo.latency;
  if (histogram && threshold !== undefined) {
    const matchers = (extra?: string) => [histogram.matchers, extra].filter((m) => m).join(", ");
    const le = leMatcher(thresholdInUnit(threshold, histogram.metric));
    return {
      good: `sum(rate(${histogram.metric}_bucket{${matchers(le)}}[{{window}}]))`,
      total: `sum(rate(${histogram.metric}_count{${matchers()}}[{{window}}]))`,
    };
  }
  throw new UserError(
    `SLO "${slo.name}" has no sli, so OpenSLO has nothing to measure it with: write slos[].sli (errors + total, or histogram + threshold)`,
  );
}

/** A window as OpenSLO's duration shorthand: one number and one unit (30d, 36h, 90m). */
function shorthand(ms: number, name: string): string {
  for (const [unit, size] of [
    ["d", UNIT_MS.d!],
    ["h", UNIT_MS.h!],
    ["m", UNIT_MS.m!],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  throw new UserError(
    `SLO "${name}": its window is not a whole number of minutes, which OpenSLO cannot write`,
  );
}

function objectAt(parent: Json, key: string, where: string): Json {
  const value = parent[key];
  if (!isObject(value)) throw new UserError(`${where}.${key} is missing or not a mapping`);
  return value;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
