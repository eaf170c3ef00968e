// Private keys in every text form they are committed in: PEM (PKCS#1, PKCS#8, SEC1, OpenSSH, PGP armour), the
// ssh.com SSH2 format and PuTTY's .ppk, JSON-escaped too (a service-account file). A key is told from a placeholder by
// decoding it (a DER sequence, the OpenSSH magic, a PGP packet), and graded by whether it is encrypted: a key still
// locked by a passphrase is a lesser leak than a clear one, so it is judged WARN, not FAIL. secretlint's own rule
// needs 100 base64 characters (an Ed25519 PKCS#8 key has 64) and cannot tell encrypted from clear.

export interface KeyDetection {
  start: number;
  end: number;
  /** What identifies the key: its base64 payload (whitespace removed) or PuTTY's private lines. */
  secret: string;
  /** The lines of key material, each registered with the redactor. */
  material: string[];
  /** "OpenSSH", "RSA (PKCS#1)", "PKCS#8", "PuTTY ssh-ed25519", … */
  format: string;
  /** true: needs a passphrase; false: usable as it is; null: cannot be told. */
  encrypted: boolean | null;
}

const PEM = /-----BEGIN ((?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?)-----([\s\S]{0,40000}?)-----END \1-----/g;
const SSH2 =
  /---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----([\s\S]{0,40000}?)---- END SSH2 ENCRYPTED PRIVATE KEY ----/g;
const PUTTY =
  /PuTTY-User-Key-File-([23]): ([\w@.-]{1,80})\r?\n(?:[^\r\n]*\r?\n){0,3}?Encryption: ([\w-]{1,40})\r?\n[\s\S]{0,40000}?Private-Lines: (\d{1,3})\r?\n/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const OPENSSH_MAGIC = "openssh-key-v1\0";

export function detectPrivateKeys(text: string): KeyDetection[] {
  if (!text.includes("PRIVATE KEY") && !text.includes("PuTTY-User-Key-File-")) return [];
  const found: KeyDetection[] = [];
  for (const match of text.matchAll(PEM)) {
    const key = pemKey(match[1]!, match[2]!);
    if (key) found.push({ start: match.index, end: match.index + match[0].length, ...key });
  }
  for (const match of text.matchAll(SSH2)) {
    const key = ssh2Key(match[1]!);
    if (key) found.push({ start: match.index, end: match.index + match[0].length, ...key });
  }
  for (const match of text.matchAll(PUTTY)) {
    const key = puttyKey(text, match);
    if (key) found.push(key);
  }
  return found;
}

type KeyFacts = Omit<KeyDetection, "start" | "end">;

/** The armour's body as header lines and base64 lines; JSON- or code-escaped line ends (\n) count as line ends. */
function armourBody(body: string): { headers: Map<string, string>; lines: string[] } {
  const headers = new Map<string, string>();
  const lines: string[] = [];
  for (const raw of body.split(/\\r\\n|\\n|\r?\n/)) {
    const line = raw.trim();
    if (line.length === 0) continue;
    const header = /^([A-Za-z][A-Za-z-]{1,40}):\s*(.*)$/.exec(line);
    if (header) headers.set(header[1]!.toLowerCase(), header[2]!);
    else lines.push(line);
  }
  return { headers, lines };
}

function decode(payload: string): Buffer | null {
  if (payload.length < 40 || !BASE64.test(payload)) return null;
  return Buffer.from(payload, "base64");
}

function pemKey(label: string, body: string): KeyFacts | null {
  const { headers, lines } = armourBody(body);
  const pgp = label.startsWith("PGP ");
  // PGP armour ends with a CRC line "=abcd" that is not part of the key.
  const material = pgp ? lines.filter((l) => !l.startsWith("=")) : lines;
  const payload = material.join("");
  const bytes = decode(payload);
  if (!bytes) return null;
  if (label === "OPENSSH PRIVATE KEY") {
    if (bytes.subarray(0, OPENSSH_MAGIC.length).toString("latin1") !== OPENSSH_MAGIC) return null;
    const cipher = sshString(bytes, OPENSSH_MAGIC.length);
    return {
      secret: payload,
      material,
      format: "OpenSSH",
      encrypted: cipher === null ? null : cipher !== "none",
    };
  }
  if (pgp) {
    if ((bytes[0]! & 0x80) === 0) return null;
    return { secret: payload, material, format: "PGP", encrypted: pgpSecretKeyEncrypted(bytes) };
  }
  // A legacy encrypted PEM (Proc-Type: 4,ENCRYPTED) holds ciphertext; everything else is DER: a SEQUENCE (0x30) with
  // a plausible length.
  const legacyEncrypted = /ENCRYPTED/i.test(headers.get("proc-type") ?? "");
  if (!legacyEncrypted && (bytes[0] !== 0x30 || !derLengthFits(bytes))) return null;
  if (label === "ENCRYPTED PRIVATE KEY")
    return { secret: payload, material, format: "PKCS#8", encrypted: true };
  const kind = label.replace(/ ?PRIVATE KEY$/, "");
  const format = kind === "" ? "PKCS#8" : kind === "RSA" || kind === "DSA" ? `${kind} (PKCS#1)` : kind;
  return { secret: payload, material, format, encrypted: legacyEncrypted };
}

function ssh2Key(body: string): KeyFacts | null {
  const { lines } = armourBody(body.replace(/\\\r?\n/g, ""));
  const payload = lines.join("");
  const bytes = decode(payload);
  // ssh.com format: magic 0x3f6ff9eb, total length, key type string, cipher string.
  if (!bytes || bytes.length < 12 || bytes.readUInt32BE(0) !== 0x3f6ff9eb) return null;
  const typeLength = bytes.readUInt32BE(8);
  const cipher = sshString(bytes, 12 + typeLength);
  return {
    secret: payload,
    material: lines,
    format: "SSH2",
    encrypted: cipher === null ? null : cipher !== "none",
  };
}

function puttyKey(text: string, match: RegExpMatchArray): KeyDetection | null {
  const count = Number(match[4]);
  const after = match.index! + match[0].length;
  const rest = text.slice(after).split(/\r?\n/, count);
  if (count === 0 || rest.length < count || !rest.every((l) => BASE64.test(l.trim()))) return null;
  const material = rest.map((l) => l.trim());
  const payload = material.join("");
  if (payload.length < 40) return null;
  const end = after + rest.reduce((n, l) => n + l.length + 1, 0) - 1;
  return {
    start: match.index!,
    end: Math.min(end, text.length),
    secret: payload,
    material,
    format: `PuTTY ${match[2]}`,
    encrypted: match[3] !== "none",
  };
}

/** An SSH wire-format string (uint32 length, bytes) at offset, or null when it does not fit. */
function sshString(bytes: Buffer, offset: number): string | null {
  if (offset + 4 > bytes.length) return null;
  const length = bytes.readUInt32BE(offset);
  if (length > 64 || offset + 4 + length > bytes.length) return null;
  return bytes.subarray(offset + 4, offset + 4 + length).toString("latin1");
}

function derLengthFits(bytes: Buffer): boolean {
  const first = bytes[1];
  if (first === undefined) return false;
  if (first < 0x80) return first > 0;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4 || bytes.length < 2 + octets) return false;
  let length = 0;
  for (let i = 0; i < octets; i++) length = length * 256 + bytes[2 + i]!;
  // A key cut short in a file is still a key; what must hold is that the length is not absurd.
  return length > 0 && length < 1_000_000;
}

