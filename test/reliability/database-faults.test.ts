import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  bearer,
  postgresUrl,
  startPostgresServer,
  startService,
  type PostgresServer,
} from '@shiftops/service-kit/testing';
import { startLoad, summary } from './load.js';

describe(
  'database faults under load',
  { skip: postgresUrl() ? false : 'no PostgreSQL server' },
  () => {
    let server: PostgresServer;
    before(async () => {
      server = await startPostgresServer();
    });
    after(() => server.destroy());

    test('PostgreSQL stopped mid-load: 503 + Retry-After, no crash, back within 10 s, no acknowledged write lost', async () => {
      const svc = await startService('users', {
        DATABASE_URL: server.url,
        DRAIN_DELAY_MS: '0',
        LOG_LEVEL: 'warn',
      });
      const acknowledged = new Set<string>();
      const badResponses: string[] = [];
      const load = startLoad(
        svc.url,
        6,
        (w, seq) =>
          seq % 2 === 0
            ? {
                method: 'POST',
                path: '/v1/users',
                body: {
                  email: `fault.${w}.${seq}@example.com`,
                  firstName: 'F',
                  lastName: 'F',
                  role: 'employee',
                  locationId: 1,
                },
              }
            : { method: 'GET', path: '/v1/users?limit=5' },
        (req, status, body) => {
          if (status === 201) acknowledged.add((req.body as { email: string }).email);
          else if (status === 503) {
            const p = JSON.parse(body);
            if (p.status !== 503 || typeof p.type !== 'string') badResponses.push(body);
          } else if (status !== 200) badResponses.push(`${status} ${body}`);
        },
        await bearer(),
      );
      await sleep(1500);
      server.stop();
      const stoppedAt = load.result.total;
      await sleep(2000);
      const during = load.result.byStatus.get(503) ?? 0;
      server.start();
      const restartedAt = Date.now();
      let firstSuccessAfterRestart = 0;
      const before201 = acknowledged.size;
      while (Date.now() - restartedAt < 10_000) {
        if (acknowledged.size > before201) {
          firstSuccessAfterRestart = Date.now() - restartedAt;
          break;
        }
        await sleep(20);
      }
      await sleep(1000);
      const result = await load.stop();
      console.log(
        `database faults: ${result.total} requests (${result.total - stoppedAt} after the stop): ${summary(result)}; ` +
          `first write acknowledged ${firstSuccessAfterRestart} ms after PostgreSQL restarted`,
      );

      assert.deepEqual(result.failures, [], 'no connection failed: the process stayed up');
      assert.deepEqual(badResponses, [], 'only 200, 201 and problem+json 503');
      assert.ok(during > 0, 'requests during the outage got 503');
      assert.ok(firstSuccessAfterRestart > 0, 'writes succeeded again within 10 s');
      assert.equal(svc.child.exitCode, null);
      assert.doesNotMatch(svc.logs(), /unhandled/i);

      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const stored = new Set(
        (await client.query<{ email: string }>('SELECT email FROM users.users')).rows.map(
          (r) => r.email,
        ),
      );
      await client.end();
      const lost = [...acknowledged].filter((e) => !stored.has(e));
      assert.deepEqual(lost, [], `${acknowledged.size} acknowledged writes, all stored`);

      svc.child.kill('SIGTERM');
      assert.equal(await svc.exited, 0);
    });
  },
);
