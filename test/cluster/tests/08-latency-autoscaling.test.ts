// 8. Latency autoscaling (staging includes deploy/components/latency-autoscaling: the HPA has a
//    Pods metric http_request_duration_seconds_p95, target 300m, next to CPU 70%): emulated p95
//    latency above the target on the shifts pods -> Prometheus (the component's recording rule,
//    pod:http_request_duration_seconds:p95, loaded by cluster/up.sh) -> prometheus-adapter (the
//    component's config) -> custom.metrics.k8s.io -> the HPA scales shifts up; below target ->
//    back down. Then, with CPU
//    high, Prometheus is stopped: the HPA keeps at least what CPU asks for (fails safe).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  STAGING,
  clusterOrSkip,
  ensureApplied,
  kubectl,
  log,
  secs,
  sleep,
  waitRolledOut,
  waitUntil,
} from '../lib/cluster.js';
import { ReplicaRecorder, hpaEvents, hpaOf, hpaSummary, replicas } from '../lib/hpa.js';
import { CPU, LATENCY, LoadEmulator } from '../lib/load.js';
import {
  clusterDir,
  query,
  startPrometheus,
  stopPrometheus,
  storagePath,
} from '../lib/prometheus.js';

const SCALE_TIMEOUT = 180_000;
const METRIC = 'http_request_duration_seconds_p95';
const RECORDED = 'pod:http_request_duration_seconds:p95';
const FAIL_SAFE_WINDOW = 60_000;

async function p95Values(): Promise<Record<string, string>> {
  const r = await kubectl([
    'get',
    '--raw',
    `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${STAGING}/pods/*/${METRIC}?labelSelector=app.kubernetes.io%2Fname%3Dshifts`,
  ]);
  if (r.code !== 0) throw new Error(r.stderr);
  const items = (
    JSON.parse(r.stdout) as { items: Array<{ describedObject: { name: string }; value: string }> }
  ).items;
  return Object.fromEntries(items.map((i) => [i.describedObject.name, i.value]));
}

const hpaLatency = async () =>
  (await hpaOf('shifts')).status?.currentMetrics?.find((m) => m.pods?.metric.name === METRIC)?.pods
    ?.current.averageValue;

