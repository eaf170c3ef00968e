// `${VAR}` and `${VAR:-default}` in spec values, `$${` for a literal `${`. Like a shell, `:-` also applies when the
// variable is set but empty. Defaults cannot contain `}` and are not interpolated again.

export interface Substitution {
  name: string;
  value: string;
  /** Where the value landed in the result: [start, end). */
  start: number;
  end: number;
}

export interface Interpolated {
  value: string;
  substitutions: Substitution[];
  /** Unset variables and malformed references, in order; each becomes a spec problem. */
  problems: { message: string; fix: string }[];
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

export function interpolate(template: string, env: NodeJS.ProcessEnv): Interpolated {
  let value = "";
  const substitutions: Substitution[] = [];
  const problems: Interpolated["problems"] = [];
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf("$", i);
    if (dollar < 0) {
      value += template.slice(i);
      break;
    }
    value += template.slice(i, dollar);
    if (template.startsWith("$${", dollar)) {
      value += "${";
      i = dollar + 3;
      continue;
    }
    if (!template.startsWith("${", dollar)) {
      value += "$";
      i = dollar + 1;
      continue;
    }
    const close = template.indexOf("}", dollar + 2);
    if (close < 0) {
      problems.push({
        message: `"${clip(template.slice(dollar))}" opens a variable reference that is never closed`,
        fix: "close it with }, or write $${ for a literal ${",
      });
      value += template.slice(dollar);
      break;
    }
    const reference = template.slice(dollar + 2, close);
    const match = REFERENCE.exec(reference);
    i = close + 1;
    if (!match) {
      problems.push({
        message: `"\${${clip(reference)}}" is not a variable reference`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the fix shows the ${…} syntax itself.
        fix: "write ${NAME} or ${NAME:-default} (NAME starts with a letter or _), or $${ for a literal ${",
      });
      value += template.slice(dollar, close + 1);
      continue;
    }
    const name = match[1]!;
    const fallback = match[2];
    const set = env[name];
    let resolved: string;
    if (fallback !== undefined) {
      resolved = set === undefined || set === "" ? fallback : set;
    } else if (set === undefined) {
      problems.push({
        message: `environment variable ${name} is not set`,
        fix: `export ${name}=… or write \${${name}:-default}`,
      });
      resolved = "";
    } else {
      resolved = set;
    }
    substitutions.push({ name, value: resolved, start: value.length, end: value.length + resolved.length });
    value += resolved;
  }
  return { value, substitutions, problems };
}

const SECRET_MARKERS = ["PASS", "PWD", "SECRET", "TOKEN", "KEY", "CRED", "AUTH", "PRIVATE", "SALT", "DSN"];
/** Shell variables whose names contain a marker but whose values are not secret: PWD is the working directory. */
const NOT_SECRET = new Set(["PWD", "OLDPWD"]);

/**
 * Whether a variable or key name looks like it holds a secret: one of its word parts (split at _, -, . and camelCase)
 * contains PASS, PWD, SECRET, TOKEN, KEY, CRED, AUTH, PRIVATE, SALT or DSN, or is PW, in any case. It errs on the side of
 * redacting: DB_PASSWORD, PGPASSWORD, apiKey, GITHUB_TOKEN, Authorization all match (and so does AUTHOR).
 */
export function looksSecret(name: string): boolean {
  if (NOT_SECRET.has(name.toUpperCase())) return false;
  const parts = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()
    .split(/[^A-Z0-9]+/);
  // PW only as a whole part (DB_PW, REDIS_PW): inside words it is too common (UPWARD).
  return parts.some((part) => part === "PW" || SECRET_MARKERS.some((marker) => part.includes(marker)));
}

export interface UrlPassword {
  /** The URL up to and including the "@" of its userinfo, e.g. postgres://app:s3cret@ */
  url: string;
  /** Where the password is in the text: [start, end). */
  start: number;
  end: number;
}

/**
 * Every `scheme://user:password@` in a text, e.g. a URL value or a command that embeds one. A scan from each "://"
 * rather than one regex: /[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/ retries every letter of a long word and every character
 * of a long userinfo, which takes quadratic time on long values and log lines.
 */
export function urlPasswords(text: string): UrlPassword[] {
  const found: UrlPassword[] = [];
  const userinfoEnd = /[/@\s]/g;
  let from = 0;
  for (let sep = text.indexOf("://"); sep >= 0; sep = text.indexOf("://", from)) {
    // The scheme: the run of scheme characters before "://", from its first letter (what the regex would match).
    let start = sep;
    while (start > from && isSchemeChar(text.charCodeAt(start - 1))) start--;
    while (start < sep && !isLetter(text.charCodeAt(start))) start++;
    userinfoEnd.lastIndex = sep + 3;
    const end = userinfoEnd.exec(text)?.index ?? -1;
    if (start === sep || end < 0 || text[end] !== "@") {
      from = sep + 1;
      continue;
    }
    from = end + 1;
    const colon = text.slice(sep + 3, end).indexOf(":");
    if (colon < 0) continue;
    found.push({ url: text.slice(start, end + 1), start: sep + 3 + colon + 1, end });
  }
  return found;
}

function isLetter(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}

/** [a-z0-9+.-], any case. */
function isSchemeChar(code: number): boolean {
  return isLetter(code) || (code >= 48 && code <= 57) || code === 43 || code === 46 || code === 45;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}
