// What the floor and typical baselines share: the pool, and the same row → JSON mapping and
// cursors as the services, so every server sends the same bytes for the same request.
import pg from 'pg';
import pino from 'pino';
import { openPostgres } from '../../packages/service-kit/src/db/postgres.js';
import { idCursor, timeIdCursor } from '../../packages/service-kit/src/http/cursor.js';

export interface BaselineOptions {
  databaseUrl: string;
  port: number;
  /** Same as the services' DB_POOL_MAX. */
  poolMax: number;
  statementTimeoutMs: number;
  /**
   * `default`: a plain pg.Pool with pg's own type parsing, as a hand-written server has it.
   * `ours`: the services' database layer (openPostgres: its timestamptz parser, its choice of
   * pipelined or pooled connection), so a comparison with ours leaves only the HTTP stack.
   */
  driver: 'default' | 'ours';
}

export function baselineOptions(env = process.env): BaselineOptions {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required');
  return {
    databaseUrl: env.DATABASE_URL,
    port: Number(env.PORT ?? 8080),
    poolMax: Number(env.DB_POOL_MAX ?? 10),
    statementTimeoutMs: Number(env.DB_STATEMENT_TIMEOUT_MS ?? 5000),
    driver: env.BASELINE_DRIVER === 'ours' ? 'ours' : 'default',
  };
}

type Row = Record<string, unknown>;

/** What a baseline needs of its database: one statement at a time, and closing. */
export interface Db {
  query(text: string, params: unknown[]): Promise<{ rows: Row[] }>;
  end(): Promise<void>;
}

export function openDb(o: BaselineOptions, name: string): Db {
  if (o.driver === 'default') return createPool(o, name);
  const db = openPostgres({
    url: o.databaseUrl,
    poolMax: o.poolMax,
    statementTimeoutMs: o.statementTimeoutMs,
    applicationName: name,
    logger: pino({ level: 'silent' }),
  });
  return { query: (text, params) => db.query<Row>(text, params), end: () => db.close() };
}

function createPool(o: BaselineOptions, name: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: o.databaseUrl,
    max: o.poolMax,
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 30_000,
    statement_timeout: o.statementTimeoutMs,
    application_name: name,
  });
  pool.on('error', () => {});
  return pool;
}

const iso = (d: unknown) => (d as Date).toISOString();

export function toUser(r: Row) {
  return {
    id: r.id,
    email: r.email,
    firstName: r.first_name,
    lastName: r.last_name,
    role: r.role,
    locationId: r.location_id,
    active: r.active,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export function toShift(r: Row) {
  return {
    id: r.id,
    userId: r.user_id,
    locationId: r.location_id,
    position: r.position,
    startsAt: iso(r.starts_at),
    endsAt: iso(r.ends_at),
    breakMinutes: r.break_minutes,
    notes: r.notes,
    published: r.published,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/** The id after which a users page starts, from the services' own cursor codec. */
export const userCursorId = (cursor: string) => idCursor.decode(cursor);

/** One page as the services send it: `limit` rows and the cursor of the last one if more follow. */
export function page<T extends { id: unknown }>(
  rows: Row[],
  limit: number,
  map: (r: Row) => T,
  cursor: (item: T) => string,
) {
  const items = rows.slice(0, limit).map(map);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? cursor(last) : null };
}

export const userCursor = (u: { id: unknown }) => idCursor.encode(u.id as string);
export const shiftCursor = (s: { id: unknown; startsAt: string }) =>
  timeIdCursor.encode(s.startsAt, s.id as string);
