// secretlint 12 (the last line that runs on Node 20) with its recommended preset, called directly: no .secretlintrc is
// read, so a repository cannot switch rules off for itself. The preset's rules are registered one by one, without
// secretlint-rule-filter-comments: an inline `secretlint-disable` would let a secret through with no trace in the
// report, and the reviewable place to accept a finding is the baseline file.
import path from "node:path";
import { lintSource } from "@secretlint/core";
import { secretLintProfiler } from "@secretlint/profiler";
import { rules } from "@secretlint/secretlint-rule-preset-recommend";
import type { SecretLintCoreConfig, SecretLintCoreResultMessage } from "@secretlint/types";
import { PRIORITY, type RawDetection } from "./rules.js";

const FILTER_COMMENTS = "@secretlint/secretlint-rule-filter-comments";

const CONFIG: SecretLintCoreConfig = {
  rules: rules.filter((rule) => rule.meta.id !== FILTER_COMMENTS).map((rule) => ({ id: rule.meta.id, rule })),
};

/**
 * What every match of each preset rule holds (read from the 12.0.0 patterns), so a text is only given to the rules
 * that can match it — most files to none, which spares secretlint's per-file setup (gitleaks' keywords idea). A rule
 * of a later preset that is not listed here runs on every text; test/unit/engines/secretScan/secretlintKeywords.test.ts
 * checks that filtered and unfiltered runs agree.
 */
const TRIGGERS: Record<string, (text: string, lower: string, ext: string) => boolean> = {
  "@secretlint/secretlint-rule-aws": (_, l) => l.includes("secret"),
  "@secretlint/secretlint-rule-gcp": (t, _, ext) =>
    ext === ".p12" || (ext === ".json" && t.includes("private_key")),
  "@secretlint/secretlint-rule-privatekey": (t) => t.includes("PRIVATE KEY"),
  "@secretlint/secretlint-rule-npm": (t) =>
    t.includes("npm_") || t.includes("_authToken") || t.includes("x-oauth-basic"),
  "@secretlint/secretlint-rule-basicauth": (t) => t.includes("://") && t.includes("@"),
  "@secretlint/secretlint-rule-slack": (t, l) =>
    t.includes("xox") || t.includes("xapp-") || l.includes("hooks.slack.com"),
  "@secretlint/secretlint-rule-sendgrid": (t) => t.includes("SG."),
  "@secretlint/secretlint-rule-shopify": (t) => t.includes("shp"),
  "@secretlint/secretlint-rule-github": (t) => /gh[pousr]_|github_pat_/.test(t),
  "@secretlint/secretlint-rule-gitlab": (t) => t.includes("glpat-"),
  "@secretlint/secretlint-rule-grafana": (t) => t.includes("glc_") || t.includes("glsa_"),
  "@secretlint/secretlint-rule-openai": (t) => t.includes("sk-"),
  "@secretlint/secretlint-rule-anthropic": (t) => t.includes("sk-ant-"),
  "@secretlint/secretlint-rule-groq": (t) => t.includes("gsk_"),
  "@secretlint/secretlint-rule-huggingface": (t) => t.includes("hf_"),
  "@secretlint/secretlint-rule-linear": (t) => t.includes("lin_api_"),
  "@secretlint/secretlint-rule-notion": (t) => t.includes("ntn_"),
  "@secretlint/secretlint-rule-1password": (t) => t.includes("ops_"),
  "@secretlint/secretlint-rule-database-connection-string": (_, l) =>
    l.includes("mongodb") || l.includes("mysql") || l.includes("postgres"),
  "@secretlint/secretlint-rule-hashicorp-vault": (t) => /hv[sbr]\./.test(t),
  "@secretlint/secretlint-rule-vercel": (t) => /vc[pirak]_/.test(t),
  "@secretlint/secretlint-rule-databricks": (t) => t.includes("dapi"),
  "@secretlint/secretlint-rule-docker": (t) => t.includes("dckr_pat_"),
  "@secretlint/secretlint-rule-figma": (t) => t.includes("figd_"),
};

/** The preset's rules that can match this text (a rule without a known trigger always can). */
export function triggeredRules(content: string, file: string): string[] {
  const lower = content.toLowerCase();
  const ext = path.posix.extname(file).toLowerCase();
  return CONFIG.rules
    .filter((r) => {
      const trigger = TRIGGERS[r.id];
      return trigger ? trigger(content, lower, ext) : true;
    })
    .map((r) => r.id);
}

