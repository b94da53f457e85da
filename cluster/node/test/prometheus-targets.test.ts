// The real node's pods as Prometheus targets (cluster/node/prometheus-targets.ts): the labels
// kubernetes_sd would give, only this node's pods, and kwokctl's config with the shipped scrape
// job added, which promtool accepts and whose relabelling turns a users pod into
// {job="users", namespace, pod} at its ops port and drops everything else.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { podTargets, sanitize, withPodJobs, type PrometheusConfig } from '../prometheus-targets.js';

const repo = new URL('../../../', import.meta.url).pathname;
const NODE = 'shiftops-ci-node';

function pod(
  name: string,
  o: { node?: string; ip?: string; phase?: string; ready?: boolean; labels?: object } = {},
): V1Pod {
  return {
    metadata: {
      name,
      namespace: '7shifts',
      labels: {
        'app.kubernetes.io/name': 'users',
        'app.kubernetes.io/part-of': 'shiftops',
        'app.kubernetes.io/component': 'api',
        ...o.labels,
      },
    },
    spec: {
      nodeName: o.node ?? NODE,
      containers: [
        {
          name: 'users',
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'ops', containerPort: 9090, protocol: 'TCP' },
          ],
        },
      ],
    },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip === '' ? {} : { podIP: o.ip ?? '10.244.0.7' }),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

describe('the real node pods as file_sd targets', () => {
  it('sanitizes label names as Prometheus does', () => {
    assert.equal(sanitize('app.kubernetes.io/part-of'), 'app_kubernetes_io_part_of');
  });

  it('gives one target per container port with the kubernetes_sd pod labels', () => {
    const groups = podTargets([pod('users-abc-1')], NODE, '10.244.0.');
    assert.deepEqual(
      groups.map((g) => g.targets[0]),
      ['10.244.0.7:8080', '10.244.0.7:9090'],
    );
    const ops = groups[1]!.labels;
    assert.equal(ops.__meta_kubernetes_namespace, '7shifts');
    assert.equal(ops.__meta_kubernetes_pod_name, 'users-abc-1');
    assert.equal(ops.__meta_kubernetes_pod_container_port_name, 'ops');
    assert.equal(ops.__meta_kubernetes_pod_container_port_number, '9090');
    assert.equal(ops.__meta_kubernetes_pod_label_app_kubernetes_io_part_of, 'shiftops');
    assert.equal(ops.__meta_kubernetes_pod_labelpresent_app_kubernetes_io_component, 'true');
    assert.equal(ops.__meta_kubernetes_pod_ready, 'true');
    assert.equal(ops.__meta_kubernetes_pod_node_name, NODE);
  });

  for (const [what, p] of [
    ['a pod of another node (kwok)', pod('a', { node: 'kwok-node-1', ip: '10.0.0.5' })],
    ['a pod outside the pod range', pod('b', { ip: '192.168.1.5' })],
    ['a pod without an IP yet', pod('c', { ip: '' })],
    ['a finished pod', pod('d', { phase: 'Succeeded' })],
    ['a failed pod', pod('e', { phase: 'Failed' })],
  ] as const) {
    it(`leaves out ${what}`, () => {
      assert.deepEqual(podTargets([p], NODE, '10.244.0.'), []);
    });
  }

  it('keeps a pod that is not ready yet (its first requests count), marked so', () => {
    const groups = podTargets([pod('f', { ready: false })], NODE, '10.244.0.');
    assert.equal(groups.length, 2);
    assert.equal(groups[0]!.labels.__meta_kubernetes_pod_ready, 'false');
  });
});

describe("kwokctl's Prometheus config with the shipped scrape job", () => {
  const kwok = {
    global: { scrape_interval: '15s' },
    scrape_configs: [{ job_name: 'etcd', static_configs: [{ targets: ['127.0.0.1:2379'] }] }],
  };
  const component = parse(
    readFileSync(join(repo, 'deploy/components/prometheus-scrape/scrape-config.yaml'), 'utf8'),
  ) as PrometheusConfig;

  it('adds the job with file_sd in place of kubernetes_sd and keeps the rest', () => {
    const merged = withPodJobs(kwok, component, '/run/x/pods.json');
    assert.deepEqual(
      merged.scrape_configs?.map((j) => j.job_name),
      ['etcd', 'shiftops'],
    );
    const job = merged.scrape_configs![1]!;
    assert.equal(job.kubernetes_sd_configs, undefined);
    assert.deepEqual(job.file_sd_configs, [
      { files: ['/run/x/pods.json'], refresh_interval: '30s' },
    ]);
    assert.deepEqual(job.relabel_configs, component.scrape_configs![0]!.relabel_configs);
    assert.deepEqual(merged.global, kwok.global);
  });

  it('is idempotent: a second run replaces the job instead of adding another', () => {
    const once = withPodJobs(kwok, component, '/a.json');
    const twice = withPodJobs(once, component, '/b.json');
    assert.equal(twice.scrape_configs?.length, 2);
    assert.deepEqual(twice.scrape_configs![1]!.file_sd_configs, [
      { files: ['/b.json'], refresh_interval: '30s' },
    ]);
  });

  it('refuses a component without jobs', () => {
    assert.throws(() => withPodJobs(kwok, {}, '/a.json'), /no scrape_configs/);
  });

  const promtool = spawnSync('promtool', ['--version']).status === 0;
  it(
    'passes promtool, and its relabelling keeps only the ops port as {job, namespace, pod}',
    { skip: !promtool && process.env.CI !== 'true' ? 'promtool not installed' : false },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'prometheus-targets-'));
      try {
        const targets = join(dir, 'pods.json');
        const pods = [
          pod('users-abc-1'),
          pod('postgres-0', { ip: '10.244.0.8', labels: { 'app.kubernetes.io/component': 'db' } }),
        ];
        writeFileSync(targets, JSON.stringify(podTargets(pods, NODE, '10.244.0.')));
        const config = join(dir, 'prometheus.yaml');
        writeFileSync(config, stringify(withPodJobs(kwok, component, targets)));
        const check = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' });
        assert.equal(check.status, 0, check.stdout + check.stderr);
        // What Prometheus makes of the targets: promtool applies the job's relabelling.
        const sd = spawnSync(
          'promtool',
          ['check', 'service-discovery', '--timeout=3s', config, 'shiftops'],
          {
            encoding: 'utf8',
          },
        );
        assert.equal(sd.status, 0, sd.stdout + sd.stderr);
        // Dropped targets come back with no labels.
        const result = JSON.parse(sd.stdout) as Array<{ labels: Record<string, string> | null }>;
        const kept = result.flatMap((r) => (Object.keys(r.labels ?? {}).length ? [r.labels] : []));
        assert.equal(result.length, 4, 'every target was seen');
        assert.deepEqual(kept, [
          {
            __address__: '10.244.0.7:9090',
            __metrics_path__: '/metrics',
            __scheme__: 'http',
            __scrape_interval__: '15s',
            __scrape_timeout__: '5s',
            instance: '10.244.0.7:9090',
            job: 'users',
            namespace: '7shifts',
            pod: 'users-abc-1',
          },
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
