// Steps shared by the commands: read the Deployment and its revisions, watch a rollout with
// progress output, explain a failure, and perform a kubectl-style rollback.
import os from 'node:os';
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { CliError, classify, type Kube } from '../kube/client.js';
import { diagnose } from '../kube/diagnostics.js';
import { watchRollout, type RolloutResult, type WatchRolloutOptions } from '../kube/rollout.js';
import { selectorString, watchSet } from '../kube/watch.js';
import type { Output } from '../output.js';
import {
  formatConnection,
  formatDiagnosis,
  formatDuration,
  type Diagnosis,
} from '../rollout/format.js';
import { CHANGE_CAUSE_ANNOTATION, containerImage } from '../rollout/objects.js';
import { ownedReplicaSets, planRollback, rollbackPatch } from '../rollout/rollback-target.js';
import { changeCause } from '../rollout/image.js';
import { defaultReadyTimeoutSeconds, restartBaseline } from '../rollout/verdict.js';
import { changedSince, rollbackStep } from '../rollout/guard.js';
import type { WaitOptions } from '../args.js';
import { parseHold, releaseOps } from '../analysis/hold.js';

export async function getDeployment(kube: Kube, service: string): Promise<V1Deployment> {
  try {
    return await kube.apps.readNamespacedDeployment({ name: service, namespace: kube.namespace });
  } catch (err) {
    const e = classify(err, `reading deployment ${service}`);
    if (e.kind === 'not-found') {
      throw new CliError(
        `no Deployment "${service}" in namespace "${kube.namespace}" (context ${kube.context})`,
        'refused',
      );
    }
    throw e;
  }
}

export async function listOwnedReplicaSets(kube: Kube, d: V1Deployment): Promise<V1ReplicaSet[]> {
  try {
    const list = await kube.apps.listNamespacedReplicaSet({
      namespace: kube.namespace,
      labelSelector: selectorString(d.spec?.selector ?? {}),
    });
    return ownedReplicaSets(d, list.items);
  } catch (err) {
    throw classify(err, 'listing replicasets');
  }
}

export async function listPods(kube: Kube, d: V1Deployment): Promise<V1Pod[]> {
  try {
    const list = await kube.core.listNamespacedPod({
      namespace: kube.namespace,
      labelSelector: selectorString(d.spec?.selector ?? {}),
    });
    return list.items;
  } catch (err) {
    throw classify(err, 'listing pods');
  }
}

/** Who, for the change-cause: the local account and the kubeconfig identity. */
export function actor(kube: Kube): string {
  let local = 'unknown';
  try {
    local = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): the kube user still identifies the caller.
  }
  return `${local}@${os.hostname()} (kube user ${kube.user}, context ${kube.context})`;
}

export async function patchDeployment(
  kube: Kube,
  name: string,
  patch: object[],
  doing: string,
): Promise<V1Deployment> {
  try {
    // client-node 1.x sends the first listed patch type, application/json-patch+json.
    return await kube.apps.patchNamespacedDeployment({
      name,
      namespace: kube.namespace,
      body: patch,
    });
  } catch (err) {
    throw classify(err, doing, true);
  }
}

export interface WatchOutcome {
  result: RolloutResult;
  diagnosis?: Diagnosis;
}

/** Watches a rollout with progress output; on failure, gathers and prints the diagnosis. */
export async function watchWithProgress(
  kube: Kube,
  out: Output,
  deployment: V1Deployment,
  wait: WaitOptions,
  baseline: ReadonlyMap<string, number>,
  until?: WatchRolloutOptions['until'],
): Promise<WatchOutcome> {
  const readyTimeoutS = wait.readyTimeoutSeconds ?? defaultReadyTimeoutSeconds(deployment);
  const result = await watchRollout(kube, {
    deployment,
    ...(deployment.metadata?.generation !== undefined
      ? { minGeneration: deployment.metadata.generation }
      : {}),
    restartBaseline: baseline,
    readyTimeoutMs: readyTimeoutS * 1000,
    timeoutMs: wait.timeoutSeconds * 1000,
    onProgress: (p) => out.progress(p),
    ...(until ? { until } : {}),
    onConnection: (e) => out.error(formatConnection(e)),
  });
  if (result.state === 'verdict' && result.verdict.state === 'failed') {
    out.error(`FAILED: ${result.verdict.reason}: ${result.verdict.message}`);
    if (result.failingPod) {
      const diagnosis = await diagnose(kube, result.failingPod, result.verdict.container);
      out.error(formatDiagnosis(diagnosis, Date.now()));
      return { result, diagnosis };
    }
  }
  return { result };
}

export interface RollbackReport {
  outcome: 'rolled-back' | 'skipped' | 'failed' | 'timeout' | 'refused';
  fromRevision?: number;
  toRevision?: number;
  image?: string;
  message: string;
  diagnosis?: Diagnosis;
}

const PATCH_ATTEMPTS = 3;

/**
 * kubectl rollout undo, then wait. The patch carries a resourceVersion test: if the Deployment
 * moved between our read and our write, re-read and re-plan rather than clobber the change.
 */
