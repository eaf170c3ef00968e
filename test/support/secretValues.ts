// Secret-looking values for the secret-scan tests, made at test time (random) so that the repository, which Gauntlet
// scans for secrets itself, never holds a live-looking one.
import { randomBytes } from "node:crypto";
import { placeholderReason } from "../../src/engines/secretScan/placeholders.js";

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `length` random letters and digits. */
export function base62(length: number): string {
  return [...randomBytes(length * 2)]
    .filter((b) => b < 248)
    .slice(0, length)
    .map((b) => BASE62[b % 62])
    .join("");
}

/** A value from make that no placeholder rule would take for one (a random word like "fake" in it, rarely). */
function real(make: () => string): () => string {
  return () => {
    for (;;) {
      const value = make();
      if (placeholderReason(value, 6) === null) return value;
    }
  };
}

export const makeToken = {
  github: real(() => `ghp_${base62(36)}`),
  slackBot: real(() => `xoxb-${digits(11)}-${digits(12)}-${base62(24)}`),
  slackLegacy: real(() => `xoxs-${digits(11)}-${digits(12)}-${base62(20)}`),
  stripeLive: real(() => `${"sk"}_live_${base62(24)}`),
  stripeRestricted: real(() => `${"rk"}_live_${base62(32)}`),
  googleApi: real(() => `AIza${base62(35)}`),
  password: real(() => `Qz${base62(14)}!9`),
};

function digits(length: number): string {
  return [...randomBytes(length)].map((b) => String(1 + (b % 9))).join("");
}

/** An unsigned-looking but well-formed JWT (header and claims decode), with a random signature. */
export function makeJwt(): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part({ sub: base62(10), iat: 1_700_000_000 })}.${randomBytes(32).toString("base64url")}`;
}
