import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { healthPathOf, specName } from "../../../../src/engines/discovery/discover.js";
import { yamlScalar } from "../../../../src/engines/discovery/specDraft.js";
import { interpolate } from "../../../../src/spec/interpolate.js";

describe("healthPathOf", () => {
  it("reads the path a healthcheck curls or wgets from its own container", () => {
    expect(healthPathOf(["CMD-SHELL", "curl --silent --fail localhost:80/health-check || exit 1"])).toBe(
      "/health-check",
    );
    expect(healthPathOf(["CMD", "wget", "-qO-", "http://127.0.0.1:3000/api/health?full=1"])).toBe(
      "/api/health?full=1",
    );
    expect(healthPathOf(["CMD-SHELL", "curl -f http://0.0.0.0:9200/_cluster/health || exit 1"])).toBe(
      "/_cluster/health",
    );
  });

  it("names none for a test that requests no path, is not HTTP, or is disabled", () => {
    expect(healthPathOf(["CMD-SHELL", "curl --fail localhost:9200 || exit 1"])).toBeUndefined();
    expect(healthPathOf(["CMD", "pg_isready"])).toBeUndefined();
    expect(healthPathOf(["CMD-SHELL", "mysqladmin ping -h 127.0.0.1/x"])).toBeUndefined();
    expect(healthPathOf(["NONE"])).toBeUndefined();
    expect(healthPathOf(undefined)).toBeUndefined();
  });
});

describe("specName", () => {
  it("keeps names the spec accepts and mends the others", () => {
    expect(specName("flask-app")).toBe("flask-app");
    expect(specName("@shop/orders", "system")).toBe("orders");
    expect(specName("my app")).toBe("my-app");
    expect(specName("1web")).toBe("svc-1web");
    expect(specName("_", "system")).toBe("system-_");
  });
});

describe("yamlScalar", () => {
  it("writes each value so that YAML reads back the same string", () => {
    for (const value of [
      "plain-name",
      "http://127.0.0.1:8080",
      "1.2.3",
      "8080",
      "yes",
      "No",
      "null",
      "~",
      "./scripts/deploy.sh",
      ".env.example",
      "monitoring/alerts/*.yml",
      "*.yml",
      "a: b",
      "a #b",
      "- x",
      "[x]",
      "{x}",
      "@scope",
      "it's",
      'say "hi"',
      "trailing:",
      "docker compose up -d --wait",
    ]) {
      expect(parse(`k: ${yamlScalar(value)}`).k, value).toBe(value);
      expect(parse(`k: [${yamlScalar(value)}]`).k, value).toEqual([value]);
    }
  });

  it("escapes ${ so that the spec loader does not interpolate a value", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ in a value.
    const written = parse(`k: ${yamlScalar("/a/${b}")}`).k as string;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ in a value.
    expect(interpolate(written, {})).toMatchObject({ value: "/a/${b}", problems: [] });
  });
});
