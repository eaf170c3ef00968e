// The gauntlet.yaml contract (DESIGN.md "The spec"). Every key is parsed and validated here even before a check uses
// it, so a typo is caught on day one. Durations become milliseconds, sizes bytes, rates per second, percents 0–100.
import { z } from "zod";
import { MAX_THRESHOLD_LENGTH } from "./limits.js";
import { parseThreshold } from "./thresholds.js";
import { type Parsed, parseDuration, parsePercent, parseRate, parseSize } from "./units.js";
import { urlProblem } from "./urls.js";

function unit(parse: (input: unknown) => Parsed, description: string) {
  return z
    .union([z.string(), z.number()])
    .describe(description)
    .transform((input, ctx) => {
      const parsed = parse(input);
      if (parsed.ok) return parsed.value;
      ctx.issues.push({ code: "custom", message: parsed.error, input });
      return z.NEVER;
    });
}

export const duration = () => unit(parseDuration, "duration: a number with ms, s, m, h or d, e.g. 30s");
export const size = () => unit(parseSize, "size: a number with B, KB, MB or GB, e.g. 100MB");
export const rate = () => unit(parseRate, "rate: requests per second, N or N/s, e.g. 500/s");
export const percent = () => unit(parsePercent, "percentage, e.g. 99.9%");

const name = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, "use letters, digits, '-', '_' or '.', starting with a letter");
/** A URL parsed as the checks parse it (`new URL`), with a host and a port in range; `schemes` when only some do. */
function url(schemes: readonly string[] | undefined, example: string, pattern: string) {
  return (
    z
      .string()
      .superRefine((text, ctx) => {
        const problem = urlProblem(text, schemes, example);
        if (problem) ctx.addIssue({ code: "custom", message: problem, input: text });
      })
      // For editors, the pattern only: `format: uri` would flag the ${VAR} references that are interpolated later.
      .meta({ pattern })
  );
}
const httpUrl = url(["http", "https"], "http://127.0.0.1:9090", "^https?://\\S+$");
const anyUrl = url(undefined, "postgres://user@127.0.0.1:5432/db", "^[a-zA-Z][a-zA-Z0-9+.-]*://\\S+$");
/** A path joined to the service's url, or a full http(s) URL, which must then be a valid one. */
const endpoint = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return;
    const problem = urlProblem(text, ["http", "https"], "http://127.0.0.1:9090/metrics");
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: text });
  });
const stringList = z.array(z.string().min(1));
const command = z.string().min(1, "write the shell command to run");
/** A k6-style threshold, parsed here so a typo is found by `validate`, not minutes into a load run. */
const threshold = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    if (text.length > MAX_THRESHOLD_LENGTH) {
      // Parsing is not linear in the length of a long run of spaces; no threshold is this long.
      const message = `this threshold is ${text.length} characters long: write it like "p(95)<300ms" (at most ${MAX_THRESHOLD_LENGTH} characters)`;
      ctx.addIssue({ code: "custom", message, input: text });
      return;
    }
    try {
      parseThreshold(text);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message, input: text });
    }
  });

const processControl = z.strictObject({
  command,
  cwd: z.string().optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  restart: z.enum(["always", "on-failure", "never"]).default("never"),
  /** How long to wait for the service to become healthy after start. */
  startTimeout: duration().default(30_000),
});

const containerControl = z.strictObject({
  name: z.string().min(1),
  engine: z.enum(["docker", "podman"]).default("docker"),
  /** API socket; defaults to the engine's usual path (DOCKER_HOST or /run/podman/podman.sock). */
  socket: z.string().optional(),
});

const kubernetesControl = z.strictObject({
  namespace: z.string().min(1),
  selector: z.string().min(1),
  /** The kubeconfig context; required for destructive runs, so a fault never lands on whatever cluster is current. */
  context: z.string().min(1).optional(),
  container: z.string().optional(),
});

const commandsControl = z
  .strictObject({
    kill: command.optional(),
    stop: command.optional(),
    start: command.optional(),
    restart: command.optional(),
    pid: command.optional(),
  })
  .refine(
    (c) => Object.values(c).some(Boolean),
    "commands is empty: write at least one of kill, stop, start, restart or pid",
  );

