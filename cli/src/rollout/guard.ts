// What keeps a reconnect (or a lost answer) from doing harm. Pure, table-tested.
// - A watch judges only the release this CLI wrote: if the Deployment's images changed under it
//   (someone deployed or rolled back while the connection was down), the verdict would be about
//   their release, and a rollback would undo their change. The watch stops instead. Images, not
//   the whole template: the typed object of a patch answer and the raw object of a watch event
//   can differ in fields client-node's model does not know (a newer API server), which must not
//   read as someone else's release.
// - An automatic rollback keeps the annotations someone else set while the release was watched:
//   kubectl's rollback replaces the Deployment's annotations with the target revision's, which
//   would erase them.
// - A rollback whose answer was lost is not sent twice: on the retry, the re-read Deployment
//   already runs the target; if it carries the change-cause we sent, the patch was ours and landed,
//   so the CLI waits for it; otherwise someone else rolled back and there is nothing to do.
import type { V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import { ANALYSIS_ANNOTATION } from '../analysis/record.js';
import { HOLD_ANNOTATION } from '../analysis/hold.js';
import { CHANGE_CAUSE_ANNOTATION } from './objects.js';
import { ANNOTATIONS_TO_SKIP, type RollbackPlan } from './rollback-target.js';

export interface Supersession {
  images: string;
  changeCause?: string;
}

/** `name=image` of every container and init container, in order. */
export function imagesOf(t: V1PodTemplateSpec | undefined): string {
  const spec = t?.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]
    .map((c) => `${c.name}=${c.image ?? ''}`)
    .join(', ');
}

/** undefined while the Deployment still runs the images we wrote; who replaced them otherwise. */
export function supersededBy(
  written: V1PodTemplateSpec | undefined,
  current: V1Deployment,
): Supersession | undefined {
  if (written === undefined) return undefined;
  const now = imagesOf(current.spec?.template);
  if (now === imagesOf(written)) return undefined;
  const cause = current.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION];
  return { images: now, ...(cause ? { changeCause: cause } : {}) };
}

export type RollbackStep =
  | { kind: 'patch' }
  /** Our earlier patch landed although its answer was lost: wait for it, do not send it again. */
  | { kind: 'watch-ours' }
  /** Someone else already restored the target. */
  | { kind: 'skipped' }
  | { kind: 'refused' };

export function rollbackStep(
  plan: RollbackPlan['kind'],
  current: V1Deployment,
  /** The change-cause of a rollback patch we sent without getting an answer. */
  sentCause: string | undefined,
): RollbackStep {
  if (plan === 'refused') return { kind: 'refused' };
  if (plan === 'rollback') return { kind: 'patch' };
  const cause = current.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION];
  return sentCause !== undefined && cause === sentCause
    ? { kind: 'watch-ours' }
    : { kind: 'skipped' };
}

/** Annotations the CLI writes itself during a release, or the controller keeps: never "theirs". */
const NOT_THEIRS: ReadonlySet<string> = new Set([
  ...ANNOTATIONS_TO_SKIP,
  CHANGE_CAUSE_ANNOTATION,
  ANALYSIS_ANNOTATION,
  HOLD_ANNOTATION,
]);

/**
 * The Deployment annotations someone else added or changed after our deploy patch: `ours` as the
 * patch's answer returned them, `current` as the Deployment has them now.
 */
export function changedSince(
  ours: Readonly<Record<string, string>> | undefined,
  current: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const theirs: Record<string, string> = {};
  for (const [key, value] of Object.entries(current ?? {}))
    if (!NOT_THEIRS.has(key) && ours?.[key] !== value) theirs[key] = value;
  return theirs;
}
