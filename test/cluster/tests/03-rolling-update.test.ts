// 3. Rolling update: deploying a good new image with `shiftops deploy` completes; throughout,
//    ready replicas never drop below the desired count (watched, maxUnavailable: 0). The HPA is
//    held still for the rollout (scaling disabled in its behavior, restored afterwards): this test
//    is about the rollout controller, and kwok's emulated latency of a new pod can show a p95
//    spike that would make the production HPA scale in the middle of it (cluster/README.md).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  PRODUCTION,
  clusterOrSkip,
  ensureApplied,
  explain,
  getDeployment,
  imageOf,
  imageRepo,
  isRolledOut,
  kubectlOk,
  log,
  parseJson,
  secs,
  shiftops,
  sleep,
} from '../lib/cluster.js';
import { DeploymentWatcher } from '../lib/watch.js';

// Production: two replicas at least, so "never below desired" means one pod is replaced while
// the other keeps serving, and the surge pod has to be Ready before an old one goes.
const NS = PRODUCTION;

describe('3. rolling update with shiftops deploy', clusterOrSkip(), () => {
  const held: Array<{ svc: string; behavior: unknown }> = [];
  before(async () => {
    await ensureApplied();
    for (const svc of ['users', 'shifts']) {
      const hpa = JSON.parse(await kubectlOk(['-n', NS, 'get', 'hpa', svc, '-o', 'json'])) as {
        spec: { behavior?: Record<string, Record<string, unknown>> };
      };
      const behavior = hpa.spec.behavior ?? {};
      held.push({ svc, behavior });
      const still = {
        scaleUp: { ...behavior.scaleUp, selectPolicy: 'Disabled' },
        scaleDown: { ...behavior.scaleDown, selectPolicy: 'Disabled' },
      };
      await kubectlOk([
        '-n',
        NS,
        'patch',
        'hpa',
        svc,
        '--type=json',
        '-p',
        JSON.stringify([{ op: 'add', path: '/spec/behavior', value: still }]),
      ]);
    }
  });
  after(async () => {
    for (const h of held)
      await kubectlOk([
        '-n',
        NS,
        'patch',
        'hpa',
        h.svc,
        '--type=json',
        '-p',
        JSON.stringify([{ op: 'add', path: '/spec/behavior', value: h.behavior }]),
      ]);
  });

  for (const svc of ['users', 'shifts'] as const) {
    it(`${NS}/${svc}: deploy of a good image completes, ready never below desired`, async () => {
      const before = await getDeployment(NS, svc);
      assert.ok(
        isRolledOut(before),
        `not rolled out before the test: ${JSON.stringify(before.status)}`,
      );
      const desired = before.spec?.replicas ?? 0;
      assert.ok(desired >= 2, `production runs >= 2 replicas, has ${desired}`);
      assert.equal(before.spec?.strategy?.rollingUpdate?.maxUnavailable, 0);
      const tag = `0.2.${Date.now() % 100000}`;

      const watcher = await DeploymentWatcher.start(NS, svc);
      const r = await shiftops(['deploy', svc, tag, '--json'], { namespace: NS });
      await sleep(2000); // the last status updates after the verdict
      const samples = watcher.stop();

      assert.equal(r.code, 0, explain(r, 'shiftops deploy'));
      assert.equal(parseJson(r).outcome, 'succeeded');
      const after = await getDeployment(NS, svc);
      assert.equal(imageOf(after), `${imageRepo(svc)}:${tag}`);
      assert.ok(isRolledOut(after), JSON.stringify(after.status));

      log(`${NS}/${svc} rollout to :${tag} in ${secs(r.ms)}, Deployment status over time:`);
      log(watcher.render());
      // The rollout really happened under the watch: a surge replica appeared and the new
      // ReplicaSet's pods became the updated ones.
      assert.ok(
        samples.some((s) => s.replicas > desired),
        'no surge replica seen: did the watch miss the rollout?',
      );
      assert.ok(samples.some((s) => s.updated === desired && s.image.endsWith(`:${tag}`)));
      // maxUnavailable 0 and the HPA held: the desired count stays, and ready never drops below it.
      assert.deepEqual([...new Set(samples.map((s) => s.desired))], [desired]);
      const below = samples.filter((s) => s.ready < s.desired);
      assert.deepEqual(below, [], `ready replicas dropped below desired:\n${watcher.render()}`);
    });
  }
});
