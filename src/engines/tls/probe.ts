// Everything Gauntlet asks one TLS endpoint, with its own handshakes: the certificate chain (trusted? for this name?)
// from a handshake at Node's default security, each protocol version alone (SSL 3.0 by hand, TLS 1.0–1.3 pinned),
// and each class of weak cipher suites alone. Every handshake has its own time limit; they run side by side.
import { setMaxListeners } from "node:events";
import { readFile } from "node:fs/promises";
import tls from "node:tls";
import { type HandshakeResult, handshake, type TlsVersion } from "./handshake.js";
import { probeSslv3, type Sslv3Result } from "./sslv3.js";

export interface TlsTarget {
  host: string;
  port: number;
  /** SNI and the name the certificate must carry; the host when absent. */
  servername?: string;
  /** Trusted CAs as PEM (see trustStore). */
  ca: string[];
}

export type ProtocolName = "SSLv3" | TlsVersion;

export interface CipherClass {
  name: string;
  /** OpenSSL cipher string. */
  ciphers: string;
  /** weak: accepting it fails; obsolete: recorded and mentioned, not failed. */
  rating: "weak" | "obsolete";
}

export const CIPHER_CLASSES: CipherClass[] = [
  { name: "NULL (no encryption)", ciphers: "eNULL", rating: "weak" },
  { name: "anonymous (no authentication)", ciphers: "aNULL", rating: "weak" },
  { name: "EXPORT", ciphers: "EXP", rating: "weak" },
  { name: "RC4", ciphers: "RC4", rating: "weak" },
  { name: "DES and 3DES (SWEET32)", ciphers: "3DES:DES", rating: "weak" },
  { name: "MD5 MAC", ciphers: "MD5", rating: "weak" },
  { name: "static RSA key exchange (no forward secrecy)", ciphers: "kRSA", rating: "obsolete" },
  { name: "CBC mode", ciphers: "AES:CAMELLIA:!AESGCM:!AESCCM", rating: "obsolete" },
];

export interface TlsProbeResult {
  /** ISO time of the first handshake: expiry is judged against it. */
  observedAt: string;
  /** Node's default security (TLS ≥ 1.2, SECLEVEL 1): trust, name and chain as a modern client sees them. */
  inspect: HandshakeResult;
  /** At SECLEVEL=0 and TLS 1.0–1.3, for the chain when a modern client cannot connect at all. */
  legacyInspect?: HandshakeResult;
  protocols: Record<ProtocolName, HandshakeResult | Sslv3Result>;
  ciphers: {
    class: string;
    rating: CipherClass["rating"];
    result: HandshakeResult | { outcome: "skipped"; reason: string };
  }[];
}

const VERSIONS: TlsVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
const LEGACY = "ALL:@SECLEVEL=0";

export async function probeTlsEndpoint(
  target: TlsTarget,
  options: { timeoutMs: number; signal?: AbortSignal; now?: () => number },
): Promise<TlsProbeResult> {
  // A dozen handshakes listen for the abort at once: one listener on the caller's signal, many on this one.
  const local = new AbortController();
  setMaxListeners(64, local.signal);
  const forward = () => local.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", forward, { once: true });
  try {
    return await probeAll(target, options, local.signal);
  } finally {
    options.signal?.removeEventListener("abort", forward);
  }
}

async function probeAll(
  target: TlsTarget,
  options: { timeoutMs: number; now?: () => number },
  signal: AbortSignal,
): Promise<TlsProbeResult> {
  const base = {
    host: target.host,
    port: target.port,
    ...(target.servername ? { servername: target.servername } : {}),
    timeoutMs: options.timeoutMs,
    signal,
  };
  const identity = target.servername ?? target.host;
  const observedAt = new Date(options.now?.() ?? Date.now()).toISOString();
  const inspect = await handshake({ ...base, ca: target.ca, inspect: true, identity });
  const [legacyInspect, ...versions] = await Promise.all([
    inspect.outcome === "accepted" || inspect.outcome === "unreachable"
      ? Promise.resolve(undefined)
      : handshake({ ...base, ca: target.ca, inspect: true, identity, minVersion: "TLSv1", ciphers: LEGACY }),
    ...VERSIONS.map((v) =>
      inspect.outcome === "unreachable"
        ? Promise.resolve(inspect)
        : handshake({
            ...base,
            minVersion: v,
            maxVersion: v,
            ...(v === "TLSv1.3" ? {} : { ciphers: LEGACY }),
          }),
    ),
  ]);
  const sslv3: Sslv3Result =
    inspect.outcome === "unreachable"
      ? { outcome: "unreachable", code: inspect.code, error: inspect.error }
      : await probeSslv3(base);
  const protocols = { SSLv3: sslv3 } as TlsProbeResult["protocols"];
  VERSIONS.forEach((v, i) => {
    protocols[v] = versions[i]!;
  });
  const upTo12 = VERSIONS.slice(0, 3).some((v) => protocols[v].outcome === "accepted");
  const ciphers = await Promise.all(
    CIPHER_CLASSES.map(async (c) => ({
      class: c.name,
      rating: c.rating,
      result: upTo12
        ? await handshake({
            ...base,
            minVersion: "TLSv1",
            maxVersion: "TLSv1.2",
            ciphers: `${c.ciphers}:@SECLEVEL=0`,
          })
        : {
            outcome: "skipped" as const,
            reason: "the server accepts no TLS 1.2 or older, where these suites exist",
          },
    })),
  );
  return { observedAt, inspect, ...(legacyInspect ? { legacyInspect } : {}), protocols, ciphers };
}

/** The CAs a certificate may chain to: Node's bundled roots, the system bundle, NODE_EXTRA_CA_CERTS and the spec's. */
export async function trustStore(
  extraFiles: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{
  ca: string[];
  sources: string[];
  errors: string[];
}> {
  const ca = [...tls.rootCertificates];
  const sources = [`Node's bundled Mozilla roots (${tls.rootCertificates.length})`];
  const errors: string[] = [];
  const system = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
  ];
  for (const file of system) {
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (!text) continue;
    const pems = splitPem(text);
    ca.push(...pems);
    sources.push(`${file} (${pems.length})`);
    break;
  }
  const wanted = [...(env.NODE_EXTRA_CA_CERTS ? [env.NODE_EXTRA_CA_CERTS] : []), ...extraFiles];
  for (const file of wanted) {
    try {
      const pems = splitPem(await readFile(file, "utf8"));
      if (pems.length === 0) throw new Error("no PEM certificate in it");
      ca.push(...pems);
      sources.push(`${file} (${pems.length})`);
    } catch (error) {
      errors.push(`${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  return { ca, sources, errors };
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
