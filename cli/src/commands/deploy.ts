// shiftops deploy <service> <image-or-tag>: set image + change-cause, hold the rollout at one new
// pod and compare it with the old pods in Prometheus (unless --analysis=off), then resume and
// watch; on failure roll back to the revision that was live before, wait for it, and say why.
import type { V1Deployment } from '@kubernetes/client-node';
import type { Command } from '../args.js';
import {
  ROLLOUT_PERMISSIONS,
  describePermission,
  missingPermissions,
  prometheusProxyPermission,
} from '../kube/access.js';
import { CliError, type Kube } from '../kube/client.js';
import { describeTarget, type PrometheusTarget } from '../kube/prometheus.js';
import type { Output } from '../output.js';
import {
  HOLD_ANNOTATION,
  annotationOps,
  holdAnnotation,
  holdOps,
  pausePatch,
  pointerSegment,
  releaseOps,
  resumePatch,
  type Hold,
} from '../analysis/hold.js';
import {
  encodeRecord,
  formatNumbers,
  withEvidence,
  type AnalysisRecord,
} from '../analysis/record.js';
import type { Outcome } from '../rollout/exit-codes.js';
import { changeCause, resolveImage } from '../rollout/image.js';
import { containerImage, revisionOf } from '../rollout/objects.js';
import { findNewReplicaSet } from '../rollout/rollback-target.js';
import { setImagePatch } from '../rollout/set-image.js';
import { kubectlRolloutStatus, newPods, restartBaseline } from '../rollout/verdict.js';
import { formatDuration } from '../rollout/format.js';
import { prometheusProblem, prometheusTarget, runAnalysis } from './analysis.js';
import {
  actor,
  getDeployment,
  listOwnedReplicaSets,
  listPods,
  patchDeployment,
  rollBack,
  waitForReplicaSetAnnotation,
  watchWithProgress,
  type WatchOutcome,
} from './common.js';

type Deploy = Extract<Command, { name: 'deploy' }>;

export async function checkAccess(kube: Kube): Promise<void> {
  const missing = await missingPermissions(kube, ROLLOUT_PERMISSIONS);
  if (missing.length > 0) {
    throw new CliError(
      `missing permission(s), nothing was changed:\n${missing.map((p) => `  - ${describePermission(p, kube.namespace)}`).join('\n')}`,
      'forbidden',
    );
  }
}

/** Why analysis cannot run here, checked before anything changes; undefined if it can. */
async function analysisProblem(
  kube: Kube,
  target: PrometheusTarget,
): Promise<{ message: string; kind: 'forbidden' | 'unreachable' } | undefined> {
  if (target.kind === 'service') {
    const [missing] = await missingPermissions(
      kube,
      [prometheusProxyPermission(target.service)],
      target.namespace,
    );
    if (missing)
      return {
        message: `missing permission: ${describePermission(missing, target.namespace)}`,
        kind: 'forbidden',
      };
  }
  const problem = await prometheusProblem(kube, target);
  return problem ? { message: problem, kind: 'unreachable' } : undefined;
}

