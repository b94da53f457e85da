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
  autoscaling,
  clusterOrSkip,
  core,
  explain,
  imageOf,
  isRolledOut,
  log,
  sleep,
  type Run,
  waitUntil,
} from '../lib/cluster.js';
import { IMAGE_REPO, createSandbox, deleteSandbox, usersDeployment } from '../lib/sandbox.js';
import { identity, kubectlAs, ok, peak, requestsOf, shiftopsAs } from './measure.js';
import { costPlot, timelinePlot } from './plot.js';
import { checks, markdownTable, type Release, type RunResult, type Tool } from './report.js';
import {
  TimelineSampler,
  type HpaObjects,
  cpuRequestMilli,
  createHpaObjects,
  hpaObjects,
  stateOf,
  zoneMaxSkew,
} from './hpa.js';
import { hpaChecks, summarize, timelineTable, type HpaRun } from './timeline.js';
import { CPU, LoadEmulator } from '../lib/load.js';

const REPLICAS = (process.env.SHIFTOPS_SCALE_REPLICAS ?? '10').split(',').map(Number);
const OUT = process.env.SHIFTOPS_SCALE_OUT ?? '';
const MIN_NODES = Number(process.env.SHIFTOPS_KWOK_NODES ?? 50);
const MIN_ZONES = Number(process.env.SHIFTOPS_KWOK_ZONES ?? 3);
const image = (tag: string) => `${IMAGE_REPO}:${tag}`;
const SVC = 'users';
/** Short, so kubectl's failed run (which waits for it) stays short; progress resets it at every ready pod. */
const PROGRESS_DEADLINE_S = 30;
/** The HPA step's maxReplicas (0: no HPA step). */
const HPA_MAX = Number(process.env.SHIFTOPS_SCALE_HPA_MAX ?? 0);
/** The kubectl comparison runs (0: shiftops only, as in the small run). */
const KUBECTL = process.env.SHIFTOPS_SCALE_KUBECTL !== '0';
/** Emulated CPU per pod, % of its request: well above the HPA's 70% target, and well below. */
const HIGH_LOAD = 250;
const LOW_LOAD = 10;

const results: RunResult[] = [];
let hpaRun: (HpaRun & { shipped: { min: number; max: number } }) | undefined;
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

interface Measured {
  outcome: string;
  verdictRight: boolean;
  verdictMs: number;
  doneMs: number;
  /** The run's own user: its requests are the audit log's events of that user. */
  user: string;
  runs: Run[];
}

async function record(replicas: number, release: Release, tool: Tool, m: Measured) {
  const row: RunResult = {
    replicas,
    release,
    tool,
    outcome: m.outcome,
    verdictRight: m.verdictRight,
    verdictMs: m.verdictMs,
    doneMs: m.doneMs,
    requests: await requestsOf(m.user),
    peakRssKb: peak(m.runs),
  };
  results.push(row);
  log(
    `${tool} ${release} at ${replicas}: ${row.outcome}, verdict ${(row.verdictMs / 1000).toFixed(1)} s, done ${(row.doneMs / 1000).toFixed(1)} s, ${row.requests.total} requests ${JSON.stringify(row.requests.byVerbAndResource)}, peak RSS ${(row.peakRssKb / 1024).toFixed(0)} MB`,
  );
  return row;
}

const deployAs = (kubeconfig: string, ns: string, tag: string, mark?: RegExp) =>
  shiftopsAs(kubeconfig, ns, ['--quiet', 'deploy', SVC, tag, '--analysis=off'], mark);
const setImageAs = async (kubeconfig: string, ns: string, tag: string) =>
  ok(
    await kubectlAs(kubeconfig, ns, ['set', 'image', `deploy/${SVC}`, `${SVC}=${image(tag)}`]),
    'kubectl set image',
  );
const rolloutStatusAs = (kubeconfig: string, ns: string) =>
  kubectlAs(kubeconfig, ns, ['rollout', 'status', `deploy/${SVC}`, '--timeout=10m']);

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

