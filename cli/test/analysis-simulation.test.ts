// Simulated analysis windows: how often a good release is rolled back (false positives) and how
// often a bad one gets through (misses), with the exact checks, thresholds and significance
// levels the CLI uses. The figures are printed and quoted in docs/cli.md.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_THRESHOLDS,
  alphaPerTest,
  checkTimes,
  decideCheck,
  type GroupCounts,
} from '../src/analysis/decide.js';
import { BOUNDS, bucketIndex, cumulative, group, TYPICAL } from './analysis-fixtures.js';

/** mulberry32: a small seeded PRNG, so every run simulates the same windows. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const normal = (r: Rand) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
function poisson(r: Rand, lambda: number): number {
  if (lambda > 50) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(r)));
  let k = 0;
  let p = Math.exp(-lambda);
  let s = p;
  const u = r();
  while (u > s) {
    k++;
    p *= lambda / k;
    s += p;
  }
  return k;
}

interface Pod {
  errorRate: number;
  /** Median latency, seconds; requests are log-normal around it. */
  median: number;
  counts: { requests: number; errors: number; perBucket: number[] };
}

const LATENCY_SIGMA = 0.6;

function makePod(r: Rand, baseError: number, baseMedian: number, podNoise: number): Pod {
  // Pods of one release are not identical: each gets its own error rate and speed around the
  // release's (noise beyond the binomial one: a busier node, a colder cache). podNoise is the
  // log-normal sigma of the error rate between pods; the speed varies by a quarter of it.
  return {
    errorRate: Math.min(1, baseError * Math.exp(podNoise * normal(r))),
    median: baseMedian * Math.exp((podNoise / 4) * normal(r)),
    counts: { requests: 0, errors: 0, perBucket: BOUNDS.map(() => 0) },
  };
}

function serve(r: Rand, pod: Pod, requests: number) {
  for (let i = 0; i < requests; i++) {
    pod.counts.requests++;
    if (r() < pod.errorRate) pod.counts.errors++;
    const latency = pod.median * Math.exp(LATENCY_SIGMA * normal(r));
    pod.counts.perBucket[bucketIndex(latency)]!++;
  }
}

function groupOf(pods: readonly Pod[]): GroupCounts {
  const per = BOUNDS.map((_, i) => pods.reduce((s, p) => s + p.counts.perBucket[i]!, 0));
  return {
    pods: pods.length,
    requests: pods.reduce((s, p) => s + p.counts.requests, 0),
    errors: pods.reduce((s, p) => s + p.counts.errors, 0),
    buckets: cumulative(per),
  };
}

type Regression = { errorIncrease?: number; latencyFactor?: number };
const POD_NOISE = 0.2;

/** One window, checked as the CLI checks it; the verdict and when it came. */
function simulateWindow(r: Rand, regression: Regression, podNoise: number, windowSeconds = 60) {
  const oldCount = 1 + Math.floor(r() * 4);
  const rps = 15 + r() * 45;
  const baseError = [0, 0.001, 0.005, 0.02][Math.floor(r() * 4)]!;
  const median = 0.02 + r() * 0.06;
  const old = Array.from({ length: oldCount }, () => makePod(r, baseError, median, podNoise));
  const fresh = makePod(r, baseError, median, podNoise);
  fresh.errorRate = Math.min(1, fresh.errorRate + (regression.errorIncrease ?? 0));
  fresh.median *= regression.latencyFactor ?? 1;
  const times = checkTimes(windowSeconds);
  const alpha = alphaPerTest(times.length);
  let t = 0;
  for (const [i, at] of times.entries()) {
    // The Service spreads requests evenly over the Ready pods, new and old alike.
    const perPod = (rps * (at - t)) / (oldCount + 1);
    for (const p of [...old, fresh]) serve(r, p, poisson(r, perPod));
    t = at;
    const v = decideCheck({
      new: groupOf([fresh]),
      old: groupOf(old),
      thresholds: DEFAULT_THRESHOLDS,
      alpha,
      final: i === times.length - 1,
    });
    if (v.verdict !== 'continue') return { verdict: v.verdict, at };
  }
  throw new Error('the final check must decide');
}

