// The rollout verdict: kubectl's `rollout status` algorithm for Deployments, plus fail-fast rules
// on the new ReplicaSet's pods (what garden-io adds) so a bad release is caught in seconds rather
// than at progressDeadlineSeconds. Pure: the watch layer feeds it snapshots and the current time.
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { findNewReplicaSet } from './rollback-target.js';
import { POD_TEMPLATE_HASH_LABEL } from './objects.js';

export type FailureReason =
  | 'ProgressDeadlineExceeded'
  | 'CrashLoopBackOff'
  | 'ImagePullBackOff'
  | 'ErrImagePull'
  | 'InvalidImageName'
  | 'CreateContainerConfigError'
  | 'CreateContainerError'
  | 'ContainerRestarted'
  | 'NeverReady'
  | 'FailedCreate';

export type Verdict =
  | { state: 'progressing'; message: string; warning?: string }
  | { state: 'succeeded'; message: string }
  | { state: 'failed'; reason: FailureReason; message: string; pod?: string; container?: string };

/** kubectl's DeploymentStatusViewer.Status, message for message (without the trailing newline). */
export function kubectlRolloutStatus(deployment: V1Deployment): Verdict {
  const name = deployment.metadata?.name ?? '';
  const generation = deployment.metadata?.generation ?? 0;
  const status = deployment.status ?? {};
  if (generation <= (status.observedGeneration ?? 0)) {
    const progressing = (status.conditions ?? []).find((c) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded') {
      return {
        state: 'failed',
        reason: 'ProgressDeadlineExceeded',
        message: `deployment "${name}" exceeded its progress deadline`,
      };
    }
    const specReplicas = deployment.spec?.replicas;
    const updated = status.updatedReplicas ?? 0;
    const replicas = status.replicas ?? 0;
    const available = status.availableReplicas ?? 0;
    if (specReplicas !== undefined && updated < specReplicas) {
      return {
        state: 'progressing',
        message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${specReplicas} new replicas have been updated...`,
      };
    }
    if (replicas > updated) {
      return {
        state: 'progressing',
        message: `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...`,
      };
    }
    if (available < updated) {
      return {
        state: 'progressing',
        message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`,
      };
    }
    return { state: 'succeeded', message: `deployment "${name}" successfully rolled out` };
  }
  return { state: 'progressing', message: 'Waiting for deployment spec update to be observed...' };
}

/** Waiting reasons that never resolve on their own for a new release. */
const FATAL_WAITING = new Set<string>([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

export interface PodCheckOptions {
  /** How long a new pod may run without turning Ready before the release is declared broken. */
  readyTimeoutMs: number;
  now: number;
  /**
   * Restart counts (key `pod/container`) seen before our change: a pod of the rollback target
   * that restarted last week must not fail today's rollback. Only restarts beyond these count.
   */
  restartBaseline?: ReadonlyMap<string, number>;
}

/** Restart counts by `pod/container`, taken just before a patch. */
export function restartBaseline(pods: readonly V1Pod[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    const statuses = [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ];
    for (const c of statuses) out.set(`${pod.metadata?.name}/${c.name}`, c.restartCount ?? 0);
  }
  return out;
}

function isTerminating(pod: V1Pod): boolean {
  return Boolean(pod.metadata?.deletionTimestamp);
}

function isReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Running (every container started) but not Ready: the state the ready timeout measures. */
export function isRunningUnready(pod: V1Pod): boolean {
  if (isTerminating(pod) || pod.status?.phase !== 'Running' || isReady(pod)) return false;
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.length > 0 && statuses.every((c) => c.state?.running !== undefined);
}

/**
 * Remembers, by pod name, when each pod was first seen running but unready. Measured on the
 * local clock from our own observations, so client/server clock skew cannot cause a false failure.
 */
export function trackUnready(
  previous: ReadonlyMap<string, number>,
  pods: readonly V1Pod[],
  now: number,
): Map<string, number> {
  const next = new Map<string, number>();
  for (const pod of pods) {
    const name = pod.metadata?.name;
    if (!name || !isRunningUnready(pod)) continue;
    next.set(name, previous.get(name) ?? now);
  }
  return next;
}

/** The first fail-fast problem of one new pod, if any. */
export function podFailure(
  pod: V1Pod,
  unreadySince: number | undefined,
  opts: PodCheckOptions,
): Extract<Verdict, { state: 'failed' }> | undefined {
  if (isTerminating(pod)) return undefined;
  const name = pod.metadata?.name ?? '';
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  for (const c of statuses) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
      return {
        state: 'failed',
        reason: waiting.reason as FailureReason,
        message: `pod ${name} container ${c.name}: ${waiting.reason}${waiting.message ? ` - ${waiting.message}` : ''}`,
        pod: name,
        container: c.name,
      };
    }
  }
  for (const c of statuses) {
    // The kubelet restarts a container whose startup or liveness probe failed failureThreshold
    // times, or that exited; either way a container of the new release restarting is a failure.
    const before = opts.restartBaseline?.get(`${name}/${c.name}`) ?? 0;
    if ((c.restartCount ?? 0) > before) {
      const last = c.lastState?.terminated;
      const why = last ? `${last.reason ?? 'terminated'}, exit code ${last.exitCode}` : 'restarted';
      return {
        state: 'failed',
        reason: 'ContainerRestarted',
        message: `pod ${name} container ${c.name} restarted ${c.restartCount} time(s) (${why})`,
        pod: name,
        container: c.name,
      };
    }
  }
  if (unreadySince !== undefined && opts.now - unreadySince >= opts.readyTimeoutMs) {
    const notReady = (pod.status?.containerStatuses ?? []).find((c) => !c.ready);
    return {
      state: 'failed',
      reason: 'NeverReady',
      message: `pod ${name} has been running for ${Math.round((opts.now - unreadySince) / 1000)}s without becoming Ready (ready timeout ${Math.round(opts.readyTimeoutMs / 1000)}s)`,
      pod: name,
      ...(notReady ? { container: notReady.name } : {}),
    };
  }
  return undefined;
}

