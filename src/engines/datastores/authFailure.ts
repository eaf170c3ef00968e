// Whether a datastore refused Gauntlet's credentials rather than failing by itself: a store that demands a password
// the spec's URL does not carry is not broken, it is unverifiable until the password is given.
export type AuthFailure = "missing" | "rejected";

/** PostgreSQL SQLSTATE class 28 (invalid authorization) and the client-side "no password" errors of pg and Redis. */
export function authFailureOf(
  error: { message?: string; code?: string } | undefined,
  passwordGiven: boolean,
): AuthFailure | undefined {
  if (!error) return undefined;
  const message = error.message ?? "";
  const code = error.code ?? "";
  // pg asks for a password the connection string lacks (SCRAM or md5 without one).
  if (/client password must be a string|password authentication failed|no password supplied/i.test(message)) {
    return passwordGiven ? "rejected" : "missing";
  }
  if (code === "28P01" || code === "28000") return passwordGiven ? "rejected" : "missing";
  // Redis: NOAUTH (a password is required), WRONGPASS (ACL user/password refused), "invalid password" (old servers).
  if (/^NOAUTH\b/.test(message)) return "missing";
  if (/^WRONGPASS\b|invalid password|invalid username-password/i.test(message)) return "rejected";
  return undefined;
}

/** Whether a datastore URL carries a password (`scheme://user:password@` or a password query parameter). */
export function urlHasPassword(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.password !== "" || parsed.searchParams.has("password");
  } catch {
    return false;
  }
}
