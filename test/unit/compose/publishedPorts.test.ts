// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} references are part of the inputs under test.
// Published ports as compose reads them: the short and long syntax, IPv6, interpolation, and real public compose files
// (docker/awesome-compose, CC0) whose datastores are published on every interface.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  hostIpScope,
  kindOfImage,
  parseComposeText,
  shortSyntax,
} from "../../../src/engines/compose/publishedPorts.js";

const AWESOME = path.resolve(import.meta.dirname, "../../fixtures/compose/awesome-compose");
const real = (name: string) =>
  parseComposeText(readFileSync(path.join(AWESOME, `${name}.yaml`), "utf8"), `${name}.yaml`, {});

describe("short syntax", () => {
  it.each([
    ["6379", "", "", "6379/tcp"],
    ["6379:6379", "", "6379", "6379/tcp"],
    ["127.0.0.1:5432:5432", "127.0.0.1", "5432", "5432/tcp"],
    ["0.0.0.0:5432:5432/tcp", "0.0.0.0", "5432", "5432/tcp"],
    ["[::1]:6379:6379", "::1", "6379", "6379/tcp"],
    ["::1:6379:6379", "::1", "6379", "6379/tcp"],
    ["8000-8010:8000-8010/udp", "", "8000-8010", "8000-8010/udp"],
    ["127.0.0.1::6379", "127.0.0.1", "", "6379/tcp"],
  ])("%s → host %j, published %j, target %j", (text, hostIp, published, target) => {
    expect(shortSyntax(text)).toMatchObject({ hostIp, published, target });
  });

  it("interpolates ${VAR:-default} and names an unset variable", () => {
    expect(shortSyntax("${BIND:-127.0.0.1}:6379:6379")).toMatchObject({ hostIp: "127.0.0.1" });
    expect(shortSyntax("${BIND}:6379:6379", { BIND: "0.0.0.0" })).toMatchObject({ hostIp: "0.0.0.0" });
    expect(shortSyntax("${BIND}:6379:6379")).toMatchObject({ unresolved: "BIND" });
  });
});

describe("host address scope", () => {
  it.each([
    ["", "everyInterface"],
    ["0.0.0.0", "everyInterface"],
    ["::", "everyInterface"],
    ["127.0.0.1", "loopback"],
    ["127.0.0.53", "loopback"],
    ["::1", "loopback"],
    ["10.0.0.5", "specific"],
  ] as const)("%j is %s", (ip, scope) => expect(hostIpScope(ip)).toBe(scope));
});

describe("kind from image", () => {
  it.each([
    ["postgres:latest", "postgres"],
    ["docker.io/library/redis:7-alpine", "redis"],
    ["redislabs/redismod", "redis"],
    ["mariadb:10.9", "mysql"],
    ["mongo:4.2.0", "mongodb"],
    ["docker.redpanda.com/vectorized/redpanda:v22.2.2", "kafka"],
    ["postgres@sha256:0123", "postgres"],
    ["nginx", undefined],
    ["dpage/pgadmin4:latest", undefined],
    ["myorg/redis-exporter:1", undefined],
  ])("%s → %s", (image, kind) => expect(kindOfImage(image)).toBe(kind));
});

describe("real compose files (docker/awesome-compose)", () => {
  it("postgresql-pgadmin publishes postgres on every interface at its line", () => {
    const file = real("postgresql-pgadmin");
    const postgres = file.services.find((s) => s.name === "postgres")!;
    expect(postgres).toMatchObject({ kind: "postgres", kindFrom: "image" });
    expect(postgres.ports).toEqual([expect.objectContaining({ hostIp: "", published: "5432", line: 10 })]);
    expect(file.services.find((s) => s.name === "pgadmin")?.kind).toBeUndefined();
  });

  it("flask-redis publishes redis (redismod image) on every interface", () => {
    const redis = real("flask-redis").services.find((s) => s.name === "redis")!;
    expect(redis).toMatchObject({ kind: "redis" });
    expect(redis.ports.map((p) => [p.hostIp, p.published, p.line])).toEqual([["", "6379", 5]]);
  });

  it("nginx-golang-postgres publishes no datastore port", () => {
    const db = real("nginx-golang-postgres").services.find((s) => s.kind === "postgres")!;
    expect(db.ports).toEqual([]);
  });

  it("every file parses without error", () => {
    for (const name of ["wasmedge-kafka-mysql", "react-express-mongodb"])
      expect(real(name).error).toBeUndefined();
  });

  it("a compose service named like a declared datastore is that datastore whatever its image", () => {
    const file = parseComposeText(
      "services:\n  cache:\n    image: myorg/kv:1\n    ports: ['7000:7000']\n",
      "c.yaml",
      {
        cache: "redis",
      },
    );
    expect(file.services[0]).toMatchObject({ kind: "redis", kindFrom: "spec" });
  });

  it("reports a YAML error with its line", () => {
    expect(parseComposeText("services:\n  db:\n   image: [\n", "bad.yaml", {}).error).toMatch(
      /^bad\.yaml:\d+:\d+: not valid YAML/,
    );
  });
});