// Set up first, so that its pods, metrics-server's first samples of them and the HPA's first
// metric are ready by the time the step runs (after the sizes): the 2 idle pods and one HPA do not
// touch what the sizes measure (their own users' requests, in their own namespaces).
let hpaNs = '';
let hpaObjs: HpaObjects | undefined;
let hpaLoad: LoadEmulator | undefined;
if (HPA_MAX > 0)
  describe('scale: the HPA step, set up', clusterOrSkip(), () => {
    it(`production's users Deployment and HPA, the HPA's maxReplicas ${HPA_MAX} for the run`, async () => {
      const o = await hpaObjects(HPA_MAX);
      hpaNs = await createSandbox('shiftops-scale-hpa');
      await createHpaObjects(hpaNs, o);
      hpaObjs = o;
      const h = await autoscaling().readNamespacedHorizontalPodAutoscaler({
        name: SVC,
        namespace: hpaNs,
      });
      assert.equal(h.spec?.maxReplicas, HPA_MAX);
      assert.equal(h.spec?.minReplicas, o.shipped.min);
      // The client returns class instances: compare their JSON.
      const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
      assert.deepEqual(plain(h.spec?.behavior), plain(o.hpa.spec?.behavior));
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
      const r = await deployAs(id.kubeconfig, ns, '1.1.0');
      const live = await rolledOutOn(ns, '1.1.0');
      const outcome = r.code === 0 && /is live/.test(r.stdout) ? 'succeeded' : `exit ${r.code}`;
      const row = await record(n, 'good', 'shiftops', {
        outcome,
        verdictRight: outcome === 'succeeded' && live,
        verdictMs: r.ms,
        doneMs: r.ms,
        user: id.user,
        runs: [r],
      });
      assert.ok(row.verdictRight, `${explain(r)}\nrolled out on 1.1.0 at exit: ${live}`);
      const zones: Record<string, number> = {};
      for (const p of await podsOf(ns)) {
        const zone = zoneOf.get(p.spec?.nodeName ?? '') ?? '?';
        zones[zone] = (zones[zone] ?? 0) + 1;
      }
      spread[n] = zones;
      log(`pods per zone at ${n}: ${JSON.stringify(zones)}`);
      await settle(ns, n, '1.1.0');
    });

    it('shiftops: a crash-looping release is rolled back (exit 1)', async () => {
      const id = identity(`scale-shiftops-bad-${n}`);
      const r = await deployAs(id.kubeconfig, ns, '1.2.0-crash', /^FAILED: /m);
      const back = await rolledOutOn(ns, '1.1.0');
      const rolledBack = r.code === 1 && /rolled back to revision \d+/.test(r.stdout);
      const outcome = rolledBack ? 'rolled-back' : `exit ${r.code}`;
      const row = await record(n, 'bad', 'shiftops', {
        outcome,
        verdictRight: rolledBack && back,
        verdictMs: r.markedMs ?? r.ms,
        doneMs: r.ms,
        user: id.user,
        runs: [r],
      });
      assert.ok(row.verdictRight, `${explain(r)}\nrolled out on 1.1.0 at exit: ${back}`);
      assert.match(r.stderr, /CrashLoopBackOff|ContainerRestarted/, explain(r));
      await settle(ns, n, '1.1.0');
    });

    if (KUBECTL)
      it('kubectl: set image + rollout status of a good release', async () => {
        const id = identity(`scale-kubectl-good-${n}`);
        const started = Date.now();
        const set = await setImageAs(id.kubeconfig, ns, '1.3.0');
        const status = await rolloutStatusAs(id.kubeconfig, ns);
        const ms = Date.now() - started;
        const live = await rolledOutOn(ns, '1.3.0');
        const outcome = status.code === 0 ? 'succeeded' : `exit ${status.code}`;
        const row = await record(n, 'good', 'kubectl', {
          outcome,
          verdictRight: outcome === 'succeeded' && live,
          verdictMs: ms,
          doneMs: ms,
          user: id.user,
          runs: [set, status],
        });
        assert.ok(row.verdictRight, explain(status, 'kubectl rollout status'));
        await settle(ns, n, '1.3.0');
      });

    if (KUBECTL)
      it(`kubectl: set image + rollout status (progress deadline ${PROGRESS_DEADLINE_S} s) + rollout undo of a crash-looping release`, async () => {
        const id = identity(`scale-kubectl-bad-${n}`);
        const started = Date.now();
        const runs = [await setImageAs(id.kubeconfig, ns, '1.4.0-crash')];
        const status = await rolloutStatusAs(id.kubeconfig, ns);
        runs.push(status);
        const verdictMs = Date.now() - started;
        const deadline = status.code !== 0 && /exceeded its progress deadline/.test(status.stderr);
        const undo = await kubectlAs(id.kubeconfig, ns, ['rollout', 'undo', `deploy/${SVC}`]);
        runs.push(ok(undo, 'kubectl rollout undo'));
        // Right after the undo, `rollout status` can read the stale ProgressDeadlineExceeded and
        // fail at once (as in 10-real-seed): a person runs it again. Bounded.
        for (let i = 0; ; i++) {
          const again = await rolloutStatusAs(id.kubeconfig, ns);
          runs.push(again);
          if (again.code === 0) break;
          assert.ok(i < 5 && /exceeded its progress deadline/.test(again.stderr), explain(again));
          await sleep(1000);
        }
        const doneMs = Date.now() - started;
        const back = await rolledOutOn(ns, '1.3.0');
        const row = await record(n, 'bad', 'kubectl', {
          outcome: deadline ? 'deadline-exceeded' : `exit ${status.code}`,
          verdictRight: deadline && back,
          verdictMs,
          doneMs,
          user: id.user,
          runs,
        });
        assert.ok(row.verdictRight, explain(status, 'kubectl rollout status'));
        await settle(ns, n, '1.3.0');
      });
  });
}

