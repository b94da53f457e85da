// 17. Release analysis on real pods, the default way: the CLI reaches Prometheus through the API
//     server's service proxy (`prometheus:9090` in the namespace, lib/prometheus-service.ts puts
//     the cluster's Prometheus behind it) as the developers' identity (dev-alice), with no
//     --prometheus-url. Under steady load from this machine to the users Service (2 replicas):
//     a good release passes analysis with request counts on both sides; `shiftops deploy users
//     1.3.0-errors` (a real build that fails 10% of its API requests, FAULT=errors:10) is caught by
//     analysis, Prometheus scraping the real pods' /metrics (cluster/node/prometheus-sd.ts), and
//     rolled back with one bad pod ever created. dev-alice can proxy to that one Service only. Then
//     the same release as a full rollout (--analysis=off) and a rollback by hand right after,
//     under the same load: the failed requests users saw over the same span from the first bad pod
//     Ready, side by side. Leaves users on a good release, with the HPA as it was, and no
//     `prometheus` Service (the other suites run without one).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  core,
  explain,
  getDeployment,
  imageOf,
  kubectl,
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
import { developerKubeconfig } from '../lib/developer.js';
import { PROMETHEUS_URL, query } from '../lib/prometheus.js';
import {
  exposePrometheus,
  proxyQueryPath,
  type ExposedPrometheus,
} from '../lib/prometheus-service.js';
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

interface AnalysisJson {
  result: string;
  mode?: string;
  action?: string;
  decidedAfterSeconds?: number;
  new?: { pods: number; requests: number; errors: number; errorRate: number };
  old?: { pods: number; requests: number; errors: number; errorRate: number };
}

interface HistoryJson {
  revisions: { revision: number; image: string; live: boolean; analysis?: AnalysisJson }[];
}

interface DeployJson {
  outcome: string;
  failure?: { reason: string; message: string };
  analysis?: AnalysisJson;
}

/** The lines of a deploy's human output about where Prometheus was asked and what it said. */
const prometheusLines = (r: Run) =>
  `${r.stdout}\n${r.stderr}`
    .split('\n')
    .filter((l) => /Prometheus|analysis/.test(l))
    .join('\n');

/** Only 500s from the bad build: no connection errors, timeouts or other statuses. */
function onlyBadBuildFailures(r: TrafficResult): void {
  assert.deepEqual(r.errors, {}, `connection errors: ${describeTraffic(r)}`);
  for (const code of Object.keys(r.byStatus))
    assert.ok(code === '200' || code === '500', `status ${code}: ${describeTraffic(r)}`);
}

