// DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1): the signature covers the
// pre-authentication encoding of payloadType and payload, never the JSON around them.
import { type KeyObject, sign, verify } from "node:crypto";

export const IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface DsseSignature {
  keyid: string;
  /** base64 Ed25519 signature over PAE(payloadType, payload). */
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  /** base64 of the payload bytes. */
  payload: string;
  signatures: DsseSignature[];
}

/**
 * One signature of an envelope, as checked against the pinned key; index counts from 1, as shown to the user, and
 * detail completes "signature by keyid …" ("is valid", "does not match: …").
 */
export interface SignatureCheck {
  index: number;
  keyid: string;
  ok: boolean;
  detail: string;
}

export type EnvelopeCheck = { ok: boolean; detail: string; signatures: SignatureCheck[] };

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes as ASCII decimal. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, "utf8");
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, "utf8"),
    type,
    Buffer.from(` ${payload.length} `, "utf8"),
    payload,
  ]);
}

/** Wraps a payload in an envelope; without a key the envelope is unsigned (empty signatures). */
export function signEnvelope(
  payloadType: string,
  payload: Buffer,
  key?: { privateKey: KeyObject; keyid: string },
): DsseEnvelope {
  const signatures: DsseSignature[] = [];
  if (key) {
    const sig = sign(null, pae(payloadType, payload), key.privateKey);
    signatures.push({ keyid: key.keyid, sig: sig.toString("base64") });
  }
  return { payloadType, payload: payload.toString("base64"), signatures };
}

/**
 * Checks every signature against the pinned key (publicKey, keyid). Valid only when at least one signature is the
 * pinned key's and every signature verifies: the signatures are not covered by any signature, Gauntlet signs once,
 * so an extra signature that does not verify — by an unknown keyid or a forged one by the pinned keyid — is an
 * alteration of the file, named with its keyid and why, never a silent "2 signatures".
 */
export function verifyEnvelope(envelope: DsseEnvelope, publicKey: KeyObject, keyid: string): EnvelopeCheck {
  const count = envelope.signatures.length;
  if (count === 0) return { ok: false, detail: "certificate is unsigned", signatures: [] };
  const payload = decodeBase64(envelope.payload);
  if (!payload) return { ok: false, detail: "payload is not canonical base64", signatures: [] };
  const signed = pae(envelope.payloadType, payload);
  const signatures = envelope.signatures.map((s, i) => checkSignature(s, i + 1, signed, publicKey, keyid));
  if (!envelope.signatures.some((s) => s.keyid === keyid)) {
    const signers = envelope.signatures.map((s) => short(s.keyid)).join(", ");
    return { ok: false, detail: `no signature by keyid ${short(keyid)} (signed by ${signers})`, signatures };
  }
  const failed = signatures.filter((s) => !s.ok);
  if (count === 1) {
    const detail = failed.length
      ? `signature by keyid ${short(keyid)} ${signatures[0]!.detail}`
      : `Ed25519 signature by keyid ${short(keyid)} is valid`;
    return { ok: !failed.length, detail, signatures };
  }
  if (failed.length === 0) {
    const all = count === 2 ? "both signatures" : `all ${count} signatures`;
    return { ok: true, detail: `${all}, by keyid ${short(keyid)}, are valid`, signatures };
  }
  const valid = signatures.length - failed.length;
  const pinned = valid > 0 ? "the pinned key's signature is valid, but " : "";
  return {
    ok: false,
    detail: `${pinned}${failed.length} of ${count} signatures ${failed.length === 1 ? "does" : "do"} not verify: ${failed.map((s) => `#${s.index} by keyid ${short(s.keyid)} ${s.detail}`).join("; ")}`,
    signatures,
  };
}

function checkSignature(
  signature: DsseSignature,
  index: number,
  signed: Buffer,
  publicKey: KeyObject,
  keyid: string,
): SignatureCheck {
  const result = (ok: boolean, detail: string) => ({ index, keyid: signature.keyid, ok, detail });
  if (signature.keyid !== keyid) {
    return result(false, "was not made by the pinned key, so nothing vouches for it (Gauntlet signs once)");
  }
  const sig = decodeBase64(signature.sig);
  if (!sig) return result(false, "is not canonical base64");
  try {
    return verify(null, signed, publicKey, sig)
      ? result(true, "is valid (Ed25519)")
      : result(false, "does not match: the payload or signature was altered");
  } catch (error) {
    return result(false, `cannot be checked: ${(error as Error).message}`);
  }
}

/** The envelope file as Gauntlet writes it: two-space JSON and a final newline. */
export function serializeEnvelope(envelope: DsseEnvelope): string {
  return `${JSON.stringify(
    {
      payloadType: envelope.payloadType,
      payload: envelope.payload,
      signatures: envelope.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })),
    },
    null,
    2,
  )}\n`;
}

/**
 * Parses an envelope file strictly. The JSON around payload and signatures is not signed, so it must be in a canonical
 * layout (two-space or compact JSON, optional final newline): otherwise a changed space or newline would go unnoticed.
 */
export function parseEnvelope(
  bytes: Buffer,
): { ok: true; envelope: DsseEnvelope } | { ok: false; detail: string } {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    return { ok: false, detail: `not valid JSON (${(error as Error).message})` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, detail: "not a DSSE envelope: expected a JSON object" };
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort().join(",");
  if (keys !== "payload,payloadType,signatures") {
    return {
      ok: false,
      detail: `not a DSSE envelope: expected exactly payloadType, payload and signatures, found ${Object.keys(record).join(", ") || "nothing"}`,
    };
  }
  if (typeof record.payloadType !== "string") return { ok: false, detail: "payloadType is not a string" };
  if (typeof record.payload !== "string") return { ok: false, detail: "payload is not a string" };
  if (!Array.isArray(record.signatures)) return { ok: false, detail: "signatures is not a list" };
  for (const [i, s] of record.signatures.entries()) {
    const entry = s as Record<string, unknown>;
    if (
      typeof s !== "object" ||
      s === null ||
      typeof entry.keyid !== "string" ||
      typeof entry.sig !== "string" ||
      Object.keys(entry).length !== 2
    ) {
      return { ok: false, detail: `signatures[${i}] must hold exactly a keyid and a sig string` };
    }
  }
  if (decodeBase64(record.payload) === null) return { ok: false, detail: "payload is not canonical base64" };
  const layouts = [JSON.stringify(value), JSON.stringify(value, null, 2)];
  const canonical = layouts.some(
    (text) => bytes.equals(Buffer.from(text)) || bytes.equals(Buffer.from(`${text}\n`)),
  );
  if (!canonical) {
    return {
      ok: false,
      detail:
        "envelope JSON is not in canonical layout (changed whitespace or encoding): the file was altered",
    };
  }
  return { ok: true, envelope: value as DsseEnvelope };
}

/** Decodes standard or URL-safe base64, accepting only the canonical encoding so each byte of the text counts. */
export function decodeBase64(text: string): Buffer | null {
  if (/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    const bytes = Buffer.from(text, "base64");
    if (bytes.toString("base64") === text) return bytes;
  }
  if (/^[A-Za-z0-9_-]*$/.test(text)) {
    const bytes = Buffer.from(text, "base64url");
    if (bytes.toString("base64url") === text) return bytes;
  }
  return null;
}

function short(keyid: string): string {
  return keyid.length > 16 ? `${keyid.slice(0, 16)}…` : keyid || "(empty)";
}
