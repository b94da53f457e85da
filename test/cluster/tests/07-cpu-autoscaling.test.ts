// 7. CPU autoscaling, independently per service: emulated CPU above 70% on the users pods scales
//    users up while shifts stays at its minimum; CPU back down scales users down. (The test
//    overlay shortens the HPA behavior windows to seconds; the HPA controller syncs every 5 s.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  STAGING,
  clusterOrSkip,
  ensureApplied,
  log,
  secs,
  waitRolledOut,
  waitUntil,
} from '../lib/cluster.js';
import { ReplicaRecorder, hpaOf, hpaSummary, replicas } from '../lib/hpa.js';
import { CPU, LoadEmulator } from '../lib/load.js';

// README "Reaction times": 1 -> 2 replicas ~10 s after usage rises, max ~5-16 s later, back to
// the minimum 25-30 s after it drops. Bounds are generous for a busy 2-core machine.
const SCALE_TIMEOUT = 180_000;

describe('7. CPU autoscaling (users up, shifts unaffected)', clusterOrSkip(), () => {
  const users = new LoadEmulator('users');
  const shifts = new LoadEmulator('shifts');
  let min = { users: 1, shifts: 1 };
  let max = 0;

  before(async () => {
    await ensureApplied();
    await waitRolledOut(STAGING, 'users');
    await waitRolledOut(STAGING, 'shifts');
    const [hu, hs] = [await hpaOf('users'), await hpaOf('shifts')];
    min = { users: hu.spec?.minReplicas ?? 1, shifts: hs.spec?.minReplicas ?? 1 };
    max = hu.spec?.maxReplicas ?? 0;
    // Idle: 10 m of a 100 m request (10%) on both.
    await users.set({ [CPU]: '10m' });
    await shifts.set({ [CPU]: '10m' });
    await waitUntil(
      'both services at their minimum',
      async () =>
        (await replicas('users')) === min.users && (await replicas('shifts')) === min.shifts,
      {
        timeoutMs: SCALE_TIMEOUT,
        describe: async () => (await hpaSummary('users')) + ' / ' + (await hpaSummary('shifts')),
      },
    );
  });

  after(async () => {
    users.stop();
    shifts.stop();
    // Leave both idle for the next test.
    await users.apply().catch(() => undefined);
  });

  it('users at 250m CPU (250% of its request) scales up to maxReplicas; shifts stays at its minimum', async () => {
    assert.ok(max > min.users, `HPA max ${max} must be above min ${min.users}`);
    const rec = new ReplicaRecorder(['users', 'shifts']);
    await users.set({ [CPU]: '250m' });
    try {
      const first = await waitUntil(
        'users scaled up',
        async () => (await replicas('users')) > min.users,
        { timeoutMs: SCALE_TIMEOUT, describe: () => hpaSummary('users') },
      );
      const top = await waitUntil(
        `users at maxReplicas ${max}`,
        async () => (await replicas('users')) === max,
        { timeoutMs: SCALE_TIMEOUT, describe: () => hpaSummary('users') },
      );
      log(
        `users: CPU 10m -> 250m: first scale-up after ${secs(first.ms)}, at max ${max} after ${secs(first.ms + top.ms)}`,
      );
      log(`  ${await hpaSummary('users')}`);
      log(`  ${await hpaSummary('shifts')}`);
    } finally {
      await rec.stop();
      rec.print();
    }
    assert.deepEqual(
      [...new Set(rec.values('shifts'))],
      [min.shifts],
      `shifts changed while users scaled: ${rec.changes('shifts')}`,
    );
    const h = await hpaOf('users');
    const cpu = h.status?.currentMetrics?.find((m) => m.resource?.name === 'cpu');
    assert.ok((cpu?.resource?.current.averageUtilization ?? 0) > 70, JSON.stringify(cpu));
  });

  it('users back at 10m CPU scales down to its minimum; shifts still at its minimum', async () => {
    const rec = new ReplicaRecorder(['users', 'shifts']);
    await users.set({ [CPU]: '10m' });
    try {
      const down = await waitUntil(
        `users back to ${min.users}`,
        async () => (await replicas('users')) === min.users,
        { timeoutMs: SCALE_TIMEOUT, describe: () => hpaSummary('users') },
      );
      log(`users: CPU 250m -> 10m: back to ${min.users} replica(s) after ${secs(down.ms)}`);
    } finally {
      await rec.stop();
      rec.print();
    }
    assert.deepEqual([...new Set(rec.values('shifts'))], [min.shifts]);
  });
});
