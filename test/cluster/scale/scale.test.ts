// The scale suite (npm run test:scale): on a kwok cluster of many nodes in 3 zones, for each size
// (SHIFTOPS_SCALE_REPLICAS, e.g. 10,100,300) a Deployment of that many replicas (no HPA: the count
// is fixed) gets a good and a crash-looping release from `shiftops deploy`, then the same two from
// `kubectl set image` + `kubectl rollout status` (+ `rollout undo` for the bad one). Each run is
// timed, its API requests counted from the audit log by its own user, its peak RSS sampled.
// Writes results.json, table.md and cost.svg to SHIFTOPS_SCALE_OUT.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import {
  apps,
  clusterOrSkip,
  core,
  explain,
  imageOf,
  isRolledOut,
  log,
  sleep,
  waitUntil,
} from '../lib/cluster.js';
import { IMAGE_REPO, createSandbox, deleteSandbox, usersDeployment } from '../lib/sandbox.js';
import { identity, kubectlAs, ok, peak, requestsOf, shiftopsAs } from './measure.js';
import { costPlot } from './plot.js';
import { checks, markdownTable, type Release, type RunResult, type Tool } from './report.js';

const REPLICAS = (process.env.SHIFTOPS_SCALE_REPLICAS ?? '10').split(',').map(Number);
const OUT = process.env.SHIFTOPS_SCALE_OUT ?? '';
const MIN_NODES = Number(process.env.SHIFTOPS_KWOK_NODES ?? 50);
const MIN_ZONES = Number(process.env.SHIFTOPS_KWOK_ZONES ?? 3);
const image = (tag: string) => `${IMAGE_REPO}:${tag}`;
const SVC = 'users';
/** Short, so kubectl's failed run (which waits for it) stays short; progress resets it at every ready pod. */
const PROGRESS_DEADLINE_S = 30;

const results: RunResult[] = [];
const spread: Record<number, Record<string, number>> = {};
let zoneOf = new Map<string, string>();

/** The shipped rollout settings (deploy/base/users: 25% surge, 0 unavailable, 5 s minReady, zone and node spread). */
function scaleDeployment(replicas: number): V1Deployment {
  const d = usersDeployment('1.0.0', {
    replicas,
    progressDeadlineSeconds: PROGRESS_DEADLINE_S,
    revisionHistoryLimit: 10,
    maxSurge: '25%',
    minReadySeconds: 5,
  });
  const pod = d.spec!.template.spec!;
  const spreadBy = (topologyKey: string) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: d.spec!.selector.matchLabels },
    matchLabelKeys: ['pod-template-hash'],
  });
  pod.topologySpreadConstraints = [
    spreadBy('topology.kubernetes.io/zone'),
    spreadBy('kubernetes.io/hostname'),
  ];
  pod.containers[0]!.resources = { requests: { cpu: '100m', memory: '128Mi' } };
  return d;
}

const deployment = (ns: string) => apps().readNamespacedDeployment({ name: SVC, namespace: ns });
const podsOf = async (ns: string) =>
  (
    await core().listNamespacedPod({
      namespace: ns,
      labelSelector: `app.kubernetes.io/name=${SVC}`,
    })
  ).items;

/** The Deployment on `tag` with every replica ready right now (what a verdict of done claims). */
async function rolledOutOn(ns: string, tag: string): Promise<boolean> {
  const d = await deployment(ns);
  return isRolledOut(d) && imageOf(d) === image(tag);
}

/** Rolled out on `tag` and no pod left over (terminating), so the next run starts from rest. */
async function settle(ns: string, n: number, tag: string): Promise<void> {
  await waitUntil(
    `${ns}: ${n} pods of ${tag}, nothing else`,
    async () => (await rolledOutOn(ns, tag)) && (await podsOf(ns)).length === n,
    {
      timeoutMs: 120_000 + n * 1000,
      intervalMs: 1000,
      describe: async () => JSON.stringify((await deployment(ns)).status),
    },
  );
}

function record(
  r: Omit<RunResult, 'replicas' | 'release' | 'tool'>,
  replicas: number,
  release: Release,
  tool: Tool,
) {
  const row = { replicas, release, tool, ...r };
  results.push(row);
  log(
    `${tool} ${release} at ${replicas}: ${r.outcome}, verdict ${(r.verdictMs / 1000).toFixed(1)} s, done ${(r.doneMs / 1000).toFixed(1)} s, ${r.requests.total} requests ${JSON.stringify(r.requests.byVerbAndResource)}, peak RSS ${(r.peakRssKb / 1024).toFixed(0)} MB`,
  );
  return row;
}

