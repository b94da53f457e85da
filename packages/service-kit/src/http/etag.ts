/** Strong ETag from a row's version counter, bumped on every write. */
export const etagOf = (version: number) => `"${version}"`;

interface EntityTag {
  weak: boolean;
  opaque: string;
}

/**
 * An If-Match / If-None-Match value (RFC 9110 §8.8.3, §13.1): `*` or a comma-separated list of
 * entity tags. Anything else names no tag, so it matches nothing.
 */
const TAG = '(W/)?"[\\x21\\x23-\\x7e\\x80-\\xff]*"';
const TAG_LIST = new RegExp(`^[ \\t]*${TAG}([ \\t]*,[ \\t]*${TAG})*[ \\t]*$`);

export function parseTagList(value: string): '*' | EntityTag[] {
  if (value.trim() === '*') return '*';
  if (!TAG_LIST.test(value)) return [];
  const tags: EntityTag[] = [];
  for (const m of value.matchAll(/(W\/)?"([^"]*)"/g)) tags.push({ weak: !!m[1], opaque: m[2]! });
  return tags;
}

const versionOf = (opaque: string) => (/^\d{1,9}$/.test(opaque) ? Number(opaque) : undefined);

/**
 * The versions an If-Match header allows a write on: undefined when there is no precondition
 * (header absent, or `*`, which any existing resource satisfies), else the versions named by
 * strong tags. If-Match uses the strong comparison, so a weak tag never matches, and a tag this
 * API never issued matches nothing: an empty list makes the write fail with 412.
 */
export function expectedVersions(ifMatch: string | undefined): number[] | undefined {
  if (ifMatch === undefined) return undefined;
  const tags = parseTagList(ifMatch);
  if (tags === '*') return undefined;
  return tags.flatMap((t) => {
    const v = t.weak ? undefined : versionOf(t.opaque);
    return v === undefined ? [] : [v];
  });
}

/** If-None-Match on a read: true when the client's copy is current (weak comparison): 304. */
export function notModified(ifNoneMatch: string | undefined, version: number): boolean {
  if (ifNoneMatch === undefined) return false;
  const tags = parseTagList(ifNoneMatch);
  return tags === '*' || tags.some((t) => versionOf(t.opaque) === version);
}
