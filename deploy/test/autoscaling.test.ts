// Every Deployment scales on CPU at 70% within bounds a PodDisruptionBudget can live with, and the
// latency metric is wired the same way from the recording rule to the HPA.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  allBuilds,
  deployDir,
  envValue,
  everything,
  ofKind,
  overlay,
  overlayNames,
  parseYamlFile,
} from './lib/manifests.ts';
import type { K8sObject } from './lib/manifests.ts';

const LATENCY_METRIC = 'http_request_duration_seconds_p95';

function selects(
  selector: { matchLabels?: Record<string, string> },
  labels: Record<string, string>,
) {
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

function hpaFor(objects: K8sObject[], d: K8sObject) {
  return ofKind(objects, 'HorizontalPodAutoscaler').filter(
    (h) =>
      h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === d.metadata.name,
  );
}

function maxSurge(d: K8sObject, replicas: number) {
  const s = d.spec.strategy.rollingUpdate.maxSurge;
  return typeof s === 'string' ? Math.ceil((replicas * Number(s.replace('%', ''))) / 100) : s;
}

for (const { name, objects } of allBuilds()) {
  describe(`autoscaling and disruption in ${name}`, () => {
    for (const d of ofKind(objects, 'Deployment')) {
      const labels = d.spec.template.metadata.labels;
      it(`Deployment/${d.metadata.name} has exactly one autoscaling/v2 HPA with CPU at 70% average utilization`, () => {
        const hpas = hpaFor(objects, d);
        assert.equal(hpas.length, 1);
        const hpa = hpas[0]!;
        assert.equal(hpa.apiVersion, 'autoscaling/v2');
        const cpu = hpa.spec.metrics.filter(
          (m: K8sObject) => m.type === 'Resource' && m.resource.name === 'cpu',
        );
        assert.equal(cpu.length, 1);
        assert.deepEqual(cpu[0].resource.target, { type: 'Utilization', averageUtilization: 70 });
        assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.minReplicas <= hpa.spec.maxReplicas);
        assert.ok(
          hpa.spec.behavior?.scaleDown?.stabilizationWindowSeconds > 0,
          'scale-down needs a window',
        );
        assert.ok(hpa.spec.behavior?.scaleUp?.policies?.length > 0, 'scale-up policy chosen');
        // Utilization is relative to the request: without one the HPA cannot compute it.
        for (const c of d.spec.template.spec.containers) assert.ok(c.resources.requests.cpu);
      });

      it(`Deployment/${d.metadata.name} has a PodDisruptionBudget that still lets a node drain`, () => {
        const pdbs = ofKind(objects, 'PodDisruptionBudget').filter((p) =>
          selects(p.spec.selector, labels),
        );
        assert.equal(pdbs.length, 1);
        const pdb = pdbs[0]!;
        assert.deepEqual(pdb.spec.selector, d.spec.selector);
        // minAvailable equal to the replica count would block every drain.
        assert.ok(pdb.spec.maxUnavailable >= 1, 'maxUnavailable >= 1');
      });
    }

    for (const hpa of ofKind(objects, 'HorizontalPodAutoscaler')) {
      it(`HPA/${hpa.metadata.name} targets a Deployment of this build`, () => {
        assert.ok(
          ofKind(objects, 'Deployment').some(
            (d) => d.metadata.name === hpa.spec.scaleTargetRef.name,
          ),
        );
      });
    }
  });
}

