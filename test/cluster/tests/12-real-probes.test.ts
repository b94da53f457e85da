// 12. Real probes: PostgreSQL stopped -> every users and shifts pod turns unready within its
//     readiness budget and the Services have no ready endpoints, while liveness restarts nothing
//     (no restart storm) for longer than the liveness budget; PostgreSQL started again -> all
//     ready again, still without a restart.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Probe } from '@kubernetes/client-node';
import { getDeployment, kubectlOk, log, secs, sleep, waitUntil } from '../lib/cluster.js';
import {
  SEED,
  ensureSeed,
  isReady,
  podsOf,
  readyEndpoints,
  realNodeOrSkip,
  restarts,
} from '../lib/realnode.js';

const APPS = ['users', 'shifts'] as const;
/** The longest a probe takes to turn a pod: failureThreshold periods, plus the last timeout. */
const budgetS = (p: V1Probe | undefined) =>
  (p?.periodSeconds ?? 10) * (p?.failureThreshold ?? 3) + (p?.timeoutSeconds ?? 1);

describe('12. real probes with PostgreSQL stopped and started', realNodeOrSkip(), () => {
  const restartsBefore = new Map<string, number>();
  let readinessBudgetS = 0;
  let livenessBudgetS = 0;

  before(async () => {
    await ensureSeed();
    for (const app of APPS) {
      const c = (await getDeployment(SEED, app)).spec!.template.spec!.containers[0]!;
      readinessBudgetS = Math.max(readinessBudgetS, budgetS(c.readinessProbe));
      livenessBudgetS = Math.max(livenessBudgetS, budgetS(c.livenessProbe));
    }
  });

  it('PostgreSQL stopped: every pod unready within the readiness budget, no endpoints, no restarts', async () => {
    for (const app of APPS)
      for (const p of await podsOf(app)) restartsBefore.set(p.metadata!.name!, restarts(p));
    await kubectlOk(['-n', SEED, 'scale', 'statefulset/postgres', '--replicas=0']);
    await waitUntil(
      'the PostgreSQL pod gone',
      async () => (await podsOf('postgres')).length === 0,
      {
        timeoutMs: 60_000,
        intervalMs: 250,
      },
    );
    const stopped = Date.now();
    const { ms } = await waitUntil(
      'every users and shifts pod unready',
      async () => {
        for (const app of APPS) if ((await podsOf(app)).some(isReady)) return false;
        return true;
      },
      { timeoutMs: (readinessBudgetS + 20) * 1000, intervalMs: 250 },
    );
    log(
      `PostgreSQL stopped -> all pods unready after ${secs(ms)} (readiness budget ${readinessBudgetS} s)`,
    );
    assert.ok(ms <= (readinessBudgetS + 2) * 1000, `unready after ${secs(ms)}`);
    for (const app of APPS) assert.deepEqual(await readyEndpoints(app), [], `${app} endpoints`);
    // Past the liveness budget: /livez does not look at the database, so nothing restarts.
    const holdMs = (livenessBudgetS + 10) * 1000 - (Date.now() - stopped);
    await sleep(Math.max(0, holdMs));
    for (const app of APPS)
      for (const p of await podsOf(app)) {
        assert.ok(restartsBefore.has(p.metadata!.name!), `new pod ${p.metadata?.name}`);
        assert.equal(
          restarts(p),
          restartsBefore.get(p.metadata!.name!),
          `${p.metadata?.name} restarted`,
        );
        assert.equal(isReady(p), false);
      }
    log(
      `no restart in ${secs(Date.now() - stopped)} without PostgreSQL (liveness budget ${livenessBudgetS} s)`,
    );
  });

  it('PostgreSQL started: every pod ready again, endpoints back, still no restart', async () => {
    const started = Date.now();
    await kubectlOk(['-n', SEED, 'scale', 'statefulset/postgres', '--replicas=1']);
    await kubectlOk(['-n', SEED, 'rollout', 'status', 'statefulset/postgres', '--timeout=120s']);
    const pgMs = Date.now() - started;
    const { ms } = await waitUntil(
      'every users and shifts pod ready',
      async () => {
        for (const app of APPS) {
          const pods = await podsOf(app);
          if (pods.length === 0 || !pods.every(isReady)) return false;
        }
        return true;
      },
      { timeoutMs: (readinessBudgetS + 30) * 1000, intervalMs: 250 },
    );
    log(`PostgreSQL ready ${secs(pgMs)} after start; all pods ready ${secs(ms)} after that`);
    for (const app of APPS) {
      assert.ok((await readyEndpoints(app)).length >= 1, `${app} has no ready endpoint`);
      for (const p of await podsOf(app))
        assert.equal(
          restarts(p),
          restartsBefore.get(p.metadata!.name!),
          `${p.metadata?.name} restarted`,
        );
    }
  });
});
