import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../../../../src/engines/dockerfile/parse.js";
import { dockerfilePosition, runScripts } from "../../../../src/engines/dockerfile/runScripts.js";

describe("runScripts", () => {
  it("joins continuations as Docker does, drops comment and empty lines inside, and maps positions back", () => {
    const model = parseDockerfile(
      "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/apk apk add curl && \\\n    # a comment Docker drops\n\n    echo $x\n",
    );
    const [script] = runScripts(model);
    expect(script!.text).toBe("apk add curl &&     echo $x");
    expect(script!.mounts).toEqual(["type=cache,target=/var/cache/apk"]);
    // `$x` is at column 25 of the joined script line 1; in the Dockerfile it is line 5, column 10.
    expect(dockerfilePosition(script!, 1, script!.text.indexOf("$x") + 1)).toEqual({ line: 5, column: 10 });
    // The first word sits after the flag on the RUN line.
    expect(dockerfilePosition(script!, 1, 1)).toEqual({ line: 2, column: 46 });
  });

  it("runs the body of a RUN that is only a here-document, with the shell it names or its shebang", () => {
    const model = parseDockerfile(
      "FROM debian:12\nRUN <<EOF\nset -e\napt-get update\nEOF\nRUN <<EOT bash\necho $BASH_VERSION\nEOT\nRUN <<PY\n#!/usr/bin/env python3\nprint(1)\nPY\nRUN cat > /a <<EOF\nnot a command\nEOF\n",
    );
    const scripts = runScripts(model);
    expect(scripts.map((s) => [s.instructionLine, s.heredocOnly, s.shell])).toEqual([
      [2, true, "sh"],
      [6, true, "bash"],
      [9, true, "python3"],
      [13, false, "sh"],
    ]);
    expect(scripts[0]!.text).toBe("set -e\napt-get update\n");
    expect(dockerfilePosition(scripts[0]!, 2, 1)).toEqual({ line: 4, column: 1 });
    expect(scripts[3]!.text).toBe("cat > /a <<EOF\nnot a command\nEOF\n");
  });

  it("follows SHELL, also into a stage built on another, and skips exec-form RUN", () => {
    const model = parseDockerfile(
      'FROM debian:12 AS base\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN echo a\nFROM base\nRUN echo b\nRUN ["echo", "c"]\nFROM debian:12\nRUN echo d\n',
    );
    expect(runScripts(model).map((s) => [s.instructionLine, s.shell])).toEqual([
      [3, "bash"],
      [5, "bash"],
      [8, "sh"],
    ]);
  });
});
