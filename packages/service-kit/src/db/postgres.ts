import pg from 'pg';
import type { Logger } from 'pino';
import { withTimeout, type Database, type Queryable, type QueryResult } from './database.js';
import { ResultSizes, route } from './route.js';

export interface PostgresOptions {
  url: string;
  /** Connections per process: the pipelined lanes plus the pool that serves transactions. */
  poolMax: number;
  statementTimeoutMs: number;
  applicationName: string;
  logger: Logger;
}

/**
 * How many shared pipelined connections carry small single statements (route.ts decides which
 * go there). Two kept PostgreSQL and Node busy on the 2-core benchmark machine (bench/README.md);
 * each one is a backend that runs its queries one after another, so more lanes buy parallelism
 * on a bigger database server.
 */
const PIPELINED_LANES = 2;
// Fail fast while the server is down so requests get a 503 instead of queueing for minutes.
const CONNECT_TIMEOUT_MS = 2000;

const defaultTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text');
const digits = (s: string, from: number, to: number) => {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
};

/**
 * timestamptz as PostgreSQL prints it ("2026-11-23 06:00:00.123456+00", any offset), parsed
 * without regular expressions: a list page has two per row and pg's generic parser was the largest
 * single cost of turning a page into JSON. Same result as pg's parser (milliseconds truncated);
 * anything unusual (BC, infinity, 5-digit years, second offsets) goes to pg's parser.
 */
export function parseTimestamptz(s: string): Date {
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46 /* . */) {
    let scale = 100;
    for (i++; i < s.length; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      ms += d * scale;
      scale /= 10;
    }
    ms = Math.trunc(ms);
  }
  const sign = s[i] === '+' ? 1 : s[i] === '-' ? -1 : 0;
  const offsetMinutes =
    s.length === i + 3
      ? digits(s, i + 1, i + 3) * 60
      : s.length === i + 6 && s[i + 3] === ':'
        ? digits(s, i + 1, i + 3) * 60 + digits(s, i + 4, i + 6)
        : NaN;
  const year = digits(s, 0, 4);
  if (!sign || s[4] !== '-' || s[10] !== ' ' || !(year >= 1000) || Number.isNaN(offsetMinutes)) {
    return defaultTimestamptz(s) as Date;
  }
  const utc = Date.UTC(
    year,
    digits(s, 5, 7) - 1,
    digits(s, 8, 10),
    digits(s, 11, 13),
    digits(s, 14, 16),
    digits(s, 17, 19),
    ms,
  );
  return Number.isNaN(utc)
    ? (defaultTimestamptz(s) as Date)
    : new Date(utc - sign * offsetMinutes * 60_000);
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.TIMESTAMPTZ && format !== 'binary'
      ? parseTimestamptz
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

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

/**
 * One shared connection in pipeline mode: every query is written at once, each followed by its own
 * Sync, so each is its own implicit transaction and an error fails that query alone. The client
 * is opened on first use and replaced after its connection dies (a database restart), so an
 * outage costs the queries in flight, which fail with a connection error (503), and nothing after.
 */
class Lane {
  client: pg.Client | undefined;
  inFlight = 0;
  largeInFlight = 0;
  #connecting: Promise<pg.Client> | undefined;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly logger: Logger,
  ) {}

  connect(): Promise<pg.Client> {
    this.#connecting ??= (async () => {
      const client = new pg.Client(this.config);
      const forget = () => {
        if (this.client === client) this.client = undefined;
      };
      // Without a listener a lost connection would crash the process; pg already failed the
      // queries that were in flight on it.
      client.on('error', (err) => {
        forget();
        this.logger.warn({ err: err.message }, 'pipelined database connection lost');
      });
      client.on('end', forget);
      try {
        await client.connect();
        this.client = client;
        return client;
      } catch (err) {
        client.end().catch(() => {});
        throw err;
      } finally {
        this.#connecting = undefined;
      }
    })();
    return this.#connecting;
  }

  async close(): Promise<void> {
    const client = this.client ?? (await this.#connecting?.catch(() => undefined));
    this.client = undefined;
    // In pipeline mode end() lets the queries already sent finish first.
    await client?.end();
  }
}

