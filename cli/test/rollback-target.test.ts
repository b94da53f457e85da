import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  findNewReplicaSet,
  ownedReplicaSets,
  planRollback,
  rollbackPatch,
} from '../src/rollout/rollback-target.js';
import { deployment, replicaSet } from './fixtures.js';

const v1 = replicaSet({
  name: 'users-a',
  revision: 1,
  image: 'reg/users:1',
  created: '2025-01-01T00:00:00Z',
  annotations: { 'kubernetes.io/change-cause': 'deploy 1' },
});
const v2 = replicaSet({
  name: 'users-b',
  revision: 2,
  image: 'reg/users:2',
  created: '2025-01-02T00:00:00Z',
});
const v3 = replicaSet({
  name: 'users-c',
  revision: 3,
  image: 'reg/users:3',
  created: '2025-01-03T00:00:00Z',
  replicas: 2,
});
const foreign = replicaSet({
  name: 'users-z',
  revision: 9,
  image: 'reg/users:9',
  owner: 'someone-else',
});
const live = deployment({
  image: 'reg/users:3',
  revision: 3,
  annotations: {
    'kubernetes.io/change-cause': 'deploy 3',
    'kubectl.kubernetes.io/last-applied-configuration': '{}',
  },
});

describe('rollback target selection (kubectl rollout undo)', () => {
  const cases: Array<{
    name: string;
    d: ReturnType<typeof deployment>;
    rss: ReturnType<typeof replicaSet>[];
    to: number;
    expect: { kind: string; toRevision?: number; reason?: string; message?: RegExp };
  }> = [
    {
      name: 'defaults to the previous revision (second highest)',
      d: live,
      rss: [v1, v2, v3],
      to: 0,
      expect: { kind: 'rollback', toRevision: 2 },
    },
    {
      name: 'previous revision does not depend on list order',
      d: live,
      rss: [v3, v1, v2],
      to: 0,
      expect: { kind: 'rollback', toRevision: 2 },
    },
    {
      name: 'goes to an explicit revision',
      d: live,
      rss: [v1, v2, v3],
      to: 1,
      expect: { kind: 'rollback', toRevision: 1 },
    },
    {
      name: 'names the known revisions when the requested one does not exist',
      d: live,
      rss: [v1, v2, v3],
      to: 7,
      expect: {
        kind: 'refused',
        reason: 'revision-not-found',
        message: /revision 7 .*known revisions: 1, 2, 3/,
      },
    },
    {
      name: 'ignores ReplicaSets owned by another controller',
      d: live,
      rss: [v2, v3, foreign],
      to: 9,
      expect: { kind: 'refused', reason: 'revision-not-found' },
    },
    {
      name: 'refuses when there is no history',
      d: live,
      rss: [v3],
      to: 0,
      expect: { kind: 'refused', reason: 'no-history', message: /no rollout history/ },
    },
    {
      name: 'refuses a paused Deployment, saying how to resume it',
      d: deployment({ image: 'reg/users:3', revision: 3, paused: true }),
      rss: [v1, v2, v3],
      to: 0,
      expect: {
        kind: 'refused',
        reason: 'paused',
        message: /kubectl rollout resume deployment\/users/,
      },
    },
    {
      name: 'skips when the target template is already live',
      d: live,
      rss: [v1, v2, v3],
      to: 3,
      expect: { kind: 'skip', toRevision: 3 },
    },
    {
      name: 'skips unparsable revision annotations like kubectl',
      d: live,
      rss: [replicaSet({ name: 'users-x', revision: 'abc', image: 'reg/users:x' }), v3],
      to: 0,
      expect: { kind: 'refused', reason: 'no-history' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planRollback(c.d, c.rss, c.to);
      assert.equal(plan.kind, c.expect.kind);
      if (c.expect.toRevision !== undefined)
        assert.equal('toRevision' in plan && plan.toRevision, c.expect.toRevision);
      if (plan.kind === 'refused') {
        assert.equal(plan.reason, c.expect.reason);
        if (c.expect.message) assert.match(plan.message, c.expect.message);
      }
    });
  }

  it('copies the template without pod-template-hash', () => {
    const plan = planRollback(live, [v1, v2, v3], 1);
    assert.equal(plan.kind, 'rollback');
    if (plan.kind !== 'rollback') return;
    assert.equal(plan.template.metadata?.labels?.['pod-template-hash'], undefined);
    assert.equal(plan.template.metadata?.labels?.['app.kubernetes.io/name'], 'users');
    assert.equal(plan.template.spec?.containers[0]?.image, 'reg/users:1');
    // The ReplicaSet itself is left untouched.
    assert.equal(v1.spec?.template?.metadata?.labels?.['pod-template-hash'], 'a');
  });

  it("keeps the Deployment's bookkeeping annotations and takes the rest from the ReplicaSet", () => {
    const plan = planRollback(live, [v1, v2, v3], 1);
    if (plan.kind !== 'rollback') return assert.fail('expected a rollback');
    assert.deepEqual(plan.annotations, {
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      'deployment.kubernetes.io/revision': '3',
      'kubernetes.io/change-cause': 'deploy 1',
    });
    assert.equal(plan.fromRevision, 3);
  });

  it('builds a JSON patch that replaces the template and annotations behind a resourceVersion test', () => {
    const ops = rollbackPatch({ metadata: {} }, { a: 'b' }, '42');
    assert.deepEqual(ops, [
      { op: 'test', path: '/metadata/resourceVersion', value: '42' },
      { op: 'replace', path: '/spec/template', value: { metadata: {} } },
      { op: 'replace', path: '/metadata/annotations', value: { a: 'b' } },
    ]);
  });
});

describe('finding the live ReplicaSet', () => {
  it('matches the template ignoring pod-template-hash', () => {
    assert.equal(findNewReplicaSet(live, [v1, v2, v3])?.metadata?.name, 'users-c');
  });
  it('picks the oldest when two ReplicaSets share the template', () => {
    const dup = replicaSet({
      name: 'users-d',
      revision: 4,
      image: 'reg/users:3',
      created: '2025-01-04T00:00:00Z',
    });
    assert.equal(findNewReplicaSet(live, [dup, v3])?.metadata?.name, 'users-c');
  });
  it('treats Date and string timestamps alike and ignores key order', () => {
    const d = deployment({ image: 'reg/users:2' });
    d.spec!.template = {
      spec: { containers: [{ image: 'reg/users:2', name: 'users' }] },
      metadata: { labels: { 'app.kubernetes.io/name': 'users' } },
    };
    assert.equal(findNewReplicaSet(d, [v1, v2])?.metadata?.name, 'users-b');
  });
  it('finds none while the controller has not created it yet', () => {
    assert.equal(findNewReplicaSet(deployment({ image: 'reg/users:4' }), [v1, v2, v3]), undefined);
  });
  it('only counts ReplicaSets whose controller is this Deployment', () => {
    assert.deepEqual(
      ownedReplicaSets(live, [v1, foreign]).map((r) => r.metadata?.name),
      ['users-a'],
    );
  });
});
