// 4. Broken release, both kinds (pods that never become ready; pods that crash-loop):
//    `shiftops deploy` exits 1, names the reason, the Deployment is back on the previous image with
//    all replicas ready, and the time from deploy to recovered is printed. It is held to the budget
//    configuration sets: shiftops' --ready-timeout (by default from the pod's probes). The same
//    releases done the plain kubectl way are compared on real pods (10-real-seed): kubectl waits
//    for progressDeadlineSeconds whatever the pods do, so timing it here too would only add 4 min.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  STAGING,
  clusterOrSkip,
  ensureApplied,
  explain,
  getDeployment,
  imageOf,
  imageRepo,
  isRolledOut,
  log,
  secs,
  shiftops,
  table,
  waitRolledOut,
  waitUntil,
} from '../lib/cluster.js';
import { DeploymentWatcher } from '../lib/watch.js';
import { defaultReadyTimeoutSeconds } from '../../../cli/src/rollout/verdict.js';

const NS = STAGING;
const SVC = 'users';

interface Row {
  kind: string;
  verdict: string;
  detectedMs: number;
  recoveredMs: number;
}
const rows: Row[] = [];

/** Waits (briefly) until the Deployment is back on `image` with every replica ready. */
async function recovered(image: string, startedAt: number): Promise<number> {
  await waitUntil(
    `${NS}/${SVC} back on ${image} with all replicas ready`,
    async () => {
      const d = await getDeployment(NS, SVC);
      return imageOf(d) === image && isRolledOut(d);
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  return Date.now() - startedAt;
}

const kinds = [
  { kind: 'never ready', suffix: 'broken', reason: /NeverReady/ },
  { kind: 'crash loop', suffix: 'crash', reason: /CrashLoopBackOff|ContainerRestarted/ },
];

describe('4. broken release: shiftops deploy rolls it back', clusterOrSkip(), () => {
  let previous = '';
  before(async () => {
    await ensureApplied();
    const d = (await waitRolledOut(NS, SVC)).value;
    previous = imageOf(d)!;
  });

  after(() => {
    if (rows.length === 0) return;
    log('shiftops deploy: time from starting the release to "previous image, all replicas ready":');
    log(
      table([
        ['release', 'verdict', 'failure known after', 'recovered after'],
        ...rows.map((r) => [r.kind, r.verdict, secs(r.detectedMs), secs(r.recoveredMs)]),
      ]),
    );
  });

  for (const k of kinds) {
    it(`${k.kind}: shiftops deploy exits 1, names the reason and rolls back`, async () => {
      const image = `${imageRepo(SVC)}:1.2.0-${k.suffix}`;
      const desired = (await getDeployment(NS, SVC)).spec?.replicas ?? 1;
      const readyTimeoutS = defaultReadyTimeoutSeconds(await getDeployment(NS, SVC));
      const watcher = await DeploymentWatcher.start(NS, SVC);
      const started = Date.now();
      // Plain output (as a person sees it, one line per change): stderr says "rolling back ..."
      // the moment the verdict is "failed", which marks the detection time.
      const r = await shiftops(['deploy', SVC, image], { mark: /rolling back/ });
      const recoveredMs = await recovered(previous, started);
      watcher.stop();
      assert.equal(r.code, 1, explain(r, 'shiftops deploy'));
      const output = r.stdout + r.stderr;
      const reason = /FAILED \((\w+)\)/.exec(output)?.[1] ?? '';
      assert.match(reason, k.reason, explain(r));
      assert.match(r.stdout, /rolled back to revision \d+/, explain(r));
      assert.ok(output.includes(previous), 'names the image it went back to');
      // The reason's explanation (e.g. "pod ... running for 51s without becoming Ready"), else
      // the verdict line.
      const lines = output.split('\n').filter((l) => l.includes(reason));
      const message = lines.find((l) => !l.includes('release of')) ?? lines[0] ?? '';
      const d = await getDeployment(NS, SVC);
      assert.equal(imageOf(d), previous);
      assert.equal(d.status?.readyReplicas, desired);
      // maxUnavailable 0: the broken pods never took a ready one away.
      assert.deepEqual(watcher.belowDesired(), [], watcher.render());
      log(`shiftops, ${k.kind}: exit 1, reason ${reason}: ${message.trim()}`);
      log(`shiftops, ${k.kind}: recovered in ${secs(recoveredMs)} (process ${secs(r.ms)})`);
      assert.ok(r.markedMs !== undefined, 'no "rolling back" line on stderr');
      // Its own budget: a never-ready pod fails once it has been unready for --ready-timeout (not
      // before, and within a few seconds after); a crash loop fails before that budget, at the
      // first CrashLoopBackOff. The rollback then takes one ready pod's start.
      const detected = r.markedMs!;
      if (k.suffix === 'broken') {
        assert.ok(
          detected >= readyTimeoutS * 1000 && detected <= (readyTimeoutS + 15) * 1000,
          `never-ready caught after ${secs(detected)}, budget --ready-timeout ${readyTimeoutS} s (+15 s)`,
        );
      } else {
        assert.ok(
          detected < readyTimeoutS * 1000,
          `crash loop caught after ${secs(detected)}, not before --ready-timeout ${readyTimeoutS} s`,
        );
      }
      assert.ok(
        recoveredMs - detected <= 30_000,
        `rollback took ${secs(recoveredMs - detected)} after the verdict (budget 30 s)`,
      );
      rows.push({
        kind: k.kind,
        verdict: `exit 1, ${reason}`,
        detectedMs: r.markedMs ?? NaN,
        recoveredMs,
      });
    });
  }
});
