// shiftops deploy <service> <image-or-tag>: set image + change-cause, watch, and on failure roll
// back to the revision that was live before, wait for it, and say what broke.
import type { Command } from '../args.js';
import { ROLLOUT_PERMISSIONS, describePermission, missingPermissions } from '../kube/access.js';
import { CliError, type Kube } from '../kube/client.js';
import type { Output } from '../output.js';
import type { Outcome } from '../rollout/exit-codes.js';
import { changeCause, resolveImage } from '../rollout/image.js';
import { containerImage, revisionOf } from '../rollout/objects.js';
import { findNewReplicaSet } from '../rollout/rollback-target.js';
import { setImagePatch } from '../rollout/set-image.js';
import { kubectlRolloutStatus, restartBaseline } from '../rollout/verdict.js';
import { formatDuration } from '../rollout/format.js';
import {
  actor,
  getDeployment,
  listOwnedReplicaSets,
  listPods,
  patchDeployment,
  rollBack,
  watchWithProgress,
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

export async function deploy(kube: Kube, out: Output, cmd: Deploy): Promise<Outcome> {
  const started = Date.now();
  await checkAccess(kube);
  const before = await getDeployment(kube, cmd.service);
  if (before.spec?.paused) {
    throw new CliError(
      `deployment "${cmd.service}" is paused: a new image would not roll out; resume it first with 'kubectl rollout resume deployment/${cmd.service}'`,
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
  const baseline = restartBaseline(await listPods(kube, before));
  const cause = changeCause({
    action: `shiftops deploy ${cmd.service} ${image}`,
    actor: actor(kube),
    at: new Date(),
  });
  const patch = setImagePatch(before, cmd.service, image, cause);
  if (!patch.ok) throw new CliError(patch.error, 'refused');
  let patched;
  try {
    patched = await patchDeployment(
      kube,
      cmd.service,
      patch.patch,
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

  const { result, diagnosis } = await watchWithProgress(kube, out, patched, cmd, baseline);
  const revision = revisionOf(result.deployment.metadata);
  const elapsed = () => ({ durationMs: Date.now() - started });
  if (result.state === 'timeout') {
    out.result(
      { ...base, outcome: 'timeout', revision, message: result.last.message, ...elapsed() },
      `${cmd.service}: no verdict after ${formatDuration(cmd.timeoutSeconds * 1000)} (${result.last.message}); nothing rolled back. Check "shiftops status ${cmd.service}", or "shiftops rollback ${cmd.service}"`,
    );
    return { kind: 'timeout' };
  }
  if (result.verdict.state === 'succeeded') {
    out.result(
      { ...base, outcome: 'succeeded', revision, ...elapsed() },
      `${cmd.service}: ${image} is live (revision ${revision ?? '?'}, ${formatDuration(Date.now() - started)})`,
    );
    return { kind: 'succeeded' };
  }
  const failure = {
    reason: result.verdict.reason,
    message: result.verdict.message,
    ...(diagnosis ? { diagnosis } : {}),
  };
  if (!cmd.rollback) {
    out.result(
      {
        ...base,
        outcome: 'failed',
        revision,
        failure,
        rollback: { outcome: 'not-attempted' },
        ...elapsed(),
      },
      `${cmd.service}: release of ${image} FAILED (${result.verdict.reason}); left in place (--no-rollback). Roll back with "shiftops rollback ${cmd.service}"`,
    );
    return { kind: 'failed', rolledBack: false };
  }
  if (liveRevision === undefined || liveRevision === 0) {
    out.result(
      {
        ...base,
        outcome: 'rollback-failed',
        revision,
        failure,
        rollback: { outcome: 'refused', message: 'no previous revision found' },
        ...elapsed(),
      },
      `${cmd.service}: release FAILED and there is no previous revision to roll back to: page someone`,
    );
    return { kind: 'rollback-failed' };
  }
  out.error(`rolling back ${cmd.service} to revision ${liveRevision} (${currentImage})`);
  let rollback;
  try {
    rollback = await rollBack(
      kube,
      out,
      cmd.service,
      liveRevision,
      cmd,
      `automatic, after ${image} failed: ${result.verdict.reason}`,
    );
  } catch (err) {
    const message = (err as Error).message;
    out.result(
      {
        ...base,
        outcome: 'rollback-failed',
        revision,
        failure,
        rollback: { outcome: 'error', message },
        ...elapsed(),
      },
      `${cmd.service}: release FAILED and the rollback failed too (${message}): page someone`,
    );
    return { kind: 'rollback-failed' };
  }
  const ok = rollback.outcome === 'rolled-back' || rollback.outcome === 'skipped';
  out.result(
    {
      ...base,
      outcome: ok ? 'rolled-back' : 'rollback-failed',
      revision,
      failure,
      rollback,
      ...elapsed(),
    },
    ok
      ? `${cmd.service}: release of ${image} FAILED (${result.verdict.reason}); rolled back to revision ${liveRevision} (${currentImage})`
      : `${cmd.service}: release of ${image} FAILED and the rollback ${rollback.outcome === 'timeout' ? 'did not finish' : 'failed'} (${rollback.message}): page someone`,
  );
  return ok ? { kind: 'failed', rolledBack: true } : { kind: 'rollback-failed' };
}
