// The rule pack of codeFreeOfDangerousPatterns, as data: each rule is ast-grep rule objects (patterns, kinds,
// constraints, `not`, `inside`, `has`, utility rules) per language family, with its severity, CWE and fix. A rule
// fires on a *dynamic* value only (built from input: a variable, a template with `${…}`, a concatenation, an f-string),
// never on a literal, so `eval("1+1")` or `subprocess.run("ls", shell=True)` stay quiet: they cannot be injected.
// Test fixtures: test/fixtures/sast/<rule id>/ (`ruleid:` / `ok:` comments mark the lines that must and must not fire).
import type { NapiConfig, Rule } from "@ast-grep/napi";

export type SastLanguage = "javascript" | "typescript" | "tsx" | "python";
export type LanguageFamily = "js" | "python";
export type Severity = "high" | "medium" | "low";

export interface SastRule {
  /** kebab-case; what `gauntlet-ignore: <id> <reason>` names. */
  id: string;
  /** One line: what was found. */
  title: string;
  severity: Severity;
  /** The CWE the pattern is an instance of, e.g. CWE-78. */
  cwe: string;
  /** One line: what to write instead. */
  fix: string;
  /** bandit test ids reporting the same problem: merged with this rule at the same line, and `# nosec B…` covers it. */
  bandit?: readonly string[];
  /** ast-grep rule objects per language family; JavaScript, TypeScript and TSX share one. */
  matchers: Partial<Record<LanguageFamily, NapiConfig>>;
}

export function familyOf(language: SastLanguage): LanguageFamily {
  return language === "python" ? "python" : "js";
}

// --- Shared utility rules (ast-grep `utils`), one set per family --------------------------------------------------

// ASCII classes on purpose: with Unicode \b and \s this regex takes ~35 ms to compile, and ast-grep compiles a rule
// per call (35 ms × every file); written this way it compiles in ~1.5 ms and means the same for SQL keywords.
const WORD_EDGE = "[^A-Za-z0-9_]";
const SPACE = "[ \\t\\r\\n]";
const SQL =
  `(?i)(?:^|${WORD_EDGE})(?:select${SPACE}(?s:.)*${WORD_EDGE}from|insert${SPACE}+into|update${SPACE}(?s:.)*${WORD_EDGE}set|` +
  `delete${SPACE}+from|replace${SPACE}+into|merge${SPACE}+into|(?:create|alter|drop|truncate)${SPACE}+table)(?:${WORD_EDGE}|$)`;
/** An all-caps name is a constant (`TABLE`, `Config.COLUMNS`), not input. */
const CONSTANT = "^[A-Z][A-Z0-9_]*$";
const CONSTANT_MEMBER = "\\.[A-Z][A-Z0-9_]*$";
/** Any named node: ast-grep's `has` also visits punctuation (`(`, `,`), and nthChild counts named nodes only. */
const NAMED: Rule = { nthChild: { position: "n+1" } };

const JS_UTILS: Record<string, Rule> = {
  literal: {
    any: [
      { kind: "string" },
      { kind: "number" },
      { kind: "true" },
      { kind: "false" },
      { kind: "null" },
      { kind: "undefined" },
      { kind: "regex" },
      { kind: "comment" },
      { kind: "template_string", not: { has: { kind: "template_substitution" } } },
    ],
  },
  /** A value that may come from outside: anything but a literal. */
  dynamic: { all: [NAMED, { not: { matches: "literal" } }] },
  /** A value that is input: not a literal, not a constant. */
  inputValue: {
    all: [
      NAMED,
      { not: { matches: "literal" } },
      { not: { kind: "identifier", regex: CONSTANT } },
      { not: { kind: "member_expression", regex: CONSTANT_MEMBER } },
    ],
  },
  /** A part of a concatenation that is input (a nested concatenation is looked into instead). */
  inputLeaf: { all: [{ matches: "inputValue" }, { not: { kind: "binary_expression" } }] },
  concat: {
    kind: "binary_expression",
    has: { field: "operator", regex: "^\\+$" },
    all: [{ has: { any: [{ matches: "inputLeaf" }, { matches: "concat" }] } }],
  },
  /** `…${x}…` with an input in a substitution (`${TABLE}` is a constant). */
  interpolated: {
    kind: "template_string",
    has: { kind: "template_substitution", has: { matches: "inputValue" } },
  },
  /** A string built from input: a template with `${…}` or a `+` concatenation with a non-constant part. */
  builtString: { any: [{ matches: "interpolated" }, { matches: "concat" }] },
  sqlString: { matches: "builtString", regex: SQL },
  /** The file loads child_process (import or require), so a bare `exec(…)` is the shell one. */
  inChildProcessFile: {
    inside: {
      stopBy: "end",
      kind: "program",
      has: { stopBy: "end", kind: "string", regex: "^[\"'`](node:)?child_process[\"'`]$" },
    },
  },
};

