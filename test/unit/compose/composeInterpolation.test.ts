// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's ${VAR} templates are the inputs under test.
// Compose's interpolation as compose-go's template package does it, and the .env file as its dotenv parser reads it.
import { describe, expect, it } from "vitest";
import {
  hasInterpolation,
  interpolate,
  type Lookup,
  parseDotEnv,
} from "../../../src/engines/compose/composeInterpolation.js";

const env =
  (values: Record<string, string>): Lookup =>
  (name) =>
    values[name];

describe("interpolate", () => {
  const lookup = env({ SET: "value", EMPTY: "", TAG: "1.27", OTHER: "other" });

  it.each([
    ["${SET}", "value"],
    ["$SET", "value"],
    ["pre-${SET}-post", "pre-value-post"],
    ["${UNSET}", ""],
    ["${SET:-default}", "value"],
    ["${EMPTY:-default}", "default"],
    ["${UNSET:-default}", "default"],
    ["${EMPTY-default}", ""],
    ["${UNSET-default}", "default"],
    ["${SET:+replaced}", "replaced"],
    ["${EMPTY:+replaced}", ""],
    ["${EMPTY+replaced}", "replaced"],
    ["${UNSET+replaced}", ""],
    ["${UNSET:-${OTHER}}", "other"],
    ["${UNSET:-${ALSO_UNSET:-deep}}", "deep"],
    ["${UNSET:-a}-${UNSET:-b}", "a-b"],
    ["nginx:${TAG:-latest}", "nginx:1.27"],
    ["$$SET", "$SET"],
    ["$${SET}", "${SET}"],
    ["cost $5", "cost $5"],
    ["trailing $", "trailing $"],
    ["${UNSET:-with:colon and spaces}", "with:colon and spaces"],
  ])("%s → %j", (template, expected) => {
    const result = interpolate(template, lookup);
    expect(result.error).toBeUndefined();
    expect(result.value).toBe(expected);
  });

  it("names the variables read without a value, once each", () => {
    expect(interpolate("${A}-$A-${B:-x}-${C}", lookup).unset).toEqual(["A", "C"]);
  });

  it("reports ${VAR:?msg} and ${VAR?msg} with the message, as compose refuses the file", () => {
    expect(interpolate("${UNSET:?set UNSET first}", lookup).missingRequired).toEqual([
      { name: "UNSET", message: "set UNSET first" },
    ]);
    expect(interpolate("${EMPTY:?}", lookup).missingRequired).toHaveLength(1);
    expect(interpolate("${EMPTY?}", lookup).missingRequired).toHaveLength(0);
    expect(interpolate("${SET:?x}", lookup)).toMatchObject({ value: "value", missingRequired: [] });
  });

  it.each(["${}", "${ SET}", "${SET", "${1X}", "${SET/a/b}", "x ${SET:-unclosed"])(
    "%j is not a template compose accepts",
    (template) => {
      const result = interpolate(template, lookup);
      expect(result.error).toBeDefined();
      expect(template.slice(result.error!.offset)).toMatch(/^\$\{/);
    },
  );

  it("says which uses are optional: a default, a :+ form, or inside another's default", () => {
    const uses = interpolate("${A} ${B:-x} ${C:?e} ${D:+y} ${E:-${F}} $G", lookup).uses;
    expect(uses.map((u) => [u.name, u.optional])).toEqual([
      ["A", false],
      ["B", true],
      ["C", false],
      ["D", true],
      ["E", true],
      ["F", true],
      ["G", false],
    ]);
    expect(uses[0]!.offset).toBe(0);
    expect(uses[1]!.offset).toBe(5);
  });

  it("tells whether a text holds anything to interpolate", () => {
    expect(hasInterpolation("${A}")).toBe(true);
    expect(hasInterpolation("$A")).toBe(true);
    expect(hasInterpolation("$$A")).toBe(false);
    expect(hasInterpolation("plain")).toBe(false);
  });
});

describe("parseDotEnv", () => {
  it("reads the forms compose reads", () => {
    const text = [
      "# comment",
      "PLAIN=value",
      "export EXPORTED=yes",
      "SPACED = around ",
      "YAML_STYLE: colon",
      "INLINE=kept # cut here",
      "HASH=no#comment",
      "SINGLE='literal ${PLAIN} \\n'",
      'DOUBLE="tab\\there ${PLAIN}"',
      'MULTI="line one',
      'line two"',
      "REF=${PLAIN}-${FROM_SHELL:-fallback}",
      "ESCAPED=$${PLAIN}",
      "EMPTY=",
      "",
    ].join("\n");
    const parsed = parseDotEnv(text);
    expect(parsed.error).toBeUndefined();
    expect(Object.fromEntries(parsed.entries.map((e) => [e.name, e.value]))).toEqual({
      PLAIN: "value",
      EXPORTED: "yes",
      SPACED: "around",
      YAML_STYLE: "colon",
      INLINE: "kept",
      HASH: "no#comment",
      SINGLE: "literal ${PLAIN} \\n",
      DOUBLE: "tab\there value",
      MULTI: "line one\nline two",
      REF: "value-fallback",
      ESCAPED: "${PLAIN}",
      EMPTY: "",
    });
    expect(parsed.entries.find((e) => e.name === "REF")!.line).toBe(12);
  });

  it("takes a bare name from the environment, and lets values use it", () => {
    const parsed = parseDotEnv("FROM_SHELL\nUSE=${FROM_SHELL}x\n", env({ FROM_SHELL: "s" }));
    expect(parsed.entries.map((e) => [e.name, e.value])).toEqual([
      ["FROM_SHELL", "s"],
      ["USE", "sx"],
    ]);
  });

  it("refuses what compose refuses, with the line", () => {
    expect(parseDotEnv("OK=1\nBAD KEY=2\n").error).toMatchObject({ line: 2 });
    expect(parseDotEnv('A="never closed\nB=1\n').error).toMatchObject({ line: 1 });
    expect(parseDotEnv("A=${bad\n").error).toMatchObject({ line: 1 });
  });

  it("reads the real .env files of docker/awesome-compose", async () => {
    const { readFileSync } = await import("node:fs");
    const text = readFileSync("test/fixtures/compose/awesome-compose/wireguard/.env", "utf8");
    expect(parseDotEnv(text).entries.map((e) => [e.name, e.value])).toEqual([
      ["TIMEZONE", "Etc/UTC"],
      ["VPN_SERVER_URL", "your-domain.dyndns.com"],
    ]);
  });
});
