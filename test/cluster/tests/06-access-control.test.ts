// 6. Access control for a developer (group shiftops:developers, deploy/rbac/developers.yaml):
//    a table of `kubectl auth can-i` checks by impersonation, allowed and denied, and real calls
//    with the developer's own client certificate: shiftops deploy and rollback succeed; kubectl
//    delete and exec are refused.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEVELOPERS_GROUP,
  PRODUCTION,
  STAGING,
  clusterOrSkip,
  core,
  ensureApplied,
  explain,
  getDeployment,
  imageOf,
  imageRepo,
  kubectl,
  log,
  shiftops,
  table,
  waitRolledOut,
} from '../lib/cluster.js';
import { developerKubeconfig } from '../lib/developer.js';

const NS = STAGING;
// [verb, resource, namespace ('' = cluster scope), expected]
const checks: Array<[string, string, string, 'yes' | 'no']> = [
  ['get', 'deployments', NS, 'yes'],
  ['list', 'deployments', NS, 'yes'],
  ['watch', 'deployments', NS, 'yes'],
  ['patch', 'deployments', NS, 'yes'],
  ['update', 'deployments', NS, 'yes'],
  ['list', 'replicasets', NS, 'yes'],
  ['watch', 'replicasets', NS, 'yes'],
  ['list', 'pods', NS, 'yes'],
  ['get', 'pods/log', NS, 'yes'],
  ['list', 'events', NS, 'yes'],
  ['get', 'horizontalpodautoscalers', NS, 'yes'],
  ['patch', 'deployments', PRODUCTION, 'yes'], // the overlay binds developers in each namespace
  ['delete', 'deployments', NS, 'no'],
  ['create', 'deployments', NS, 'no'],
  ['delete', 'pods', NS, 'no'],
  ['create', 'pods', NS, 'no'],
  ['create', 'pods/exec', NS, 'no'],
  ['create', 'pods/portforward', NS, 'no'],
  ['create', 'pods/attach', NS, 'no'],
  ['get', 'secrets', NS, 'no'],
  ['list', 'secrets', NS, 'no'],
  ['update', 'configmaps', NS, 'no'],
  ['patch', 'replicasets', NS, 'no'],
  ['patch', 'horizontalpodautoscalers', NS, 'no'],
  ['patch', 'roles', NS, 'no'],
  ['create', 'rolebindings', NS, 'no'],
  ['escalate', 'roles', NS, 'no'],
  ['patch', 'deployments', 'default', 'no'],
  ['list', 'pods', 'kube-system', 'no'],
  ['get', 'secrets', 'kube-system', 'no'],
  ['list', 'namespaces', '', 'no'],
  ['delete', 'namespaces', '', 'no'],
  ['get', 'nodes', '', 'no'],
];

async function canI(verb: string, resource: string, ns: string): Promise<string> {
  const args = [
    'auth',
    'can-i',
    verb,
    resource,
    '--as=dev-alice',
    `--as-group=${DEVELOPERS_GROUP}`,
  ];
  const r = await kubectl(ns ? [...args, '-n', ns] : args);
  // exit 0 = yes, 1 = no; anything else is an error
  if (r.code !== 0 && r.code !== 1) throw new Error(explain(r, `can-i ${verb} ${resource}`));
  return r.stdout.trim();
}

describe('6. access control for shiftops:developers', clusterOrSkip(), () => {
  let dev = '';
  before(async () => {
    await ensureApplied();
    dev = developerKubeconfig('dev-alice');
  });

  it(`can-i table (${checks.length} checks, impersonating dev-alice in ${DEVELOPERS_GROUP})`, async () => {
    const answers: string[] = [];
    // 4 at a time: each is a kubectl process.
    for (let i = 0; i < checks.length; i += 4) {
      const batch = checks.slice(i, i + 4);
      answers.push(...(await Promise.all(batch.map(([v, r, ns]) => canI(v, r, ns)))));
    }
    const rows = checks.map(([v, r, ns, want], i) => [
      v,
      r,
      ns || '(cluster)',
      want,
      answers[i]!,
      answers[i] === want ? 'ok' : 'WRONG',
    ]);
    log(table([['verb', 'resource', 'namespace', 'expected', 'can-i', ''], ...rows]));
    assert.ok(checks.filter((c) => c[3] === 'yes').length >= 5);
    assert.ok(checks.filter((c) => c[3] === 'no').length >= 10);
    const wrong = rows.filter((r) => r[5] !== 'ok');
    assert.deepEqual(wrong, [], 'can-i answers differ from the developers Role');
    // Without the group the same user may do nothing: the group is what grants it.
    assert.equal(
      (
        await kubectl(['auth', 'can-i', 'patch', 'deployments', '-n', NS, '--as=dev-alice'])
      ).stdout.trim(),
      'no',
    );
  });

  it('real calls with the developer certificate: shiftops deploy and rollback succeed', async () => {
    const svc = 'users';
    const before = imageOf((await waitRolledOut(NS, svc)).value)!;
    const deploy = await shiftops(['deploy', svc, '0.6.1', '--json'], { kubeconfig: dev });
    assert.equal(deploy.code, 0, explain(deploy, 'shiftops deploy as dev-alice'));
    assert.equal(imageOf(await getDeployment(NS, svc)), `${imageRepo(svc)}:0.6.1`);
    // The change-cause names the developer's kube user: the call really ran as dev-alice.
    const d = await getDeployment(NS, svc);
    assert.match(d.metadata?.annotations?.['kubernetes.io/change-cause'] ?? '', /dev-alice/);

    const rollback = await shiftops(['rollback', svc, '--json'], { kubeconfig: dev });
    assert.equal(rollback.code, 0, explain(rollback, 'shiftops rollback as dev-alice'));
    assert.equal(imageOf(await getDeployment(NS, svc)), before);
    log(`dev-alice: deploy ${svc} 0.6.1 (exit 0), rollback to ${before} (exit 0)`);
  });

  it('real calls with the developer certificate: kubectl delete, exec, get secrets are Forbidden', async () => {
    const pods = await core().listNamespacedPod({
      namespace: NS,
      labelSelector: 'app.kubernetes.io/name=users',
    });
    const pod = pods.items[0]?.metadata?.name;
    assert.ok(pod);
    const calls: Array<[string, string[]]> = [
      ['kubectl delete pod', ['-n', NS, 'delete', 'pod', pod, '--wait=false']],
      ['kubectl exec', ['-n', NS, 'exec', pod, '-c', 'users', '--', 'true']],
      ['kubectl delete deployment', ['-n', NS, 'delete', 'deployment', 'users', '--wait=false']],
      ['kubectl port-forward', ['-n', NS, 'port-forward', `pod/${pod}`, '0:8080']],
      ['kubectl get secrets', ['-n', NS, 'get', 'secrets']],
      ['kubectl get pods -n kube-system', ['-n', 'kube-system', 'get', 'pods']],
    ];
    const results: string[][] = [];
    for (const [what, args] of calls) {
      const r = await kubectl(args, { kubeconfig: dev, timeoutMs: 30_000 });
      results.push([what, String(r.code), r.stderr.trim().split('\n')[0]!.slice(0, 110)]);
      assert.notEqual(r.code, 0, `${what} succeeded as dev-alice`);
      assert.match(r.stderr, /forbidden/i, `${what}: ${r.stderr}`);
      assert.match(r.stderr, /User "dev-alice"/);
    }
    log(table([['as dev-alice', 'exit', 'stderr'], ...results]));
    // Nothing was deleted.
    await core().readNamespacedPod({ name: pod, namespace: NS });
    await getDeployment(NS, 'users');
  });
});
