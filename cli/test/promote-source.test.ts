import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { ANALYSIS_ANNOTATION } from '../src/analysis/record.js';
import { digestOf, selectSource, type SourceRefusal } from '../src/promote/source.js';
import { resolvePlace } from '../src/promote/places.js';
import { deployment, pod, replicaSet } from './fixtures.js';

const IMAGE = 'ghcr.io/acme/users:1.8.0';
const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const settled = (o: Partial<Parameters<typeof deployment>[0]> = {}) =>
  deployment({
    image: IMAGE,
    specReplicas: 3,
    replicas: 3,
    updated: 3,
    available: 3,
    ready: 3,
    revision: 4,
    ...o,
  });
const liveRs = (annotations: Record<string, string> = {}) =>
  replicaSet({
    name: 'users-new',
    revision: 4,
    image: IMAGE,
    hash: 'new',
    replicas: 3,
    annotations,
  });
const oldRs = replicaSet({
  name: 'users-old',
  revision: 3,
  image: 'ghcr.io/acme/users:1.7.0',
  hash: 'old',
});
const ready = (name: string, imageID = `ghcr.io/acme/users@${D1}`, hash = 'new') =>
  pod({ name, hash, ready: true, container: { imageID } });
const three = [ready('p1'), ready('p2'), ready('p3')];
const record = (result: string, image = IMAGE) => ({
  [ANALYSIS_ANNOTATION]: JSON.stringify({
    image,
    result,
    mode: 'auto',
    action: 'resumed',
    at: 'x',
  }),
});

describe('promotion source selection', () => {
  it('takes the digest every Ready pod runs, not the tag', () => {
    const d = selectSource('users', settled(), [liveRs(), oldRs], three);
    assert.deepEqual(d, {
      ok: true,
      image: `ghcr.io/acme/users@${D1}`,
      digest: D1,
      specImage: IMAGE,
      revision: 4,
      replicas: 3,
    });
  });

  it('carries a passed analysis record along', () => {
    const d = selectSource('users', settled(), [liveRs(record('pass'))], three);
    assert.equal(d.ok && d.analysis?.result, 'pass');
  });

  it('ignores an analysis record about another image (copied from an earlier revision)', () => {
    const d = selectSource(
      'users',
      settled(),
      [liveRs(record('fail', 'ghcr.io/acme/users:1.7.0'))],
      three,
    );
    assert.equal(d.ok, true);
  });

  const refusals: Array<[string, V1Deployment, V1ReplicaSet[], V1Pod[], SourceRefusal, RegExp]> = [
    [
      'no container of the service',
      {
        ...settled(),
        spec: {
          ...settled().spec!,
          template: { spec: { containers: [{ name: 'other', image: IMAGE }] } },
        },
      },
      [liveRs()],
      three,
      'no-container',
      /no container named "users"/,
    ],
    [
      'paused (held for analysis)',
      settled({ paused: true }),
      [liveRs()],
      three,
      'paused',
      /paused/,
    ],
    [
      'generation not observed yet',
      settled({ generation: 2, observedGeneration: 1 }),
      [liveRs()],
      three,
      'mid-rollout',
      /spec update to be observed/,
    ],
    [
      'replicas still being updated',
      settled({ updated: 2 }),
      [liveRs()],
      three,
      'mid-rollout',
      /2 out of 3 new replicas/,
    ],
    [
      'old replicas pending termination',
      settled({ replicas: 4 }),
      [liveRs(), oldRs],
      three,
      'mid-rollout',
      /1 old replicas/,
    ],
    [
      'updated but not available',
      settled({ available: 2 }),
      [liveRs()],
      three,
      'mid-rollout',
      /2 of 3 updated replicas are available/,
    ],
    [
      'progress deadline exceeded',
      settled({
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      }),
      [liveRs()],
      three,
      'unhealthy',
      /progress deadline/,
    ],
    [
      'scaled to zero',
      settled({ specReplicas: 0, replicas: 0, updated: 0, available: 0 }),
      [liveRs()],
      [],
      'no-replicas',
      /no replicas/,
    ],
    [
      'a pod of another revision still runs (status lags)',
      settled(),
      [liveRs(), oldRs],
      [...three, ready('old-1', `x@${D2}`, 'old')],
      'mid-rollout',
      /old-1/,
    ],
    [
      'a live pod is not Ready',
      settled(),
      [liveRs()],
      [
        ready('p1'),
        ready('p2'),
        pod({ name: 'p3', hash: 'new', ready: false, container: { imageID: `x@${D1}` } }),
      ],
      'unhealthy',
      /2 of 3 replicas are Ready \(not Ready: p3\)/,
    ],
    [
      'fewer live pods than replicas',
      settled(),
      [liveRs()],
      [ready('p1'), ready('p2')],
      'unhealthy',
      /2 of 3 replicas/,
    ],
    [
      'a pod without an imageID',
      settled(),
      [liveRs()],
      [ready('p1'), ready('p2'), ready('p3', '')],
      'no-digest',
      /p3 reports no image digest/,
    ],
    [
      'two digests under one tag',
      settled(),
      [liveRs()],
      [ready('p1'), ready('p2'), ready('p3', `ghcr.io/acme/users@${D2}`)],
      'mixed-digests',
      /2 different digests.*bbbbbbbbbbbb: p3/,
    ],
    [
      'analysis failed',
      settled(),
      [liveRs(record('fail'))],
      three,
      'analysis-not-passed',
      /"fail"/,
    ],
    [
      'analysis unfinished (held, or its CLI died)',
      settled(),
      [liveRs(record('unfinished'))],
      three,
      'analysis-not-passed',
      /"unfinished"/,
    ],
    [
      'analysis inconclusive',
      settled(),
      [liveRs(record('inconclusive'))],
      three,
      'analysis-not-passed',
      /"inconclusive"/,
    ],
  ];
  for (const [name, d, rs, pods, reason, message] of refusals) {
    it(`refuses: ${name}`, () => {
      const got = selectSource('users', d, rs, pods);
      assert.equal(got.ok, false, JSON.stringify(got));
      if (got.ok) return;
      assert.equal(got.reason, reason);
      assert.match(got.message, message);
    });
  }

  it('terminating pods of an old revision do not block', () => {
    const leaving = pod({ name: 'old-1', hash: 'old', ready: false, terminating: true });
    assert.equal(selectSource('users', settled(), [liveRs(), oldRs], [...three, leaving]).ok, true);
  });
});