/** The rules a trigger list is kept for (the test compares them with the preset's). */
export const TRIGGERED_RULE_IDS: readonly string[] = Object.keys(TRIGGERS);

const configs = new Map<string, SecretLintCoreConfig>();
function configFor(ids: readonly string[]): SecretLintCoreConfig {
  const key = ids.join(",");
  let config = configs.get(key);
  if (!config) {
    const wanted = new Set(ids);
    config = { rules: CONFIG.rules.filter((r) => wanted.has(r.id)) };
    configs.set(key, config);
  }
  return config;
}

// secretlint's profiler keeps a performance mark per rule and file for ever (hundreds of MB over a long history, and
// its observer keeps the process busy after the scan); Gauntlet never reads it.
secretLintProfiler.mark = () => {};

/** The preset's rule ids, for the documentation and the evidence. */
export const SECRETLINT_RULES: readonly string[] = CONFIG.rules.map((r) => r.id);

const LABELS: Record<string, string> = {
  AWSAccessKeyID: "AWS access key id",
  AWSSecretAccessKey: "AWS secret access key",
  AWSAccountID: "AWS account id",
  PrivateKey: "private key",
  PrivateKeyJSON: "GCP service account key",
  PrivateKeyP12: "GCP service account key (p12)",
  GITHUB_TOKEN: "GitHub token",
  SLACK_TOKEN: "Slack token",
  IncomingWebhook: "Slack incoming webhook",
  NPM_ACCESS_TOKEN: "npm access token",
  Npmrc_authToken: ".npmrc auth token",
  PackageJSON_xOauthToken: "GitHub token in a git URL",
  BasicAuth: "password in a URL",
  SENDGRID_KEY: "SendGrid API key",
  GITLAB_PERSONAL_ACCESS_TOKEN: "GitLab personal access token",
  PostgreSQLConnection: "PostgreSQL connection string with a password",
  MySQLConnection: "MySQL connection string with a password",
  MongoDBConnection: "MongoDB connection string with a password",
};

export interface SecretlintInput {
  /** Path as reported (used for rules that look at the name: .npmrc, package.json, .json). */
  file: string;
  content: string;
  /** A file on disk a rule may read itself (a .p12); absent for a blob from history. */
  physicalPath?: string;
  binary?: boolean;
}

export async function secretlintDetections(
  input: SecretlintInput,
  options: { allRules?: boolean } = {},
): Promise<RawDetection[]> {
  const ids = options.allRules || input.binary ? null : triggeredRules(input.content, input.file);
  if (ids?.length === 0) return [];
  const result = await lintSource({
    source: {
      content: input.content,
      filePath: input.physicalPath ?? input.file,
      ext: path.posix.extname(input.file),
      contentType: input.binary ? "binary" : "text",
    },
    options: {
      config: ids ? configFor(ids) : CONFIG,
      noPhysicFilePath: input.physicalPath === undefined,
      locale: "en",
    },
  });
  return result.messages.map((message) => fromMessage(message, input.content));
}

function fromMessage(message: SecretLintCoreResultMessage, content: string): RawDetection {
  const [start, end] = message.range;
  const matched = content.slice(start, end);
  return {
    ruleId: message.ruleId,
    label: LABELS[message.messageId] ?? message.messageId.replace(/_/g, " ").toLowerCase(),
    start,
    end,
    secret: matched,
    redact: redactable(matched),
    severity: "fail",
    priority: PRIORITY.secretlint,
  };
}

/**
 * What to register for a match: the match itself when it is one line, and the password of a URL. A match spanning a
 * whole file (a service-account JSON) is not registered line by line, or every line of it would be masked everywhere;
 * the key inside it is found and registered by the private-key rule.
 */
function redactable(matched: string): string[] {
  if (matched.includes("\n")) return matched.split(/\r?\n/).filter((l) => l.length >= 16 && !/\s/.test(l));
  const out = [matched];
  const password = urlPassword(matched);
  if (password) out.push(password);
  // A match that spans `name = "value"` (AWS's secret access key): the value alone is registered too.
  for (const run of matched.match(/[A-Za-z0-9/+=_-]{16,}/g) ?? []) {
    if (run !== matched && [/[a-z]/, /[A-Z]/, /\d/].filter((c) => c.test(run)).length >= 2) out.push(run);
  }
  return out;
}

/** The password of a URL (scheme://user:password@host), decoded. */
export function urlPassword(text: string): string | null {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/:@\s]*:([^@/\s]+)@/i.exec(text);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return match[1]!;
  }
}
