// Real TLS endpoints for tests: certificates made by `openssl` at test time in a temp folder (a CA and leaves with
// chosen lifetimes, names, key sizes and digests), served by a real nginx with one server block per endpoint on free
// loopback ports. Everything is removed, and nginx stopped, by the cleanup it registers.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Cleanup } from "./datastores.js";
import { startNginx } from "./nginx.js";
import { requireTool } from "./services.js";

export interface CertificateAuthority {
  dir: string;
  cert: string;
  key: string;
}

export interface LeafOptions {
  days: number;
  /** subjectAltName entries, e.g. ["DNS:localhost", "IP:127.0.0.1"]. */
  names?: string[];
  bits?: number;
  digest?: "sha256" | "sha1";
  /** Self-signed instead of signed by the CA. */
  selfSigned?: boolean;
}

export interface Leaf {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync(requireTool("openssl"), args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** A CA in a temp folder (removed by the cleanup). */
export function makeCa(onCleanup: Cleanup): CertificateAuthority {
  const dir = mkdtempSync(path.join(tmpdir(), "gauntlet-tls-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, "ca.pem");
  const key = path.join(dir, "ca.key");
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "400",
      "-subj",
      "/CN=Gauntlet Test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  return { dir, cert, key };
}

let serial = 0;

/** A leaf certificate signed by `ca` (or self-signed), valid from now for `days` days (0: already at its end). */
export function makeLeaf(ca: CertificateAuthority, name: string, options: LeafOptions): Leaf {
  const dir = ca.dir;
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  const names = options.names ?? ["DNS:localhost", "IP:127.0.0.1"];
  const ext = path.join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    `subjectAltName=${names.join(",")}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`,
  );
  const digest = `-${options.digest ?? "sha256"}`;
  const subject = `/CN=${names[0]!.replace(/^\w+:/, "")}`;
  if (options.selfSigned) {
    openssl(
      [
        "req",
        "-x509",
        "-newkey",
        `rsa:${options.bits ?? 2048}`,
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        String(options.days),
        digest,
        "-subj",
        subject,
        "-addext",
        `subjectAltName=${names.join(",")}`,
      ],
      dir,
    );
    return { cert, key };
  }
  const csr = path.join(dir, `${name}.csr`);
  openssl(
    [
      "req",
      "-newkey",
      `rsa:${options.bits ?? 2048}`,
      "-nodes",
      "-keyout",
      key,
      "-out",
      csr,
      "-subj",
      subject,
    ],
    dir,
  );
  serial++;
  openssl(
    [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-set_serial",
      String(Date.now() * 100 + serial),
      "-out",
      cert,
      "-days",
      String(options.days),
      digest,
      "-extfile",
      ext,
    ],
    dir,
  );
  return { cert, key };
}

export interface TlsServerBlock {
  leaf: Leaf;
  /** nginx `ssl_protocols`; default TLSv1.2 TLSv1.3. */
  protocols?: string;
  /** nginx `ssl_ciphers`; default nginx's. */
  ciphers?: string;
}

/** One nginx serving each block on its own free loopback port; returns the ports in order. */
export async function startNginxTls(onCleanup: Cleanup, blocks: TlsServerBlock[]): Promise<number[]> {
  const servers = blocks.map(
    (b, i) => `  server {
    listen 127.0.0.1:{{port${i}}} ssl;
    server_name localhost;
    ssl_certificate ${b.leaf.cert};
    ssl_certificate_key ${b.leaf.key};
    ssl_protocols ${b.protocols ?? "TLSv1.2 TLSv1.3"};
${b.ciphers ? `    ssl_ciphers ${b.ciphers};\n` : ""}    location / { default_type text/plain; return 200 "ok\\n"; }
  }`,
  );
  const nginx = await startNginx(onCleanup, { servers: servers.join("\n"), portCount: blocks.length });
  return nginx.ports;
}
