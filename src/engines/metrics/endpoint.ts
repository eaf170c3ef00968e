// How to tell whether a Prometheus scrape URL points at the same place as a service's metrics endpoint.

/** Same scheme, host (localhost = 127.0.0.1), port and path; query strings ignored. */
export function sameScrapeEndpoint(a: string, b: string): boolean {
  const norm = (text: string) => {
    try {
      const u = new URL(text);
      const host = u.hostname === "localhost" ? "127.0.0.1" : u.hostname;
      const port = u.port || (u.protocol === "https:" ? "443" : "80");
      return `${u.protocol}//${host}:${port}${u.pathname.replace(/\/+$/, "") || "/"}`;
    } catch {
      return text;
    }
  };
  return norm(a) === norm(b);
}
