// One TLS handshake with Node's own OpenSSL, pinned to what is being asked (a protocol version, a cipher class), and
// what came of it: accepted (with the protocol, suite and chain), refused by the server, not offerable by this client,
// or no connection at all. OpenSSL 3 offers TLS 1.0/1.1 and weak suites only at security level 0, so probes of them
// say `@SECLEVEL=0`; the certificate is never a reason to abort here (it is judged from the chain returned).
import net from "node:net";
import tls from "node:tls";
import { type CertificateSummary, summarizeChain } from "./certificate.js";

export type TlsVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";

export interface HandshakeOptions {
  host: string;
  port: number;
  /** SNI; never sent for an IP address (RFC 6066). */
  servername?: string;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  /** An OpenSSL cipher string for TLS ≤ 1.2; Node's default when absent. */
  ciphers?: string;
  /** Trusted CAs (PEM); Node's bundled roots when absent. */
  ca?: string[];
  /** Return the chain and trust verdict (the first handshake of an endpoint). */
  inspect?: boolean;
  /** With inspect: the name the certificate must carry (tls.checkServerIdentity). */
  identity?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * accepted: the handshake completed; refused: the server answered with an alert or closed during the handshake;
 * clientCannotOffer: this client has nothing to offer for the request (OpenSSL 3 has no RC4 or EXPORT suites);
 * unreachable: no TCP connection; timeout: connected, but the handshake did not finish in time; error: anything else.
 */
export type HandshakeResult =
  | {
      outcome: "accepted";
      protocol: string;
      cipher: string;
      /** The IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256. */
      standardName?: string;
      ephemeralKey?: string;
      authorized?: boolean;
      /** OpenSSL's verification error code: SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_VERIFY_LEAF_SIGNATURE, … */
      authorizationError?: string;
      /** With identity: undefined when the certificate carries the name, else why not. */
      hostnameError?: string;
      chain?: CertificateSummary[];
    }
  | {
      outcome: "refused" | "clientCannotOffer" | "unreachable" | "timeout" | "error";
      code: string;
      error: string;
    };

const CLIENT_CANNOT = /no cipher match|NO_PROTOCOLS_AVAILABLE|NO_CIPHERS_AVAILABLE|no ciphers available/i;
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EADDRNOTAVAIL",
]);

export function handshake(options: HandshakeOptions): Promise<HandshakeResult> {
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({
      ...(options.minVersion ? { minVersion: options.minVersion } : {}),
      ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
      ...(options.ciphers ? { ciphers: options.ciphers } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
    });
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return Promise.resolve({
      outcome: CLIENT_CANNOT.test(`${e.code} ${e.message}`) ? "clientCannotOffer" : "error",
      code: e.code ?? "ERR_TLS_CONTEXT",
      error: e.message ?? String(error),
    });
  }
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const socket = tls.connect({
      host: options.host,
      port: options.port,
      secureContext: context,
      ...(options.servername && net.isIP(options.servername) === 0 ? { servername: options.servername } : {}),
      // The chain and the name are judged from the certificate after the handshake: a handshake must finish to be seen.
      rejectUnauthorized: false, // gauntlet-ignore: tls-verification-disabled the certificate is judged after the handshake
      checkServerIdentity: () => undefined, // gauntlet-ignore: tls-verification-disabled the name is judged after the handshake
    });
    const finish = (result: HandshakeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        finish({
          outcome: connected ? "timeout" : "unreachable",
          code: "ETIMEDOUT",
          error: `${connected ? "the handshake" : "the TCP connection"} did not finish within ${options.timeoutMs} ms`,
        }),
      options.timeoutMs,
    );
    const onAbort = () => finish({ outcome: "error", code: "ABORTED", error: "cancelled" });
    options.signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      connected = true;
    });
    socket.once("secureConnect", () => {
      const cipher = socket.getCipher();
      const key = socket.getEphemeralKeyInfo();
      const result: HandshakeResult = {
        outcome: "accepted",
        protocol: socket.getProtocol() ?? "unknown",
        cipher: cipher.name,
        ...(cipher.standardName ? { standardName: cipher.standardName } : {}),
        ...(key && "type" in key && key.type
          ? { ephemeralKey: `${key.type}${key.name ? ` ${key.name}` : ""} ${key.size} bits` }
          : {}),
      };
      if (options.inspect) {
        result.authorized = socket.authorized;
        if (socket.authorizationError) result.authorizationError = String(socket.authorizationError);
        const peer = socket.getPeerCertificate(true);
        try {
          result.chain = summarizeChain(peer);
        } catch {
          result.chain = [];
        }
        if (options.identity) {
          const mismatch = tls.checkServerIdentity(options.identity, peer);
          if (mismatch) result.hostnameError = mismatch.message;
        }
      }
      finish(result);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      const code = error.code ?? "ERROR";
      const text = `${code} ${error.message}`;
      if (CLIENT_CANNOT.test(text))
        return finish({ outcome: "clientCannotOffer", code, error: error.message });
      if (!connected && UNREACHABLE.has(code))
        return finish({ outcome: "unreachable", code, error: error.message });
      // Connected, then an alert or a close before the handshake finished: the server did not accept the offer.
      finish({ outcome: connected ? "refused" : "error", code, error: error.message });
    });
  });
}
