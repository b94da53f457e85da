// The Kubernetes side of the analysis, as data: holding a rollout at one pod, resuming it,
// rolling back a held Deployment, the PromQL and the grouping of per-pod answers, the record.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  HOLD_ANNOTATION,
  holdAnnotation,
  holdOps,
  parseHold,
  pausePatch,
  releaseOps,
  resumePatch,
} from '../src/analysis/hold.js';
import {
  analysisQueries,
  groupCounts,
  podGroup,
  promString,
  type VectorSample,
} from '../src/analysis/promql.js';
import {
  ANALYSIS_ANNOTATION,
  encodeRecord,
  parseRecord,
  summarizeRecord,
  type AnalysisRecord,
} from '../src/analysis/record.js';
import { planRollback, rollbackPatch } from '../src/rollout/rollback-target.js';
import { setImagePatch } from '../src/rollout/set-image.js';
import { historyRows } from '../src/commands/history.js';
import { deployment, replicaSet } from './fixtures.js';

function withStrategy(minReadySeconds?: number, type = 'RollingUpdate') {
  const d = deployment({ image: 'reg/users:1', revision: 1 });
  d.spec!.strategy =
    type === 'RollingUpdate'
      ? { type, rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } }
      : { type };
  if (minReadySeconds !== undefined) d.spec!.minReadySeconds = minReadySeconds;
  return d;
}

describe('holding a rollout at one new pod', () => {
  it('narrows the rolling update to one surge pod and lengthens minReadySeconds, remembering both', () => {
    const plan = holdOps(withStrategy(5));
    assert.ok(plan.ok);
    assert.deepEqual(plan.ops, [
      {
        op: 'add',
        path: '/spec/strategy',
        value: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      },
      { op: 'add', path: '/spec/minReadySeconds', value: 30 },
    ]);
    assert.deepEqual(plan.hold, {
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      minReadySeconds: 5,
    });
    // Longer minReadySeconds than the hold's are kept.
    const long = holdOps(withStrategy(120));
    assert.ok(long.ok);
    assert.deepEqual(long.ops[1], { op: 'add', path: '/spec/minReadySeconds', value: 120 });
  });

  it('refuses a Recreate Deployment: there is no single new pod to compare', () => {
    const plan = holdOps(withStrategy(0, 'Recreate'));
    assert.ok(!plan.ok);
    assert.match(plan.reason, /strategy is Recreate/);
  });

  it('puts the hold into the deploy patch with the image and the record, in one write', () => {
    const d = withStrategy(5);
    const plan = holdOps(d);
    assert.ok(plan.ok);
    const p = setImagePatch(d, 'users', 'reg/users:2', 'cause', {
      ...holdAnnotation(plan.hold),
      [ANALYSIS_ANNOTATION]: '{}',
    });
    assert.ok(p.ok);
    assert.deepEqual(
      p.patch.map((op) => (op as { path: string }).path),
      [
        '/spec/template/spec/containers/0/name',
        '/spec/template/spec/containers/0/image',
        '/spec/template/spec/containers/0/image',
        '/metadata/annotations/kubernetes.io~1change-cause',
        '/metadata/annotations/shiftops.dev~1analysis-hold',
        '/metadata/annotations/shiftops.dev~1analysis',
      ],
    );
  });

  it('pauses only a Deployment still carrying our hold, and resumes with the original settings', () => {
    const d = withStrategy(5);
    const plan = holdOps(d);
    assert.ok(plan.ok);
    d.metadata!.annotations = { ...d.metadata!.annotations, ...holdAnnotation(plan.hold) };
    assert.deepEqual(pausePatch(d), [
      {
        op: 'test',
        path: '/metadata/annotations/shiftops.dev~1analysis-hold',
        value: d.metadata!.annotations[HOLD_ANNOTATION],
      },
      { op: 'add', path: '/spec/paused', value: true },
    ]);
    assert.deepEqual(parseHold(d), plan.hold);
    assert.deepEqual(resumePatch(plan.hold, { [ANALYSIS_ANNOTATION]: 'r' }), [
      { op: 'add', path: '/spec/paused', value: false },
      { op: 'add', path: '/spec/strategy', value: plan.hold.strategy },
      { op: 'add', path: '/spec/minReadySeconds', value: 5 },
      { op: 'remove', path: '/metadata/annotations/shiftops.dev~1analysis-hold' },
      { op: 'add', path: '/metadata/annotations/shiftops.dev~1analysis', value: 'r' },
    ]);
  });

  it('ignores a damaged hold annotation', () => {
    const d = withStrategy();
    d.metadata!.annotations = { [HOLD_ANNOTATION]: 'not json' };
    assert.equal(parseHold(d), undefined);
  });
});