export async function rollBack(
  kube: Kube,
  out: Output,
  service: string,
  toRevision: number,
  wait: WaitOptions,
  why: string,
  /**
   * An automatic rollback: the annotations our deploy patch left. What someone else added or
   * changed since is kept; without it (`shiftops rollback`) annotations are the target's, as kubectl.
   */
  ours?: Record<string, string>,
): Promise<RollbackReport> {
  // Set once a rollback patch went out without an answer (timeout): it may have landed.
  let sent: { cause: string; base: RollbackBase; baseline: Map<string, number> } | undefined;
  for (let attempt = 1; ; attempt++) {
    const deployment = await getDeployment(kube, service);
    const replicaSets = await listOwnedReplicaSets(kube, deployment);
    // A Deployment held by a shiftops analysis (even one whose CLI died) is unpaused and gets its
    // own strategy back in the same write that restores the template.
    const hold = parseHold(deployment);
    const plan = planRollback(deployment, replicaSets, toRevision, hold !== undefined);
    const step = rollbackStep(plan.kind, deployment, sent?.cause);
    if (plan.kind === 'refused') return { outcome: 'refused', message: plan.message };
    if (step.kind === 'watch-ours' && sent) {
      out.info(`rolling back ${service}: the earlier rollback patch landed`);
      if (!wait.wait)
        return { outcome: 'rolled-back', ...sent.base, message: 'rollback started (not waiting)' };
      return waitForRollback(kube, out, deployment, wait, sent.baseline, sent.base);
    }
    if (plan.kind === 'skip') {
      return {
        outcome: 'skipped',
        toRevision: plan.toRevision,
        message: `skipped rollback (current template already matches revision ${plan.toRevision})`,
      };
    }
    const image = containerImage(plan.template, service);
    // kubectl would restore the target's old change-cause; recording who rolled back, and why,
    // is what the history needs (the target's own entry is renumbered away anyway).
    const cause = changeCause({
      action: `shiftops rollback ${service} to revision ${plan.toRevision} (${image ?? '?'}, ${why})`,
      actor: actor(kube),
      at: new Date(),
    });
    const theirs = ours ? changedSince(ours, deployment.metadata?.annotations) : {};
    const annotations = { ...plan.annotations, ...theirs, [CHANGE_CAUSE_ANNOTATION]: cause };
    const baseline = restartBaseline(await listPods(kube, deployment));
    const base: RollbackBase = {
      fromRevision: plan.fromRevision,
      toRevision: plan.toRevision,
      ...(image ? { image } : {}),
    };
    let patched: V1Deployment;
    try {
      patched = await patchDeployment(
        kube,
        service,
        rollbackPatch(
          plan.template,
          annotations,
          deployment.metadata?.resourceVersion,
          hold ? releaseOps(hold) : [],
        ),
        `rolling back ${service}`,
      );
    } catch (err) {
      const retry = err instanceof CliError && attempt < PATCH_ATTEMPTS;
      if (retry && err.kind === 'conflict') continue;
      if (retry && err.kind === 'timeout') {
        // Re-read before anything else: if it landed, wait for it rather than send it twice.
        sent = { cause, base, baseline };
        out.error(`rolling back ${service}: no answer to the patch; checking whether it landed`);
        continue;
      }
      throw err;
    }
    out.info(
      `rolling back ${service}: revision ${plan.fromRevision} -> ${plan.toRevision} (${image ?? '?'})`,
    );
    if (!wait.wait)
      return { outcome: 'rolled-back', ...base, message: 'rollback started (not waiting)' };
    return waitForRollback(kube, out, patched, wait, baseline, base);
  }
}

type RollbackBase = Pick<RollbackReport, 'fromRevision' | 'toRevision' | 'image'>;

async function waitForRollback(
  kube: Kube,
  out: Output,
  patched: V1Deployment,
  wait: WaitOptions,
  baseline: ReadonlyMap<string, number>,
  base: RollbackBase,
): Promise<RollbackReport> {
  const { result, diagnosis } = await watchWithProgress(kube, out, patched, wait, baseline);
  if (result.state === 'timeout') {
    return {
      outcome: 'timeout',
      ...base,
      message: `rollback did not finish within ${formatDuration(wait.timeoutSeconds * 1000)}: ${result.last.message}`,
    };
  }
  // Without a stop condition the watch ends only with a verdict or the timeout.
  if (result.state === 'reached') throw new Error('rollback watch stopped early');
  if (result.verdict.state === 'failed') {
    return {
      outcome: 'failed',
      ...base,
      message: `${result.verdict.reason}: ${result.verdict.message}`,
      ...(diagnosis ? { diagnosis } : {}),
    };
  }
  return {
    outcome: 'rolled-back',
    ...base,
    message: `rolled back to revision ${base.toRevision ?? '?'}`,
  };
}

/**
 * Waits (watching, up to `timeoutMs`) until ReplicaSet `name` carries `annotations`: the
 * Deployment controller copies a Deployment's annotations onto its current ReplicaSet.
 */
export async function waitForReplicaSetAnnotation(
  kube: Kube,
  name: string,
  annotations: Record<string, string>,
  timeoutMs = 5000,
): Promise<boolean> {
  const has = (rs: V1ReplicaSet) =>
    Object.entries(annotations).every(([k, v]) => rs.metadata?.annotations?.[k] === v);
  return new Promise<boolean>((resolve) => {
    let done = false;
    const end = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void set.stop().finally(() => resolve(ok));
    };
    const set = watchSet<V1ReplicaSet>(kube, {
      path: `/apis/apps/v1/namespaces/${kube.namespace}/replicasets`,
      list: () =>
        kube.apps.listNamespacedReplicaSet({
          namespace: kube.namespace,
          fieldSelector: `metadata.name=${name}`,
        }),
      fieldSelector: `metadata.name=${name}`,
      what: 'replicasets',
      onChange: () => {
        if (set.items().some(has)) end(true);
      },
      onFatal: () => end(false),
    });
    const timer = setTimeout(() => end(false), timeoutMs);
  });
}
