// URLs in a spec are parsed as the checks will parse them (WHATWG `new URL`), so `http://[::1` or a port of `.inf`
// is a spec error at its line, not a crash minutes into a run. A URL must name a host, and a port (when written)
// must be a number a service can listen on.

/** Why `text` is not a usable URL, as "what is wrong: write …" (the loader splits it there); undefined when it is. */
export function urlProblem(
  text: string,
  schemes: readonly string[] | undefined,
  example: string,
): string | undefined {
  const shown = JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}…` : text);
  const wanted = schemes
    ? `write an ${schemes.map((s) => `${s}://`).join(" or ")} URL, e.g. ${example}`
    : `write a URL with a scheme, e.g. ${example}`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    const hostPort = /^[^\s:/]+:\d+(\/|$)/.test(text);
    return hostPort
      ? `${shown} has no scheme: write it with one, e.g. http://${text}`
      : `${shown} is not a URL: ${wanted}`;
  }
  if (schemes && !schemes.includes(scheme)) return `${shown} is a ${scheme}:// URL: ${wanted}`;
  if (/\s/.test(text))
    return `${shown} contains a space or a line break: write it without, encoding a space as %20`;

  let parsed: URL | undefined;
  try {
    parsed = new URL(text);
  } catch {
    parsed = undefined;
  }
  const authority = hostAndPort(text.slice(scheme.length + 3));
  if (authority.unclosedIpv6) {
    return `${shown} is not a valid URL: its IPv6 address has no closing "]": write it in brackets, e.g. http://[::1]:9090`;
  }
  if (authority.host === "" || (parsed && parsed.hostname === "")) {
    return `${shown} has no host: write the host after ://, e.g. ${example}`;
  }
  const port = authority.port || undefined;
  if (port !== undefined && !/^\d+$/.test(port)) {
    return `${shown} is not a valid URL: its port ${JSON.stringify(port)} is not a number: write a port from 1 to 65535, e.g. ${example}`;
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) {
    return `${shown} is not a valid URL: its port ${Number(port)} is out of range: write a port from 1 to 65535, e.g. ${example}`;
  }
  if (!parsed) return `${shown} is not a valid URL: ${wanted}`;
  return undefined;
}

/** The host and the port as written, from what follows `scheme://`; userinfo (up to the last @) is left out. */
function hostAndPort(rest: string): { host: string; port?: string; unclosedIpv6: boolean } {
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const hostPort = authority.slice(authority.lastIndexOf("@") + 1);
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) return { host: hostPort, unclosedIpv6: true };
    const after = hostPort.slice(close + 1);
    return {
      host: hostPort.slice(0, close + 1),
      ...(after.startsWith(":") ? { port: after.slice(1) } : {}),
      unclosedIpv6: false,
    };
  }
  const colon = hostPort.lastIndexOf(":");
  return colon < 0
    ? { host: hostPort, unclosedIpv6: false }
    : { host: hostPort.slice(0, colon), port: hostPort.slice(colon + 1), unclosedIpv6: false };
}
