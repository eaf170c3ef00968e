import { describe, expect, it } from "vitest";
import { workerJobManifest } from "../../../src/engines/load/distributed/manifest.js";
import {
  decodeLoopResult,
  decodeMix,
  encodeLoopResult,
  encodeMix,
  encodeTick,
  entryMessage,
  keysOf,
  ProtocolError,
  parseAssignment,
  parseEvent,
  redisLabel,
  tickHistogram,
  versionOf,
  workerNameProblem,
} from "../../../src/engines/load/distributed/protocol.js";
import { redisUrlProblem } from "../../../src/engines/load/distributed/redisConnection.js";
import { segmentsOf } from "../../../src/engines/load/distributed/segments.js";
import { defaultWorkerName } from "../../../src/engines/load/distributed/worker.js";
import { createHistogram, encodeHistogram, recordMicros } from "../../../src/engines/load/histogram.js";
import type { LoopResult, StagePlan } from "../../../src/engines/load/loadLoop.js";
import { buildMix, parseEndpoint } from "../../../src/engines/load/requests.js";
import { Redactor } from "../../../src/secrets/redactor.js";
import { parseSpec } from "../../../src/spec/loader.js";
import { SpecError } from "../../../src/spec/problems.js";
import { mulberry32 } from "../../support/prng.js";

function loopResult(): LoopResult {
  const histogram = createHistogram();
  const lateness = createHistogram();
  const random = mulberry32(7);
  for (let i = 0; i < 20_000; i++) {
    recordMicros(histogram, 50 + random() * 40_000);
    recordMicros(lateness, random() * 300);
  }
  return {
    requests: 20_000,
    bytes: 1_234_567,
    status: { "200": 19_990, "503": 10 },
    errors: { refused: 1, reset: 2, timeout: 3, other: 4 },
    histogram,
    lateness,
    queued: 7,
    durationMs: 2001.5,
    dropped: 5,
    unfinished: 6,
    aborted: false,
  };
}

