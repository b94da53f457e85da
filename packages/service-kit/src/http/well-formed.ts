import { invalid } from './problems.js';

// In Unicode mode a surrogate range matches only a surrogate that is not half of a pair.
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/**
 * The path of the first string (key or value) holding an unpaired surrogate, if any. Iterative,
 * so a deeply nested body cannot exhaust the stack (the schema refuses it with a 400 afterwards).
 */
function firstIllFormed(body: unknown): string[] | undefined {
  const stack: [unknown, string[]][] = [[body, []]];
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return path;
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (LONE_SURROGATE.test(key)) return [...path, key];
        stack.push([item, path.length < 32 ? [...path, key] : path]);
      }
    }
  }
  return undefined;
}

/**
 * JSON bodies must be I-JSON (RFC 7493): no unpaired surrogate escapes such as "\ud800". Such a
 * string has no UTF-8 form, so PostgreSQL would store U+FFFD instead and the value read back
 * would differ from the one sent. A 400 naming the field, before the schema is checked.
 */
export function assertWellFormed(body: unknown): void {
  const path = firstIllFormed(body);
  if (path) invalidate(path);
}

function invalidate(path: string[]): never {
  throw invalid(
    path.join('.') || 'body',
    'contains an unpaired UTF-16 surrogate (not I-JSON, RFC 7493)',
  );
}