if (HPA_MAX > 0)
  describe(`scale: HPA from its min to ${HPA_MAX} replicas and back`, clusterOrSkip(), () => {
    after(async () => {
      hpaLoad?.stop();
      await deleteSandbox(hpaNs);
    });

    it(`emulated CPU drives production's users HPA to ${HPA_MAX} and back to its min; the zone spread holds on the way up`, async () => {
      assert.ok(hpaObjs, 'the HPA step was not set up');
      const [o, ns] = [hpaObjs, hpaNs];
      const min = o.hpa.spec!.minReplicas ?? 1;
      const request = cpuRequestMilli(o.deployment);
      const maxSkew = zoneMaxSkew(o.deployment);
      const milli = (pct: number) => `${Math.round((request * pct) / 100)}m`;
      log(
        `HPA: production's users (min ${o.shipped.min}, max ${o.shipped.max}), run with max ${HPA_MAX}; CPU request ${request}m, zone maxSkew ${maxSkew}`,
      );
      const load = (hpaLoad = new LoadEmulator(SVC, ns));
      await load.set({ [CPU]: milli(LOW_LOAD) });
      const idle = await waitUntil(
        `at its min ${min}, with a CPU metric`,
        async () => {
          const st = await stateOf(ns, zoneOf);
          return st.desired === min && st.ready === min && st.cpu !== undefined && st.cpu < 70;
        },
        { timeoutMs: 180_000, describe: async () => JSON.stringify(await stateOf(ns, zoneOf)) },
      );
      log(`HPA: at its min ${min} with a CPU metric after ${(idle.ms / 1000).toFixed(1)} s more`);
      await load.set({ [CPU]: milli(HIGH_LOAD) });
      const sampler = new TimelineSampler(ns, zoneOf, HIGH_LOAD);
      try {
        const up = await waitUntil(
          `${HPA_MAX} ready`,
          async () => {
            const st = await stateOf(ns, zoneOf);
            return st.desired === HPA_MAX && st.ready === HPA_MAX;
          },
          { timeoutMs: 300_000, describe: async () => JSON.stringify(await stateOf(ns, zoneOf)) },
        );
        log(`HPA: ${HPA_MAX} ready ${(up.ms / 1000).toFixed(1)} s after the load went up`);
        await sleep(3000); // a few samples at the peak
        sampler.load = LOW_LOAD;
        await load.set({ [CPU]: milli(LOW_LOAD) });
        const down = await waitUntil(
          `back to ${min}`,
          async () => {
            const st = await stateOf(ns, zoneOf);
            return st.desired === min && st.ready === min && st.pods === min;
          },
          { timeoutMs: 300_000, describe: async () => JSON.stringify(await stateOf(ns, zoneOf)) },
        );
        log(`HPA: back to ${min} ${(down.ms / 1000).toFixed(1)} s after the load went down`);
      } finally {
        await sampler.stop();
        load.stop();
        hpaRun = { min, max: HPA_MAX, maxSkew, samples: sampler.samples, shipped: o.shipped };
        log(
          `HPA timeline (${sampler.samples.length} samples, ${sampler.errors} failed reads, ${load.errors} emulator errors):\n${timelineTable(sampler.samples)}`,
        );
      }
      const all = hpaChecks(hpaRun);
      log(all.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n'));
      const failed = all.filter((c) => !c.ok);
      assert.deepEqual(failed, [], failed.map((c) => `${c.name}: ${c.detail}`).join('\n'));
    });
  });

describe('scale: results', clusterOrSkip(), () => {
  after(() => {
    if (!OUT || (results.length === 0 && !hpaRun)) return;
    mkdirSync(OUT, { recursive: true });
    let table = markdownTable(results);
    if (hpaRun?.samples.length) {
      const m = summarize(hpaRun);
      table += `\n\n## HPA: ${hpaRun.min} -> ${hpaRun.max} -> ${hpaRun.min}\n\n${timelineTable(hpaRun.samples)}\n`;
      writeFileSync(join(OUT, 'hpa.svg'), timelinePlot(hpaRun.samples));
      log(`HPA summary: ${JSON.stringify(m)}`);
    }
    writeFileSync(join(OUT, 'table.md'), `${table}\n`);
    if (results.length > 0) writeFileSync(join(OUT, 'cost.svg'), costPlot(results));
    writeFileSync(
      join(OUT, 'results.json'),
      `${JSON.stringify({ at: new Date().toISOString(), nodes: zoneOf.size, replicas: REPLICAS, runs: results, spread, checks: checks(results), hpa: hpaRun && { ...hpaRun, summary: summarize(hpaRun), checks: hpaChecks(hpaRun) } }, null, 2)}\n`,
    );
    log(
      `${table}\n\nwritten: ${join(OUT, 'results.json')}, table.md, cost.svg${hpaRun ? ', hpa.svg' : ''}`,
    );
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
