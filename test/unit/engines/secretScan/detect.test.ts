// The secret scan's rules on texts: each kind of secret found at its line and column with the right rule and grade,
// the decoys and placeholders a repository is full of never found. Every secret-looking value is made here, at test
// time: the repository never holds one.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { detectSecrets, mask } from "../../../../src/engines/secretScan/detect.js";
import { placeholderReason } from "../../../../src/engines/secretScan/placeholders.js";
import { classifyFile, namesSecret } from "../../../../src/engines/secretScan/rules.js";
import { base62, makeJwt, makeToken } from "../../../support/secretValues.js";

const DECOYS = path.resolve(import.meta.dirname, "../../../fixtures/secretScan/decoys");

/** [ruleId, line, column] of every detection. */
async function found(file: string, content: string) {
  return (await detectSecrets({ file, content })).map((d) => [d.ruleId, d.line, d.column]);
}

/** 1-based line and column of the first occurrence of needle. */
function at(content: string, needle: string): [number, number] {
  const index = content.indexOf(needle);
  const before = content.slice(0, index).split("\n");
  return [before.length, before.at(-1)!.length + 1];
}

describe("tokens of a known format", () => {
  it("are found at their line and column, by secretlint's preset or Gauntlet's rules", async () => {
    const tokens = {
      github: makeToken.github(),
      slack: makeToken.slackBot(),
      legacy: makeToken.slackLegacy(),
      stripe: makeToken.stripeLive(),
      restricted: makeToken.stripeRestricted(),
      google: makeToken.googleApi(),
    };
    const content = [
      "// settings",
      `export const github = "${tokens.github}";`,
      `const slack = { token: '${tokens.slack}' };`,
      `legacy = "${tokens.legacy}"`,
      `  charge(key="${tokens.stripe}")`,
      `refund("${tokens.restricted}")`,
      `maps.load("${tokens.google}")`,
    ].join("\n");
    expect(await found("src/settings.ts", content)).toEqual([
      ["@secretlint/secretlint-rule-github", ...at(content, tokens.github)],
      ["@secretlint/secretlint-rule-slack", ...at(content, tokens.slack)],
      ["gauntlet/slack-legacy-token", ...at(content, tokens.legacy)],
      ["gauntlet/stripe-live-key", ...at(content, tokens.stripe)],
      ["gauntlet/stripe-live-key", ...at(content, tokens.restricted)],
      ["gauntlet/google-api-key", ...at(content, tokens.google)],
    ]);
  });

  it("are found in docs, examples and tests too: a real token is a leak wherever it is", async () => {
    const token = makeToken.github();
    for (const file of ["README.md", ".env.example", "test/client.test.ts"]) {
      expect(await found(file, `GITHUB_TOKEN=${token}\n`), file).toEqual([
        ["@secretlint/secretlint-rule-github", 1, 14],
      ]);
    }
  });

  it("ignore secretlint-disable comments: the baseline is where findings are accepted", async () => {
    const token = makeToken.github();
    const content = `// secretlint-disable\nconst t = "${token}"; // secretlint-disable-line\n`;
    expect(await found("a.ts", content)).toEqual([["@secretlint/secretlint-rule-github", 2, 12]]);
  });

  it("are one finding when two rules match the same text (the most specific wins)", async () => {
    const stripe = makeToken.stripeLive();
    expect(await found("config/app.env", `STRIPE_SECRET_KEY=${stripe}\n`)).toEqual([
      ["gauntlet/stripe-live-key", 1, 19],
    ]);
  });

  it("are not found when they are placeholders or typed by hand", async () => {
    const content = [
      `github = "ghp_${"x".repeat(36)}"`,
      `github2 = "ghp_${"a".repeat(36)}"`,
      `stripe = "sk_live_${"0".repeat(24)}"`,
      `stripe2 = "sk_live_your${"X".repeat(20)}"`,
      `google = "AIza${"X".repeat(35)}"`,
      `slack = "xoxs-1234567890-1234567890-abcdefabcdef"`,
      "db = postgres://app:changeme@db.internal:5432/app",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${…} reference, as a spec writes it.
      "db2 = postgres://app:${DB_PASSWORD}@db.internal:5432/app",
      "db3 = postgres://postgres:postgres@localhost:5432/postgres",
      "db4 = postgres://app:s3cret@db.internal/app",
    ].join("\n");
    expect(await found("config/app.ini", content)).toEqual([]);
  });
});

