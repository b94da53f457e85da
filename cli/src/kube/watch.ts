// List-then-watch of one kind of object (client-node's ListWatch: resourceVersion bookkeeping and
// re-list on 410 Gone), with reconnects on transient errors. No polling: the API server pushes.
import {
  ListWatch,
  Watch,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { classify, statusCode, type CliError, type Kube } from './client.js';

export interface WatchedSet<T> {
  items(): readonly T[];
  stop(): Promise<void>;
}

export interface WatchSetOptions<T extends KubernetesObject> {
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  what: string;
  onChange: () => void;
  /** A permission error: retrying will not help. */
  onFatal: (err: CliError) => void;
}

const RECONNECT_DELAY_MS = 1000;

export function watchSet<T extends KubernetesObject>(
  kube: Kube,
  o: WatchSetOptions<T>,
): WatchedSet<T> {
  let stopped = false;
  const lw = new ListWatch<T>(
    o.path,
    new Watch(kube.kc),
    o.list,
    false,
    o.labelSelector,
    o.fieldSelector,
  );
  lw.on('change', () => {
    if (!stopped) o.onChange();
  });
  lw.on('error', (err) => {
    // Aborting our own request on stop() also lands here.
    if (stopped) return;
    const code = statusCode(err);
    if (code === 401 || code === 403) {
      o.onFatal(classify(err, `watching ${o.what}`));
      return;
    }
    setTimeout(() => {
      if (!stopped) void lw.start();
    }, RECONNECT_DELAY_MS).unref();
  });
  void lw.start();
  return {
    items: () => lw.list(),
    stop: async () => {
      stopped = true;
      await lw.stop();
    },
  };
}

/** matchLabels/matchExpressions as a label selector string, like metav1.LabelSelectorAsSelector. */
export function selectorString(selector: {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}
