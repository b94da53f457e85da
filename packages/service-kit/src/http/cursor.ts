import Type from 'typebox';
import { patternMessages } from './schemas.js';

/**
 * Keyset cursors: the sort key of the last row of a page, in a text form whose pattern the OpenAPI
 * document states. Clients pass nextCursor back unchanged and must not build cursors, but every
 * value that matches the pattern is a valid position (the next page starts after that key), so a
 * cursor can never turn into a database error, and a client checking requests against the
 * document agrees with the server about which are valid.
 */
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
// At most 14 digits of milliseconds around 1970 (years -1199 to 5138): inside what both
// PostgreSQL (4713 BC to 294276 AD) and JavaScript dates hold.
const MS = '-?\\d{1,14}';

/** Cursor over rows ordered by id: the id of the last row. */
const ID_CURSOR = `^${UUID}$`;
export const IdCursor = Type.String({
  pattern: ID_CURSOR,
  description: 'Opaque cursor: the nextCursor of the previous page',
});

patternMessages.set(ID_CURSOR, 'is not a cursor returned by this API');

export const idCursor = {
  encode: (id: string) => id,
  decode: (cursor: string) => cursor.toLowerCase(),
};

/** Cursor over rows ordered by (time, id): epoch milliseconds, `_`, the id of the last row. */
const TIME_ID_CURSOR = `^${MS}_${UUID}$`;
export const TimeIdCursor = Type.String({
  pattern: TIME_ID_CURSOR,
  description: 'Opaque cursor: the nextCursor of the previous page',
});

patternMessages.set(TIME_ID_CURSOR, 'is not a cursor returned by this API');

export const timeIdCursor = {
  encode: (time: string, id: string) => `${Date.parse(time)}_${id}`,
  /** The key as [epoch milliseconds, id]. */
  decode(cursor: string): [ms: number, id: string] {
    const at = cursor.indexOf('_', 1);
    return [Number(cursor.slice(0, at)), cursor.slice(at + 1).toLowerCase()];
  },
};
