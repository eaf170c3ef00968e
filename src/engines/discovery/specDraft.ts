// A SystemDraft written out as a commented gauntlet.yaml: what was found as values, where each came from as comments,
// and what only the user can know as TODO comments with the key to complete and uncomment. Values are quoted only where
// YAML would read them as something else, and `${` in a value is escaped so the loader does not interpolate it; the
// ${VAR} references the user is asked for stay in comments, so the file validates before anything is set.
import type { DraftService, SystemDraft } from "./discover.js";

const WIDTH = 118;
const PLAIN = /^[A-Za-z0-9_/][A-Za-z0-9_./:@+-]*$/;
const YAML_WORDS = /^(?:true|false|yes|no|on|off|y|n|null|~)$/i;

export interface SpecTodo {
  /** 1-based line of the TODO comment in the written file. */
  line: number;
  /** The spec key it is about, e.g. services.db.url. */
  key: string;
  text: string;
}

/** A YAML scalar for `value`: plain when YAML reads it back as the same string, else double-quoted. */
export function yamlScalar(value: string): string {
  const text = value.replaceAll("${", () => "$${"); // a function: in a replacement string "$$" means "$"
  const plain =
    PLAIN.test(text) && !YAML_WORDS.test(text) && !/^[-+]?(?:\d|\.\d)/.test(text) && !text.endsWith(":");
  return plain ? text : JSON.stringify(text);
}

const flow = (items: readonly string[]) => `[${items.map(yamlScalar).join(", ")}]`;

class Writer {
  readonly lines: string[] = [];
  readonly todos: SpecTodo[] = [];

  line(text = ""): void {
    this.lines.push(text);
  }

  /** A comment, wrapped to the width; continuation lines are indented two more spaces. */
  comment(indent: number, text: string): void {
    const pad = " ".repeat(indent);
    let rest = text;
    let first = true;
    while (rest.length > 0) {
      const lead = `${pad}# ${first ? "" : "  "}`;
      const room = WIDTH - lead.length;
      let cut = rest.length <= room ? rest.length : rest.lastIndexOf(" ", room);
      if (cut <= 0) cut = rest.indexOf(" ") > 0 ? rest.indexOf(" ") : rest.length;
      this.lines.push(`${lead}${rest.slice(0, cut)}`.trimEnd());
      rest = rest.slice(cut).trimStart();
      first = false;
    }
  }

  todo(indent: number, key: string, text: string, commentedKey?: string): void {
    this.todos.push({ line: this.lines.length + 1, key, text });
    this.comment(indent, `TODO: ${text}${commentedKey ? ":" : ""}`);
    if (commentedKey) this.lines.push(`${" ".repeat(indent)}# ${commentedKey}`);
  }
}

/** The draft as a gauntlet.yaml, and its TODOs with their lines. */
export function renderSpecDraft(
  draft: SystemDraft,
  options: { tool: string },
): { text: string; todos: SpecTodo[] } {
  const w = new Writer();
  w.comment(
    0,
    `Gauntlet spec for ${draft.system.name}, written by \`${options.tool}\` from what it found in this folder:`,
  );
  for (const found of draft.found) w.comment(0, `- ${found}`);
  if (draft.found.length === 0)
    w.comment(0, "- nothing it recognises (no compose file, manifest, Dockerfile or script)");
  for (const note of draft.notes) w.comment(0, `! ${note}`);
  w.comment(
    0,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the comment shows the ${VAR} syntax itself.
    "Lines marked TODO need you: URLs Gauntlet can reach, passwords as ${VAR} (read from the environment, never written here), commands Gauntlet must not guess. Then run `gauntlet validate` and `gauntlet assess`. Every key: docs/spec.md, or `gauntlet schema` for editor completion.",
  );
  w.line("version: 1");
  w.line();
  w.line("system:");
  w.line(`  name: ${yamlScalar(draft.system.name)}`);
  if (draft.system.version) w.line(`  version: ${yamlScalar(draft.system.version)}`);
  w.line("  # owner: your-team");
  w.comment(
    2,
    "The repository Gauntlet scans for secrets and copies for deploy and rollback drills, relative to this file.",
  );
  w.line("  repo: .");
  w.line();
  w.comment(
    0,
    "Load tests, fault injection and the deploy drill run only when this is true (or with --allow-destructive): keep it false for anything you may not break.",
  );
  w.line("destructive: false");
  w.line();
  writeServices(w, draft.services);
  writeDeployment(w, draft);
  writeMonitoring(w, draft);
  writeOperations(w, draft);
  writeRecovery(w, draft);
  w.comment(
    0,
    "Also to describe, when you are ready: security (scan paths, advisories, TLS endpoints), performance (load stages and thresholds), slos, resilience experiments and scoring. See docs/spec.md.",
  );
  return { text: `${w.lines.join("\n")}\n`, todos: w.todos };
}