/**
 * PostgreSQL server. Small single statements (query) share a few pipelined connections; large
 * ones (many rows) and anything that needs a session of its own (transaction, exec's
 * multi-statement scripts) take a pooled client (route.ts says why). So a query() must be
 * self-contained (no SET, BEGIN or session advisory lock), which it already had to be on a pool.
 * The price: a statement waiting on a lock (a row held by someone's long transaction) holds up
 * the statements queued behind it on its lane, for at most statement_timeout; new statements go
 * to the lane with the fewest in flight.
 */
export function openPostgres(options: PostgresOptions): Database {
  const connection = {
    connectionString: options.url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: options.statementTimeoutMs,
    application_name: options.applicationName,
    types,
  };
  // DB_POOL_MAX stays the connection budget of the process; a pool of one keeps the plain path.
  const laneCount = Math.min(PIPELINED_LANES, options.poolMax - 1);
  const poolMax = options.poolMax - laneCount;
  const lanes = Array.from(
    { length: laneCount },
    () => new Lane({ ...connection, pipeline: true }, options.logger),
  );
  const pool = new pg.Pool({ ...connection, max: poolMax, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection (server restart) must not crash the process: the pool
  // drops that client and the next query opens a new connection.
  pool.on('error', (err) =>
    options.logger.warn({ err: err.message }, 'idle database connection lost'),
  );
  const sizes = new ResultSizes();
  // Pooled clients in use or promised, counted here because pg.Pool hands out idle clients on the
  // next tick: its own counters lag behind several queries started in the same tick.
  let poolBusy = 0;
  async function onPool<T>(fn: () => Promise<T>): Promise<T> {
    poolBusy++;
    try {
      return await fn();
    } finally {
      poolBusy--;
    }
  }

  let closed = false;

  async function single(text: string, params?: unknown[]): Promise<pg.QueryResult> {
    if (closed) throw new Error('the database was closed');
    const large = sizes.isLarge(text);
    const choice = route({
      large,
      poolBusy,
      poolSize: poolMax,
      laneInFlight: lanes.map((l) => l.inFlight),
      laneLarge: lanes.map((l) => l.largeInFlight),
    });
    let result: pg.QueryResult;
    if (choice === 'pool') {
      result = await onPool(() => pool.query(text, params as unknown[]));
    } else {
      const lane = lanes[choice]!;
      lane.inFlight++;
      if (large) lane.largeInFlight++;
      try {
        const client = lane.client ?? (await lane.connect());
        result = await client.query(text, params as unknown[]);
      } finally {
        lane.inFlight--;
        if (large) lane.largeInFlight--;
      }
    }
    sizes.record(text, result.rows.length);
    return result;
  }

  async function inTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    // pg.Pool listens for errors only on idle clients. A checked-out client whose connection dies
    // (a database restart) emits 'error', which would crash the process with no listener here; the
    // statement in flight fails with it anyway, and release(broken) then discards the client.
    const onError = (err: Error) => {
      broken = err;
      options.logger.warn({ err: err.message }, 'database connection lost in a transaction');
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(wrap(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken ??= rollbackErr as Error;
      }
      throw err;
    } finally {
      // A client whose connection died or whose ROLLBACK failed is in an unknown state: destroy
      // it rather than reuse it.
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  return {
    kind: 'postgres',
    async query<R>(text: string, params?: unknown[]): Promise<QueryResult<R>> {
      const r = await single(text, params);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
    async exec(sql: string) {
      // A script may hold session state (SET, temporary tables): never on a shared connection.
      await onPool(() => pool.query(sql));
    },
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return onPool(() => inTransaction(fn));
    },
    async ping(timeoutMs: number) {
      await withTimeout(single('SELECT 1'), timeoutMs, 'database ping');
    },
    stats() {
      const open = lanes.filter((l) => l.client);
      return {
        total: pool.totalCount + open.length,
        idle: pool.idleCount + open.filter((l) => l.inFlight === 0).length,
        waiting: pool.waitingCount,
        max: options.poolMax,
      };
    },
    async close() {
      closed = true;
      await Promise.all([...lanes.map((l) => l.close()), pool.end()]);
    },
  };
}
