// The analysis window: while the rollout is held at one new pod, ask Prometheus at each check
// time how the new pod and the old pods did since the new one turned Ready, and let
// analysis/decide.ts judge. I/O only; every decision is in the pure modules.
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Deployment, V1ReplicaSet } from '@kubernetes/client-node';
import type { AnalysisOptions } from '../args.js';
import {
  alphaPerTest,
  checkTimes,
  decideCheck,
  ms,
  percent,
  type CheckVerdict,
  type Evidence,
} from '../analysis/decide.js';
import { analysisQueries, groupCounts } from '../analysis/promql.js';
import { findNewReplicaSet } from '../rollout/rollback-target.js';
import type { Kube } from '../kube/client.js';
import { PrometheusError, queryVector, type PrometheusTarget } from '../kube/prometheus.js';
import type { Output } from '../output.js';
import { listOwnedReplicaSets } from './common.js';

export type AnalysisOutcome =
  | { kind: 'decided'; check: Exclude<CheckVerdict, { verdict: 'continue' }>; afterSeconds: number }
  | { kind: 'unavailable'; reason: string; afterSeconds: number; evidence?: Evidence };

export function prometheusTarget(kube: Kube, o: AnalysisOptions): PrometheusTarget {
  return o.prometheusUrl
    ? { kind: 'url', url: o.prometheusUrl }
    : {
        kind: 'service',
        namespace: o.prometheusNamespace ?? kube.namespace,
        service: o.prometheusService,
      };
}

/** Can Prometheus answer at all? undefined if so, else why not (before anything is changed). */
export async function prometheusProblem(
  kube: Kube,
  target: PrometheusTarget,
): Promise<string | undefined> {
  try {
    await queryVector(kube, target, 'vector(1)');
    return undefined;
  } catch (err) {
    if (err instanceof PrometheusError) return err.message;
    throw err;
  }
}

function line(label: string, e: Evidence['new']): string {
  return `${label} ${e.pods} pod(s) ${e.requests} req, errors ${percent(e.errorRate)} (${e.errors}), p95 ${ms(e.p95)}`;
}

export async function runAnalysis(
  kube: Kube,
  out: Output,
  o: {
    deployment: V1Deployment;
    replicaSets: readonly V1ReplicaSet[];
    target: PrometheusTarget;
    options: AnalysisOptions;
    /** Local clock time the first new pod was seen Ready: the window starts there. */
    readyAt: number;
  },
): Promise<AnalysisOutcome> {
  const name = o.deployment.metadata?.name ?? '';
  // Which pod is new and which are old, from a fresh list at each check: a watch cache can still
  // be filling when the first pod turns Ready, and an old revision missing from it would leave
  // its pods out of the comparison.
  const groups = async () => {
    const replicaSets = await listOwnedReplicaSets(kube, o.deployment).catch(() => o.replicaSets);
    const newRs = findNewReplicaSet(o.deployment, replicaSets)?.metadata?.name ?? '';
    const oldRss = replicaSets
      .map((rs) => rs.metadata?.name ?? '')
      .filter((n) => n !== '' && n !== newRs);
    return { newRs, oldRss };
  };
  const times = checkTimes(o.options.windowSeconds);
  const alpha = alphaPerTest(times.length);
  let lastError = '';
  let lastEvidence: Evidence | undefined;
  for (const [i, at] of times.entries()) {
    const final = i === times.length - 1;
    const wait = o.readyAt + at * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    // The window is what elapsed since the first new pod turned Ready, in Prometheus' own time
    // (no `time` parameter), so clock skew between here and Prometheus cannot shift it.
    const windowSeconds = Math.round((Date.now() - o.readyAt) / 1000);
    const q = analysisQueries(kube.namespace, name, windowSeconds);
    let vectors;
    try {
      const [requests, errors, buckets] = await Promise.all([
        queryVector(kube, o.target, q.requests),
        queryVector(kube, o.target, q.errors),
        queryVector(kube, o.target, q.buckets),
      ]);
      vectors = { requests, errors, buckets };
    } catch (err) {
      if (!(err instanceof PrometheusError)) throw err;
      lastError = err.message;
      out.error(`analysis ${at}s/${o.options.windowSeconds}s: ${err.message}`);
      if (final)
        return {
          kind: 'unavailable',
          reason: lastError,
          afterSeconds: at,
          ...(lastEvidence ? { evidence: lastEvidence } : {}),
        };
      continue;
    }
    const { newRs, oldRss } = await groups();
    const counts = groupCounts(vectors, newRs, oldRss);
    let check = decideCheck({ ...counts, thresholds: o.options.thresholds, alpha, final });
    if (check.verdict === 'inconclusive' && counts.old.pods === 0) {
      check = {
        ...check,
        reason: `${check.reason}; Prometheus has no request metrics for the old pods (is namespace "${kube.namespace}" scraped?)`,
      };
    }
    lastEvidence = check.evidence;
    out.info(
      `analysis ${String(at).padStart(3)}s/${o.options.windowSeconds}s: ${line('new', check.evidence.new)} | ${line('old', check.evidence.old)}`,
    );
    if (check.verdict !== 'continue') return { kind: 'decided', check, afterSeconds: at };
  }
  // checkTimes always ends with a final check, which never answers 'continue'.
  return { kind: 'unavailable', reason: lastError || 'no check ran', afterSeconds: 0 };
}
