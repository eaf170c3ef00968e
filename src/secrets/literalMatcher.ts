// Finds every occurrence of a set of literal strings in one pass (Aho–Corasick), so redaction stays linear in the text
// whatever it holds and however many forms are registered; a regex alternation promises neither.

/** A span of text to replace: [start, end) in UTF-16 code units. */
export type Span = readonly [start: number, end: number];

export class LiteralMatcher {
  /** Transitions of every state but the root; the root's are dense, since most characters of a text start nothing. */
  readonly #next: Map<number, number>[] = [new Map()];
  readonly #root = new Int32Array(65_536);
  /** Length of the longest pattern that ends at this state (itself or through its failure links); 0 for none. */
  readonly #longest: number[] = [0];
  readonly #fail: Int32Array;

  constructor(patterns: Iterable<string>) {
    for (const pattern of patterns) {
      if (pattern.length === 0) continue;
      let state = 0;
      for (let i = 0; i < pattern.length; i++) {
        const code = pattern.charCodeAt(i);
        let next = this.#next[state]!.get(code);
        if (next === undefined) {
          next = this.#next.length;
          this.#next.push(new Map());
          this.#longest.push(0);
          this.#next[state]!.set(code, next);
        }
        state = next;
      }
      this.#longest[state] = Math.max(this.#longest[state]!, pattern.length);
    }
    this.#fail = new Int32Array(this.#next.length);
    const queue: number[] = [];
    for (const [code, child] of this.#next[0]!) {
      this.#root[code] = child;
      queue.push(child);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      for (const [code, child] of this.#next[state]!) {
        let fallback = this.#fail[state]!;
        while (fallback !== 0 && !this.#next[fallback]!.has(code)) fallback = this.#fail[fallback]!;
        this.#fail[child] = fallback === 0 ? this.#root[code]! : this.#next[fallback]!.get(code)!;
        this.#longest[child] = Math.max(this.#longest[child]!, this.#longest[this.#fail[child]!]!);
        queue.push(child);
      }
    }
  }

  /** Where any pattern occurs, overlapping occurrences merged into one span; sorted, disjoint. */
  spans(text: string): Span[] {
    const found: [number, number][] = [];
    const next = this.#next;
    const fail = this.#fail;
    const root = this.#root;
    const longest = this.#longest;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      let target = state === 0 ? root[code]! : next[state]!.get(code);
      while (target === undefined) {
        state = fail[state]!;
        target = state === 0 ? root[code]! : next[state]!.get(code);
      }
      state = target;
      const length = longest[state]!;
      if (length === 0) continue;
      // Every pattern ending here lies inside the longest one, so that one is all a span needs.
      // Spans found so far end at or before i, so an overlapping one only moves this one's start back.
      let start = i + 1 - length;
      while (found.length > 0 && found[found.length - 1]![1] > start) {
        start = Math.min(start, found.pop()![0]);
      }
      found.push([start, i + 1]);
    }
    return found;
  }
}
