// shiftops against the real kube-apiserver on kwok-simulated pods, in a namespace of its own with
// the developers Role from deploy/rbac and a bare `users` Deployment: the CLI's exit codes and
// outcomes for good, crash-looping (-crash), never-ready (-broken) and paused releases.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, Exec } from '@kubernetes/client-node';
import { apps, clusterOrSkip, explain, parseJson as json, shiftops } from '../lib/cluster.js';
import { configFrom, userKubeconfig } from '../lib/developer.js';
import {
  IMAGE_REPO,
  createSandbox,
  deleteSandbox,
  liveImage,
  startUsers,
  usersDeployment,
} from '../lib/sandbox.js';

describe('shiftops against a real API server', clusterOrSkip(), () => {
  let ns: string;
  let dev: string;
  const run = (...args: string[]) => shiftops(args, { kubeconfig: dev, namespace: ns });
  const currentImage = () => liveImage(ns);

  before(async () => {
    ns = await createSandbox('shiftops-cli');
    dev = await startUsers(
      ns,
      usersDeployment('1.0.0', {
        replicas: 2,
        progressDeadlineSeconds: 90,
        revisionHistoryLimit: 10,
        maxSurge: 1,
      }),
      60_000,
    );
  });

  after(async () => {
    await deleteSandbox(ns);
  });

  it('deploys a good release as a developer and records the change-cause', async () => {
    const r = await run('deploy', 'users', '1.1.0', '--json');
    assert.equal(r.code, 0, explain(r));
    assert.equal(json(r).outcome, 'succeeded');
    assert.equal(await currentImage(), `${IMAGE_REPO}:1.1.0`);
    const d = await apps().readNamespacedDeployment({ name: 'users', namespace: ns });
    assert.match(
      d.metadata?.annotations?.['kubernetes.io/change-cause'] ?? '',
      /^shiftops deploy users .*:1\.1\.0 by .*kube user dev-alice.* at \d{4}-/,
    );
  });

  it('detects a crash-looping release before the progress deadline and rolls it back (exit 1)', async () => {
    const r = await run('deploy', 'users', '1.2.0-crash', '--json');
    assert.equal(r.code, 1, explain(r));
    const result = json(r);
    assert.equal(result.outcome, 'rolled-back');
    assert.match(
      String((result.failure as { reason: string }).reason),
      /CrashLoopBackOff|ContainerRestarted/,
    );
    assert.ok(r.ms < 90_000, `took ${r.ms} ms: no faster than the progress deadline`);
    assert.equal(await currentImage(), `${IMAGE_REPO}:1.1.0`);
    // kwok has no container logs: the diagnosis says so instead of failing.
    const diagnosis = (result.failure as { diagnosis?: { logs: object } }).diagnosis;
    assert.ok(diagnosis, 'a diagnosis of the failing pod');
  });

  it('fails a never-ready release after --ready-timeout and rolls it back (exit 1)', async () => {
    const r = await run('deploy', 'users', '1.3.0-broken', '--ready-timeout', '8s');
    assert.equal(r.code, 1, explain(r));
    assert.match(r.stderr, /NeverReady/);
    assert.match(r.stdout, /rolled back to revision \d+/);
    assert.equal(await currentImage(), `${IMAGE_REPO}:1.1.0`);
  });

  it('leaves a failed release in place with --no-rollback, then `rollback` undoes it', async () => {
    const r = await run('deploy', 'users', '1.4.0-crash', '--no-rollback', '--quiet');
    assert.equal(r.code, 1, explain(r));
    assert.equal(await currentImage(), `${IMAGE_REPO}:1.4.0-crash`);
    const undo = await run('rollback', 'users');
    assert.equal(undo.code, 0, explain(undo));
    assert.equal(await currentImage(), `${IMAGE_REPO}:1.1.0`);
  });

  it('rolls back to revision N, restoring that image', async () => {
    const h = await run('history', 'users', '--json');
    assert.equal(h.code, 0, explain(h));
    const revisions = json(h).revisions as Array<{
      revision: number;
      image: string;
      live: boolean;
    }>;
    const first = revisions.find((x) => x.image === `${IMAGE_REPO}:1.0.0`);
    assert.ok(first, `1.0.0 in history: ${JSON.stringify(revisions)}`);
    const r = await run('rollback', 'users', '--to-revision', String(first.revision));
    assert.equal(r.code, 0, explain(r));
    assert.equal(await currentImage(), `${IMAGE_REPO}:1.0.0`);
    const after = json(await run('history', 'users', '--json')).revisions as Array<{
      image: string;
      live: boolean;
    }>;
    assert.equal(after.find((x) => x.live)?.image, `${IMAGE_REPO}:1.0.0`);
  });

  it('says which revisions exist when asked for one that does not (exit 64)', async () => {
    const r = await run('rollback', 'users', '--to-revision', '999');
    assert.equal(r.code, 64, explain(r));
    assert.match(
      r.stderr + r.stdout,
      /unable to find specified revision 999 in history \(known revisions: /,
    );
  });

  it('refuses to roll back or deploy a paused Deployment (exit 64)', async () => {
    await apps().patchNamespacedDeployment({
      name: 'users',
      namespace: ns,
      body: [{ op: 'add', path: '/spec/paused', value: true }],
    });
    try {
      const r = await run('rollback', 'users');
      assert.equal(r.code, 64, explain(r));
      assert.match(r.stdout + r.stderr, /paused/);
      const d = await run('deploy', 'users', '9.9.9');
      assert.equal(d.code, 64, explain(d));
    } finally {
      await apps().patchNamespacedDeployment({
        name: 'users',
        namespace: ns,
        body: [{ op: 'replace', path: '/spec/paused', value: false }],
      });
    }
  });

  it('reports status with replicas, image and revision for each service', async () => {
    const r = await run('status', '--json');
    assert.equal(r.code, 0, explain(r));
    const services = json(r).services as Array<Record<string, unknown>>;
    const users = services.find((s) => s.service === 'users');
    assert.equal(users?.found, true);
    assert.equal(users?.image, `${IMAGE_REPO}:1.0.0`);
    assert.equal(users?.desired, 2);
    assert.equal(services.find((s) => s.service === 'shifts')?.found, false);
  });

  it('does not let the developer delete or exec, and names a missing permission (exit 69)', async () => {
    const devKc = configFrom(dev);
    const core = devKc.makeApiClient(CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: ns });
    const pod = pods.items[0]?.metadata?.name;
    assert.ok(pod);
    await assert.rejects(
      core.deleteNamespacedPod({ name: pod, namespace: ns }),
      (err: { code?: number }) => err.code === 403,
    );
    await assert.rejects(
      core.readNamespacedSecret({ name: 'any', namespace: ns }),
      (err: { code?: number }) => err.code === 403,
    );
    const execResult = await new Promise<string>((resolve) => {
      new Exec(devKc)
        .exec(ns, pod, 'users', ['true'], null, null, null, false, (status) =>
          resolve(JSON.stringify(status)),
        )
        .catch((err: unknown) => resolve(String((err as Error).message ?? err)));
    });
    assert.match(execResult, /403|[Ff]orbidden/);

    const stranger = userKubeconfig('mallory', 'nobody');
    const r = await shiftops(['deploy', 'users', '2.0.0'], {
      kubeconfig: stranger,
      namespace: ns,
    });
    assert.equal(r.code, 69, explain(r));
    assert.match(r.stderr, /patch deployments\.apps in namespace/);
    assert.equal(await currentImage(), `${IMAGE_REPO}:1.0.0`);
  });
  it('gives up after --timeout with exit 3 and rolls nothing back', async () => {
    const r = await run(
      'deploy',
      'users',
      '1.7.0-broken',
      '--timeout',
      '6s',
      '--ready-timeout',
      '5m',
      '--json',
    );
    assert.equal(r.code, 3, explain(r));
    assert.equal(json(r).outcome, 'timeout');
    assert.equal(await currentImage(), `${IMAGE_REPO}:1.7.0-broken`);
    const undo = await run('rollback', 'users');
    assert.equal(undo.code, 0, explain(undo));
  });

  it('exits 2 when the release fails and the revision it rolls back to fails too', async () => {
    const first = await run('deploy', 'users', '1.5.0-crash', '--no-rollback');
    assert.equal(first.code, 1, explain(first));
    const r = await run('deploy', 'users', '1.6.0-crash', '--json');
    assert.equal(r.code, 2, explain(r));
    assert.equal(json(r).outcome, 'rollback-failed');
    // Recover for whoever runs next.
    const fix = await run('deploy', 'users', '1.0.0');
    assert.equal(fix.code, 0, explain(fix));
  });
});
