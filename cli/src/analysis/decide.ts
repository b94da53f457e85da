// The analysis decision: is the new pod worse than the old pods, on the same traffic in the same
// window? Pure: counts in, a verdict with its numbers out. docs/cli.md ("Release analysis")
// explains the tests and gives the false-positive rate measured by test/analysis-simulation.test.ts.
import {
  bucketTotal,
  countAbove,
  fisherOneSided,
  histogramQuantile,
  quantileBucketBound,
  type Bucket,
} from './stats.js';

/** What one group of pods (the new ReplicaSet's, or all older ones) served in the window. */
export interface GroupCounts {
  pods: number;
  requests: number;
  /** 5xx responses. */
  errors: number;
  /** Cumulative, normalized (stats.normalizeBuckets), with a +Inf bucket. */
  buckets: Bucket[];
}

export interface Thresholds {
  /** Fail only if the new error rate exceeds the old one by more than this (0.01 = 1 point). */
  maxErrorIncrease: number;
  /** Fail only if new p95 / old p95 exceeds this. */
  maxP95Ratio: number;
  /** ... and new p95 - old p95 exceeds this many seconds (bucket-resolution noise is not a regression). */
  minP95IncreaseSeconds: number;
  /** Each group needs this many requests before anything is concluded. */
  minRequests: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  maxErrorIncrease: 0.01,
  maxP95Ratio: 1.5,
  minP95IncreaseSeconds: 0.025,
  minRequests: 100,
};

/** Probability of a false rollback per deploy that the tests are sized for (before thresholds). */
export const FALSE_FAIL_BUDGET = 0.01;

export interface GroupSummary {
  pods: number;
  requests: number;
  errors: number;
  errorRate: number;
  /** Seconds; null without requests. */
  p95: number | null;
  /** Requests slower than the latency bound. */
  slow: number;
}

export interface Evidence {
  new: GroupSummary;
  old: GroupSummary;
  /** One-sided Fisher p-values. */
  errorPValue: number;
  latencyPValue: number;
  /** The bucket bound (s) above which requests count as slow: the one holding the old p95. */
  latencyBound: number | null;
  /** The significance level each test was held to at this check. */
  alpha: number;
}

export type CheckVerdict =
  | { verdict: 'fail'; reasons: string[]; evidence: Evidence }
  | { verdict: 'pass'; evidence: Evidence }
  /** Not enough requests yet (final check: too little traffic). */
  | { verdict: 'inconclusive'; reason: string; evidence: Evidence }
  /** Nothing conclusive yet; look again at the next check. */
  | { verdict: 'continue'; evidence: Evidence };

function rate(bad: number, total: number): number {
  return total > 0 ? bad / total : 0;
}

export function percent(x: number): string {
  return `${(x * 100).toFixed(x !== 0 && x < 0.001 ? 3 : x < 0.1 ? 2 : 1)}%`;
}

export function ms(seconds: number | null): string {
  return seconds === null ? 'n/a' : `${Math.round(seconds * 1000)}ms`;
}

/**
 * The significance level of each test at each check: the false-fail budget split over the two
 * metrics and every check of the window (Bonferroni), so looking early and often cannot raise
 * the false rollback probability above the budget.
 */
export function alphaPerTest(checks: number, budget = FALSE_FAIL_BUDGET): number {
  return budget / (2 * Math.max(1, checks));
}

/**
 * One check. A metric fails only when both hold: the difference is larger than its threshold
 * (it matters) and Fisher's test rejects "no worse" at `alpha` (it is not noise). The final check
 * passes what did not fail, or says there was too little traffic.
 */
export function decideCheck(o: {
  new: GroupCounts;
  old: GroupCounts;
  thresholds: Thresholds;
  alpha: number;
  final: boolean;
}): CheckVerdict {
  const t = o.thresholds;
  const latencyBound = quantileBucketBound(0.95, o.old.buckets) ?? null;
  const summary = (g: GroupCounts): GroupSummary => {
    const p95 = histogramQuantile(0.95, g.buckets);
    return {
      pods: g.pods,
      requests: g.requests,
      errors: g.errors,
      errorRate: rate(g.errors, g.requests),
      p95: Number.isNaN(p95) ? null : p95,
      slow: latencyBound === null ? 0 : countAbove(latencyBound, g.buckets),
    };
  };
  const n = summary(o.new);
  const old = summary(o.old);
  const errorPValue = fisherOneSided(n.errors, n.requests, old.errors, old.requests);
  const latencyPValue =
    latencyBound === null
      ? 1
      : fisherOneSided(n.slow, bucketTotal(o.new.buckets), old.slow, bucketTotal(o.old.buckets));
  const evidence: Evidence = {
    new: n,
    old,
    errorPValue,
    latencyPValue,
    latencyBound,
    alpha: o.alpha,
  };

  const short = [
    ...(n.requests < t.minRequests ? [`new pods ${n.requests}`] : []),
    ...(old.requests < t.minRequests ? [`old pods ${old.requests}`] : []),
  ];
  if (short.length > 0) {
    if (!o.final) return { verdict: 'continue', evidence };
    return {
      verdict: 'inconclusive',
      reason: `too little traffic to judge: ${short.join(', ')} requests (need ${t.minRequests} each)`,
      evidence,
    };
  }

  const reasons: string[] = [];
  if (n.errorRate - old.errorRate > t.maxErrorIncrease && errorPValue < o.alpha) {
    reasons.push(
      `error rate ${percent(n.errorRate)} (${n.errors}/${n.requests}) vs ${percent(old.errorRate)} (${old.errors}/${old.requests}) on the old pods`,
    );
  }
  if (
    n.p95 !== null &&
    old.p95 !== null &&
    n.p95 > old.p95 * t.maxP95Ratio &&
    n.p95 - old.p95 > t.minP95IncreaseSeconds &&
    latencyPValue < o.alpha
  ) {
    reasons.push(
      `p95 ${ms(n.p95)} (${bucketTotal(o.new.buckets)} requests, ${n.slow} over ${ms(latencyBound)}) vs ${ms(old.p95)} (${bucketTotal(o.old.buckets)} requests, ${old.slow} over) on the old pods`,
    );
  }
  if (reasons.length > 0) return { verdict: 'fail', reasons, evidence };
  return o.final ? { verdict: 'pass', evidence } : { verdict: 'continue', evidence };
}

export const CHECK_INTERVAL_SECONDS = 15;
/** Two scrapes (15 s apart) of the new pod before the first look. */
export const FIRST_CHECK_SECONDS = 30;

/** Seconds after the first new pod turned Ready at which to look: every 15 s from 30 s, and at the end. */
export function checkTimes(windowSeconds: number): number[] {
  const times: number[] = [];
  for (let t = FIRST_CHECK_SECONDS; t < windowSeconds; t += CHECK_INTERVAL_SECONDS) times.push(t);
  times.push(windowSeconds);
  return times;
}
