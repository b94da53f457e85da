// Release analysis on kwok pods: `shiftops deploy` holds the rollout at one new pod, compares it
// with the old pods in Prometheus, and rolls back a release that fails 10% of requests or is 3x
// slower (at most one new pod ever created), while good releases under the same per-pod noise
// pass. Pods serve what their image says (lib/releases.ts) through kwok's emulated metrics.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RbacAuthorizationV1Api, type V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import {
  DEVELOPERS_GROUP,
  REPO,
  adminConfig,
  apps,
  clusterOrSkip,
  core,
  explain,
  log,
  parseJson,
  shiftops,
  sleep,
  table,
  waitUntil,
} from '../lib/cluster.js';
import { developerKubeconfig } from '../lib/developer.js';
import { LATENCY } from '../lib/load.js';
import { BASE, ReleaseEmulator } from '../lib/releases.js';

const REPLICAS = 4;
const IMAGE_REPO = 'registry.local/shiftops/users';
const PROMETHEUS = `http://127.0.0.1:${process.env.SHIFTOPS_PROMETHEUS_PORT ?? '19090'}`;
const GOOD_RUNS = Number(process.env.SHIFTOPS_ANALYSIS_GOOD_RUNS ?? 20);

interface Group {
  pods: number;
  requests: number;
  errors: number;
  errorRate: number;
  p95: number | null;
}
interface DeployResult {
  outcome: string;
  failure?: { reason: string; message: string };
  analysis?: {
    result: string;
    reason?: string;
    decidedAfterSeconds?: number;
    new?: Group;
    old?: Group;
  };
  durationMs: number;
}

function usersDeployment(tag: string): V1Deployment {
  const labels = { 'app.kubernetes.io/name': 'users' };
  return {
    metadata: { name: 'users', labels },
    spec: {
      replicas: REPLICAS,
      progressDeadlineSeconds: 120,
      minReadySeconds: 2,
      revisionHistoryLimit: 30,
      // Without the analysis hold, two new pods would start at once.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '50%' } },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { [LATENCY]: String(BASE.latencySeconds) } },
        spec: { containers: [{ name: 'users', image: `${IMAGE_REPO}:${tag}` }] },
      },
    },
  };
}

async function applyDevelopersRole(namespace: string): Promise<void> {
  const rbac = adminConfig().makeApiClient(RbacAuthorizationV1Api);
  const text = readFileSync(join(REPO, 'deploy/rbac/developers.yaml'), 'utf8');
  for (const doc of parseAllDocuments(text)) {
    const obj = doc.toJS() as { kind: string; metadata: { name: string } } | null;
    if (!obj) continue;
    const body = { ...obj, metadata: { ...obj.metadata, namespace } } as never;
    if (obj.kind === 'Role') await rbac.createNamespacedRole({ namespace, body });
    if (obj.kind === 'RoleBinding') await rbac.createNamespacedRoleBinding({ namespace, body });
  }
}

const pct = (x: number | undefined) => (x === undefined ? '?' : `${(x * 100).toFixed(2)}%`);
const msOf = (x: number | null | undefined) => (x == null ? '?' : `${Math.round(x * 1000)}ms`);

