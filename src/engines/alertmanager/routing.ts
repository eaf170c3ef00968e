// Alertmanager's routing tree, evaluated the way dispatch/route.go does: a route matches when all its matchers match;
// children are tried in order and the first match wins unless it says `continue: true`; a route with no matching child
// is itself the destination; receiver and timing settings are inherited from the parent when not set.
import { parse } from "yaml";

export interface Matcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

export interface Route {
  /** Position in the tree, e.g. "route.routes[1]". */
  path: string;
  receiver: string;
  matchers: Matcher[];
  continue: boolean;
  groupBy: string[];
  groupWaitMs: number;
  groupIntervalMs: number;
  muteTimeIntervals: string[];
  routes: Route[];
}

export interface Integration {
  type: string;
  /** Webhook URL (for webhook_configs); other kinds keep only their type. */
  url?: string;
}

export interface Receiver {
  name: string;
  integrations: Integration[];
}

export interface AlertmanagerConfig {
  route: Route;
  receivers: Map<string, Receiver>;
}

const DEFAULT_GROUP_WAIT_MS = 30_000;
const DEFAULT_GROUP_INTERVAL_MS = 300_000;

/** Parses the configuration text Alertmanager reports in /api/v2/status (config.original). */
export function parseAlertmanagerConfig(text: string): AlertmanagerConfig {
  const raw = (parse(text) ?? {}) as Record<string, unknown>;
  const rootRaw = (raw.route ?? {}) as Record<string, unknown>;
  const route = readRoute(rootRaw, "route", undefined);
  const receivers = new Map<string, Receiver>();
  for (const entry of (raw.receivers ?? []) as Record<string, unknown>[]) {
    const name = String(entry.name ?? "");
    const integrations: Integration[] = [];
    for (const [key, value] of Object.entries(entry)) {
      if (!key.endsWith("_configs") || !Array.isArray(value)) continue;
      const type = key.replace(/_configs$/, "");
      for (const config of value as Record<string, unknown>[]) {
        const integration: Integration = { type };
        if (type === "webhook" && typeof config?.url === "string") integration.url = config.url;
        integrations.push(integration);
      }
    }
    receivers.set(name, { name, integrations });
  }
  return { route, receivers };
}

function readRoute(raw: Record<string, unknown>, path: string, parent: Route | undefined): Route {
  const matchers: Matcher[] = [];
  for (const [name, value] of Object.entries((raw.match ?? {}) as Record<string, string>)) {
    matchers.push({ name, op: "=", value: String(value) });
  }
  for (const [name, value] of Object.entries((raw.match_re ?? {}) as Record<string, string>)) {
    matchers.push({ name, op: "=~", value: String(value) });
  }
  for (const text of (raw.matchers ?? []) as string[]) matchers.push(...parseMatchers(String(text)));
  const groupBy = raw.group_by as string[] | undefined;
  const route: Route = {
    path,
    receiver: (raw.receiver as string | undefined) ?? parent?.receiver ?? "",
    matchers,
    continue: raw.continue === true,
    groupBy: groupBy ?? parent?.groupBy ?? [],
    groupWaitMs: durationMs(raw.group_wait) ?? parent?.groupWaitMs ?? DEFAULT_GROUP_WAIT_MS,
    groupIntervalMs: durationMs(raw.group_interval) ?? parent?.groupIntervalMs ?? DEFAULT_GROUP_INTERVAL_MS,
    muteTimeIntervals: (raw.mute_time_intervals as string[] | undefined) ?? [],
    routes: [],
  };
  route.routes = ((raw.routes ?? []) as Record<string, unknown>[]).map((child, i) =>
    readRoute(child, `${path}.routes[${i}]`, route),
  );
  return route;
}

/** Parses `name="value"`, `name=~"re"`, or a brace list `{a="1", b!~"x"}` (Alertmanager's matcher syntax). */
export function parseMatchers(text: string): Matcher[] {
  const body = text.trim().replace(/^\{/, "").replace(/\}$/, "");
  const out: Matcher[] = [];
  const pattern =
    /\s*([^\s=!~,"]+|"(?:[^"\\]|\\.)*")\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^,]*?)\s*(?:,|$)/gy;
  pattern.lastIndex = 0;
  while (pattern.lastIndex < body.length) {
    const match = pattern.exec(body);
    if (!match || match[0] === "") break;
    const [, name, op, value] = match;
    out.push({ name: unquote(name!), op: op as Matcher["op"], value: unquote(value!) });
  }
  return out;
}

export function matcherMatches(matcher: Matcher, labels: Record<string, string>): boolean {
  const actual = labels[matcher.name] ?? "";
  switch (matcher.op) {
    case "=":
      return actual === matcher.value;
    case "!=":
      return actual !== matcher.value;
    case "=~":
      return new RegExp(`^(?:${matcher.value})$`).test(actual);
    case "!~":
      return !new RegExp(`^(?:${matcher.value})$`).test(actual);
  }
}

/** The routes an alert with these labels is delivered through (usually one; more with continue: true). */
export function matchRoutes(route: Route, labels: Record<string, string>): Route[] {
  if (!route.matchers.every((m) => matcherMatches(m, labels))) return [];
  const all: Route[] = [];
  for (const child of route.routes) {
    const matched = matchRoutes(child, labels);
    all.push(...matched);
    if (matched.length > 0 && !child.continue) break;
  }
  return all.length > 0 ? all : [route];
}

export function describeMatchers(matchers: Matcher[]): string {
  if (matchers.length === 0) return "{} (matches everything)";
  return `{${matchers.map((m) => `${m.name}${m.op}"${m.value}"`).join(", ")}}`;
}

/** Labels an alert needs to be routed to `route`: the equality matchers on the way down from the root. */
export function labelsRoutingTo(root: Route, target: Route): Record<string, string> | null {
  const walk = (route: Route, acc: Record<string, string>): Record<string, string> | null => {
    const next = { ...acc };
    for (const m of route.matchers) {
      if (m.op !== "=") return null;
      next[m.name] = m.value;
    }
    if (route === target) return next;
    for (const child of route.routes) {
      const found = walk(child, next);
      if (found) return found;
    }
    return null;
  };
  return walk(root, {});
}

export function allRoutes(route: Route): Route[] {
  return [route, ...route.routes.flatMap(allRoutes)];
}

function durationMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(value);
  if (!match || value === "") return undefined;
  const [h, m, s, ms] = match.slice(1).map((v) => Number(v ?? 0)) as number[];
  return h! * 3_600_000 + m! * 60_000 + s! * 1000 + ms!;
}

function unquote(text: string): string {
  const t = text.trim();
  if (t.startsWith('"') && t.endsWith('"')) {
    try {
      return JSON.parse(t) as string;
    } catch {
      return t.slice(1, -1);
    }
  }
  return t;
}
