// Watches one Deployment's rollout (the Deployment, its ReplicaSets and pods) and resolves with
// the verdict of rolloutVerdict(), or 'timeout'. A 1 s tick re-evaluates time-based rules (the
// ready timeout) and refreshes the TTY progress line between events.
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { Progress } from '../rollout/format.js';
import { revisionOf } from '../rollout/objects.js';
import { ownedReplicaSets } from '../rollout/rollback-target.js';
import { newPods, rolloutVerdict, trackUnready, type Verdict } from '../rollout/verdict.js';
import { supersededBy } from '../rollout/guard.js';
import { CliError, type Kube } from './client.js';
import { selectorString, watchSet, type ConnectionEvent } from './watch.js';

export interface WatchRolloutOptions {
  deployment: V1Deployment;
  /** The generation our patch produced. */
  minGeneration?: number;
  restartBaseline?: ReadonlyMap<string, number>;
  readyTimeoutMs: number;
  timeoutMs: number;
  onProgress: (p: Progress, verdict: Verdict) => void;
  /**
   * Stop early, with state 'reached', once this holds for a snapshot that has no verdict yet
   * (the fail-fast rules still apply until then).
   */
  until?: (s: { deployment: V1Deployment; replicaSets: V1ReplicaSet[]; pods: V1Pod[] }) => boolean;
  /** A watch lost its connection or got it back (the verdict waits; only --timeout ends it). */
  onConnection?: (e: ConnectionEvent) => void;
}

export type RolloutResult =
  | {
      state: 'verdict';
      verdict: Exclude<Verdict, { state: 'progressing' }>;
      deployment: V1Deployment;
      failingPod?: V1Pod;
    }
  | { state: 'timeout'; last: Verdict; deployment: V1Deployment }
  | { state: 'reached'; deployment: V1Deployment; replicaSets: V1ReplicaSet[]; pods: V1Pod[] };

const TICK_MS = 1000;

export function watchRollout(kube: Kube, o: WatchRolloutOptions): Promise<RolloutResult> {
  const name = o.deployment.metadata?.name ?? '';
  const ns = kube.namespace;
  const selector = selectorString(o.deployment.spec?.selector ?? {});
  const started = Date.now();
  let unready = new Map<string, number>();
  const down = new Map<string, number>();
  const onConnection = (e: ConnectionEvent) => {
    if (e.kind === 'lost') down.set(e.what, Date.now());
    else down.delete(e.what);
    o.onConnection?.(e);
  };
  /** For a timeout during an outage: say so, it is why there is no verdict. */
  const outageNote = (): string => {
    if (down.size === 0) return '';
    const since = Math.min(...down.values());
    return `; no connection to the API server for the last ${Math.round((Date.now() - since) / 1000)}s (watching ${[...down.keys()].join(', ')})`;
  };

  return new Promise<RolloutResult>((resolve, reject) => {
    let done = false;
    const finish = (r: RolloutResult | CliError, isError = false) => {
      if (done) return;
      done = true;
      clearInterval(tick);
      void Promise.all(sets.map((s) => s.stop())).finally(() =>
        isError ? reject(r) : resolve(r as RolloutResult),
      );
    };
    const evaluate = () => {
      if (done) return;
      const now = Date.now();
      const deployment = deployments.items().find((d) => d.metadata?.name === name);
      if (!deployment) {
        // Not listed yet (or the connection is down): only the timeout can end this.
        if (now - started >= o.timeoutMs) {
          finish({
            state: 'timeout',
            last: { state: 'progressing', message: `no update from the API server${outageNote()}` },
            deployment: o.deployment,
          });
        }
        return;
      }
      // Judge only the template we wrote (see guard.ts): after an outage the Deployment may
      // carry someone else's release.
      const replaced = supersededBy(o.deployment.spec?.template, deployment);
      if (replaced) {
        fatal(
          new CliError(
            `the images of ${name} changed while this CLI was watching (now ${replaced.images}${replaced.changeCause ? `; change-cause: ${replaced.changeCause}` : ''}): someone else deployed or rolled back. Not judging or rolling back their release; look with "shiftops status ${name}"`,
            'refused',
          ),
        );
        return;
      }
      const replicaSets = ownedReplicaSets(deployment, replicaSetSet.items());
      const pods = podSet.items();
      unready = trackUnready(unready, pods, now);
      const verdict = rolloutVerdict({
        deployment,
        replicaSets,
        pods,
        unreadySince: unready,
        now,
        readyTimeoutMs: o.readyTimeoutMs,
        ...(o.minGeneration !== undefined ? { minGeneration: o.minGeneration } : {}),
        ...(o.restartBaseline ? { restartBaseline: o.restartBaseline } : {}),
      });
      const st = deployment.status ?? {};
      const desired = deployment.spec?.replicas ?? 0;
      o.onProgress(
        {
          service: name,
          ...(revisionOf(deployment.metadata)
            ? { revision: revisionOf(deployment.metadata) as number }
            : {}),
          desired,
          updated: st.updatedReplicas ?? 0,
          ready: newPods(deployment, replicaSets, pods).filter((p) =>
            (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
          ).length,
          available: st.availableReplicas ?? 0,
          old: Math.max(0, (st.replicas ?? 0) - (st.updatedReplicas ?? 0)),
          elapsedMs: now - started,
          message: verdict.message,
          ...(verdict.state === 'progressing' && verdict.warning
            ? { warning: verdict.warning }
            : {}),
        },
        verdict,
      );
      if (verdict.state !== 'progressing') {
        const failingPod =
          verdict.state === 'failed' && verdict.pod
            ? pods.find((p) => p.metadata?.name === verdict.pod)
            : undefined;
        finish({ state: 'verdict', verdict, deployment, ...(failingPod ? { failingPod } : {}) });
      } else if (o.until?.({ deployment, replicaSets, pods: [...pods] })) {
        finish({ state: 'reached', deployment, replicaSets, pods: [...pods] });
      } else if (now - started >= o.timeoutMs) {
        finish({
          state: 'timeout',
          last: { ...verdict, message: `${verdict.message}${outageNote()}` },
          deployment,
        });
      }
    };
    const fatal = (err: CliError) => finish(err, true);

    const deployments = watchSet<V1Deployment>(kube, {
      path: `/apis/apps/v1/namespaces/${ns}/deployments`,
      list: () =>
        kube.apps.listNamespacedDeployment({
          namespace: ns,
          fieldSelector: `metadata.name=${name}`,
        }),
      fieldSelector: `metadata.name=${name}`,
      what: 'deployments',
      onChange: evaluate,
      onFatal: fatal,
      onConnection,
    });
    const replicaSetSet = watchSet<V1ReplicaSet>(kube, {
      path: `/apis/apps/v1/namespaces/${ns}/replicasets`,
      list: () => kube.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: selector }),
      labelSelector: selector,
      what: 'replicasets',
      onChange: evaluate,
      onFatal: fatal,
      onConnection,
    });
    const podSet = watchSet<V1Pod>(kube, {
      path: `/api/v1/namespaces/${ns}/pods`,
      list: () => kube.core.listNamespacedPod({ namespace: ns, labelSelector: selector }),
      labelSelector: selector,
      what: 'pods',
      onChange: evaluate,
      onFatal: fatal,
      onConnection,
    });
    const sets = [deployments, replicaSetSet, podSet];
    const tick = setInterval(evaluate, TICK_MS);
  });
}
