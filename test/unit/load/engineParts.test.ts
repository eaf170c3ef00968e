import { describe, expect, it } from "vitest";
import { kneeOf } from "../../../src/engines/load/capacity.js";
import {
  createHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeEncoded,
  recordMicros,
  summarize,
} from "../../../src/engines/load/histogram.js";
import { residentMemoryFromMetrics, theilSenSlope } from "../../../src/engines/load/memorySlope.js";
import { buildMix, parseEndpoint, weightedOrder } from "../../../src/engines/load/requests.js";
import { split } from "../../../src/engines/load/stage.js";
import { REDACTED, Redactor } from "../../../src/secrets/redactor.js";

describe("histograms", () => {
  it("merges encoded histograms exactly", () => {
    const a = createHistogram();
    const b = createHistogram();
    const both = createHistogram();
    for (let i = 1; i <= 5000; i++) {
      recordMicros(i % 2 ? a : b, i * 37);
      recordMicros(both, i * 37);
    }
    const merged = decodeHistogram(encodeHistogram(a));
    mergeEncoded(merged, encodeHistogram(b));
    expect(merged.totalCount).toBe(5000);
    for (const p of [50, 90, 99, 99.9, 100])
      expect(merged.getValueAtPercentile(p)).toBe(both.getValueAtPercentile(p));
    const s = summarize(merged);
    expect(s.p50).toBeCloseTo(92.5, 0); // 2500 × 37 µs, within 3 significant digits
    expect(s.max).toBeCloseTo(185, 0);
  });

  it("keeps 3 significant digits", () => {
    const h = createHistogram();
    recordMicros(h, 123_456);
    expect(Math.abs(h.getValueAtPercentile(50) - 123_456) / 123_456).toBeLessThan(0.001);
  });
});

describe("requests", () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the test name shows the ${…} syntax.
  it("pre-encodes requests with headers, JSON bodies and ${ENV} redacted", () => {
    const secrets = new Redactor();
    const endpoint = parseEndpoint("http://127.0.0.1:8080/base", secrets);
    const mix = buildMix(
      endpoint,
      [
        {
          method: "POST",
          path: "/orders",
          json: { sku: "A1" },
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${…} reference, expanded by the engine.
          headers: { Authorization: "Bearer ${TOKEN}" },
        },
        { path: "/items", weight: 3 },
      ],
      { TOKEN: "tok-very-secret" },
      secrets,
    );
    const post = mix.requests[0]!.buffer.toString("latin1");
    expect(post).toMatch(/^POST \/base\/orders HTTP\/1\.1\r\n/);
    expect(post).toContain("Host: 127.0.0.1:8080\r\n");
    expect(post).toContain("Content-Type: application/json\r\n");
    expect(post).toContain("Content-Length: 12\r\n");
    expect(post.endsWith('\r\n\r\n{"sku":"A1"}')).toBe(true);
    expect(secrets.redact(post)).toContain(`Bearer ${REDACTED}`);
    expect(mix.order.filter((i) => i === 1).length / mix.order.length).toBe(0.75);
  });

  it("rejects an unset variable and a non-http URL", () => {
    const secrets = new Redactor();
    const endpoint = parseEndpoint("http://127.0.0.1:8080", secrets);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${…} reference, expanded by the engine.
    expect(() => buildMix(endpoint, [{ path: "/", headers: { X: "${NOPE}" } }], {}, secrets)).toThrow(
      /NOPE is not set/,
    );
    expect(() => parseEndpoint("ftp://127.0.0.1", secrets)).toThrow(/http:\/\/ or https:\/\//);
  });

  it("interleaves weights smoothly", () => {
    expect(weightedOrder([3, 1])).toEqual([0, 0, 1, 0]);
    expect(weightedOrder([1, 1, 1])).toEqual([0, 1, 2]);
  });
});

describe("worker shares", () => {
  it("splits connections and rate so the shares add up", () => {
    const shares = split({ name: "s", durationMs: 1000, connections: 10, rate: 900 }, 4);
    expect(shares.map((s) => s.connections)).toEqual([3, 3, 2, 2]);
    expect(shares.reduce((n, s) => n + s.rate!, 0)).toBe(900);
  });
});

describe("memory slope", () => {
  it("is robust to GC sawtooth and outliers", () => {
    // 1 MB/s growth with a ±5 MB sawtooth and one 200 MB spike.
    const samples = Array.from({ length: 60 }, (_, i) => ({
      t: i * 1000,
      bytes: 100e6 + i * 1e6 + (i % 3 === 0 ? 5e6 : -5e6) + (i === 30 ? 200e6 : 0),
    }));
    expect(theilSenSlope(samples)).toBeGreaterThan(0.8e6);
    expect(theilSenSlope(samples)).toBeLessThan(1.2e6);
    expect(theilSenSlope(samples.map((s) => ({ ...s, bytes: 50e6 })))).toBe(0);
  });

  it("reads process_resident_memory_bytes", () => {
    const text =
      "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 1.2345e+07\nother 3\n";
    expect(residentMemoryFromMetrics(text)).toBe(12_345_000);
    expect(residentMemoryFromMetrics("nothing 1\n")).toBeUndefined();
  });
});

describe("capacity knee", () => {
  const step = (rate: number, p99: number, passed = true) => ({
    rate,
    achievedRps: rate,
    p50: 1,
    p99,
    errorRate: 0,
    dropped: 0,
    passed,
    failures: [],
  });
  it("is the first step from which every later one is degraded, ignoring a lone noisy step", () => {
    expect(kneeOf([step(100, 10), step(200, 40), step(300, 12), step(400, 25), step(500, 90, false)])).toBe(
      400,
    );
    expect(kneeOf([step(100, 10), step(200, 11), step(300, 12)])).toBeNull();
    expect(kneeOf([step(100, 10), step(200, 9, false)])).toBe(200);
  });
});
