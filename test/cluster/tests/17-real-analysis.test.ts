// 17. Release analysis on real pods: under steady load from this machine to the users Service
//     (2 replicas), `shiftops deploy users 1.3.0-errors` (a real build that fails 10% of its API
//     requests, FAULT=errors:10) is caught by analysis against the cluster's Prometheus, which
//     scrapes the real pods' /metrics (cluster/node/prometheus-sd.ts), and rolled back with one
//     bad pod ever created. Then the same release as a full rollout (--analysis=off) and a
//     rollback by hand right after, under the same load: the failed requests users saw over the
//     same span from the first bad pod Ready, side by side. Leaves users on the good release it
//     found, with the HPA as it was.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  explain,
  getDeployment,
  imageOf,
  log,
  parseJson,
  secs,
  shiftops,
  sleep,
  table,
  waitRolledOut,
  waitUntil,
  type Run,
} from '../lib/cluster.js';
import { PROMETHEUS_URL, query } from '../lib/prometheus.js';
import {
  IMAGE,
  SEED,
  ensureSeed,
  isReady,
  patchHpa,
  podsOf,
  readyEndpoints,
  realNodeOrSkip,
  serviceUrl,
} from '../lib/realnode.js';
import { Traffic, describeTraffic, type TrafficResult } from '../lib/traffic.js';

const SVC = 'users';
const REPLICAS = 2;
const BAD = IMAGE(SVC, '1.3.0-errors');
// 40 requests a second, at most 8 in flight, 2 s timeout each, each run stops by itself after
// 5 minutes: bounded, and enough for the analysis' 100 requests per side in a few seconds.
const LOAD = { rate: 40, concurrency: 8, timeoutMs: 2000, maxMs: 300_000 };

type Counts = ReturnType<Traffic['counts']>;
interface Mark {
  ms: number;
  counts: Counts;
}

/**
 * Samples the pods and the Service's ready endpoints every 250 ms while a release runs: when the
 * first pod of `bad` was Ready, when every ready endpoint was a bad pod (all replicas new), when
 * only good pods served again at full count (old version fully serving), with the load's counts
 * at each moment; and every pod that ever ran `bad`.
 */
