import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { parseTimestamptz } from '../src/db/postgres.js';
import { openPostgres, sqlState, isDatabaseUnavailable, type Database } from '../src/index.js';
import { createTestDatabase, postgresUrl, silentLogger } from '../testing/index.js';

const url = postgresUrl();

describe(
  'single statements on shared pipelined connections',
  { skip: url ? false : 'no PostgreSQL server' },
  () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let db: Database;
    before(async () => {
      database = await createTestDatabase(url!);
      db = openPostgres({
        url: database.url,
        poolMax: 10,
        statementTimeoutMs: 300,
        applicationName: 'pipeline-test',
        logger: silentLogger,
      });
    });
    after(async () => {
      await db.close();
      await database.drop();
    });

    test('one failing query fails alone: its concurrent neighbours on the same connection succeed', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) =>
          i === 17
            ? db.query('SELECT 1 / ($1::integer - $1::integer) AS boom', [i])
            : db.query<{ n: number; pid: number }>(
                'SELECT $1::integer AS n, pg_backend_pid() AS pid',
                [i],
              ),
        ),
      );
      const failed = results[17]!;
      assert.equal(failed.status, 'rejected');
      assert.equal(sqlState((failed as PromiseRejectedResult).reason), '22012', 'division by zero');
      const pids = new Set<number>();
      results.forEach((r, i) => {
        if (i === 17) return;
        assert.equal(
          r.status,
          'fulfilled',
          `query ${i} failed: ${String((r as PromiseRejectedResult).reason)}`,
        );
        const row = (r as PromiseFulfilledResult<{ rows: { n: number; pid: number }[] }>).value
          .rows[0]!;
        assert.equal(row.n, i, 'each query gets its own answer, in order');
        pids.add(row.pid);
      });
      assert.ok(pids.size <= 2, `40 queries shared at most 2 connections, saw ${pids.size}`);
    });

    test('a statement cancelled by statement_timeout fails alone, and application_name applies', async () => {
      const [slow, ...fast] = await Promise.allSettled([
        db.query('SELECT pg_sleep(2)'),
        ...Array.from({ length: 10 }, () =>
          db.query<{ app: string; timeout: string }>(
            "SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS timeout",
          ),
        ),
      ]);
      assert.equal(slow!.status, 'rejected');
      assert.equal(sqlState((slow as PromiseRejectedResult).reason), '57014', 'query_canceled');
      for (const r of fast) {
        assert.equal(r.status, 'fulfilled');
        const row = (r as PromiseFulfilledResult<{ rows: { app: string; timeout: string }[] }>)
          .value.rows[0]!;
        assert.deepEqual(row, { app: 'pipeline-test', timeout: '300ms' });
      }
    });

    test('a transaction keeps its own connection: its uncommitted write is invisible to single statements', async () => {
      await db.query('CREATE TABLE IF NOT EXISTS pipeline_tx (id int PRIMARY KEY)');
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO pipeline_tx VALUES (1)');
        const outside = await db.query('SELECT 1 FROM pipeline_tx');
        assert.equal(outside.rowCount, 0);
        const inside = await tx.query('SELECT 1 FROM pipeline_tx');
        assert.equal(inside.rowCount, 1);
      });
      assert.equal((await db.query('SELECT 1 FROM pipeline_tx')).rowCount, 1, 'committed');
    });

    test('a transaction whose connection is killed mid-way rejects as unavailable; the process lives on and the next transaction reconnects', async () => {
      // A database restart ends every backend, also one whose client is checked out of the pool
      // for a transaction: pg emits 'error' on that client, which would crash the process if
      // nothing listened (node:test fails this test on the uncaught exception).
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      try {
        let inTransaction!: (pid: number) => void;
        const pid = new Promise<number>((resolve) => (inTransaction = resolve));
        let proceed!: () => void;
        const killed = new Promise<void>((resolve) => (proceed = resolve));
        const transaction = db.transaction(async (tx) => {
          const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          inTransaction(rows[0]!.pid);
          await killed;
          await tx.query('SELECT 1');
        });
        const victim = await pid;
        await admin.query('SELECT pg_terminate_backend($1)', [victim]);
        // Gone from the server's side; then give the client's socket a moment to see it close,
        // so the kill lands while the transaction sits idle between statements.
        for (let polls = 0; ; polls++) {
          assert.ok(polls < 500, 'the backend ends within 5 s');
          const { rowCount } = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [
            victim,
          ]);
          if (rowCount === 0) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        await new Promise((r) => setTimeout(r, 100));
        proceed();
        const outcome = await transaction.then(
          () => undefined,
          (err: unknown) => err,
        );
        assert.ok(outcome, 'the transaction failed');
        assert.ok(isDatabaseUnavailable(outcome), `as unavailable (503): ${String(outcome)}`);
        const next = await db.transaction(async (tx) => {
          const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          return rows[0]!.pid;
        });
        assert.notEqual(next, victim, 'the next transaction ran on a new connection');
      } finally {
        await admin.end();
      }
    });

    /** The backends of the two lanes: concurrent small statements alternate between them. */
    async function lanePids(on: Database = db): Promise<number[]> {
      const rows = await Promise.all(
        Array.from({ length: 10 }, () =>
          on.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'),
        ),
      );
      const pids = [...new Set(rows.map((r) => r.rows[0]!.pid))];
      assert.equal(pids.length, 2, `10 concurrent small statements used both lanes: ${pids}`);
      return pids;
    }

    test('statements returning many rows go to pooled clients, small ones stay on the lanes', async () => {
      const lanes = await lanePids();
      const large = 'SELECT pg_backend_pid() AS pid, g FROM generate_series(1, 20) AS g';
      await db.query(large); // learns that this statement returns 20 rows
      const results = await Promise.all(
        Array.from({ length: 6 }, () => db.query<{ pid: number }>(large)),
      );
      for (const r of results) {
        assert.equal(r.rowCount, 20);
        assert.ok(!lanes.includes(r.rows[0]!.pid), 'answered by a pooled client, not a lane');
      }
      assert.deepEqual(new Set(await lanePids()), new Set(lanes), 'the lanes are unchanged');
    });

    test('a killed connection fails exactly its in-flight queries (as unavailable); the rest succeed and the next query reconnects', async () => {
      // Its own connections with a long statement timeout: the queries wait on an advisory lock,
      // so the kill lands while all six are in flight however busy the machine is.
      const blocked = openPostgres({
        url: database.url,
        poolMax: 10,
        statementTimeoutMs: 10_000,
        applicationName: 'pipeline-kill',
        logger: silentLogger,
      });
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      try {
        const [killed, survivor] = await lanePids(blocked);
        await admin.query('SELECT pg_advisory_lock(4242)');
        // Six at once alternate between the two idle lanes: three pipelined on each, the first
        // of each waiting for the lock, the other two queued behind it on the same connection.
        const inFlight = Promise.allSettled(
          Array.from({ length: 6 }, () =>
            blocked.query<{ pid: number }>(
              'SELECT pg_backend_pid() AS pid, pg_advisory_xact_lock_shared(4242) AS locked',
            ),
          ),
        );
        for (let waiting = 0, polls = 0; waiting < 2; polls++) {
          assert.ok(polls < 1000, `both lanes wait on the lock within 10 s (${waiting} do)`);
          await new Promise((r) => setTimeout(r, 10));
          const { rows } = await admin.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1) AND wait_event_type = 'Lock'",
            [[killed, survivor]],
          );
          waiting = rows[0]!.n;
        }
        await admin.query('SELECT pg_terminate_backend($1)', [killed]);
        await admin.query('SELECT pg_advisory_unlock(4242)');
        const settled = await inFlight;
        const failed = settled.filter((r) => r.status === 'rejected');
        const answered = settled.filter((r) => r.status === 'fulfilled');
        assert.equal(failed.length, 3, 'the three queries on the killed connection failed');
        for (const r of failed) assert.ok(isDatabaseUnavailable(r.reason), String(r.reason));
        assert.equal(answered.length, 3, 'the three on the other connection were answered');
        for (const r of answered) assert.equal(r.value.rows[0]!.pid, survivor);
        const after = await lanePids(blocked);
        assert.ok(!after.includes(killed!), 'the killed lane answered on a new connection');
        assert.ok(after.includes(survivor!), 'the other lane kept its connection');
        assert.ok(blocked.stats().total <= 10, 'the connection budget holds');
      } finally {
        await admin.end();
        await blocked.close();
      }
    });
  },
);

