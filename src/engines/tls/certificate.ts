// A server's certificate chain as plain data: names, validity, key and signature algorithm. Node's peer certificate
// has no signature algorithm, so it is read from the DER (Certificate ::= SEQUENCE { tbsCertificate,
// signatureAlgorithm, signature }); the key's type and size come from node:crypto's X509Certificate.
import { X509Certificate } from "node:crypto";
import type { PeerCertificate } from "node:tls";

export interface CertificateSummary {
  subject: string;
  issuer: string;
  subjectAltNames: string[];
  /** ISO 8601. */
  validFrom: string;
  validTo: string;
  serialNumber: string;
  fingerprint256: string;
  /** rsa, rsa-pss, ec, ed25519, ed448, dsa… */
  keyType: string;
  keyBits?: number;
  curve?: string;
  /** e.g. sha256WithRSAEncryption; the OID when unknown. */
  signatureAlgorithm: string;
  selfSigned: boolean;
  pem: string;
}

const SIGNATURE_ALGORITHMS: Record<string, string> = {
  "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
  "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
  "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
  "1.2.840.113549.1.1.10": "rsassaPss",
  "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
  "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
  "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
  "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
  "1.2.840.10040.4.3": "dsaWithSHA1",
  "2.16.840.1.101.3.4.3.2": "dsaWithSHA256",
  "1.2.840.10045.4.1": "ecdsaWithSHA1",
  "1.2.840.10045.4.3.1": "ecdsaWithSHA224",
  "1.2.840.10045.4.3.2": "ecdsaWithSHA256",
  "1.2.840.10045.4.3.3": "ecdsaWithSHA384",
  "1.2.840.10045.4.3.4": "ecdsaWithSHA512",
  "1.3.101.112": "ed25519",
  "1.3.101.113": "ed448",
};

/** Signature algorithms no longer safe against collision attacks (SHA-1, MD5, MD2). */
export function isWeakSignature(algorithm: string): boolean {
  return /sha1|md5|md2/i.test(algorithm);
}

/** The chain as the server sent it, leaf first, ending at the first self-signed certificate (or where it stops). */
export function summarizeChain(
  leaf: PeerCertificate & { issuerCertificate?: PeerCertificate },
): CertificateSummary[] {
  const chain: CertificateSummary[] = [];
  const seen = new Set<string>();
  let current: (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined = leaf;
  while (current?.raw && !seen.has(current.fingerprint256) && chain.length < 10) {
    seen.add(current.fingerprint256);
    chain.push(summarize(current.raw));
    if (current.issuerCertificate === current) break;
    current = current.issuerCertificate as
      | (PeerCertificate & { issuerCertificate?: PeerCertificate })
      | undefined;
  }
  return chain;
}

export function summarize(der: Buffer): CertificateSummary {
  const x509 = new X509Certificate(der);
  const key = x509.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const bits =
    details.modulusLength ?? (key.asymmetricKeyType === "ec" ? curveBits(details.namedCurve) : undefined);
  return {
    subject: oneLine(x509.subject),
    issuer: oneLine(x509.issuer),
    subjectAltNames: (x509.subjectAltName ?? "")
      .split(/,\s*/)
      .map((s) => s.trim())
      .filter(Boolean),
    validFrom: new Date(x509.validFrom).toISOString(),
    validTo: new Date(x509.validTo).toISOString(),
    serialNumber: x509.serialNumber,
    fingerprint256: x509.fingerprint256,
    keyType: key.asymmetricKeyType ?? "unknown",
    ...(bits !== undefined ? { keyBits: bits } : {}),
    ...(details.namedCurve ? { curve: details.namedCurve } : {}),
    signatureAlgorithm: signatureAlgorithmOf(der),
    selfSigned: x509.subject === x509.issuer && safeVerify(x509),
    pem: x509.toString(),
  };
}

/** The signatureAlgorithm OID of a DER certificate, by name when known. */
export function signatureAlgorithmOf(der: Buffer): string {
  try {
    const certificate = element(der, 0);
    const tbs = element(der, certificate.contentStart);
    const algorithm = element(der, tbs.end);
    const oid = element(der, algorithm.contentStart);
    if (oid.tag !== 0x06) return "unknown";
    const name = decodeOid(der.subarray(oid.contentStart, oid.end));
    return SIGNATURE_ALGORITHMS[name] ?? name;
  } catch {
    return "unknown";
  }
}

function element(der: Buffer, at: number): { tag: number; contentStart: number; end: number } {
  const tag = der[at];
  let length = der[at + 1];
  if (tag === undefined || length === undefined) throw new Error("truncated DER");
  let contentStart = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new Error("unsupported DER length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[at + 2 + i]!;
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > der.length) throw new Error("truncated DER");
  return { tag, contentStart, end };
}

function decodeOid(bytes: Buffer): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join(".");
}

function curveBits(curve: string | undefined): number | undefined {
  const match = /(\d{3})/.exec(curve ?? "");
  return match ? Number(match[1]) : undefined;
}

function safeVerify(x509: X509Certificate): boolean {
  try {
    return x509.verify(x509.publicKey);
  } catch {
    return false;
  }
}

function oneLine(name: string): string {
  return name.split("\n").filter(Boolean).join(", ");
}