class Timeline {
  readonly badPods = new Set<string>();
  firstBadReady: Mark | undefined;
  allBad: Mark | undefined;
  oldFullyServing: Mark | undefined;
  /** the load's counts at every sample */
  readonly samples: Mark[] = [];
  errors = 0;
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly traffic: Traffic,
    private readonly bad: string,
  ) {
    this.timer = setInterval(() => void this.tick(), 250);
  }

  private mark(): Mark {
    return { ms: Date.now() - this.started, counts: this.traffic.counts() };
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const [pods, endpoints] = await Promise.all([podsOf(SVC), readyEndpoints(SVC)]);
      const imageByIp = new Map<string, string>();
      for (const p of pods) {
        const image = p.spec?.containers[0]?.image ?? '';
        if (image === this.bad) this.badPods.add(p.metadata!.name!);
        if (p.status?.podIP) imageByIp.set(p.status.podIP, image);
      }
      const serving = endpoints.map((ip) => imageByIp.get(ip) ?? '?');
      this.samples.push(this.mark());
      const badReady = pods.some((p) => p.spec?.containers[0]?.image === this.bad && isReady(p));
      if (badReady && !this.firstBadReady) this.firstBadReady = this.mark();
      if (this.firstBadReady && !this.allBad && serving.length >= REPLICAS)
        if (serving.every((i) => i === this.bad)) this.allBad = this.mark();
      if (this.firstBadReady && !this.oldFullyServing && !badReady)
        if (serving.length >= REPLICAS && serving.every((i) => i !== this.bad && i !== '?'))
          this.oldFullyServing = this.mark();
    } catch {
      this.errors++; // one missed sample; the next one catches up
    } finally {
      this.busy = false;
    }
  }

  /** ms since the first bad pod was Ready (0 before) */
  elapsed(): number {
    return this.firstBadReady ? Date.now() - this.started - this.firstBadReady.ms : 0;
  }

  /** The first sample at least `ms` after the first bad pod was Ready. */
  at(ms: number): Mark | undefined {
    const first = this.firstBadReady;
    return first && this.samples.find((m) => m.ms >= first.ms + ms);
  }

  /** ms from the first bad pod Ready to `m` */
  since(m: Mark | undefined): number {
    if (!this.firstBadReady || !m) throw new Error('timeline: moment not seen');
    return m.ms - this.firstBadReady.ms;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

const failedBetween = (a: Mark | undefined, b: Mark | undefined) =>
  a && b ? b.counts.failed - a.counts.failed : NaN;
const sentBetween = (a: Mark | undefined, b: Mark | undefined) =>
  a && b ? b.counts.sent - a.counts.sent : NaN;

interface DeployJson {
  outcome: string;
  failure?: { reason: string; message: string };
  analysis?: {
    result: string;
    decidedAfterSeconds?: number;
    new?: { pods: number; requests: number; errors: number; errorRate: number };
    old?: { pods: number; requests: number; errors: number; errorRate: number };
  };
}

/** Only 500s from the bad build: no connection errors, timeouts or other statuses. */
function onlyBadBuildFailures(r: TrafficResult): void {
  assert.deepEqual(r.errors, {}, `connection errors: ${describeTraffic(r)}`);
  for (const code of Object.keys(r.byStatus))
    assert.ok(code === '200' || code === '500', `status ${code}: ${describeTraffic(r)}`);
}

describe('17. release analysis on real pods', realNodeOrSkip(), () => {
  let restoreHpa: (() => Promise<void>) | undefined;
  let good = '';
  let url = '';
  const rows: string[][] = [
    ['release', 'first bad pod Ready -> old version fully serving', 'requests', 'failed', 'note'],
  ];
  // The analysis path's span, for the full rollout to be measured over the same span.
  let analysisSpanMs = 0;
  let analysisFailed = NaN;

  before(async () => {
    await ensureSeed();
    restoreHpa = await patchHpa(SVC, { minReplicas: REPLICAS });
    const d = (await waitRolledOut(SEED, SVC, 120_000)).value;
    good = imageOf(d) ?? '';
    assert.ok(good === IMAGE(SVC, '1.0.0') || good === IMAGE(SVC, '1.1.0'), `starts on ${good}`);
    assert.equal(d.spec?.replicas, REPLICAS);
    url = `${await serviceUrl(SVC)}/v1/users?limit=5`;
  });

  after(async () => {
    try {
      // Whatever happened above, the next suite finds users on the good release, unpaused.
      if (good && (await getDeployment(SEED, SVC)).spec?.paused) {
        const r = await shiftops(['rollback', SVC], { namespace: SEED });
        log(`paused by a failed run: rolled back: ${explain(r)}`);
      }
      if (good && imageOf(await getDeployment(SEED, SVC)) !== good) {
        const tag = good.slice(good.lastIndexOf(':') + 1);
        const r = await shiftops(['deploy', SVC, tag, '--analysis=off'], { namespace: SEED });
        log(`restored ${good}: ${explain(r)}`);
      }
    } finally {
      await restoreHpa?.();
    }
    log(`release analysis on real pods (Prometheus ${PROMETHEUS_URL}):\n${table(rows)}`);
  });

  it("Prometheus scrapes the real users pods' /metrics, per pod", async () => {
    // Series exist from a pod's first API request on; a few seconds of load makes them.
    const warmup = Traffic.start(url, { ...LOAD, maxMs: 60_000 });
    let warm: TrafficResult;
    try {
      // Every ready pod a target that is up, with API requests in its series (2 scrapes).
      const { ms, value: ready } = await waitUntil(
        'every ready users pod in Prometheus with API traffic',
        async () => {
          const ready = (await podsOf(SVC)).filter(isReady).map((p) => p.metadata!.name!);
          const up = await query(`up{job="users", namespace="${SEED}"} == 1`);
          const requests = await query(
            `sum by (pod) (increase(http_request_duration_seconds_count{namespace="${SEED}", pod=~"users-.+", route!~"/livez|/readyz|/metrics"}[1m])) > 0`,
          );
          const has = (v: typeof up, pod: string) => v.some((s) => s.metric.pod === pod);
          return ready.length === REPLICAS &&
            ready.every((pod) => has(up, pod) && has(requests, pod))
            ? ready
            : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 2000 },
      );
      // Targets carry the pod's own labels from the shipped relabelling (job = app name).
      const target = (await query(`up{job="users", pod="${ready[0]}"}`))[0]?.metric;
      assert.equal(target?.namespace, SEED);
      assert.match(target?.instance ?? '', /^10\.244\.0\.\d+:9090$/, 'the pod IP, ops port');
      log(`users pods in Prometheus after ${secs(ms)} of load`);
    } finally {
      warm = await warmup.stop();
    }
    assert.equal(warm.failed, 0, `the good release under load: ${describeTraffic(warm)}`);
  });

  it('catches 1.3.0-errors by analysis and rolls it back, with one bad pod ever created', async () => {
    const traffic = Traffic.start(url, LOAD);
    const timeline = new Timeline(traffic, BAD);
    let result: TrafficResult;
    let r: Run;
    try {
      r = await shiftops(
        ['deploy', SVC, '1.3.0-errors', '--json', '--prometheus-url', PROMETHEUS_URL],
        {
          namespace: SEED,
        },
      );
      await waitUntil('the old version fully serving', async () => timeline.oldFullyServing, {
        timeoutMs: 60_000,
        intervalMs: 250,
      });
      await sleep(2000); // requests in flight at that moment settle
    } finally {
      timeline.stop();
      result = await traffic.stop();
    }
    const out = parseJson<DeployJson>(r);
    assert.equal(r.code, 1, explain(r));
    assert.equal(out.outcome, 'rolled-back');
    assert.equal(out.failure?.reason, 'AnalysisFailed', explain(r));
    assert.match(
      out.failure?.message ?? '',
      /error rate \d+\.\d+% \(\d+\/\d+\) vs \d+\.\d+% \(\d+\/\d+\) on the old pods/,
    );
    assert.equal(out.analysis?.result, 'fail');
    assert.ok((out.analysis?.decidedAfterSeconds ?? 99) <= 60, 'decided within the window');
    assert.equal(out.analysis?.new?.pods, 1);
    assert.equal(out.analysis?.old?.pods, REPLICAS, 'both old pods compared');
    // The build fails exactly every tenth API request; Prometheus' increase() extrapolates.
    assert.ok((out.analysis?.new?.errorRate ?? 0) >= 0.05, JSON.stringify(out.analysis));
    assert.ok((out.analysis?.old?.errorRate ?? 1) <= 0.01, JSON.stringify(out.analysis));
    assert.equal(timeline.badPods.size, 1, `pods that ran ${BAD}: ${[...timeline.badPods]}`);
    assert.equal(imageOf((await waitRolledOut(SEED, SVC)).value), good);

    analysisSpanMs = timeline.since(timeline.oldFullyServing);
    analysisFailed = failedBetween(timeline.firstBadReady, timeline.oldFullyServing);
    const sent = sentBetween(timeline.firstBadReady, timeline.oldFullyServing);
    rows.push([
      '1.3.0-errors, analysis (default)',
      secs(analysisSpanMs),
      String(sent),
      String(analysisFailed),
      `decided after ${out.analysis?.decidedAfterSeconds} s; the bad pod served ${out.analysis?.new?.requests} (Prometheus)`,
    ]);
    log(`analysis path: ${describeTraffic(result)}; timeline samples missed: ${timeline.errors}`);
    onlyBadBuildFailures(result);
    assert.ok(analysisFailed > 0, 'users saw the bad pod (else the load missed it)');
    assert.ok(
      analysisSpanMs <= 75_000,
      `first bad pod Ready -> old fully serving ${secs(analysisSpanMs)}`,
    );
  });

  it('the same release as a full rollout (--analysis=off), rolled back by hand, costs more over the same span', async () => {
    assert.ok(analysisSpanMs > 0, 'needs the analysis path measured first');
    const traffic = Traffic.start(url, LOAD);
    const timeline = new Timeline(traffic, BAD);
    let result: TrafficResult;
    let deploy: Run;
    let rollback: Run;
    try {
      deploy = await shiftops(['deploy', SVC, '1.3.0-errors', '--analysis=off', '--json'], {
        namespace: SEED,
      });
      await waitUntil('every replica on the bad release', async () => timeline.allBad, {
        timeoutMs: 60_000,
        intervalMs: 250,
      });
      // At least as long as the analysis path took from its first bad pod Ready to the old
      // version fully serving, so the same span can be compared.
      await sleep(Math.max(0, analysisSpanMs - timeline.elapsed()) + 500);
      rollback = await shiftops(['rollback', SVC], { namespace: SEED });
      await waitUntil('the old version fully serving', async () => timeline.oldFullyServing, {
        timeoutMs: 90_000,
        intervalMs: 250,
      });
      await sleep(2000);
    } finally {
      timeline.stop();
      result = await traffic.stop();
    }
    const sameSpan = timeline.at(analysisSpanMs);
    assert.equal(deploy.code, 0, explain(deploy));
    assert.equal(parseJson<DeployJson>(deploy).outcome, 'succeeded');
    assert.equal(rollback.code, 0, explain(rollback));
    assert.equal(imageOf((await waitRolledOut(SEED, SVC)).value), good);
    onlyBadBuildFailures(result);

    const toAllBad = timeline.since(timeline.allBad);
    const fullFailed = failedBetween(timeline.firstBadReady, sameSpan);
    rows.push([
      '1.3.0-errors, full rollout (--analysis=off)',
      `(all replicas bad after ${secs(toAllBad)})`,
      String(sentBetween(timeline.firstBadReady, sameSpan)),
      String(fullFailed),
      `over the same ${secs(analysisSpanMs)} from the first bad pod Ready`,
    ]);
    rows.push([
      '  ... then `shiftops rollback` at once',
      secs(timeline.since(timeline.oldFullyServing)),
      String(sentBetween(timeline.firstBadReady, timeline.oldFullyServing)),
      String(failedBetween(timeline.firstBadReady, timeline.oldFullyServing)),
      `${result.failed} failed of ${result.sent} in the whole run; without a rollback 10% of all requests keep failing`,
    ]);
    log(
      `full rollout path: ${describeTraffic(result)}; timeline samples missed: ${timeline.errors}`,
    );
    assert.ok(
      fullFailed > analysisFailed,
      `full rollout ${fullFailed} failed vs analysis ${analysisFailed} over ${secs(analysisSpanMs)}`,
    );
  });
});
