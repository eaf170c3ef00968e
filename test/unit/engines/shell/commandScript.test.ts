import { describe, expect, it } from "vitest";
import { scriptOfCommand } from "../../../../src/engines/shell/commandScript.js";

describe("scriptOfCommand", () => {
  it.each([
    ["./scripts/rollback.sh", "./scripts/rollback.sh"],
    ["./scripts/rollback.sh --to 1.0.0", "./scripts/rollback.sh"],
    ["scripts/rollback.sh", "scripts/rollback.sh"],
    ["/opt/app/bin/rollback", "/opt/app/bin/rollback"],
    ["bash scripts/rollback.sh", "scripts/rollback.sh"],
    ["/bin/sh -e scripts/rollback.sh previous", "scripts/rollback.sh"],
    ["bash -o pipefail -x rollback.sh", "rollback.sh"],
    ["bash -- rollback.sh", "rollback.sh"],
    ["  sh   ./undo.sh  ", "./undo.sh"],
  ])("%j runs the script %j", (command, script) => {
    expect(scriptOfCommand(command)).toBe(script);
  });

  it.each([
    "kubectl rollout undo deployment/api",
    "make rollback",
    "rollback.sh",
    "bash -c './scripts/rollback.sh'",
    "bash -ec 'x'",
    "bash",
    "cd deploy && ./rollback.sh",
    '"./scripts/roll back.sh"',
    "$HOME/rollback.sh",
    "",
  ])("%j names no script of the repository", (command) => {
    expect(scriptOfCommand(command)).toBeNull();
  });
});
