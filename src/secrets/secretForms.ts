// The encodings a registered secret is looked for in. A service, a library or an error message may print a secret in
// any of them, and a redactor that knows only the raw value lets the others through.
//
// Caught, for the UTF-8 bytes of the secret:
// - raw, and its latin1 view (binary evidence is redacted through latin1);
// - URL encoding: encodeURIComponent with upper- or lower-case escapes, "+" for spaces, encodeURI (reserved
//   characters left as they are), and form encoding as URLSearchParams writes it;
// - JSON string escaping: as JSON.stringify writes it, with non-ASCII as \uXXXX (lower or upper case), and with "/"
//   escaped as "\/" (PHP's default);
// - hex, all lower or all upper case, alone or anywhere inside a longer hex string (hex is byte-aligned);
// - base64, standard and URL alphabets, with and without padding, alone; and inside a longer base64 blob (a basic-auth
//   header of user:secret, a JWT payload, a base64 JSON document): base64 of prefix+secret+suffix holds the secret's
//   "core" at one of three alignments (the secret's first byte at offset 0, 1 or 2 of a 3-byte group). Each core
//   keeps only the characters that depend on the secret alone, so up to 2 characters at each edge, which also carry
//   bits of the neighbouring bytes, stay visible (at most 4 bits of the secret each);
// - for URL credentials, base64 of user:password whole (a basic-auth header), so the user goes with it.
// Knowingly not caught: mixed-case hex, hex with separators ("de:ad:be:ef", "\x41"); base64 wrapped across lines
// (MIME, PEM) where a line break falls inside the core; encodings of encodings (base64 of hex, URL-encoded base64
// with + / = escaped) and of other byte forms of the text (UTF-16, compressed, encrypted); base32, decimal bytes; a
// secret the service changed (upper-cased, truncated, split by other text). Those need the value to be registered in
// that form; a secret must never be printed by a service in the first place.

/** Every form of the value in which it is looked for (duplicates and short forms are the caller's to drop). */
export function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const hex = bytes.toString("hex");
  return [
    value,
    bytes.toString("latin1"),
    ...urlForms(value),
    ...jsonForms(value),
    hex,
    hex.toUpperCase(),
    ...base64Forms(bytes),
  ];
}

/** base64 of user:password whole, as a basic-auth header carries it. */
export function basicAuthForms(user: string, password: string): string[] {
  return wholeBase64(Buffer.from(`${user}:${password}`, "utf8"));
}

// The first character of the core that depends on the secret's bits alone: ceil(8 × offset / 6).
const CORE_START = [0, 2, 3] as const;

function base64Forms(bytes: Buffer): string[] {
  const forms = wholeBase64(bytes);
  for (const alphabet of ["base64", "base64url"] as const) {
    for (const offset of [0, 1, 2] as const) {
      const shifted = Buffer.concat([Buffer.alloc(offset), bytes]).toString(alphabet);
      // The last character wholly made of the secret's bits ends at floor(8 × (offset + length) / 6).
      forms.push(shifted.slice(CORE_START[offset], Math.floor((8 * (offset + bytes.length)) / 6)));
    }
  }
  return forms;
}

function wholeBase64(bytes: Buffer): string[] {
  const forms: string[] = [];
  for (const alphabet of ["base64", "base64url"] as const) {
    const unpadded = bytes.toString(alphabet).replace(/=+$/, "");
    forms.push(unpadded, unpadded + "=".repeat((4 - (unpadded.length % 4)) % 4));
  }
  return forms;
}

function urlForms(value: string): string[] {
  let component: string;
  let uri: string;
  try {
    component = encodeURIComponent(value);
    uri = encodeURI(value);
  } catch {
    return []; // a lone surrogate has no URL encoding
  }
  const lower = component.replace(/%[0-9A-F]{2}/g, (percent) => percent.toLowerCase());
  const form = new URLSearchParams({ v: value }).toString().slice(2);
  return [component, lower, component.replace(/%20/g, "+"), uri, form];
}

function jsonForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const ascii = (hex: (code: number) => string) =>
    json.replace(/[\u0080-\uffff]/g, (char) => `\\u${hex(char.charCodeAt(0)).padStart(4, "0")}`);
  const lower = ascii((code) => code.toString(16));
  const upper = ascii((code) => code.toString(16).toUpperCase());
  const slashes = (text: string) => text.replace(/\//g, "\\/");
  return [json, lower, upper, slashes(json), slashes(lower)];
}
