// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} references are part of the inputs under test.
// `validate` parses URLs and thresholds as the run will, so what would fail minutes into a run is a located problem.
import { describe, expect, it } from "vitest";
import { parseSpec } from "../../../src/spec/loader.js";
import { type Problem, SpecError } from "../../../src/spec/problems.js";

function problemsOf(yaml: string): Problem[] {
  try {
    parseSpec(yaml, "/tmp/gauntlet.yaml");
    return [];
  } catch (error) {
    if (error instanceof SpecError) return error.problems;
    throw error;
  }
}

const base = "version: 1\nsystem: { name: s }\n";
const withService = (url: string, extra = "") => `${base}services:\n  api:\n    url: "${url}"\n${extra}`;

describe("URLs", () => {
  it.each([
    ["http://[::1", /IPv6 address has no closing "\]"/, /in brackets/],
    ["http://127.0.0.1:.inf", /port "\.inf" is not a number/, /port from 1 to 65535/],
    ["http://127.0.0.1:99999", /port 99999 is out of range/, /port from 1 to 65535/],
    ["http://127.0.0.1:0", /port 0 is out of range/, /port from 1 to 65535/],
    ["http://", /has no host/, /host after :\/\//],
    ["http://:8080/x", /has no host/, /host after :\/\//],
    ["postgres://app@[::1/app", /IPv6 address has no closing/, /brackets/],
    ["redis://127.0.0.1:63a79", /port "63a79" is not a number/, /port from 1 to 65535/],
    ["localhost:8080", /has no scheme/, /http:\/\/localhost:8080/],
    ["http://exa mple.com", /contains a space/, /%20/],
  ])("services.<name>.url %s is a located problem", (url, message, fix) => {
    const problems = problemsOf(withService(url));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 5, column: 10 });
    expect(problems[0]!.message).toMatch(/^services\.api\.url: /);
    expect(problems[0]!.message).toMatch(message);
    expect(problems[0]!.fix).toMatch(fix);
  });

  it.each([
    "http://127.0.0.1:8080",
    "http://[::1]:9090/x?y=1#z",
    "https://orders.example.internal",
    "postgres://app:pw@127.0.0.1:5432/app",
    "redis://:secret@127.0.0.1:6379",
    "mongodb://db.internal/app",
    "http://127.0.0.1:${PORT:-8080}",
  ])("accepts %s", (url) => {
    expect(problemsOf(withService(url))).toEqual([]);
  });

  it("http-only keys refuse other schemes and check the same things", () => {
    const problems = problemsOf(
      `${base}monitoring:\n  prometheus: ftp://127.0.0.1:9090\n  alertmanager: "http://127.0.0.1:.inf"\nsecurity:\n  tls: ["https://[::1"]\n`,
    );
    expect(problems.map((p) => [p.line, p.column])).toEqual([
      [4, 15],
      [5, 17],
      [7, 9],
    ]);
    expect(problems[0]!.message).toMatch(/is a ftp:\/\/ URL/);
    expect(problems[0]!.fix).toMatch(/http:\/\/ or https:\/\//);
  });

  it("a full health or metrics URL is checked; a path is not a URL and stays a path", () => {
    const problems = problemsOf(
      withService(
        "http://127.0.0.1:8080",
        "    health: /healthz\n    metrics: http://127.0.0.1:99999/metrics\n",
      ),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 7, column: 14 });
    expect(problems[0]!.message).toMatch(/port 99999 is out of range/);
  });

  it("an alert receiver's port must be one a socket can listen on", () => {
    const problems = problemsOf(
      `${base}monitoring:\n  alertReceiver:\n    url: http://127.0.0.1:99999/alerts\n`,
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 5, column: 10 });
  });

  it("an experiment probe URL is checked", () => {
    const problems = problemsOf(
      withService(
        "http://127.0.0.1:8080",
        "resilience:\n  experiments:\n    - { name: x, target: api, fault: kill, probes: ['http://[::1/x'] }\n",
      ),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]!.line).toBe(8);
    expect(problems[0]!.message).toMatch(/IPv6/);
  });
});

describe("thresholds", () => {
  it.each(["(((", "p(95)<", "p(200)<1"])("%s is a located problem", (threshold) => {
    const problems = problemsOf(
      withService(
        "http://127.0.0.1:8080",
        `performance:\n  target: api\n  thresholds: ["p(95)<300ms", "${threshold}"]\n`,
      ),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 8, column: 31 });
    expect(problems[0]!.message).toMatch(/^performance\.thresholds\[1\]: threshold /);
  });
});
