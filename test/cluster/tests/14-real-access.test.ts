// 14. Access on real pods, as the developers' identity (client certificate O=shiftops:developers,
//     the Role from deploy/rbac in 7shifts): deploy, roll back and read logs work; exec,
//     port-forward, deleting a pod and reading Secrets are Forbidden. The admin can exec.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { explain, getDeployment, imageOf, kubectl, log, shiftops } from '../lib/cluster.js';
import { developerKubeconfig } from '../lib/developer.js';
import { IMAGE, SEED, ensureSeed, isReady, podsOf, realNodeOrSkip } from '../lib/realnode.js';

describe('14. access on real pods', realNodeOrSkip(), () => {
  let dev = '';
  let pod = '';
  const asDev = (args: string[], timeoutMs = 30_000) =>
    kubectl(['-n', SEED, ...args], { kubeconfig: dev, timeoutMs });

  before(async () => {
    await ensureSeed();
    dev = developerKubeconfig();
    pod = (await podsOf('users')).find(isReady)!.metadata!.name!;
  });

  it('the developer deploys and rolls back real pods, and reads their logs', async () => {
    // From the live good release to the other one and back (rollback = the previous revision).
    const live = imageOf(await getDeployment(SEED, 'users'))!;
    const other = live === IMAGE('users', '1.1.0') ? '1.0.0' : '1.1.0';
    const d = await shiftops(['deploy', 'users', other], { kubeconfig: dev, namespace: SEED });
    assert.equal(d.code, 0, explain(d, 'shiftops deploy as dev-alice'));
    assert.equal(imageOf(await getDeployment(SEED, 'users')), IMAGE('users', other));
    const r = await shiftops(['rollback', 'users'], { kubeconfig: dev, namespace: SEED });
    assert.equal(r.code, 0, explain(r, 'shiftops rollback as dev-alice'));
    assert.equal(imageOf(await getDeployment(SEED, 'users')), live);
    const logs = await asDev(['logs', 'deploy/users', '--tail=5']);
    assert.equal(logs.code, 0, explain(logs));
    // The service's own JSON log lines, read from the real container through the kubelet.
    assert.match(logs.stdout, /"service":"users"/, logs.stdout);
    log(
      `dev-alice: deploy ${d.ms} ms, rollback ${r.ms} ms, logs: ${logs.stdout.split('\n').length} lines`,
    );
  });

  it('exec, port-forward, delete pod and reading Secrets are Forbidden for the developer', async () => {
    pod = (await podsOf('users')).find(isReady)!.metadata!.name!;
    const attempts: Array<[string, string[]]> = [
      ['exec', ['exec', pod, '-c', 'users', '--', 'node', '-e', '1']],
      ['port-forward', ['port-forward', `pod/${pod}`, '0:8080']],
      ['delete pod', ['delete', 'pod', pod, '--wait=false']],
      ['get secret', ['get', 'secret', 'users-database', '-o', 'yaml']],
    ];
    for (const [what, args] of attempts) {
      const r = await asDev(args, 20_000);
      assert.notEqual(r.code, 0, `${what} was allowed:\n${explain(r)}`);
      assert.match(r.stderr, /forbidden/i, `${what}: ${explain(r)}`);
      log(`dev-alice ${what}: ${r.stderr.trim().split('\n')[0]!.slice(0, 160)}`);
    }
    assert.ok(
      (await podsOf('users')).some((p) => p.metadata?.name === pod),
      'the pod is still there',
    );
  });

  it('the admin can exec into a real container (uid 1000, read-only root)', async () => {
    const r = await kubectl([
      '-n',
      SEED,
      'exec',
      pod,
      '-c',
      'users',
      '--',
      'node',
      '-e',
      "const fs=require('fs');let ro=false;try{fs.writeFileSync('/app/x','')}catch(e){ro=e.code==='EROFS'}console.log(process.getuid(),ro)",
    ]);
    assert.equal(r.code, 0, explain(r));
    assert.equal(r.stdout.trim(), '1000 true');
  });
});
