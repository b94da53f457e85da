import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Deployment } from '@kubernetes/client-node';
import { changedSince, rollbackStep, supersededBy } from '../src/rollout/guard.js';
import { deployment, template } from './fixtures.js';

const ours = deployment({ image: 'ghcr.io/acme/users:1.8.0' });
const withCause = (d: V1Deployment, cause: string): V1Deployment => ({
  ...d,
  metadata: { ...d.metadata, annotations: { 'kubernetes.io/change-cause': cause } },
});

describe('a watch judges only the template it wrote', () => {
  it('same template: ours (status, replicas and the pod-template-hash label do not matter)', () => {
    const current = structuredClone(ours);
    current.spec!.replicas = 7;
    current.status = { replicas: 7 };
    current.spec!.template!.metadata!.labels!['pod-template-hash'] = 'abc';
    assert.equal(supersededBy(ours.spec?.template, current), undefined);
  });

  it('someone set another image meanwhile: superseded, naming the image and their change-cause', () => {
    const theirs = withCause(
      deployment({ image: 'ghcr.io/acme/users:1.9.0' }),
      'bob: deploy 1.9.0',
    );
    assert.deepEqual(supersededBy(ours.spec?.template, theirs), {
      images: 'users=ghcr.io/acme/users:1.9.0',
      changeCause: 'bob: deploy 1.9.0',
    });
  });

  it('someone rolled back meanwhile: superseded', () => {
    const back = deployment({ image: 'ghcr.io/acme/users:1.7.0' });
    assert.equal(supersededBy(ours.spec?.template, back)?.images, 'users=ghcr.io/acme/users:1.7.0');
  });

  it('fields beyond the images (an env var, a field the client model lacks) do not supersede', () => {
    const edited = structuredClone(ours);
    edited.spec!.template = template('ghcr.io/acme/users:1.8.0', {
      containers: [
        { name: 'users', image: 'ghcr.io/acme/users:1.8.0', env: [{ name: 'X', value: '1' }] },
      ],
    });
    (edited.spec!.template!.spec as unknown as Record<string, unknown>)['hostnameOverride'] = 'x';
    assert.equal(supersededBy(ours.spec?.template, edited), undefined);
  });

  it('an init container image change supersedes', () => {
    const a = structuredClone(ours);
    a.spec!.template!.spec!.initContainers = [{ name: 'migrate', image: 'm:1' }];
    const b = structuredClone(a);
    b.spec!.template!.spec!.initContainers = [{ name: 'migrate', image: 'm:2' }];
    assert.equal(
      supersededBy(a.spec?.template, b)?.images,
      'migrate=m:2, users=ghcr.io/acme/users:1.8.0',
    );
  });
});

describe('a rollback is sent once, even when its answer is lost', () => {
  const mine = 'alice: rollback to 3 (automatic)';
  const table: Array<
    [string, 'rollback' | 'skip' | 'refused', V1Deployment, string | undefined, string]
  > = [
    ['first attempt, target not live: patch', 'rollback', ours, undefined, 'patch'],
    ['target already live, we sent nothing: skipped', 'skip', ours, undefined, 'skipped'],
    [
      'we sent one, it landed (our change-cause): wait for it, do not resend',
      'skip',
      withCause(ours, mine),
      mine,
      'watch-ours',
    ],
    [
      'we sent one, but someone else restored it (their change-cause): skipped',
      'skip',
      withCause(ours, 'bob: rollback'),
      mine,
      'skipped',
    ],
    [
      'we sent one that did not land, target still not live: patch again',
      'rollback',
      ours,
      mine,
      'patch',
    ],
    ['refused (paused, unknown revision): refused', 'refused', ours, mine, 'refused'],
  ];
  for (const [name, plan, current, sent, want] of table) {
    it(name, () => assert.equal(rollbackStep(plan, current, sent).kind, want));
  }
});

describe('an automatic rollback keeps the annotations someone else set meanwhile', () => {
  const ours = {
    'kubernetes.io/change-cause': 'shiftops deploy users 1.8.0 by alice',
    'deployment.kubernetes.io/revision': '4',
    'shiftops.dev/analysis': '{"result":"unfinished"}',
    'example.com/team': 'payments',
  };
  const cases: Array<[string, Record<string, string> | undefined, Record<string, string>]> = [
    ['nothing changed', { ...ours }, {}],
    ['one added', { ...ours, 'example.com/on-call': 'bob' }, { 'example.com/on-call': 'bob' }],
    ['one changed', { ...ours, 'example.com/team': 'billing' }, { 'example.com/team': 'billing' }],
    [
      "the CLI's and the controller's own keys moved: not theirs",
      {
        ...ours,
        'kubernetes.io/change-cause': 'someone',
        'deployment.kubernetes.io/revision': '5',
        'shiftops.dev/analysis': '{"result":"pass"}',
        'shiftops.dev/analysis-hold': '{}',
      },
      {},
    ],
    ['no annotations now', undefined, {}],
  ];
  for (const [name, current, want] of cases)
    it(name, () => assert.deepEqual(changedSince(ours, current), want));
  it('without our answer every foreign key counts as theirs', () =>
    assert.deepEqual(changedSince(undefined, ours), { 'example.com/team': 'payments' }));
});
