// A process and everything it started, found through /proc by parent pid. Signalling only a process group misses the
// children that left it: PostgreSQL's backends each call setsid(), so a SIGSTOP to the postmaster's group freezes the
// postmaster alone while every pooled connection keeps answering. A freeze must reach the whole tree.
import { readdir, readFile } from "node:fs/promises";

/** pid and its descendants, parents before children; [pid] alone without /proc. */
export async function processTree(pid: number, procDir = "/proc"): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir(procDir).catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`${procDir}/${entry}/stat`, "utf8").catch(() => "");
    if (!stat) continue;
    // Fields after the parenthesised name (which may hold spaces): state ppid …
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const tree: number[] = [];
  const visit = (p: number) => {
    if (tree.includes(p)) return;
    tree.push(p);
    for (const child of children.get(p) ?? []) visit(child);
  };
  visit(pid);
  return tree;
}

/** Sends `signal` to every process of the tree (parents first, so none forks a fresh child meanwhile). */
export async function signalTree(pid: number, signal: NodeJS.Signals): Promise<number> {
  let reached = 0;
  for (const p of await processTree(pid)) {
    try {
      process.kill(p, signal);
      reached += 1;
    } catch {
      // exited meanwhile
    }
  }
  return reached;
}