function run(seed: number, windows: number, regression: Regression, podNoise = POD_NOISE) {
  const r = rng(seed);
  const tally = { pass: 0, fail: 0, inconclusive: 0 };
  const failAt: number[] = [];
  for (let i = 0; i < windows; i++) {
    const { verdict, at } = simulateWindow(r, regression, podNoise);
    tally[verdict as keyof typeof tally]++;
    if (verdict === 'fail') failAt.push(at);
  }
  failAt.sort((a, b) => a - b);
  return { ...tally, windows, medianFailAt: failAt[Math.floor(failAt.length / 2)] ?? null };
}

const pct = (x: number, n: number) => `${((100 * x) / n).toFixed(2)}%`;

describe('analysis over simulated windows (60 s, default thresholds, 15-60 req/s over 2-5 pods)', () => {
  // [pod-to-pod noise sigma, windows, largest false positive rate accepted]
  const noise: Array<[number, number, number]> = [
    [0, 3000, 0.01],
    [POD_NOISE, 3000, 0.01],
    [0.3, 2000, 0.02],
  ];
  for (const [sigma, windows, maxRate] of noise) {
    it(`rolls back few good releases with pod-to-pod noise sigma ${sigma} (rate printed)`, () => {
      const good = run(1, windows, {}, sigma);
      console.log(
        `good releases, pod noise ${sigma}: ${good.windows} windows, false rollbacks ${good.fail} (${pct(good.fail, good.windows)}), inconclusive ${good.inconclusive}`,
      );
      assert.equal(good.inconclusive, 0, 'every simulated window has enough traffic');
      assert.ok(
        good.fail / good.windows <= maxRate,
        `false positive rate ${pct(good.fail, good.windows)}`,
      );
    });
  }

  const regressions: Array<[string, Regression, number]> = [
    // [name, regression, largest miss rate accepted]
    ['new pod fails 10% more requests', { errorIncrease: 0.1 }, 0.01],
    ['new pod p95 3x', { latencyFactor: 3 }, 0.01],
    ['new pod fails 3% more requests', { errorIncrease: 0.03 }, 0.5],
    ['new pod p95 2x', { latencyFactor: 2 }, 0.5],
  ];
  for (const [name, regression, maxMiss] of regressions) {
    it(`catches: ${name} (miss rate printed)`, () => {
      const bad = run(2, 1000, regression);
      const missed = bad.pass + bad.inconclusive;
      console.log(
        `${name}: ${bad.windows} windows, missed ${missed} (${pct(missed, bad.windows)}), median decision at ${bad.medianFailAt}s after Ready`,
      );
      assert.ok(missed / bad.windows <= maxMiss, `miss rate ${pct(missed, bad.windows)}`);
    });
  }
});

describe('analysis properties', () => {
  it('more errors on the new pod never turn a failure into a pass', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 5000 }),
        fc.integer({ min: 100, max: 20000 }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.integer({ min: 1, max: 200 }),
        (nReq, oReq, nRate, oRate, more) => {
          const nErr = Math.round(nReq * nRate);
          const oErr = Math.round(oReq * oRate);
          const d = (errors: number) =>
            decideCheck({
              new: group({ requests: nReq, errors: Math.min(nReq, errors), latencies: TYPICAL }),
              old: group({ pods: 3, requests: oReq, errors: oErr, latencies: TYPICAL }),
              thresholds: DEFAULT_THRESHOLDS,
              alpha: alphaPerTest(3),
              final: true,
            }).verdict;
          return d(nErr) !== 'fail' || d(nErr + more) === 'fail';
        },
      ),
    );
  });

  it('a new pod identical to the old pods never fails', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20000 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.integer({ min: 1, max: 6 }),
        (requests, rate, pods) => {
          const errors = Math.round(requests * rate);
          const v = decideCheck({
            new: group({ requests, errors, latencies: TYPICAL }),
            old: group({
              pods,
              requests: requests * pods,
              errors: errors * pods,
              latencies: TYPICAL,
            }),
            thresholds: DEFAULT_THRESHOLDS,
            alpha: alphaPerTest(3),
            final: true,
          });
          return v.verdict !== 'fail';
        },
      ),
    );
  });
});