const control = z
  .strictObject({
    process: processControl.optional(),
    container: containerControl.optional(),
    kubernetes: kubernetesControl.optional(),
    commands: commandsControl.optional(),
  })
  .refine(
    (c) => [c.process, c.container, c.kubernetes, c.commands].filter(Boolean).length === 1,
    "control takes exactly one of process, container, kubernetes or commands: write exactly one of them",
  );

export const SERVICE_KINDS = [
  "http",
  "postgres",
  "redis",
  "mysql",
  "mongodb",
  "memcached",
  "kafka",
  "rabbitmq",
  "pgbouncer",
  "other",
] as const;

const service = z.strictObject({
  kind: z.enum(SERVICE_KINDS).default("http"),
  url: anyUrl.optional(),
  /** Health path (joined to url) or a full URL. */
  health: endpoint.optional(),
  metrics: endpoint.optional(),
  exposure: z.enum(["public", "internal"]).optional(),
  protected: stringList.optional(),
  dependsOn: z.array(name).optional(),
  control: control.optional(),
  /**
   * Whether the service must keep acknowledged writes across a crash. Default true for a datastore; `false` for a
   * cache, which may lose its data on restart (reported, not failed).
   */
  durable: z.boolean().optional(),
  /** The Prometheus `job` label its metrics are scraped under, when it is not the service's name. */
  job: z.string().min(1).optional(),
});

const deployment = z.strictObject({
  compose: stringList.optional(),
  dockerfiles: stringList.optional(),
  kubernetes: stringList.optional(),
  scripts: stringList.optional(),
  deploy: z.strictObject({ command, timeout: duration().default(120_000) }).optional(),
  env: z
    .strictObject({ required: z.array(z.string().min(1)).default([]), example: z.string().optional() })
    .optional(),
});

const LOOPBACK_URL = /^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+(\/\S*)?$/;

/**
 * A webhook on loopback that Alertmanager's configuration routes to, and the labels that route a synthetic alert
 * there: alertsDelivered listens on it and measures the delivery end to end.
 */
const alertReceiver = z.strictObject({
  url: z
    .string()
    .regex(
      LOOPBACK_URL,
      "write a loopback http URL with a port, e.g. http://127.0.0.1:19095/alerts (Gauntlet listens there)",
    )
    .superRefine((text, ctx) => {
      // The pattern lets through what no socket can listen on (port 99999); when it fails, its own error is enough.
      if (!LOOPBACK_URL.test(text)) return;
      const problem = urlProblem(text, ["http"], "http://127.0.0.1:19095/alerts");
      if (problem) ctx.addIssue({ code: "custom", message: problem, input: text });
    }),
  labels: z
    .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "a Prometheus label name"), z.string())
    .default({}),
  /** Longest wait for the notification; default: the matched route's group_wait plus 15 s. */
  timeout: duration().optional(),
});

const monitoring = z.strictObject({
  prometheus: httpUrl.optional(),
  alertmanager: httpUrl.optional(),
  alertReceiver: alertReceiver.optional(),
  rules: stringList.optional(),
  logs: z
    .strictObject({ files: stringList, format: z.enum(["json", "logfmt", "text"]).default("json") })
    .optional(),
});

/** An endpoint whose TLS is judged: `https://host[:port]` or `tls://host:port` (any TLS port), or with options. */
const tlsUrl = url(["https", "tls"], "https://orders.example.internal", "^(https|tls)://\\S+$");
const tlsEndpoint = z.union([
  tlsUrl,
  z.strictObject({
    url: tlsUrl,
    /** PEM file of the CA that signs the endpoint's certificate, when it is not one Node trusts. */
    ca: z.string().min(1).optional(),
    /** The name the certificate must carry, when it differs from the URL's host (SNI and hostname check). */
    servername: z.string().min(1).optional(),
  }),
]);

