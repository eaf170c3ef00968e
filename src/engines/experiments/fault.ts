// A fault with its undo registered before it goes in. The undo first waits for an injection still in flight, so a
// cancellation that lands mid-injection (the toxic request already sent, the restart half done) cannot undo first and
// then see the fault arrive; and nothing is injected once the check's signal has fired.
import type { ToxicControl } from "../faults/proxy/proxyClient.js";
import type { ToxicInput } from "../faults/proxy/toxics.js";
import type { UndoDescriptor } from "../faults/undoDescriptor.js";

/** Where undo actions are registered (a check's rollback scope, which journals `persist` before returning). */
export interface UndoRegistry {
  add(name: string, undo: () => Promise<void> | void, persist?: UndoDescriptor): { runNow(): Promise<void> };
}

export interface RegisteredFault {
  inject(): Promise<void>;
  /** Undoes the fault now (the rollback runs at most once). */
  revert(): Promise<void>;
}

export function registerFault(
  rollbacks: UndoRegistry,
  signal: AbortSignal,
  name: string,
  inject: () => Promise<void>,
  undo: () => Promise<void>,
  /** How another process could undo it if this one is killed mid-fault. */
  persist?: UndoDescriptor,
): RegisteredFault {
  let injecting: Promise<void> | null = null;
  const handle = rollbacks.add(
    name,
    async () => {
      if (injecting) await injecting.catch(() => {});
      await undo();
    },
    persist,
  );
  return {
    inject: () => {
      if (signal.aborted) return Promise.reject(new Error("cancelled before the fault was injected"));
      injecting = inject();
      return injecting;
    },
    revert: () => handle.runNow(),
  };
}

/** A toxic on a fault proxy, added by inject() and removed by the registered rollback. */
export function registerToxic(
  rollbacks: UndoRegistry,
  signal: AbortSignal,
  proxy: ToxicControl,
  toxics: ToxicInput[],
): RegisteredFault {
  const names = toxics.map((t) => t.name ?? `${t.type}_${t.stream ?? "downstream"}`);
  const remote = proxy.remote;
  return registerFault(
    rollbacks,
    signal,
    `remove toxic${names.length > 1 ? "s" : ""} ${names.join(", ")} from ${proxy.where}`,
    async () => {
      for (const toxic of toxics) await proxy.add(toxic);
    },
    async () => {
      // Every toxic gets its removal even if one fails; then the proxy's own list confirms none is left.
      const results = await Promise.allSettled(names.map((name) => proxy.remove(name)));
      const failed = results.flatMap((r, i) =>
        r.status === "rejected" ? [`${names[i]}: ${String(r.reason)}`] : [],
      );
      const left = (await proxy.list()).filter((t) => names.includes(t.name)).map((t) => t.name);
      if (failed.length > 0 || left.length > 0) {
        throw new Error(
          `toxics not removed: ${[...failed, ...left.map((n) => `${n} still listed`)].join("; ")}`,
        );
      }
    },
    remote
      ? { kind: "removeToxics", api: remote.api, ...(remote.token ? { token: remote.token } : {}), names }
      : undefined,
  );
}