describe('release analysis on kwok pods', clusterOrSkip(), () => {
  const ns = `shiftops-analysis-${Date.now().toString(36)}`;
  const emulator = new ReleaseEmulator(ns, 'users');
  let dev: string;
  const deploy = (...args: string[]) =>
    shiftops(['deploy', 'users', ...args], { kubeconfig: dev, namespace: ns });
  const liveImage = async () =>
    (await apps().readNamespacedDeployment({ name: 'users', namespace: ns })).spec?.template.spec
      ?.containers[0]?.image;
  const rows: string[][] = [
    [
      'release',
      'exit',
      'analysis',
      'after',
      'new req',
      'new err',
      'new p95',
      'old pods',
      'old req',
      'old err',
      'old p95',
      'total',
    ],
  ];
  const record = (name: string, code: number | null, r: DeployResult) => {
    const a = r.analysis;
    rows.push([
      name,
      String(code),
      a?.result ?? '-',
      a?.decidedAfterSeconds !== undefined ? `${a.decidedAfterSeconds}s` : '-',
      String(a?.new?.requests ?? '-'),
      pct(a?.new?.errorRate),
      msOf(a?.new?.p95),
      String(a?.old?.pods ?? '-'),
      String(a?.old?.requests ?? '-'),
      pct(a?.old?.errorRate),
      msOf(a?.old?.p95),
      `${(r.durationMs / 1000).toFixed(1)}s`,
    ]);
  };

  before(async () => {
    await core().createNamespace({ body: { metadata: { name: ns } } });
    await applyDevelopersRole(ns);
    emulator.start();
    await apps().createNamespacedDeployment({ namespace: ns, body: usersDeployment('1.0.0') });
    await waitUntil(
      'the first rollout',
      async () => {
        const d = await apps().readNamespacedDeployment({ name: 'users', namespace: ns });
        return (d.status?.availableReplicas ?? 0) === REPLICAS;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    dev = developerKubeconfig('dev-alice', DEVELOPERS_GROUP);
    // Prometheus scrapes every 15 s: give the old pods a few samples before the first analysis.
    await sleep(35_000);
  });

  after(async () => {
    emulator.stop();
    log(`release analysis (${ns}):\n${table(rows)}`);
    log(`good releases: ${good.runs}, false rollbacks: ${good.falseRollbacks}`);
    await core()
      .deleteNamespace({ name: ns })
      .catch(() => undefined);
  });

  for (const [tag, reason] of [
    [
      '1.1.0-errors10',
      /error rate 1\d\.\d+% \(\d+\/\d+\) vs \d\.\d+% \(\d+\/\d+\) on the old pods/,
    ],
    ['1.2.0-slow3x', /p95 \d+ms \(\d+ requests, \d+ over 50ms\) vs \d+ms \(\d+ requests, 0 over\)/],
  ] as const) {
    it(`rolls back ${tag} after analysis, with at most one new pod ever created`, async () => {
      const image = `${IMAGE_REPO}:${tag}`;
      const r = await deploy(tag, '--json', '--prometheus-url', PROMETHEUS);
      const result = parseJson<DeployResult>(r);
      record(tag, r.code, result);
      assert.equal(r.code, 1, explain(r));
      assert.equal(result.outcome, 'rolled-back');
      assert.equal(result.failure?.reason, 'AnalysisFailed');
      assert.match(result.failure?.message ?? '', reason);
      assert.equal(result.analysis?.result, 'fail');
      assert.ok((result.analysis?.decidedAfterSeconds ?? 99) <= 60, 'decided within the window');
      assert.equal(result.analysis?.old?.pods, REPLICAS, 'every old pod compared');
      assert.equal(await liveImage(), `${IMAGE_REPO}:1.0.0`);
      assert.equal(emulator.podsOf(image), 1, `pods that ran ${image}`);
      // The rollback restored the Deployment's own settings and unpaused it.
      const d = await apps().readNamespacedDeployment({ name: 'users', namespace: ns });
      assert.equal(d.spec?.paused ?? false, false);
      assert.equal(String(d.spec?.strategy?.rollingUpdate?.maxSurge), '50%');
      assert.equal(d.spec?.minReadySeconds, 2);
      // The failed revision keeps its analysis.
      const h = parseJson<{ revisions: Array<{ image: string; analysis?: { result: string } }> }>(
        await shiftops(['history', 'users', '--json'], { kubeconfig: dev, namespace: ns }),
      );
      assert.equal(h.revisions.find((x) => x.image === image)?.analysis?.result, 'fail');
    });
  }

  // One test per release (each well inside the runner's per-test timeout); the summary of all of
  // them is printed after the file.
  const good = { runs: 0, falseRollbacks: 0 };
  for (let i = 1; i <= GOOD_RUNS; i++) {
    const tag = `2.0.${i}`;
    it(`passes good release ${i}/${GOOD_RUNS} (${tag}) under the same noise`, async () => {
      const r = await deploy(
        tag,
        '--json',
        '--prometheus-url',
        PROMETHEUS,
        '--analysis-window',
        '40s',
      );
      const result = parseJson<DeployResult>(r);
      record(tag, r.code, result);
      good.runs++;
      if (r.code !== 0) good.falseRollbacks++;
      assert.equal(result.analysis?.result, 'pass', explain(r));
      assert.equal(r.code, 0, explain(r));
      assert.equal(emulator.podsOf(`${IMAGE_REPO}:${tag}`), REPLICAS);
    });
  }

  it('stays correct when the Deployment scales during the hold (per-pod comparison)', async () => {
    const tag = '3.0.0';
    const pending = deploy(
      tag,
      '--json',
      '--prometheus-url',
      PROMETHEUS,
      '--analysis-window',
      '45s',
    );
    await waitUntil(
      'the rollout paused at one new pod',
      async () =>
        (await apps().readNamespacedDeployment({ name: 'users', namespace: ns })).spec?.paused ===
        true,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    // What the HPA does: change spec.replicas of the paused Deployment.
    await apps().patchNamespacedDeploymentScale({
      name: 'users',
      namespace: ns,
      body: [{ op: 'replace', path: '/spec/replicas', value: REPLICAS + 1 }],
    });
    const r = await pending;
    const result = parseJson<DeployResult>(r);
    record(`${tag} (scaled)`, r.code, result);
    assert.equal(r.code, 0, explain(r));
    assert.equal(result.analysis?.result, 'pass');
    assert.equal(emulator.podsOf(`${IMAGE_REPO}:${tag}`), REPLICAS + 1);
  });

  it('without Prometheus: auto deploys with a warning, required refuses and changes nothing', async () => {
    // No Service "prometheus" in this namespace: the default service-proxy target is missing.
    const auto = await deploy('4.0.0', '--json');
    assert.equal(auto.code, 0, explain(auto));
    const a = parseJson<DeployResult>(auto);
    assert.equal(a.outcome, 'succeeded');
    assert.equal(a.analysis?.result, 'unavailable');
    assert.match(a.analysis?.reason ?? '', /prometheus:9090.*not found/);
    const req = await deploy('4.1.0', '--analysis=required');
    assert.equal(req.code, 69, explain(req));
    assert.match(
      req.stderr,
      /--analysis=required, but the release cannot be analysed: .*; nothing was changed/,
    );
    assert.equal(await liveImage(), `${IMAGE_REPO}:4.0.0`);
  });
});
