// Do the TLS endpoints accept only modern protocols, with a certificate that a client trusts, for the right name, and
// not about to expire? Every `security.tls` entry and every service with an https url is asked with real handshakes
// (src/engines/tls/probe.ts): each protocol alone (SSL 3.0 by hand; TLS 1.0/1.1 at OpenSSL's security level 0 so
// that the client can offer them at all), each class of weak suites alone, and the chain as a default Node client
// sees it. testssl.sh, when installed and when time allows, gives a second opinion that is recorded and compared.
import { setMaxListeners } from "node:events";
import path from "node:path";
import { defineCheck, type FindingInput, type Measurement, notApplicable } from "../../core/types.js";
import { which } from "../../engines/shell/run.js";
import type { CertificateSummary } from "../../engines/tls/certificate.js";
import { isWeakSignature } from "../../engines/tls/certificate.js";
import type { HandshakeResult } from "../../engines/tls/handshake.js";
import {
  type ProtocolName,
  probeTlsEndpoint,
  type TlsProbeResult,
  trustStore,
} from "../../engines/tls/probe.js";
import { runTestssl, type TestsslFinding } from "../../engines/tls/testssl.js";
import type { Spec } from "../../spec/schema.js";

const HANDSHAKE_TIMEOUT_MS = 5_000;
const FAIL_DAYS = 14;
const WARN_DAYS = 30;
const MIN_RSA_BITS = 2048;
const MIN_EC_BITS = 256;
const TESTSSL_MAX_MS = 90_000;
/** Below this, testssl.sh (-p -s -S takes 20–40 s on loopback) is not started: it would be cut off. */
const TESTSSL_MIN_MS = 45_000;
const RESERVE_MS = 10_000;
/** testssl.sh starts dozens of openssl processes: at most this many endpoints at once. */
const TESTSSL_PARALLEL = 2;
const LEGACY: ProtocolName[] = ["SSLv3", "TLSv1", "TLSv1.1"];
const MODERN: ProtocolName[] = ["TLSv1.2", "TLSv1.3"];
const TESTSSL_IDS: Record<string, ProtocolName> = {
  SSLv3: "SSLv3",
  TLS1: "TLSv1",
  TLS1_1: "TLSv1.1",
  TLS1_2: "TLSv1.2",
  TLS1_3: "TLSv1.3",
};
export const NO_ENDPOINT = "No TLS endpoint to test: security.tls is empty and no service URL uses https.";

export interface TlsEndpoint {
  subject: string;
  url: string;
  /** Where the spec names it: security.tls[0], services.api.url. */
  sources: string[];
  host: string;
  port: number;
  servername?: string;
  /** The `ca` file as written in the spec, and resolved. */
  ca?: { given: string; resolved: string };
}

export type TestsslObservation =
  | { state: "notInstalled" }
  | { state: "noTime"; budgetMs: number }
  | { state: "notRun"; reason: string }
  | {
      state: "ran";
      evidence: string;
      durationMs: number;
      timedOut: boolean;
      failure?: string;
      protocols: Record<string, boolean | string>;
      weakCiphers: string[];
      flagged: TestsslFinding[];
    };

export interface EndpointObservation extends TlsEndpoint {
  trustSources: string[];
  /** A `ca` (or NODE_EXTRA_CA_CERTS) file that could not be read: an untrusted chain proves nothing then. */
  trustErrors: string[];
  /** The probe's result, certificates without their PEM (that is in the evidence file). */
  result: TlsProbeResult;
  testssl: TestsslObservation;
  evidence: string;
}

export interface TlsModernObservation {
  endpoints: EndpointObservation[];
}

