import {
  conflict,
  forbidden,
  constraintName,
  invalid,
  notFound,
  preconditionFailed,
  sqlState,
  type Queryable,
  type Versioned,
} from '@shiftops/service-kit';
import type { UserScope } from './access.js';
import type { User, UserCreate, UserPatch } from './schemas.js';

interface UserRow {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  role: User['role'];
  location_id: number;
  active: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS =
  'id, email, first_name, last_name, role, location_id, active, version, created_at, updated_at';

// API field → column. Only these names ever reach SQL text; values always go as parameters.
const PATCHABLE: Record<keyof UserPatch, string> = {
  email: 'email',
  firstName: 'first_name',
  lastName: 'last_name',
  role: 'role',
  locationId: 'location_id',
  active: 'active',
};

function toUser(row: UserRow): Versioned<User> {
  return {
    version: row.version,
    value: {
      id: row.id,
      email: row.email,
      firstName: row.first_name,
      lastName: row.last_name,
      role: row.role,
      locationId: row.location_id,
      active: row.active,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    },
  };
}

function translate(err: unknown): never {
  if (sqlState(err) === '23505' && constraintName(err) === 'users_email_key') {
    throw conflict('a user with this email already exists', 'email');
  }
  throw err;
}

/** LIKE pattern that matches `text` literally anywhere. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The scope as SQL over users.users, its values as parameters; undefined: no restriction. */
function scopeSql(scope: UserScope, param: (value: unknown) => string): string | undefined {
  switch (scope.kind) {
    case 'all':
      return undefined;
    case 'self':
      return `id = ${param(scope.userId)}::uuid`;
    case 'locations':
      return `location_id = ANY(${param(scope.locations)}::integer[])${scope.exceptAdmins ? ` AND role <> 'admin'` : ''}`;
  }
}

export interface UserFilter {
  locationId?: number;
  role?: User['role'];
  active?: boolean;
  q?: string;
  /** Keyset: only users with an id after this one. */
  afterId?: string;
  limit: number;
}

export class UserRepository {
  constructor(private readonly db: Queryable) {}

  /** One page in id order, plus whether another page follows. Cost is the same at any depth. */
  async list(filter: UserFilter, scope: UserScope): Promise<{ users: User[]; more: boolean }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const inScope = scopeSql(scope, param);
    if (inScope) where.push(inScope);
    if (filter.locationId !== undefined) where.push(`location_id = ${param(filter.locationId)}`);
    if (filter.role !== undefined) where.push(`role = ${param(filter.role)}`);
    if (filter.active !== undefined) where.push(`active = ${param(filter.active)}`);
    if (filter.q !== undefined) {
      const p = param(containing(filter.q));
      where.push(`(first_name ILIKE ${p} OR last_name ILIKE ${p} OR email ILIKE ${p})`);
    }
    if (filter.afterId !== undefined) where.push(`id > ${param(filter.afterId)}`);
    const sql = `SELECT ${COLUMNS} FROM users.users
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id LIMIT ${param(filter.limit + 1)}`;
    const { rows } = await this.db.query<UserRow>(sql, params);
    return {
      users: rows.slice(0, filter.limit).map((r) => toUser(r).value),
      more: rows.length > filter.limit,
    };
  }

  /** The user, or 404 when it does not exist or is outside the caller's scope. */
  async get(id: string, scope: UserScope): Promise<Versioned<User>> {
    const params: unknown[] = [id];
    const inScope = scopeSql(scope, (v) => `$${params.push(v)}`);
    const { rows } = await this.db.query<UserRow>(
      `SELECT ${COLUMNS} FROM users.users WHERE id = $1${inScope ? ` AND ${inScope}` : ''}`,
      params,
    );
    if (!rows[0]) throw notFound('user', id);
    return toUser(rows[0]);
  }

