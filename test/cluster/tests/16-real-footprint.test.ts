// 16. Footprint of the real node: pod create -> Ready per service (a bare pod from each
//     Deployment's own template, off the Service's selector, with a copy of the service's
//     NetworkPolicy for its own label and one letting it into PostgreSQL), and the resident
//     memory of each node component (from /proc by their pid files) and of each running pod
//     (metrics.k8s.io working set, read by metrics-server from the real kubelet).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '@kubernetes/client-node';
import {
  adminConfig,
  core,
  getDeployment,
  kubectlOk,
  log,
  secs,
  table,
  waitUntil,
} from '../lib/cluster.js';
import {
  SEED,
  ensureSeed,
  isReady,
  nodeComponentRss,
  nodeName,
  realNodeOrSkip,
} from '../lib/realnode.js';

describe('16. real node footprint', realNodeOrSkip(), () => {
  before(ensureSeed);

  for (const svc of ['users', 'shifts'] as const) {
    it(`${svc}: a pod from the Deployment's template goes from create to Ready on the real node`, async () => {
      const template = (await getDeployment(SEED, svc)).spec!.template;
      const name = `${svc}-start-check-${Date.now().toString(36)}`;
      const label = `${svc}-start-check`;
      // Off the selector means off the policies too (they select the same label), and the
      // namespace denies all traffic by default: the pod gets a copy of its service's policy for
      // its own label, and PostgreSQL a policy that lets it in (policies add up).
      const policy = JSON.parse(
        await kubectlOk(['-n', SEED, 'get', 'networkpolicy', svc, '-o', 'json']),
      ) as { spec: { podSelector: unknown } };
      const own = { matchLabels: { 'app.kubernetes.io/name': label } };
      const policies = [
        { name: label, spec: { ...policy.spec, podSelector: own } },
        {
          name: `${label}-postgres`,
          spec: {
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'postgres' } },
            policyTypes: ['Ingress'],
            ingress: [{ from: [{ podSelector: own }], ports: [{ port: 'postgres' }] }],
          },
        },
      ].map((p) => ({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: p.name, namespace: SEED },
        spec: p.spec,
      }));
      const list = { apiVersion: 'v1', kind: 'List', items: policies };
      await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(list) });
      const started = Date.now();
      await core().createNamespacedPod({
        namespace: SEED,
        body: {
          metadata: { name, labels: { 'app.kubernetes.io/name': label } },
          spec: template.spec!,
        },
      });
      try {
        const { ms } = await waitUntil(
          `pod ${name} Ready`,
          async () => isReady(await core().readNamespacedPod({ name, namespace: SEED })),
          { timeoutMs: 60_000, intervalMs: 100 },
        );
        const pod = await core().readNamespacedPod({ name, namespace: SEED });
        assert.equal(pod.spec?.nodeName, nodeName());
        log(
          `${svc}: pod create -> Ready in ${secs(ms)} (${secs(Date.now() - started)} with the API calls)`,
        );
      } finally {
        await core().deleteNamespacedPod({ name, namespace: SEED, gracePeriodSeconds: 0 });
        await kubectlOk(['delete', '-f', '-', '--ignore-not-found'], {
          input: JSON.stringify(list),
        });
      }
    });
  }

  it('prints the resident memory of every node component and pod', async () => {
    const rows = [['process', 'RSS']];
    for (const c of ['containerd', 'kubelet', 'kube-proxy', 'kube-router', 'coredns']) {
      const mb = nodeComponentRss(c);
      assert.ok(
        mb !== undefined && mb > 0,
        `no RSS for ${c} (SHIFTOPS_NODE_DIR=${process.env.SHIFTOPS_NODE_DIR})`,
      );
      rows.push([c, `${mb} MB`]);
    }
    const { value: pods } = await waitUntil(
      'pod metrics for the seed namespace',
      async () => {
        const m = await new Metrics(adminConfig()).getPodMetrics(SEED);
        return m.items.length > 0 ? m.items : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2000 },
    );
    for (const p of pods)
      for (const c of p.containers)
        rows.push([`pod ${p.metadata.name} (${c.name})`, c.usage.memory]);
    log(table(rows));
  });
});