describe('scale: the cluster', clusterOrSkip(), () => {
  it(`has at least ${MIN_NODES} kwok nodes in ${MIN_ZONES} zones`, async () => {
    const nodes = (await core().listNode({ labelSelector: 'type=kwok' })).items;
    zoneOf = new Map(
      nodes.map((n) => [
        n.metadata?.name ?? '',
        n.metadata?.labels?.['topology.kubernetes.io/zone'] ?? '',
      ]),
    );
    assert.ok(nodes.length >= MIN_NODES, `${nodes.length} kwok nodes`);
    assert.ok(
      new Set(zoneOf.values()).size >= MIN_ZONES,
      `zones: ${[...new Set(zoneOf.values())].join(', ')}`,
    );
    assert.ok(
      REPLICAS.length > 0 && REPLICAS.every((n) => Number.isInteger(n) && n > 0),
      `replicas ${REPLICAS.join(',')}`,
    );
  });
});

for (const n of REPLICAS) {
  describe(`scale: ${n} replicas`, clusterOrSkip(), () => {
    let ns = '';

    before(async () => {
      ns = await createSandbox(`shiftops-scale-${n}`);
      await apps().createNamespacedDeployment({ namespace: ns, body: scaleDeployment(n) });
      await settle(ns, n, '1.0.0');
    });

    after(async () => {
      await deleteSandbox(ns);
      // Gone before the next size starts: its pods' deletion would load the controllers.
      await waitUntil(
        `namespace ${ns} deleted`,
        async () =>
          core()
            .readNamespace({ name: ns })
            .then(() => false)
            .catch((e: { code?: number }) => e.code === 404),
        { timeoutMs: 300_000, intervalMs: 2000 },
      );
    });

    it('shiftops: a good release rolls out (exit 0)', async () => {
      const id = identity(`scale-shiftops-good-${n}`);
      const r = await shiftopsAs(id.kubeconfig, ns, [
        '--quiet',
        'deploy',
        SVC,
        '1.1.0',
        '--analysis=off',
      ]);
      const live = await rolledOutOn(ns, '1.1.0');
      const outcome = r.code === 0 && /is live/.test(r.stdout) ? 'succeeded' : `exit ${r.code}`;
      const row = record(
        {
          outcome,
          verdictRight: outcome === 'succeeded' && live,
          verdictMs: r.ms,
          doneMs: r.ms,
          requests: await requestsOf(id.user),
          peakRssKb: peak([r]),
        },
        n,
        'good',
        'shiftops',
      );
      assert.ok(row.verdictRight, `${explain(r)}\nrolled out on 1.1.0 at exit: ${live}`);
      const pods = await podsOf(ns);
      spread[n] = {};
      for (const p of pods) {
        const zone = zoneOf.get(p.spec?.nodeName ?? '') ?? '?';
        spread[n][zone] = (spread[n][zone] ?? 0) + 1;
      }
      log(`pods per zone at ${n}: ${JSON.stringify(spread[n])}`);
      await settle(ns, n, '1.1.0');
    });

    it('shiftops: a crash-looping release is rolled back (exit 1)', async () => {
      const id = identity(`scale-shiftops-bad-${n}`);
      const r = await shiftopsAs(
        id.kubeconfig,
        ns,
        ['--quiet', 'deploy', SVC, '1.2.0-crash', '--analysis=off'],
        /^FAILED: /m,
      );
      const back = await rolledOutOn(ns, '1.1.0');
      const outcome =
        r.code === 1 && /rolled back to revision \d+/.test(r.stdout)
          ? 'rolled-back'
          : `exit ${r.code}`;
      const row = record(
        {
          outcome,
          verdictRight: outcome === 'rolled-back' && back,
          verdictMs: r.markedMs ?? r.ms,
          doneMs: r.ms,
          requests: await requestsOf(id.user),
          peakRssKb: peak([r]),
        },
        n,
        'bad',
        'shiftops',
      );
      assert.ok(row.verdictRight, `${explain(r)}\nrolled out on 1.1.0 at exit: ${back}`);
      assert.match(r.stderr, /CrashLoopBackOff|ContainerRestarted/, explain(r));
      await settle(ns, n, '1.1.0');
    });

    it('kubectl: set image + rollout status of a good release', async () => {
      const id = identity(`scale-kubectl-good-${n}`);
      const started = Date.now();
      const set = ok(
        await kubectlAs(id.kubeconfig, ns, [
          'set',
          'image',
          `deploy/${SVC}`,
          `${SVC}=${image('1.3.0')}`,
        ]),
        'set image',
      );
      const status = await kubectlAs(id.kubeconfig, ns, [
        'rollout',
        'status',
        `deploy/${SVC}`,
        '--timeout=10m',
      ]);
      const ms = Date.now() - started;
      const live = await rolledOutOn(ns, '1.3.0');
      const outcome = status.code === 0 ? 'succeeded' : `exit ${status.code}`;
      const row = record(
        {
          outcome,
          verdictRight: outcome === 'succeeded' && live,
          verdictMs: ms,
          doneMs: ms,
          requests: await requestsOf(id.user),
          peakRssKb: peak([set, status]),
        },
        n,
        'good',
        'kubectl',
      );
      assert.ok(row.verdictRight, explain(status, 'kubectl rollout status'));
      await settle(ns, n, '1.3.0');
    });

    it(`kubectl: set image + rollout status (progress deadline ${PROGRESS_DEADLINE_S} s) + rollout undo of a crash-looping release`, async () => {
      const id = identity(`scale-kubectl-bad-${n}`);
      const started = Date.now();
      const runs = [
        ok(
          await kubectlAs(id.kubeconfig, ns, [
            'set',
            'image',
            `deploy/${SVC}`,
            `${SVC}=${image('1.4.0-crash')}`,
          ]),
          'set image',
        ),
      ];
      const status = await kubectlAs(id.kubeconfig, ns, [
        'rollout',
        'status',
        `deploy/${SVC}`,
        '--timeout=10m',
      ]);
      runs.push(status);
      const verdictMs = Date.now() - started;
      const outcome =
        status.code !== 0 && /exceeded its progress deadline/.test(status.stderr)
          ? 'deadline-exceeded'
          : `exit ${status.code}`;
      runs.push(
        ok(
          await kubectlAs(id.kubeconfig, ns, ['rollout', 'undo', `deploy/${SVC}`]),
          'rollout undo',
        ),
      );
      // Right after the undo, `rollout status` can read the stale ProgressDeadlineExceeded and
      // fail at once (test 04): a person runs it again. Bounded.
      for (let i = 0; ; i++) {
        const back = await kubectlAs(id.kubeconfig, ns, [
          'rollout',
          'status',
          `deploy/${SVC}`,
          '--timeout=10m',
        ]);
        runs.push(back);
        if (back.code === 0) break;
        assert.ok(i < 5 && /exceeded its progress deadline/.test(back.stderr), explain(back));
        await sleep(1000);
      }
      const doneMs = Date.now() - started;
      const back = await rolledOutOn(ns, '1.3.0');
      const row = record(
        {
          outcome,
          verdictRight: outcome === 'deadline-exceeded' && back,
          verdictMs,
          doneMs,
          requests: await requestsOf(id.user),
          peakRssKb: peak(runs),
        },
        n,
        'bad',
        'kubectl',
      );
      assert.ok(row.verdictRight, explain(status, 'kubectl rollout status'));
      await settle(ns, n, '1.3.0');
    });
  });
}

describe('scale: results', clusterOrSkip(), () => {
  after(() => {
    if (!OUT || results.length === 0) return;
    mkdirSync(OUT, { recursive: true });
    const table = markdownTable(results);
    writeFileSync(join(OUT, 'table.md'), `${table}\n`);
    writeFileSync(join(OUT, 'cost.svg'), costPlot(results));
    writeFileSync(
      join(OUT, 'results.json'),
      `${JSON.stringify({ at: new Date().toISOString(), nodes: zoneOf.size, replicas: REPLICAS, runs: results, spread, checks: checks(results) }, null, 2)}\n`,
    );
    log(`${table}\n\nwritten: ${join(OUT, 'results.json')}, table.md, cost.svg`);
  });

  it('the verdict is right at every size, and API requests follow the rollout, not the clock', () => {
    assert.equal(
      results.filter((r) => r.tool === 'shiftops').length,
      REPLICAS.length * 2,
      'a shiftops run is missing',
    );
    const all = checks(results);
    log(all.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n'));
    const failed = all.filter((c) => !c.ok);
    assert.deepEqual(failed, [], failed.map((c) => `${c.name}: ${c.detail}`).join('\n'));
  });
});