describe("the distributed protocol's encoding", () => {
  it("a LoopResult survives encode → JSON → parse → decode exactly, histograms bucket for bucket", () => {
    const result = loopResult();
    const wire = JSON.stringify({ type: "done", worker: "w1", result: encodeLoopResult(result) });
    const event = parseEvent(wire);
    if (event.type !== "done") throw new Error(`expected done, got ${event.type}`);
    const back = decodeLoopResult(event.result);
    expect(encodeHistogram(back.histogram)).toBe(encodeHistogram(result.histogram));
    expect(encodeHistogram(back.lateness)).toBe(encodeHistogram(result.lateness));
    expect(back.histogram.totalCount).toBe(20_000);
    for (const p of [50, 99, 99.9]) {
      expect(back.histogram.getValueAtPercentile(p)).toBe(result.histogram.getValueAtPercentile(p));
    }
    const { histogram: _h, lateness: _l, ...counts } = result;
    const { histogram: _bh, lateness: _bl, ...backCounts } = back;
    expect(backCounts).toEqual(counts);
  });

  it("keeps a field it does not know (the lead may add one) and refuses a malformed event", () => {
    const encoded = { ...encodeLoopResult(loopResult()), extra: 42 };
    const event = parseEvent(JSON.stringify({ type: "done", worker: "w1", result: encoded }));
    expect(event.type === "done" && (event.result as unknown as { extra: number }).extra).toBe(42);
    expect(() =>
      parseEvent(JSON.stringify({ type: "done", worker: "w1", result: { requests: "many" } })),
    ).toThrow(ProtocolError);
    expect(() => parseEvent("{not json")).toThrow(/is not JSON/);
    expect(() => parseEvent(JSON.stringify({ type: "gossip", worker: "w1" }))).toThrow(ProtocolError);
  });

  it("a quiet second carries no histogram; a busy one its exact histogram", () => {
    const quiet = encodeTick({ second: 3, requests: 0, errors: 0, bytes: 0, histogram: createHistogram() });
    expect(quiet.histogram).toBe("");
    expect(tickHistogram(quiet)).toBeNull();
    const h = createHistogram();
    for (let i = 1; i <= 100; i++) recordMicros(h, i * 100);
    const busy = encodeTick({ second: 4, requests: 100, errors: 1, bytes: 900, histogram: h });
    expect(tickHistogram(busy)?.getValueAtPercentile(99)).toBe(h.getValueAtPercentile(99));
    expect(busy).toMatchObject({ second: 4, requests: 100, errors: 1, bytes: 900 });
  });

  it("a request mix's encoded bytes travel as base64 and come back identical", () => {
    const secrets = new Redactor();
    const endpoint = parseEndpoint("http://127.0.0.1:8080/api", secrets);
    const mix = buildMix(
      endpoint,
      [
        { path: "/a", weight: 3 },
        { path: "/b", method: "POST", json: { x: "é" } },
      ],
      {},
      secrets,
    );
    const back = decodeMix(JSON.parse(JSON.stringify(encodeMix(mix))));
    expect(back.order).toEqual(mix.order);
    expect(back.requests.map((r) => r.buffer.equals(mix.requests[back.requests.indexOf(r)]!.buffer))).toEqual(
      [true, true],
    );
    const assignment = {
      v: 1,
      runId: "abc123",
      worker: "w1",
      index: 0,
      of: 2,
      endpoint,
      mix: encodeMix(mix),
      plan: { name: "s", connections: 2, durationMs: 1000 },
      rejectUnauthorized: true,
    };
    expect(parseAssignment(JSON.stringify(assignment)).mix.order).toEqual(mix.order);
    expect(() => parseAssignment(JSON.stringify({ ...assignment, plan: { name: "s" } }))).toThrow(
      /assignment is malformed at plan/,
    );
    expect(versionOf(JSON.stringify({ ...assignment, v: 9 }))).toBe(9);
  });

  it("names keys under the prefix and run id, and reads the message field of a stream entry", () => {
    const keys = keysOf("p:q");
    expect(keys.worker("w1")).toBe("p:q:worker:w1");
    expect(keys.nameOf(keys.worker("w-1.a"))).toBe("w-1.a");
    expect(keys.workers).toBe("p:q:worker:*");
    expect(keys.events("r1")).toBe("p:q:run:r1:events");
    expect(keys.control("r1")).toBe("p:q:run:r1:control");
    expect(entryMessage(["x", "1", "m", '{"type":"open"}'])).toBe('{"type":"open"}');
    expect(entryMessage(["x", "1"])).toBeUndefined();
    expect(workerNameProblem("load-1")).toBeUndefined();
    expect(workerNameProblem("a*b")).toContain("is not a usable worker name");
  });

  it("prints Redis URLs without their password and refuses other schemes", () => {
    expect(redisLabel("redis://:s3cret@10.0.0.5:6379/2")).toBe("redis://:***@10.0.0.5:6379/2");
    expect(redisLabel("rediss://app:s3cret@cache:6380")).toBe("rediss://app:***@cache:6380");
    expect(redisLabel("redis://10.0.0.5:6379")).toBe("redis://10.0.0.5:6379");
    expect(redisUrlProblem("http://10.0.0.5:6379")).toContain("write a redis:// or rediss:// URL");
    expect(redisUrlProblem("not a url")).toContain("is not a URL");
    expect(redisUrlProblem("redis://:pw@h:1")).toBeUndefined();
  });
});

