// Container image references as Docker reads them (`[registry[:port]/]path[:tag][@digest]`), and how firmly one pins
// the image: a digest names exactly one image, a tag names whatever was last pushed under it, `latest` or no tag at all
// names whatever is newest. Used by the Dockerfile, Kubernetes and compose checks alike.

export interface ImageReference {
  /** Registry host (with port) when the reference names one: `ghcr.io`, `localhost:5000`. */
  registry?: string;
  /** The repository path without registry, tag or digest: `library/node`, `node`, `team/api`. */
  repository: string;
  tag?: string;
  /** `sha256:…` when the reference carries one. */
  digest?: string;
}

/** How an image reference pins its image, from firmest to loosest. */
export type ImagePinning = "digest" | "tag" | "latest" | "untagged";

/** Splits a reference; the registry is the first path segment when it has a dot or a port, or is `localhost`. */
export function parseImageReference(reference: string): ImageReference {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let registry: string | undefined;
  const slash = rest.indexOf("/");
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return {
    ...(registry ? { registry } : {}),
    repository: rest,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

export function imagePinning(reference: string | ImageReference): ImagePinning {
  const ref = typeof reference === "string" ? parseImageReference(reference) : reference;
  if (ref.digest) return "digest";
  if (!ref.tag) return "untagged";
  return ref.tag === "latest" ? "latest" : "tag";
}
