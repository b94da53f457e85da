import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  countAbove,
  fisherOneSided,
  histogramQuantile,
  hypergeometricUpperTail,
  normalizeBuckets,
  quantileBucketBound,
} from '../src/analysis/stats.js';

/** Exact tail by direct summation of binomial coefficients (BigInt), for small tables. */
function bruteUpperTail(x: number, N: number, K: number, n: number): number {
  const choose = (a: number, b: number): bigint => {
    if (b < 0 || b > a) return 0n;
    let r = 1n;
    for (let i = 0; i < b; i++) r = (r * BigInt(a - i)) / BigInt(i + 1);
    return r;
  };
  let num = 0n;
  for (let i = Math.max(x, 0); i <= Math.min(K, n); i++) num += choose(K, i) * choose(N - K, n - i);
  return Number((num * 10n ** 15n) / choose(N, n)) / 1e15;
}

describe("Fisher's exact test", () => {
  it("gives Fisher's tea-tasting p-value (3 of 4 right: 17/70)", () => {
    assert.ok(Math.abs(fisherOneSided(3, 4, 1, 4) - 17 / 70) < 1e-12);
  });

  it('matches exact summation on every table up to 12 x 12', () => {
    for (let n1 = 1; n1 <= 12; n1++)
      for (let n2 = 1; n2 <= 12; n2++)
        for (let b1 = 0; b1 <= n1; b1++)
          for (let b2 = 0; b2 <= n2; b2++) {
            const p = fisherOneSided(b1, n1, b2, n2);
            const exact = bruteUpperTail(b1, n1 + n2, b1 + b2, n1);
            assert.ok(Math.abs(p - exact) < 1e-9, `${b1}/${n1} vs ${b2}/${n2}: ${p} != ${exact}`);
          }
  });

  it('stays accurate in both tails at production counts', () => {
    // 60 errors in 600 on the new pod vs 2 in 1800: far in the upper tail, yet not 0.
    const tiny = fisherOneSided(60, 600, 2, 1800);
    assert.ok(tiny > 0 && tiny < 1e-30, String(tiny));
    // Fewer errors on the new pod than its share: p close to 1.
    assert.ok(fisherOneSided(0, 600, 20, 1800) > 0.99);
    assert.equal(hypergeometricUpperTail(0, 1000, 10, 100), 1);
    assert.equal(hypergeometricUpperTail(11, 1000, 10, 100), 0);
    const exact = bruteUpperTail(5, 400, 12, 100);
    assert.ok(Math.abs(hypergeometricUpperTail(5, 400, 12, 100) - exact) < 1e-9);
  });

  it('is monotonic: more bad requests on the new pod never makes it look better', () => {
    let last = 1;
    for (let bad = 0; bad <= 50; bad++) {
      const p = fisherOneSided(bad, 500, 5, 1500);
      assert.ok(p <= last + 1e-15, `bad=${bad}`);
      last = p;
    }
  });
});

describe("histogram_quantile (Prometheus' algorithm)", () => {
  const b = normalizeBuckets([
    { le: 0.05, count: 50 },
    { le: 0.1, count: 90 },
    { le: 0.2, count: 100 },
    { le: Infinity, count: 100 },
  ]);

  it('interpolates linearly inside the bucket holding the rank', () => {
    // rank 95 lies in (0.1, 0.2] holding 10 requests, 5 of them below the rank: 0.1 + 0.1 * 0.5.
    assert.ok(Math.abs(histogramQuantile(0.95, b) - 0.15) < 1e-12);
    assert.ok(Math.abs(histogramQuantile(0.5, b) - 0.05) < 1e-12);
    // The first bucket starts at 0.
    assert.ok(Math.abs(histogramQuantile(0.25, b) - 0.025) < 1e-12);
  });

  it('returns the highest finite bound for a rank in +Inf, and NaN without requests', () => {
    const slow = normalizeBuckets([
      { le: 0.1, count: 10 },
      { le: Infinity, count: 100 },
    ]);
    assert.equal(histogramQuantile(0.95, slow), 0.1);
    assert.ok(Number.isNaN(histogramQuantile(0.95, [{ le: Infinity, count: 0 }])));
  });

  it('makes increase() output integer and monotonic, like Prometheus does', () => {
    assert.deepEqual(
      normalizeBuckets([
        { le: Infinity, count: 99.6 },
        { le: 0.1, count: 60.4 },
        { le: 0.05, count: 61.2 },
      ]),
      [
        { le: 0.05, count: 61 },
        { le: 0.1, count: 61 },
        { le: Infinity, count: 100 },
      ],
    );
  });

  it('finds the bound of the p95 bucket and counts the requests above it', () => {
    assert.equal(quantileBucketBound(0.95, b), 0.2);
    assert.equal(quantileBucketBound(0.9, b), 0.1);
    assert.equal(countAbove(0.1, b), 10);
    assert.equal(
      quantileBucketBound(
        0.95,
        normalizeBuckets([
          { le: 0.1, count: 1 },
          { le: Infinity, count: 100 },
        ]),
      ),
      undefined,
    );
  });
});
