import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { it } from "vitest";
import { loadComposeProject } from "../../../src/engines/compose/composeProject.js";
const cases: Record<string, string> = {
  unknownKey: "services:\n  web:\n    image: nginx:1.25\n    restrat: always\n    helthcheck:\n      test: [CMD, true]\n",
  badEnum: "services:\n  web:\n    image: nginx:1.25\n    restart: sometimes\n    depends_on:\n      db:\n        condition: service_ok\n  db:\n    image: postgres:16\n",
  unknownDep: "services:\n  web:\n    image: nginx:1.25\n    depends_on:\n      - dbb\n  db:\n    image: postgres:16\n",
  badIndent: "services:\n  web:\n    image: nginx:1.25\n     ports:\n      - \"80:80\"\n",
  wrongType: "services:\n  web:\n    image: nginx:1.25\n    ports: \"80:80\"\n    privileged: maybe\n    healthcheck:\n      interval: 30\n",
  refs: "services:\n  web:\n    image: nginx:1.25\n    networks: [front]\n    volumes:\n      - data:/data\n      - ./x:/x\n    secrets: [pw]\n    links: [cache:c]\n    network_mode: host\n  job:\n    build: .\n    depends_on: [job2]\n  job2:\n    image: x:1\n    depends_on: [job]\n  nothing:\n    restart: always\n",
  interp: "services:\n  web:\n    image: \"nginx:${TAG:?set TAG}\"\n    command: echo ${ bad }\n    restart: ${RESTART:-sometimes}\n    environment:\n      A: $${NOT}\n",
  merge: "x-common: &common\n  restart: always\n  helthcheck: {}\nservices:\n  web:\n    <<: *common\n    image: nginx:1.25\n",
  newSpec: "name: shop\ninclude:\n  - other.yaml\nservices:\n  web:\n    image: nginx:1.25\n    depends_on: [api]\n    develop:\n      watch:\n        - path: ./src\n          action: sync\n          target: /app\n    profiles: [dev]\n    x-foo: 1\n",
};
it("smoke", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cs-"));
  writeFileSync(path.join(dir, "other.yaml"), "services:\n  api:\n    image: api:1\n");
  for (const [name, text] of Object.entries(cases)) {
    const f = path.join(dir, `${name}.yaml`);
    writeFileSync(f, text);
    const p = await loadComposeProject(f, { root: dir });
    console.log(name, p.services.map(s=>s.name), p.problems.map((e) => `${e.severity} ${e.kind} ${e.file}:${e.line}:${e.column} ${e.message}`));
  }
});
