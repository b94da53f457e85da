// Image references: what `shiftops deploy <service> <image-or-tag>` accepts, and the change-cause
// it records. Pure, so the rules are tested without a cluster.

export interface ImageRef {
  /** Registry and path, e.g. `ghcr.io/acme/users` or `localhost:5000/users`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
// Docker's path components are lowercase; a registry host may carry a port.
const REPOSITORY =
  /^(?:[A-Za-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$/;

export function parseImageRef(ref: string): ImageRef | undefined {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  // A ':' after the last '/' separates the tag; one before it is a registry port.
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  if (!REPOSITORY.test(rest)) return undefined;
  return { repository: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export function formatImageRef(ref: ImageRef): string {
  return `${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

export type ImageResolution = { ok: true; image: string } | { ok: false; error: string };

/**
 * Turns the CLI argument into the image to set.
 * - no '/', ':' or '@' → a tag: keep the current image's repository (`1.4.2` → `ghcr.io/acme/users:1.4.2`);
 * - `sha256:<hex>` → a digest of the current repository;
 * - anything else → a full reference, used as given (so `users:1.4.2` means Docker Hub's `users`).
 */
export function resolveImage(currentImage: string, arg: string): ImageResolution {
  const value = arg.trim();
  if (value === '') return { ok: false, error: 'image or tag is empty' };
  if (
    DIGEST.test(value) ||
    (!value.includes('/') && !value.includes(':') && !value.includes('@'))
  ) {
    const current = parseImageRef(currentImage);
    if (!current) {
      return {
        ok: false,
        error: `current image "${currentImage}" is not a reference a tag can be applied to; give a full image`,
      };
    }
    if (DIGEST.test(value))
      return { ok: true, image: formatImageRef({ repository: current.repository, digest: value }) };
    if (!TAG.test(value)) return { ok: false, error: `"${value}" is not a valid tag` };
    return { ok: true, image: formatImageRef({ repository: current.repository, tag: value }) };
  }
  const parsed = parseImageRef(value);
  if (!parsed) return { ok: false, error: `"${value}" is not a valid image reference` };
  return { ok: true, image: value };
}

export interface ChangeCauseInput {
  action: string;
  actor: string;
  at: Date;
}

/**
 * The `kubernetes.io/change-cause` annotation: who, what, when. The Deployment controller copies it
 * onto the new ReplicaSet, which is how `history` (and `kubectl rollout history`) shows it.
 */
export function changeCause({ action, actor, at }: ChangeCauseInput): string {
  return `${action} by ${actor} at ${at.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}
