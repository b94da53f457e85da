// `shiftops promote` on the real API server, as dev-alice: namespaces of one cluster stand for
// staging and production, first as namespaces of one context, then as kubeconfig contexts of their
// own (a wave). kwok's pods report an imageID (cluster/kwok/stages-default.yaml: the digest a
// registry would give for the reference), so the digest a promotion takes is the one the source's
// pods report. A production namespace whose ResourceQuota leaves no room for the surge pod stands
// for a target where the release fails: its ReplicaSet cannot create pods (FailedCreate).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  apps,
  clusterOrSkip,
  core,
  explain,
  getDeployment,
  imageOf,
  parseJson as json,
  revisionOf,
  shiftops,
  waitRolledOut,
  waitUntil,
} from '../lib/cluster.js';
import { kubeconfigWith } from '../lib/developer.js';
import {
  IMAGE_REPO,
  createSandbox,
  deleteSandbox,
  startUsers,
  usersDeployment,
} from '../lib/sandbox.js';

interface Target {
  place: string;
  namespace: string;
  outcome: string;
  exitCode: number;
  deploy?: { failure?: { reason: string }; rollback?: { outcome: string } };
}
interface PromoteDoc {
  outcome: string;
  image?: string;
  exitCode: number;
  failedAt?: string;
  source: {
    namespace: string;
    digest?: string;
    specImage?: string;
    refused?: string;
    message?: string;
  };
  targets: Target[];
}

/** What the kwok stage reports for a tag: the sha256 of the reference, as one digest per tag. */
const digestFor = (tag: string) =>
  `sha256:${createHash('sha256').update(`${IMAGE_REPO}:${tag}`).digest('hex')}`;

const spec = { replicas: 2, progressDeadlineSeconds: 120, revisionHistoryLimit: 10, maxSurge: 1 };

