// 2. Both Deployments become Available; each has an HPA targeting 70% CPU.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  PRODUCTION,
  SERVICES,
  STAGING,
  autoscaling,
  clusterOrSkip,
  core,
  ensureApplied,
  getDeployment,
  log,
  waitUntil,
} from '../lib/cluster.js';
import { hpaEvents, hpaSummary } from '../lib/hpa.js';

describe('2. Deployments Available, HPA at 70% CPU', clusterOrSkip(), () => {
  before(ensureApplied);

  for (const ns of [STAGING, PRODUCTION])
    for (const svc of SERVICES) {
      it(`${ns}/${svc}: Deployment condition Available=True with all replicas available`, async () => {
        const { value: d, ms } = await waitUntil(
          `${ns}/${svc} Available`,
          async () => {
            const d = await getDeployment(ns, svc);
            const available = d.status?.conditions?.find((c) => c.type === 'Available');
            return available?.status === 'True' &&
              (d.status?.availableReplicas ?? 0) === (d.spec?.replicas ?? -1)
              ? d
              : undefined;
          },
          { timeoutMs: 120_000 },
        );
        log(
          `${ns}/${svc}: ${d.status?.availableReplicas}/${d.spec?.replicas} available (${ms} ms)`,
        );
        assert.equal(d.spec?.strategy?.rollingUpdate?.maxUnavailable, 0);
      });

      it(`${ns}/${svc}: HPA on this Deployment targets 70% CPU utilization`, async () => {
        const hpa = await autoscaling().readNamespacedHorizontalPodAutoscaler({
          name: svc,
          namespace: ns,
        });
        assert.equal(hpa.spec?.scaleTargetRef.kind, 'Deployment');
        assert.equal(hpa.spec?.scaleTargetRef.name, svc);
        const cpu = hpa.spec?.metrics?.find(
          (m) => m.type === 'Resource' && m.resource?.name === 'cpu',
        );
        assert.equal(cpu?.resource?.target.type, 'Utilization');
        assert.equal(cpu?.resource?.target.averageUtilization, 70);
        // The HPA controller accepted it and reads CPU through metrics.k8s.io.
        const { value: util } = await waitUntil(
          `${ns}/${svc} HPA reading CPU`,
          async () => {
            const h = await autoscaling().readNamespacedHorizontalPodAutoscaler({
              name: svc,
              namespace: ns,
            });
            return h.status?.currentMetrics?.find((m) => m.resource?.name === 'cpu')?.resource
              ?.current.averageUtilization;
          },
          { timeoutMs: 150_000, intervalMs: 2000 },
        );
        const d = await getDeployment(ns, svc);
        log(
          `${ns}/${svc}: HPA min ${hpa.spec?.minReplicas} max ${hpa.spec?.maxReplicas}, CPU ${util}% of request (target 70%), ${d.spec?.replicas} replicas`,
        );
        // What the HPA did so far (SuccessfulRescale, FailedGetPodsMetric, ...): on failure, why.
        const events = (await hpaEvents(svc, ns)).map(
          (e) => `${e.reason}: ${e.message} (x${e.count ?? 1})`,
        );
        log(`${ns}/${svc}: HPA events: ${events.join('; ') || 'none'}`);
        assert.equal(
          d.spec?.replicas,
          hpa.spec?.minReplicas,
          `idle service runs at its minimum; HPA ${await hpaSummary(svc, ns)}; events: ${events.join('; ')}`,
        );
      });
    }

  it('production spreads each service over distinct nodes (required) in both zones', async () => {
    for (const svc of SERVICES) {
      const pods = await core().listNamespacedPod({
        namespace: PRODUCTION,
        labelSelector: `app.kubernetes.io/name=${svc}`,
      });
      const nodes = pods.items.map((p) => p.spec?.nodeName ?? '');
      assert.equal(new Set(nodes).size, nodes.length, `${svc} pods share a node: ${nodes}`);
      const zones = new Set<string>();
      for (const n of nodes) {
        const node = await core().readNode({ name: n });
        zones.add(node.metadata?.labels?.['topology.kubernetes.io/zone'] ?? '');
      }
      log(`production/${svc}: pods on ${nodes.join(', ')} (zones ${[...zones].join(', ')})`);
      assert.equal(zones.size, 2, `${svc}: zones ${[...zones]}`);
    }
  });
});
