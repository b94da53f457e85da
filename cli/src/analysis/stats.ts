// The statistics of release analysis: Fisher's exact test for "the new pods' share of bad requests
// is higher than the old pods'", and Prometheus' histogram_quantile on bucket counts. Pure.
// Fisher rather than a z-test: error counts in a one-minute window are small (often 0 to 5), where
// the normal approximation of a two-proportion z-test is wrong, and Fisher is exact at any count.
import { gammaln } from 'simple-statistics';

function logChoose(n: number, k: number): number {
  return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);
}

/** P(X = x) for X ~ Hypergeometric(population, successes, draws), in log space. */
function logPmf(x: number, population: number, successes: number, draws: number): number {
  return (
    logChoose(successes, x) +
    logChoose(population - successes, draws - x) -
    logChoose(population, draws)
  );
}

/**
 * P(X >= x) for X ~ Hypergeometric(population, successes, draws). Sums the pmf away from the
 * bulk of the distribution by the ratio recurrence, so neither tail underflows before it matters.
 */
export function hypergeometricUpperTail(
  x: number,
  population: number,
  successes: number,
  draws: number,
): number {
  const lo = Math.max(0, draws - (population - successes));
  const hi = Math.min(successes, draws);
  if (x <= lo) return 1;
  if (x > hi) return 0;
  const mean = (draws * successes) / population;
  const failures = population - successes;
  if (x > mean) {
    // Upper tail: terms shrink as i grows beyond the mode.
    let term = Math.exp(logPmf(x, population, successes, draws));
    let sum = term;
    for (let i = x; i < hi && term > sum * 1e-17; i++) {
      term *= ((successes - i) * (draws - i)) / ((i + 1) * (failures - draws + i + 1));
      sum += term;
    }
    return Math.min(1, sum);
  }
  // x at or below the mean: 1 - P(X <= x - 1), summing downwards from x - 1.
  let term = Math.exp(logPmf(x - 1, population, successes, draws));
  let sum = term;
  for (let i = x - 1; i > lo && term > sum * 1e-17; i--) {
    term *= (i * (failures - draws + i)) / ((successes - i + 1) * (draws - i + 1));
    sum += term;
  }
  return Math.max(0, 1 - sum);
}

/**
 * One-sided Fisher's exact test: the p-value of seeing at least `newBad` bad requests among the
 * new pods' `newTotal`, if bad requests were spread over both groups without regard to version
 * (H0: the new pods are no worse). Small p = the new pods are worse.
 */
export function fisherOneSided(
  newBad: number,
  newTotal: number,
  oldBad: number,
  oldTotal: number,
): number {
  return hypergeometricUpperTail(newBad, newTotal + oldTotal, newBad + oldBad, newTotal);
}

/** One cumulative histogram bucket: requests at or below `le` seconds. */
export interface Bucket {
  le: number;
  count: number;
}

/**
 * Buckets sorted by `le`, counts made integer and monotonic. Counts come from PromQL increase(),
 * which extrapolates and so can be fractional and, between buckets, slightly non-monotonic
 * (Prometheus' histogram_quantile fixes the latter the same way).
 */
export function normalizeBuckets(buckets: readonly Bucket[]): Bucket[] {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  let max = 0;
  return sorted.map((b) => {
    max = Math.max(max, Math.round(b.count));
    return { le: b.le, count: max };
  });
}

/** Requests in the +Inf bucket, i.e. all of them (0 without a +Inf bucket). */
export function bucketTotal(buckets: readonly Bucket[]): number {
  const inf = buckets.find((b) => b.le === Infinity);
  return inf ? inf.count : 0;
}

/**
 * Prometheus' histogram_quantile: find the bucket holding rank q*total and interpolate linearly
 * inside it (the lowest bucket starts at 0; a rank in the +Inf bucket returns the highest finite
 * bound). NaN without requests. Buckets must be normalized.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number {
  const total = bucketTotal(buckets);
  if (total <= 0 || buckets.length < 2) return NaN;
  const rank = q * total;
  let i = buckets.findIndex((b) => b.count >= rank);
  if (i < 0) i = buckets.length - 1;
  const b = buckets[i]!;
  if (b.le === Infinity) return buckets[buckets.length - 2]!.le;
  const start = i === 0 ? 0 : buckets[i - 1]!.le;
  const below = i === 0 ? 0 : buckets[i - 1]!.count;
  if (i === 0 && b.le <= 0) return b.le;
  const inBucket = b.count - below;
  return inBucket <= 0 ? b.le : start + (b.le - start) * ((rank - below) / inBucket);
}

/**
 * The upper bound of the bucket holding the q-quantile: the latency the share of slow requests is
 * counted above. undefined when that bucket is +Inf (nothing finite to compare against).
 */
export function quantileBucketBound(q: number, buckets: readonly Bucket[]): number | undefined {
  const total = bucketTotal(buckets);
  if (total <= 0) return undefined;
  const b = buckets.find((x) => x.count >= q * total);
  return b && b.le !== Infinity ? b.le : undefined;
}

/** Requests slower than `le` (which must be one of the bounds). */
export function countAbove(le: number, buckets: readonly Bucket[]): number {
  const at = buckets.find((b) => b.le === le);
  return bucketTotal(buckets) - (at?.count ?? 0);
}