const secretScan = z.strictObject({
  /** Folders or files to scan, relative to system.repo. */
  paths: stringList.default(["."]),
  /** Globs left out, besides .gitignore'd and vendored folders (node_modules, vendor, …). */
  exclude: stringList.default([]),
  /** Also scan every blob in the git history: a secret committed and deleted since is still a leak. */
  history: z.boolean().default(true),
  /** A JSON file of accepted findings (`gauntlet secrets --write-baseline` writes it), relative to the spec. */
  baseline: z.string().min(1).optional(),
  /** Files (and history blobs) larger than this are not read, and are counted as skipped; default 2MB. */
  maxFileSize: size().optional(),
});

const security = z.strictObject({
  scan: secretScan.optional(),
  /** OSV advisories for dependency vulnerabilities: a folder of OSV JSON files or an osv.dev `all.zip`, or several. */
  advisories: z.union([z.string().min(1), stringList.min(1)]).optional(),
  tls: z.array(tlsEndpoint).optional(),
});

const loadRequest = z.strictObject({
  method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]).default("GET"),
  path: z.string().startsWith("/", "a request path starts with /, e.g. /api/items"),
  weight: z.number().positive().default(1),
  headers: z.record(z.string(), z.string()).optional(),
  json: z.unknown().optional(),
  body: z.string().optional(),
});

const loadStage = z
  .strictObject({
    name: z.string().min(1),
    connections: z.number().int().positive().optional(),
    rate: rate().optional(),
    duration: duration(),
    /** Ramp linearly from the previous stage's level to this one over `rampUp`. */
    rampUp: duration().optional(),
    pipelining: z.number().int().positive().optional(),
  })
  .refine(
    (s) => s.connections !== undefined || s.rate !== undefined,
    "a stage needs connections or rate: write connections: N (a closed model) or rate: N/s (an open model)",
  );

const performance = z.strictObject({
  target: name,
  requests: z.array(loadRequest).optional(),
  stages: z.array(loadStage).optional(),
  thresholds: z.array(threshold).optional(),
  endurance: z.strictObject({ duration: duration(), maxMemoryGrowth: size() }).optional(),
  /** capacityFound's search: length of the closed-model burst and of each open-model step. */
  capacity: z.strictObject({ burst: duration().default(3_000), step: duration().default(5_000) }).optional(),
  /** Every load run split over `gauntlet worker` processes that reach this Redis, instead of this machine's threads. */
  distributed: z
    .strictObject({
      redis: url(["redis", "rediss"], "redis://127.0.0.1:6379", "^rediss?://\\S+$"),
      workers: z.number().int().min(1),
      /** The workers' --redis-prefix (default gauntlet:load). */
      prefix: z
        .string()
        .regex(
          /^[A-Za-z0-9][A-Za-z0-9:._-]{0,99}$/,
          "use letters, digits, ':', '.', '_' or '-', e.g. gauntlet:load",
        )
        .optional(),
      /** How long a run waits for enough live workers (default 30s). */
      wait: duration().optional(),
    })
    .optional(),
});

const promLabels = z.record(
  z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "a Prometheus label name"),
  z.string(),
);

/**
 * How Prometheus measures the SLO. Either two PromQL expressions, the bad and the total events over `{{window}}` (a
 * ratio SLI), or a latency histogram: `histogram` names the metric with optional matchers (`http_request_duration_seconds{job="api"}`,
 * without `_bucket`) and requests in the bucket `le = threshold` are the good ones.
 */
const sli = z
  .strictObject({
    errors: z.string().min(1).optional(),
    total: z.string().min(1).optional(),
    histogram: z.string().min(1).optional(),
    /** The latency bucket that counts as good; default: the SLO's `latency`. Must be one of the histogram's buckets. */
    threshold: duration().optional(),
  })
  .superRefine((s, ctx) => {
    const ratio = s.errors !== undefined || s.total !== undefined;
    if (ratio && s.histogram !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: "an sli is either errors + total or a histogram: remove one of them",
      });
    } else if (ratio && (s.errors === undefined || s.total === undefined)) {
      ctx.addIssue({
        code: "custom",
        message: "a ratio sli needs both errors and total PromQL expressions, each with [{{window}}]",
      });
    } else if (!ratio && s.histogram === undefined) {
      ctx.addIssue({
        code: "custom",
        message: "write errors + total (PromQL over [{{window}}]) or histogram + threshold",
      });
    }
  });

