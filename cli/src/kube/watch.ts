// List-then-watch of one kind of object (client-node's ListWatch: resourceVersion bookkeeping,
// resume from the last one, re-list on 410 Gone) over a bounded watch request (live-watch.ts),
// with reconnects on transient errors, each outage reported once. No polling: the API server pushes.
import {
  ListWatch,
  type KubernetesListObject,
  type KubernetesObject,
  type Watch,
} from '@kubernetes/client-node';
import { classify, statusCode, type CliError, type Kube } from './client.js';
import { LiveWatch } from './live-watch.js';

/** A watch lost its connection, or got it back. */
export type ConnectionEvent =
  | { kind: 'lost'; what: string; reason: string; resourceVersion: string }
  | { kind: 'restored'; what: string; downMs: number; relisted: boolean };

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
  onConnection?: (e: ConnectionEvent) => void;
}

const RECONNECT_DELAY_MS = 1000;
/**
 * A kube-apiserver that has just started serves requests before its RBAC caches are filled, and
 * can deny them with 403 meanwhile (KEP-3028). The CLI checked its permissions before the deploy,
 * so a 401/403 while reconnecting after an outage is taken as part of the outage for this long;
 * a 401/403 outside an outage, or one that outlasts this, is final.
 */
export const AUTHZ_GRACE_AFTER_OUTAGE_MS = 30_000;

export function watchSet<T extends KubernetesObject>(
  kube: Kube,
  o: WatchSetOptions<T>,
): WatchedSet<T> {
  let stopped = false;
  let downSince: number | undefined;
  let relisted = false;
  const live = new LiveWatch(kube.kc, kube.timeouts, {
    onEstablished: () => {
      if (downSince === undefined) return;
      o.onConnection?.({
        kind: 'restored',
        what: o.what,
        downMs: Date.now() - downSince,
        relisted,
      });
      downSince = undefined;
      relisted = false;
    },
    onGone: () => {
      relisted = true;
    },
  });
  const lw = new ListWatch<T>(
    o.path,
    live as unknown as Watch,
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
    const denied = code === 401 || code === 403;
    if (
      denied &&
      (downSince === undefined || Date.now() - downSince > AUTHZ_GRACE_AFTER_OUTAGE_MS)
    ) {
      o.onFatal(classify(err, `watching ${o.what}`));
      return;
    }
    if (downSince === undefined) {
      downSince = Date.now();
      o.onConnection?.({
        kind: 'lost',
        what: o.what,
        reason: (err as Error)?.message ?? String(err),
        resourceVersion: lw.latestResourceVersion(),
      });
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