const PY_UTILS: Record<string, Rule> = {
  literal: {
    any: [
      { kind: "string", not: { has: { kind: "interpolation" } } },
      { kind: "concatenated_string", not: { has: { stopBy: "end", kind: "interpolation" } } },
      { kind: "integer" },
      { kind: "float" },
      { kind: "true" },
      { kind: "false" },
      { kind: "none" },
      { kind: "comment" },
    ],
  },
  dynamic: { all: [NAMED, { not: { matches: "literal" } }, { not: { kind: "keyword_argument" } }] },
  inputValue: {
    all: [
      NAMED,
      { not: { matches: "literal" } },
      { not: { kind: "identifier", regex: CONSTANT } },
      { not: { kind: "attribute", regex: CONSTANT_MEMBER } },
      // f"{x!r:>10}": the conversion and format spec are no input of their own.
      { not: { kind: "type_conversion" } },
      { not: { kind: "format_specifier" } },
    ],
  },
  inputLeaf: { all: [{ matches: "inputValue" }, { not: { kind: "binary_operator" } }] },
  /** `"…" + x`, `"…" % x` (a tuple or a name), with a part that is input. */
  concat: {
    kind: "binary_operator",
    has: { field: "operator", regex: "^[+%]$" },
    all: [{ has: { any: [{ matches: "inputLeaf" }, { matches: "concat" }] } }],
  },
  /** An f-string with an input in a `{…}` (`{TABLE}` is a constant). */
  interpolated: {
    any: [
      { kind: "string", has: { kind: "interpolation", has: { matches: "inputValue" } } },
      {
        kind: "concatenated_string",
        has: { stopBy: "end", kind: "interpolation", has: { matches: "inputValue" } },
      },
    ],
  },
  /** `"…{}".format(x)` */
  formatted: {
    kind: "call",
    has: {
      field: "function",
      kind: "attribute",
      all: [{ has: { field: "object", kind: "string" } }, { has: { field: "attribute", regex: "^format$" } }],
    },
  },
  builtString: { any: [{ matches: "interpolated" }, { matches: "concat" }, { matches: "formatted" }] },
  sqlString: { matches: "builtString", regex: SQL },
};

/** The first argument of a call (named children only, so `(` does not count). */
function firstArgument(rule: Rule): Rule {
  return { has: { field: "arguments", has: { nthChild: 1, ...rule } } };
}

/** A call whose callee's text matches `callee`, and every rule in `rest`. */
function jsCall(callee: string, ...rest: Rule[]): Rule {
  return { kind: "call_expression", all: [{ has: { field: "function", regex: callee } }, ...rest] };
}

function pyCall(callee: string, ...rest: Rule[]): Rule {
  return { kind: "call", all: [{ has: { field: "function", regex: callee } }, ...rest] };
}

/** A Python call with keyword argument `name=value`, value matched by `value` (a rule on the value node). */
function pyKeyword(name: string, value: Rule): Rule {
  return {
    has: {
      field: "arguments",
      has: {
        kind: "keyword_argument",
        all: [{ has: { field: "name", regex: `^${name}$` } }, { has: { field: "value", ...value } }],
      },
    },
  };
}

/** An object property `key: value` (the key bare or quoted). */
function jsPair(key: string, value: Rule): Rule {
  return {
    kind: "pair",
    all: [{ has: { field: "key", regex: `^["']?${key}["']?$` } }, { has: { field: "value", ...value } }],
  };
}

function js(rule: Rule): NapiConfig {
  return { rule, utils: JS_UTILS };
}

function py(rule: Rule): NapiConfig {
  return { rule, utils: PY_UTILS };
}