describe('17. release analysis on real pods', realNodeOrSkip(), () => {
  let restoreHpa: (() => Promise<void>) | undefined;
  let exposed: ExposedPrometheus | undefined;
  let dev = '';
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
    dev = developerKubeconfig();
    // The relay pod runs the image users runs now: one the real node has.
    exposed = await exposePrometheus(SEED, good);
    log(
      `Prometheus as service ${SEED}/${exposed.proxyName}: relay pod ${exposed.relayPodIp} -> ${exposed.forwarder.host}:${exposed.forwarder.port} -> ${PROMETHEUS_URL}`,
    );
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
      try {
        await restoreHpa?.();
      } finally {
        const stats = exposed?.forwarder.stats;
        await exposed?.remove();
        if (exposed) log(`service ${SEED}/prometheus removed; forwarder ${JSON.stringify(stats)}`);
      }
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

  it('dev-alice deploys a good release with no --prometheus-url: analysed through the service proxy, passed with request counts', async () => {
    assert.ok(exposed);
    const other = good === IMAGE(SVC, '1.0.0') ? '1.1.0' : '1.0.0';
    const bytesBefore = exposed.forwarder.stats.bytesBack;
    const traffic = Traffic.start(url, LOAD);
    let r: Run;
    let result: TrafficResult;
    try {
      r = await shiftops(['deploy', SVC, other], { kubeconfig: dev, namespace: SEED });
    } finally {
      result = await traffic.stop();
    }
    log(`service-proxy path, good release ${other}:\n${prometheusLines(r)}`);
    assert.equal(r.code, 0, explain(r));
    assert.match(
      r.stdout,
      /Prometheus: service 7shifts\/prometheus:9090 \(through the API server's service proxy\)/,
      explain(r),
    );
    assert.match(r.stdout, /analysis passed after \d+s/, explain(r));
    assert.ok(
      exposed.forwarder.stats.bytesBack > bytesBefore,
      `Prometheus' answers came back through the relay: ${JSON.stringify(exposed.forwarder.stats)}`,
    );
    good = IMAGE(SVC, other);
    assert.equal(imageOf((await waitRolledOut(SEED, SVC)).value), good);
    // The old pods gone, not only terminating, before the next release: a pod Prometheus still
    // scrapes inside that release's analysis range would count as one more old pod.
    await waitUntil(
      `only pods of ${good} left`,
      async () => {
        const pods = await podsOf(SVC);
        return pods.length > 0 && pods.every((p) => p.spec?.containers[0]?.image === good);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );

    const h = await shiftops(['history', SVC, '--json'], { kubeconfig: dev, namespace: SEED });
    assert.equal(h.code, 0, explain(h));
    const live = parseJson<HistoryJson>(h).revisions.find((x) => x.live);
    assert.equal(live?.image, good, h.stdout);
    const a = live?.analysis;
    assert.equal(a?.result, 'pass', JSON.stringify(a));
    assert.equal(a?.mode, 'auto');
    assert.equal(a?.action, 'resumed');
    assert.equal(a?.new?.pods, 1, JSON.stringify(a));
    assert.equal(a?.old?.pods, REPLICAS, JSON.stringify(a));
    // The analysis' minimum (100 requests per side) was met, from Prometheus' per-pod counts.
    assert.ok((a?.new?.requests ?? 0) >= 100, JSON.stringify(a));
    assert.ok((a?.old?.requests ?? 0) >= 100, JSON.stringify(a));
    log(
      `history: revision ${live?.revision} ${good}: analysis ${a?.result} after ${a?.decidedAfterSeconds} s, new ${a?.new?.requests} req (${a?.new?.errors} errors), old ${a?.old?.requests} req (${a?.old?.errors} errors); load ${describeTraffic(result)}`,
    );
  });

  it('dev-alice may GET through the proxy of the Prometheus Service only: users is Forbidden', async () => {
    assert.ok(exposed);
    const asDev = (path: string) => kubectl(['get', '--raw', path], { kubeconfig: dev });
    const ok = await asDev(proxyQueryPath(SEED, exposed.proxyName, 'vector(1)'));
    assert.equal(ok.code, 0, explain(ok));
    assert.match(ok.stdout, /"status":"success"/);

    const port = (await core().readNamespacedService({ name: SVC, namespace: SEED })).spec
      ?.ports?.[0]?.port;
    const usersPath = `/api/v1/namespaces/${SEED}/services/${SVC}:${port}/proxy/openapi.json`;
    // The admin gets through: the Service has a proxy to refuse.
    const admin = await kubectl(['get', '--raw', usersPath]);
    assert.equal(admin.code, 0, explain(admin));
    assert.match(admin.stdout, /"openapi":"3\./);
    const denied = await asDev(usersPath);
    assert.equal(denied.code, 1, explain(denied));
    const forbidden = (name: string) =>
      new RegExp(
        `\\(Forbidden\\).*services "${name}" is forbidden: User "dev-alice" cannot get resource "services/proxy" in API group "" in the namespace "${SEED}"`,
      );
    assert.match(denied.stderr, forbidden(`${SVC}:${port}`), explain(denied));
    // The grant names the proxy path's exact `name:port`: the same Service by another name is not in it.
    const other = await asDev(proxyQueryPath(SEED, 'prometheus', 'vector(1)'));
    assert.equal(other.code, 1, explain(other));
    assert.match(other.stderr, forbidden('prometheus'), explain(other));
    log(
      `dev-alice through the service proxy: ${exposed.proxyName} allowed; ${denied.stderr.trim()}`,
    );
  });

  it('catches 1.3.0-errors by analysis through the service proxy and rolls it back, with one bad pod ever created', async () => {
    assert.ok(exposed);
    let bytesBefore = 0;
    const traffic = Traffic.start(url, LOAD);
    const timeline = new Timeline(traffic, BAD);
    let result: TrafficResult;
    let r: Run;
    try {
      // As dev-alice, with no --prometheus-url: through the service proxy, like the good release.
      bytesBefore = exposed.forwarder.stats.bytesBack;
      r = await shiftops(['deploy', SVC, '1.3.0-errors', '--json'], {
        kubeconfig: dev,
        namespace: SEED,
      });
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
    assert.ok(
      exposed.forwarder.stats.bytesBack > bytesBefore,
      `Prometheus' answers came back through the relay: ${JSON.stringify(exposed.forwarder.stats)}`,
    );
    const h = await shiftops(['history', SVC, '--json'], { kubeconfig: dev, namespace: SEED });
    const bad = parseJson<HistoryJson>(h)
      .revisions.filter((x) => x.image === BAD)
      .at(-1);
    assert.equal(bad?.analysis?.result, 'fail', h.stdout);
    assert.equal(bad?.analysis?.action, 'rolled-back', h.stdout);
    log(
      `service-proxy path, 1.3.0-errors: ${out.failure?.message}; history: revision ${bad?.revision} analysis ${bad?.analysis?.result}, ${bad?.analysis?.action}`,
    );

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
