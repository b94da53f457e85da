import pg from 'pg';
import type { Logger } from 'pino';
import { withTimeout, type Database, type Queryable, type QueryResult } from './database.js';

export interface PostgresOptions {
  url: string;
  poolMax: number;
  statementTimeoutMs: number;
  applicationName: string;
  logger: Logger;
}

function wrap(client: pg.PoolClient): Queryable {
  return {
    async query<R>(text: string, params?: unknown[]): Promise<QueryResult<R>> {
      const r = await client.query(text, params as unknown[]);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}

/** PostgreSQL server through a node-postgres pool. */
export function openPostgres(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    // Fail fast while the server is down so requests get a 503 instead of queueing for minutes.
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs,
    application_name: options.applicationName,
  });
  // An idle client losing its connection (server restart) must not crash the process: the pool
  // drops that client and the next query opens a new connection.
  pool.on('error', (err) =>
    options.logger.warn({ err: err.message }, 'idle database connection lost'),
  );

  return {
    kind: 'postgres',
    async query<R>(text: string, params?: unknown[]): Promise<QueryResult<R>> {
      const r = await pool.query(text, params as unknown[]);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr as Error;
        }
        throw err;
      } finally {
        // A client whose ROLLBACK failed is in an unknown state: destroy it rather than reuse it.
        client.release(broken);
      }
    },
    async ping(timeoutMs: number) {
      await withTimeout(pool.query('SELECT 1'), timeoutMs, 'database ping');
    },
    stats() {
      return {
        total: pool.totalCount,
        idle: pool.idleCount,
        waiting: pool.waitingCount,
        max: options.poolMax,
      };
    },
    async close() {
      await pool.end();
    },
  };
}
