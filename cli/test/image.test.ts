import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { changeCause, parseImageRef, resolveImage } from '../src/rollout/image.js';
import { setImagePatch } from '../src/rollout/set-image.js';
import { deployment } from './fixtures.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('resolving <image-or-tag>', () => {
  const cases: Array<[string, string, string, string | RegExp]> = [
    [
      'a bare tag keeps the current repository',
      'ghcr.io/acme/users:1.0.0',
      '1.1.0',
      'ghcr.io/acme/users:1.1.0',
    ],
    ['a bare tag replaces a digest', `ghcr.io/acme/users@${DIGEST}`, 'v2', 'ghcr.io/acme/users:v2'],
    [
      'a bare tag keeps a registry port',
      'localhost:5000/users:1',
      'canary',
      'localhost:5000/users:canary',
    ],
    ['a bare tag works on an untagged image', 'users', '2', 'users:2'],
    [
      'a digest pins the current repository',
      'ghcr.io/acme/users:1.0.0',
      DIGEST,
      `ghcr.io/acme/users@${DIGEST}`,
    ],
    [
      'a full reference is used as given',
      'ghcr.io/acme/users:1.0.0',
      'ghcr.io/acme/users:1.2.0-broken',
      'ghcr.io/acme/users:1.2.0-broken',
    ],
    ['name:tag is a full reference (Docker Hub)', 'ghcr.io/acme/users:1.0.0', 'users:2', 'users:2'],
    [
      'a tag with invalid characters is refused',
      'ghcr.io/acme/users:1',
      'bad$tag',
      /not a valid tag/,
    ],
    [
      'an uppercase repository is refused',
      'ghcr.io/acme/users:1',
      'ghcr.io/Acme/users:1',
      /not a valid image reference/,
    ],
    ['an empty argument is refused', 'ghcr.io/acme/users:1', '  ', /empty/],
  ];
  for (const [name, current, arg, expected] of cases) {
    it(name, () => {
      const r = resolveImage(current, arg);
      if (typeof expected === 'string') assert.deepEqual(r, { ok: true, image: expected });
      else assert.match(r.ok ? '' : r.error, expected);
    });
  }

  it('splits registry port, tag and digest', () => {
    assert.deepEqual(parseImageRef(`localhost:5000/a/b:1.0@${DIGEST}`), {
      repository: 'localhost:5000/a/b',
      tag: '1.0',
      digest: DIGEST,
    });
    assert.deepEqual(parseImageRef('localhost:5000/a'), { repository: 'localhost:5000/a' });
  });
});

describe('the change-cause', () => {
  it('says who, what and when, to the second', () => {
    const cause = changeCause({
      action: 'shiftops deploy users reg/users:2',
      actor: 'alice',
      at: new Date('2025-03-01T10:20:30.456Z'),
    });
    assert.equal(cause, 'shiftops deploy users reg/users:2 by alice at 2025-03-01T10:20:30Z');
  });
});

describe('the set-image patch', () => {
  it('tests the container and its current image, then replaces the image and records the cause', () => {
    const r = setImagePatch(
      deployment({ image: 'reg/users:1', annotations: { x: 'y' } }),
      'users',
      'reg/users:2',
      'why',
    );
    assert.deepEqual(r, {
      ok: true,
      patch: [
        { op: 'test', path: '/spec/template/spec/containers/0/name', value: 'users' },
        { op: 'test', path: '/spec/template/spec/containers/0/image', value: 'reg/users:1' },
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'reg/users:2' },
        { op: 'add', path: '/metadata/annotations/kubernetes.io~1change-cause', value: 'why' },
      ],
    });
  });
  it('creates the annotations map when there is none', () => {
    const d = deployment({ image: 'reg/users:1' });
    delete d.metadata!.annotations;
    const r = setImagePatch(d, 'users', 'reg/users:2', 'why');
    assert.deepEqual(r.ok && r.patch.at(-1), {
      op: 'add',
      path: '/metadata/annotations',
      value: { 'kubernetes.io/change-cause': 'why' },
    });
  });
  it('refuses a Deployment without the service container, naming the ones it has', () => {
    const r = setImagePatch(deployment({}), 'shifts', 'reg/shifts:2', 'why');
    assert.deepEqual(r, {
      ok: false,
      error: 'deployment "users" has no container "shifts" (it has: users)',
    });
  });
});
