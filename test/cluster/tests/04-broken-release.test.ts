// 4. Broken release, both kinds (pods that never become ready; pods that crash-loop):
//    `shiftops deploy` exits 1, names the reason, the Deployment is back on the previous image with
//    all replicas ready, and the time from deploy to recovered is printed. The same release done
//    the plain kubectl way (set image, rollout status --timeout, rollout undo, rollout status) is
//    measured too, and both are printed side by side. Each is held to its own budget, which
//    configuration sets: shiftops' --ready-timeout (by default from the pod's probes) and the
//    Deployment's progressDeadlineSeconds for kubectl.
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
  kubectl,
  log,
  secs,
  shiftops,
  sleep,
  table,
  waitRolledOut,
  waitUntil,
} from '../lib/cluster.js';
import { DeploymentWatcher } from '../lib/watch.js';
import { defaultReadyTimeoutSeconds } from '../../../cli/src/rollout/verdict.js';

const NS = STAGING;
const SVC = 'users';
// The timeout a person would give `kubectl rollout status` (deploy/README.md uses 3m): longer
// than progressDeadlineSeconds (120 s), so kubectl returns when the controller gives up.
const KUBECTL_TIMEOUT = '3m';

interface Row {
  kind: string;
  tool: string;
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

describe('4. broken release: shiftops vs plain kubectl', clusterOrSkip(), () => {
  let previous = '';
  before(async () => {
    await ensureApplied();
    const d = (await waitRolledOut(NS, SVC)).value;
    previous = imageOf(d)!;
  });

  after(() => {
    if (rows.length === 0) return;
    log('time from starting the release to "previous image, all replicas ready":');
    log(
      table([
        ['release', 'tool', 'verdict', 'failure known after', 'recovered after'],
        ...rows.map((r) => [r.kind, r.tool, r.verdict, secs(r.detectedMs), secs(r.recoveredMs)]),
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
        tool: 'shiftops deploy',
        verdict: `exit 1, ${reason}`,
        detectedMs: r.markedMs ?? NaN,
        recoveredMs,
      });
    });

    it(`${k.kind}: plain kubectl set image + rollout status --timeout=${KUBECTL_TIMEOUT} + rollout undo`, async () => {
      const image = `${imageRepo(SVC)}:1.2.1-${k.suffix}`;
      const started = Date.now();
      const set = await kubectl(['-n', NS, 'set', 'image', `deploy/${SVC}`, `${SVC}=${image}`]);
      assert.equal(set.code, 0, explain(set, 'kubectl set image'));
      const status = await kubectl(
        ['-n', NS, 'rollout', 'status', `deploy/${SVC}`, `--timeout=${KUBECTL_TIMEOUT}`],
        { timeoutMs: 400_000 },
      );
      const detectedMs = Date.now() - started;
      assert.notEqual(status.code, 0, 'kubectl rollout status accepted a broken release');
      const why = status.stderr.trim().split('\n').pop() ?? '';
      const undo = await kubectl(['-n', NS, 'rollout', 'undo', `deploy/${SVC}`]);
      assert.equal(undo.code, 0, explain(undo, 'kubectl rollout undo'));
      // Right after the undo, `rollout status` can still read the old ProgressDeadlineExceeded
      // condition (the controller has observed the new generation but not yet updated
      // Progressing) and fail at once: a person runs it again. Counted, and bounded.
      let reruns = 0;
      for (;;) {
        const back = await kubectl([
          '-n',
          NS,
          'rollout',
          'status',
          `deploy/${SVC}`,
          '--timeout=3m',
        ]);
        if (back.code === 0) break;
        assert.match(back.stderr, /exceeded its progress deadline/, explain(back));
        assert.ok(++reruns <= 5, explain(back, 'kubectl rollout status after undo'));
        await sleep(1000);
      }
      const recoveredMs = await recovered(previous, started);
      log(`kubectl, ${k.kind}: rollout status said: ${why}`);
      if (reruns)
        log(
          `kubectl, ${k.kind}: rollout status after undo failed ${reruns}x on the stale condition`,
        );
      log(`kubectl, ${k.kind}: recovered in ${secs(recoveredMs)}`);
      rows.push({
        kind: k.kind,
        tool: 'kubectl',
        verdict: why.replace(/^error: /, '').slice(0, 60),
        detectedMs,
        recoveredMs,
      });
      // kubectl only knows "no progress": it waits for progressDeadlineSeconds.
      const deadline = (await getDeployment(NS, SVC)).spec?.progressDeadlineSeconds ?? 600;
      assert.ok(
        detectedMs >= deadline * 1000 * 0.9,
        `kubectl detected after ${secs(detectedMs)}, before the progress deadline ${deadline} s?`,
      );
    });
  }
});
