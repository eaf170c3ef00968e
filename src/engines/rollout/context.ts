// What a rollout needs of its caller, declared here because engines sit below core: the CLI builds one, and a check's
// context is one (its spec folder, environment, secrets and evidence writer).
import type { Redactor } from "../../secrets/redactor.js";

export interface RolloutContext {
  /** The spec's folder: shift commands run there. */
  specDir: string;
  /** The environment shift commands get (the user's own splitter may need KUBECONFIG, tokens…). */
  env: NodeJS.ProcessEnv;
  /** The run's secrets: command output and evidence are redacted with them. */
  secrets: Redactor;
  /** Evidence files (shift output, each analysis' samples); the name returned is what results cite. */
  evidence?: { write(name: string, content: string | Uint8Array): Promise<string> };
  log?: (line: string) => void;
}
