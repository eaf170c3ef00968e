// Which CI script lines run tests, and which of them cannot fail.
import { describe, expect, it } from "vitest";
import { findTestCommand } from "../../../../src/engines/ci/testCommands.js";

describe("findTestCommand", () => {
  it("finds the test runners of the common ecosystems", () => {
    const lines = [
      "npm test",
      "npm run test:unit -- --coverage",
      "yarn test",
      "pnpm run test-ci",
      "npm cit",
      "npx vitest run",
      "node --test test/",
      "python -m pytest -q",
      "pytest",
      "tox -e py312",
      "uv run --locked tox run",
      "python manage.py test",
      "go test -race ./...",
      "cargo test --workspace",
      "./mvnw -B verify",
      "mvn -B package --file pom.xml",
      "./gradlew check",
      "gradle build",
      "make test",
      "make -j4 check",
      "ctest --output-on-failure",
      "dotnet test",
      "bundle exec rspec",
      "vendor/bin/phpunit",
      "mix test",
      "swift test",
      "flutter test",
      "bash .ci/run",
      "./scripts/run-tests.sh",
      "python3 tools/test.py -j4",
      "sh ci/check.sh",
    ];
    for (const line of lines) expect(findTestCommand(line)?.command, line).toBe(line);
  });

  it("does not take installs, builds, lint or prints for tests", () => {
    const lines = [
      "npm ci",
      "npm install",
      "python -m pip install flake8 pytest",
      "pip install -r requirements-test.txt",
      "go build ./...",
      "cargo build --release",
      "mvn -B package -DskipTests",
      "./gradlew build -x test",
      "./gradlew assemble",
      "make",
      "make install",
      "npm run build",
      "npm run circular-deps",
      "echo run the tests with npm test",
      "# npm test",
      "docker build . -t app",
      "flake8 . --count",
    ];
    for (const line of lines) expect(findTestCommand(line), line).toBeNull();
  });

  it("finds the test in a multi-line script, at its line, past an install on the same line", () => {
    expect(findTestCommand("npm ci\nnpm run build\nnpm test\n")).toMatchObject({
      line: 2,
      runner: "npm test",
    });
    expect(findTestCommand("npm ci && npm test")).toMatchObject({ line: 0, runner: "npm test" });
    expect(findTestCommand("go test \\\n  -race ./...")).toMatchObject({
      line: 0,
      command: "go test  -race ./...",
    });
  });

  it("notices a test line that cannot fail", () => {
    expect(findTestCommand("npm test || true")?.cannotFail).toBe("|| true");
    expect(findTestCommand("pytest || exit 0")?.cannotFail).toBe("|| exit 0");
    expect(findTestCommand("pytest || echo failed")?.cannotFail).toBe("|| echo failed");
    expect(findTestCommand("npm test || npm test")?.cannotFail).toBeUndefined();
    expect(findTestCommand("pytest")?.cannotFail).toBeUndefined();
  });
});
