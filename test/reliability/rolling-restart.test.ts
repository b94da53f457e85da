import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  bearer,
  createTestDatabase,
  postgresUrl,
  startService,
  type RunningService,
} from '@shiftops/service-kit/testing';
import { startLoad, summary } from './load.js';
import { ReadinessProxy } from './readiness-proxy.js';

const url = postgresUrl();

async function until(fn: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('rolling restart under load', { skip: url ? false : 'no PostgreSQL server' }, () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const proxy = new ReadinessProxy(100);
  before(async () => {
    database = await createTestDatabase(url!);
  });
  after(async () => {
    await proxy.close();
    await database.drop();
  });

  test('restarting both instances one after the other with SIGTERM fails no request', async () => {
    // The drain delay must outlast the time the balancer needs to notice (here two 100 ms polls;
    // in Kubernetes the endpoint propagation the manifests' preStop/drain covers).
    const env = { DATABASE_URL: database.url, DRAIN_DELAY_MS: '1000', LOG_LEVEL: 'warn' };
    const instances: RunningService[] = [
      await startService('users', env),
      await startService('users', env),
    ];
    for (const i of instances) proxy.probeUrls.set(i.url, i.opsUrl);
    proxy.backends = instances.map((i) => i.url);
    const base = await proxy.listen();
    await until(() => instances.every((i) => proxy.isReady(i.url)), 5000, 'both backends ready');

    const load = startLoad(
      base,
      8,
      (w, seq) =>
        seq % 4 === 0
          ? {
              method: 'POST',
              path: '/v1/users',
              body: {
                email: `w${w}.${seq}@example.com`,
                firstName: 'R',
                lastName: 'R',
                role: 'employee',
                locationId: 1 + w,
              },
            }
          : { method: 'GET', path: `/v1/users?locationId=${1 + w}&limit=10` },
      undefined,
      await bearer(),
    );
    await sleep(1000);
    for (let i = 0; i < instances.length; i++) {
      const old = instances[i]!;
      const replacement = await startService('users', env);
      proxy.probeUrls.set(replacement.url, replacement.opsUrl);
      proxy.backends = [...proxy.backends, replacement.url];
      await until(() => proxy.isReady(replacement.url), 5000, 'the replacement to be ready');
      old.child.kill('SIGTERM');
      assert.equal(await old.exited, 0, old.logs());
      proxy.backends = proxy.backends.filter((b) => b !== old.url);
      instances[i] = replacement;
      await sleep(500);
    }
    await sleep(1000);
    const result = await load.stop();
    console.log(`rolling restart: ${result.total} requests through 2 restarts: ${summary(result)}`);
    assert.deepEqual(result.failures, []);
    assert.deepEqual(
      [...result.byStatus.keys()].filter((s) => s !== 200 && s !== 201),
      [],
      `only 200 and 201: ${summary(result)}`,
    );
    assert.ok(result.total > 100, 'the load generator really ran');
    for (const i of instances) {
      i.child.kill('SIGTERM');
      await i.exited;
    }
  });
});