describe("private keys", () => {
  const pem = (type: "pkcs1" | "pkcs8" | "sec1", key: "rsa" | "ec" | "ed25519", encrypted = false) => {
    const options =
      key === "rsa"
        ? { modulusLength: 1024 }
        : key === "ec"
          ? { namedCurve: "prime256v1" }
          : ({} as Record<string, never>);
    const pair = generateKeyPairSync(key as "rsa", {
      ...(options as { modulusLength: number }),
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: {
        type: type as "pkcs1",
        format: "pem",
        ...(encrypted ? { cipher: "aes-256-cbc", passphrase: base62(12) } : {}),
      },
    });
    return pair.privateKey;
  };

  it("are found in every PEM form, clear ones FAIL and encrypted ones WARN", async () => {
    const cases: [string, string, string, "fail" | "warn"][] = [
      ["ed25519 PKCS#8 (64 base64 characters)", pem("pkcs8", "ed25519"), "PKCS#8", "fail"],
      ["RSA PKCS#1", pem("pkcs1", "rsa"), "RSA (PKCS#1)", "fail"],
      ["RSA PKCS#1, legacy encryption", pem("pkcs1", "rsa", true), "RSA (PKCS#1)", "warn"],
      ["EC SEC1", pem("sec1", "ec"), "EC", "fail"],
      ["PKCS#8 encrypted", pem("pkcs8", "ec", true), "PKCS#8", "warn"],
    ];
    for (const [name, key, format, severity] of cases) {
      const detections = await detectSecrets({ file: "deploy/key.pem", content: `# key\n${key}` });
      expect(
        detections.map((d) => [d.ruleId, d.line, d.column, d.severity]),
        name,
      ).toEqual([["gauntlet/private-key", 2, 1, severity]]);
      expect(detections[0]!.label, name).toContain(format);
      // Every line of key material is handed to the redactor.
      const body = key.split("\n").filter((l) => l && !l.startsWith("-----") && !l.includes(":"));
      for (const line of body) expect(detections[0]!.redact, name).toContain(line);
    }
  });

  it("in OpenSSH format are graded by their cipher", async () => {
    for (const [cipher, severity] of [
      ["none", "fail"],
      ["aes256-ctr", "warn"],
    ] as const) {
      const key = openSshKey(cipher);
      const detections = await detectSecrets({ file: "id_ed25519", content: key });
      expect(detections.map((d) => [d.label, d.severity])).toEqual([
        [`OpenSSH private key (${cipher === "none" ? "not encrypted" : "encrypted"})`, severity],
      ]);
    }
  });

  it("in PuTTY .ppk, PGP armour and JSON-escaped (a service-account file) are found", async () => {
    const ppk = (encryption: string) =>
      [
        "PuTTY-User-Key-File-3: ssh-ed25519",
        `Encryption: ${encryption}`,
        "Comment: deploy",
        "Public-Lines: 2",
        randomBytes(48).toString("base64"),
        randomBytes(12).toString("base64"),
        "Private-Lines: 1",
        randomBytes(48).toString("base64"),
        `Private-MAC: ${randomBytes(32).toString("hex")}`,
      ].join("\n");
    expect(
      (await detectSecrets({ file: "keys/deploy.ppk", content: ppk("none") })).map((d) => d.severity),
    ).toEqual(["fail"]);
    expect(
      (await detectSecrets({ file: "keys/deploy.ppk", content: ppk("aes256-cbc") })).map((d) => d.severity),
    ).toEqual(["warn"]);

    for (const [usage, severity] of [
      [0, "fail"],
      [254, "warn"],
    ] as const) {
      const detections = await detectSecrets({ file: "keys/release.asc", content: pgpKey(usage) });
      expect(detections.map((d) => [d.ruleId, d.severity, d.label])).toEqual([
        [
          "gauntlet/private-key",
          severity,
          `PGP private key (${usage === 0 ? "not encrypted" : "encrypted"})`,
        ],
      ]);
    }

    const serviceAccount = JSON.stringify(
      {
        type: "service_account",
        project_id: "demo",
        private_key_id: randomBytes(20).toString("hex"),
        private_key: pem("pkcs8", "rsa"),
        client_email: "svc@demo.iam.gserviceaccount.com",
      },
      null,
      2,
    );
    expect(await found("gcp/service-account.json", serviceAccount)).toEqual([
      ["gauntlet/private-key", ...at(serviceAccount, "-----BEGIN")],
    ]);
  });

  it("are not found when the armour holds a placeholder", async () => {
    const content = [
      "-----BEGIN RSA PRIVATE KEY-----",
      "...your key here...",
      "-----END RSA PRIVATE KEY-----",
      "-----BEGIN OPENSSH PRIVATE KEY-----",
      "<paste the key>",
      "-----END OPENSSH PRIVATE KEY-----",
      "-----BEGIN PRIVATE KEY-----",
      "x".repeat(64),
      "-----END PRIVATE KEY-----",
    ].join("\n");
    expect(await found("docs/keys.txt", content)).toEqual([]);
  });
});