// Public-key algorithms of RFC 4880/9580 and how many MPIs their public part has.
const PGP_PUBLIC_MPIS: Record<number, number> = { 1: 2, 2: 2, 3: 2, 16: 3, 17: 4, 20: 3 };

/**
 * Whether the first secret-key packet (tag 5) of a PGP key is protected: its S2K usage octet, read after the public
 * part (version 4). null when the packet is another version or an algorithm whose public part is not parsed here.
 */
export function pgpSecretKeyEncrypted(bytes: Buffer): boolean | null {
  const packet = pgpPacket(bytes);
  if (packet?.tag !== 5) return null;
  let at = packet.body;
  if (bytes[at] !== 4) return null;
  const algorithm = bytes[at + 5]!;
  at += 6;
  const readMpi = () => {
    if (at + 2 > bytes.length) return false;
    const bits = bytes.readUInt16BE(at);
    at += 2 + Math.ceil(bits / 8);
    return at <= bytes.length;
  };
  const readOid = () => {
    const length = bytes[at];
    if (length === undefined || length === 0 || length === 0xff) return false;
    at += 1 + length;
    return at <= bytes.length;
  };
  if (algorithm in PGP_PUBLIC_MPIS) {
    for (let i = 0; i < PGP_PUBLIC_MPIS[algorithm]!; i++) if (!readMpi()) return null;
  } else if (algorithm === 19 || algorithm === 22) {
    if (!readOid() || !readMpi()) return null;
  } else if (algorithm === 18) {
    if (!readOid() || !readMpi()) return null;
    const kdf = bytes[at];
    if (kdf === undefined) return null;
    at += 1 + kdf;
  } else return null;
  const usage = bytes[at];
  return usage === undefined ? null : usage !== 0;
}

function pgpPacket(bytes: Buffer): { tag: number; body: number } | null {
  const header = bytes[0];
  if (header === undefined || (header & 0x80) === 0) return null;
  if ((header & 0x40) === 0) {
    const lengthType = header & 0x03;
    const lengthOctets = [1, 2, 4, 0][lengthType]!;
    return { tag: (header >> 2) & 0x0f, body: 1 + lengthOctets };
  }
  const first = bytes[1];
  if (first === undefined) return null;
  const lengthOctets = first < 192 ? 1 : first < 224 ? 2 : first === 255 ? 5 : 1;
  return { tag: header & 0x3f, body: 1 + lengthOctets };
}

/** File names that are private keys by convention (ssh-keygen's defaults): the finding says it is a key file. */
export function isKeyFileName(name: string): boolean {
  return (
    /^(?:id_(?:rsa|dsa|ecdsa|ed25519|ecdsa_sk|ed25519_sk|xmss)|identity)$/.test(name) || /\.ppk$/i.test(name)
  );
}
