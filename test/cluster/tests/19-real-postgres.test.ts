// 19. The in-cluster PostgreSQL on the real node (deploy/components/postgres in the seed's local
//     overlay), and the disruption budget the production overlay ships:
//     - its pod deleted under authenticated write load comes back on the same volume with every
//       acknowledged row; users and shifts answer 503 problem+json with Retry-After meanwhile,
//       restart nothing, and write again by themselves; unacknowledged writes retried with their
//       Idempotency-Key land exactly once;
//     - DB_POOL_MAX x (maxReplicas + maxSurge) of both services, read from the live objects, fits
//       the server's max_connections, and holds with both at that many pods under load;
//     - `kubectl drain` of the real node, limited to our API pods at production's replica count,
//       is refused by the PodDisruptionBudget for the last serving pod of each.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApiException, type V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import {
  autoscaling,
  core,
  getDeployment,
  kubectl,
  kubectlOk,
  log,
  secs,
  sleep,
  table,
  waitRolledOut,
  waitUntil,
} from '../lib/cluster.js';
import {
  SEED,
  allReady,
  apiHeaders,
  appPods,
  ensureSeed,
  isReady,
  nodeName,
  patchHpa,
  podsOf,
  readyEndpoints,
  realNodeOrSkip,
  restartReport,
  restartsByPod,
  serviceUrl,
} from '../lib/realnode.js';
import { POSTGRES_POD, connectionsByPod, psql, setting, volumeIdentity } from '../lib/postgres.js';
import { Traffic, describeTraffic, type TrafficOutcome } from '../lib/traffic.js';

const APPS = ['users', 'shifts'] as const;
type App = (typeof APPS)[number];

/**
 * Which pods of the apps are Ready, polled every 250 ms: every change, with its time, so a run
 * shows when the APIs went out of their Services and came back.
 */
function readinessTimeline(apps: readonly string[]) {
  const changes: { at: number; app: string; ready: number; pods: number }[] = [];
  const last = new Map<string, string>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const app of apps) {
        const pods = await podsOf(app).catch(() => undefined);
        if (!pods) continue;
        const ready = pods.filter(isReady).length;
        const key = `${ready}/${pods.length}`;
        if (last.get(app) !== key) changes.push({ at: Date.now(), app, ready, pods: pods.length });
        last.set(app, key);
      }
      await sleep(250);
    }
  })();
  return {
    async stop(since: number) {
      stopped = true;
      await loop;
      return changes
        .map((c) => `${secs(c.at - since)} ${c.app} ${c.ready}/${c.pods} ready`)
        .join('; ');
    },
  };
}

/** Outcomes per second since t0, e.g. `+3 s 201x4 503x6`. */
function perSecond(ws: { doneAt: number; status?: number; error?: string }[], t0: number): string {
  const buckets = new Map<number, Map<string, number>>();
  for (const w of ws) {
    const b = Math.floor((w.doneAt - t0) / 1000);
    const k = w.status !== undefined ? String(w.status) : (w.error ?? '?');
    const m = buckets.get(b) ?? new Map<string, number>();
    m.set(k, (m.get(k) ?? 0) + 1);
    buckets.set(b, m);
  }
  return [...buckets]
    .sort(([a], [b]) => a - b)
    .map(([b, m]) => `${b >= 0 ? '+' : ''}${b} s ${[...m].map(([k, n]) => `${k}x${n}`).join(' ')}`)
    .join(' | ');
}