describe("generic rules (JWTs, secret assignments)", () => {
  it("find a JWT assigned to a secret-named key or sent as a bearer token, not one in prose", async () => {
    const [first, second, third] = [makeJwt(), makeJwt(), makeJwt()];
    const content = [
      `session_token = "${first}"`,
      `fetch(url, { headers: { Authorization: "Bearer ${second}" } });`,
      `const example = "${third}";`,
    ].join("\n");
    expect(await found("src/api.ts", content)).toEqual([
      ["gauntlet/jwt", ...at(content, first!)],
      ["gauntlet/jwt", ...at(content, second!)],
    ]);
    // jwt.io's sample token, in so many READMEs and tests.
    const sample = [
      Buffer.from('{"alg":"HS256","typ":"JWT"}').toString("base64url"),
      Buffer.from('{"sub":"1234567890","name":"John Doe","iat":1516239022}').toString("base64url"),
      randomBytes(32).toString("base64url"),
    ].join(".");
    expect(await found("src/api.ts", `token = "${sample}"`)).toEqual([]);
  });

  it("find a high-entropy literal assigned to a password, secret or token", async () => {
    const value = makeToken.password();
    const cases: [string, string, number][] = [
      ["config/.env", `DB_PASSWORD=${value}\n`, 13],
      ["config/app.yaml", `database:\n  password: "${value}"\n`, 14],
      ["src/db.py", `client = connect(password="${value}")\n`, 28],
      ["src/db.go", `const apiKey = "${value}"\n`, 17],
      ["settings.json", `{ "clientSecret": "${value}" }\n`, 20],
    ];
    for (const [file, content, column] of cases) {
      const line = content.split("\n").findIndex((l) => l.includes(value)) + 1;
      expect(await found(file, content), file).toEqual([["gauntlet/secret-assignment", line, column]]);
    }
  });

  it("skip code that is not a literal, placeholders, low entropy, and docs, examples and tests", async () => {
    const value = makeToken.password();
    const quiet: [string, string][] = [
      ["src/db.ts", "const password = process.env.DB_PASSWORD;\n"],
      ["src/db.ts", "password: string;\n"],
      ["src/db.ts", `if (password === "${value}") deny();\n`],
      ["config/app.yaml", "password: correcthorsebatterystaple\n"],
      ["config/app.yaml", "password: k-123456\n"],
      ["config/app.yaml", "password: P4ssw0rd\n"],
      ["config/app.yaml", `password_hash: "${value}"\n`],
      ["config/app.yaml", `public_key: "${value}"\n`],
      ["config/app.yaml", `fake_password: "${value}"\n`],
      ["docs/setup.md", `DB_PASSWORD=${value}\n`],
      [".env.example", `DB_PASSWORD=${value}\n`],
      ["config/app.sample.yml", `password: "${value}"\n`],
      ["test/fixtures/spec.yaml", `password: "${value}"\n`],
      ["src/db.test.ts", `const password = "${value}";\n`],
    ];
    for (const [file, content] of quiet)
      expect(await found(file, content), `${file}: ${content}`).toEqual([]);
  });

  it("classify files and secret-named identifiers", () => {
    expect(
      [
        "src/a.ts",
        "config/app.yaml",
        "README.md",
        ".env.example",
        "app.sample.yml",
        "pkg/x_test.go",
        "tests/a.py",
      ].map(classifyFile),
    ).toEqual(["code", "config", "docs", "example", "example", "test", "test"]);
    expect(
      ["DB_PASSWORD", "dbPassword", "APIKey", "client_secret", "x-api-key", "accessToken", "jwt_secret"].map(
        namesSecret,
      ),
    ).toEqual([true, true, true, true, true, true, true]);
    expect(
      ["password_file", "passwordPolicy", "token_url", "public_key", "secretName", "key", "monkey"].map(
        namesSecret,
      ),
    ).toEqual([false, false, false, false, false, false, false]);
  });
});

