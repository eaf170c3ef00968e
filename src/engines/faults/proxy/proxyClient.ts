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

/** A proxy's HTTP control API at `baseUrl` (e.g. http://127.0.0.1:18474). */
export function remoteToxics(baseUrl: string): ToxicControl {
  const base = baseUrl.replace(/\/+$/, "");
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${base}${path}`, {
      method,
      signal: AbortSignal.timeout(TIMEOUT_MS),
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const text = await response.text();
    // 404 is fine on remove only (the toxic is gone either way); on add or list it means a wrong API URL, and an
    // injection that silently did nothing would make the experiment pass against no fault.
    if (!response.ok && !(response.status === 404 && method === "DELETE")) {
      throw new Error(`${method} ${base}${path} answered ${response.status}: ${text.slice(0, 200)}`);
    }
    return text ? JSON.parse(text) : null;
  };
  return {
    where: `proxy control API ${base}`,
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

/**
 * A proxy's byte counter, or null when it cannot be read: an experiment at a fault proxy proves something only if the
 * dependants' traffic goes through it.
 */
export async function proxyTraffic(proxy: Pick<ToxicControl, "traffic">): Promise<number | null> {
  return proxy.traffic().catch(() => null);
}
