// The tool version recorded in every assessment and certificate, read from package.json at run time.
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

export const TOOL_VERSION: string = pkg.version;
