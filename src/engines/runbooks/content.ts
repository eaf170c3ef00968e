// What a runbook holds, counted: words of text outside headings and code, actionable steps (list items, code
// blocks, commands written inline with their arguments), and unfilled placeholders (TODO, TBD, FIXME, <fill in>, lorem ipsum…). Markdown (and the plain-text
// forms of AsciiDoc and reStructuredText close enough to it), or HTML reduced to the same shape first: the page's
// article or main element, without navigation, scripts and styles. Pure; the criteria live in the check that judges.

export type RunbookFormat = "markdown" | "html";

export interface RunbookContent {
  /** Words outside headings, code and placeholder lines (list items and table cells count). */
  words: number;
  /** List items with at least two words of their own (not placeholders). */
  listSteps: number;
  /** Fenced code blocks with at least one line that is not a placeholder. */
  codeBlocks: number;
  /** Lines of prose (not list items) holding a command written inline with its arguments (`kubectl get pods`). */
  inlineCommands: number;
  headings: number;
  /** Lines of text (not headings, not code) with no placeholder. */
  contentLines: number;
  /** Lines holding an unfilled placeholder, with the first few (line number in the measured text, excerpt). */
  placeholderLines: number;
  placeholders: { line: number; text: string }[];
  /** For HTML: which part of the page was measured. */
  htmlPart?: "article" | "main" | "body" | "document";
}

const PLACEHOLDER_PATTERNS: RegExp[] = [
  /\b(?:TODO|TBD|FIXME)\b/i,
  /\bXXX\b/,
  /\blorem ipsum\b/i,
  /\bdolor sit amet\b/i,
  /<\s*(?:fill[ -]?(?:in|me)|describe|insert|add|write|enter|replace|placeholder|todo|tbd)\b[^<>]*>/i,
  /\[\s*(?:fill[ -]?(?:in|me)|describe|insert|write|placeholder|todo|tbd)\b[^\]]*\](?!\()/i,
  /\((?:fill[ -]?in|to be (?:written|completed|documented|defined|added))\)/i,
  /\bto be (?:written|completed|documented|filled in)\b/i,
  /\bcoming soon\b/i,
  /\b(?:add|describe|insert|write|fill in|put)\b[^.\n]{0,40}\bhere\b/i,
];

const MAX_EXCERPTS = 5;

/** The first placeholder pattern a line of text matches, or null. */
export function placeholderIn(text: string): string | null {
  for (const pattern of PLACEHOLDER_PATTERNS) {
    const match = pattern.exec(text);
    if (match) return match[0];
  }
  return null;
}

export function measureRunbook(text: string, format: RunbookFormat): RunbookContent {
  if (format === "html") {
    const { markdown, part } = htmlToMarkdown(text);
    return { ...measureMarkdown(markdown), htmlPart: part };
  }
  return measureMarkdown(text);
}