describe('production', () => {
  const objects = overlay('production');
  for (const hpa of ofKind(objects, 'HorizontalPodAutoscaler')) {
    it(`HPA/${hpa.metadata.name} keeps 2 replicas at least, so the PDB always leaves one serving`, () => {
      const pdb = ofKind(objects, 'PodDisruptionBudget').find(
        (p) => p.metadata.name === hpa.metadata.name,
      );
      assert.ok(hpa.spec.minReplicas >= 2);
      assert.ok(hpa.spec.minReplicas - pdb!.spec.maxUnavailable >= 1);
    });
  }

  it('has stricter resources than staging: memory request equals limit, larger requests', () => {
    const staging = overlay('staging');
    for (const d of ofKind(objects, 'Deployment')) {
      const prod = d.spec.template.spec.containers[0].resources;
      const stag = ofKind(staging, 'Deployment').find((s) => s.metadata.name === d.metadata.name)!
        .spec.template.spec.containers[0].resources;
      assert.equal(prod.requests.memory, prod.limits.memory);
      assert.notDeepEqual(prod, stag);
    }
  });
});

describe('latency autoscaling', () => {
  const objects = everything();
  const adapter = parseYamlFile(
    readFileSync(
      join(deployDir, 'components/latency-autoscaling/prometheus-adapter/config.yaml'),
      'utf8',
    ),
  )[0] as {
    rules: Array<{
      seriesQuery: string;
      name: { matches: string; as: string };
      resources: { overrides: Record<string, { resource: string }> };
    }>;
  };
  const recorded = ofKind(objects, 'PrometheusRule')
    .flatMap((r) => r.spec.groups.flatMap((g: K8sObject) => g.rules))
    .filter((r: { record?: string }) => r.record);

  for (const hpa of ofKind(objects, 'HorizontalPodAutoscaler')) {
    it(`HPA/${hpa.metadata.name} scales on CPU and on the p95 latency Pods metric together`, () => {
      const types = hpa.spec.metrics.map((m: K8sObject) => m.type);
      assert.deepEqual(types, ['Resource', 'Pods']);
      const pods = hpa.spec.metrics[1].pods;
      assert.equal(pods.metric.name, LATENCY_METRIC);
      assert.equal(pods.target.type, 'AverageValue');
    });
  }

  it('prometheus-adapter serves the metric the HPA asks for, per pod, from the recorded series', () => {
    const rule = adapter.rules.find((r) => r.name.as === LATENCY_METRIC);
    assert.ok(rule);
    assert.equal(rule.resources.overrides.pod?.resource, 'pod');
    assert.equal(rule.resources.overrides.namespace?.resource, 'namespace');
    const series = /^([^{]+)\{/.exec(rule.seriesQuery)![1]!;
    assert.match(series, new RegExp(rule.name.matches));
    const record = recorded.find((r: { record: string }) => r.record === series);
    assert.ok(record, `no recording rule records ${series}`);
    // `pod` must survive histogram_quantile, or the adapter has nothing per pod to serve.
    assert.match(record.expr, /histogram_quantile\(0\.95,\s*sum by \([^)]*\bpod\b[^)]*\ble\b/);
  });
});

describe('database connection budget', () => {
  // Every pod opens up to DB_POOL_MAX connections; at max scale plus a rollout surge, both
  // services together must fit the in-cluster server (PostgreSQL reserves 3 for superusers).
  for (const name of overlayNames) {
    const objects = overlay(name);
    const pg = ofKind(objects, 'StatefulSet').find((s) => s.metadata.name === 'postgres');
    if (!pg) continue;
    it(`overlay ${name}: DB_POOL_MAX x (maxReplicas + surge) over both services fits max_connections`, () => {
      const args: string[] = pg.spec.template.spec.containers[0].args;
      const maxConnections = Number(/max_connections=(\d+)/.exec(args.join(' '))![1]);
      let total = 0;
      for (const d of ofKind(objects, 'Deployment')) {
        const hpa = hpaFor(objects, d)[0]!;
        const pool = Number(
          envValue(objects, d.spec.template.spec.containers[0], 'DB_POOL_MAX') ?? 10,
        );
        total += pool * (hpa.spec.maxReplicas + maxSurge(d, hpa.spec.maxReplicas));
      }
      assert.ok(total <= maxConnections - 3, `${total} connections > ${maxConnections - 3}`);
    });
  }
});