function writeServices(w: Writer, services: readonly DraftService[]): void {
  if (services.length === 0) {
    w.todo(
      0,
      "services",
      "describe the system's services, e.g. api: { url: http://127.0.0.1:8080, health: /healthz, exposure: public }",
    );
    w.line("services: {}");
    w.line();
    return;
  }
  w.line("services:");
  for (const [i, s] of services.entries()) {
    if (i > 0) w.line();
    for (const about of s.about) w.comment(2, about);
    w.line(`  ${s.name}:`);
    if (s.kind) w.line(`    kind: ${s.kind}`);
    if (s.url) w.line(`    url: ${yamlScalar(s.url)}`);
    if (s.health) w.line(`    health: ${yamlScalar(s.health)}`);
    w.line(`    exposure: ${s.exposure}`);
    if (s.dependsOn.length) w.line(`    dependsOn: ${flow(s.dependsOn)}`);
    for (const todo of s.todo) {
      const key = todo.line ? `services.${s.name}.${todo.line.split(":")[0]}` : `services.${s.name}`;
      w.todo(4, key, todo.text, todo.line);
    }
  }
  w.line();
}

function writeDeployment(w: Writer, draft: SystemDraft): void {
  const d = draft.deployment;
  const lists: [string, string[]][] = [
    ["compose", d.compose],
    ["dockerfiles", d.dockerfiles],
    ["kubernetes", d.kubernetes],
    ["scripts", d.scripts],
  ];
  const deployTodo = (indent: number, wrap: (key: string) => string) => {
    if (!d.deploy) return;
    w.todo(
      indent,
      "deployment.deploy",
      `the command that deploys the system from a checkout (${d.deploy.why}). Gauntlet runs it twice in a scratch copy of the repository, in destructive runs only (deploymentRepeatable); uncomment it once it is right`,
      wrap(`deploy: { command: ${yamlScalar(d.deploy.command)}, timeout: 10m }`),
    );
  };
  if (lists.every(([, l]) => l.length === 0) && !d.env) {
    // Nothing but a proposal: the whole section stays a comment (an empty mapping would not validate).
    if (!d.deploy) return;
    deployTodo(0, (key) => `deployment: { ${key} }`);
    w.line();
    return;
  }
  w.line("deployment:");
  for (const [key, list] of lists) if (list.length) w.line(`  ${key}: ${flow(list)}`);
  deployTodo(2, (key) => key);
  if (d.env) {
    w.line("  env:");
    if (d.env.names.length) {
      w.comment(4, `Every variable ${d.env.example} names: keep those the system cannot run without.`);
      w.line(`    required: ${flow(d.env.names)}`);
    }
    w.line(`    example: ${yamlScalar(d.env.example)}`);
  }
  w.line();
}

function writeMonitoring(w: Writer, draft: SystemDraft): void {
  const m = draft.monitoring;
  if (!m.prometheus && !m.alertmanager && m.rules.length === 0) {
    w.todo(
      0,
      "monitoring",
      "the Prometheus that scrapes the system and its alerting rule files, if there are any",
      'monitoring: { prometheus: http://127.0.0.1:9090, rules: ["monitoring/alerts/*.yml"] }',
    );
    w.line();
    return;
  }
  w.line("monitoring:");
  if (m.prometheus) w.line(`  prometheus: ${yamlScalar(m.prometheus)}`);
  else {
    w.todo(
      2,
      "monitoring.prometheus",
      "the Prometheus that scrapes the system, if there is one",
      "prometheus: http://127.0.0.1:9090",
    );
  }
  if (m.alertmanager) w.line(`  alertmanager: ${yamlScalar(m.alertmanager)}`);
  if (m.rules.length) w.line(`  rules: ${flow(m.rules)}`);
  else
    w.todo(
      2,
      "monitoring.rules",
      "the Prometheus alerting rule files, if there are any",
      'rules: ["monitoring/alerts/*.yml"]',
    );
  w.line();
}

function writeOperations(w: Writer, draft: SystemDraft): void {
  const o = draft.operations;
  const hasValues = Boolean(o.runbooks || o.coverage || o.ci.length);
  if (!hasValues && !o.coverageHint && !o.rollback) return;
  const indent = hasValues ? 2 : 0;
  const wrap = (key: string) => (hasValues ? key : `operations: { ${key} }`);
  if (hasValues) w.line("operations:");
  if (o.runbooks) w.line(`  runbooks: ${yamlScalar(o.runbooks)}`);
  if (o.coverage) w.line(`  coverage: { report: ${yamlScalar(o.coverage)}, minimum: 80% }`);
  else if (o.coverageHint) {
    w.todo(
      indent,
      "operations.coverage",
      `run \`${o.coverageHint}\`, then point this at the report it writes`,
      wrap("coverage: { report: coverage/lcov.info, minimum: 80% }"),
    );
  }
  if (o.ci.length) w.line(`  ci: ${flow(o.ci)}`);
  if (o.rollback) {
    w.todo(
      indent,
      "operations.rollback",
      "check that this returns the system to its previous release; Gauntlet runs it in a scratch copy of the repository (rollbackWithinTarget)",
      wrap(`rollback: { command: ${yamlScalar(o.rollback)}, timeout: 15m }`),
    );
  }
  w.line();
}

function writeRecovery(w: Writer, draft: SystemDraft): void {
  const backups = draft.recovery.backups;
  if (backups.length === 0) return;
  w.line("recovery:");
  w.line("  backups:");
  for (const b of backups) {
    if (b.note) w.todo(4, "recovery.backups", b.note);
    w.line(`    - { service: ${yamlScalar(b.service)}, path: ${yamlScalar(b.path)}, maxAge: 24h }`);
  }
  w.line();
}