const slo = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, "use letters, digits, '-', '_' or '.', starting with a letter"),
  service: name,
  objective: percent(),
  window: duration(),
  /** For a latency SLO: requests faster than this count as good. */
  latency: duration().optional(),
  sli: sli.optional(),
  /** Mean time to recover: the resilience experiments' measured detection + recovery is held against it. */
  mttr: duration().optional(),
  /** Linked from the generated alerts (`runbook_url`). */
  runbook: z.string().min(1).optional(),
  /** Added to the generated recording and alert rules. */
  labels: promLabels.optional(),
  /** Alerts stay silent below this many requests per second (a quiet hour's single error is not a page). */
  minTraffic: rate().optional(),
});

/** What the rollout measures during each bake, and how it tells a canary's answer at the entry. */
const rolloutAnalysis = z.strictObject({
  /** Requests per second sent to the entry while it bakes (through the user's splitter). */
  rate: rate().default(50),
  /** Requests per second sent to each of baseline and canary directly, side by side, for the comparison. */
  sampleRate: rate().default(20),
  /** Length of one analysis; the bake is cut into analyses of this length (default: one per bake). */
  interval: duration().optional(),
  /** Fewer samples than this on either side and the analysis is INCONCLUSIVE (the step does not advance). */
  minSamples: z.number().int().min(1).default(50),
  /** Consecutive failed analyses that abort the rollout. */
  failureLimit: z.number().int().min(1).default(1),
  /** Significance level of the Mann–Whitney test. */
  alpha: z.number().gt(0).lt(1).default(0.05),
  /** How much worse the canary may be and still pass: latency (relative to baseline), errors (percentage points). */
  tolerance: z
    .strictObject({ latency: percent().default(20), errors: percent().default(1) })
    .default({ latency: 20, errors: 1 }),
});

const rollout = z.strictObject({
  /** The entry users hit, where the traffic is split. */
  service: name,
  baseline: name,
  canary: name,
  /** Sets the canary's share of the entry's traffic: {{percent}} is 0–100. */
  shift: command,
  /** Run instead of `shift` with 0 when aborting (default: shift 0). */
  rollback: command.optional(),
  steps: z
    .array(z.number().gt(0).max(100))
    .min(1)
    .refine(
      (s) => s.every((v, i) => i === 0 || v > (s[i - 1] as number)),
      "steps must rise, e.g. [5, 25, 75, 100]",
    )
    .default([5, 25, 75, 100]),
  bake: duration().default(120_000),
  /** k6-style conditions on the canary's own measurements that roll it back, e.g. "p(99)>300ms", "errors>1%". */
  rollbackOn: z.array(threshold).default([]),
  /** The requests sent (default: performance.requests when the entry is its target, else GET /). */
  requests: z.array(loadRequest).optional(),
  analysis: rolloutAnalysis.default({
    rate: 50,
    sampleRate: 20,
    minSamples: 50,
    failureLimit: 1,
    alpha: 0.05,
    tolerance: { latency: 20, errors: 1 },
  }),
  /**
   * How a canary's answer is recognised at the entry, to confirm a rollback: a response header and the value the
   * canary sends, or (default when the canary has `metrics`) its own request counter, which must stop rising.
   */
  identify: z.strictObject({ header: z.string().min(1), value: z.string().min(1).optional() }).optional(),
  /** Longest a shift command may take. */
  timeout: duration().default(120_000),
  /**
   * rolloutAbortsOnRegression's rehearsal: how to make the canary bad (`command`, undone by `undo`), or added latency
   * through the canary's fault proxy (resilience.proxies) — the rollout must then abort at its first step.
   */
  rehearsal: z
    .strictObject({
      command: command.optional(),
      undo: command.optional(),
      latency: duration().optional(),
    })
    .refine(
      (r) => r.command !== undefined || r.latency !== undefined,
      "a rehearsal needs a command that makes the canary bad (with undo) or a latency to add through its fault proxy",
    )
    .refine((r) => r.command === undefined || r.undo !== undefined, {
      message: "a rehearsal command needs an undo command that makes the canary healthy again",
      path: ["undo"],
    })
    .optional(),
});

