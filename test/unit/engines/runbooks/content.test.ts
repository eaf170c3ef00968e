// What a runbook holds, counted on real runbooks (prometheus-operator/runbooks, unchanged), the demo's, and written
// cases: a complete one, a thin one, an empty one, an unfilled template, and the same content served as HTML.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { htmlToMarkdown, measureRunbook, placeholderIn } from "../../../../src/engines/runbooks/content.js";

const fixtures = path.resolve(import.meta.dirname, "../../../fixtures/runbooks");
const read = (relative: string) => readFileSync(path.join(fixtures, relative), "utf8");

describe("measureRunbook", () => {
  it("counts words, list steps and code blocks of a complete runbook, not its headings", () => {
    const c = measureRunbook(read("local/complete.md"), "markdown");
    expect(c).toMatchObject({ headings: 4, listSteps: 4, codeBlocks: 1, placeholderLines: 0 });
    expect(c.words).toBeGreaterThan(50);
  });

  it("finds a thin runbook thin and an empty one empty", () => {
    expect(measureRunbook(read("local/thin.md"), "markdown")).toMatchObject({
      words: 3,
      listSteps: 0,
      codeBlocks: 0,
    });
    expect(measureRunbook(read("local/empty.md"), "markdown")).toMatchObject({
      words: 0,
      listSteps: 0,
      codeBlocks: 0,
      headings: 4,
    });
  });

  it("counts the placeholders of an unfilled template, and neither their words nor their steps", () => {
    const c = measureRunbook(read("local/template.md"), "markdown");
    expect(c).toMatchObject({ words: 0, listSteps: 0, codeBlocks: 0, placeholderLines: 5 });
    // Line numbers are the file's: the front matter is kept as blank lines.
    expect(c.placeholders[0]).toEqual({ line: 7, text: "TODO: describe what the alert means." });
  });

  it("reads every real prometheus-operator runbook as having text; the alertmanager ones also have a command", () => {
    const dir = path.join(fixtures, "prometheus-operator-runbooks");
    const measured = Object.fromEntries(
      readdirSync(dir).map((f) => [
        f.replace(/\.md$/, ""),
        measureRunbook(read(`prometheus-operator-runbooks/${f}`), "markdown"),
      ]),
    );
    for (const [name, c] of Object.entries(measured)) {
      expect(c.words, name).toBeGreaterThan(25);
      expect(c.placeholderLines, name).toBe(0);
    }
    expect(measured.AlertmanagerFailedReload).toMatchObject({ codeBlocks: 1 });
    // InfoInhibitor explains itself but gives no step to take: prose only.
    expect(measured.InfoInhibitor).toMatchObject({ listSteps: 0, codeBlocks: 0 });
  });

  it("reads a setext heading as a heading, not as text", () => {
    const c = measureRunbook("ApiDown\n=======\n\n1. Restart the api process\n", "markdown");
    expect(c).toMatchObject({ headings: 1, words: 4, listSteps: 1 });
  });

  it("does not take a command's parameter for a placeholder, but a bare TODO in a code block is no command", () => {
    const withParameter = measureRunbook("```\nkubectl -n <namespace> get pods\n```\n", "markdown");
    expect(withParameter).toMatchObject({ codeBlocks: 1, placeholderLines: 0 });
    const todo = measureRunbook("```\n# TODO\n```\n", "markdown");
    expect(todo).toMatchObject({ codeBlocks: 0, placeholderLines: 1 });
  });

  it("measures an HTML page by its article, leaving the site's navigation out", () => {
    const nav = Array.from(
      { length: 40 },
      (_, i) => `<li><a href="/r/${i}">Runbook number ${i}</a></li>`,
    ).join("");
    const html = `<!doctype html><html><head><title>x</title><style>li{}</style></head><body>
      <nav><ul>${nav}</ul></nav>
      <article class="markdown"><h1 id="x">ApiDown<a class="anchor" href="#x">#</a></h1>
      <p>The api stopped answering its health check &amp; Prometheus marks it down.</p>
      <ol><li>Check the process: <code>systemctl status api</code></li><li>Read the last errors in its log</li></ol>
      <pre><code class="language-shell">journalctl -u api --since -15m | grep -i error
</code></pre></article><footer><ul><li>About this site and more</li></ul></footer></body></html>`;
    const c = measureRunbook(html, "html");
    expect(c).toMatchObject({
      htmlPart: "article",
      headings: 1,
      listSteps: 2,
      codeBlocks: 1,
      placeholderLines: 0,
    });
    expect(c.words).toBeGreaterThan(15);
    expect(c.words).toBeLessThan(30);
    expect(htmlToMarkdown(html).markdown).toContain("health check & Prometheus");
  });

  it("sees an escaped <fill in> placeholder in HTML", () => {
    const c = measureRunbook(
      "<body><h2>Steps</h2><ul><li>&lt;fill in the steps&gt;</li></ul></body>",
      "html",
    );
    expect(c).toMatchObject({ htmlPart: "body", listSteps: 0, placeholderLines: 1 });
  });
});

describe("placeholderIn", () => {
  it("matches template markers and leaves ordinary prose alone", () => {
    for (const text of [
      "TODO",
      "tbd",
      "FIXME: steps",
      "Lorem ipsum dolor",
      "<fill in>",
      "[describe impact]",
      "Add the steps here",
    ])
      expect(placeholderIn(text), text).not.toBeNull();
    for (const text of [
      "Check the todolist service",
      "Scale out the workers with kubectl",
      "See [Add a node](https://example.org/add)",
      "kubectl -n <namespace> get pods",
    ])
      expect(placeholderIn(text), text).toBeNull();
  });
});
