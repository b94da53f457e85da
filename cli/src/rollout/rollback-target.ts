// Rollback target selection, after kubectl's `rollout undo` for Deployments
// (polymorphichelpers/rollback.go and util/deployment): pure, so every branch is table-tested.
import type { V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';
import {
  REVISION_ANNOTATION,
  isControlledBy,
  revisionOf,
  templatesEqualIgnoringHash,
  toMillis,
  withoutHash,
} from './objects.js';
import { HOLD_ANNOTATION } from '../analysis/hold.js';

/** ReplicaSets whose controller is this Deployment (a label match alone is not ownership). */
export function ownedReplicaSets(
  deployment: V1Deployment,
  all: readonly V1ReplicaSet[],
): V1ReplicaSet[] {
  return all.filter((rs) => isControlledBy(rs.metadata, deployment.metadata?.uid));
}

function byCreation(a: V1ReplicaSet, b: V1ReplicaSet): number {
  const ta = toMillis(a.metadata?.creationTimestamp) ?? 0;
  const tb = toMillis(b.metadata?.creationTimestamp) ?? 0;
  if (ta !== tb) return ta - tb;
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** deploymentutil.FindNewReplicaSet: the oldest owned RS whose template equals the Deployment's. */
export function findNewReplicaSet(
  deployment: V1Deployment,
  all: readonly V1ReplicaSet[],
): V1ReplicaSet | undefined {
  return ownedReplicaSets(deployment, all)
    .sort(byCreation)
    .find((rs) => templatesEqualIgnoringHash(rs.spec?.template, deployment.spec?.template));
}

/** Annotations kept from the Deployment rather than copied from the ReplicaSet (kubectl's list). */
export const ANNOTATIONS_TO_SKIP: ReadonlySet<string> = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/**
 * Never restored from a ReplicaSet: the controller copies every Deployment annotation onto the new
 * ReplicaSet and never removes one, so an old revision still carries the hold of its own analysis.
 */
const NOT_FROM_REPLICASET: ReadonlySet<string> = new Set([HOLD_ANNOTATION]);

export type RollbackPlan =
  | {
      kind: 'rollback';
      fromRevision: number;
      toRevision: number;
      replicaSet: V1ReplicaSet;
      /** The target's template without pod-template-hash, ready to patch in. */
      template: V1PodTemplateSpec;
      annotations: Record<string, string>;
    }
  /** The Deployment already runs that template: kubectl prints "skipped rollback". */
  | { kind: 'skip'; toRevision: number }
  | { kind: 'refused'; reason: 'paused' | 'revision-not-found' | 'no-history'; message: string };

/**
 * kubectl's deploymentRevision + DeploymentRollbacker.Rollback, as data. `toRevision` 0 means the
 * previous revision (the second highest), otherwise the exact revision.
 */
export function planRollback(
  deployment: V1Deployment,
  replicaSets: readonly V1ReplicaSet[],
  toRevision = 0,
  /** A rollout paused by shiftops' own analysis hold: the rollback patch unpauses it. */
  allowPaused = false,
): RollbackPlan {
  const name = deployment.metadata?.name ?? '';
  const owned = ownedReplicaSets(deployment, replicaSets);
  const revisions = owned
    .map((rs) => ({ rs, revision: revisionOf(rs.metadata) }))
    .filter((x): x is { rs: V1ReplicaSet; revision: number } => x.revision !== undefined);

  let target: { rs: V1ReplicaSet; revision: number } | undefined;
  if (toRevision < 0 || !Number.isInteger(toRevision)) {
    return notFound(toRevision, revisions);
  }
  if (toRevision > 0) {
    target = revisions.find((x) => x.revision === toRevision);
    if (!target) return notFound(toRevision, revisions);
  } else {
    const sorted = [...revisions].sort((a, b) => b.revision - a.revision);
    target = sorted[1];
    if (!target) {
      return {
        kind: 'refused',
        reason: 'no-history',
        message: `no rollout history found for deployment "${name}"`,
      };
    }
  }
  if (deployment.spec?.paused && !allowPaused) {
    return {
      kind: 'refused',
      reason: 'paused',
      message: `you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/${name}' and try again`,
    };
  }
  if (templatesEqualIgnoringHash(target.rs.spec?.template, deployment.spec?.template)) {
    return { kind: 'skip', toRevision: target.revision };
  }
  const annotations: Record<string, string> = {};
  const current = deployment.metadata?.annotations ?? {};
  for (const key of ANNOTATIONS_TO_SKIP) {
    const v = current[key];
    if (v !== undefined) annotations[key] = v;
  }
  for (const [key, v] of Object.entries(target.rs.metadata?.annotations ?? {})) {
    if (!ANNOTATIONS_TO_SKIP.has(key) && !NOT_FROM_REPLICASET.has(key)) annotations[key] = v;
  }
  return {
    kind: 'rollback',
    fromRevision: revisionOf(deployment.metadata) ?? 0,
    toRevision: target.revision,
    replicaSet: target.rs,
    template: withoutHash(target.rs.spec?.template),
    annotations,
  };
}

function notFound(revision: number, known: ReadonlyArray<{ revision: number }>): RollbackPlan {
  const list = known
    .map((x) => x.revision)
    .sort((a, b) => a - b)
    .join(', ');
  return {
    kind: 'refused',
    reason: 'revision-not-found',
    message: `unable to find specified revision ${revision} in history${list ? ` (known revisions: ${list})` : ''}`,
  };
}

/** JSON patch ops, as kubectl sends them: replace the template and the annotations wholesale. */
export function rollbackPatch(
  template: V1PodTemplateSpec,
  annotations: Record<string, string>,
  resourceVersion?: string,
  extraOps: object[] = [],
): object[] {
  return [
    // Optimistic lock: if someone changed the Deployment since we read it, the patch fails and
    // the plan is recomputed, instead of silently undoing their change.
    ...(resourceVersion
      ? [{ op: 'test', path: '/metadata/resourceVersion', value: resourceVersion }]
      : []),
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
    ...extraOps,
  ];
}