export function tlsEndpoints(spec: Spec, specDir: string): TlsEndpoint[] {
  const found: TlsEndpoint[] = [];
  const key = (e: Pick<TlsEndpoint, "host" | "port" | "servername">) =>
    `${e.host}|${e.port}|${e.servername ?? ""}`;
  const add = (endpoint: TlsEndpoint): void => {
    const same = found.find((e) => key(e) === key(endpoint));
    if (!same) {
      found.push(endpoint);
      return;
    }
    same.sources.push(...endpoint.sources);
    if (endpoint.ca && !same.ca) same.ca = endpoint.ca;
    // A service name is the subject waivers use: it wins over a bare URL.
    if (same.subject.includes("://") && !endpoint.subject.includes("://")) same.subject = endpoint.subject;
  };
  for (const [name, service] of Object.entries(spec.services)) {
    if (!service.url || !/^https:\/\//i.test(service.url)) continue;
    const target = hostPort(service.url);
    if (target) add({ subject: name, url: service.url, sources: [`services.${name}.url`], ...target });
  }
  (spec.security?.tls ?? []).forEach((entry, i) => {
    const url = typeof entry === "string" ? entry : entry.url;
    const target = hostPort(url);
    if (!target) return;
    const servername = typeof entry === "string" ? undefined : entry.servername;
    const ca = typeof entry === "string" ? undefined : entry.ca;
    const owner = Object.entries(spec.services).find(([, s]) => {
      const t = s.url ? hostPort(s.url) : null;
      return t && t.host === target.host && t.port === target.port;
    });
    add({
      subject: owner?.[0] ?? url,
      url,
      sources: [`security.tls[${i}]`],
      ...target,
      ...(servername ? { servername } : {}),
      ...(ca ? { ca: { given: ca, resolved: path.resolve(specDir, ca) } } : {}),
    });
  });
  return found;
}

export default defineCheck<TlsModernObservation>({
  meta: {
    id: "tlsModern",
    category: "security",
    risk: "high",
    destructive: false,
    title: "TLS endpoints are modern and their certificates valid",
    objective: `Every TLS endpoint refuses SSL 3.0, TLS 1.0/1.1 and weak suites, accepts TLS 1.2 or 1.3, and serves a trusted certificate for its name, with a strong key and signature, valid for ${WARN_DAYS} more days.`,
    remediation: {
      effort: "medium",
      text: "On {{endpoint}}: {{fix}}.",
    },
    messages: {
      modern:
        "only TLS 1.2/1.3 and no weak suite accepted; the certificate is trusted, matches and is not expiring",
      legacyProtocol: "the endpoint accepts SSL 3.0, TLS 1.0 or TLS 1.1",
      noModernProtocol: "the endpoint accepts neither TLS 1.2 nor TLS 1.3",
      untrustedChain: "the certificate chain does not verify against the system roots (or the given ca)",
      caUnreadable: "the `ca` file could not be read, so the chain could not be checked against it",
      hostnameMismatch: "the certificate does not carry the endpoint's name",
      expired: "the certificate has expired",
      notYetValid: "the certificate is not valid yet",
      expiresSoon: `the certificate expires in less than ${FAIL_DAYS} days`,
      expiresWithin30Days: `the certificate expires in less than ${WARN_DAYS} days`,
      weakKey: `a certificate key is too small (RSA < ${MIN_RSA_BITS} bits, EC < ${MIN_EC_BITS} bits) or DSA`,
      weakSignature: "a certificate in the chain is signed with SHA-1 or MD5",
      weakCipher:
        "the endpoint accepts NULL, anonymous, EXPORT, RC4, DES/3DES or MD5 suites (by a handshake, or by testssl.sh)",
      testsslDisagrees: "testssl.sh and Gauntlet's handshakes disagree on a protocol: one of them is wrong",
      unreachable: "no TCP connection to the endpoint",
      handshakeInconclusive: "handshakes timed out or failed in a way that says nothing about the server",
    },
    timeoutMs: 150_000,
  },

  applies(spec) {
    // The spec's folder is not known here; the paths of `ca` files do not decide whether the check applies.
    return tlsEndpoints(spec, ".").length > 0 ? true : notApplicable(NO_ENDPOINT);
  },

  async observe(ctx) {
    const endpoints = tlsEndpoints(ctx.spec, ctx.specDir);
    for (const e of endpoints) ctx.secrets.addFromUrl(e.url);
    const testssl = await which("testssl", ctx.env.PATH ?? process.env.PATH).then(
      (found) => found ?? which("testssl.sh", ctx.env.PATH ?? process.env.PATH),
    );
    const observation: TlsModernObservation = { endpoints: [] };
    // Every endpoint's probe and testssl.sh listen for the abort: one listener on the run's signal, many on this one.
    const local = new AbortController();
    setMaxListeners(Math.max(16, endpoints.length * 4), local.signal);
    const forward = () => local.abort(ctx.signal.reason);
    ctx.signal.addEventListener("abort", forward, { once: true });
    const signal = local.signal;
    const slot = limiter(TESTSSL_PARALLEL);
    const done: (EndpointObservation | undefined)[] = endpoints.map(() => undefined);
    let results: EndpointObservation[];
    try {
      results = await Promise.all(
        endpoints.map(async (endpoint, index) => {
          const trust = await trustStore(endpoint.ca ? [endpoint.ca.resolved] : [], ctx.env);
          const target = {
            host: endpoint.host,
            port: endpoint.port,
            ...(endpoint.servername ? { servername: endpoint.servername } : {}),
          };
          // testssl.sh runs beside the handshakes, a few at a time, each within the time the check has left then.
          let budgetMs = 0;
          const second = testssl
            ? slot(async () => {
                budgetMs = Math.round(Math.min(TESTSSL_MAX_MS, ctx.deadline - Date.now() - RESERVE_MS));
                if (budgetMs < TESTSSL_MIN_MS) return undefined;
                const caFile = endpoint.ca ? { caFile: endpoint.ca.resolved } : {};
                return runTestssl(testssl, { ...target, ...caFile }, { timeoutMs: budgetMs, signal });
              })
            : undefined;
          second?.catch(() => {}); // awaited below
          ctx.log.debug(`${endpoint.subject}: TLS handshakes with ${endpoint.host}:${endpoint.port}`);
          const result = await probeTlsEndpoint(
            { ...target, ca: trust.ca },
            { timeoutMs: HANDSHAKE_TIMEOUT_MS, signal, now: () => ctx.clock.now() },
          );
          const name = `tls-${index + 1}-${safeName(endpoint.subject)}`;
          let testsslObservation: TestsslObservation = { state: "notInstalled" };
          if (second) {
            const run = await second;
            if (!run) testsslObservation = { state: "noTime", budgetMs: Math.max(0, budgetMs) };
            else if (result.inspect.outcome === "unreachable") {
              testsslObservation = { state: "notRun", reason: "the endpoint is unreachable" };
            } else {
              testsslObservation = {
                state: "ran",
                evidence: await ctx.evidence.writeJson(`${name}-testssl.json`, run),
                durationMs: run.durationMs,
                timedOut: run.timedOut,
                ...(run.failure ? { failure: run.failure } : {}),
                protocols: run.protocols,
                weakCiphers: run.weakCiphers,
                flagged: run.flagged,
              };
            }
          }
          const evidence = await ctx.evidence.writeJson(`${name}.json`, {
            ...endpoint,
            url: ctx.secrets.redact(endpoint.url),
            trust: { sources: trust.sources, errors: trust.errors },
            ...result,
          });
          const seen: EndpointObservation = {
            ...endpoint,
            url: ctx.secrets.redact(endpoint.url),
            trustSources: trust.sources,
            trustErrors: trust.errors,
            result: withoutPem(result),
            testssl: testsslObservation,
            evidence,
          };
          // Kept as each endpoint is done, so a timeout loses only the endpoints still being probed.
          done[index] = seen;
          ctx.keepPartial({ endpoints: done.filter((e) => e !== undefined) });
          return seen;
        }),
      );
    } finally {
      ctx.signal.removeEventListener("abort", forward);
    }
    observation.endpoints.push(...results);
    return observation;
  },

  judge(observation) {
    return observation.endpoints.flatMap(judgeEndpoint);
  },
});

function judgeEndpoint(seen: EndpointObservation): FindingInput[] {
  const { result } = seen;
  const where = `${seen.host}:${seen.port}${seen.servername ? ` (SNI ${seen.servername})` : ""}`;
  const subject = seen.subject;
  const evidence = [seen.evidence, ...(seen.testssl.state === "ran" ? [seen.testssl.evidence] : [])];
  const data = { endpoint: seen.url, subject };
  if (result.inspect.outcome === "unreachable") {
    return [
      {
        status: "UNVERIFIED",
        messageId: "unreachable",
        subject,
        message: `${subject}: cannot connect to ${where}: ${result.inspect.code} ${result.inspect.error}`,
        data: { ...data, code: result.inspect.code },
        evidence,
        toVerify: `start ${subject} or make ${where} reachable from this machine, then run again`,
      },
    ];
  }
  const findings: FindingInput[] = [];
  // A service is named with its address; a bare URL is its own address.
  const named = subject.includes("://")
    ? `${subject}${seen.servername ? ` (SNI ${seen.servername})` : ""}`
    : `${subject} (${where})`;
  const problem = (
    status: "FAIL" | "WARN" | "UNVERIFIED",
    messageId: string,
    message: string,
    fix: string,
    extra: Record<string, unknown> = {},
    measurements?: Measurement[],
  ) =>
    findings.push({
      status,
      messageId,
      subject,
      message: `${named}: ${message}`,
      data: { ...data, fix, ...extra },
      evidence,
      ...(measurements ? { measurements } : {}),
      ...(status === "UNVERIFIED" ? { toVerify: fix } : {}),
    });

  // Protocols.
  const accepted = (p: ProtocolName) => result.protocols[p].outcome === "accepted";
  const conclusive = (p: ProtocolName) => ["accepted", "refused"].includes(result.protocols[p].outcome);
  const acceptedLegacy = LEGACY.filter(accepted);
  const acceptedModern = MODERN.filter(accepted);
  if (acceptedLegacy.length > 0) {
    problem(
      "FAIL",
      "legacyProtocol",
      `accepts ${acceptedLegacy.map(label).join(", ")}${suiteOf(result.protocols[acceptedLegacy[0]!])}`,
      `disable ${acceptedLegacy.map(label).join(" and ")} (nginx: \`ssl_protocols TLSv1.2 TLSv1.3;\`)`,
      { protocols: acceptedLegacy },
    );
  }
  if (acceptedModern.length === 0) {
    if (MODERN.every(conclusive)) {
      problem(
        "FAIL",
        "noModernProtocol",
        `accepts neither TLS 1.2 nor TLS 1.3 (${MODERN.map((p) => `${label(p)}: ${answerOf(result.protocols[p])}`).join("; ")})`,
        "enable TLS 1.2 and TLS 1.3 (nginx: `ssl_protocols TLSv1.2 TLSv1.3;`)",
      );
    } else {
      problem(
        "UNVERIFIED",
        "handshakeInconclusive",
        `no TLS 1.2/1.3 handshake completed: ${MODERN.map((p) => `${label(p)}: ${answerOf(result.protocols[p])}`).join("; ")}`,
        `make ${where} answer TLS handshakes within ${HANDSHAKE_TIMEOUT_MS / 1000} s, then run again`,
      );
    }
  }
  const untested = [...LEGACY.filter((p) => !conclusive(p))];
  if (untested.length > 0 && acceptedLegacy.length === 0) {
    problem(
      "UNVERIFIED",
      "handshakeInconclusive",
      `whether it accepts ${untested.map(label).join(", ")} is unknown: ${untested.map((p) => `${label(p)}: ${answerOf(result.protocols[p])}`).join("; ")}`,
      `make ${where} answer every handshake within ${HANDSHAKE_TIMEOUT_MS / 1000} s (a rate limit or a filtering proxy may be in the way), then run again`,
    );
  }

  // The certificate, as a default client sees it (else as the legacy handshake got it).
  const seenBy = result.inspect.outcome === "accepted" ? result.inspect : result.legacyInspect;
  const inspect = seenBy?.outcome === "accepted" ? seenBy : undefined;
  const chain = inspect?.chain ?? [];
  const leaf = chain[0];
  const measurements: Measurement[] = [];
  if (inspect && leaf) {
    const error = inspect.authorizationError;
    if (!inspect.authorized && error && !["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"].includes(error)) {
      if (seen.trustErrors.length > 0) {
        problem(
          "UNVERIFIED",
          "caUnreadable",
          `the chain does not verify (${error}), but ${seen.trustErrors.join("; ")}`,
          `make the ca file readable (${seen.ca?.given ?? "NODE_EXTRA_CA_CERTS"}), relative to the spec's folder, then run again`,
        );
      } else {
        const weakness = chain.some((c) => isWeakKey(c) || isWeakSignature(c.signatureAlgorithm))
          ? "; OpenSSL at its default security level refuses its weak key or signature"
          : "";
        problem(
          "FAIL",
          "untrustedChain",
          `the certificate chain is not trusted: ${error} (issuer ${leaf.issuer}${weakness})`,
          seen.ca
            ? `serve a chain that ends at the CA in ${seen.ca.given} (the leaf and every intermediate), or fix the ca file`
            : "serve a certificate from a public CA with its full chain (leaf + intermediates), or give the private CA as security.tls[].ca",
          { code: error },
        );
      }
    }
    if (inspect.hostnameError) {
      const name = seen.servername ?? seen.host;
      problem(
        "FAIL",
        "hostnameMismatch",
        `the certificate is not for ${name}: ${inspect.hostnameError.replace(/:\s*$/, "")} (it names ${leaf.subjectAltNames.join(", ") || leaf.subject})`,
        `serve a certificate whose subjectAltName includes ${name}`,
        { names: leaf.subjectAltNames },
      );
    }
    const now = Date.parse(result.observedAt);
    const days = Math.floor(((Date.parse(leaf.validTo) - now) / 86_400_000) * 10) / 10;
    measurements.push({ name: "daysToExpiry", value: days, unit: "days", evidence: seen.evidence });
    const renew = `renew the certificate (valid to ${leaf.validTo}) and automate its renewal (ACME, cert-manager)`;
    if (Date.parse(leaf.validFrom) > now) {
      problem(
        "FAIL",
        "notYetValid",
        `the certificate is valid only from ${leaf.validFrom}`,
        "serve a certificate that is valid now (check the issuing machine's clock)",
        {},
        measurements,
      );
    } else if (days < 0) {
      problem("FAIL", "expired", `the certificate expired on ${leaf.validTo}`, renew, { days }, measurements);
    } else if (days < FAIL_DAYS) {
      problem(
        "FAIL",
        "expiresSoon",
        `the certificate expires in ${days} days (${leaf.validTo})`,
        renew,
        { days },
        measurements,
      );
    } else if (days < WARN_DAYS) {
      problem(
        "WARN",
        "expiresWithin30Days",
        `the certificate expires in ${days} days (${leaf.validTo})`,
        renew,
        { days },
        measurements,
      );
    }
    // Keys and signatures of the leaf and intermediates; a root's own signature is not what clients rely on.
    const signed = chain.filter((c, i) => i === 0 || !c.selfSigned);
    const weakKeys = signed.filter(isWeakKey);
    if (weakKeys.length > 0) {
      problem(
        "FAIL",
        "weakKey",
        `weak key: ${weakKeys.map((c) => `${c.subject}: ${c.keyType} ${c.keyBits ?? "?"} bits`).join("; ")}`,
        `reissue with an RSA key of at least ${MIN_RSA_BITS} bits or an ECDSA P-256 key`,
      );
    }
    const weakSigned = signed.filter((c) => isWeakSignature(c.signatureAlgorithm));
    if (weakSigned.length > 0) {
      problem(
        "FAIL",
        "weakSignature",
        `signed with a broken hash: ${weakSigned.map((c) => `${c.subject}: ${c.signatureAlgorithm}`).join("; ")}`,
        "reissue the certificate (and intermediates) signed with SHA-256 or better",
      );
    }
  }

  // Cipher suites: Gauntlet's handshakes, and testssl.sh's categories for what Node's OpenSSL cannot offer (RC4, 3DES).
  const weak = result.ciphers.filter((c) => c.rating === "weak" && c.result.outcome === "accepted");
  const weakByTestssl = seen.testssl.state === "ran" ? seen.testssl.weakCiphers : [];
  if (weak.length > 0 || weakByTestssl.length > 0) {
    const listed = [
      ...weak.map((c) => `${c.class}${suiteOf(c.result)}`),
      ...weakByTestssl.map((c) => `${c} (testssl.sh)`),
    ];
    problem(
      "FAIL",
      "weakCipher",
      `accepts weak suites: ${listed.join("; ")}`,
      "remove them from the cipher list (nginx: `ssl_ciphers` from Mozilla's intermediate profile; no `@SECLEVEL=0`)",
      { ciphers: listed },
    );
  }

  // testssl.sh, when it ran: a protocol verdict that differs from ours.
  if (seen.testssl.state === "ran") {
    const testssl = seen.testssl;
    const disagreements = Object.entries(TESTSSL_IDS).flatMap(([id, ours]) => {
      const theirs = testssl.protocols[id];
      if (typeof theirs !== "boolean" || !conclusive(ours)) return [];
      return theirs === accepted(ours)
        ? []
        : [
            `${label(ours)}: testssl.sh says ${theirs ? "offered" : "not offered"}, the handshake ${accepted(ours) ? "was accepted" : "was refused"}`,
          ];
    });
    if (disagreements.length > 0) {
      problem(
        "WARN",
        "testsslDisagrees",
        `testssl.sh disagrees: ${disagreements.join("; ")}`,
        "compare the two evidence files and try the protocol by hand (`openssl s_client -tls1`): a middlebox or a flaky server may answer differently",
        { disagreements },
      );
    }
  }

  if (findings.length > 0) return findings;
  return [
    {
      status: "PASS",
      messageId: "modern",
      subject,
      message: `${named}: ${summary(seen, acceptedModern, leaf, measurements[0]?.value)}`,
      data: { ...data, protocols: acceptedModern, notes: notes(seen) },
      evidence,
      measurements,
    },
  ];
}

function summary(
  seen: EndpointObservation,
  modern: ProtocolName[],
  leaf: CertificateSummary | undefined,
  days: number | undefined,
): string {
  const parts = [
    `accepts ${modern.map(label).join(" and ")} only`,
    leaf
      ? `certificate for ${seen.servername ?? seen.host} trusted (issuer ${leaf.issuer}), ${leaf.keyType} ${leaf.keyBits ?? "?"} bits, ${leaf.signatureAlgorithm}, ${days} days to expiry`
      : "",
    `no weak suite accepted (tried: ${seen.result.ciphers
      .filter((c) => c.rating === "weak" && c.result.outcome === "refused")
      .map((c) => c.class)
      .join(", ")})`,
    ...notes(seen),
  ];
  return parts.filter(Boolean).join("; ");
}

function notes(seen: EndpointObservation): string[] {
  const { result } = seen;
  const t = seen.testssl;
  const out: string[] = [];
  if (result.protocols["TLSv1.3"].outcome !== "accepted") out.push("note: no TLS 1.3");
  const obsolete = result.ciphers.filter((c) => c.rating === "obsolete" && c.result.outcome === "accepted");
  if (obsolete.length > 0) out.push(`note: also accepts ${obsolete.map((c) => c.class).join(", ")}`);
  const cannot = result.ciphers.filter((c) => c.result.outcome === "clientCannotOffer").map((c) => c.class);
  if (cannot.length > 0) {
    const covered = t.state === "ran" && !t.failure && !t.timedOut ? " (testssl.sh checked them)" : "";
    out.push(`not offerable by Node's OpenSSL 3, so not tried by Gauntlet: ${cannot.join(", ")}${covered}`);
  }
  if (t.state === "notInstalled") out.push("testssl.sh not installed");
  else if (t.state === "noTime") out.push(`testssl.sh skipped: ${Math.round(t.budgetMs / 1000)} s left`);
  else if (t.state === "notRun") out.push(`testssl.sh not run: ${t.reason}`);
  else if (t.failure || t.timedOut)
    out.push(`testssl.sh gave no verdict (${t.timedOut ? "timed out" : t.failure})`);
  else {
    const high = t.flagged.filter((f) => ["HIGH", "CRITICAL"].includes(f.severity));
    out.push(
      `testssl.sh agrees on the protocols${high.length > 0 ? `; it also flags ${high.map((f) => `${f.id} (${f.severity}: ${f.finding})`).join(", ")}` : ""}`,
    );
  }
  return out;
}

function isWeakKey(c: CertificateSummary): boolean {
  if (c.keyType === "dsa") return true;
  if (c.keyType === "rsa" || c.keyType === "rsa-pss") return (c.keyBits ?? 0) < MIN_RSA_BITS;
  if (c.keyType === "ec") return (c.keyBits ?? 0) < MIN_EC_BITS;
  return false;
}

function label(protocol: ProtocolName): string {
  return protocol === "SSLv3" ? "SSL 3.0" : protocol.replace("TLSv", "TLS ").replace(/^TLS 1$/, "TLS 1.0");
}

function answerOf(result: TlsProbeResult["protocols"][ProtocolName]): string {
  if (result.outcome === "accepted")
    return `accepted (${"cipher" in result ? result.cipher : result.cipherSuite})`;
  if ("answer" in result) return `refused (${result.answer})`;
  return `${result.outcome} (${result.code})`;
}

function suiteOf(
  result: TlsProbeResult["protocols"][ProtocolName] | HandshakeResult | { outcome: "skipped" },
): string {
  if (result.outcome !== "accepted") return "";
  return ` (${"cipher" in result ? result.cipher : result.cipherSuite})`;
}

function withoutPem(result: TlsProbeResult): TlsProbeResult {
  const strip = (h: HandshakeResult | undefined): HandshakeResult | undefined =>
    h?.outcome === "accepted" && h.chain
      ? { ...h, chain: h.chain.map(({ pem: _pem, ...rest }) => ({ ...rest, pem: "" })) }
      : h;
  const legacyInspect = strip(result.legacyInspect);
  return {
    ...result,
    inspect: strip(result.inspect)!,
    ...(legacyInspect ? { legacyInspect } : {}),
  };
}

function hostPort(url: string): { host: string; port: number } | null {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname.replace(/^\[|\]$/g, "");
    if (!host) return null;
    return { host, port: parsed.port ? Number(parsed.port) : 443 };
  } catch {
    return null;
  }
}

/** Runs at most `n` of the tasks given to it at once, in the order given. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}

function safeName(text: string): string {
  return text
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .slice(0, 60);
}
