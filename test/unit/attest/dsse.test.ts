import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  decodeBase64,
  IN_TOTO_PAYLOAD_TYPE,
  pae,
  parseEnvelope,
  serializeEnvelope,
  signEnvelope,
  verifyEnvelope,
} from "../../../src/attest/dsse.js";
import { keyidOf } from "../../../src/attest/keys.js";

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKey, keyid: keyidOf(publicKey) };
}

describe("pae", () => {
  it("matches the DSSE specification's known answer", () => {
    const encoded = pae("http://example.com/HelloWorld", Buffer.from("hello world"));
    expect(encoded.toString("utf8")).toBe("DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  });

  it("counts bytes, not characters", () => {
    const encoded = pae("t/é", Buffer.from("ü"));
    expect(encoded).toEqual(Buffer.concat([Buffer.from("DSSEv1 4 t/é 2 ", "utf8"), Buffer.from("ü")]));
  });

  it("handles an empty payload", () => {
    expect(pae("x", Buffer.alloc(0)).toString()).toBe("DSSEv1 1 x 0 ");
  });
});

describe("signEnvelope / verifyEnvelope", () => {
  const payload = Buffer.from('{"hello":"world"}');

  it("signs the PAE and verifies with the matching key", () => {
    const key = keyPair();
    const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, key);
    expect(envelope.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
    expect(Buffer.from(envelope.payload, "base64")).toEqual(payload);
    expect(envelope.signatures).toHaveLength(1);
    expect(envelope.signatures[0]!.keyid).toBe(key.keyid);
    expect(Buffer.from(envelope.signatures[0]!.sig, "base64")).toHaveLength(64);
    expect(verifyEnvelope(envelope, key.publicKey, key.keyid)).toMatchObject({ ok: true });
  });

  it("leaves an envelope without a key unsigned", () => {
    const key = keyPair();
    const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload);
    expect(envelope.signatures).toEqual([]);
    expect(verifyEnvelope(envelope, key.publicKey, key.keyid)).toEqual({
      ok: false,
      detail: "certificate is unsigned",
      signatures: [],
    });
  });

  it("fails with another key, a changed payload or a changed payloadType", () => {
    const key = keyPair();
    const other = keyPair();
    const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, payload, key);
    expect(verifyEnvelope(envelope, other.publicKey, other.keyid).detail).toMatch(/no signature by keyid/);
    // Same keyid claimed, different key material.
    expect(verifyEnvelope(envelope, other.publicKey, key.keyid)).toMatchObject({ ok: false });
    const changed = { ...envelope, payload: Buffer.from('{"hello":"World"}').toString("base64") };
    expect(verifyEnvelope(changed, key.publicKey, key.keyid).detail).toMatch(/altered/);
    const retyped = { ...envelope, payloadType: "application/json" };
    expect(verifyEnvelope(retyped, key.publicKey, key.keyid)).toMatchObject({ ok: false });
  });

  it("rejects a non-canonical base64 payload that decodes to the same bytes", () => {
    const key = keyPair();
    const envelope = signEnvelope("t", Buffer.from("hi"), key);
    expect(envelope.payload).toBe("aGk=");
    expect(Buffer.from("aGl=", "base64").toString()).toBe("hi");
    expect(verifyEnvelope({ ...envelope, payload: "aGl=" }, key.publicKey, key.keyid).detail).toMatch(
      /not canonical base64/,
    );
  });
});

describe("decodeBase64", () => {
  it("accepts canonical standard and URL-safe base64 only", () => {
    expect(decodeBase64("aGk=")?.toString()).toBe("hi");
    expect(decodeBase64("aGk")?.toString()).toBe("hi");
    expect(decodeBase64("-_8")).toEqual(Buffer.from([0xfb, 0xff]));
    expect(decodeBase64("aGl=")).toBeNull();
    expect(decodeBase64("aG k=")).toBeNull();
    expect(decodeBase64("aGk=\n")).toBeNull();
    expect(decodeBase64("")).toEqual(Buffer.alloc(0));
  });
});

describe("parseEnvelope", () => {
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from("{}"), keyPair());

  it("accepts the written layout and compact JSON", () => {
    expect(parseEnvelope(Buffer.from(serializeEnvelope(envelope)))).toEqual({ ok: true, envelope });
    expect(parseEnvelope(Buffer.from(JSON.stringify(envelope)))).toEqual({ ok: true, envelope });
  });

  it("explains malformed JSON", () => {
    const result = parseEnvelope(Buffer.from("{not json"));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.detail).toMatch(/^not valid JSON/);
  });

  it("rejects a changed space or newline outside the signed strings", () => {
    const text = serializeEnvelope(envelope);
    const tabbed = text.replace('  "payload"', '\t "payload"');
    expect(JSON.parse(tabbed)).toEqual(envelope);
    expect(parseEnvelope(Buffer.from(tabbed))).toMatchObject({ ok: false, detail: /canonical layout/ });
    const spaced = text.replace(/\n$/, " ");
    expect(parseEnvelope(Buffer.from(spaced))).toMatchObject({ ok: false });
  });

  it("rejects missing, extra and mistyped fields", () => {
    const without = { payloadType: envelope.payloadType, payload: envelope.payload };
    expect(parseEnvelope(Buffer.from(JSON.stringify(without)))).toMatchObject({
      ok: false,
      detail: /exactly/,
    });
    const extra = { ...envelope, note: "x" };
    expect(parseEnvelope(Buffer.from(JSON.stringify(extra)))).toMatchObject({ ok: false });
    const badSig = { ...envelope, signatures: [{ keyid: 1, sig: "x" }] };
    expect(parseEnvelope(Buffer.from(JSON.stringify(badSig)))).toMatchObject({
      ok: false,
      detail: /signatures\[0\]/,
    });
    expect(parseEnvelope(Buffer.from("[]"))).toMatchObject({ ok: false, detail: /JSON object/ });
  });
});