describe('shiftops promote across environments', clusterOrSkip(), () => {
  let staging: string;
  const prod = { a: '', b: '', c: '' };
  let dev: string;
  let contexts: string;

  const promote = (kubeconfig: string, ...args: string[]) =>
    shiftops(['promote', 'users', ...args, '--analysis=off'], { kubeconfig, namespace: null });
  const deployment = (ns: string) => getDeployment(ns, 'users');
  const imageIDs = async (ns: string) =>
    (
      await core().listNamespacedPod({
        namespace: ns,
        labelSelector: 'app.kubernetes.io/name=users',
      })
    ).items
      .filter((p) => !p.metadata?.deletionTimestamp)
      .map((p) => p.status?.containerStatuses?.find((c) => c.name === 'users')?.imageID ?? '');
  const setImage = (ns: string, tag: string, extra: object[] = []) =>
    apps().patchNamespacedDeployment({
      name: 'users',
      namespace: ns,
      body: [
        {
          op: 'replace',
          path: '/spec/template/spec/containers/0/image',
          value: `${IMAGE_REPO}:${tag}`,
        },
        ...extra,
      ],
    });

  before(async () => {
    staging = await createSandbox('promote-staging');
    dev = await startUsers(staging, usersDeployment('1.1.0', spec), 60_000);
    for (const k of ['a', 'b', 'c'] as const) prod[k] = await createSandbox(`promote-prod-${k}`);
    // prod-b: room for exactly its 2 pods, so a rolling update's surge pod is refused.
    await core().createNamespacedResourceQuota({
      namespace: prod.b,
      body: { metadata: { name: 'pods' }, spec: { hard: { pods: '2' } } },
    });
    for (const k of ['a', 'b', 'c'] as const)
      await startUsers(prod[k], usersDeployment('1.0.0', spec), 60_000);
    await waitUntil(
      'the quota in prod-b counts its 2 pods',
      async () =>
        (await core().readNamespacedResourceQuota({ name: 'pods', namespace: prod.b })).status?.used
          ?.pods === '2',
      { timeoutMs: 60_000 },
    );
    contexts = kubeconfigWith(dev, {
      contexts: { staging, 'prod-a': prod.a, 'prod-b': prod.b, 'prod-c': prod.c },
    });
  });

  after(async () => {
    for (const ns of [staging, prod.a, prod.b, prod.c]) if (ns) await deleteSandbox(ns);
  });

  it('deploys exactly the digest the source pods run (two namespaces of one context)', async () => {
    const running = new Set(await imageIDs(staging));
    assert.deepEqual([...running], [`${IMAGE_REPO}@${digestFor('1.1.0')}`]);
    const r = await promote(dev, '--from', staging, '--to', prod.a, '--json');
    assert.equal(r.code, 0, explain(r));
    const doc = json<PromoteDoc>(r);
    const digest = digestFor('1.1.0');
    assert.equal(doc.outcome, 'promoted');
    assert.equal(doc.source.digest, digest);
    assert.equal(doc.source.specImage, `${IMAGE_REPO}:1.1.0`);
    assert.equal(doc.image, `${IMAGE_REPO}@${digest}`);
    assert.deepEqual(
      doc.targets.map((t) => [t.namespace, t.outcome, t.exitCode]),
      [[prod.a, 'succeeded', 0]],
    );
    const { value: target } = await waitRolledOut(prod.a, 'users');
    assert.equal(imageOf(target), `${IMAGE_REPO}@${digest}`);
    const ids = await imageIDs(prod.a);
    assert.equal(ids.length, 2);
    assert.ok(
      ids.every((id) => id === `${IMAGE_REPO}@${digest}`),
      `target pods run ${ids.join(', ')}`,
    );
    // The same promotion again finds the target on that digest already.
    const again = await promote(dev, '--from', staging, '--to', prod.a, '--json');
    assert.equal(again.code, 0, explain(again));
    assert.equal(json<PromoteDoc>(again).targets[0]?.outcome, 'unchanged');
  });

  it('refuses a source mid-rollout, then one past its progress deadline, changing nothing (exit 64)', async () => {
    const targetBefore = await deployment(prod.a);
    await setImage(staging, '1.2.0-broken', [
      { op: 'replace', path: '/spec/progressDeadlineSeconds', value: 10 },
    ]);
    await waitUntil(
      'a never-ready pod of 1.2.0-broken',
      async () =>
        (await core().listNamespacedPod({ namespace: staging })).items.some(
          (p) => p.spec?.containers[0]?.image?.endsWith('-broken') && p.status?.phase === 'Running',
        ),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const mid = await promote(dev, '--from', staging, '--to', prod.a);
    assert.equal(mid.code, 64, explain(mid));
    assert.match(
      mid.stdout,
      new RegExp(
        `^refusing to promote users from ${staging} \\(context test, namespace ${staging}\\): its rollout is not settled: .*Nothing was changed`,
        'm',
      ),
    );
    const midDoc = json<PromoteDoc>(
      await promote(dev, '--from', staging, '--to', prod.a, '--json'),
    );
    assert.equal(midDoc.outcome, 'refused');
    assert.equal(midDoc.source.refused, 'mid-rollout');
    assert.deepEqual(midDoc.targets, []);

    await waitUntil(
      'staging past its progress deadline',
      async () =>
        (await deployment(staging)).status?.conditions?.some(
          (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
        ),
      { timeoutMs: 90_000 },
    );
    const failed = await promote(dev, '--from', staging, '--to', prod.a, '--json');
    assert.equal(failed.code, 64, explain(failed));
    const failedDoc = json<PromoteDoc>(failed);
    assert.equal(failedDoc.source.refused, 'unhealthy');
    assert.match(failedDoc.source.message ?? '', /exceeded its progress deadline/);

    const targetAfter = await deployment(prod.a);
    assert.equal(imageOf(targetAfter), imageOf(targetBefore));
    assert.equal(targetAfter.metadata?.generation, targetBefore.metadata?.generation);

    const undo = await shiftops(['rollback', 'users'], { kubeconfig: dev, namespace: staging });
    assert.equal(undo.code, 0, explain(undo));
    await apps().patchNamespacedDeployment({
      name: 'users',
      namespace: staging,
      body: [{ op: 'replace', path: '/spec/progressDeadlineSeconds', value: 120 }],
    });
    await waitRolledOut(staging, 'users');
  });

  it('refuses a source whose live release skipped its analysis (exit 64)', async () => {
    const d = await shiftops(['deploy', 'users', '1.1.1', '--analysis=off'], {
      kubeconfig: dev,
      namespace: staging,
    });
    assert.equal(d.code, 0, explain(d));
    const r = await promote(dev, '--from', staging, '--to', prod.a, '--json');
    assert.equal(r.code, 64, explain(r));
    assert.equal(json<PromoteDoc>(r).source.refused, 'analysis-not-passed');
    const undo = await shiftops(['rollback', 'users'], { kubeconfig: dev, namespace: staging });
    assert.equal(undo.code, 0, explain(undo));
    assert.equal(imageOf(await deployment(staging)), `${IMAGE_REPO}:1.1.0`);
  });

  it('a wave over contexts stops at the first failure, rolls that target back once, and --json reports each target', async () => {
    await setImage(staging, '1.2.0');
    await waitRolledOut(staging, 'users');
    const before = { b: await deployment(prod.b), c: await deployment(prod.c) };
    const r = await promote(
      contexts,
      '--from',
      'staging',
      '--to',
      'prod-a,prod-b,prod-c',
      '--json',
    );
    assert.equal(r.code, 1, explain(r));
    const doc = json<PromoteDoc>(r);
    const image = `${IMAGE_REPO}@${digestFor('1.2.0')}`;
    assert.equal(doc.outcome, 'failed');
    assert.equal(doc.image, image);
    assert.equal(doc.failedAt, 'prod-b');
    assert.equal(doc.exitCode, 1);
    assert.deepEqual(
      doc.targets.map((t) => [t.place, t.namespace, t.outcome, t.exitCode]),
      [
        ['prod-a', prod.a, 'succeeded', 0],
        ['prod-b', prod.b, 'rolled-back', 1],
        ['prod-c', prod.c, 'not-attempted', 0],
      ],
    );
    const b = doc.targets[1]!.deploy;
    assert.equal(b?.failure?.reason, 'FailedCreate');
    assert.equal(b?.rollback?.outcome, 'rolled-back');
    assert.equal(doc.targets[2]!.deploy, undefined);

    assert.equal(imageOf((await waitRolledOut(prod.a, 'users')).value), image);
    const { value: rolledBack } = await waitRolledOut(prod.b, 'users');
    assert.equal(imageOf(rolledBack), `${IMAGE_REPO}:1.0.0`);
    // The release and its one rollback: two revisions, no more.
    assert.equal(revisionOf(rolledBack), revisionOf(before.b) + 2);
    const c = await deployment(prod.c);
    assert.equal(imageOf(c), `${IMAGE_REPO}:1.0.0`);
    assert.equal(c.metadata?.generation, before.c.metadata?.generation, 'prod-c was changed');
  });
});
