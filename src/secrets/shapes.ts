// Secrets recognisable by where they sit rather than by a registered value: the password of scheme://user:PASSWORD@
// and the value of a query parameter whose name says it is a credential. Both passes are linear in the text: a
// backtracking pattern for the URL one took 5.8 s on 40 K letters and one `@`.
import { REDACTED } from "./marker.js";

/** Masks the password of every scheme://user:password@ in the text, whatever its length. */
export function maskUrlPasswords(text: string): string {
  if (!text.includes("@")) return text;
  let out = "";
  let copied = 0;
  let from = 0;
  for (let sep = text.indexOf("://", from); sep !== -1; sep = text.indexOf("://", from)) {
    from = sep + 1;
    // The scheme: [a-z][a-z0-9+.-]* right before "://", never reaching into the previous match.
    let start = sep;
    while (start > copied && isSchemeChar(text.charCodeAt(start - 1))) start--;
    while (start < sep && !isLetter(text.charCodeAt(start))) start++;
    if (start === sep) continue;
    // The user stops at the first ":" (it cannot hold one); the password at the first "@" (nor can it).
    let colon = sep + 3;
    while (colon < text.length && !isUserStop(text.charCodeAt(colon))) colon++;
    if (text.charCodeAt(colon) !== COLON) continue;
    let at = colon + 1;
    while (at < text.length && !isPasswordStop(text.charCodeAt(at))) at++;
    if (at === colon + 1 || text.charCodeAt(at) !== AT) continue;
    out += `${text.slice(copied, colon + 1)}${REDACTED}@`;
    copied = at + 1;
    from = copied;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

// ?token=…&sig=… — values of query parameters whose names say they are credentials. Linear as it stands: every
// attempt starts at a ? or &, its name is a bounded literal, and its value runs greedily to the first stop character
// with nothing after it to backtrack for.
const SECRET_QUERY =
  /([?&](?:access_token|refresh_token|id_token|token|api[_-]?key|apikey|key|secret|client_secret|password|passwd|pwd|sig|signature|auth|x-amz-signature|x-amz-credential|x-goog-signature)=)[^&#\s'"<>]+/gi;

/** Masks the value of every credential-named query parameter (?token=, &sig=, …). */
export function maskSecretQueries(text: string): string {
  if (!text.includes("=")) return text;
  return text.replace(SECRET_QUERY, (_, name: string) => `${name}${REDACTED}`);
}

/** Whether a character ends a URL's userinfo or a query value: text may be cut after one without splitting them. */
export function isShapeBreak(code: number): boolean {
  return isSpace(code) || code === QUOTE || code === APOSTROPHE || code === LESS || code === GREATER;
}

const COLON = 0x3a;
const AT = 0x40;
const SLASH = 0x2f;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const LESS = 0x3c;
const GREATER = 0x3e;

function isLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function isSchemeChar(code: number): boolean {
  return isLetter(code) || (code >= 0x30 && code <= 0x39) || code === 0x2b || code === 0x2e || code === 0x2d;
}

function isPasswordStop(code: number): boolean {
  return isShapeBreak(code) || code === SLASH || code === AT;
}

function isUserStop(code: number): boolean {
  return isPasswordStop(code) || code === COLON;
}

/** The characters of the regex class \s. */
function isSpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}
