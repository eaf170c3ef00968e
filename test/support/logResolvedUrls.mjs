// `node --import ./test/support/logResolvedUrls.mjs …`: appends every URL the ES module loader resolves to the file
// named by GAUNTLET_RESOLVE_LOG, one a line, so a test can see which modules a command really loads.
import { register } from "node:module";

const file = process.env.GAUNTLET_RESOLVE_LOG;
if (!file) throw new Error("logResolvedUrls.mjs: set GAUNTLET_RESOLVE_LOG to the file the URLs go to");
register(new URL("./logResolvedUrlsHooks.mjs", import.meta.url), { data: { file } });