describe('8. latency autoscaling, and failing safe without Prometheus', clusterOrSkip(), () => {
  const shifts = new LoadEmulator('shifts');
  const users = new LoadEmulator('users');
  let min = 1;
  let max = 0;
  let usersMin = 1;
  let stopped: Awaited<ReturnType<typeof stopPrometheus>> | undefined;

  before(async () => {
    await ensureApplied();
    await waitRolledOut(STAGING, 'shifts');
    const h = await hpaOf('shifts');
    min = h.spec?.minReplicas ?? 1;
    max = h.spec?.maxReplicas ?? 0;
    usersMin = (await hpaOf('users')).spec?.minReplicas ?? 1;
    assert.ok(
      h.spec?.metrics?.some((m) => m.type === 'Pods' && m.pods?.metric.name === METRIC),
      'staging HPA has the latency metric (components/latency-autoscaling)',
    );
    await shifts.set({ [CPU]: '10m', [LATENCY]: '0.05' });
    await users.set({ [CPU]: '10m', [LATENCY]: '0.05' });
    await waitUntil(
      'shifts and users at their minimum',
      async () => (await replicas('shifts')) === min && (await replicas('users')) === usersMin,
      { timeoutMs: SCALE_TIMEOUT, describe: () => hpaSummary('shifts') },
    );
  });

  after(async () => {
    if (stopped) await startPrometheus(stopped).catch((e: unknown) => log(`restart: ${e}`));
    await shifts.set({ [CPU]: '10m', [LATENCY]: '0.05' }).catch(() => undefined);
    shifts.stop();
    users.stop();
  });

  it("Prometheus keeps its data in the cluster's directory, not in the Debian package's /var/lib/prometheus", async () => {
    const path = await storagePath();
    log(`Prometheus storage.tsdb.path: ${path}`);
    assert.ok(path.startsWith(`${clusterDir()}/`), `${path} is outside ${clusterDir()}`);
  });

  it("the p95 reaches custom.metrics.k8s.io through the component's recording rule and adapter config, and the HPA reads it", async () => {
    const { value, ms } = await waitUntil(
      'shifts p95 in custom.metrics.k8s.io and in the HPA status',
      async () => {
        const v = await p95Values();
        const h = await hpaLatency();
        return Object.keys(v).length > 0 && h ? { v, h } : undefined;
      },
      { timeoutMs: SCALE_TIMEOUT, intervalMs: 2000, describe: () => hpaSummary('shifts') },
    );
    log(
      `custom.metrics.k8s.io ${METRIC}: ${JSON.stringify(value.v)}; HPA sees ${value.h} (${secs(ms)})`,
    );
    // What the adapter serves is the recorded series, one per shifts pod.
    const recorded = await query(`${RECORDED}{namespace="${STAGING}", pod=~"shifts-.+"}`);
    assert.deepEqual(
      recorded.map((r) => r.metric.pod).sort(),
      Object.keys(value.v).sort(),
      `${RECORDED}: ${JSON.stringify(recorded)}`,
    );
    assert.equal(await replicas('shifts'), min, 'p95 50 ms < 300 ms: no scaling');
  });

  it('p95 0.8 s on the shifts pods scales shifts up to maxReplicas; users stays at its minimum', async () => {
    const rec = new ReplicaRecorder(['shifts', 'users']);
    await shifts.set({ [LATENCY]: '0.8' });
    try {
      const first = await waitUntil(
        'shifts scaled up',
        async () => (await replicas('shifts')) > min,
        {
          timeoutMs: SCALE_TIMEOUT,
          describe: () => hpaSummary('shifts'),
        },
      );
      const top = await waitUntil(
        `shifts at maxReplicas ${max}`,
        async () => (await replicas('shifts')) === max,
        { timeoutMs: SCALE_TIMEOUT, describe: () => hpaSummary('shifts') },
      );
      log(
        `shifts: p95 0.05 -> 0.8 s: first scale-up after ${secs(first.ms)}, at max ${max} after ${secs(first.ms + top.ms)}`,
      );
      log(`  ${await hpaSummary('shifts')}`);
    } finally {
      await rec.stop();
      rec.print();
    }
    assert.deepEqual([...new Set(rec.values('users'))], [usersMin]);
    // It was the latency metric: CPU stayed at 10% of the request.
    const h = await hpaOf('shifts');
    const cpu = h.status?.currentMetrics?.find((m) => m.resource?.name === 'cpu');
    assert.ok((cpu?.resource?.current.averageUtilization ?? 100) < 70, JSON.stringify(cpu));
  });

  it('p95 back to 0.05 s scales shifts down to its minimum', async () => {
    await shifts.set({ [LATENCY]: '0.05' });
    const down = await waitUntil(
      `shifts back to ${min}`,
      async () => (await replicas('shifts')) === min,
      { timeoutMs: SCALE_TIMEOUT, describe: () => hpaSummary('shifts') },
    );
    log(`shifts: p95 0.8 -> 0.05 s: back to ${min} replica(s) after ${secs(down.ms)}`);
  });

  it('Prometheus stopped while CPU is high: the HPA keeps what CPU asks for, reports the latency metric failing', async () => {
    await shifts.set({ [CPU]: '250m' });
    const up = await waitUntil(
      `shifts at ${max} on CPU`,
      async () => (await replicas('shifts')) === max,
      { timeoutMs: SCALE_TIMEOUT, describe: () => hpaSummary('shifts') },
    );
    // What CPU asks for: ceil(replicas * utilization / 70), capped at maxReplicas.
    const h = await hpaOf('shifts');
    const util = h.status?.currentMetrics?.find((m) => m.resource?.name === 'cpu')?.resource
      ?.current.averageUtilization;
    assert.ok(util !== undefined && util > 70, `CPU ${util}%`);
    const cpuWants = Math.min(max, Math.ceil((max * util) / 70));
    log(`shifts: CPU ${util}% at ${max} replicas after ${secs(up.ms)}; CPU asks for ${cpuWants}`);

    const stoppedAt = new Date();
    stopped = await stopPrometheus();
    log(`Prometheus (pid ${stopped.pid}) stopped: ${stopped.url}/-/ready does not answer`);
    // The HPA notices: the custom metric cannot be fetched any more. Its status says so: the
    // metric's entry in currentMetrics turns invalid (no type, no value) while CPU stays valid.
    // Its FailedGetPodsMetric event is only a witness: the controller's event spam filter (25 per
    // HPA, then one per 5 min) is often spent by then on the failed reads of the first minute.
    const noticed = await waitUntil(
      'the HPA reports the latency metric as failing',
      async () => {
        const metrics = (await hpaOf('shifts')).status?.currentMetrics ?? [];
        const cpuValid = metrics.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
        const invalid = metrics.some((m) => !m.type);
        return cpuValid && invalid && (await hpaLatency()) === undefined ? metrics : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2000, describe: () => hpaSummary('shifts') },
    );
    const event = (await hpaEvents('shifts')).find(
      (e) =>
        e.reason === 'FailedGetPodsMetric' &&
        new Date(e.lastTimestamp ?? e.eventTime ?? 0).getTime() >= stoppedAt.getTime() - 1000,
    );
    log(
      `after ${secs(noticed.ms)}: the latency metric is invalid in the HPA's status; event: ${event ? `${event.reason}: ${event.message?.slice(0, 160)}` : 'none recorded (spam filter)'}`,
    );
    log(`  ${await hpaSummary('shifts')}`);

    const rec = new ReplicaRecorder(['shifts']);
    await sleep(FAIL_SAFE_WINDOW);
    await rec.stop();
    rec.print();
    const seen = rec.values('shifts');
    assert.ok(seen.length > 10);
    assert.ok(
      Math.min(...seen) >= cpuWants,
      `shifts dropped below what CPU asks for (${cpuWants}): ${rec.changes('shifts')}`,
    );
    const scalingActive = (await hpaOf('shifts')).status?.conditions?.find(
      (c) => c.type === 'ScalingActive',
    );
    log(
      `  ScalingActive=${scalingActive?.status} ${scalingActive?.reason}: ${scalingActive?.message}`,
    );
    // Still computing from the metric that works (CPU), not given up.
    assert.equal(scalingActive?.status, 'True');
    assert.equal(await hpaLatency(), undefined, 'no p95 value without Prometheus');
  });
});
