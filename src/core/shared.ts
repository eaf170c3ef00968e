// The run-scoped memo behind ctx.shared: one load run judged by several checks, started by the first that asks.
import type { RunShared } from "./types.js";

export function createRunShared(): RunShared {
  const values = new Map<string, Promise<unknown>>();
  return {
    once<T>(key: string, start: () => Promise<T>, keep: (value: T) => boolean = () => true): Promise<T> {
      const known = values.get(key);
      if (known) return known as Promise<T>;
      const started = start();
      values.set(key, started);
      // A failed run, or one the caller says not to keep (cancelled), is forgotten: the next check may try again.
      started.then(
        (value) => {
          if (!keep(value)) values.delete(key);
        },
        () => values.delete(key),
      );
      return started;
    },
  };
}