describe("segments", () => {
  const sum = (plans: StagePlan[], f: (p: StagePlan) => number) => plans.reduce((s, p) => s + f(p), 0);

  it("closed model: connections shared exactly over exactly N workers, ramps too", () => {
    const plan: StagePlan = {
      name: "s",
      connections: 10,
      durationMs: 1000,
      rampUpMs: 500,
      from: { connections: 4 },
    };
    const segments = segmentsOf(plan, 3);
    expect(segments.map((s) => s.connections)).toEqual([4, 3, 3]);
    expect(sum(segments, (s) => s.from!.connections!)).toBe(4);
    expect(segments.every((s) => s.durationMs === 1000 && s.rampUpMs === 500)).toBe(true);
  });

  it("closed model: fewer connections than workers is refused, not shrunk", () => {
    expect(() => segmentsOf({ name: "s", connections: 2, durationMs: 1000 }, 3)).toThrow(
      "stage s has 2 connections for 3 workers: each worker needs at least one",
    );
    expect(() => segmentsOf({ name: "s", connections: 2, durationMs: 1000 }, 0)).toThrow(/above 0/);
  });

  it("open model: the rate shared exactly, every worker with a pool even when the pool is small", () => {
    const segments = segmentsOf(
      { name: "o", connections: 2, rate: 1000, durationMs: 1000, from: { rate: 100 } },
      3,
    );
    expect(segments).toHaveLength(3);
    expect(sum(segments, (s) => s.rate!)).toBeCloseTo(1000, 9);
    expect(sum(segments, (s) => s.from!.rate!)).toBeCloseTo(100, 9);
    expect(segments.map((s) => s.connections)).toEqual([1, 1, 1]);
    expect(
      segmentsOf({ name: "o", connections: 10, rate: 90, durationMs: 1 }, 4).map((s) => s.connections),
    ).toEqual([3, 3, 2, 2]);
  });
});

describe("worker names and the Job manifest", () => {
  it("an Indexed Job's pod is <job>-<index>; elsewhere host and pid", () => {
    expect(defaultWorkerName({ JOB_COMPLETION_INDEX: "2", GAUNTLET_JOB_NAME: "gl" })).toBe("gl-2");
    expect(defaultWorkerName({ JOB_COMPLETION_INDEX: "0" })).toBe("worker-0");
    expect(defaultWorkerName({})).toMatch(new RegExp(`-${process.pid}$`));
    expect(workerNameProblem(defaultWorkerName({}))).toBeUndefined();
  });

  it("the manifest carries the prefix and idle timeout to the workers and names them by index", () => {
    const m = workerJobManifest({
      workers: 5,
      image: "img:1",
      name: "gl",
      idleTimeout: "5m",
      prefix: "team:load",
    });
    const spec = (
      m.job as { spec: { completions: number; template: { spec: { containers: { args: string[] }[] } } } }
    ).spec;
    expect(spec.completions).toBe(5);
    expect(spec.template.spec.containers[0]!.args).toEqual([
      "worker",
      "--idle-timeout",
      "5m",
      "--redis-prefix",
      "team:load",
    ]);
    // No --redis given: the Job still reads it from a Secret, never from an inline placeholder.
    expect(m.secret).toEqual({ name: "gl-redis", key: "url" });
    expect(m.yaml).toContain("named gl-0 … gl-4");
    expect(m.yaml).not.toContain("&a");
  });
});

describe("performance.distributed in the spec", () => {
  const spec = (distributed: string) =>
    `version: 1\nsystem: { name: s }\nservices:\n  api:\n    url: http://127.0.0.1:8080\nperformance:\n  target: api\n  distributed: ${distributed}\n`;
  const problems = (distributed: string) => {
    try {
      parseSpec(spec(distributed), "/tmp/gauntlet.yaml");
      return [];
    } catch (error) {
      if (error instanceof SpecError) return error.problems.map((p) => p.message);
      throw error;
    }
  };

  it("takes a redis URL, a worker count, a prefix and a wait", () => {
    const parsed = parseSpec(
      spec('{ redis: "redis://10.0.0.5:6379", workers: 4, prefix: "team:load", wait: 1m }'),
      "/tmp/gauntlet.yaml",
    );
    expect(parsed.performance?.distributed).toEqual({
      redis: "redis://10.0.0.5:6379",
      workers: 4,
      prefix: "team:load",
      wait: 60_000,
    });
  });

  it("refuses another scheme, no workers, and unknown keys, by path", () => {
    expect(problems('{ redis: "http://10.0.0.5:6379", workers: 2 }')[0]).toMatch(
      /^performance\.distributed\.redis: "http:\/\/10\.0\.0\.5:6379" is a http:\/\/ URL/,
    );
    expect(problems('{ redis: "redis://h:6379", workers: 0 }')[0]).toMatch(
      /^performance\.distributed\.workers: /,
    );
    expect(problems('{ redis: "redis://h:6379", workers: 2, threads: 4 }')[0]).toMatch(/threads/);
  });
});
