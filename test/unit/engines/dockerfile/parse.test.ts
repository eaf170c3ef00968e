// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile ${VAR} references are the subject under test.
import { describe, expect, it } from "vitest";
import { parseDockerfile, substituteVariables } from "../../../../src/engines/dockerfile/parse.js";
import { imagePinning, parseImageReference } from "../../../../src/engines/images/imageReference.js";

describe("parseDockerfile", () => {
  it("reads stages, their bases (global ARG defaults substituted) and which stage builds on which", () => {
    const model = parseDockerfile(
      [
        "ARG NODE=20.11",
        "ARG REGISTRY",
        "FROM node:${NODE}-alpine AS build",
        "FROM build AS test",
        "FROM ${REGISTRY}/app:1",
        "FROM --platform=linux/arm64 scratch",
        "",
      ].join("\n"),
    );
    expect(model.globalArgs).toEqual({ NODE: "20.11", REGISTRY: null });
    expect(
      model.stages.map((s) => [s.line, s.resolvedImage, s.alias ?? null, s.parent ?? null, s.unresolved]),
    ).toEqual([
      [3, "node:20.11-alpine", "build", null, []],
      [4, "build", "test", 0, []],
      [5, null, null, null, ["REGISTRY"]],
      [6, "scratch", null, null, []],
    ]);
    expect(model.stages[3]!.platform).toBe("linux/arm64");
  });

  it("reads hadolint pragmas: inline ones apply to the next instruction, global ones to the file", () => {
    const model = parseDockerfile(
      "# hadolint global ignore=DL3057\n# hadolint ignore=DL3006,DL3007 # base is pinned by the registry\nFROM node\n\n# hadolint ignore=sc2086\n\nRUN echo $x && \\\n  # hadolint ignore=DL3003\n  cd /tmp\n",
    );
    expect(model.pragmas).toEqual([
      { line: 1, ids: ["DL3057"], global: true },
      { line: 2, ids: ["DL3006", "DL3007"], global: false, appliesTo: 3 },
      { line: 5, ids: ["SC2086"], global: false, appliesTo: 7 },
    ]);
  });

  it("reads ENV/ARG pairs with their positions and quoting, and exec form as JSON", () => {
    const model = parseDockerfile(
      'FROM a:1\nENV A=1 B="two words" \\\n    C=3\nARG D\nCMD ["node", "s.js"]\nCMD node s.js\nCMD [oops\n',
    );
    expect(
      model.instructions[1]!.properties.map((p) => [p.name, p.value, p.quoted, p.line, p.column]),
    ).toEqual([
      ["A", "1", false, 2, 5],
      ["B", "two words", true, 2, 9],
      ["C", "3", false, 3, 5],
    ]);
    expect(model.instructions[2]!.properties[0]).toMatchObject({ name: "D", value: null });
    expect(model.instructions.slice(3).map((i) => i.json)).toEqual([["node", "s.js"], null, null]);
  });

  it("substitutes variables as Docker does", () => {
    expect(substituteVariables("${A:-x}-${B:+y}-$C-${D}", { A: "", B: "b", C: "c", D: null })).toEqual({
      text: "x-y-c-",
      unresolved: ["D"],
    });
  });
});

describe("image references", () => {
  it.each([
    ["node", { repository: "node" }, "untagged"],
    ["node:latest", { repository: "node", tag: "latest" }, "latest"],
    [
      "localhost:5000/team/api:1.2",
      { registry: "localhost:5000", repository: "team/api", tag: "1.2" },
      "tag",
    ],
    ["ghcr.io/o/i@sha256:abc", { registry: "ghcr.io", repository: "o/i", digest: "sha256:abc" }, "digest"],
    [
      "gcr.io/distroless/static:nonroot@sha256:abc",
      { registry: "gcr.io", repository: "distroless/static", tag: "nonroot", digest: "sha256:abc" },
      "digest",
    ],
  ])("%s", (ref, parsed, pinning) => {
    expect(parseImageReference(ref)).toEqual(parsed);
    expect(imagePinning(ref)).toBe(pinning);
  });
});