describe('image digests from imageID', () => {
  const table: Array<[string | undefined, string | undefined]> = [
    [`docker-pullable://ghcr.io/acme/users@${D1}`, D1],
    [`ghcr.io/acme/users@${D1}`, D1],
    [D1, D1],
    ['', undefined],
    [undefined, undefined],
    ['ghcr.io/acme/users:1.8.0', undefined],
    [`ghcr.io/acme/users@sha256:${'a'.repeat(63)}`, undefined],
  ];
  for (const [id, want] of table)
    it(`${JSON.stringify(id)} -> ${want}`, () => assert.equal(digestOf(id), want));
});

describe('promotion places', () => {
  const contexts = ['staging', 'prod-eu', 'kubernetes-admin@kubernetes'];
  const table: Array<[string, object | RegExp]> = [
    ['staging', { spec: 'staging', context: 'staging' }],
    [
      'shiftops-staging',
      { spec: 'shiftops-staging', context: 'current', namespace: 'shiftops-staging' },
    ],
    [
      'shiftops-production@prod-eu',
      { spec: 'shiftops-production@prod-eu', context: 'prod-eu', namespace: 'shiftops-production' },
    ],
    [
      '7shifts@kubernetes-admin@kubernetes',
      {
        spec: '7shifts@kubernetes-admin@kubernetes',
        context: 'kubernetes-admin@kubernetes',
        namespace: '7shifts',
      },
    ],
    ['ns@nowhere', /no context "nowhere" in kubeconfig \(known: staging, prod-eu/],
    ['Bad_NS@staging', /"Bad_NS" is not a namespace name/],
    ['Prod/EU', /neither a kubeconfig context .* nor a namespace name; use namespace@context/],
  ];
  for (const [spec, want] of table) {
    it(`${spec}`, () => {
      const r = resolvePlace(spec, contexts, 'current');
      if (want instanceof RegExp) {
        assert.equal(r.ok, false);
        if (!r.ok) assert.match(r.error, want);
      } else assert.deepEqual(r, { ok: true, place: want });
    });
  }
});