export const FAULTS = [
  "kill",
  "restart",
  "stop",
  "pause",
  "latency",
  "blackhole",
  "reset",
  "overload",
] as const;

/** A request that must succeed (2xx) as part of an experiment's steady state: a full URL, or a path on a service. */
const experimentProbe = z.union([
  httpUrl,
  z.strictObject({
    service: name,
    path: z.string().startsWith("/", "a request path starts with /, e.g. /api/cart"),
  }),
]);

const experiment = z.strictObject({
  name: z.string().min(1),
  target: name,
  fault: z.enum(FAULTS),
  duration: duration().optional(),
  latency: duration().optional(),
  recoverWithin: duration().default(10_000),
  /** PromQL conditions that must hold with the health probes (needs monitoring.prometheus); empty result = broken. */
  steadyState: z.array(z.string().min(1)).optional(),
  /** Requests that use the target, watched with the dependants' health: what makes the fault observable. */
  probes: z.array(experimentProbe).optional(),
  /** overload: concurrent clients (default 256). */
  concurrency: z.number().int().positive().max(10_000).optional(),
});

/** A (check, subject) pair the spec leaves out of the fault tests, with the reason shown on every report. */
const exclusion = z.strictObject({
  check: z.string().min(1),
  /** The service the exclusion covers; omitted = every subject of the check. */
  subject: z.string().min(1).optional(),
  reason: z.string().min(1, "say why it is left out: the reason is printed on every report"),
});

/** The fault proxy (`gauntlet proxy --api …`) a dependency's dependants connect through, and its control token. */
const resilienceProxy = z.strictObject({
  api: httpUrl,
  /** The proxy's control API token (`gauntlet proxy` prints it, or takes --token); write it as ${ENV}. */
  token: z.string().min(1).optional(),
});

/** Where a datastore's backups land and, optionally, the command that takes one now (it only reads the source). */
const backup = z.strictObject({
  service: name,
  /** Takes a fresh backup first; its duration is recorded. */
  command: command.optional(),
  /** Glob (relative to the spec folder) of the artifacts the backup writes; the newest match is judged. */
  path: z.string().min(1, "write the glob of the files the backup writes, e.g. backups/*.dump"),
  maxAge: duration().default(86_400_000),
  /** Working directory of `command` (default: the spec folder). */
  cwd: z.string().optional(),
  timeout: duration().default(15 * 60_000),
});

const recovery = z.strictObject({
  backups: z.array(backup).optional(),
  restoreDrill: z
    .strictObject({
      service: name,
      /** A restore of your own: {{backup}} is the artifact, {{target}} the scratch instance's URL. */
      command: command.optional(),
      maxDuration: duration().optional(),
      /**
       * Where the restore goes: a scratch server Gauntlet starts (default), or a scratch database on the source's own
       * server (PostgreSQL, needs CREATEDB), which never touches the source database.
       */
      scratch: z.enum(["instance", "database"]).default("instance"),
    })
    .optional(),
  objectives: z.strictObject({ rto: duration().optional(), rpo: duration().optional() }).optional(),
  /** Destructive: markers written every second, the datastore crashed, the newest surviving marker = observed loss. */
  markerDrill: z.boolean().default(false),
});

const coverage = z
  .union([
    z.string().min(1),
    z.strictObject({
      report: z.string().min(1, "write the coverage report's path, e.g. coverage/lcov.info"),
      minimum: percent().default(80),
      /** Branch coverage floor, when the report has branches (default: none). */
      branchMinimum: percent().optional(),
    }),
  ])
  // A bare path means minimum 80 % (DESIGN.md).
  .transform((c) => (typeof c === "string" ? { report: c, minimum: 80, branchMinimum: undefined } : c));

const operations = z.strictObject({
  runbooks: z.string().optional(),
  coverage: coverage.optional(),
  rollback: z
    .strictObject({
      command,
      timeout: duration().default(15 * 60_000),
      /** true: run it against the system itself, in the repo; false (default): in a scratch copy of the repo. */
      safe: z.boolean().default(false),
    })
    .optional(),
  /** CI pipeline files (globs); default: .github/workflows/*.yml|yaml and .gitlab-ci.yml when present. */
  ci: stringList.optional(),
});

