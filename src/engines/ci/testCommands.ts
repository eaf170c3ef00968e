// Does a CI script run tests? A line of shell is matched against the test runners of the common ecosystems (npm test,
// pytest, go test, cargo test, mvn verify, gradle check, make test, …) and against scripts whose path says test, ci or
// check (`bash .ci/run`, `./scripts/run-tests.sh`). Also whether the line can fail at all: `npm test || true` cannot.

export interface TestCommand {
  /** The line (trimmed, at most 160 characters) that runs tests. */
  command: string;
  /** 0-based index of that line in the script. */
  line: number;
  /** Which runner matched, e.g. "npm test", "pytest", "script named test". */
  runner: string;
  /** Set when the line cannot fail: `|| true`, `|| exit 0`, `; true`. */
  cannotFail?: string;
}

interface Runner {
  name: string;
  pattern: RegExp;
  /** A match that these words cancel (Maven's -DskipTests, Gradle's -x test). */
  unless?: RegExp;
  /** Words of the match (a script or target name) of which one must say test, ci or check. */
  words?: (match: RegExpExecArray) => string[];
}

const W = "(?:^|[\\s;&|(`'\"=])";
const RUNNERS: Runner[] = [
  {
    name: "npm test",
    pattern: new RegExp(
      `${W}(?:npm|pnpm|yarn|bun)\\s+(?:-\\S+\\s+)*(?:run\\s+)?(?:test|t|tests)(?::[\\w:-]+)?(?=\\s|$|;|&|\\|)`,
    ),
  },
  {
    name: "npm run test script",
    pattern: new RegExp(
      `${W}(?:npm|pnpm|yarn|bun)\\s+(?:-\\S+\\s+)*run(?:-script)?\\s+(?:-\\S+\\s+)*([\\w:.-]+)`,
    ),
    words: (m) => [m[1]!],
  },
  { name: "npm cit", pattern: new RegExp(`${W}npm\\s+(?:cit|install-ci-test|it|install-test)\\b`) },
  {
    name: "node test runner",
    pattern: new RegExp(`${W}(?:node|deno|bun)\\s+(?:[-\\w=]+\\s+)*(?:--test\\b|test\\b)`),
  },
  {
    name: "JavaScript test runner",
    pattern: new RegExp(
      `${W}(?:npx\\s+|pnpm\\s+(?:exec\\s+|dlx\\s+)?|yarn\\s+|bunx\\s+)?(?:vitest|jest|mocha|ava|tap|jasmine|karma\\s+start|playwright\\s+test|cypress\\s+run|wdio|nyc|c8)(?=\\s|$|;)`,
    ),
  },
  {
    name: "pytest",
    pattern: new RegExp(`${W}(?:python\\d?(?:\\.\\d+)?\\s+-m\\s+)?(?:pytest|py\\.test)(?=\\s|$|;)`),
  },
  {
    name: "unittest",
    pattern: new RegExp(`${W}python\\d?(?:\\.\\d+)?\\s+-m\\s+(?:unittest|nose2?|green)\\b`),
  },
  { name: "tox/nox", pattern: new RegExp(`${W}(?:tox|nox|detox)(?=\\s|$|;)`) },
  { name: "Django tests", pattern: new RegExp(`${W}python\\d?\\s+\\S*manage\\.py\\s+test\\b`) },
  { name: "setup.py test", pattern: new RegExp(`${W}python\\d?(?:\\.\\d+)?\\s+\\S*setup\\.py\\s+test\\b`) },
  {
    name: "hatch/poetry test",
    pattern: new RegExp(`${W}(?:hatch\\s+(?:run\\s+\\S*test\\S*|test)|poetry\\s+run\\s+\\S*test\\S*)`),
  },
  { name: "go test", pattern: new RegExp(`${W}(?:go\\s+test|gotestsum|ginkgo)\\b`) },
  {
    name: "cargo test",
    pattern: new RegExp(`${W}cargo\\s+(?:\\+\\S+\\s+)?(?:test|nextest|tarpaulin|llvm-cov)\\b`),
  },
  {
    name: "Maven (test phase)",
    pattern: new RegExp(
      `${W}(?:\\.\\/)?(?:mvn|mvnw)(?:\\.cmd)?\\s+(?:.*\\s)?(?:test|verify|package|install|deploy|integration-test)(?=\\s|$)`,
    ),
    unless: /-DskipTests(?:=true)?\b|-Dmaven\.test\.skip(?:=true)?\b/,
  },
  {
    name: "Gradle (test/check/build)",
    pattern: new RegExp(
      `${W}(?:\\.\\/)?(?:gradle|gradlew)(?:\\.bat)?\\s+(?:.*\\s)?(?::?[\\w:-]*:)?(?:test|check|build|\\w*Test|connectedCheck)(?=\\s|$)`,
    ),
    unless: /(?:-x|--exclude-task)\s+:?test\b/,
  },
  {
    name: "make test",
    pattern: new RegExp(`${W}(?:g?make|just|task|invoke|mage)((?:\\s+[^\\s;&|]+)+)`),
    words: (m) =>
      m[1]!
        .trim()
        .split(/\s+/)
        .filter((w) => !w.startsWith("-") && !w.includes("=")),
  },
  {
    name: "ctest/meson",
    pattern: new RegExp(
      `${W}(?:ctest|meson\\s+test|ninja\\s+test|bazel\\s+test|bazelisk\\s+test|buck2?\\s+test|zig\\s+build\\s+test)\\b`,
    ),
  },
  {
    name: "dotnet test",
    pattern: new RegExp(`${W}(?:dotnet\\s+test|vstest\\.console|msbuild\\s+.*\\/t(?:arget)?:test)\\b`, "i"),
  },
  {
    name: "Ruby tests",
    pattern: new RegExp(
      `${W}(?:bundle\\s+exec\\s+)?(?:rspec|rake(?:\\s+(?:test|spec))?|minitest|cucumber)(?=\\s|$|;)`,
    ),
  },
  {
    name: "PHP tests",
    pattern: new RegExp(
      `${W}(?:\\S*\\/)?(?:phpunit|pest|codecept(?:\\s+run)?|composer\\s+(?:run(?:-script)?\\s+)?test)\\b`,
    ),
  },
  {
    name: "Elixir/Erlang tests",
    pattern: new RegExp(`${W}(?:mix\\s+test|rebar3\\s+(?:eunit|ct|proper))\\b`),
  },
  {
    name: "Swift/Xcode tests",
    pattern: new RegExp(`${W}(?:swift\\s+test|xcodebuild\\s+(?:.*\\s)?test|fastlane\\s+(?:scan|test))\\b`),
  },
  { name: "Dart/Flutter tests", pattern: new RegExp(`${W}(?:flutter|dart)\\s+test\\b`) },
  {
    name: "JVM build tool tests",
    pattern: new RegExp(
      `${W}(?:sbt\\s+(?:.*\\s)?(?:test|\\+test)|lein\\s+test|clojure\\s+-[MX]:test|mill\\s+\\S*test|ant\\s+test)\\b`,
    ),
  },
  { name: "Haskell tests", pattern: new RegExp(`${W}(?:stack|cabal)\\s+test\\b`) },
  { name: "R tests", pattern: /(?:rcmdcheck|devtools::test|testthat|R\s+CMD\s+check)/ },
  { name: "Julia tests", pattern: /Pkg\.test\(/ },
];

/** A script run by path whose name says it tests: .ci/run, scripts/test.sh, ./run-tests, tools/test.py, ci/check. */
const SCRIPT =
  /(?:^|[\s;&|(])(?:(?:bash|sh|zsh|dash|pwsh|powershell|python\d?(?:\.\d+)?|node|ruby|perl)\s+(?:-\S+\s+)*)?((?:\.{0,2}\/)?(?:[\w.-]+\/)*[\w.-]+)(?=\s|$|;)/g;
const TESTY =
  /(?:^|[._/:-])(?:test|tests|testing|ci|check|checks|spec|specs|verify|unit|e2e|integration)(?:[._/:-]|$)/i;

/** Commands that only print, set up, install or comment: never a test run however they read. */
const INERT =
  /^\s*(?:#|echo\b|printf\b|cd\b|export\b|set\b|mkdir\b|cp\b|mv\b|rm\b|cat\b|ls\b|source\b|\.\s|(?:sudo\s+)?(?:pip\d?|pipx|uv\s+pip|python\d?(?:\.\d+)?\s+-m\s+pip|npm|yarn|pnpm|bun|gem|bundle|cargo|go|apt(?:-get)?|brew|apk|dnf|yum|choco|conda|mamba|poetry|uv|composer|dotnet)\s+(?:(?:-\S+)\s+)*(?:install|add|i|ci|get|update|upgrade|sync|restore|tool\s+install)\b)/;

const CANNOT_FAIL = /\|\|\s*(?:true|:|exit\s+0|echo\b[^|&;]*)\s*(?:$|;)|;\s*(?:true|exit\s+0)\s*$/;

/** The first line of the script that runs tests, or null. */
export function findTestCommand(script: string): TestCommand | null {
  const lines = joinContinuations(script);
  for (const { text, index } of lines) {
    // `npm ci && npm test`: each command of the line on its own, so an install is not read as a test.
    const commands = text.split(/&&|;(?!;)/);
    let runner: string | null = null;
    let from = 0;
    for (const [i, command] of commands.entries()) {
      if (command.trim() === "" || INERT.test(command)) continue;
      runner = runnerOf(command);
      if (runner) {
        from = i;
        break;
      }
    }
    if (!runner) continue;
    const cannotFail = CANNOT_FAIL.exec(commands.slice(from).join("&&"))?.[0].trim();
    return {
      command: text.trim().slice(0, 160),
      line: index,
      runner,
      ...(cannotFail ? { cannotFail } : {}),
    };
  }
  return null;
}

function runnerOf(text: string): string | null {
  for (const runner of RUNNERS) {
    const match = runner.pattern.exec(text);
    if (!match || runner.unless?.test(text)) continue;
    if (runner.words && !runner.words(match).some((w) => TESTY.test(w))) continue;
    return runner.name;
  }
  for (const match of text.matchAll(SCRIPT)) {
    const file = match[1]!;
    // A path, not a bare command word: it has a folder or a script extension.
    if (!file.includes("/") && !/\.(?:sh|bash|py|js|mjs|rb|pl|ps1)$/.test(file)) continue;
    if (TESTY.test(file)) return "script named test";
  }
  return null;
}

/** Script lines with backslash continuations joined, each with the index of its first line. */
function joinContinuations(script: string): { text: string; index: number }[] {
  const out: { text: string; index: number }[] = [];
  const raw = script.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < raw.length; i++) {
    let text = raw[i]!;
    const index = i;
    while (text.endsWith("\\") && i + 1 < raw.length) text = `${text.slice(0, -1)} ${raw[++i]!.trim()}`;
    out.push({ text, index });
  }
  return out;
}
