// 13. CPU autoscaling on real load: requests from this machine to the users Service drive the
//     users pods' real CPU (cgroup usage read by metrics-server from the real kubelet) above 70%
//     of their request -> the HPA scales users up while shifts stays; load stops -> back down.
//     The HPAs' scale-down window is shortened for the test (as the kwok test overlay does) and
//     restored afterwards. The timeline is printed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { autoscaling, log, secs, sleep, table, waitUntil } from '../lib/cluster.js';
import {
  FAST_SCALE_BEHAVIOR,
  SEED,
  ensureSeed,
  patchHpa,
  realNodeOrSkip,
  serviceUrl,
} from '../lib/realnode.js';
import { Traffic, describeTraffic } from '../lib/traffic.js';

interface Point {
  t: number;
  users: number;
  usersCpu: number | undefined;
  shifts: number;
  shiftsCpu: number | undefined;
}

async function hpaNow(name: string) {
  const h = await autoscaling().readNamespacedHorizontalPodAutoscaler({ name, namespace: SEED });
  const cpu = h.status?.currentMetrics?.find((m) => m.type === 'Resource')?.resource?.current
    .averageUtilization;
  return { replicas: h.status?.currentReplicas ?? 0, desired: h.status?.desiredReplicas ?? 0, cpu };
}

describe('13. CPU autoscaling on real load', realNodeOrSkip(), () => {
  const restores: Array<() => Promise<void>> = [];
  const timeline: Point[] = [];
  let recording: NodeJS.Timeout | undefined;
  const t0 = Date.now();

  before(async () => {
    await ensureSeed();
    for (const name of ['users', 'shifts'])
      restores.push(await patchHpa(name, FAST_SCALE_BEHAVIOR));
    // Both at their minimum, with CPU numbers from metrics-server, before the load.
    await waitUntil(
      'both HPAs at 1 replica with a CPU reading',
      async () => {
        const [u, s] = [await hpaNow('users'), await hpaNow('shifts')];
        return u.replicas === 1 && s.replicas === 1 && u.cpu !== undefined && s.cpu !== undefined;
      },
      { timeoutMs: 180_000, intervalMs: 2000 },
    );
    recording = setInterval(() => {
      void Promise.all([hpaNow('users'), hpaNow('shifts')]).then(([u, s]) =>
        timeline.push({
          t: Date.now() - t0,
          users: u.replicas,
          usersCpu: u.cpu,
          shifts: s.replicas,
          shiftsCpu: s.cpu,
        }),
      );
    }, 1000);
  });

  after(async () => {
    if (recording) clearInterval(recording);
    for (const r of restores) await r();
    if (timeline.length) {
      let last = '';
      const rows = timeline.filter((p) => {
        const key = `${p.users}/${p.usersCpu}/${p.shifts}/${p.shiftsCpu}`;
        const keep = key !== last;
        last = key;
        return keep;
      });
      log('HPA timeline (changes only; CPU = % of request, from metrics-server):');
      log(
        table([
          ['t', 'users replicas', 'users CPU', 'shifts replicas', 'shifts CPU'],
          ...rows.map((p) => [
            secs(p.t),
            String(p.users),
            `${p.usersCpu ?? '-'}%`,
            String(p.shifts),
            `${p.shiftsCpu ?? '-'}%`,
          ]),
        ]),
      );
    }
  });

  it('users scales up on real CPU above 70% while shifts stays; back down when the load stops', async () => {
    const url = `${await serviceUrl('users')}/v1/users?limit=50`;
    const loadStart = Date.now();
    const traffic = Traffic.start(url, {
      rate: 100,
      concurrency: 4,
      keepAlive: true,
      timeoutMs: 5000,
      maxMs: 300_000,
    });
    let up: { ms: number };
    try {
      up = await waitUntil(
        'users scaled above 1 replica',
        async () => (await hpaNow('users')).replicas >= 2,
        { timeoutMs: 240_000, intervalMs: 1000 },
      );
    } finally {
      const result = await traffic.stop();
      log(`load: ${describeTraffic(result)}`);
    }
    log(`users 1 -> 2 replicas ${secs(up.ms)} after the load started`);
    const peak = Math.max(
      ...timeline.filter((p) => p.t >= loadStart - t0).map((p) => p.usersCpu ?? 0),
    );
    assert.ok(peak > 70, `users CPU peaked at ${peak}% of its request`);
    assert.ok(
      timeline.every((p) => p.shifts === 1),
      `shifts moved: ${[...new Set(timeline.map((p) => p.shifts))].join(', ')}`,
    );
    const down = await waitUntil(
      'users back at 1 replica',
      async () => (await hpaNow('users')).replicas === 1,
      { timeoutMs: 240_000, intervalMs: 1000 },
    );
    log(`users back to 1 replica ${secs(down.ms)} after the load stopped`);
    await sleep(1500);
    assert.ok(
      timeline.every((p) => p.shifts === 1),
      'shifts stayed at 1',
    );
  });
});
