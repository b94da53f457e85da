import {
  conflict,
  forbidden,
  constraintName,
  invalid,
  notFound,
  preconditionFailed,
  unprocessable,
  sqlState,
  type Queryable,
  type Versioned,
} from '@shiftops/service-kit';
import type { ShiftScope } from './access.js';
import type { Shift, ShiftCreate, ShiftPatch } from './schemas.js';

interface ShiftRow {
  id: string;
  user_id: string;
  location_id: number;
  position: string;
  starts_at: Date;
  ends_at: Date;
  break_minutes: number;
  notes: string | null;
  published: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, user_id, location_id, position, starts_at, ends_at, break_minutes, notes,
  published, version, created_at, updated_at`;

// Times are stored at millisecond precision, the precision of the keyset cursor, so a cursor
// taken from a row always compares equal to that row.
const toMs = (p: string) => `date_trunc('milliseconds', ${p}::timestamptz)`;

// API field → column expression for a parameter. Only these reach SQL text.
const PATCHABLE: Record<keyof ShiftPatch, [string, (p: string) => string]> = {
  userId: ['user_id', (p) => p],
  locationId: ['location_id', (p) => p],
  position: ['position', (p) => p],
  startsAt: ['starts_at', toMs],
  endsAt: ['ends_at', toMs],
  breakMinutes: ['break_minutes', (p) => p],
  notes: ['notes', (p) => p],
  published: ['published', (p) => p],
};

function toShift(row: ShiftRow): Versioned<Shift> {
  return {
    version: row.version,
    value: {
      id: row.id,
      userId: row.user_id,
      locationId: row.location_id,
      position: row.position,
      startsAt: row.starts_at.toISOString(),
      endsAt: row.ends_at.toISOString(),
      breakMinutes: row.break_minutes,
      notes: row.notes,
      published: row.published,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    },
  };
}

// The table's constraints are the rules; this says which field broke which one.
const CHECKS: Record<string, [field: string, message: string]> = {
  shifts_ends_after_start: ['endsAt', 'must be after startsAt'],
  shifts_max_length: ['endsAt', 'must be at most 24 hours after startsAt'],
  shifts_break_within_shift: ['breakMinutes', 'must be shorter than the shift'],
};

function translate(err: unknown): never {
  const state = sqlState(err);
  const constraint = constraintName(err) ?? '';
  if (state === '23P01' && constraint === 'shifts_no_overlap') {
    throw conflict('this user already has a shift that overlaps this time', 'startsAt');
  }
  const check = CHECKS[constraint];
  if (state === '23514' && check) throw unprocessable(...check);
  // 22008: a valid RFC 3339 time outside PostgreSQL's range.
  if (state === '22008') throw invalid('body', 'contains a time outside the supported range');
  throw err;
}

/** The scope as SQL over shifts.shifts, its values as parameters; undefined: no restriction. */
function scopeSql(scope: ShiftScope, param: (value: unknown) => string): string | undefined {
  switch (scope.kind) {
    case 'all':
      return undefined;
    case 'user':
      return `user_id = ${param(scope.userId)}::uuid`;
    case 'locations':
      return `location_id = ANY(${param(scope.locations)}::integer[])`;
  }
}

const and = (sql: string | undefined) => (sql ? ` AND ${sql}` : '');

export interface ShiftFilter {
  userId?: string;
  locationId?: number;
  /** Only shifts that end after this time. */
  from?: string;
  /** Only shifts that start before this time. */
  to?: string;
  published?: boolean;
  /** Keyset: only shifts after this (startsAt as epoch milliseconds, id). */
  after?: [startsAtMs: number, id: string];
  limit: number;
}

export class ShiftRepository {
  constructor(private readonly db: Queryable) {}

  /** One page in (startsAt, id) order, plus whether another page follows. */
  async list(filter: ShiftFilter, scope: ShiftScope): Promise<{ shifts: Shift[]; more: boolean }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const inScope = scopeSql(scope, param);
    if (inScope) where.push(inScope);
    if (filter.userId !== undefined) where.push(`user_id = ${param(filter.userId)}`);
    if (filter.locationId !== undefined) where.push(`location_id = ${param(filter.locationId)}`);
    if (filter.published !== undefined) where.push(`published = ${param(filter.published)}`);
    if (filter.from !== undefined) {
      const p = param(filter.from);
      // Shifts last at most 24 hours, so the index scan can start a day before `from`.
      where.push(
        `ends_at > ${p}::timestamptz AND starts_at > ${p}::timestamptz - interval '24 hours'`,
      );
    }
    if (filter.to !== undefined) where.push(`starts_at < ${param(filter.to)}::timestamptz`);
    if (filter.after !== undefined) {
      const [startsAt, id] = filter.after;
      // Integer milliseconds, so the key compares exactly (no float rounding, no text parsing).
      where.push(
        `(starts_at, id) > ('epoch'::timestamptz + ${param(startsAt)}::bigint * interval '1 millisecond', ${param(id)}::uuid)`,
      );
    }
    const sql = `SELECT ${COLUMNS} FROM shifts.shifts
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY starts_at, id LIMIT ${param(filter.limit + 1)}`;
    try {
      const { rows } = await this.db.query<ShiftRow>(sql, params);
      return {
        shifts: rows.slice(0, filter.limit).map((r) => toShift(r).value),
        more: rows.length > filter.limit,
      };
    } catch (err) {
      translate(err);
    }
  }

  /** The shift, or 404 when it does not exist or is outside the caller's scope. */
  async get(id: string, scope: ShiftScope): Promise<Versioned<Shift>> {
    const params: unknown[] = [id];
    const inScope = scopeSql(scope, (v) => `$${params.push(v)}`);
    const { rows } = await this.db.query<ShiftRow>(
      `SELECT ${COLUMNS} FROM shifts.shifts WHERE id = $1${and(inScope)}`,
      params,
    );
    if (!rows[0]) throw notFound('shift', id);
    return toShift(rows[0]);
  }

  async create(input: ShiftCreate): Promise<Versioned<Shift>> {
    try {
      const { rows } = await this.db.query<ShiftRow>(
        `INSERT INTO shifts.shifts
           (user_id, location_id, position, starts_at, ends_at, break_minutes, notes, published)
         VALUES ($1, $2, $3, ${toMs('$4')}, ${toMs('$5')}, $6, $7, $8) RETURNING ${COLUMNS}`,
        [
          input.userId,
          input.locationId,
          input.position,
          input.startsAt,
          input.endsAt,
          input.breakMinutes ?? 0,
          input.notes ?? null,
          input.published ?? false,
        ],
      );
      return toShift(rows[0]!);
    } catch (err) {
      translate(err);
    }
  }

  /**
   * Applies the given fields to a shift in the caller's write scope; with expected versions, only
   * if the row is at one of them.
   */
  async update(
    id: string,
    patch: ShiftPatch,
    scope: { read: ShiftScope; write: ShiftScope },
    expected?: readonly number[],
  ): Promise<Versioned<Shift>> {
    const params: unknown[] = [id, expected ?? null];
    const sets = Object.entries(patch)
      .filter(([, v]) => v !== undefined)
      .map(([field, value]) => {
        const [column, expr] = PATCHABLE[field as keyof ShiftPatch];
        return `${column} = ${expr(`$${params.push(value)}`)}`;
      });
    if (sets.length === 0) throw invalid('body', 'must contain at least one field to change');
    const inScope = scopeSql(scope.write, (v) => `$${params.push(v)}`);
    try {
      const { rows } = await this.db.query<ShiftRow>(
        `UPDATE shifts.shifts SET ${sets.join(', ')}, version = version + 1, updated_at = now()
         WHERE id = $1 AND ($2::integer[] IS NULL OR version = ANY($2))${and(inScope)}
         RETURNING ${COLUMNS}`,
        params,
      );
      if (rows[0]) return toShift(rows[0]);
    } catch (err) {
      translate(err);
    }
    return this.explainMiss(id, scope.read, expected);
  }

  async delete(
    id: string,
    scope: { read: ShiftScope; write: ShiftScope },
    expected?: readonly number[],
  ): Promise<void> {
    const params: unknown[] = [id, expected ?? null];
    const inScope = scopeSql(scope.write, (v) => `$${params.push(v)}`);
    const { rowCount } = await this.db.query(
      `DELETE FROM shifts.shifts WHERE id = $1 AND ($2::integer[] IS NULL OR version = ANY($2))${and(inScope)}`,
      params,
    );
    if (rowCount === 0) await this.explainMiss(id, scope.read, expected);
  }

  /**
   * A write touched nothing: the row is gone or not visible to the caller (404), has moved on
   * (412), or is visible but outside what the caller may change (403).
   */
  private async explainMiss(
    id: string,
    read: ShiftScope,
    expected?: readonly number[],
  ): Promise<never> {
    const params: unknown[] = [id];
    const inScope = scopeSql(read, (v) => `$${params.push(v)}`);
    const { rows } = await this.db.query<{ version: number }>(
      `SELECT version FROM shifts.shifts WHERE id = $1${and(inScope)}`,
      params,
    );
    if (!rows[0]) throw notFound('shift', id);
    if (expected !== undefined && !expected.includes(rows[0].version)) {
      throw preconditionFailed(
        `shift ${id} has changed (now version ${rows[0].version}); read it again and retry`,
      );
    }
    throw forbidden(`you may not change shift ${id}`);
  }

  /**
   * Ten 8-hour shifts on consecutive days for each of `users` users, from the Monday of the
   * current week. User i is md5('shiftops-user-' || i) at location 1 + i % max(5, users / 100),
   * exactly as the users service seeds them, so the two data sets line up without a call.
   */
  async seed(users: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `INSERT INTO shifts.shifts
         (user_id, location_id, position, starts_at, ends_at, break_minutes, notes, published)
       SELECT md5('shiftops-user-' || i)::uuid,
              1 + i % greatest(5, $1::integer / 100),
              (ARRAY['cook','server','host','dishwasher','bartender','prep'])[1 + i % 6],
              s.starts_at,
              s.starts_at + interval '8 hours',
              30,
              CASE WHEN j = 0 THEN 'first shift of the period' END,
              j < 7
       FROM generate_series(1, $1::integer) AS i
       CROSS JOIN generate_series(0, 9) AS j
       CROSS JOIN LATERAL (
         SELECT date_trunc('week', now()) + (j + i % 4) * interval '1 day'
                + (6 + (i % 3) * 4) * interval '1 hour' AS starts_at
       ) AS s
       WHERE NOT EXISTS (SELECT 1 FROM shifts.shifts)`,
      [users],
    );
    return rowCount;
  }
}
