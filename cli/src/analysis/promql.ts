// The PromQL of release analysis and the grouping of its per-pod answers into "new" and "old".
// Pure: the Prometheus client (kube/prometheus.ts) sends the strings and hands back the vectors.
// Everything is queried per pod and grouped here by the pod's ReplicaSet, so pods the HPA adds
// or removes during the window land in the right group, and a group's rate is its pods' requests,
// not a share of a total.
import { normalizeBuckets, type Bucket } from './stats.js';
import type { GroupCounts } from './decide.js';

export interface VectorSample {
  metric: Record<string, string>;
  /** [unix seconds, value as a string], as the Prometheus HTTP API returns it. */
  value: [number, string];
}

/** Label values go inside double quotes in PromQL: escape backslash, quote and newline. */
export function promString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function regexQuote(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * API requests only: probes and scrapes are fast and frequent and would dilute both rates (the same
 * filter as the p95 recording rule in deploy/components/latency-autoscaling).
 */
const NOT_PROBES = 'route!~"/livez|/readyz|/metrics"';

export interface AnalysisQueries {
  requests: string;
  errors: string;
  buckets: string;
}

/**
 * Added to the range: increase() needs two samples of a series inside it, and at a 15 s scrape
 * interval a 30 s range can hold only one, dropping that pod from the check. Before the window a
 * new pod was not Ready, so it had no traffic to add; the old pods add 15 s of the same traffic.
 */
export const RANGE_LOOKBACK_SECONDS = 15;

/** The three queries for the last `windowSeconds` (+ lookback), for the pods of `deployment`. */
export function analysisQueries(
  namespace: string,
  deployment: string,
  windowSeconds: number,
): AnalysisQueries {
  // Pods of a Deployment are named <deployment>-<pod-template-hash>-<suffix>.
  const sel = `namespace=${promString(namespace)}, pod=~${promString(`${regexQuote(deployment)}-[a-z0-9]+-[a-z0-9]+`)}, ${NOT_PROBES}`;
  const range = `[${Math.max(1, Math.round(windowSeconds)) + RANGE_LOOKBACK_SECONDS}s]`;
  return {
    requests: `sum by (pod) (increase(http_request_duration_seconds_count{${sel}}${range}))`,
    errors: `sum by (pod) (increase(http_request_duration_seconds_count{${sel}, status_code=~"5.."}${range}))`,
    buckets: `sum by (pod, le) (increase(http_request_duration_seconds_bucket{${sel}}${range}))`,
  };
}

function value(s: VectorSample): number {
  const v = Number(s.value[1]);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

function parseLe(le: string | undefined): number | undefined {
  if (le === undefined) return undefined;
  if (le === '+Inf' || le === 'Inf') return Infinity;
  const v = Number(le);
  return Number.isNaN(v) ? undefined : v;
}

export type PodGroup = 'new' | 'old';

/**
 * Which group a pod belongs to, from its name: a pod of ReplicaSet `<rs>` is named `<rs>-<suffix>`.
 * Names, not the live pod list, so pods that were deleted during the window still count.
 */
export function podGroup(
  pod: string,
  newReplicaSet: string,
  oldReplicaSets: readonly string[],
): PodGroup | undefined {
  const owner = pod.slice(0, pod.lastIndexOf('-'));
  if (owner === newReplicaSet) return 'new';
  return oldReplicaSets.includes(owner) ? 'old' : undefined;
}

export interface GroupedCounts {
  new: GroupCounts;
  old: GroupCounts;
}

/** Sums the per-pod vectors into the two groups (pods of other Deployments are ignored). */
export function groupCounts(
  vectors: { requests: VectorSample[]; errors: VectorSample[]; buckets: VectorSample[] },
  newReplicaSet: string,
  oldReplicaSets: readonly string[],
): GroupedCounts {
  const pods = { new: new Set<string>(), old: new Set<string>() };
  const requests = { new: 0, old: 0 };
  const errors = { new: 0, old: 0 };
  const buckets = { new: new Map<number, number>(), old: new Map<number, number>() };
  const groupOf = (s: VectorSample) =>
    s.metric.pod ? podGroup(s.metric.pod, newReplicaSet, oldReplicaSets) : undefined;
  for (const s of vectors.requests) {
    const g = groupOf(s);
    if (!g) continue;
    pods[g].add(s.metric.pod!);
    requests[g] += value(s);
  }
  for (const s of vectors.errors) {
    const g = groupOf(s);
    if (g) errors[g] += value(s);
  }
  for (const s of vectors.buckets) {
    const g = groupOf(s);
    const le = parseLe(s.metric.le);
    if (!g || le === undefined) continue;
    buckets[g].set(le, (buckets[g].get(le) ?? 0) + value(s));
  }
  const group = (g: PodGroup): GroupCounts => {
    const list: Bucket[] = [...buckets[g]].map(([le, count]) => ({ le, count }));
    const total = Math.round(requests[g]);
    return {
      pods: pods[g].size,
      requests: total,
      // increase() extrapolates each series on its own: never report more errors than requests.
      errors: Math.min(total, Math.round(errors[g])),
      buckets: normalizeBuckets(list),
    };
  };
  return { new: group('new'), old: group('old') };
}
