#!/usr/bin/env node
// The floor any Node-based generator starts from: how late a bare 1 ms timer fires on this machine, as one JSON line
// {n, p50, p99, p999, max} in ms. Usage: node bench/load/timerLateness.mjs [seconds]
import { performance } from "node:perf_hooks";

const durationMs = Number(process.argv[2] ?? 10) * 1000;
const late = [];
const start = performance.now();
await new Promise((resolve) => {
  const step = () => {
    const due = performance.now() + 1;
    setTimeout(() => {
      late.push(performance.now() - due);
      if (performance.now() - start < durationMs) step();
      else resolve();
    }, 1);
  };
  step();
});
late.sort((a, b) => a - b);
const at = (p) => late[Math.min(late.length - 1, Math.max(0, Math.ceil(p * late.length) - 1))];
const round = (x) => Math.round(x * 1000) / 1000;
console.log(
  JSON.stringify({
    n: late.length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    p999: round(at(0.999)),
    max: round(late.at(-1)),
  }),
);
