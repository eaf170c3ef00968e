// Secrets written into a compose file's `environment:` as literal values: anyone who can read the repository (or
// `docker inspect` the container) has them. A value taken from the shell or an env file (`${DB_PASSWORD}`, a bare
// `DB_PASSWORD`), a `*_FILE` variable that points at a mounted secret, and flags (`MYSQL_ALLOW_EMPTY_PASSWORD: "yes"`)
// are not literal secrets.
import { hasInterpolation } from "./composeInterpolation.js";

/** Names that say the value is a credential: DB_PASSWORD, PGPASS, JWT_SECRET, API_KEY, GITHUB_TOKEN, … */
const SECRET_NAME =
  /(?:^|_)(?:PASSWORD|PASSWD|PASS|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|SECRET_?KEY|PRIVATE_?KEY|ENCRYPTION_?KEY|SIGNING_?KEY|MASTER_?KEY|CREDENTIALS?|AUTH_?KEY)(?:_|$)|PASSWORD|SECRET/i;
/** Names that point at where a secret is, or configure one, rather than holding it. */
const NOT_A_VALUE =
  /_(?:FILE|PATH|DIR|LENGTH|POLICY|ENABLED?|REQUIRED|TYPE|ALGORITHM|METHOD|ROUNDS|TTL|EXPIRY|EXPIRES|EXPIRATION|LIFETIME|TIMEOUT|URL|URI|HOST|PORT|USER|USERNAME|NAME|ENDPOINT|ISSUER|AUDIENCE|HEADER)$|(?:^|_)(?:ALLOW|RANDOM|EMPTY|GENERATE|USE)_|^PWD$/i;
const FLAG = /^(?:yes|no|true|false|on|off|y|n|0|1|-1)$/i;
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/:@\s]*:([^@\s]+)@/i;

export interface LiteralSecret {
  /** The secret itself (the password of a URL, or the whole value): register it, never print it. */
  value: string;
  why: "secretName" | "urlPassword";
}

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !NOT_A_VALUE.test(name);
}

/** The literal secret an environment entry holds, or undefined. */
export function literalSecret(name: string, written: string | null): LiteralSecret | undefined {
  if (written === null) return undefined;
  const value = written.trim();
  if (value === "" || hasInterpolation(value)) return undefined;
  const url = URL_PASSWORD.exec(value);
  if (url && !hasInterpolation(url[1]!)) return { value: url[1]!, why: "urlPassword" };
  if (!isSecretName(name) || FLAG.test(value) || value.startsWith("/run/secrets/")) return undefined;
  return { value, why: "secretName" };
}
