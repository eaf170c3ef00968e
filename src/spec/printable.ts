// Text from a spec (or any file) shown to a person: control characters, escape sequences and invisible or
// direction-changing characters are written out as \n, \u001b, \u202e, so a spec can neither move the cursor, recolour
// or clear the terminal, nor make a line read differently from what it says (Trojan Source).

// C0 and C1 controls and DEL (ESC among them: escaping it defuses every escape sequence), the Arabic letter mark,
// zero-width and direction marks, line and paragraph separators, bidi embeddings, overrides and isolates, the BOM.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;
const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with every unprintable character replaced by its escape; one line stays one line. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
