// Live progress for `gauntlet assess`: a spinner line on a TTY, plain timestamped lines otherwise (CI logs).

import type { AssessEvent } from "../assess/assess.js";
import type { Status } from "../core/types.js";
import { formatDuration } from "../spec/units.js";
import { terminalText } from "./terminal.js";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const MARK: Record<Status, string> = {
  PASS: "✓ PASS",
  WARN: "! WARN",
  FAIL: "✗ FAIL",
  UNVERIFIED: "? UNVERIFIED",
  ERROR: "✗ ERROR",
  NA: "- N/A",
};

export interface Progress {
  onEvent(event: AssessEvent): void;
  stop(): void;
}

export function createProgress(write: (text: string) => void, tty: boolean, verbose = false): Progress {
  const running = new Map<string, number>();
  let done = 0;
  let total = 0;
  let frame = 0;
  let timer: NodeJS.Timeout | null = null;

  const clear = () => tty && write("\r\x1b[2K");
  const spin = () => {
    if (!tty || running.size === 0) return;
    const names = [...running.keys()].join(", ");
    const line = `${FRAMES[frame++ % FRAMES.length]} [${done}/${total}] running ${names}`;
    write(`\r\x1b[2K${line.slice(0, (process.stdout.columns ?? 100) - 1)}`);
  };
  const line = (text: string) => {
    clear();
    write(`${text}\n`);
    spin();
  };

  return {
    onEvent(event) {
      switch (event.type) {
        case "planned":
          total = event.total;
          if (tty) timer = setInterval(spin, 80);
          break;
        case "system":
          line(`  · ${terminalText(event.message)}`);
          break;
        case "start":
          running.set(event.checkId, performance.now());
          if (!tty) line(`  … ${event.checkId}${event.destructive ? " (destructive)" : ""}`);
          break;
        case "end": {
          running.delete(event.result.checkId);
          done += 1;
          const r = event.result;
          const detail =
            r.status === "NA" ? ` — ${terminalText(r.reason ?? "")}` : ` (${formatDuration(r.durationMs)})`;
          line(`  ${MARK[r.status].padEnd(12)} ${r.checkId}${detail}`);
          break;
        }
        case "log":
          // Log lines quote services and the spec: what they print must not drive the terminal.
          if (verbose || event.level === "warn") line(`    ${event.checkId}: ${terminalText(event.message)}`);
          break;
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      clear();
    },
  };
}