describe('rolling back a held Deployment', () => {
  const hold = { strategy: { type: 'RollingUpdate' }, minReadySeconds: 5 };
  const d = deployment({
    image: 'reg/users:2',
    revision: 2,
    paused: true,
    annotations: { [HOLD_ANNOTATION]: JSON.stringify(hold) },
  });
  const old = replicaSet({
    name: 'users-a',
    revision: 1,
    image: 'reg/users:1',
    // The old revision still carries the hold of its own analysis (the controller never removes
    // an annotation it copied).
    annotations: { [HOLD_ANNOTATION]: '{"strategy":{},"minReadySeconds":99}', a: 'kept' },
  });
  const cur = replicaSet({ name: 'users-b', revision: 2, image: 'reg/users:2' });

  it('kubectl refuses a paused Deployment; our own hold is rolled back and unpaused in one write', () => {
    assert.equal(planRollback(d, [old, cur]).kind, 'refused');
    const plan = planRollback(d, [old, cur], 0, true);
    assert.equal(plan.kind, 'rollback');
    if (plan.kind !== 'rollback') return;
    assert.equal(plan.annotations[HOLD_ANNOTATION], undefined, 'a stale hold is not restored');
    assert.equal(plan.annotations.a, 'kept');
    const patch = rollbackPatch(plan.template, plan.annotations, '100', releaseOps(hold));
    assert.deepEqual(patch.slice(-3), [
      { op: 'add', path: '/spec/paused', value: false },
      { op: 'add', path: '/spec/strategy', value: { type: 'RollingUpdate' } },
      { op: 'add', path: '/spec/minReadySeconds', value: 5 },
    ]);
  });
});

describe('PromQL and grouping by ReplicaSet', () => {
  it('asks for per-pod counts of one Deployment over the window and one scrape, without probes', () => {
    const q = analysisQueries('7shifts', 'users', 45);
    assert.equal(
      q.errors,
      'sum by (pod) (increase(http_request_duration_seconds_count{namespace="7shifts", pod=~"users-[a-z0-9]+-[a-z0-9]+", route!~"/livez|/readyz|/metrics", status_code=~"5.."}[60s]))',
    );
    assert.match(
      q.buckets,
      /^sum by \(pod, le\) \(increase\(http_request_duration_seconds_bucket\{.*\}\[60s\]\)\)$/,
    );
    assert.equal(promString('a"b\\c'), '"a\\"b\\\\c"');
  });

  it('assigns pods to the new or an old ReplicaSet by name, ignoring other Deployments', () => {
    assert.equal(podGroup('users-7f9c-abcde', 'users-7f9c', ['users-55aa']), 'new');
    assert.equal(podGroup('users-55aa-zzzzz', 'users-7f9c', ['users-55aa']), 'old');
    assert.equal(podGroup('users-admin-abcde', 'users-7f9c', ['users-55aa']), undefined);
  });

  it('sums per pod, so pods the HPA added or removed during the window count in their group', () => {
    const s = (pod: string, v: number, le?: string): VectorSample => ({
      metric: { pod, ...(le ? { le } : {}) },
      value: [0, String(v)],
    });
    const counts = groupCounts(
      {
        requests: [
          s('users-new-a', 300.4),
          s('users-old-a', 300),
          s('users-old-b', 150),
          s('users-admin-x', 999),
        ],
        errors: [s('users-new-a', 30.2), s('users-old-b', 1)],
        buckets: [
          s('users-new-a', 10, '0.1'),
          s('users-new-a', 300.4, '+Inf'),
          s('users-old-a', 290, '0.1'),
          s('users-old-a', 300, '+Inf'),
          // Scaled away mid-window: fewer requests, still old traffic.
          s('users-old-b', 150, '0.1'),
          s('users-old-b', 150, '+Inf'),
        ],
      },
      'users-new',
      ['users-old'],
    );
    assert.deepEqual(counts.new, {
      pods: 1,
      requests: 300,
      errors: 30,
      buckets: [
        { le: 0.1, count: 10 },
        { le: Infinity, count: 300 },
      ],
    });
    assert.deepEqual(counts.old, {
      pods: 2,
      requests: 450,
      errors: 1,
      buckets: [
        { le: 0.1, count: 440 },
        { le: Infinity, count: 450 },
      ],
    });
  });
});

describe('the analysis record on the revision', () => {
  const record: AnalysisRecord = {
    image: 'reg/users:2',
    result: 'fail',
    mode: 'auto',
    reason: 'error rate 10.0% (60/600) vs 0.11% (2/1800) on the old pods',
    action: 'rolled-back',
    windowSeconds: 60,
    decidedAfterSeconds: 30,
    new: { pods: 1, requests: 600, errors: 60, errorRate: 0.1, p95: 0.09, slow: 3 },
    old: { pods: 3, requests: 1800, errors: 2, errorRate: 2 / 1800, p95: 0.088, slow: 10 },
    at: '2025-01-10T11:00:00Z',
  };

  it('round-trips through the annotation, and is ignored on a revision of another image', () => {
    const annotations = encodeRecord(record);
    assert.deepEqual(parseRecord(annotations, 'reg/users:2'), record);
    assert.equal(parseRecord(annotations, 'reg/users:3'), undefined);
    assert.equal(parseRecord({ [ANALYSIS_ANNOTATION]: '{' }, 'reg/users:2'), undefined);
  });

  it('shows in history and its JSON', () => {
    const d = deployment({ image: 'reg/users:1', revision: 3 });
    const rows = historyRows(
      d,
      [
        replicaSet({
          name: 'users-b',
          revision: 2,
          image: 'reg/users:2',
          annotations: encodeRecord(record),
        }),
        replicaSet({ name: 'users-a', revision: 3, image: 'reg/users:1' }),
      ],
      'users',
    );
    assert.deepEqual(rows[0]!.analysis, record);
    assert.equal(rows[1]!.analysis, undefined);
    assert.equal(
      summarizeRecord(record),
      'FAIL: err 10.0% vs 0.11%, p95 90ms vs 88ms, 600/1800 req',
    );
    assert.equal(
      summarizeRecord({
        ...record,
        result: 'inconclusive',
        new: undefined,
        old: undefined,
        reason: 'too little traffic',
      } as AnalysisRecord),
      'inconclusive (too little traffic)',
    );
  });
});
