import { createHash } from 'node:crypto';
import Type from 'typebox';
import type { Principal } from '../auth/principal.js';
import type { Database, Queryable } from '../db/database.js';
import { HttpProblem } from './problems.js';

/** How long a key is remembered (Stripe's convention): a retry after that is a new request. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

export const IdempotencyKeyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\u0021-\\u007e]+$',
      description:
        'Any unique string (a UUID) to make a create safe to retry: the same key from the same caller with the same body within 24 hours answers the first response again (with `Idempotent-Replayed: true`) instead of creating twice; the same key with another body, or from another caller, is a 422; a retry while the first request runs waits for it and answers the same; a 409 only for a key claimed by a replica running older code',
    }),
  ),
});

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** JSON with object keys sorted, so the same body in another key order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Idempotency keys, kept in the service's own database so every replica sees the same keys. A
 * key belongs to its caller (the principal's user id, stored with it and part of the request's
 * fingerprint): another caller presenting it gets a 422, so nobody is ever answered with someone
 * else's response. Claiming the key (one INSERT, or taking over an expired one), the create and
 * the stored response are one transaction: a create that fails, or a database that goes away
 * halfway (a restart), leaves no claim behind, so the retry runs again; a retry arriving while the
 * first request runs waits on the key's row and then replays its committed response. The create
 * must run its SQL on the transaction it is given.
 */
export class IdempotencyStore {
  private readonly table: string;
  private claims = 0;

  constructor(
    private readonly db: Database,
    schema: string,
    private readonly ttlSeconds = IDEMPOTENCY_TTL_SECONDS,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
    this.table = `${schema}.idempotency_keys`;
  }

  async run(
    key: string | undefined,
    request: { caller: Principal; method: string; path: string; body: unknown },
    create: (db: Queryable) => Promise<StoredResponse>,
  ): Promise<StoredResponse & { replayed: boolean }> {
    if (key === undefined) return { ...(await create(this.db)), replayed: false };
    const caller = request.caller.userId;
    const fingerprint = createHash('sha256')
      .update(`${caller}\n${request.method} ${request.path}\n${canonical(request.body)}`)
      .digest('hex');
    const result = await this.db.transaction(async (tx) => {
      const claimed = await tx.query(
        `INSERT INTO ${this.table} (caller, key, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE
           SET caller = EXCLUDED.caller, request_hash = EXCLUDED.request_hash, status = NULL,
             response = NULL, created_at = now()
           WHERE ${this.table}.created_at < now() - $4::integer * interval '1 second'
         RETURNING key`,
        [caller, key, fingerprint, this.ttlSeconds],
      );
      if (claimed.rowCount === 0)
        return { ...(await this.previous(tx, caller, key, fingerprint)), replayed: true };
      const response = await create(tx);
      await tx.query(
        `UPDATE ${this.table} SET status = $3, response = $4 WHERE key = $1 AND caller = $2`,
        [
          key,
          caller,
          response.status,
          JSON.stringify({ headers: response.headers, body: response.body }),
        ],
      );
      return { ...response, replayed: false };
    });
    if (!result.replayed && ++this.claims % 64 === 0) await this.forgetExpired();
    return result;
  }

  private async previous(
    tx: Queryable,
    caller: string,
    key: string,
    fingerprint: string,
  ): Promise<StoredResponse> {
    const { rows } = await tx.query<{
      caller: string;
      request_hash: string;
      status: number | null;
      response: { headers: Record<string, string>; body: unknown } | null;
    }>(`SELECT caller, request_hash, status, response FROM ${this.table} WHERE key = $1`, [key]);
    const row = rows[0];
    if (!row) {
      // Given back by a failed first attempt a moment ago: this retry may run it again.
      throw new HttpProblem(
        'conflict',
        'this Idempotency-Key was just released; retry',
        {},
        { 'retry-after': '1' },
      );
    }
    if (row.caller !== caller) {
      throw new HttpProblem(
        'unprocessable-content',
        'this Idempotency-Key is in use by another request; use a new unique key (a UUID) for each request',
        { errors: [{ field: 'idempotency-key', message: 'is in use by another request' }] },
      );
    }
    if (row.request_hash !== fingerprint) {
      throw new HttpProblem(
        'unprocessable-content',
        'this Idempotency-Key was used with another request body; use a new key for a new request',
        { errors: [{ field: 'idempotency-key', message: 'was used with another request body' }] },
      );
    }
    if (row.status === null || !row.response) {
      throw new HttpProblem(
        'conflict',
        'a request with this Idempotency-Key is still in progress; retry shortly',
        {},
        { 'retry-after': '1' },
      );
    }
    return { status: row.status, headers: row.response.headers, body: row.response.body };
  }

  private async forgetExpired() {
    await this.db.query(
      `DELETE FROM ${this.table} WHERE created_at < now() - $1::integer * interval '1 second'`,
      [this.ttlSeconds],
    );
  }
}