function measureMarkdown(source: string): RunbookContent {
  const result: RunbookContent = {
    words: 0,
    listSteps: 0,
    codeBlocks: 0,
    inlineCommands: 0,
    headings: 0,
    contentLines: 0,
    placeholderLines: 0,
    placeholders: [],
  };
  const lines = withoutComments(withoutFrontMatter(source.replace(/\r\n?/g, "\n"))).split("\n");
  let fence: { marker: string; real: boolean } | null = null;
  let previousText: { words: number; list: boolean } | null = null;
  const placeholder = (index: number, text: string) => {
    result.placeholderLines++;
    if (result.placeholders.length < MAX_EXCERPTS)
      result.placeholders.push({ line: index + 1, text: text.trim().slice(0, 120) });
  };
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/\t/g, "    ");
    const trimmed = line.trim();
    if (fence) {
      if (trimmed.startsWith(fence.marker) && trimmed.replace(/[`~]/g, "") === "") {
        if (fence.real) result.codeBlocks++;
        fence = null;
      } else if (trimmed !== "") {
        // A command may hold a parameter like <namespace>; only a bare TODO-style line is no command.
        if (/^(?:#|\/\/|--)?\s*(?:TODO|TBD|FIXME)\b/i.test(trimmed)) {
          placeholder(index, trimmed);
        } else fence.real = true;
      }
      continue;
    }
    const opening = /^(`{3,}|~{3,})/.exec(trimmed);
    if (opening) {
      fence = { marker: opening[1]!, real: false };
      previousText = null;
      continue;
    }
    if (trimmed === "") {
      previousText = null;
      continue;
    }
    // A setext or reStructuredText underline makes the line above it a heading.
    if (/^(?:=+|-+|~+|\^+|\*+|#+|"+|'+|`+|\++)$/.test(trimmed) && trimmed.length >= 3) {
      if (previousText && !previousText.list) {
        result.words -= previousText.words;
        result.contentLines--;
        result.headings++;
      }
      previousText = null;
      continue;
    }
    if (/^(?:#{1,6}|={1,6})\s+\S/.test(trimmed) || /^#{1,6}$/.test(trimmed)) {
      result.headings++;
      previousText = null;
      continue;
    }
    if (/^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$/.test(trimmed)) continue; // a table's separator row
    const item = /^(?:>\s*)*(?:[-*+]|\d{1,3}[.)]|#\.|\.{1,5}|\*{2,5})\s+(?:\[[ xX]\]\s+)?(.*)$/.exec(trimmed);
    const body = (item ? item[1]! : trimmed.replace(/^(?:>\s*)+/, "")).trim();
    const marker = placeholderIn(body);
    const words = countWords(body);
    if (marker) {
      placeholder(index, body);
      previousText = null;
      continue;
    }
    if (words === 0) {
      previousText = null;
      continue;
    }
    result.words += words;
    result.contentLines++;
    if (item && (words >= 2 || /`[^`]+`/.test(body))) result.listSteps++;
    else if (!item && /`[^`\s]+(?:\s+[^`\s]+)+`/.test(body)) result.inlineCommands++;
    previousText = { words, list: Boolean(item) };
  }
  // An unclosed fence still holds what was written in it.
  if (fence?.real) result.codeBlocks++;
  return result;
}

function countWords(text: string): number {
  const plain = text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, " ")
    .replace(/[*_`|]/g, " ");
  return plain.match(/[\p{L}\p{N}][\p{L}\p{N}'’._/:=-]*/gu)?.length ?? 0;
}

function withoutFrontMatter(text: string): string {
  const match = /^(---|\+\+\+)\n[\s\S]*?\n\1[ \t]*(?:\n|$)/.exec(text);
  if (!match) return text;
  // Keep the line count, so placeholder line numbers stay those of the file.
  return "\n".repeat(match[0].split("\n").length - 1) + text.slice(match[0].length);
}

function withoutComments(text: string): string {
  return text.replace(/<!--[\s\S]*?-->/g, (comment) => "\n".repeat(comment.split("\n").length - 1));
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  ndash: "–",
  mdash: "—",
  hellip: "…",
  rsquo: "’",
  lsquo: "‘",
  rdquo: "”",
  ldquo: "“",
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code =
        name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** The part of an HTML page a reader would read, as markdown-shaped text (headings, list items, code fences). */
export function htmlToMarkdown(html: string): {
  markdown: string;
  part: NonNullable<RunbookContent["htmlPart"]>;
} {
  let text = html
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<(script|style|noscript|template|svg|head)\b[\s\S]*?<\/\1\s*>/gi, "");
  let part: NonNullable<RunbookContent["htmlPart"]> = "document";
  for (const tag of ["article", "main", "body"] as const) {
    const open = new RegExp(`<${tag}\\b[^>]*>`, "i").exec(text);
    const close = text.toLowerCase().lastIndexOf(`</${tag}`);
    if (open && close > open.index) {
      text = text.slice(open.index + open[0].length, close);
      part = tag;
      break;
    }
  }
  text = text.replace(/<(nav|header|footer|aside|form|button|select)\b[\s\S]*?<\/\1\s*>/gi, "");
  // Code first, so its lines are not read as list items or headings.
  text = text.replace(/<pre\b[^>]*>([\s\S]*?)<\/pre\s*>/gi, (_m, code: string) => {
    const plain = code.replace(/<[^>]+>/g, "").replace(/^\n+|\n+$/g, "");
    return `\n\`\`\`\n${plain}\n\`\`\`\n`;
  });
  text = text
    .replace(/<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1\s*>/gi, (_m, level: string, inner: string) => {
      const heading = inner
        .replace(/<[^>]+>/g, "")
        .replace(/\s+/g, " ")
        .trim();
      return `\n${"#".repeat(Number(level))} ${heading}\n`;
    })
    .replace(/<li\b[^>]*>/gi, "\n- ")
    .replace(
      /<\/?(?:p|div|br|tr|li|ul|ol|dl|dt|dd|table|section|blockquote|details|summary|hr)\b[^>]*>/gi,
      "\n",
    )
    .replace(
      /<code\b[^>]*>([\s\S]*?)<\/code\s*>/gi,
      (_m, inner: string) => `\`${inner.replace(/<[^>]+>/g, "")}\``,
    )
    .replace(/<[^>]+>/g, " ");
  const markdown = text
    .split("\n")
    .map((line) =>
      decodeEntities(line)
        .replace(/[ \t]+/g, " ")
        .trimEnd(),
    )
    .join("\n");
  return { markdown, part };
}
