// The API server goes away in the middle of `shiftops deploy`, on the real kube-apiserver: killed
// (SIGKILL) and started again by kwokctl (lib/apiserver.ts), or the CLI's own connections cut,
// refused or black-holed by a proxy between it and the server (lib/cut-proxy.ts), while the
// cluster itself goes on. The CLI must reconnect, say so, reach the verdict the cluster's state
// calls for, roll back at most once, and never write over a change someone made meanwhile; a
// server that never answers must end it with exit 75 within --request-timeout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import {
  apps,
  clusterOrSkip,
  core,
  explain,
  getDeployment,
  imageOf,
  isRolledOut,
  revisionOf,
  kubectlOk,
  log,
  secs,
  shiftops,
  sleep,
  waitRolledOut,
  waitUntil,
  type Run,
} from '../lib/cluster.js';
import { killApiServer, restartApiServer, type Outage } from '../lib/apiserver.js';
import { CutProxy } from '../lib/cut-proxy.js';
import { configFrom, kubeconfigWith } from '../lib/developer.js';
import {
  IMAGE_REPO,
  createSandbox,
  deleteSandbox,
  startUsers,
  usersDeployment,
} from '../lib/sandbox.js';

const CHANGE_CAUSE = 'kubernetes.io/change-cause';
const LOST = /API server connection lost \(watching (deployments|replicasets|pods): /;
const BACK = /API server connection back after \S+ \(watching (deployments|replicasets|pods); /;
/** The line rollBack() prints once per rollback patch the API server accepted. */
const ROLLBACK_PATCH = /^rolling back users: revision \d+ -> \d+ /gm;

describe('the API server goes away during a deploy', clusterOrSkip(), () => {
  let ns: string;
  let dev: string;
  let proxy: CutProxy;
  let viaProxy: string;

  const image = (tag: string) => `${IMAGE_REPO}:${tag}`;
  const users = () => getDeployment(ns, 'users');
  const revision = async () => revisionOf(await users());
  /** Starts a deploy (analysis off: this cluster's sandbox has no Prometheus) without waiting. */
  const startDeploy = (tag: string, kubeconfig: string, ...flags: string[]) => {
    let stdout = '';
    const state = {
      done: false,
      get stdout() {
        return stdout;
      },
      run: shiftops(['deploy', 'users', tag, '--analysis=off', ...flags], {
        kubeconfig,
        namespace: ns,
        onOutput: (out) => (stdout = out),
      }),
    };
    void state.run.then(() => (state.done = true));
    return state;
  };
  /**
   * The deploy's patch has been answered: the CLI printed "users: <old> -> <new>", which it does
   * on the patch's answer (the Deployment carrying the image is not enough: the answer may still be
   * on its way, and an outage then is a failed patch, not a watched rollout).
   */
  const patched = (deploy: { stdout: string; done: boolean }, tag: string) =>
    waitUntil(
      `the deploy's patch to ${tag} answered`,
      async () => {
        if (deploy.done) throw new Error(`the deploy ended before its patch:\n${deploy.stdout}`);
        return deploy.stdout.includes(` -> ${image(tag)}\n`);
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
  /** Kills kube-apiserver under a running deploy, 2 s of nothing listening, then the restart. */
  const outageDuring = async (deploy: { done: boolean }): Promise<Outage> => {
    const killed = await killApiServer();
    assert.equal(deploy.done, false, 'the deploy had ended before the kill');
    await sleep(2000);
    const outage = await restartApiServer(killed);
    log(
      `kube-apiserver pid ${outage.killedPid} killed, pid ${outage.newPid} ready ${secs(outage.downMs)} later` +
        (outage.alsoRestarted.length ? `; also restarted: ${outage.alsoRestarted.join(', ')}` : ''),
    );
    return outage;
  };
  /** The CLI's own outage report, for the log. */
  const outageLines = (r: Run) =>
    r.stderr
      .split('\n')
      .filter((l) => l.startsWith('API server connection'))
      .join('\n');
  const rollbackPatches = (r: Run) => r.stdout.match(ROLLBACK_PATCH)?.length ?? 0;
  const podsOf = async (tag: string): Promise<V1Pod[]> =>
    (
      await core().listNamespacedPod({
        namespace: ns,
        labelSelector: 'app.kubernetes.io/name=users',
      })
    ).items.filter((p) => p.spec?.containers[0]?.image === image(tag));
  const crashLooping = (p: V1Pod) =>
    (p.status?.containerStatuses ?? []).some(
      (c) => c.state?.waiting?.reason === 'CrashLoopBackOff',
    );

  before(async () => {
    ns = await createSandbox('shiftops-outage');
    // 3 replicas, one surge pod at a time, each Available 5 s after Ready: a rollout takes more
    // than 15 s, so the outage lands in its middle.
    dev = await startUsers(
      ns,
      usersDeployment('1.0.0', {
        replicas: 3,
        progressDeadlineSeconds: 120,
        revisionHistoryLimit: 20,
        maxSurge: 1,
        minReadySeconds: 5,
      }),
      60_000,
    );
    proxy = await CutProxy.start(configFrom(dev).getCurrentCluster()!.server);
    viaProxy = kubeconfigWith(dev, { server: proxy.url });
  });

  after(async () => {
    await proxy?.close();
    if (ns) await deleteSandbox(ns);
    // Leave the cluster as the next file expects it: every aggregated API served again.
    await kubectlOk(['wait', '--for=condition=Available', 'apiservice', '--all', '--timeout=120s']);
  });

  it('kube-apiserver killed and restarted mid-rollout: the CLI reconnects, says so, and the good release succeeds', async () => {
    const deploy = startDeploy('1.1.0', dev, '--timeout', '4m');
    await patched(deploy, '1.1.0');
    const mid = await users();
    assert.ok(!isRolledOut(mid), `the rollout was already complete: ${JSON.stringify(mid.status)}`);
    await outageDuring(deploy);
    const r = await deploy.run;
    log(`deploy across the restart: exit ${r.code} after ${secs(r.ms)}\n${outageLines(r)}`);
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stderr, LOST, explain(r));
    assert.match(r.stderr, BACK, explain(r));
    assert.match(r.stdout, /users: registry\.local\/shiftops\/users:1\.1\.0 is live/);
    assert.equal(rollbackPatches(r), 0);
    const { value: d } = await waitRolledOut(ns, 'users');
    assert.equal(imageOf(d), image('1.1.0'));
  });

  it('killed and restarted while a crash-looping release is watched: failed after the restart and rolled back exactly once', async () => {
    const before = await revision();
    const deploy = startDeploy('1.2.0-crash', dev, '--timeout', '4m');
    await patched(deploy, '1.2.0-crash');
    // kwok's crash stage fires 3-8 s after a pod starts: the CLI cannot have seen it yet.
    await outageDuring(deploy);
    const r = await deploy.run;
    log(
      `crash-looping deploy across the restart: exit ${r.code} after ${secs(r.ms)}\n${outageLines(r)}`,
    );
    assert.equal(r.code, 1, explain(r));
    assert.match(r.stderr, /FAILED: (CrashLoopBackOff|ContainerRestarted)/, explain(r));
    assert.match(r.stderr, LOST, explain(r));
    assert.equal(rollbackPatches(r), 1, explain(r));
    assert.doesNotMatch(r.stderr, /no answer to the patch/);
    const { value: d } = await waitRolledOut(ns, 'users');
    assert.equal(imageOf(d), image('1.1.0'));
    // One revision for the release, one for the rollback: a second rollback would have made
    // another (back to the crashing template).
    assert.equal(revisionOf(d), before + 2);
    assert.match(
      d.metadata?.annotations?.[CHANGE_CAUSE] ?? '',
      /^shiftops rollback users to revision \d+ \(registry\.local\/shiftops\/users:1\.1\.0, automatic, after registry\.local\/shiftops\/users:1\.2\.0-crash failed: /,
    );
  });

  it('watch connections cut during a crash-looping release: a scale, a label and an annotation set meanwhile survive the one rollback', async () => {
    const before = await revision();
    const deploy = startDeploy('1.3.0-crash', viaProxy, '--timeout', '4m');
    await patched(deploy, '1.3.0-crash');
    await sleep(1000); // the CLI's three watches are established
    proxy.refuse();
    // Meanwhile, someone else (the admin, not through the proxy) scales, labels and annotates it.
    await apps().patchNamespacedDeployment({
      name: 'users',
      namespace: ns,
      body: [
        { op: 'replace', path: '/spec/replicas', value: 4 },
        { op: 'add', path: '/metadata/labels/example.com~1changed-meanwhile', value: 'yes' },
        { op: 'add', path: '/metadata/annotations/example.com~1on-call', value: 'bob' },
      ],
    });
    // The crash happens while the CLI cannot see it.
    await waitUntil(
      'a crash-looping pod of 1.3.0-crash',
      async () => (await podsOf('1.3.0-crash')).some(crashLooping),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const cut = proxy.cut;
    assert.equal(deploy.done, false, 'the deploy ended while its connections were cut');
    proxy.open();
    const r = await deploy.run;
    log(
      `crash-looping deploy across cut watches (${cut} connections cut or refused): exit ${r.code} after ${secs(r.ms)}`,
    );
    assert.ok(cut >= 3, `only ${cut} connections were cut: the watches were not`);
    assert.equal(r.code, 1, explain(r));
    assert.match(r.stderr, LOST, explain(r));
    assert.match(r.stderr, BACK, explain(r));
    assert.equal(rollbackPatches(r), 1, explain(r));
    const { value: d } = await waitRolledOut(ns, 'users');
    assert.equal(imageOf(d), image('1.1.0'));
    assert.equal(revisionOf(d), before + 2);
    assert.equal(d.spec?.replicas, 4, 'the scale made meanwhile was overwritten');
    assert.equal(d.status?.readyReplicas, 4);
    assert.equal(d.metadata?.labels?.['example.com/changed-meanwhile'], 'yes');
    assert.equal(d.metadata?.annotations?.['example.com/on-call'], 'bob');
  });

  it('watch connections cut while someone else deploys: exit 64 naming their release, which stays', async () => {
    const deploy = startDeploy('1.4.0', viaProxy, '--timeout', '4m');
    await patched(deploy, '1.4.0');
    await sleep(1000);
    proxy.refuse();
    const theirs = 'deployed by someone else while shiftops was disconnected (09b)';
    await apps().patchNamespacedDeployment({
      name: 'users',
      namespace: ns,
      body: [
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: image('1.5.0') },
        { op: 'add', path: '/metadata/annotations/kubernetes.io~1change-cause', value: theirs },
      ],
    });
    await sleep(2000);
    proxy.open();
    const r = await deploy.run;
    log(`deploy superseded during the cut: exit ${r.code} after ${secs(r.ms)}`);
    assert.equal(r.code, 64, explain(r));
    assert.match(
      r.stderr,
      /the images of users changed while this CLI was watching \(now users=registry\.local\/shiftops\/users:1\.5\.0; change-cause: deployed by someone else/,
    );
    assert.equal(rollbackPatches(r), 0, explain(r));
    const { value: d } = await waitRolledOut(ns, 'users');
    assert.equal(imageOf(d), image('1.5.0'));
    assert.equal(d.metadata?.annotations?.[CHANGE_CAUSE], theirs);
  });

  it('an API server that accepts and never answers: exit 75 within --request-timeout, naming the server', async () => {
    const silent = await CutProxy.start(undefined, 'silent');
    try {
      const kubeconfig = kubeconfigWith(dev, { server: silent.url });
      for (const args of [
        ['deploy', 'users', '1.6.0', '--analysis=off'],
        ['status', 'users'],
      ]) {
        const r = await shiftops([...args, '--request-timeout', '3s'], {
          kubeconfig,
          namespace: ns,
          timeoutMs: 60_000,
        });
        log(`${args[0]} against a silent server: exit ${r.code} after ${secs(r.ms)}`);
        assert.equal(r.code, 75, explain(r));
        assert.match(
          r.stderr,
          new RegExp(
            `^shiftops: [a-z ]+: the API server did not answer in time \\(https://127\\.0\\.0\\.1:${silent.port}, context test, --request-timeout 3s\\); nothing was changed\\. Check that it is up`,
            'm',
          ),
        );
        // It waited for its bound (the server did accept), and not much longer.
        assert.ok(r.ms >= 3000, `gave up after ${r.ms} ms, before its bound`);
        assert.ok(r.ms < 13_000, `took ${r.ms} ms for a 3 s bound`);
      }
      assert.ok(silent.accepted >= 2, `the silent server accepted ${silent.accepted} connections`);
    } finally {
      await silent.close();
    }
    assert.equal(imageOf(await users()), image('1.5.0'));
  });

  it('the API server goes silent mid-deploy: no verdict, exit 3 at --timeout saying for how long, nothing rolled back', async () => {
    const deploy = startDeploy(
      '1.7.0-crash',
      viaProxy,
      '--timeout',
      '20s',
      '--request-timeout',
      '4s',
    );
    await patched(deploy, '1.7.0-crash');
    await sleep(1000);
    proxy.silence();
    const r = await deploy.run;
    proxy.open();
    log(`deploy with the API server black-holed: exit ${r.code} after ${secs(r.ms)}`);
    assert.equal(r.code, 3, explain(r));
    assert.match(
      r.stdout,
      /users: no verdict after 20s \(.*no connection to the API server for the last \d+s \(watching [a-z, ]+\)\); nothing rolled back/,
    );
    assert.match(r.stderr, LOST, explain(r));
    assert.ok(r.ms >= 20_000 && r.ms < 20_000 + 15_000, `exit after ${r.ms} ms`);
    assert.equal(rollbackPatches(r), 0);
    assert.equal(imageOf(await users()), image('1.7.0-crash'), 'something rolled it back');
    const undo = await shiftops(['rollback', 'users'], { kubeconfig: dev, namespace: ns });
    assert.equal(undo.code, 0, explain(undo));
    assert.equal(imageOf(await users()), image('1.5.0'));
  });
});
