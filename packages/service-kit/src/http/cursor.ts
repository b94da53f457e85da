import { invalid } from './problems.js';

/**
 * Opaque keyset cursors: the sort key of the last row of a page, base64url-encoded JSON. Clients
 * pass them back unchanged; a tampered cursor is a 400, never a database error.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T extends readonly unknown[]>(
  cursor: string,
  isValid: (key: unknown[]) => key is unknown[] & T,
): T {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('cursor', 'is not a cursor returned by this API');
  }
  if (!Array.isArray(key) || !isValid(key)) {
    throw invalid('cursor', 'is not a cursor returned by this API');
  }
  return key;
}
