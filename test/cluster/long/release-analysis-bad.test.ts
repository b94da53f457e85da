// Release analysis on kwok pods (lib/analysis.ts): `shiftops deploy` holds the rollout at one new
// pod, compares it with the old pods in Prometheus, and rolls back a release that fails 10% of
// requests or is 3x slower, with at most one new pod ever created; a scale-up during the hold
// keeps the per-pod comparison right; without Prometheus, `auto` proceeds and `required` refuses.
// The good releases under the same noise are in release-analysis-good-N.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apps, clusterOrSkip, explain, parseJson, waitUntil } from '../lib/cluster.js';
import { PROMETHEUS, REPLICAS, analysisNamespace, type DeployResult } from '../lib/analysis.js';
import { IMAGE_REPO } from '../lib/sandbox.js';

describe('release analysis on kwok pods: bad releases', clusterOrSkip(), () => {
  const ctx = analysisNamespace('bad', 11);

  for (const [tag, reason] of [
    [
      '1.1.0-errors10',
      /error rate 1\d\.\d+% \(\d+\/\d+\) vs \d\.\d+% \(\d+\/\d+\) on the old pods/,
    ],
    ['1.2.0-slow3x', /p95 \d+ms \(\d+ requests, \d+ over 50ms\) vs \d+ms \(\d+ requests, 0 over\)/],
  ] as const) {
    it(`rolls back ${tag} after analysis, with at most one new pod ever created`, async () => {
      const image = `${IMAGE_REPO}:${tag}`;
      const r = await ctx.deploy(tag, '--json', '--prometheus-url', PROMETHEUS);
      const result = parseJson<DeployResult>(r);
      ctx.record(tag, r, result);
      assert.equal(r.code, 1, explain(r));
      assert.equal(result.outcome, 'rolled-back');
      assert.equal(result.failure?.reason, 'AnalysisFailed');
      assert.match(result.failure?.message ?? '', reason);
      assert.equal(result.analysis?.result, 'fail');
      assert.ok((result.analysis?.decidedAfterSeconds ?? 99) <= 60, 'decided within the window');
      assert.equal(result.analysis?.old?.pods, REPLICAS, 'every old pod compared');
      assert.equal(await ctx.liveImage(), `${IMAGE_REPO}:1.0.0`);
      assert.equal(ctx.emulator.podsOf(image), 1, `pods that ran ${image}`);
      // The rollback restored the Deployment's own settings and unpaused it.
      const d = await apps().readNamespacedDeployment({ name: 'users', namespace: ctx.ns });
      assert.equal(d.spec?.paused ?? false, false);
      assert.equal(String(d.spec?.strategy?.rollingUpdate?.maxSurge), '50%');
      assert.equal(d.spec?.minReadySeconds, 2);
      // The failed revision keeps its analysis.
      const h = parseJson<{ revisions: Array<{ image: string; analysis?: { result: string } }> }>(
        await ctx.cli('history', 'users', '--json'),
      );
      assert.equal(h.revisions.find((x) => x.image === image)?.analysis?.result, 'fail');
    });
  }

  it('stays correct when the Deployment scales during the hold (per-pod comparison)', async () => {
    const tag = '3.0.0';
    const pending = ctx.deploy(
      tag,
      '--json',
      '--prometheus-url',
      PROMETHEUS,
      '--analysis-window',
      '45s',
    );
    await waitUntil(
      'the rollout paused at one new pod',
      async () =>
        (await apps().readNamespacedDeployment({ name: 'users', namespace: ctx.ns })).spec
          ?.paused === true,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    // What the HPA does: change spec.replicas of the paused Deployment.
    await apps().patchNamespacedDeploymentScale({
      name: 'users',
      namespace: ctx.ns,
      body: [{ op: 'replace', path: '/spec/replicas', value: REPLICAS + 1 }],
    });
    const r = await pending;
    const result = parseJson<DeployResult>(r);
    ctx.record(`${tag} (scaled)`, r, result);
    assert.equal(r.code, 0, explain(r));
    assert.equal(result.analysis?.result, 'pass');
    assert.equal(ctx.emulator.podsOf(`${IMAGE_REPO}:${tag}`), REPLICAS + 1);
  });

  it('without Prometheus: auto deploys with a warning, required refuses and changes nothing', async () => {
    // No Service "prometheus" in this namespace: the default service-proxy target is missing.
    const auto = await ctx.deploy('4.0.0', '--json');
    assert.equal(auto.code, 0, explain(auto));
    const a = parseJson<DeployResult>(auto);
    assert.equal(a.outcome, 'succeeded');
    assert.equal(a.analysis?.result, 'unavailable');
    assert.match(a.analysis?.reason ?? '', /prometheus:9090.*not found/);
    const req = await ctx.deploy('4.1.0', '--analysis=required');
    assert.equal(req.code, 69, explain(req));
    assert.match(
      req.stderr,
      /--analysis=required, but the release cannot be analysed: .*; nothing was changed/,
    );
    assert.equal(await ctx.liveImage(), `${IMAGE_REPO}:4.0.0`);
  });
});