const ALL_INTERFACES_JS = "^[\"'`](0\\.0\\.0\\.0|::|\\[::\\])[\"'`]$";
const ALL_INTERFACES_PY = "^[rRuUbB]?[\"'](0\\.0\\.0\\.0|::|\\[::\\])[\"']$";
const PASSWORD = "(?i)pass(word|wd)?|pwd";

// --- The rules -----------------------------------------------------------------------------------------------------

export const SAST_RULES: readonly SastRule[] = [
  {
    id: "code-eval-dynamic",
    title: "code evaluated from a dynamic string (eval, new Function, string timers, vm, exec)",
    severity: "high",
    cwe: "CWE-95",
    fix: "do not evaluate strings as code: parse data with JSON.parse / ast.literal_eval, or dispatch on a fixed table of functions",
    bandit: ["B307", "B102"],
    matchers: {
      js: js({
        any: [
          jsCall(
            "^(eval|window\\.eval|globalThis\\.eval|global\\.eval)$",
            firstArgument({ matches: "dynamic" }),
          ),
          {
            any: [{ kind: "new_expression" }, { kind: "call_expression" }],
            all: [
              {
                any: [
                  { has: { field: "constructor", regex: "^Function$" } },
                  { has: { field: "function", regex: "^Function$" } },
                ],
              },
              { has: { field: "arguments", has: { matches: "dynamic" } } },
            ],
          },
          jsCall("^(setTimeout|setInterval|setImmediate)$", firstArgument({ matches: "builtString" })),
          jsCall(
            "^(vm\\.)?(runInThisContext|runInNewContext|runInContext|compileFunction)$",
            firstArgument({ matches: "dynamic" }),
          ),
          {
            kind: "new_expression",
            all: [
              { has: { field: "constructor", regex: "^(vm\\.)?Script$" } },
              firstArgument({ matches: "dynamic" }),
            ],
          },
        ],
      }),
      python: py(pyCall("^(builtins\\.)?(eval|exec)$", firstArgument({ matches: "dynamic" }))),
    },
  },
  {
    id: "shell-command-dynamic",
    title: "shell command built from a dynamic string (exec with a template or concatenation, shell=True)",
    severity: "high",
    cwe: "CWE-78",
    fix: "run the program directly with an argument list (execFile/spawn without shell; subprocess.run([...]) without shell=True), never a shell string built from input",
    bandit: ["B602", "B605", "B609"],
    matchers: {
      js: js({
        any: [
          // child_process.exec/execSync take a shell string.
          jsCall(
            "^((child_process|childProcess|cp|childproc|proc|child|shell|shelljs|require\\([\"'`](node:)?child_process[\"'`]\\))\\.)(exec|execSync)$",
            firstArgument({ matches: "builtString" }),
          ),
          {
            ...jsCall("^(exec|execSync)$", firstArgument({ matches: "builtString" })),
            matches: "inChildProcessFile",
          },
          // spawn/execFile with shell: true and a command that is not a literal.
          jsCall("(^|\\.)(spawn|spawnSync|execFile|execFileSync)$", firstArgument({ matches: "dynamic" }), {
            has: { field: "arguments", has: { kind: "object", has: jsPair("shell", { kind: "true" }) } },
          }),
          // spawn("sh", ["-c", `… ${x}`])
          jsCall("(^|\\.)(spawn|spawnSync|execFile|execFileSync)$", {
            all: [
              firstArgument({
                kind: "string",
                regex: "^[\"'`](/bin/|/usr/bin/)?(sh|bash|zsh|dash|cmd(\\.exe)?)[\"'`]$",
              }),
              {
                has: {
                  field: "arguments",
                  has: {
                    kind: "array",
                    all: [
                      { has: { kind: "string", regex: "^[\"'`](-c|/c)[\"'`]$" } },
                      { has: { matches: "builtString" } },
                    ],
                  },
                },
              },
            ],
          }),
        ],
      }),
      python: py({
        any: [
          pyCall("(^|\\.)(call|run|Popen|check_call|check_output)$", {
            all: [firstArgument({ matches: "dynamic" }), pyKeyword("shell", { kind: "true" })],
          }),
          pyCall(
            "^(os\\.system|os\\.popen|subprocess\\.getoutput|subprocess\\.getstatusoutput|commands\\.getoutput|asyncio\\.create_subprocess_shell)$",
            firstArgument({ matches: "dynamic" }),
          ),
        ],
      }),
    },
  },
  {
    id: "sql-built-from-strings",
    title: "SQL built by concatenation or interpolation and passed to a query call",
    severity: "high",
    cwe: "CWE-89",
    fix: "pass values as bound parameters (db.query('… WHERE id = $1', [id]); cursor.execute('… WHERE id = %s', (id,))) or use a tagged sql`` template",
    bandit: ["B608"],
    matchers: {
      js: js({
        kind: "call_expression",
        all: [
          {
            has: {
              field: "function",
              kind: "member_expression",
              has: {
                field: "property",
                regex:
                  "^(query|execute|exec|raw|whereRaw|havingRaw|orderByRaw|joinRaw|prepare|run|all|get|each|unsafe|\\$queryRawUnsafe|\\$executeRawUnsafe)$",
              },
            },
          },
          {
            any: [
              firstArgument({ matches: "sqlString" }),
              // const q = "SELECT … " + id; db.query(q)
              {
                all: [
                  firstArgument({ kind: "identifier", pattern: "$QUERY" }),
                  {
                    inside: {
                      stopBy: "end",
                      any: [{ kind: "program" }, { kind: "statement_block" }],
                      has: {
                        stopBy: "end",
                        any: [
                          {
                            kind: "variable_declarator",
                            all: [
                              { has: { field: "name", pattern: "$QUERY" } },
                              { has: { field: "value", matches: "sqlString" } },
                            ],
                          },
                          {
                            kind: "assignment_expression",
                            all: [
                              { has: { field: "left", pattern: "$QUERY" } },
                              { has: { field: "right", matches: "sqlString" } },
                            ],
                          },
                        ],
                      },
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
      python: py({
        kind: "call",
        all: [
          {
            has: {
              field: "function",
              regex: "(^|\\.)(execute|executemany|executescript|raw|read_sql|read_sql_query|text)$",
            },
          },
          {
            any: [
              firstArgument({ matches: "sqlString" }),
              {
                all: [
                  firstArgument({ kind: "identifier", pattern: "$QUERY" }),
                  {
                    inside: {
                      stopBy: "end",
                      any: [{ kind: "module" }, { kind: "block" }],
                      has: {
                        stopBy: "end",
                        kind: "assignment",
                        all: [
                          { has: { field: "left", pattern: "$QUERY" } },
                          { has: { field: "right", matches: "sqlString" } },
                        ],
                      },
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    },
  },
  {
    id: "tls-verification-disabled",
    title: "TLS certificate verification disabled",
    severity: "high",
    cwe: "CWE-295",
    fix: "keep verification on; trust a private CA by passing it (ca: fs.readFileSync(…); verify='/path/ca.pem') instead of disabling the check",
    bandit: ["B501", "B323"],
    matchers: {
      js: js({
        any: [
          jsPair("rejectUnauthorized", { kind: "false" }),
          jsPair("strictSSL", { kind: "false" }),
          // checkServerIdentity: () => undefined — every certificate matches every host.
          jsPair("checkServerIdentity", {
            kind: "arrow_function",
            has: { field: "body", regex: "^(undefined|null|\\{\\s*\\})$" },
          }),
          jsPair("NODE_TLS_REJECT_UNAUTHORIZED", { regex: "^[\"'`]?0[\"'`]?$" }),
          {
            kind: "assignment_expression",
            all: [
              { has: { field: "left", regex: "NODE_TLS_REJECT_UNAUTHORIZED" } },
              { has: { field: "right", regex: "^[\"'`]?0[\"'`]?$" } },
            ],
          },
        ],
      }),
      python: py({
        any: [
          { kind: "call", ...pyKeyword("verify", { kind: "false" }) },
          { kind: "call", ...pyKeyword("cert_reqs", { regex: "CERT_NONE[\"']?$" }) },
          pyCall("^ssl\\._create_unverified_context$"),
          {
            kind: "assignment",
            any: [
              {
                all: [
                  { has: { field: "left", regex: "\\.verify_mode$" } },
                  { has: { field: "right", regex: "CERT_NONE$" } },
                ],
              },
              {
                all: [
                  { has: { field: "left", regex: "\\.check_hostname$" } },
                  { has: { field: "right", kind: "false" } },
                ],
              },
            ],
          },
        ],
      }),
    },
  },
  {
    id: "yaml-unsafe-load",
    title: "YAML loaded without a safe loader (can build arbitrary objects)",
    severity: "medium",
    cwe: "CWE-502",
    fix: "use yaml.safe_load(…) or yaml.load(…, Loader=yaml.SafeLoader)",
    bandit: ["B506"],
    matchers: {
      python: py({
        any: [
          pyCall("^yaml\\.(load|load_all)$", {
            not: { has: { field: "arguments", has: { regex: "(SafeLoader|BaseLoader)$" } } },
          }),
          pyCall("^yaml\\.(unsafe_load|unsafe_load_all)$"),
        ],
      }),
    },
  },
  {
    id: "pickle-deserialization",
    title: "pickle-style deserialization (runs code from the data it loads)",
    severity: "medium",
    cwe: "CWE-502",
    fix: "exchange data as JSON (or another data-only format); unpickle only what this program wrote and signed",
    bandit: ["B301"],
    matchers: {
      python: py({
        any: [
          pyCall("^(pickle|cPickle|_pickle|dill|cloudpickle)\\.(loads|load|Unpickler)$"),
          pyCall("^(pd|pandas)\\.read_pickle$"),
          pyCall("^jsonpickle\\.decode$"),
        ],
      }),
    },
  },
  {
    id: "bind-all-interfaces",
    title: "server bound to every interface (0.0.0.0 / ::) in code",
    severity: "medium",
    cwe: "CWE-1327",
    fix: "bind to 127.0.0.1 (or the private interface the clients use), or read the host from configuration so an internal service is not reachable from everywhere",
    bandit: ["B104"],
    matchers: {
      js: js({
        any: [
          {
            kind: "call_expression",
            all: [
              { has: { field: "function", regex: "\\.listen$" } },
              { has: { field: "arguments", has: { nthChild: 2, kind: "string", regex: ALL_INTERFACES_JS } } },
            ],
          },
          jsPair("(host|hostname)", { kind: "string", regex: ALL_INTERFACES_JS }),
        ],
      }),
      python: py({
        any: [
          { kind: "call", ...pyKeyword("host", { kind: "string", regex: ALL_INTERFACES_PY }) },
          pyCall("\\.bind$", {
            has: {
              field: "arguments",
              has: {
                nthChild: 1,
                kind: "tuple",
                has: { nthChild: 1, kind: "string", regex: "^[rRuUbB]?[\"'](0\\.0\\.0\\.0|::)?[\"']$" },
              },
            },
          }),
        ],
      }),
    },
  },
  {
    id: "debug-server-enabled",
    title: "web framework debug server enabled (Werkzeug's debugger runs code sent to it)",
    severity: "high",
    cwe: "CWE-489",
    fix: "never pass debug=True in code; let the environment turn debugging on for a developer's machine only",
    bandit: ["B201"],
    matchers: {
      python: py(pyCall("\\.run$", pyKeyword("debug", { kind: "true" }))),
    },
  },
  {
    id: "weak-password-hash",
    title: "password hashed with MD5 or SHA-1",
    severity: "medium",
    cwe: "CWE-916",
    fix: "hash passwords with a slow, salted function: bcrypt, scrypt or Argon2 (crypto.scrypt, hashlib.scrypt, argon2-cffi)",
    bandit: ["B303", "B324"],
    matchers: {
      js: js({
        kind: "call_expression",
        all: [
          {
            has: {
              field: "function",
              kind: "member_expression",
              all: [
                { has: { field: "property", regex: "^update$" } },
                {
                  has: {
                    field: "object",
                    ...jsCall("(^|\\.)createHash$", firstArgument({ regex: "^[\"'`](md5|sha1)[\"'`]$" })),
                  },
                },
              ],
            },
          },
          { has: { field: "arguments", regex: PASSWORD } },
        ],
      }),
      python: py({
        any: [
          pyCall("^hashlib\\.(md5|sha1)$", { has: { field: "arguments", regex: PASSWORD } }),
          pyCall("^hashlib\\.new$", {
            all: [
              firstArgument({ regex: "^[\"'](md5|sha1|MD5|SHA1)[\"']$" }),
              { has: { field: "arguments", regex: PASSWORD } },
            ],
          }),
        ],
      }),
    },
  },
];

export const RULES_BY_ID: ReadonlyMap<string, SastRule> = new Map(SAST_RULES.map((r) => [r.id, r]));
