// Does a memcached refuse a client that gives no credentials? Its text protocol has no authentication unless it runs
// with an auth file (`-Y`, then every command before the login answers `CLIENT_ERROR unauthenticated`) or SASL
// (`-S`, binary protocol only). `version` is read-only and answered by any open server.
import { type AuthProbeResult, brokenOff, connectFailure, short } from "./authAttempt.js";
import { Wire, type WireTarget } from "./wire.js";

export async function probeMemcachedAuth(options: {
  target: WireTarget;
  timeoutMs?: number;
  signal?: AbortSignal;
}): Promise<AuthProbeResult> {
  const { target } = options;
  const result: AuthProbeResult = {
    protocol: "memcached",
    address: target.socketPath ?? `${target.host}:${target.port}`,
    transport: target.socketPath ? "unix" : "tcp",
    attempts: [],
    details: {},
  };
  const attempt = "version without credentials";
  let wire: Wire;
  try {
    wire = await Wire.open(target, options.timeoutMs ?? 5_000, options.signal);
  } catch (error) {
    result.attempts.push(connectFailure("noCredentials", attempt, error));
    return result;
  }
  try {
    wire.write("version\r\n");
    const line = await wire.readLine(4096);
    const version = /^VERSION (\S+)/.exec(line)?.[1];
    if (version) result.details.version = version;
    result.attempts.push({
      kind: "noCredentials",
      attempt,
      outcome: version ? "accepted" : /unauthenticated|auth/i.test(line) ? "refused" : "inconclusive",
      answer: short(line),
    });
  } catch (error) {
    result.attempts.push(brokenOff({ kind: "noCredentials", attempt }, error));
  } finally {
    wire.close();
  }
  return result;
}