/** Ready condition of a pod. */
function isReady(p: {
  status?: { conditions?: Array<{ type: string; status: string }> };
}): boolean {
  return (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export async function deploy(kube: Kube, out: Output, cmd: Deploy): Promise<Outcome> {
  const started = Date.now();
  await checkAccess(kube);
  const before = await getDeployment(kube, cmd.service);
  if (before.spec?.paused) {
    throw new CliError(
      `deployment "${cmd.service}" is paused: a new image would not roll out; ${
        before.metadata?.annotations?.[HOLD_ANNOTATION]
          ? `it is held by an unfinished shiftops analysis: "shiftops rollback ${cmd.service}" restores the previous release and its settings`
          : `resume it first with 'kubectl rollout resume deployment/${cmd.service}'`
      }`,
      'refused',
    );
  }
  const currentImage = containerImage(before.spec?.template, cmd.service);
  if (currentImage === undefined) {
    throw new CliError(
      `deployment "${cmd.service}" has no container named "${cmd.service}"`,
      'refused',
    );
  }
  const resolved = resolveImage(currentImage, cmd.image);
  if (!resolved.ok) throw new CliError(resolved.error, 'usage');
  const image = resolved.image;
  const base = {
    command: 'deploy',
    service: cmd.service,
    namespace: kube.namespace,
    context: kube.context,
    image,
    previousImage: currentImage,
  };

  if (image === currentImage) {
    out.result(
      { ...base, outcome: 'unchanged', revision: revisionOf(before.metadata) },
      `${cmd.service} already runs ${image}; nothing to do`,
    );
    return { kind: 'unchanged' };
  }

  // The revision to return to on failure is the one whose template is live right now.
  const replicaSets = await listOwnedReplicaSets(kube, before);
  const liveRevision = revisionOf(findNewReplicaSet(before, replicaSets)?.metadata);
  const current = kubectlRolloutStatus(before);
  if (current.state !== 'succeeded') {
    out.error(
      `warning: the previous rollout of ${cmd.service} is not complete (${current.message}); rollback target is revision ${liveRevision ?? '?'}`,
    );
  }

  // Analysis: decide before changing anything whether it can run, and what to do if not.
  const mode = cmd.analysis.mode;
  const record = (r: Omit<AnalysisRecord, 'image' | 'mode' | 'at'>): AnalysisRecord => ({
    image,
    mode,
    ...r,
    at: new Date().toISOString(),
  });
  let analysis: { target: PrometheusTarget; hold: Hold; ops: object[] } | undefined;
  let preRecord: AnalysisRecord | undefined;
  if (mode === 'off') {
    preRecord = record({ result: 'skipped', reason: '--analysis=off', action: 'none' });
  } else if (cmd.wait) {
    const plan = holdOps(before);
    const target = prometheusTarget(kube, cmd.analysis);
    const problem = plan.ok ? await analysisProblem(kube, target) : undefined;
    const why = !plan.ok ? plan.reason : problem?.message;
    if (why !== undefined) {
      if (mode === 'required') {
        throw new CliError(
          `--analysis=required, but the release cannot be analysed: ${why}; nothing was changed`,
          !plan.ok ? 'refused' : (problem?.kind ?? 'unreachable'),
        );
      }
      out.error(`warning: deploying without analysis: ${why}`);
      preRecord = record({
        result: plan.ok ? 'unavailable' : 'skipped',
        reason: why,
        action: 'none',
      });
    } else if (plan.ok) {
      analysis = { target, hold: plan.hold, ops: plan.ops };
    }
  } else {
    preRecord = record({ result: 'skipped', reason: '--wait=false', action: 'none' });
  }

  const baseline = restartBaseline(await listPods(kube, before));
  const cause = changeCause({
    action: `shiftops deploy ${cmd.service} ${image}`,
    actor: actor(kube),
    at: new Date(),
  });
  const patch = setImagePatch(before, cmd.service, image, cause, {
    // Every deploy writes a record, so the new revision never inherits the previous one's.
    ...encodeRecord(
      preRecord ?? record({ result: 'unfinished', reason: 'analysis started', action: 'none' }),
    ),
    ...(analysis ? holdAnnotation(analysis.hold) : {}),
  });
  if (!patch.ok) throw new CliError(patch.error, 'refused');
  let patched;
  try {
    patched = await patchDeployment(
      kube,
      cmd.service,
      [...patch.patch, ...(analysis?.ops ?? [])],
      `setting the image of ${cmd.service}`,
    );
  } catch (err) {
    if (err instanceof CliError && err.kind === 'conflict') {
      throw new CliError(
        `the image of ${cmd.service} changed while deploying (someone else deploying?); nothing was changed, try again`,
        'refused',
      );
    }
    throw err;
  }
  out.info(`${cmd.service}: ${currentImage} -> ${image}`);
  if (!cmd.wait) {
    out.result(
      { ...base, outcome: 'released-without-waiting' },
      `${cmd.service}: image set to ${image} (not waiting for the rollout)`,
    );
    return { kind: 'released-without-waiting' };
  }
  let finalRecord = preRecord;
  let watched = patched;
  let analysisFailure: { reason: string; message: string } | undefined;
  if (analysis) {
    out.info(
      `holding the rollout at one new pod for analysis (${cmd.analysis.windowSeconds}s window, Prometheus: ${describeTarget(analysis.target)})`,
    );
    const first = await watchWithProgress(kube, out, patched, cmd, baseline, (s) =>
      newPods(s.deployment, s.replicaSets, s.pods).some(isReady),
    );
    if (first.result.state !== 'reached') {
      // Failed, succeeded or timed out before any new pod was Ready: the ordinary verdict
      // applies (a rollback restores the strategy from the hold annotation).
      return finish(kube, out, cmd, {
        base,
        started,
        ours: patched.metadata?.annotations,
        liveRevision,
        currentImage,
        image,
        outcome: first,
        record: record({ result: 'unfinished', reason: 'no new pod became Ready', action: 'none' }),
        hold: analysis.hold,
      });
    }
    const readyAt = Date.now();
    const paused = await patchDeployment(
      kube,
      cmd.service,
      pausePatch(first.result.deployment),
      `pausing ${cmd.service} at the first new pod`,
    );
    out.info(`${cmd.service}: first new pod Ready; rollout paused, comparing it with the old pods`);
    const replicaSetsNow = first.result.replicaSets;
    const result = await runAnalysis(kube, out, {
      deployment: paused,
      replicaSets: replicaSetsNow,
      target: analysis.target,
      options: cmd.analysis,
      readyAt,
    });
    const evidence = result.kind === 'decided' ? result.check.evidence : result.evidence;
    const verdict = result.kind === 'unavailable' ? 'unavailable' : result.check.verdict;
    const reason =
      result.kind === 'unavailable'
        ? `Prometheus unavailable: ${result.reason}`
        : result.check.verdict === 'fail'
          ? result.check.reasons.join('; ')
          : result.check.verdict === 'inconclusive'
            ? result.check.reason
            : undefined;
    const rollBackNow = verdict === 'fail' || (verdict !== 'pass' && mode === 'required');
    const numbers = formatNumbers(evidence?.new, evidence?.old);
    finalRecord = record({
      result: verdict,
      ...(reason ? { reason } : {}),
      action: rollBackNow ? (cmd.rollback ? 'rolled-back' : 'none') : 'resumed',
      windowSeconds: cmd.analysis.windowSeconds,
      decidedAfterSeconds: result.afterSeconds,
      ...withEvidence(evidence),
    });
    if (rollBackNow) {
      analysisFailure = {
        reason:
          verdict === 'fail'
            ? 'AnalysisFailed'
            : verdict === 'unavailable'
              ? 'AnalysisUnavailable'
              : 'AnalysisInconclusive',
        message: `${verdict === 'fail' ? 'new pod worse than the old pods' : `analysis ${verdict} with --analysis=required`}: ${reason ?? ''} (window ${result.afterSeconds}s after the first new pod was Ready${numbers ? `; ${numbers}` : ''})`,
      };
      out.error(`FAILED: ${analysisFailure.reason}: ${analysisFailure.message}`);
      // Record it on the failed revision before leaving it: the Deployment controller copies the
      // annotation onto the new ReplicaSet only while that ReplicaSet is the Deployment's current one.
      await patchDeployment(
        kube,
        cmd.service,
        annotationOps(encodeRecord(finalRecord)),
        `recording the analysis of ${cmd.service}`,
      );
      const newRs = findNewReplicaSet(paused, replicaSetsNow)?.metadata?.name;
      if (newRs) {
        const seen = await waitForReplicaSetAnnotation(kube, newRs, encodeRecord(finalRecord));
        if (!seen)
          out.error(
            `note: the analysis record did not reach replica set ${newRs} in time; it is in this output only`,
          );
      }
      return finish(kube, out, cmd, {
        base,
        started,
        ours: patched.metadata?.annotations,
        liveRevision,
        currentImage,
        image,
        analysisFailure,
        record: finalRecord,
        hold: analysis.hold,
      });
    }
    if (verdict !== 'pass')
      out.error(
        `warning: ${reason}; resuming the rollout without a verdict from analysis (use --analysis=required to fail instead)`,
      );
    else
      out.info(`analysis passed after ${result.afterSeconds}s: ${numbers}; resuming the rollout`);
    watched = await patchDeployment(
      kube,
      cmd.service,
      resumePatch(analysis.hold, encodeRecord(finalRecord)),
      `resuming ${cmd.service}`,
    );
  }
  const rest = await watchWithProgress(kube, out, watched, cmd, baseline);
  return finish(kube, out, cmd, {
    base,
    started,
    ours: patched.metadata?.annotations,
    liveRevision,
    currentImage,
    image,
    outcome: rest,
    ...(finalRecord ? { record: finalRecord } : {}),
  });
}

interface Ending {
  base: Record<string, unknown>;
  started: number;
  liveRevision: number | undefined;
  currentImage: string;
  image: string;
  /** The rollout watch, unless the analysis ended the release. */
  outcome?: WatchOutcome;
  analysisFailure?: { reason: string; message: string };
  record?: AnalysisRecord;
  /** Set while the Deployment may still carry the narrowed strategy of the hold. */
  hold?: Hold;
  /** The Deployment's annotations as our deploy patch left them (a rollback keeps later ones). */
  ours: Record<string, string> | undefined;
}

/** Turns the end of a deploy (verdict, timeout, or failed analysis) into rollback, output and outcome. */
async function finish(kube: Kube, out: Output, cmd: Deploy, e: Ending): Promise<Outcome> {
  const deployment: V1Deployment | undefined = e.outcome?.result.deployment;
  const revision = revisionOf(deployment?.metadata);
  const extra = () => ({
    ...(e.record ? { analysis: e.record } : {}),
    durationMs: Date.now() - e.started,
  });
  const result = e.outcome?.result;
  if (result?.state === 'timeout') {
    if (e.hold) {
      // Never got to the analysis: give the Deployment its own rollout settings back.
      await patchDeployment(
        kube,
        cmd.service,
        [
          ...releaseOps(e.hold),
          { op: 'remove', path: `/metadata/annotations/${pointerSegment(HOLD_ANNOTATION)}` },
        ],
        `restoring the rollout settings of ${cmd.service}`,
      ).catch((err: Error) => out.error(`could not restore the rollout settings: ${err.message}`));
    }
    out.result(
      { ...e.base, outcome: 'timeout', revision, message: result.last.message, ...extra() },
      `${cmd.service}: no verdict after ${formatDuration(cmd.timeoutSeconds * 1000)} (${result.last.message}); nothing rolled back. Check "shiftops status ${cmd.service}", or "shiftops rollback ${cmd.service}"`,
    );
    return { kind: 'timeout' };
  }
  if (result?.state === 'verdict' && result.verdict.state === 'succeeded') {
    out.result(
      { ...e.base, outcome: 'succeeded', revision, ...extra() },
      `${cmd.service}: ${e.image} is live (revision ${revision ?? '?'}, ${formatDuration(Date.now() - e.started)})`,
    );
    return { kind: 'succeeded' };
  }
  const failure =
    e.analysisFailure ??
    (result?.state === 'verdict' && result.verdict.state === 'failed'
      ? {
          reason: result.verdict.reason,
          message: result.verdict.message,
          ...(e.outcome?.diagnosis ? { diagnosis: e.outcome.diagnosis } : {}),
        }
      : { reason: 'Unknown', message: 'the rollout ended without a verdict' });
  if (!cmd.rollback) {
    out.result(
      {
        ...e.base,
        outcome: 'failed',
        revision,
        failure,
        rollback: { outcome: 'not-attempted' },
        ...extra(),
      },
      `${cmd.service}: release of ${e.image} FAILED (${failure.reason}); left in place${e.analysisFailure ? ', paused at one new pod' : ''} (--no-rollback). Roll back with "shiftops rollback ${cmd.service}"`,
    );
    return { kind: 'failed', rolledBack: false };
  }
  if (e.liveRevision === undefined || e.liveRevision === 0) {
    out.result(
      {
        ...e.base,
        outcome: 'rollback-failed',
        revision,
        failure,
        rollback: { outcome: 'refused', message: 'no previous revision found' },
        ...extra(),
      },
      `${cmd.service}: release FAILED and there is no previous revision to roll back to: page someone`,
    );
    return { kind: 'rollback-failed' };
  }
  out.error(`rolling back ${cmd.service} to revision ${e.liveRevision} (${e.currentImage})`);
  let rollback;
  try {
    rollback = await rollBack(
      kube,
      out,
      cmd.service,
      e.liveRevision,
      cmd,
      `automatic, after ${e.image} failed: ${failure.reason}`,
      e.ours,
    );
  } catch (err) {
    const message = (err as Error).message;
    out.result(
      {
        ...e.base,
        outcome: 'rollback-failed',
        revision,
        failure,
        rollback: { outcome: 'error', message },
        ...extra(),
      },
      `${cmd.service}: release FAILED and the rollback failed too (${message}): page someone`,
    );
    return { kind: 'rollback-failed' };
  }
  const ok = rollback.outcome === 'rolled-back' || rollback.outcome === 'skipped';
  out.result(
    {
      ...e.base,
      outcome: ok ? 'rolled-back' : 'rollback-failed',
      revision,
      failure,
      rollback,
      ...extra(),
    },
    ok
      ? `${cmd.service}: release of ${e.image} FAILED (${failure.reason}${e.analysisFailure ? `: ${failure.message}` : ''}); rolled back to revision ${e.liveRevision} (${e.currentImage})`
      : `${cmd.service}: release of ${e.image} FAILED and the rollback ${rollback.outcome === 'timeout' ? 'did not finish' : 'failed'} (${rollback.message}): page someone`,
  );
  return ok ? { kind: 'failed', rolledBack: true } : { kind: 'rollback-failed' };
}