const isoDate = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/,
    "write the date as YYYY-MM-DD, e.g. 2027-03-01",
  )
  // 2020-13-45 matches the pattern and 2027-02-30 rolls over to March: only a date that exists is accepted.
  .refine((text) => {
    const day = text.slice(0, 10);
    const parsed = new Date(`${day}T00:00:00Z`);
    return (
      !Number.isNaN(parsed.getTime()) &&
      parsed.toISOString().slice(0, 10) === day &&
      !Number.isNaN(Date.parse(text))
    );
  }, "no such date: write a real calendar date as YYYY-MM-DD, e.g. 2027-03-01");

const waiver = z.strictObject({
  check: z.string().min(1),
  /** Service or file the waiver covers; omitted = every subject of the check. */
  subject: z.string().optional(),
  reason: z.string().min(1),
  approvedBy: z.string().min(1),
  expires: z.union([isoDate, z.date().transform((d) => d.toISOString().slice(0, 10))]),
});

const categoryWeights = z.strictObject({
  deployment: z.number().min(0).optional(),
  observability: z.number().min(0).optional(),
  resilience: z.number().min(0).optional(),
  security: z.number().min(0).optional(),
  performance: z.number().min(0).optional(),
  recovery: z.number().min(0).optional(),
  operations: z.number().min(0).optional(),
});

export const DEFAULT_WEIGHTS = {
  deployment: 10,
  observability: 20,
  resilience: 20,
  security: 20,
  performance: 10,
  recovery: 10,
  operations: 10,
} as const;

const scoring = z
  .strictObject({
    weights: categoryWeights.default({}),
    certifyAt: z.number().min(0).max(100).default(90),
    conditionalAt: z.number().min(0).max(100).default(75),
    categoryMinimum: z.number().min(0).max(100).default(70),
    waivers: z.array(waiver).default([]),
  })
  .refine((s) => s.conditionalAt <= s.certifyAt, {
    message: "conditionalAt is above certifyAt: write a conditionalAt at or below certifyAt",
    path: ["conditionalAt"],
  });

const MAX_VALIDITY_MS = 3650 * 86_400_000;

const certificate = z.strictObject({
  /** How long a certificate stays valid after issue; a readiness verdict ages, so ten years at most. */
  validFor: duration()
    .refine((ms) => ms > 0, "a certificate must be valid for some time: write e.g. 90d")
    .refine(
      (ms) => ms <= MAX_VALIDITY_MS,
      "at most 3650d: a readiness verdict this old means nothing; write e.g. 90d",
    )
    .default(90 * 86_400_000),
});

