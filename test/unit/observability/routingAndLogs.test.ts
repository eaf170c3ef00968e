import { describe, expect, it } from "vitest";
import {
  labelsRoutingTo,
  matchRoutes,
  parseAlertmanagerConfig,
  parseMatchers,
} from "../../../src/engines/alertmanager/routing.js";
import { classifyLine, parseLogfmt } from "../../../src/engines/logs/classify.js";

const CONFIG = `
route:
  receiver: default
  group_wait: 30s
  routes:
    - match: { team: db }
      receiver: db-pager
      group_wait: 5s
      routes:
        - matchers: ['severity=~"warning|info"']
          receiver: db-chat
    - matchers: ['{service="api", severity!="info"}']
      receiver: api
      continue: true
    - matchers: [service=api]
      receiver: api-audit
receivers:
  - name: default
  - name: db-pager
    pagerduty_configs: [{ routing_key: x }]
  - name: db-chat
    slack_configs: [{ api_url: "http://chat", channel: "#db" }]
  - name: api
    webhook_configs: [{ url: "http://127.0.0.1:9999/hook" }]
  - name: api-audit
    webhook_configs: [{ url: "https://audit.example/hook" }]
`;

describe("Alertmanager routing", () => {
  const config = parseAlertmanagerConfig(CONFIG);

  it("parses matcher syntax", () => {
    expect(parseMatchers('{service="api", severity!="info"}')).toEqual([
      { name: "service", op: "=", value: "api" },
      { name: "severity", op: "!=", value: "info" },
    ]);
    expect(parseMatchers("alertname=~Foo.*")).toEqual([{ name: "alertname", op: "=~", value: "Foo.*" }]);
  });

  it("walks the tree like Alertmanager: first match wins, continue goes on, inheritance", () => {
    const receivers = (labels: Record<string, string>) =>
      matchRoutes(config.route, labels).map((r) => r.receiver);
    expect(receivers({ team: "db", severity: "critical" })).toEqual(["db-pager"]);
    expect(receivers({ team: "db", severity: "warning" })).toEqual(["db-chat"]);
    expect(receivers({ service: "api", severity: "critical" })).toEqual(["api", "api-audit"]);
    expect(receivers({ service: "api", severity: "info" })).toEqual(["api-audit"]);
    expect(receivers({ other: "x" })).toEqual(["default"]);
    const dbChat = matchRoutes(config.route, { team: "db", severity: "info" })[0]!;
    expect(dbChat.groupWaitMs).toBe(5_000);
    expect(dbChat.path).toBe("route.routes[0].routes[0]");
  });

  it("reads receivers' integrations", () => {
    expect(config.receivers.get("api")!.integrations).toEqual([
      { type: "webhook", url: "http://127.0.0.1:9999/hook" },
    ]);
    expect(config.receivers.get("db-chat")!.integrations).toEqual([{ type: "slack" }]);
    expect(config.receivers.get("default")!.integrations).toEqual([]);
  });

  it("derives labels that route to a given route from its equality matchers", () => {
    const api = config.route.routes[1]!;
    expect(labelsRoutingTo(config.route, api)).toBeNull(); // it has a != matcher
    expect(labelsRoutingTo(config.route, config.route.routes[2]!)).toEqual({ service: "api" });
  });
});

describe("classifyLine", () => {
  it("accepts JSON and logfmt lines with timestamp, level and message", () => {
    expect(classifyLine('{"ts":"2026-01-01T00:00:00Z","level":"info","msg":"up"}', "json")).toEqual({
      format: "json",
      ok: true,
      missing: [],
    });
    expect(classifyLine('{"@timestamp":"x","log":{"level":"warn"},"message":"m"}', "json").ok).toBe(true);
    expect(classifyLine('time=2026-01-01T00:00:00Z level=info msg="listening on :80"', "logfmt").ok).toBe(
      true,
    );
  });

  it("says what a line lacks", () => {
    expect(classifyLine('{"msg":"no level"}', "json").missing).toEqual(["timestamp", "level"]);
    expect(classifyLine("Server started on port 80", "json").missing).toEqual(["valid JSON"]);
    expect(classifyLine("Server started on port 80", "logfmt").ok).toBe(false);
    expect(classifyLine("[1,2]", "json").missing).toEqual(["a JSON object"]);
  });

  it("parses logfmt with quoted values", () => {
    expect(parseLogfmt('a=1 b="x \\"y\\"" c=')).toEqual({ a: "1", b: 'x "y"', c: "" });
    expect(parseLogfmt("just words")).toBeNull();
  });
});