describe("decoys", () => {
  const files = readdirSync(DECOYS, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());

  it("the decoy fixture has lockfiles, digests, UUIDs, commit ids, placeholders and config references", () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  for (const entry of files) {
    const file = path.relative(DECOYS, path.join(entry.parentPath, entry.name)).split(path.sep).join("/");
    it(`${file} gives no finding`, async () => {
      const content = readFileSync(path.join(DECOYS, file), "utf8");
      expect(await found(file, content)).toEqual([]);
    });
  }
});

describe("masks and placeholders", () => {
  it("show at most 4 characters and never more than an eighth of the secret", () => {
    expect(mask(makeToken.github())).toBe("ghp_…");
    expect(mask("Zx8-Qw2-Lm4")).toBe("Z…");
    expect(mask("0123456789abcdef")).toBe("01…");
    expect(mask("short")).toBe("…");
  });

  it("name why a value is a placeholder", () => {
    expect(
      [
        "your-api-key-here",
        "changeme",
        "xxxx-xxxx",
        "<token>",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a ${…} reference, as config files write it.
        "${VAR}",
        "{{ .Values.x }}",
        "********",
        "s3cr3t",
      ].map((v) => placeholderReason(v) !== null),
    ).toEqual([true, true, true, true, true, true, true, true]);
    expect(placeholderReason(makeToken.github())).toBeNull();
  });
});

/** An OpenSSH private key file (PROTOCOL.key): magic, cipher, kdf, kdf options, one public key, the private block. */
function openSshKey(cipher: string): string {
  const str = (value: string | Buffer) => {
    const bytes = typeof value === "string" ? Buffer.from(value) : value;
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const count = Buffer.alloc(4);
  count.writeUInt32BE(1);
  const publicKey = Buffer.concat([str("ssh-ed25519"), str(randomBytes(32))]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    str(cipher),
    str(cipher === "none" ? "none" : "bcrypt"),
    str(cipher === "none" ? Buffer.alloc(0) : randomBytes(24)),
    count,
    str(publicKey),
    str(randomBytes(144)),
  ]);
  const lines = body.toString("base64").match(/.{1,70}/g)!;
  return ["-----BEGIN OPENSSH PRIVATE KEY-----", ...lines, "-----END OPENSSH PRIVATE KEY-----", ""].join(
    "\n",
  );
}

/** A PGP secret-key packet (v4, EdDSA) in armour, its S2K usage octet as given (0 = not protected). */
function pgpKey(usage: number): string {
  const oid = Buffer.from([0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01]);
  const point = Buffer.concat([Buffer.from([0x40]), randomBytes(32)]);
  const secret = randomBytes(34);
  const body = Buffer.concat([
    Buffer.from([4, 0x65, 0x00, 0x00, 0x00, 22, oid.length]),
    oid,
    Buffer.from([0x01, 0x07]),
    point,
    Buffer.from([usage]),
    usage === 0 ? Buffer.alloc(0) : Buffer.from([7, 3, 2, ...randomBytes(9)]),
    secret,
  ]);
  const packet = Buffer.concat([Buffer.from([0xc5, body.length]), body]);
  const lines = packet.toString("base64").match(/.{1,64}/g)!;
  return [
    "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    "",
    ...lines,
    `=${randomBytes(3).toString("base64")}`,
    "-----END PGP PRIVATE KEY BLOCK-----",
    "",
  ].join("\n");
}