describe(
  '19. PostgreSQL in the cluster, connection budget and disruption budget on the real node',
  realNodeOrSkip(),
  () => {
    before(async () => {
      await ensureSeed();
      await kubectlOk(['-n', SEED, 'rollout', 'status', 'statefulset/postgres', '--timeout=120s']);
    });

    describe('the PostgreSQL pod deleted under write load', () => {
      // Each write is a create with its own Idempotency-Key: users get a unique email, shifts one
      // hour each, two hours apart, of a user id of this run only (no overlap, easy to find).
      const run = randomUUID().slice(0, 8);
      const shiftUser = randomUUID();
      const base = Date.UTC(2031, 0, 1);
      const bodyOf = (app: App, n: number) =>
        app === 'users'
          ? {
              email: `pgkill-${run}-${n}@example.com`,
              firstName: 'Pod',
              lastName: `Kill ${n}`,
              role: 'employee',
              locationId: 1,
            }
          : {
              userId: shiftUser,
              locationId: 1,
              position: 'cook',
              startsAt: new Date(base + n * 7_200_000).toISOString(),
              endsAt: new Date(base + n * 7_200_000 + 3_600_000).toISOString(),
            };
      interface Write {
        app: App;
        key: string;
        body: string;
        /** the row's id from the 201 */
        id?: string;
        /** absolute times of the request */
        sentAt: number;
        doneAt: number;
        status?: number;
        error?: string;
        problem?: { type?: string; contentType?: string; retryAfter?: string };
      }
      const writes: Write[] = [];

      after(async () => {
        // The rows and keys of this run go again, so the seed's data is as it was.
        await psql(
          `DELETE FROM users.users WHERE email LIKE 'pgkill-${run}-%';
         DELETE FROM users.idempotency_keys WHERE key LIKE 'pgkill-${run}-%';
         DELETE FROM shifts.shifts WHERE user_id = '${shiftUser}';
         DELETE FROM shifts.idempotency_keys WHERE key LIKE 'pgkill-${run}-%';`,
        ).catch((err: unknown) => log(`cleanup of run ${run} failed: ${String(err)}`));
      });

      it('comes back on the same volume with every acknowledged row; the APIs answer 503 meanwhile and recover without a restart', async () => {
        const volumeBefore = await volumeIdentity();
        log(
          `PostgreSQL data: claim ${volumeBefore.claim} -> PersistentVolume ${volumeBefore.volume} (${volumeBefore.source}), system identifier ${volumeBefore.systemIdentifier}`,
        );
        // An emptyDir (or any volume of the pod alone) would go with the pod: only a
        // PersistentVolume keeps the data.
        assert.match(volumeBefore.source, /^(local|hostPath) \//);
        const restartsBefore = await restartsByPod();

        const traffics = await Promise.all(
          APPS.map(async (app) => {
            const started = Date.now();
            return Traffic.start(await serviceUrl(app), {
              // 10 creates a second per service, a new connection each, 5 s timeout: longer than
              // the services' own 2 s connect timeout to the database, so a slow 503 is seen as one.
              rate: 10,
              concurrency: 8,
              timeoutMs: 5000,
              maxMs: 180_000,
              request: (n) => ({
                method: 'POST',
                path: `/v1/${app}`,
                headers: { 'idempotency-key': `pgkill-${run}-${app}-${n}` },
                body: JSON.stringify(bodyOf(app, n)),
              }),
              onOutcome: (o: TrafficOutcome) => {
                const w: Write = {
                  app,
                  key: o.request.headers!['idempotency-key']!,
                  body: o.request.body!,
                  sentAt: started + o.sentMs,
                  doneAt: started + o.doneMs,
                };
                if (o.error) w.error = o.error;
                if (o.status !== undefined) w.status = o.status;
                if (o.status === 201) w.id = (JSON.parse(o.body ?? '{}') as { id?: string }).id;
                else if (o.status !== undefined) {
                  const problem = JSON.parse(o.body || '{}') as { type?: string };
                  w.problem = {
                    ...(problem.type ? { type: problem.type } : {}),
                    ...(o.headers?.['content-type']
                      ? { contentType: o.headers['content-type'] }
                      : {}),
                    ...(typeof o.headers?.['retry-after'] === 'string'
                      ? { retryAfter: o.headers['retry-after'] }
                      : {}),
                  };
                }
                writes.push(w);
              },
            });
          }),
        );
        await sleep(5000);
        assert.ok(
          writes.some((w) => w.status === 201),
          `no write succeeded before the delete: ${JSON.stringify(writes.slice(0, 3))}`,
        );

        // A normal delete, as a drain, a rollout or a person does it: the kubelet sends the
        // image's STOPSIGNAL (SIGINT, PostgreSQL's fast shutdown) and the StatefulSet makes
        // postgres-0 again only once the old pod is gone. --force --grace-period=0 would not wait
        // for the kubelet: the new postgres-0 could start while the old container still runs on
        // the same data directory, which the StatefulSet's one-pod-per-identity promise is there
        // to prevent; a crash is a different test (WAL recovery), not what force emulates.
        const timeline = readinessTimeline(['postgres', ...APPS]);
        const deletedAt = Date.now();
        await core().deleteNamespacedPod({ name: POSTGRES_POD, namespace: SEED });
        const { ms: pgReadyMs } = await waitUntil(
          'a new postgres-0 Ready',
          async () =>
            (await podsOf('postgres')).some(
              (p) => p.metadata!.uid !== volumeBefore.podUid && isReady(p),
            ),
          { timeoutMs: 120_000, intervalMs: 250 },
        );
        const failedAfter = () => writes.filter((w) => w.status !== 201);
        // Writing again: the last 20 answers of each service all 201s.
        await waitUntil(
          'the last 20 writes of each service succeeded',
          async () =>
            APPS.every((app) => {
              const mine = writes
                .filter((w) => w.app === app && w.doneAt > deletedAt)
                .sort((a, b) => a.doneAt - b.doneAt)
                .slice(-20);
              return mine.length === 20 && mine.every((w) => w.status === 201);
            }) && failedAfter().length > 0,
          { timeoutMs: 120_000, intervalMs: 250 },
        );
        const results = await Promise.all(traffics.map((t) => t.stop()));
        APPS.forEach((app, i) => log(`${app} writes: ${describeTraffic(results[i]!)}`));
        for (const app of APPS)
          log(
            `${app} per second since the delete: ${perSecond(
              writes.filter((w) => w.app === app),
              deletedAt,
            )}`,
          );
        log(`readiness since the delete: ${await timeline.stop(deletedAt)}`);
        const firstFailureSent = Math.min(...failedAfter().map((w) => w.sentAt));
        const firstOk = writes
          .filter((w) => w.status === 201 && w.sentAt > firstFailureSent)
          .sort((a, b) => a.doneAt - b.doneAt)[0]!;

        const failed = failedAfter();
        assert.deepEqual(
          failed.filter((w) => w.doneAt < deletedAt),
          [],
          'writes failed before the delete',
        );
        const firstFailed = Math.min(...failed.map((w) => w.doneAt));
        const lastFailed = Math.max(...failed.map((w) => w.doneAt));
        // Every answer is a 201 or the 503 of a missing database, as problem+json with Retry-After;
        // no 500, no hung request. Refused connections are kube-proxy's answer while the Service
        // has no ready endpoint (the pods went unready: /readyz checks the database); a connection
        // already open when it withdraws the last endpoint is reset instead. Either way the write
        // was not acknowledged, and the retry below must create it exactly once.
        const statuses = new Map<string, number>();
        for (const w of writes) {
          const k = w.status !== undefined ? `HTTP ${w.status}` : w.error!;
          statuses.set(k, (statuses.get(k) ?? 0) + 1);
          if (w.status === 201) continue;
          if (w.status === 503) {
            assert.match(w.problem?.contentType ?? '', /^application\/problem\+json/, w.key);
            assert.match(w.problem?.type ?? '', /\/service-unavailable$/, w.key);
            assert.match(w.problem?.retryAfter ?? '', /^[1-9]\d*$/, `${w.key}: Retry-After`);
            continue;
          }
          assert.ok(
            w.error === 'ECONNREFUSED' || w.error === 'ECONNRESET',
            `${w.key}: ${JSON.stringify(w)}`,
          );
        }
        assert.ok((statuses.get('HTTP 503') ?? 0) > 0, 'no 503 while PostgreSQL was gone');

        // Recovered by themselves: the same pods, no container restarted, all ready.
        await waitUntil(
          'every users and shifts pod ready',
          async () => (await allReady('users')) && (await allReady('shifts')),
          { timeoutMs: 60_000, intervalMs: 500 },
        );
        const restartsAfter = await restartsByPod();
        assert.deepEqual(
          restartsAfter,
          restartsBefore,
          `users/shifts pods or restart counts\n${await restartReport(await appPods())}`,
        );

        // The same claim, the same PersistentVolume, the same initdb'd data directory.
        const volumeAfter = await volumeIdentity();
        assert.notEqual(volumeAfter.podUid, volumeBefore.podUid, 'postgres-0 was not recreated');
        const { podUid: _a, ...sameBefore } = volumeBefore;
        const { podUid: _b, ...sameAfter } = volumeAfter;
        assert.deepEqual(sameAfter, sameBefore);

        // Writes not acknowledged are retried with their key, as a client told Retry-After would:
        // each must end in a 201 (a new row, or the replay of one that committed unseen).
        const unacked = writes.filter((w) => w.status !== 201);
        const retried = { created: 0, replayed: 0 };
        const url = new Map(
          await Promise.all(APPS.map(async (a) => [a, await serviceUrl(a)] as const)),
        );
        for (const w of unacked) {
          let last = '';
          for (let attempt = 0; attempt < 10 && w.id === undefined; attempt++) {
            const res = await fetch(`${url.get(w.app)}/v1/${w.app}`, {
              method: 'POST',
              headers: {
                ...apiHeaders(),
                'content-type': 'application/json',
                'idempotency-key': w.key,
              },
              body: w.body,
              signal: AbortSignal.timeout(5000),
            }).catch((err: Error) => err);
            if (res instanceof Error) {
              // No ready endpoint behind the Service for a moment: kube-proxy refuses.
              last = `${res.message} ${String((res.cause as { code?: string })?.code)}`;
              await sleep(1000);
              continue;
            }
            const text = await res.text();
            last = `HTTP ${res.status} ${text}`;
            if (res.status === 201) {
              w.id = (JSON.parse(text) as { id: string }).id;
              if (res.headers.get('idempotent-replayed') === 'true') retried.replayed++;
              else retried.created++;
            } else await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
          }
          assert.ok(w.id, `retry of ${w.key} never succeeded: ${last}`);
        }

        // Every acknowledged row is in the database, and each key's row exactly once.
        const inDb = new Map<App, string[]>([
          [
            'users',
            (await psql(`SELECT id FROM users.users WHERE email LIKE 'pgkill-${run}-%';`)).map(
              (r) => r[0]!,
            ),
          ],
          [
            'shifts',
            (await psql(`SELECT id FROM shifts.shifts WHERE user_id = '${shiftUser}';`)).map(
              (r) => r[0]!,
            ),
          ],
        ]);
        const acked = writes.filter((w) => w.status === 201);
        const lost = acked.filter((w) => !inDb.get(w.app)!.includes(w.id!));
        for (const app of APPS) {
          const ids = writes.filter((w) => w.app === app).map((w) => w.id!);
          assert.deepEqual(
            [...inDb.get(app)!].sort(),
            [...new Set(ids)].sort(),
            `${app}: rows in the database vs the ids answered`,
          );
          assert.equal(new Set(ids).size, ids.length, `${app}: two keys answered with one row`);
        }

        log(
          table([
            ['figure', 'value'],
            ['writes sent (both services)', String(writes.length)],
            ['acknowledged (201) under load', String(acked.length)],
            ['acknowledged rows lost', String(lost.length)],
            [
              'answers to the writes under load',
              [...statuses].map(([k, n]) => `${k}: ${n}`).join(', '),
            ],
            [
              'unacknowledged, retried with their key',
              `${unacked.length}: ${retried.created} created, ${retried.replayed} replayed`,
            ],
            ['delete -> new postgres-0 Ready', secs(pgReadyMs)],
            ['delete -> first failed write', secs(firstFailed - deletedAt)],
            ['delete -> last failed write', secs(lastFailed - deletedAt)],
            ['delete -> first successful write after the outage', secs(firstOk.doneAt - deletedAt)],
            ['volume', `${volumeAfter.claim} -> ${volumeAfter.volume} (${volumeAfter.source})`],
            ['users/shifts container restarts', '0'],
          ]),
        );
        assert.equal(lost.length, 0, `lost: ${lost.map((w) => `${w.app} ${w.id}`).join(', ')}`);
      });
    });

    describe('connection budget', () => {
      const restore: (() => Promise<void>)[] = [];
      after(async () => {
        for (const r of restore.reverse()) await r();
      });

      /** DB_POOL_MAX of a Deployment's container: its env, else its envFrom ConfigMaps. */
      async function poolMaxOf(d: V1Deployment): Promise<number> {
        const c = d.spec!.template.spec!.containers[0]!;
        let value = c.env?.find((e) => e.name === 'DB_POOL_MAX')?.value;
        for (const from of c.envFrom ?? []) {
          if (value !== undefined || !from.configMapRef?.name) continue;
          const cm = await core().readNamespacedConfigMap({
            name: from.configMapRef.name,
            namespace: SEED,
          });
          value = cm.data?.['DB_POOL_MAX'];
        }
        const n = Number(value);
        assert.ok(Number.isInteger(n) && n > 0, `${d.metadata?.name}: DB_POOL_MAX ${value}`);
        return n;
      }

      /** maxSurge in pods at a replica count: a percentage rounds up, as the controller does. */
      function surgeOf(d: V1Deployment, replicas: number): number {
        const s = d.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%';
        return typeof s === 'number' ? s : Math.ceil((replicas * Number(s.replace('%', ''))) / 100);
      }

      it('DB_POOL_MAX x (maxReplicas + maxSurge) of both fits max_connections, and holds at that scale under load', async () => {
        const maxConnections = await setting('max_connections');
        const reserved = await setting('superuser_reserved_connections');
        const plan = new Map<App, { pool: number; max: number; surge: number; pods: number }>();
        for (const app of APPS) {
          const d = await getDeployment(SEED, app);
          const hpa = await autoscaling().readNamespacedHorizontalPodAutoscaler({
            name: app,
            namespace: SEED,
          });
          const max = hpa.spec!.maxReplicas;
          const surge = surgeOf(d, max);
          plan.set(app, { pool: await poolMaxOf(d), max, surge, pods: max + surge });
        }
        const budget = [...plan.values()].reduce((n, p) => n + p.pool * p.pods, 0);
        log(
          `budget ${[...plan].map(([a, p]) => `${a} ${p.pool} x (${p.max} + ${p.surge})`).join(' + ')} = ${budget}; server max_connections ${maxConnections}, superuser_reserved_connections ${reserved}`,
        );
        assert.ok(
          budget <= maxConnections - reserved,
          `budget ${budget} > max_connections ${maxConnections} - reserved ${reserved}`,
        );

        // The budget's worst case held at once: every pod of a rollout at full scale, surge pods
        // included (each a whole pod with a whole pool), by pinning each HPA there.
        for (const [app, p] of plan)
          restore.push(await patchHpa(app, { maxReplicas: p.pods, minReplicas: p.pods }));
        const { ms: scaledMs } = await waitUntil(
          'users and shifts at maxReplicas + maxSurge, all ready',
          async () =>
            (await allReady('users', plan.get('users')!.pods)) &&
            (await allReady('shifts', plan.get('shifts')!.pods)),
          { timeoutMs: 120_000, intervalMs: 500 },
        );
        log(
          `scaled to ${[...plan].map(([a, p]) => `${a} ${p.pods}`).join(', ')} in ${secs(scaledMs)}`,
        );

        // A burst of concurrent full-page reads (large results take pooled clients), 12 in flight
        // per pod against a DB_POOL_MAX of 10, new connection per request, through each Service.
        // Concurrency is the bound, not the rate: a request holds a connection only while its
        // statement runs, so fewer in flight (or a rate that caps them) leave every pool below its
        // cap, and the bound would not be met at its limit. Opened connections stay for the pools'
        // 30 s idle timeout, which the sampling fits in. At the cap a request waits for a client up
        // to the services' 2 s connect timeout and is then shed with a 503 and Retry-After, by
        // design; anything else is a failure.
        const failures: string[] = [];
        let shed = 0;
        const traffics = await Promise.all(
          APPS.map(async (app) =>
            Traffic.start(`${await serviceUrl(app)}/v1/${app}?limit=200`, {
              rate: 500,
              concurrency: 12 * plan.get(app)!.pods,
              timeoutMs: 5000,
              maxMs: 4000,
              onOutcome: (o) => {
                if (o.status === 200) return;
                if (
                  o.status === 503 &&
                  /^application\/problem\+json/.test(String(o.headers?.['content-type'])) &&
                  /^[1-9]\d*$/.test(String(o.headers?.['retry-after']))
                )
                  shed++;
                else failures.push(`${app} ${o.status ?? o.error} ${o.body?.slice(0, 300)}`);
              },
            }),
          ),
        );
        const samples: Awaited<ReturnType<typeof connectionsByPod>>[] = [];
        const until = Date.now() + 10_000;
        while (Date.now() < until) {
          samples.push(await connectionsByPod(APPS));
          await sleep(500);
        }
        const results = await Promise.all(traffics.map((t) => t.stop()));
        APPS.forEach((app, i) => log(`${app} reads: ${describeTraffic(results[i]!)}`));

        const pods = new Map(
          (
            await Promise.all(
              APPS.map(async (a) => (await podsOf(a)).map((p) => [p.metadata!.name!, a] as const)),
            )
          ).flat(),
        );
        let peakUsed = 0;
        let peakTotal = 0;
        const peakPerPod = new Map<string, number>();
        for (const s of samples) {
          let used = 0;
          for (const [pod, n] of s.byPod) {
            const app = pods.get(pod);
            assert.ok(app, `connections from ${pod}, not one of the pods at full scale`);
            assert.ok(n <= plan.get(app)!.pool, `${pod} holds ${n} > DB_POOL_MAX`);
            peakPerPod.set(pod, Math.max(peakPerPod.get(pod) ?? 0, n));
            used += n;
          }
          peakUsed = Math.max(peakUsed, used);
          peakTotal = Math.max(peakTotal, s.total);
        }
        log(
          table([
            ['figure', 'value'],
            ['pods (users + shifts)', String(pods.size)],
            ['samples of pg_stat_activity', String(samples.length)],
            ['peak connections from our pods', String(peakUsed)],
            ['peak client connections in all', String(peakTotal)],
            ['peak per pod', [...peakPerPod.values()].sort((a, b) => b - a).join(', ')],
            ['budget', String(budget)],
            ['max_connections - superuser_reserved_connections', String(maxConnections - reserved)],
          ]),
        );
        // The server never turned a connection away for want of slots.
        const pgLog = await kubectlOk(['-n', SEED, 'logs', POSTGRES_POD, '--since=3m']);
        assert.doesNotMatch(pgLog, /too many clients|remaining connection slots/);
        // Every pod at full scale had its pool open, at least one up to its cap, and the whole
        // fleet stayed inside the budget.
        assert.ok(
          [...peakPerPod].some(([pod, n]) => n === plan.get(pods.get(pod)!)!.pool),
          'no pool reached its DB_POOL_MAX: the load did not test the bound',
        );
        assert.equal(peakPerPod.size, pods.size, 'pods that held a connection');
        assert.ok(peakUsed <= budget, `${peakUsed} connections > budget ${budget}`);
        assert.ok(peakTotal < maxConnections - reserved, `${peakTotal} connections in all`);
        if (failures.length > 0) {
          // What the services logged as warnings and errors, to tell overload from a fault.
          for (const app of APPS) {
            const logs = await kubectl([
              '-n',
              SEED,
              'logs',
              '-l',
              `app.kubernetes.io/name=${app}`,
              '--since=2m',
              '--tail=-1',
            ]);
            failures.push(
              ...logs.stdout
                .split('\n')
                .filter((l) => /"level":(40|50)/.test(l))
                .slice(-5),
            );
          }
        }
        assert.deepEqual(failures, [], 'answers other than 200 or a 503 with Retry-After');
        log(`shed with 503 + Retry-After at the pools' cap: ${shed}`);
      });
    });

    describe('disruption budget on a drain of the one real node', () => {
      const restore: (() => Promise<void>)[] = [];
      after(async () => {
        await kubectl(['uncordon', nodeName()]);
        for (const r of restore.reverse()) await r();
      });

      it("production's PDB refuses to evict the last serving pod of each API; the drain fails naming it", async () => {
        // The PDB and replica floor production ships (deploy/overlays/production): the seed's PDBs
        // are the same objects (from the base), the floor is set on the seed's HPAs.
        const built = parseAllDocuments(
          await kubectlOk(['kustomize', 'deploy/overlays/production']),
        ).map(
          (d) =>
            d.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> },
        );
        const floor = new Map<App, number>();
        for (const app of APPS) {
          const pdb = built.find(
            (o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === app,
          );
          const hpa = built.find(
            (o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === app,
          );
          assert.ok(pdb && hpa, `production has no PDB/HPA ${app}`);
          const live = JSON.parse(
            await kubectlOk(['-n', SEED, 'get', 'pdb', app, '-o', 'json']),
          ) as { spec: Record<string, unknown> };
          assert.deepEqual(live.spec, pdb.spec, `the seed's PDB ${app} is production's`);
          const min = hpa.spec['minReplicas'] as number;
          floor.set(app, min);
          const h = await autoscaling().readNamespacedHorizontalPodAutoscaler({
            name: app,
            namespace: SEED,
          });
          restore.push(
            await patchHpa(app, {
              minReplicas: min,
              maxReplicas: Math.max(min, h.spec!.maxReplicas),
            }),
          );
        }
        for (const app of APPS) await waitRolledOut(SEED, app, 120_000);
        await waitUntil(
          `users and shifts at ${[...floor.values()].join('/')} ready pods`,
          async () =>
            (await allReady('users', floor.get('users'))) &&
            (await allReady('shifts', floor.get('shifts'))),
          { timeoutMs: 120_000, intervalMs: 500 },
        );
        const before = new Map(
          await Promise.all(
            APPS.map(async (a) => [a, (await podsOf(a)).map((p) => p.metadata!.name!)] as const),
          ),
        );

        const traffics = await Promise.all(
          APPS.map(async (app) =>
            Traffic.start(`${await serviceUrl(app)}/v1/${app}?limit=5`, {
              rate: 25,
              concurrency: 8,
              timeoutMs: 2000,
              maxMs: 120_000,
            }),
          ),
        );
        await sleep(2000);
        const started = Date.now();
        const drain = await kubectl([
          'drain',
          nodeName(),
          '--pod-selector=app.kubernetes.io/name in (users,shifts)',
          '--delete-emptydir-data',
          '--ignore-daemonsets',
          '--timeout=30s',
        ]);
        const drainMs = Date.now() - started;
        const output = `${drain.stdout}\n${drain.stderr}`;
        const lines = output.split('\n').filter((l) => l.trim() !== '');
        const repeated = new Map<string, number>();
        for (const l of lines) repeated.set(l, (repeated.get(l) ?? 0) + 1);
        log(
          `kubectl drain (${secs(drainMs)}, exit ${drain.code}):\n` +
            [...repeated].map(([l, n]) => (n > 1 ? `${l} (x${n})` : l)).join('\n'),
        );
        assert.notEqual(drain.code, 0, 'the drain succeeded');
        assert.match(output, /Cannot evict pod as it would violate the pod's disruption budget/);

        // One pod of each was evicted; the last one serves on, and the API names the budget.
        const summary: string[][] = [
          ['service', 'evicted', 'left serving', 'eviction of the last'],
        ];
        for (const app of APPS) {
          const pods = await podsOf(app);
          const serving = pods.filter(
            (p) => isReady(p) && before.get(app)!.includes(p.metadata!.name!),
          );
          const evicted = before
            .get(app)!
            .filter(
              (n) => !pods.some((p) => p.metadata!.name === n && !p.metadata!.deletionTimestamp),
            );
          assert.equal(serving.length, floor.get(app)! - 1, `${app}: pods serving after the drain`);
          assert.equal(evicted.length, 1, `${app}: pods evicted`);
          assert.equal((await readyEndpoints(app)).length, serving.length, `${app} endpoints`);
          assert.match(output, new RegExp(`evicting pod ${SEED}/${evicted[0]}`));
          const last = serving[0]!.metadata!.name!;
          const refused = await core()
            .createNamespacedPodEviction({
              name: last,
              namespace: SEED,
              body: {
                apiVersion: 'policy/v1',
                kind: 'Eviction',
                metadata: { name: last, namespace: SEED },
                deleteOptions: { dryRun: ['All'] },
              },
            })
            .then(
              () => undefined,
              (err: unknown) => err,
            );
          assert.ok(refused instanceof ApiException, `${app}: eviction of ${last} was allowed`);
          assert.equal(refused.code, 429);
          const status = JSON.parse(String(refused.body)) as {
            details?: { causes?: { reason?: string; message?: string }[] };
          };
          const cause = status.details?.causes?.find((c) => c.reason === 'DisruptionBudget');
          assert.match(
            cause?.message ?? '',
            new RegExp(`^The disruption budget ${app} needs`),
            String(refused.body),
          );
          summary.push([app, evicted[0]!, last, `429: ${cause!.message!}`]);
        }
        const node = await core().readNode({ name: nodeName() });
        assert.equal(node.spec?.unschedulable, true, 'the node is cordoned');

        await kubectlOk(['uncordon', nodeName()]);
        const { ms: backMs } = await waitUntil(
          'the evicted pods replaced on the uncordoned node',
          async () =>
            (await allReady('users', floor.get('users'))) &&
            (await allReady('shifts', floor.get('shifts'))),
          { timeoutMs: 120_000, intervalMs: 500 },
        );
        const results = await Promise.all(traffics.map((t) => t.stop()));
        log(table(summary));
        log(`uncordoned -> ${[...floor.values()].join('/')} ready again in ${secs(backMs)}`);
        APPS.forEach((app, i) =>
          log(`${app} during drain and uncordon: ${describeTraffic(results[i]!)}`),
        );
        for (const r of results) assert.equal(r.failed, 0, describeTraffic(r));
      });
    });
  },
);