/** kubectl's appendWarning: a hint about why pods are stuck, shown while waiting. */
export function podWarning(pods: readonly V1Pod[]): string | undefined {
  for (const pod of pods) {
    const unschedulable = (pod.status?.conditions ?? []).find(
      (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
    );
    if (unschedulable) return unschedulable.message ?? 'Unschedulable';
  }
  return undefined;
}

export interface RolloutSnapshot {
  deployment: V1Deployment;
  replicaSets: readonly V1ReplicaSet[];
  pods: readonly V1Pod[];
  /** From trackUnready. */
  unreadySince: ReadonlyMap<string, number>;
  now: number;
  readyTimeoutMs: number;
  /** The generation our own patch produced: older observations are not about our change. */
  minGeneration?: number;
  restartBaseline?: ReadonlyMap<string, number>;
}

/** The pods of the ReplicaSet that matches the Deployment's current template. */
export function newPods(
  deployment: V1Deployment,
  replicaSets: readonly V1ReplicaSet[],
  pods: readonly V1Pod[],
): V1Pod[] {
  const newRs = findNewReplicaSet(deployment, replicaSets);
  // Pods get the label from the ReplicaSet's template; that is the value to match.
  const hash =
    newRs?.spec?.template?.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] ??
    newRs?.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
  if (!hash) return [];
  return pods.filter((p) => p.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL] === hash);
}

/**
 * The verdict on one snapshot: kubectl's rules decide success and the progress deadline; the
 * fail-fast rules only look at the new ReplicaSet and only once the controller has observed the
 * current spec (before that, "new" would mean the previous release).
 */
export function rolloutVerdict(s: RolloutSnapshot): Verdict {
  const d = s.deployment;
  const generation = d.metadata?.generation ?? 0;
  const observed = d.status?.observedGeneration ?? 0;
  if (s.minGeneration !== undefined && observed < s.minGeneration) {
    return {
      state: 'progressing',
      message: 'Waiting for deployment spec update to be observed...',
    };
  }
  const base = kubectlRolloutStatus(d);
  if (base.state !== 'progressing' || observed < generation) return base;

  const newRs = findNewReplicaSet(d, s.replicaSets);
  const failedCreate = (newRs?.status?.conditions ?? []).find(
    (c) => c.type === 'ReplicaFailure' && c.status === 'True',
  );
  if (failedCreate) {
    return {
      state: 'failed',
      reason: 'FailedCreate',
      message:
        `replica set ${newRs?.metadata?.name}: ${failedCreate.reason ?? 'FailedCreate'} - ${failedCreate.message ?? ''}`.trim(),
    };
  }
  const fresh = newPods(d, s.replicaSets, s.pods);
  const opts: PodCheckOptions = {
    readyTimeoutMs: s.readyTimeoutMs,
    now: s.now,
    ...(s.restartBaseline ? { restartBaseline: s.restartBaseline } : {}),
  };
  for (const pod of fresh) {
    const failure = podFailure(pod, s.unreadySince.get(pod.metadata?.name ?? ''), opts);
    if (failure) return failure;
  }
  const warning = podWarning(fresh);
  return warning ? { ...base, warning } : base;
}

const DEFAULT_PERIOD_S = 10;
const DEFAULT_FAILURE_THRESHOLD = 3;
/** Slack for the kubelet's probe jitter and status propagation. */
const READY_SLACK_S = 10;
const MIN_READY_TIMEOUT_S = 30;

interface ProbeTiming {
  initialDelaySeconds?: number;
  periodSeconds?: number;
  failureThreshold?: number;
}

function probeBudget(p: ProbeTiming | undefined): number {
  if (!p) return 0;
  return (
    (p.initialDelaySeconds ?? 0) +
    (p.periodSeconds ?? DEFAULT_PERIOD_S) * (p.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD)
  );
}

/**
 * The default --ready-timeout, from the pod's own probes: the longest a healthy container can take
 * to pass its startup probe and then its readiness probe, plus slack; at least 30 s. A pod that
 * stays unready longer than its probes allow will not get better by waiting for the deadline.
 */
export function defaultReadyTimeoutSeconds(deployment: V1Deployment): number {
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  const budget = Math.max(
    0,
    ...containers.map((c) => probeBudget(c.startupProbe) + probeBudget(c.readinessProbe)),
  );
  return Math.max(MIN_READY_TIMEOUT_S, budget + READY_SLACK_S);
}
