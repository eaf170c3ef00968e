import { describe, expect, it } from "vitest";
import { shellCommands } from "../../../../src/engines/dockerfile/shellCommands.js";

const programs = (script: string) => shellCommands(script).map((c) => [c.program, ...c.args]);

describe("shellCommands", () => {
  it("splits on && || ; | and newlines, removing quotes", () => {
    expect(programs(`apt-get update && apt-get install -y "curl" 'git' ; echo "a b" || true\nls -l`)).toEqual(
      [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "curl", "git"],
        ["echo", "a b"],
        ["true"],
        ["ls", "-l"],
      ],
    );
  });

  it("strips assignments and wrappers (sudo with its options, env)", () => {
    const [a, b] = shellCommands(
      "DEBIAN_FRONTEND=noninteractive sudo -E -u root apt-get install -y x; env -i PATH=/bin sh -c 'echo'",
    );
    expect(a).toMatchObject({ program: "apt-get", assignments: ["DEBIAN_FRONTEND=noninteractive"] });
    expect(b).toMatchObject({ program: "sh", args: ["-c", "echo"], assignments: ["PATH=/bin"] });
  });

  it("links a pipeline's commands and tells where each starts", () => {
    const commands = shellCommands("curl -fsSL https://x.example/i.sh | sudo bash -s -- --yes");
    expect(commands.map((c) => [c.program, c.offset, c.pipeFrom])).toEqual([
      ["curl", 0, undefined],
      ["bash", 36, 0],
    ]);
  });

  it("lists commands inside $( ), backticks and <( ) as nested, and keeps the outer word as written", () => {
    const commands = shellCommands(
      'sh -c "$(curl -fsSL https://x.example/i.sh)" && bash <(wget -qO- u) && echo `date`',
    );
    expect(commands.map((c) => [c.program, c.nested])).toEqual([
      ["curl", true],
      ["sh", false],
      ["wget", true],
      ["bash", false],
      ["date", true],
      ["echo", false],
    ]);
    expect(commands[1]!.args).toEqual(["-c", "$(curl -fsSL https://x.example/i.sh)"]);
  });

  it("does not read here-document bodies, comments, redirection targets or keywords as commands", () => {
    expect(
      programs(
        "cat > /etc/x.conf <<'EOF'\napt-get install evil\nEOF\n# rm -rf /\nif [ -f a ]; then make 2>/dev/null; fi\nfor f in a b; do cp $f /t; done",
      ),
    ).toEqual([["cat"], ["[", "-f", "a", "]"], ["make"], ["cp", "$f", "/t"]]);
  });

  it("joins escaped line ends and keeps $(( )) arithmetic as one word", () => {
    expect(programs("apt-get install \\\n  -y x && echo $((1 + 2))")).toEqual([
      ["apt-get", "install", "-y", "x"],
      ["echo", "$((1 + 2))"],
    ]);
  });
});
