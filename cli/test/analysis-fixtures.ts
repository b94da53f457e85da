// Request counts for analysis tests: latencies binned into the services' real histogram buckets.
import { DURATION_BUCKETS } from '../../packages/service-kit/src/http/metrics.js';
import type { GroupCounts } from '../src/analysis/decide.js';
import { normalizeBuckets } from '../src/analysis/stats.js';

export const BOUNDS = [...DURATION_BUCKETS, Infinity];

/** Cumulative buckets from per-bucket request counts (index = bucket, as in BOUNDS). */
export function cumulative(perBucket: readonly number[]) {
  let sum = 0;
  return normalizeBuckets(BOUNDS.map((le, i) => ({ le, count: (sum += perBucket[i] ?? 0) })));
}

export function bucketIndex(seconds: number): number {
  return BOUNDS.findIndex((le) => seconds <= le);
}

/** A group whose requests took the given latencies, `share` of them each (shares sum to 1). */
export function group(o: {
  pods?: number;
  requests: number;
  errors: number;
  latencies: ReadonlyArray<readonly [seconds: number, share: number]>;
}): GroupCounts {
  const per = BOUNDS.map(() => 0);
  let left = o.requests;
  o.latencies.forEach(([s, share], i) => {
    const n = i === o.latencies.length - 1 ? left : Math.round(o.requests * share);
    per[bucketIndex(s)]! += n;
    left -= n;
  });
  return { pods: o.pods ?? 1, requests: o.requests, errors: o.errors, buckets: cumulative(per) };
}

/** A typical API latency mix: p95 around 90 ms. */
export const TYPICAL: ReadonlyArray<readonly [number, number]> = [
  [0.02, 0.3],
  [0.04, 0.4],
  [0.08, 0.24],
  [0.15, 0.05],
  [0.4, 0.01],
];

export function slower(mix: ReadonlyArray<readonly [number, number]>, factor: number) {
  return mix.map(([s, share]) => [s * factor, share] as const);
}
