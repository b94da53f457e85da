// Small accessors over Deployment/ReplicaSet/Pod objects shared by the pure rollout modules.
// Objects come both from typed list/get calls (timestamps are Date) and from raw watch events
// (timestamps are strings), so nothing here assumes either.
import type { V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

export function toMillis(t: Date | string | undefined | null): number | undefined {
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** kubectl's deploymentutil.Revision: missing annotation is 0, unparsable is undefined (skipped). */
export function revisionOf(meta: V1ObjectMeta | undefined): number | undefined {
  const raw = meta?.annotations?.[REVISION_ANNOTATION];
  if (raw === undefined) return 0;
  return /^\d+$/.test(raw) ? Number(raw) : undefined;
}

export function isControlledBy(
  meta: V1ObjectMeta | undefined,
  ownerUid: string | undefined,
): boolean {
  if (!ownerUid) return false;
  return (meta?.ownerReferences ?? []).some(
    (ref) => ref.controller === true && ref.uid === ownerUid,
  );
}

/** Canonical JSON: key order and Date-vs-string differences must not make templates unequal. */
function canonical(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && v !== null) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

/** The template without the `pod-template-hash` label the ReplicaSet controller adds. */
export function withoutHash(template: V1PodTemplateSpec | undefined): V1PodTemplateSpec {
  const copy = structuredClone(template ?? {}) as V1PodTemplateSpec;
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  }
  return copy;
}

/** kubectl's equalIgnoreHash. */
export function templatesEqualIgnoringHash(
  a: V1PodTemplateSpec | undefined,
  b: V1PodTemplateSpec | undefined,
): boolean {
  return JSON.stringify(canonical(withoutHash(a))) === JSON.stringify(canonical(withoutHash(b)));
}

export function containerImage(
  template: V1PodTemplateSpec | undefined,
  container: string,
): string | undefined {
  return template?.spec?.containers.find((c) => c.name === container)?.image;
}
