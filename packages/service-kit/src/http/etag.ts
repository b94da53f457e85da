import { invalid } from './problems.js';

/** Strong ETag from a row's version counter, bumped on every write. */
export const etagOf = (version: number) => `"${version}"`;

/**
 * The version an If-Match header requires, undefined when the header is absent or `*` (no
 * precondition). A list of ETags is not supported: one resource has one current version.
 */
export function expectedVersion(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  const m = /^\s*"(\d{1,9})"\s*$/.exec(ifMatch);
  if (!m) throw invalid('If-Match', 'must be an ETag returned by this API, such as "3"');
  return Number(m[1]);
}
