// Loading OSV advisories: the fixture folder, an osv.dev-shaped all.zip built here with fflate, single files, and
// broken input, which must be located and leave the rest usable.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { strToU8, zipSync } from "fflate";
import { afterEach, describe, expect, it } from "vitest";
import { loadAdvisories, packageKey } from "../../../../src/engines/advisories/sources.js";

const OSV = path.resolve(import.meta.dirname, "../../../fixtures/osv");
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-osv-"));
  made.push(dir);
  return dir;
}

const wanted = new Set([
  packageKey("npm", "lodash"),
  packageKey("npm", "minimist"),
  packageKey("PyPI", "pyyaml"),
  packageKey("Go", "golang.org/x/text"),
  packageKey("crates.io", "regex"),
]);

/** An all.zip as osv.dev publishes it: one <ID>.json per advisory at the top of the archive. */
function allZip(ecosystem: string, extra: Record<string, Uint8Array> = {}): Uint8Array {
  const files: Record<string, Uint8Array> = { ...extra };
  for (const file of readdirSync(path.join(OSV, ecosystem))) {
    files[file] = readFileSync(path.join(OSV, ecosystem, file));
  }
  return zipSync(files, { level: 6 });
}

describe("loadAdvisories", () => {
  it("reads the fixture folder recursively and counts advisories per ecosystem", async () => {
    const loaded = await loadAdvisories(["osv"], path.dirname(OSV), wanted);
    expect(loaded.perEcosystem).toEqual({ npm: 5, PyPI: 3, Go: 2, "crates.io": 1 });
    const [source] = loaded.sources;
    expect(source).toMatchObject({ path: "osv", kind: "folder", files: 11, invalid: 0, withdrawn: 0 });
    expect(
      loaded.relevant
        .get(packageKey("npm", "lodash"))
        ?.map((a) => a.id)
        .sort(),
    ).toEqual(["GHSA-35jh-r3h4-6jhm", "GHSA-jf85-cpcp-j695", "GHSA-p6mc-m468-83gw"]);
    expect(
      loaded.relevant
        .get(packageKey("PyPI", "pyyaml"))
        ?.map((a) => a.id)
        .sort(),
    ).toEqual(["GHSA-8q59-q68h-6hv4", "PYSEC-2021-142"]);
    // requests is not in any lockfile here: counted, not kept.
    expect(loaded.relevant.has(packageKey("PyPI", "requests"))).toBe(false);
  });

  it("streams an osv.dev all.zip, entry by entry", async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, "all.zip"),
      allZip("npm", {
        "README.txt": strToU8("not an advisory"),
        "GHSA-wdrn-0000-0000.json": strToU8(
          JSON.stringify({ id: "GHSA-wdrn-0000-0000", withdrawn: "2022-01-01T00:00:00Z", affected: [] }),
        ),
      }),
    );
    const loaded = await loadAdvisories(["all.zip"], dir, wanted);
    expect(loaded.sources[0]).toMatchObject({
      kind: "zip",
      files: 6,
      withdrawn: 1,
      invalid: 0,
      perEcosystem: { npm: 5 },
    });
    expect(
      loaded.relevant
        .get(packageKey("npm", "minimist"))
        ?.map((a) => a.source)
        .sort(),
    ).toEqual(["all.zip:GHSA-vh95-rmgr-6w4m.json", "all.zip:GHSA-xvch-5gv4-984h.json"]);
  });

  it("a large archive: thousands of entries, only the relevant ones kept", async () => {
    const dir = tempDir();
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 5000; i++) {
      files[`MAL-2024-${i}.json`] = strToU8(
        JSON.stringify({
          id: `MAL-2024-${i}`,
          summary: "Malicious code in a typosquatted package",
          affected: [{ package: { ecosystem: "npm", name: `typo-${i}` }, versions: ["1.0.0"] }],
        }),
      );
    }
    files["MAL-2024-lodash.json"] = strToU8(
      JSON.stringify({
        id: "MAL-2024-lodash",
        affected: [{ package: { ecosystem: "npm", name: "lodash" }, versions: ["9.9.9"] }],
      }),
    );
    writeFileSync(path.join(dir, "all.zip"), zipSync(files));
    const loaded = await loadAdvisories(["all.zip"], dir, wanted);
    expect(loaded.perEcosystem.npm).toBe(5001);
    expect(loaded.relevant.get(packageKey("npm", "lodash"))?.map((a) => a.id)).toEqual(["MAL-2024-lodash"]);
  });

  it("several sources: an id in two of them counts once", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "npm.zip"), allZip("npm"));
    cpSync(OSV, path.join(dir, "osv"), { recursive: true });
    const loaded = await loadAdvisories(["npm.zip", "osv"], dir, wanted);
    expect(loaded.perEcosystem.npm).toBe(5);
    expect(loaded.relevant.get(packageKey("npm", "lodash"))).toHaveLength(3);
    expect(loaded.sources.map((s) => [s.path, s.kind, s.files])).toEqual([
      ["npm.zip", "zip", 5],
      ["osv", "folder", 11],
    ]);
  });

  it("a broken file is a located problem; the others are still used", async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, "db/npm"), { recursive: true });
    cpSync(path.join(OSV, "npm/GHSA-jf85-cpcp-j695.json"), path.join(dir, "db/npm/GHSA-jf85-cpcp-j695.json"));
    writeFileSync(
      path.join(dir, "db/npm/broken.json"),
      '{\n  "id": "GHSA-broken",\n  "affected": [\n    {"package": }\n  ]\n}\n',
    );
    writeFileSync(
      path.join(dir, "db/bad-range.json"),
      JSON.stringify({
        id: "GHSA-bad",
        affected: [{ package: { ecosystem: "npm", name: "x" }, ranges: [{ type: "SEMVER" }] }],
      }),
    );
    writeFileSync(
      path.join(dir, "db/list.json"),
      JSON.stringify([{ id: "GHSA-ok", affected: [] }, { summary: "no id" }]),
    );
    const loaded = await loadAdvisories(["db"], dir, wanted);
    const [source] = loaded.sources;
    expect(source?.invalid).toBe(3);
    expect(source?.problems).toEqual([
      {
        file: "db/bad-range.json",
        message: "db/bad-range.json: GHSA-bad: affected[0].ranges[0].events is not a list of events",
      },
      { file: "db/list.json[1]", message: 'db/list.json[1]: "id" is missing: an OSV advisory has an id' },
      {
        file: "db/npm/broken.json",
        line: 4,
        column: 17,
        message:
          'db/npm/broken.json is not valid JSON at line 4, column 17: unexpected "}": expected a value',
      },
    ]);
    expect(loaded.relevant.get(packageKey("npm", "lodash"))?.map((a) => a.id)).toEqual([
      "GHSA-jf85-cpcp-j695",
    ]);
    expect(loaded.perEcosystem.npm).toBe(1);
  });

  it("says why a source gives nothing: missing, not a zip, empty", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "notes.txt"), "hello");
    writeFileSync(
      path.join(dir, "broken.zip"),
      Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(64, 7)]),
    );
    mkdirSync(path.join(dir, "empty"));
    const url = "https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip";
    const loaded = await loadAdvisories([url, "missing", "notes.txt", "broken.zip", "empty"], dir, wanted);
    expect(loaded.sources[0]?.error).toBe(
      `${url} is a URL: Gauntlet reads advisories from files only. Download it first (curl -fLo advisories/all.zip ${url}) and name the file`,
    );
    expect(loaded.sources.slice(1).map((s) => [s.kind, s.error?.replace(/:.*$/s, "")])).toEqual([
      ["missing", "missing does not exist"],
      ["file", undefined],
      ["zip", "broken.zip"],
      ["folder", "empty holds no .json file"],
    ]);
    expect(loaded.sources[2]?.problems[0]?.message).toMatch(
      /^notes.txt is not valid JSON at line 1, column 1/,
    );
  });
});