export const specSchema = z
  .strictObject({
    version: z.literal(1, { error: "write version: 1 (the only spec version so far)" }),
    system: z.strictObject({
      name: name,
      version: z.union([z.string(), z.number()]).transform(String).optional(),
      owner: z.string().optional(),
      repo: z.string().default("."),
    }),
    destructive: z.boolean().default(false),
    services: z.record(name, service).default({}),
    deployment: deployment.optional(),
    monitoring: monitoring.optional(),
    security: security.optional(),
    performance: performance.optional(),
    slos: z.array(slo).optional(),
    rollout: rollout.optional(),
    resilience: z
      .strictObject({
        /** Refine the default experiments (same fault family and target) or add more; never switch others off. */
        experiments: z.array(experiment).default([]),
        /** dependency service name → its fault proxy */
        proxies: z.record(name, resilienceProxy).optional(),
        exclude: z.array(exclusion).default([]),
      })
      .optional(),
    /** What the revision digest leaves out when the system is not in git (globs relative to the spec's folder). */
    revision: z.strictObject({ exclude: stringList.default([]) }).optional(),
    recovery: recovery.optional(),
    operations: operations.optional(),
    scoring: scoring.default({
      weights: {},
      certifyAt: 90,
      conditionalAt: 75,
      categoryMinimum: 70,
      waivers: [],
    }),
    certificate: certificate.default({ validFor: 90 * 86_400_000 }),
  })
  .superRefine((spec, ctx) => {
    // Cross references: every service a key names must be declared under services.
    const known = new Set(Object.keys(spec.services));
    const ref = (value: string, path: (string | number)[]) => {
      if (!known.has(value)) {
        const list = [...known].join(", ") || "none declared";
        ctx.addIssue({ code: "custom", path, message: `no service named "${value}" (services: ${list})` });
      }
    };
    for (const [id, svc] of Object.entries(spec.services)) {
      for (const [i, dep] of (svc.dependsOn ?? []).entries()) ref(dep, ["services", id, "dependsOn", i]);
    }
    if (spec.performance) ref(spec.performance.target, ["performance", "target"]);
    for (const [i, s] of (spec.slos ?? []).entries()) {
      ref(s.service, ["slos", i, "service"]);
      const histogramOnly =
        s.sli?.histogram !== undefined && s.sli.errors === undefined && s.sli.total === undefined;
      if (histogramOnly && s.sli?.threshold === undefined && s.latency === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["slos", i, "sli", "threshold"],
          message:
            "a histogram sli needs the latency that counts as good: write sli.threshold or the SLO's latency",
        });
      }
    }
    const sloNames = new Set<string>();
    for (const [i, s] of (spec.slos ?? []).entries()) {
      if (sloNames.has(s.name))
        ctx.addIssue({
          code: "custom",
          path: ["slos", i, "name"],
          message: `two SLOs are named "${s.name}": give each its own name`,
        });
      sloNames.add(s.name);
    }
    if (spec.rollout) {
      const r = spec.rollout;
      ref(r.service, ["rollout", "service"]);
      ref(r.baseline, ["rollout", "baseline"]);
      ref(r.canary, ["rollout", "canary"]);
      if (r.baseline === r.canary)
        ctx.addIssue({
          code: "custom",
          path: ["rollout", "canary"],
          message: "baseline and canary are the same service: name the service that runs the new version",
        });
    }
    for (const [i, e] of (spec.resilience?.experiments ?? []).entries()) {
      ref(e.target, ["resilience", "experiments", i, "target"]);
      for (const [j, p] of (e.probes ?? []).entries()) {
        if (typeof p !== "string") ref(p.service, ["resilience", "experiments", i, "probes", j, "service"]);
      }
      if (e.steadyState?.length && !spec.monitoring?.prometheus) {
        // A steady state nobody can evaluate would be skipped in silence.
        ctx.addIssue({
          code: "custom",
          path: ["resilience", "experiments", i, "steadyState"],
          message: "a PromQL steady state needs Prometheus: set monitoring.prometheus, or remove steadyState",
        });
      }
    }
    for (const [i, b] of (spec.recovery?.backups ?? []).entries())
      ref(b.service, ["recovery", "backups", i, "service"]);
    for (const dep of Object.keys(spec.resilience?.proxies ?? {})) ref(dep, ["resilience", "proxies", dep]);
    for (const [i, x] of (spec.resilience?.exclude ?? []).entries()) {
      if (x.subject !== undefined) ref(x.subject, ["resilience", "exclude", i, "subject"]);
    }
    if (spec.destructive) {
      for (const [id, svc] of Object.entries(spec.services)) {
        if (svc.control?.kubernetes && !svc.control.kubernetes.context) {
          ctx.addIssue({
            code: "custom",
            path: ["services", id, "control", "kubernetes"],
            message:
              "destructive: true needs control.kubernetes.context: write the kubeconfig context to inject faults into, so they never land on whatever cluster is current",
          });
        }
      }
    }
    if (spec.recovery?.restoreDrill)
      ref(spec.recovery.restoreDrill.service, ["recovery", "restoreDrill", "service"]);
  });

export type Spec = z.output<typeof specSchema>;
export type SpecInput = z.input<typeof specSchema>;
export type Service = Spec["services"][string];
export type Waiver = Spec["scoring"]["waivers"][number];
export type ScoringConfig = Spec["scoring"];

export function specJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(specSchema, {
    io: "input",
    unrepresentable: "any",
    target: "draft-2020-12",
  }) as Record<string, unknown>;
}