test("timestamptz text parses to the same instant as pg's own parser", () => {
  const reference = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text');
  for (const text of [
    '2026-11-23 06:00:00+00',
    '2026-11-23 06:00:00.1+00',
    '2026-11-23 06:00:00.123456+00',
    '2026-11-23 06:00:00.999999+00',
    '2026-11-23 06:00:00.5-08',
    '2026-11-23 11:30:00.25+05:30',
    '1999-12-31 23:59:59.999+14',
    '2000-02-29 00:00:00-09:30',
    '0099-01-01 00:00:00+00',
    '0044-03-15 12:00:00+00 BC',
    '12026-01-01 00:00:00+00',
    '1900-01-01 00:00:00+00:19:32',
  ]) {
    const ours = parseTimestamptz(text);
    const theirs = reference(text) as Date;
    assert.equal(ours.getTime(), theirs.getTime(), text);
  }
  assert.equal(parseTimestamptz('infinity'), Infinity);
});

describe('timestamptz from the server', { skip: url ? false : 'no PostgreSQL server' }, () => {
  test('is the same instant in any session time zone', async () => {
    const database = await createTestDatabase(url!);
    const db = openPostgres({
      url: database.url,
      poolMax: 2,
      statementTimeoutMs: 5000,
      applicationName: 'tz-test',
      logger: silentLogger,
    });
    try {
      const instant = '2026-11-23T06:00:00.123Z';
      for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Kiritimati']) {
        const row = await db.transaction(async (tx) => {
          await tx.query(`SET LOCAL TimeZone = '${zone}'`);
          return (
            await tx.query<{ t: Date; text: string }>(
              'SELECT $1::timestamptz AS t, $1::timestamptz::text AS text',
              [instant],
            )
          ).rows[0]!;
        });
        assert.equal(row.t.toISOString(), instant, `${zone}: ${row.text}`);
      }
      const piped = await db.query<{ t: Date }>('SELECT $1::timestamptz AS t', [instant]);
      assert.equal(piped.rows[0]!.t.toISOString(), instant);
    } finally {
      await db.close();
      await database.drop();
    }
  });
});
