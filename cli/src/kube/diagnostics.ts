// Why a pod failed, without another command: its warning events and the last lines of the failing
// container's log (the previous instance's, if it restarted). Missing permissions or a runtime
// without logs (kwok's simulated pods) degrade to a note, never to an error.
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Diagnosis, WarningEvent } from '../rollout/format.js';
import { apiMessage, type Kube } from './client.js';
import { ApiException } from '@kubernetes/client-node';

export const LOG_LINES = 20;
const LOG_BYTES = 16 * 1024;
const MAX_EVENTS = 10;

function eventTime(e: CoreV1Event): string | undefined {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  if (t === undefined || t === null) return undefined;
  return t instanceof Date ? t.toISOString() : String(t);
}

export function toWarning(e: CoreV1Event): WarningEvent {
  const obj = e.involvedObject;
  const lastSeen = eventTime(e);
  return {
    object: `${obj.kind ?? ''}/${obj.name ?? ''}`,
    reason: e.reason ?? '',
    message: (e.message ?? '').trim(),
    count: e.count ?? e.series?.count ?? 1,
    ...(lastSeen ? { lastSeen } : {}),
  };
}

/** Warning events about objects, newest last. core/v1 events: readable with the developers Role. */
export async function warningEvents(
  kube: Kube,
  fieldSelector: string,
  keep: (e: CoreV1Event) => boolean = () => true,
  max = MAX_EVENTS,
): Promise<WarningEvent[]> {
  const list = await kube.core.listNamespacedEvent({ namespace: kube.namespace, fieldSelector });
  return list.items
    .filter((e) => e.type === 'Warning' && keep(e))
    .map(toWarning)
    .sort((a, b) => Date.parse(a.lastSeen ?? '') - Date.parse(b.lastSeen ?? ''))
    .slice(-max);
}

function errorText(err: unknown): string {
  return err instanceof ApiException ? apiMessage(err) : ((err as Error)?.message ?? String(err));
}

export async function diagnose(kube: Kube, pod: V1Pod, container?: string): Promise<Diagnosis> {
  const name = pod.metadata?.name ?? '';
  const target = container ?? pod.spec?.containers[0]?.name;
  let events: WarningEvent[] = [];
  try {
    events = await warningEvents(kube, `involvedObject.kind=Pod,involvedObject.name=${name}`);
  } catch (err) {
    events = [
      { object: `Pod/${name}`, reason: 'EventsUnavailable', message: errorText(err), count: 1 },
    ];
  }
  const status = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ].find((c) => c.name === target);
  // A container that restarted: the instance that failed is the previous one, even when the next
  // one is already running (a crash at start is seen while the new instance has logged nothing).
  const previous = (status?.restartCount ?? 0) > 0 && status?.lastState?.terminated !== undefined;
  let logs: Diagnosis['logs'];
  try {
    const text = await kube.core.readNamespacedPodLog({
      name,
      namespace: kube.namespace,
      ...(target ? { container: target } : {}),
      tailLines: LOG_LINES,
      limitBytes: LOG_BYTES,
      previous,
    });
    logs = {
      lines: String(text ?? '')
        .split('\n')
        .filter((l) => l !== '')
        .slice(-LOG_LINES),
    };
  } catch (err) {
    logs = { unavailable: errorText(err) };
  }
  return { pod: name, ...(target ? { container: target } : {}), events, logs };
}
