// Toxics, modelled on Toxiproxy's: each one alters one direction of every link through the proxy (upstream = client
// to server, downstream = server to client) with a probability (`toxicity`, rolled once per link and toxic).
export const TOXIC_TYPES = [
  "latency",
  "bandwidth",
  "timeout",
  "reset_peer",
  "slow_close",
  "slicer",
  "limit_data",
  "down",
] as const;
export type ToxicType = (typeof TOXIC_TYPES)[number];
export type Direction = "upstream" | "downstream";

export interface ToxicAttributes {
  /** latency: ms added to each chunk. */
  latency?: number;
  /** latency: ± ms of uniform jitter. */
  jitter?: number;
  /** bandwidth: KB/s. */
  rate?: number;
  /** timeout, reset_peer: ms (timeout 0 = blackhole until removed). */
  timeout?: number;
  /** slow_close, slicer: ms (slicer: between slices). */
  delay?: number;
  /** slicer: average slice size in bytes and its ± variation. */
  average_size?: number;
  size_variation?: number;
  /** limit_data: bytes after which the link is closed. */
  bytes?: number;
}

export interface Toxic {
  name: string;
  type: ToxicType;
  stream: Direction;
  /** 0–1: probability the toxic applies to a given link; 0 never applies. */
  toxicity: number;
  attributes: ToxicAttributes;
}

export type ToxicInput = Partial<Omit<Toxic, "attributes">> & { type: string; attributes?: ToxicAttributes };

const REQUIRED: Record<ToxicType, (keyof ToxicAttributes)[]> = {
  latency: ["latency"],
  bandwidth: ["rate"],
  timeout: ["timeout"],
  reset_peer: [],
  slow_close: ["delay"],
  slicer: ["average_size"],
  limit_data: ["bytes"],
  down: [],
};

/** The longest delay a Node timer keeps: setTimeout fires anything longer after 1 ms, turning a fault into none. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** Attributes that become a timer's delay (ms). */
const TIMER_ATTRIBUTES: readonly string[] = ["latency", "jitter", "timeout", "delay"];

export class ToxicError extends Error {
  override name = "ToxicError";
}

/** Validates a toxic from the control API or a check, filling defaults (downstream, toxicity 1, name type_stream). */
export function parseToxic(input: unknown): Toxic {
  if (typeof input !== "object" || input === null) throw new ToxicError("a toxic is a JSON object");
  const raw = input as Record<string, unknown>;
  const type = raw.type;
  if (typeof type !== "string" || !(TOXIC_TYPES as readonly string[]).includes(type)) {
    throw new ToxicError(`unknown toxic type ${JSON.stringify(type)}: use one of ${TOXIC_TYPES.join(", ")}`);
  }
  const stream = raw.stream ?? "downstream";
  if (stream !== "upstream" && stream !== "downstream") {
    throw new ToxicError(`stream must be "upstream" or "downstream", not ${JSON.stringify(stream)}`);
  }
  const toxicity = raw.toxicity ?? 1;
  if (typeof toxicity !== "number" || !(toxicity >= 0 && toxicity <= 1)) {
    throw new ToxicError("toxicity must be a number from 0 to 1");
  }
  const attributes = (raw.attributes ?? {}) as Record<string, unknown>;
  if (typeof attributes !== "object" || attributes === null) throw new ToxicError("attributes is an object");
  const clean: ToxicAttributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new ToxicError(`attribute ${key} must be a number ≥ 0`);
    }
    if (TIMER_ATTRIBUTES.includes(key) && value > MAX_TIMER_MS) {
      throw new ToxicError(`attribute ${key} must be at most ${MAX_TIMER_MS} ms (2³¹−1, about 24.8 days)`);
    }
    (clean as Record<string, number>)[key] = value;
  }
  for (const key of REQUIRED[type as ToxicType]) {
    if (clean[key] === undefined) throw new ToxicError(`a ${type} toxic needs attributes.${key}`);
  }
  if (type === "bandwidth" && clean.rate === 0) throw new ToxicError("bandwidth rate must be above 0 KB/s");
  if (type === "slicer" && clean.average_size === 0) throw new ToxicError("slicer average_size must be > 0");
  const name = raw.name ?? `${type}_${stream}`;
  if (typeof name !== "string" || !/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new ToxicError("name uses letters, digits, '_', '-' or '.'");
  }
  return { name, type: type as ToxicType, stream, toxicity, attributes: clean };
}
