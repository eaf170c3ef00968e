// The static id list the CLI uses (src/checks/ids.ts) must name exactly the registered checks, in the registry's
// order: a check added to src/checks/index.ts and not to ids.ts would be unknown to validate, waivers and --only.
import { describe, expect, it } from "vitest";
import { CHECK_IDS } from "../../../src/checks/ids.js";
import { checkIds } from "../../../src/checks/index.js";

describe("CHECK_IDS", () => {
  const listed: readonly string[] = CHECK_IDS;
  const registered = checkIds();

  it("lists every registered check", () => {
    const missing = registered.filter((id) => !listed.includes(id));
    expect(
      missing,
      `add ${missing.map((id) => `"${id}"`).join(", ")} to CHECK_IDS in src/checks/ids.ts`,
    ).toEqual([]);
  });

  it("lists no id the registry lacks", () => {
    const extra = listed.filter((id) => !registered.includes(id));
    expect(
      extra,
      `remove ${extra.map((id) => `"${id}"`).join(", ")} from CHECK_IDS in src/checks/ids.ts`,
    ).toEqual([]);
  });

  it("is in the registry's order, once each", () => {
    expect([...listed], "sort CHECK_IDS in src/checks/ids.ts as src/checks/index.ts sorts them").toEqual(
      registered,
    );
  });
});
