import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  bearer,
  createTestDatabase,
  http,
  postgresUrl,
  startPostgresServer,
  startService,
  type PostgresServer,
} from '@shiftops/service-kit/testing';

const serverUrl = postgresUrl();
const skip = serverUrl ? false : 'no PostgreSQL server (set TEST_DATABASE_URL)';
const user = (email: string) => ({
  email,
  firstName: 'Sig',
  lastName: 'Term',
  role: 'employee',
  locationId: 1,
});

/** A request to the API as the test administrator. */
const api = async (url: string, init: Parameters<typeof http>[1] = {}) =>
  http(url, { ...init, headers: { ...(await bearer()), ...init.headers } });

/** Polls until fn returns true or the time is up. */
async function until(fn: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('users process lifecycle on PostgreSQL', { skip }, () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  before(async () => {
    database = await createTestDatabase(serverUrl!);
  });
  after(() => database.drop());

  test('SIGTERM: /readyz is 503 before the listener closes, the in-flight request completes with 200, exit 0', async () => {
    const svc = await startService('users', { DATABASE_URL: database.url, DRAIN_DELAY_MS: '1000' });
    const created = await api(`${svc.url}/v1/users`, {
      method: 'POST',
      body: user('drain@example.com'),
    });
    assert.equal(created.status, 201, created.body);
    const { id } = JSON.parse(created.body);

    // Hold the row lock so the PATCH below is still running when the signal arrives.
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM users.users WHERE id = $1 FOR UPDATE', [id]);
    const inFlight = api(`${svc.url}/v1/users/${id}`, {
      method: 'PATCH',
      body: { lastName: 'Drained' },
    });
    await until(
      async () =>
        (
          await locker.query(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = 'users' AND wait_event_type = 'Lock'",
          )
        ).rowCount === 1,
      10_000,
      'the PATCH to wait on the row lock',
    );

    svc.child.kill('SIGTERM');
    const seen: string[] = [];
    await until(
      async () => {
        try {
          const r = await http(`${svc.opsUrl}/readyz`);
          if (seen.at(-1) !== String(r.status)) seen.push(String(r.status));
          return false;
        } catch {
          seen.push('closed');
          return true;
        }
      },
      10_000,
      'the listener to close',
    );
    assert.deepEqual(seen.slice(-2), ['503', 'closed'], `readiness went ${seen.join(' → ')}`);
    assert.equal(svc.child.exitCode, null, 'still running: it waits for the in-flight request');

    await locker.query('COMMIT');
    await locker.end();
    const response = await inFlight;
    assert.equal(response.status, 200, response.body);
    assert.equal(JSON.parse(response.body).lastName, 'Drained');
    assert.equal(await svc.exited, 0, svc.logs());
  });

  test('a second signal exits at once, without waiting for the drain delay', async () => {
    const svc = await startService('users', {
      DATABASE_URL: database.url,
      DRAIN_DELAY_MS: '60000',
    });
    svc.child.kill('SIGTERM');
    await until(async () => (await http(`${svc.opsUrl}/readyz`)).status === 503, 5000, 'draining');
    const t0 = Date.now();
    svc.child.kill('SIGTERM');
    assert.equal(await svc.exited, 130);
    assert.ok(Date.now() - t0 < 5000);
  });
});

describe('users through a database outage', { skip }, () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgresServer();
  });
  after(() => server.destroy());

  test('started while PostgreSQL is down: alive, not ready, API 503; ready once it is up', async () => {
    server.stop();
    const svc = await startService(
      'users',
      { DATABASE_URL: server.url, DRAIN_DELAY_MS: '0' },
      { waitFor: '/livez' },
    );
    try {
      assert.deepEqual(JSON.parse((await http(`${svc.opsUrl}/readyz`)).body), {
        status: 'starting',
      });
      const res = await api(`${svc.url}/v1/users`);
      assert.equal(res.status, 503);
      assert.ok(Number(res.headers['retry-after']) > 0);
      server.start();
      await until(
        async () => (await http(`${svc.opsUrl}/readyz`)).status === 200,
        15_000,
        'ready after migrating',
      );
      assert.equal((await api(`${svc.url}/v1/users`)).status, 200);
    } finally {
      server.start();
      svc.child.kill('SIGTERM');
      await svc.exited;
    }
  });

  test('503 problem+json with Retry-After while PostgreSQL is down, recovery without a restart', async () => {
    const svc = await startService('users', { DATABASE_URL: server.url, DRAIN_DELAY_MS: '0' });
    assert.equal(
      (await api(`${svc.url}/v1/users`, { method: 'POST', body: user('before@example.com') }))
        .status,
      201,
    );

    server.stop();
    const down = await api(`${svc.url}/v1/users?limit=5`);
    assert.equal(down.status, 503, down.body);
    assert.match(String(down.headers['content-type']), /^application\/problem\+json/);
    assert.ok(Number(down.headers['retry-after']) > 0);
    assert.equal(JSON.parse(down.body).status, 503);
    assert.equal((await http(`${svc.opsUrl}/readyz`)).status, 503);
    assert.equal((await http(`${svc.opsUrl}/livez`)).status, 200, 'alive: no reason to restart it');
    const write = await api(`${svc.url}/v1/users`, {
      method: 'POST',
      body: user('during@example.com'),
    });
    assert.equal(write.status, 503);

    server.start();
    const t0 = Date.now();
    await until(
      async () => (await api(`${svc.url}/v1/users?limit=5`)).status === 200,
      10_000,
      'recovery',
    );
    const recoveredMs = Date.now() - t0;
    assert.equal((await http(`${svc.opsUrl}/readyz`)).status, 200);
    assert.equal(svc.child.exitCode, null, 'the same process served before, during and after');
    const emails = JSON.parse((await api(`${svc.url}/v1/users`)).body).items.map(
      (u: { email: string }) => u.email,
    );
    assert.deepEqual(emails, ['before@example.com'], 'the write answered 503 was not stored');
    console.log(`recovered ${recoveredMs} ms after PostgreSQL came back`);

    svc.child.kill('SIGTERM');
    assert.equal(await svc.exited, 0);
  });
});
