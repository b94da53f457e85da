// 15. Graceful shutdown for real: a users pod deleted under steady load stops getting new
//     requests, finishes the ones in flight, and its container exits 0 within the grace period
//     (SIGTERM -> /readyz 503 -> DRAIN_DELAY_MS -> close -> exit); no request fails.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Watch, type V1Pod } from '@kubernetes/client-node';
import { adminConfig, core, log, secs, sleep, waitRolledOut } from '../lib/cluster.js';
import {
  SEED,
  ensureSeed,
  isReady,
  patchHpa,
  podsOf,
  realNodeOrSkip,
  serviceUrl,
} from '../lib/realnode.js';
import { Traffic, describeTraffic } from '../lib/traffic.js';

describe('15. graceful shutdown of a real pod under load', realNodeOrSkip(), () => {
  let restore: (() => Promise<void>) | undefined;
  before(async () => {
    await ensureSeed();
    restore = await patchHpa('users', { minReplicas: 2 });
    await waitRolledOut(SEED, 'users', 120_000);
  });
  after(async () => {
    await restore?.();
  });

  it('a deleted pod drains and exits 0 within terminationGracePeriodSeconds; 0 failed requests', async () => {
    const victim = (await podsOf('users')).find(isReady)!;
    const name = victim.metadata!.name!;
    const grace = victim.spec?.terminationGracePeriodSeconds ?? 30;
    // Every status the pod goes through, to read its container's exit.
    let last: V1Pod | undefined;
    const watch = await new Watch(adminConfig()).watch(
      `/api/v1/namespaces/${SEED}/pods`,
      { fieldSelector: `metadata.name=${name}` },
      (_type, obj: V1Pod) => {
        if (obj.status?.containerStatuses?.[0]?.state?.terminated) last = obj;
      },
      () => undefined,
    );
    const traffic = Traffic.start(`${await serviceUrl('users')}/v1/users?limit=5`, {
      rate: 50,
      concurrency: 8,
      timeoutMs: 2000,
      maxMs: 120_000,
    });
    await sleep(3000);
    const deleted = Date.now();
    await core().deleteNamespacedPod({ name, namespace: SEED });
    for (let i = 0; i < (grace + 10) * 4 && !last; i++) await sleep(250);
    await sleep(3000);
    const result = await traffic.stop();
    watch.abort();
    log(`pod ${name} deleted under load: ${describeTraffic(result)}`);
    const term = last?.status?.containerStatuses?.[0]?.state?.terminated;
    assert.ok(term, `no terminated state seen for ${name} within ${grace + 10} s`);
    const exitMs = new Date(term.finishedAt!).getTime() - deleted;
    log(
      `container exit code ${term.exitCode} (${term.reason}) ${secs(exitMs)} after the delete (grace ${grace} s)`,
    );
    assert.equal(term.exitCode, 0, JSON.stringify(term));
    // finishedAt has a resolution of one second.
    assert.ok(exitMs <= grace * 1000 + 1000, `exited after ${secs(exitMs)}`);
    assert.ok(result.sent >= 200, `only ${result.sent} requests`);
    assert.equal(result.failed, 0, describeTraffic(result));
  });
});
