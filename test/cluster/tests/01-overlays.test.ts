// 1. The staging and production overlays apply with server-side apply to the real API server;
//    namespace Pod Security `restricted` admits our pods and rejects a pod that runs as root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  PRODUCTION,
  SERVICES,
  STAGING,
  applyProduction,
  clusterOrSkip,
  core,
  kubectl,
  kubectlOk,
  log,
  waitRolledOut,
} from '../lib/cluster.js';

const rootPod = (ns: string) => `apiVersion: v1
kind: Pod
metadata: {name: runs-as-root, namespace: ${ns}}
spec:
  containers:
    - name: app
      image: ghcr.io/shiftops/users:0.1.0
      securityContext: {runAsUser: 0}
`;

describe('1. overlays apply server-side; Pod Security restricted', clusterOrSkip(), () => {
  it('applies the Prometheus Operator CRDs first (server-side)', async () => {
    await kubectlOk(['apply', '--server-side', '-k', 'deploy/crds']);
    await kubectlOk(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  });

  it('applies deploy/overlays/staging with server-side apply, every object', async () => {
    const expected = (await kubectlOk(['kustomize', 'deploy/overlays/staging'])).match(
      /^kind: /gm,
    )!.length;
    const out = await kubectlOk(['apply', '--server-side', '-k', 'deploy/overlays/staging']);
    const applied = out.split('\n').filter((l) => / serverside-applied$/.test(l));
    log(`staging: ${applied.length} objects serverside-applied (kustomize builds ${expected})`);
    assert.equal(applied.length, expected, out);
    assert.match(out, /podmonitor\.monitoring\.coreos\.com\/shiftops serverside-applied/);
    assert.match(out, /prometheusrule\.monitoring\.coreos\.com\/shiftops-latency-autoscaling/);
  });

  it('applies the test overlay on top of staging (HPA behavior in seconds, emulation defaults)', async () => {
    const out = await kubectlOk([
      'apply',
      '--server-side',
      '--force-conflicts',
      '-k',
      'test/cluster/overlays/staging',
    ]);
    assert.match(out, /horizontalpodautoscaler\.autoscaling\/users serverside-applied/);
  });

  it('applies deploy/overlays/production (with the database Secrets created as admin)', async () => {
    const out = await applyProduction();
    const expected = (await kubectlOk(['kustomize', 'deploy/overlays/production'])).match(
      /^kind: /gm,
    )!.length;
    const applied = out.split('\n').filter((l) => / serverside-applied$/.test(l));
    log(`production: ${applied.length} objects serverside-applied (kustomize builds ${expected})`);
    assert.equal(applied.length, expected, out);
    const secrets = await kubectlOk(['-n', PRODUCTION, 'get', 'secrets', '-o', 'name']);
    assert.match(secrets, /secret\/users-database/);
  });

  // Production only: in staging the same command conflicts with the platform's first apply
  // (field manager "kubectl") on the postgres component's generated Secrets (.data) and the
  // StatefulSet's .spec.volumeClaimTemplates, even with identical values; see test/cluster/README.md.
  it("production: CI's apply (identity shiftops-ci, platform objects filtered out) is allowed by its Role", async () => {
    // deploy/README.md: kubectl kustomize ... | kubectl apply --server-side
    //   --field-manager=shiftops-ci -l 'shiftops.dev/managed-by!=platform' -f -
    const built = await kubectlOk(['kustomize', 'deploy/overlays/production']);
    const r = await kubectl(
      [
        'apply',
        '--server-side',
        '--field-manager=shiftops-ci',
        '-l',
        'shiftops.dev/managed-by!=platform',
        `--as=system:serviceaccount:${PRODUCTION}:shiftops-ci`,
        '-f',
        '-',
      ],
      { input: built },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deployment\.apps\/users serverside-applied/);
    assert.doesNotMatch(r.stdout, /namespace\/|role\.rbac|rolebinding\.rbac/);
    // ... and the same identity may not touch what the platform owns.
    const ns = await kubectl([
      'label',
      'namespace',
      PRODUCTION,
      'x=y',
      `--as=system:serviceaccount:${PRODUCTION}:shiftops-ci`,
    ]);
    assert.notEqual(ns.code, 0);
    assert.match(ns.stderr, /forbidden/i);
  });

  for (const ns of [STAGING, PRODUCTION]) {
    it(`${ns}: namespace enforces Pod Security "restricted"`, async () => {
      const n = await core().readNamespace({ name: ns });
      assert.equal(n.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
    });

    it(`${ns}: our pods are admitted (every Deployment's pods exist and run)`, async () => {
      for (const svc of SERVICES) {
        // The same Deployment object the wait saw settle (at its HPA's minimum), not a newer one.
        const d = (await waitRolledOut(ns, svc, 180_000)).value;
        const pods = await core().listNamespacedPod({
          namespace: ns,
          labelSelector: `app.kubernetes.io/name=${svc}`,
        });
        const running = pods.items.filter(
          (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
        );
        assert.ok(running.length >= (d.spec?.replicas ?? 1), `${svc}: ${running.length} running`);
        // And the same pod spec passes admission on its own (server-side dry run, no warnings).
        const pod = running[0]!;
        const r = await kubectl(['-n', ns, 'create', '--dry-run=server', '-f', '-'], {
          input: JSON.stringify({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: `${svc}-admission-check`, namespace: ns },
            spec: pod.spec,
          }),
        });
        assert.equal(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /PodSecurity/);
      }
    });

    it(`${ns}: a pod that runs as root is rejected`, async () => {
      const r = await kubectl(['apply', '-f', '-'], { input: rootPod(ns) });
      assert.notEqual(r.code, 0, 'the root pod was admitted');
      assert.match(r.stderr, /violates PodSecurity "restricted:latest"/);
      assert.match(r.stderr, /runAsUser=0|runAsNonRoot/);
      log(`${ns}: ${r.stderr.trim().split('\n')[0]!.slice(0, 220)}`);
    });
  }
});
