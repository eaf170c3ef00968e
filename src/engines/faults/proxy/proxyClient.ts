// Drives a fault proxy through one interface whether it runs in this process (FaultProxy) or elsewhere behind its
// control API (`gauntlet proxy --api …`), so an experiment adds and removes toxics the same way on both.
import type { FaultProxy } from "./faultProxy.js";
import type { Toxic, ToxicInput } from "./toxics.js";

export interface ToxicControl {
  /** Where this proxy is reached, for evidence and messages. */
  readonly where: string;
  add(toxic: ToxicInput): Promise<Toxic>;
  remove(name: string): Promise<void>;
  list(): Promise<Toxic[]>;
  /** Bytes that have passed through the proxy so far, both directions: shows whether anything uses it at all. */
  traffic(): Promise<number>;
  /** For a proxy behind its control API: how another process reaches it again (an undo after a crash). */
  readonly remote?: { api: string; token?: string };
}

export function localToxics(proxy: FaultProxy): ToxicControl {
  return {
    where: `in-process proxy ${proxy.listenAddress.host}:${proxy.listenAddress.port}`,
    add: (toxic) => proxy.addToxic(toxic),
    remove: async (name) => {
      await proxy.removeToxic(name);
    },
    list: async () => proxy.toxics(),
    traffic: async () => proxy.bytes.upstream + proxy.bytes.downstream,
  };
}

const TIMEOUT_MS = 5_000;

/**
 * A proxy's HTTP control API at `baseUrl` (e.g. http://127.0.0.1:18474), with its bearer `token` (`gauntlet proxy`
 * prints it, or takes --token / $GAUNTLET_PROXY_TOKEN). `tokenSetting` names where the caller's user sets the token
 * (e.g. resilience.proxies.db.token), for the message when the proxy refuses it.
 */
export function remoteToxics(baseUrl: string, token?: string, tokenSetting?: string): ToxicControl {
  const base = baseUrl.replace(/\/+$/, "");
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${base}${path}`, {
      method,
      signal: AbortSignal.timeout(TIMEOUT_MS),
      ...(body === undefined
        ? { headers }
        : { body: JSON.stringify(body), headers: { ...headers, "content-type": "application/json" } }),
    });
    const text = await response.text();
    if (response.status === 401 || response.status === 403 || response.status === 421) {
      throw new Error(
        `${method} ${base}${path}: ${refusal(response.status, text, base, token, tokenSetting)}`,
      );
    }
    // 404 is fine on remove only (the toxic is gone either way); on add or list it means a wrong API URL, and an
    // injection that silently did nothing would make the experiment pass against no fault.
    if (!response.ok && !(response.status === 404 && method === "DELETE")) {
      throw new Error(`${method} ${base}${path} answered ${response.status}: ${text.slice(0, 200)}`);
    }
    return text ? JSON.parse(text) : null;
  };
  return {
    where: `proxy control API ${base}`,
    remote: { api: base, ...(token ? { token } : {}) },
    add: async (toxic) => (await call("POST", "/toxics", toxic)) as Toxic,
    remove: async (name) => {
      await call("DELETE", `/toxics/${encodeURIComponent(name)}`);
    },
    list: async () => (await call("GET", "/toxics")) as Toxic[],
    traffic: async () => {
      const status = (await call("GET", "/proxy")) as { bytes?: { upstream?: number; downstream?: number } };
      return (status.bytes?.upstream ?? 0) + (status.bytes?.downstream ?? 0);
    },
  };
}

/** What a refusal by the proxy means, with the fix; never the token itself. */
function refusal(status: number, text: string, base: string, token?: string, setting?: string): string {
  const said = errorOf(text);
  if (status === 421) {
    return `the proxy refused the Host ${new URL(base).host} (${said}): name its control API by the address it listens on, or start it with --allow-host`;
  }
  const where = setting ?? "the token `gauntlet proxy` printed (--token, $GAUNTLET_PROXY_TOKEN)";
  const sent = token ? "the token sent is not this proxy's" : "no token was sent";
  return `the proxy refused the token: set ${where} (${status}, ${sent}: ${said})`;
}

function errorOf(text: string): string {
  try {
    const error = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof error === "string") return error.slice(0, 200);
  } catch {}
  return text.slice(0, 200) || "no reason given";
}

/**
 * A proxy's byte counter, or null when it cannot be read: an experiment at a fault proxy proves something only if the
 * dependants' traffic goes through it.
 */
export async function proxyTraffic(proxy: Pick<ToxicControl, "traffic">): Promise<number | null> {
  return proxy.traffic().catch(() => null);
}