  async create(input: UserCreate): Promise<Versioned<User>> {
    try {
      const { rows } = await this.db.query<UserRow>(
        `INSERT INTO users.users (email, first_name, last_name, role, location_id, active)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [
          input.email,
          input.firstName,
          input.lastName,
          input.role,
          input.locationId,
          input.active ?? true,
        ],
      );
      return toUser(rows[0]!);
    } catch (err) {
      translate(err);
    }
  }

  /**
   * Applies the given fields to a user in the caller's write scope; with expected versions, only
   * if the row is at one of them.
   */
  async update(
    id: string,
    patch: UserPatch,
    scope: { read: UserScope; write: UserScope },
    expected?: readonly number[],
  ): Promise<Versioned<User>> {
    const params: unknown[] = [id, expected ?? null];
    const param = (value: unknown) => `$${params.push(value)}`;
    const sets = Object.entries(patch)
      .filter(([, v]) => v !== undefined)
      .map(([field, value]) => `${PATCHABLE[field as keyof UserPatch]} = ${param(value)}`);
    if (sets.length === 0) throw invalid('body', 'must contain at least one field to change');
    const inScope = scopeSql(scope.write, param);
    try {
      const { rows } = await this.db.query<UserRow>(
        `UPDATE users.users SET ${sets.join(', ')}, version = version + 1, updated_at = now()
         WHERE id = $1 AND ($2::integer[] IS NULL OR version = ANY($2))${inScope ? ` AND ${inScope}` : ''}
         RETURNING ${COLUMNS}`,
        params,
      );
      if (rows[0]) return toUser(rows[0]);
    } catch (err) {
      translate(err);
    }
    return this.explainMiss(id, scope.read, expected);
  }

  async delete(
    id: string,
    scope: { read: UserScope; write: UserScope },
    expected?: readonly number[],
  ): Promise<void> {
    const params: unknown[] = [id, expected ?? null];
    const inScope = scopeSql(scope.write, (v) => `$${params.push(v)}`);
    const { rowCount } = await this.db.query(
      `DELETE FROM users.users WHERE id = $1 AND ($2::integer[] IS NULL OR version = ANY($2))${inScope ? ` AND ${inScope}` : ''}`,
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
    read: UserScope,
    expected?: readonly number[],
  ): Promise<never> {
    const params: unknown[] = [id];
    const inScope = scopeSql(read, (v) => `$${params.push(v)}`);
    const { rows } = await this.db.query<{ version: number }>(
      `SELECT version FROM users.users WHERE id = $1${inScope ? ` AND ${inScope}` : ''}`,
      params,
    );
    if (!rows[0]) throw notFound('user', id);
    if (expected !== undefined && !expected.includes(rows[0].version)) {
      throw preconditionFailed(
        `user ${id} has changed (now version ${rows[0].version}); read it again and retry`,
      );
    }
    throw forbidden(`you may not change user ${id}`);
  }

  /**
   * Deterministic data for demos and benchmarks: user i has id md5('shiftops-user-' || i), so the
   * shifts service can seed shifts for the same users without calling this service.
   */
  async seed(count: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `INSERT INTO users.users (id, email, first_name, last_name, role, location_id, active)
       SELECT md5('shiftops-user-' || i)::uuid,
              'user' || i || '@example.com',
              (ARRAY['Ava','Ben','Chloe','Dev','Elena','Farid','Grace','Hiro','Isla','Jonas',
                     'Kemi','Liam','Maya','Noah','Olga','Priya','Quinn','Rosa','Sami','Tara'])[1 + i % 20],
              (ARRAY['Nguyen','Smith','Garcia','Okafor','Kowalski','Tanaka','Silva','Cohen','Martin','Haddad',
                     'Dubois','Rossi','Novak','Singh','Brown','Larsen','Moreau','Ivanova','Park','Reyes'])[1 + (i / 20) % 20],
              CASE WHEN i % 50 = 0 THEN 'admin' WHEN i % 10 = 0 THEN 'manager' ELSE 'employee' END,
              1 + i % greatest(5, $1::integer / 100),
              i % 17 <> 0
       FROM generate_series(1, $1::integer) AS i
       WHERE NOT EXISTS (SELECT 1 FROM users.users)`,
      [count],
    );
    return rowCount;
  }
}
